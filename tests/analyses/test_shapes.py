"""Stage analyses/shapes: a snippet and its parameters' kinds in, the shape class of every name
out (golden text in tests/golden/stages/shapes/: the IR, then `name: class`).

`()` is a scalar, a parameter's name stands for that parameter's shape, `?` is unknown.
"""

import pytest

from s2sad.analyses import shapes
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


def test_a_reshape_of_a_known_shape_to_a_constant_shape_is_known():
    """`np.reshape` (and `x.reshape`) to a constant shape, `-1` worked out; a shape NumPy
    refuses is unknown (NumPy raises when the code runs)."""
    fn = stages._analysed_ir("""
        def f(x):
            a = np.reshape(x, (2, -1))
            b = x.reshape((3, 4))
            c = np.reshape(x, (5, -1))
            d = np.reshape(x, -1)
            return a, b, c, d
    """)
    table = shapes.classes(fn, shapes.initial(fn.params, ("array",), ((3, 4),)))
    assert (table["a"], table["b"], table["c"], table["d"]) == ((2, 6), (3, 4), None, (12,))
