"""Stage analyses/shapes: a snippet and its parameters' kinds in, the shape class of every name
out (golden text in tests/golden/stages/shapes/: the IR, then `name: class`).

`()` is a scalar, a parameter's name stands for that parameter's shape, `?` is unknown.
"""

import operator

import pytest

from s2sad.analyses import shapes
from s2sad.core import ir
from s2sad.core.naming import runtime_ref
from s2sad.core.syntax import operator_ref
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


def _assign(target, value):
    return ir.Assign(ir.Var(target), value, 1)


def _call(op, *args):
    return ir.Call(operator_ref(op), tuple(args))


def test_integer_counters_are_found_from_constants_and_loop_counters():
    """`k = 0` counted up by `k = k + 1` is an integer, and so is `j = i + k` of a loop counter
    `i`; a name mixed with a float, or only ever restored from the tape, is not."""
    pop = ir.Call(runtime_ref("tape_pop"), (ir.Var("tape"),))
    assigns = [
        _assign("t", ir.Const(0)), _assign("k", ir.Var("t")),
        _assign("k1", _call(operator.add, ir.Var("k"), ir.Const(1))), _assign("k", ir.Var("k1")),
        _assign("j", _call(operator.add, ir.Var("i"), ir.Var("k"))),
        _assign("f", _call(operator.mul, ir.Var("k"), ir.Const(0.5))),
        _assign("g", _call(operator.add, ir.Var("k"), ir.Var("f"))),
        _assign("r", pop), _assign("k", pop),
    ]
    assert shapes._integer_arithmetic(assigns, {"i"}) == {"t", "k", "k1", "j"}


def test_no_integer_constant_and_no_loop_counter_finds_no_integers():
    assigns = [_assign("a", _call(operator.add, ir.Var("x"), ir.Var("y"))), _assign("b", ir.Var("a"))]
    assert shapes._integer_arithmetic(assigns, set()) == set()
