"""Stage back/emit: a snippet in, the Python source emitted for it out (golden text in
tests/golden/stages/emit/), and that source compiles.

Single-use temporaries are folded back into the expression that reads them, and a
`# line N:` comment names the user's line above each block (line numbers count the snippet's
5-line header, see `tests.stages.HEADER`).
"""

import ast

import pytest

from tests import stages
from tests.stages import SNIPPETS

CASES = {
    # name: (snippet, mode, kinds)
    "primal": (SNIPPETS["arith"], "primal", None),
    "arith_grad": (SNIPPETS["arith"], "grad", "scalar,scalar"),
    "arith_jvp": (SNIPPETS["arith"], "jvp", "scalar,scalar"),
    "branch_grad": (SNIPPETS["branch"], "grad", "scalar"),
    "loop_overwrite_jvp": (SNIPPETS["loop_overwrite"], "jvp", "scalar"),
    "while_loop_grad": (SNIPPETS["while_loop"], "grad", "scalar"),
    "item_write_grad": (SNIPPETS["item_write"], "grad", "scalar"),
    "helper_call_grad": (SNIPPETS["helper_call"], "grad", "scalar"),
    "container_grad": (SNIPPETS["container"], "grad", "scalar"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_emitted_source(name, golden):
    src, mode, kinds = CASES[name]
    wrt = "x" if mode != "primal" else None
    source = stages.emitted(src, mode, wrt, kinds)
    compile(ast.parse(source), f"<{name}>", "exec")
    golden(f"stages/emit/{name}.txt", source)


def test_emitted_gradient_runs():
    built = stages.built(SNIPPETS["branch"], "grad", "x", "scalar")
    assert built.fun(3.0) == 6.0 and built.fun(-2.0) == -1.0
