"""Stage transforms/forward: a snippet in, its unoptimized tangent function (mode `jvp`) out
(golden text in tests/golden/stages/forward/).

Each active statement is followed by its tangent (`dz = dx * y + x * dy` as one op per line);
inactive names get no tangent; the function returns `(value, tangent)`. Every case is checked
by `ir.verify`.
"""

import pytest

from s2sad.core import printer
from tests import stages
from tests.stages import SNIPPETS

CASES = {
    # name: (snippet, names differentiated)
    **{name: (src, None) for name, src in SNIPPETS.items()},
    "arith_wrt_x": (SNIPPETS["arith"], "x"),
    "inactive_wrt_x": (SNIPPETS["inactive"], "x"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_tangent_ir(name, golden):
    src, wrt = CASES[name]
    golden(f"stages/forward/{name}.txt", printer.format_function(stages.forward_ir(src, wrt)))


def test_square_has_tangent_two_x_dx():
    text = printer.format_function(stages.forward_ir("def f(x):\n    return x * x\n"))
    assert "dx * x" in text and "x * dx" in text  # the product rule, one term per factor
