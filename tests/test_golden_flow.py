"""Golden text: the derivative code of a loop and a branch (tests/programs/flow.py), reverse and
forward, as `s2sad show --kinds scalar,scalar` prints it. When the generated code changes on
purpose, regenerate and review the diff:

    S2SAD_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_flow.py
    git diff tests/golden/
"""

import ast

import pytest

from s2sad.cli import render
from s2sad.testing import check_grads
from tests.conftest import check_golden, run_main
from tests.programs import flow
from tests.programs.flow import branch, loop

CASES = {
    # name: (function, mode, argnums, kinds)
    "flow_loop_reverse": (loop, "reverse", 0, ("scalar", "scalar")),
    "flow_loop_forward": (loop, "forward", 0, ("scalar", "scalar")),
    "flow_branch_reverse": (branch, "reverse", (0, 1), ("scalar", "scalar")),
    "flow_branch_forward": (branch, "forward", (0, 1), ("scalar", "scalar")),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_flow_code_matches_golden(name):
    fun, mode, argnums, kinds = CASES[name]
    text = render(fun, mode, argnums, "final", True, kinds)
    ast.parse(text)
    check_golden(f"{name}.txt", text)


def test_the_cli_prints_the_same_text():
    result = run_main("show", f"{flow.__name__}:loop", "--kinds", "scalar,scalar", "--color", "never")
    assert result.returncode == 0, result.stderr
    assert result.stdout == render(loop, "reverse", 0, "final", True, ("scalar", "scalar"))


@pytest.mark.parametrize(("fun", "args"), [(loop, [0.7, 4]), (branch, [1.5, 0.5]), (branch, [0.5, 1.5])])
def test_the_pinned_code_is_right(fun, args):
    check_grads(fun, args)
