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
import tomllib

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


def test_mypy_checks_the_modules_of_every_public_name():
    checked = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]["files"])
    defined = {inspect.getmodule(obj).__name__.replace(".", "/") + ".py" for obj in PUBLIC}
    assert defined == {"s2sad/api.py", "s2sad/higher.py", "s2sad/custom.py", "s2sad/testing.py", "s2sad/errors.py",
                       "s2sad/export.py"}
    assert defined | {"s2sad/__init__.py", "s2sad/cli.py"} <= checked, checked
