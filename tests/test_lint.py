"""`ruff check s2sad tests examples` is clean (the configuration is in pyproject.toml).

ruff comes with the test extras (`pip install ".[test]"`); a missing ruff is a failure with
that hint, not a skip, so a clean lint is never silently unchecked.
"""

import importlib.util
import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def ruff_command() -> list[str] | None:
    if importlib.util.find_spec("ruff") is not None:
        return [sys.executable, "-m", "ruff"]
    found = shutil.which("ruff")
    return [found] if found else None


def test_ruff_is_clean():
    command = ruff_command()
    if command is None:
        pytest.fail("ruff is not installed: pip install '.[test]'")
    result = subprocess.run([*command, "check", "--no-cache", "s2sad", "tests", "examples"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
