"""Which helper functions the Numba backend inlines (s2sad/front/inline.py): those of the same
module whose inlining is exactly what calling them does; every other call stays a call."""

import functools

import gast
import numpy as np

from s2sad.front.inline import inline_module_calls, single_exit
from s2sad.front.parse import parse
from tests.fixtures import foreign_helpers
from tests.fixtures.foreign_helpers import step
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
    return returns_in_a_loop(x) + computed_default(x) + recursive(x, 2) + decorated(x) + library.power(x, 2)


def inlined(fun) -> set[str]:
    tree = inline_module_calls(parse(fun)).tree
    return {n.name for n in tree.body if isinstance(n, gast.FunctionDef)}


def test_helpers_and_the_helpers_they_call_are_inlined():
    assert inlined(calls_helpers) == {"twice_sq", "sq", "reads_scale"}


def test_a_helper_whose_global_the_caller_binds_is_not_inlined():
    assert inlined(binds_what_a_helper_reads) == {"sq"}


def test_a_helper_passed_as_a_value_or_calling_a_parameter_is_not_inlined():
    assert inlined(passes_a_helper) == set()


def test_returns_in_loops_computed_defaults_recursion_and_wrappers_stay_calls():
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


def calls_foreign_helpers(x):
    s = step(x, x)  # imported by name; its own call of `inner` is copied too
    return foreign_helpers.squash(s) + foreign_helpers.squash(library.softplus(x))  # by the module, twice


def binds_math(x):
    math = 2.0  # the helper's `math` is its module's: read through an alias, not this local
    return step(x, x) * math


def calls_recursive_or_undefined(x):
    return foreign_helpers.recursive(x, 2) + foreign_helpers.reads_an_undefined_name(x)


def copies(fun) -> dict[str, gast.FunctionDef]:
    parsed = inline_module_calls(parse(fun))
    return {n.name: n for n in parsed.tree.body if isinstance(n, gast.FunctionDef)}, parsed


def test_helpers_of_other_modules_are_copied_per_call_at_the_calls_line():
    found, parsed = copies(calls_foreign_helpers)
    assert sorted(found) == ["inner_1", "softplus", "squash", "squash_1", "step_1"]  # names not taken
    first = calls_foreign_helpers.__code__.co_firstlineno
    lines = {name: {n.lineno for n in gast.walk(tree) if hasattr(n, "lineno")} for name, tree in found.items()}
    assert lines == {"step_1": {first + 1}, "inner_1": {first + 1}, "squash": {first + 2}, "squash_1": {first + 2},
                     "softplus": {first + 2}}
    by_name = {name.rstrip("_0123456789"): value for name, value in parsed.aliases.items()}
    assert by_name == {"SCALE": 0.5, "numpy": np, "math": __import__("math")}  # names the caller's module lacks
    assert (vars(foreign_helpers), "SCALE", 0.5) in parsed.static_deps  # rebinding it rebuilds


def test_a_helpers_global_is_never_read_as_a_local_of_the_caller():
    found, parsed = copies(binds_math)
    reads = {n.id for n in gast.walk(found["step_1"]) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}
    assert "math" not in reads and parsed.aliases[next(a for a in reads if a.startswith("math"))] is __import__("math")


def test_recursive_helpers_and_undefined_names_of_other_modules_stay_calls():
    found, _ = copies(calls_recursive_or_undefined)
    assert found == {}
