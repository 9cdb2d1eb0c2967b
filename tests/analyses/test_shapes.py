"""Stage analyses/shapes: a snippet and its parameters' kinds in, the shape class of every name
out (golden text in tests/golden/stages/shapes/: the IR, then `name: class`).

`()` is a scalar, a parameter's name stands for that parameter's shape, `?` is unknown.
"""

import pytest

from tests import stages
from tests.stages import SNIPPETS

CASES = {
    # name: (snippet, kinds of the parameters; `?` unknown)
    "arith_scalars": (SNIPPETS["arith"], "scalar,scalar"),
    "arith_scalar_and_array": (SNIPPETS["arith"], "scalar,array"),
    "arith_two_arrays": (SNIPPETS["arith"], "array,array"),
    "arith_unknown": (SNIPPETS["arith"], "?,?"),
    "loop_overwrite": (SNIPPETS["loop_overwrite"], "scalar"),
    "item_write": (SNIPPETS["item_write"], "scalar"),
    "inactive": (SNIPPETS["inactive"], "array,scalar"),
    "reduction": ("""
        def f(x):
            m = np.sum(x * x)
            t = np.mean(x)
            return m / t
    """, "array"),
    "math_module": ("""
        def f(x):
            return math.exp(x) * 2.0
    """, "?"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_shape_classes(name, golden):
    src, kinds = CASES[name]
    golden(f"stages/shapes/{name}.txt", stages.shapes_text(src, kinds))
