"""The public face type-checks: `python -m mypy` with the configuration in pyproject.toml
(`[tool.mypy]`: s2sad/__init__.py, api.py, higher.py, custom.py, testing.py, errors.py, cli.py)
reports no error, and every public function is annotated in full.

mypy comes with the test extras (`pip install ".[test]"`); only without it is the mypy test
skipped. Its cache goes to a temporary folder, so a clean clone stays clean.
"""

from __future__ import annotations

import importlib.util
import inspect
import subprocess
import sys

import pytest

import s2sad
import s2sad.testing
from tests.conftest import ROOT

PUBLIC = [getattr(s2sad, name) for name in s2sad.__all__] + [s2sad.testing.check_grads]


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None, reason="mypy is not installed: pip install '.[test]'")
def test_mypy_is_clean(tmp_path):
    result = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "mypy"),
                             "--no-error-summary"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "", result.stdout


@pytest.mark.parametrize("fun", [f for f in PUBLIC if not inspect.isclass(f)], ids=lambda f: f.__name__)
def test_public_functions_are_annotated(fun):
    """What mypy's `disallow_untyped_defs` would ask of the public functions alone (the private
    helpers and the rules behind them may stay unannotated)."""
    signature = inspect.signature(fun)
    missing = [name for name, p in signature.parameters.items() if p.annotation is inspect.Parameter.empty]
    assert missing == [], f"{fun.__qualname__}: parameters without a type: {missing}"
    assert signature.return_annotation is not inspect.Signature.empty, f"{fun.__qualname__}: no return type"


def test_every_public_name_is_covered():
    assert len(PUBLIC) == len(s2sad.__all__) + 1
    assert {f.__name__ for f in PUBLIC if not inspect.isclass(f)} >= {"grad", "jvp", "vjp", "hessian", "check_grads"}
