"""Stage back/optimize: a snippet in, optimized IR out (golden text in
tests/golden/stages/optimize/).

"primal" cases optimize the lowered function itself (constant folding, copy propagation, dead
code); the others optimize a derivative as the pipeline builds it, with the parameters' kinds
that let shape-only helpers (`unbroadcast`, `like_structure`) go.
"""

import math
import textwrap

import pytest

import s2sad
from s2sad.testing import make_function
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


# ---------------------------------------------------------------- restores sink below the products

CHAIN = textwrap.dedent(SNIPPETS["scalar_chain"])


def _reverse_loop(text: str) -> list[str]:
    loop = text.split("for _ in reversed(")[1].split("return ")[0]
    return [line.strip() for line in loop.splitlines()[1:] if line.strip() and not line.strip().startswith("#")]


def test_a_loops_restores_move_below_the_products_that_read_the_current_values():
    """The trip's own values (`t4`, `t6`: see `back.trip_order`) are read back first; the value a
    trip had on entry (`s`) is restored below the products that read the current values."""
    fun = make_function(CHAIN, {"math": math})
    text = s2sad.show(fun, kinds=("scalar", "scalar"))
    body = _reverse_loop(text)
    assert body[0].endswith(" = t4_trips[_]"), text  # (named apart from the primal loop's t4: `back.loop_names`)
    t4 = body[0].split(" = ")[0]
    products = next(i for i, line in enumerate(body) if f"bs * t6_trips[_] * (1.0 - {t4} * {t4})" in line)
    assert products < body.index("s = s_trips[_]"), text
    assert "t7" not in text  # the products fold into one expression


@pytest.mark.parametrize("s", [0.7, -1.3, 2.0])
def test_sunk_restores_give_the_unoptimized_code_s_numbers_exactly(s):
    fun = make_function(CHAIN, {"math": math})
    assert s2sad.grad(fun)(s, 7) == s2sad.grad(fun, optimize=False)(s, 7)
    assert s2sad.value_and_grad(fun)(s, 7) == s2sad.value_and_grad(fun, optimize=False)(s, 7)


def test_a_restore_stops_at_a_read_of_its_name_and_at_a_compound_statement():
    from s2sad.back.optimize import sink_restores
    from s2sad.core import ir
    from s2sad.core.naming import runtime_ref

    def restore(name):
        return ir.Assign(ir.Var(name), ir.Call(runtime_ref("trip_value"), (ir.Var(f"{name}_trips"), ir.Var("i"))), 1)

    def assign(target, *reads):
        return ir.Assign(ir.Var(target), ir.Call(runtime_ref("add"), tuple(map(ir.Var, reads))), 1)

    body = [restore("a"), restore("b"), assign("c", "x", "y"), assign("d", "b", "x"),
            ir.If(ir.Var("c"), [assign("e", "x", "x")], [], 1), assign("f", "a", "a")]
    moved = sink_restores(body)
    names = [s.target.name if isinstance(s, ir.Assign) else "if" for s in moved]
    assert names == ["c", "b", "d", "a", "if", "f"]  # b stops at d's read; a at the `if`


NEGATED_SUMS = """
def f(x, y):
    logp = x - np.log(np.sum(np.exp(x), axis=1, keepdims=True))
    return np.sum(y * logp)
"""


def test_a_sum_of_a_negation_is_the_negation_of_the_sum():
    """`np.sum(-g, axis=...)` read once is `-np.sum(g, axis=...)`: one negation of the sum, not one
    per element, and the same numbers bit for bit (negation rounds nothing)."""
    import numpy as np

    fun = make_function(NEGATED_SUMS, {"np": np})
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    for mode in ("grad", "value_and_grad"):
        optimized = getattr(s2sad, mode)(fun, argnums=(0, 1))(x, y)
        plain = getattr(s2sad, mode)(fun, argnums=(0, 1), optimize=False)(x, y)
        assert repr(optimized) == repr(plain)
    source = s2sad.show(fun, args=(x, y), argnums=(0, 1))
    assert "(-y)" not in source and "-y.sum(axis=1, keepdims=True)" in source, source
