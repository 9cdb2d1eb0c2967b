"""Stage back/optimize: a snippet in, optimized IR out (golden text in
tests/golden/stages/optimize/).

"primal" cases optimize the lowered function itself (constant folding, copy propagation, dead
code); the others optimize a derivative as the pipeline builds it, with the parameters' kinds
that let shape-only helpers (`unbroadcast`, `like_structure`) go.
"""

import pytest

from tests import stages
from tests.stages import SNIPPETS

CASES = {
    # name: (snippet, mode, kinds)
    "fold_constants": ("""
        def f(x):
            a = 2.0 * 3.0
            b = a - 1.0
            return x * b
    """, "primal", None),
    "dead_code_and_copies": ("""
        def f(x):
            y = x
            unused = np.exp(y)
            z = y
            return z * 2.0
    """, "primal", None),
    "arith_grad_scalars": (SNIPPETS["arith"], "grad", "scalar,scalar"),
    "arith_grad_unknown": (SNIPPETS["arith"], "grad", None),
    "arith_jvp_scalars": (SNIPPETS["arith"], "jvp", "scalar,scalar"),
    "branch_grad": (SNIPPETS["branch"], "grad", "scalar"),
    "loop_overwrite_grad": (SNIPPETS["loop_overwrite"], "grad", "scalar"),
    "item_write_grad": (SNIPPETS["item_write"], "grad", "scalar"),
    "inactive_grad": (SNIPPETS["inactive"], "grad", "scalar,scalar"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_optimized_ir(name, golden):
    src, mode, kinds = CASES[name]
    wrt = "x" if mode != "primal" else None
    golden(f"stages/optimize/{name}.txt", stages.optimized_text(src, mode, wrt, kinds))


def test_scalar_code_calls_no_shape_helper():
    text = stages.optimized_text(SNIPPETS["arith"], "grad", "x", "scalar,scalar")
    assert "unbroadcast" not in text and "like_structure" not in text
