"""Which helper functions the Numba backend inlines (s2sad/front/inline.py): those of the same
module whose inlining is exactly what calling them does; every other call stays a call."""

import functools

import gast
import numpy as np

from s2sad.front.inline import inline_module_calls, single_exit
from s2sad.front.parse import parse
from tests.programs import library

scale = 2.0


def sq(v):
    return v * v


def twice_sq(v, k=2.0):
    """A docstring, a default and a call of another helper."""
    return k * sq(v)


def reads_scale(v):
    return v * scale


def early(v):
    if v > 0:
        return v
    return -v


def returns_in_a_loop(v):
    for _ in range(3):
        if v > 1.0:
            return v
        v = v * 2.0
    return v


def computed_default(v, k=np.pi):
    return v * k


def recursive(v, n):
    return v if n == 0 else recursive(v * v, n - 1)


def wrapped(fun):
    @functools.wraps(fun)
    def inner(*args):
        return fun(*args)
    return inner


@wrapped
def decorated(v):
    return v + 1.0


def apply(fun, v):
    return fun(v)


def calls_helpers(x):
    return twice_sq(x) + reads_scale(x)


def binds_what_a_helper_reads(x):
    scale = 3.0  # a local of the caller: inlining `reads_scale` would read it
    return reads_scale(x) + sq(x) * scale


def passes_a_helper(x):
    return apply(sq, x)


def calls_what_is_not_inlined(x):
    return returns_in_a_loop(x) + computed_default(x) + recursive(x, 2) + decorated(x) + library.softplus(x)


def inlined(fun) -> set[str]:
    tree = inline_module_calls(parse(fun)).tree
    return {n.name for n in tree.body if isinstance(n, gast.FunctionDef)}


def test_helpers_and_the_helpers_they_call_are_inlined():
    assert inlined(calls_helpers) == {"twice_sq", "sq", "reads_scale"}


def test_a_helper_whose_global_the_caller_binds_is_not_inlined():
    assert inlined(binds_what_a_helper_reads) == {"sq"}


def test_a_helper_passed_as_a_value_or_calling_a_parameter_is_not_inlined():
    assert inlined(passes_a_helper) == set()


def test_returns_in_loops_computed_defaults_recursion_wrappers_and_other_modules_stay_calls():
    assert inlined(calls_what_is_not_inlined) == set()


def calls_early(x):
    return early(x) * 2.0


def piecewise(v, k):
    """Returns in an `if`, an `elif` and after them, and a bare `return` path."""
    w = v * k
    if w > 2.0:
        return 2.0
    elif w < -1.0:
        if k > 0:
            return -1.0
        w = w * w
    else:
        w = w + 1.0
    w = w * 0.5
    return w


def test_early_returns_are_written_as_one_return_at_the_end():
    assert inlined(calls_early) == {"early"}
    body = single_exit(parse(piecewise).tree.body, "result")
    returns = [n for s in body for n in gast.walk(s) if isinstance(n, gast.Return)]
    assert returns == [body[-1]] and body[-1].value.id == "result"
    namespace = {}
    tree = gast.Module([gast.FunctionDef("rewritten", parse(piecewise).tree.args, body, [], None, None, [])], [])
    exec(compile(gast.gast_to_ast(gast.fix_missing_locations(tree)), "<rewritten>", "exec"), namespace)
    for v in np.linspace(-3.0, 3.0, 25):
        for k in (-1.5, 0.5, 2.0):
            assert namespace["rewritten"](v, k) == piecewise(v, k)


def test_a_return_inside_a_loop_is_not_rewritten():
    assert single_exit(parse(returns_in_a_loop).tree.body, "result") is None


def test_inlined_helpers_are_dependencies_and_their_lines_are_known():
    parsed = inline_module_calls(parse(calls_helpers))
    assert {name for _, name, _ in parsed.static_deps} >= {"twice_sq", "sq", "reads_scale"}
    assert parsed.lines[sq.__code__.co_firstlineno + 1].strip() == "return v * v"
    assert parse(calls_helpers).tree.body[0].__class__ is gast.Return  # the parse itself is not changed
