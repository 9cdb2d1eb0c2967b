"""The documentation site builds: `mkdocs build --strict` (mkdocs.yml) fails on a broken link, a
missing anchor, a page left out of the navigation or a name the reference cannot import.

mkdocs, Material and mkdocstrings come with the test extras (`pip install ".[test]"`), so CI
builds the site; only without mkdocs is this skipped.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest

import s2sad
from tests.conftest import ROOT


@pytest.mark.skipif(importlib.util.find_spec("mkdocs") is None, reason="mkdocs is not installed: pip install '.[docs]'")
def test_site_builds_strictly(tmp_path):
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    home = (site / "index.html").read_text()
    assert "Wengert list" in home  # the README's opening, included
    reference = (site / "reference" / "index.html").read_text()
    for name in s2sad.__all__:
        assert f'id="s2sad.{name}"' in reference, f"the reference has no entry for s2sad.{name}"
    assert 'id="s2sad.testing.check_grads"' in reference
    assert "Parameters:" in reference and "Returns:" in reference  # the docstrings' sections, rendered
