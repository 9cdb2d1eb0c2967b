"""Shared fixtures: running the CLI in a subprocess, golden text, a fresh cache, a seeded rng.

Golden files live in tests/golden/. Run `S2SAD_UPDATE_GOLDEN=1 python -m pytest` to rewrite
them from the current output (then read the diff before committing it).
"""

from __future__ import annotations

import contextlib
import difflib
import io
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from s2sad import cache

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE_GOLDEN = os.environ.get("S2SAD_UPDATE_GOLDEN") == "1"


def run_s2sad(*args: str, env: dict | None = None, command: list[str] | None = None) -> subprocess.CompletedProcess:
    """`python -m s2sad ARGS` (or `command ARGS`) from the repository root, text captured."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    full_env.update(env or {})
    cmd = (command or [sys.executable, "-m", "s2sad"]) + list(args)
    return subprocess.run(cmd, cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=60)


def run_main(*args: str) -> subprocess.CompletedProcess:
    """`s2sad ARGS` in this process (no interpreter start-up), from the repository root: what
    `run_s2sad` gives, for tests about the text rather than the process. Output is never a
    terminal here, so it is never coloured."""
    from s2sad import cli

    out, err = io.StringIO(), io.StringIO()
    saved_path, saved_cwd = list(sys.path), os.getcwd()
    try:
        os.chdir(ROOT)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli.main(list(args))
            except SystemExit as exit_:  # argparse usage errors
                code = exit_.code
    finally:
        os.chdir(saved_cwd)
        sys.path[:] = saved_path
    return subprocess.CompletedProcess(["s2sad", *args], code, out.getvalue(), err.getvalue())


def check_golden(name: str, text: str) -> None:
    """Compare `text` with tests/golden/<name>; rewrite the file instead when S2SAD_UPDATE_GOLDEN=1."""
    path = GOLDEN / name
    if UPDATE_GOLDEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return
    if not path.exists():
        pytest.fail(f"no golden file {path}; create it with S2SAD_UPDATE_GOLDEN=1 python -m pytest")
    expected = path.read_text()
    if text != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), text.splitlines(True),
                                            f"golden/{name}", "actual"))
        pytest.fail(f"output differs from golden/{name}:\n{diff}\n"
                    "if the change is intended: S2SAD_UPDATE_GOLDEN=1 python -m pytest, then review the diff")


@pytest.fixture
def cli() -> Callable[..., subprocess.CompletedProcess]:
    return run_s2sad


@pytest.fixture
def golden() -> Callable[[str, str], None]:
    return check_golden


@pytest.fixture
def fresh_cache():
    """An empty transform cache, so that a test sees every build it causes."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)
