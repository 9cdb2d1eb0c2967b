"""Stage transforms/reverse: a snippet in, its unoptimized adjoint function out (golden text in
tests/golden/stages/reverse/).

The primal sweep (with what the recorder keeps), the seed `bout = seed(out)`, then the adjoint
of each statement in reverse order, and the gradients returned. Every case is checked by
`ir.verify`.
"""

import pytest

from s2sad.core import printer
from tests import stages
from tests.stages import SNIPPETS

CASES = {
    # name: (snippet, names differentiated, form)
    **{name: (src, None, "grad") for name, src in SNIPPETS.items()},
    "arith_wrt_x": (SNIPPETS["arith"], "x", "grad"),
    "inactive_wrt_x": (SNIPPETS["inactive"], "x", "grad"),
    "arith_value_and_grad": (SNIPPETS["arith"], None, "value_and_grad"),
    "arith_vjp": (SNIPPETS["arith"], "x", "vjp"),
    "square": ("""
        def f(x):
            y = x * x
            return y
    """, None, "grad"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_adjoint_ir(name, golden):
    src, wrt, form = CASES[name]
    golden(f"stages/reverse/{name}.txt", printer.format_function(stages.reverse_ir(src, wrt, form)))


def test_square_has_adjoint_two_x_by():
    text = printer.format_function(stages.reverse_ir(CASES["square"][0]))
    assert "by * x" in text and "x * by" in text  # one term per factor, both into bx
