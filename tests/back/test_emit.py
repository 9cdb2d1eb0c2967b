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


def test_no_read_of_a_view_is_folded_past_a_write_into_its_array():
    """`t = copy_value(v)` with `v = b[1:]` (a view read twice, so not folded itself) is not
    moved past `b[1:] = 0.0`: the copy must hold what `b` held before the write."""
    import operator

    import numpy as np

    from s2sad import runtime
    from s2sad.back.emit import emit_module
    from s2sad.core import ir

    b, v, t, u, out = (ir.Var(n) for n in ("b", "v", "t", "u", "out"))
    getitem = ir.Ref(operator.getitem, ("operator", "getitem"), operator)
    body = [
        ir.Assign(v, ir.Call(getitem, (b, ir.Const(slice(1, None)))), 1),
        ir.Assign(u, ir.Call(ir.Ref(operator.mul, ("operator", "mul")), (v, ir.Const(2.0))), 1),
        ir.Assign(t, ir.Call(ir.Ref(runtime.copy_value, ("copy_value",)), (v,)), 2),
        ir.Assign(b, ir.Call(ir.Ref(runtime.setitem, ("setitem",)), (b, ir.Const(slice(1, None)), ir.Const(0.0))), 3),
        ir.Assign(out, ir.Call(ir.Ref(operator.add, ("operator", "add")), (t, u)), 4),
        ir.Return(out, 4),
    ]
    fn = ir.Function("f", ["b"], body, "<test>", 1, {}, {"t", "u", "v", "out"}, ())
    emitted = emit_module([fn], {"t", "u", "v", "out"})
    assert "out = t + u" in emitted.source or "return t + u" in emitted.source
    namespace = dict(emitted.namespace)
    exec(compile(emitted.source, "<test>", "exec"), namespace)
    assert namespace["f"](np.array([1.0, 2.0, 3.0])).tolist() == [6.0, 9.0]
