"""Calls to the user's own functions, differentiated modularly.

A callee gets its own derivative, built once through the cache and shared by every caller:
forward mode calls its `jvp` (`out, dout = f_jvp(x, dx)`); reverse mode calls its split pair,
`f_fwd` in the primal sweep (the value and the residuals its adjoint needs) and `f_bwd` in the
adjoint sweep (`bx = f_bwd(residuals, bout)`). So the generated code stays proportional to the
source, and recursion works: a callee whose derivative is still being built is called through
a stub that looks it up when first called.
"""

from __future__ import annotations

import threading
import types
from dataclasses import dataclass

from s2sad import ir
from s2sad.ir import Assign, Call, Const, Ref, Var
from s2sad.naming import Namer
from s2sad.rules.registry import lookup

_BUILDING = threading.local()


def is_user_function(op: object) -> bool:
    """A Python function (or transformed s2sad object) with no rule: its source is differentiated."""
    if lookup(op) is not None:
        return False
    if isinstance(op, Deferred):
        return False
    internal = (getattr(op, "__module__", None) or "").startswith("s2sad")
    if internal and not getattr(op, "__s2sad_generated__", False):
        return False  # s2sad's own helpers: displays and in-place operations the transforms handle
    return isinstance(op, types.FunctionType) or hasattr(op, "__s2sad_source_function__")


class Deferred:
    """Stands for a derivative that is being built (a recursive call): built on first call."""

    def __init__(self, fun: object, request: object, part: str) -> None:
        self.fun, self.request, self.part = fun, request, part

    def __call__(self, *args, **kwargs):
        from s2sad import cache

        built = cache.get(self.fun, self.request)
        target = built.fun if self.part == "fun" else built.bwd
        return target(*args, **kwargs)


def derivative(fun: object, mode: str, wrt: tuple[str, ...], part: str = "fun") -> tuple[object, object]:
    """The compiled derivative of a callee (or a stub while it is being built) and its Built."""
    from s2sad import cache
    from s2sad.pipeline import Request

    request = Request(mode, wrt, single=False)
    key = cache.key(fun, request)
    building = getattr(_BUILDING, "keys", set())
    if key in building:
        return Deferred(fun, request, part), None
    built = cache.get(fun, request)
    return (built.fun if part == "fun" else built.bwd), built


class building:
    """Context manager: marks a cache key as being built on this thread."""

    def __init__(self, key: tuple) -> None:
        self.key = key

    def __enter__(self) -> None:
        if not hasattr(_BUILDING, "keys"):
            _BUILDING.keys = set()
        _BUILDING.keys.add(self.key)

    def __exit__(self, *exc) -> None:
        _BUILDING.keys.discard(self.key)


def active_params(fun: object, call: Call, is_active) -> tuple[list[str], dict[str, ir.Atom]]:
    """The callee's parameter names bound to active atoms, and every bound parameter."""
    from s2sad.api import _params

    params = _params(fun)
    bound: dict[str, ir.Atom] = dict(zip(params, call.args))
    bound.update(dict(call.kwargs))
    return [p for p in params if p in bound and is_active(bound[p])], bound


def positional_args(fun: object, bound: dict[str, ir.Atom]) -> tuple[ir.Atom, ...]:
    """Every parameter of the callee in order: the caller's atoms, defaults where omitted."""
    import inspect

    from s2sad.api import _params
    from s2sad.parse import unwrap

    signature = inspect.signature(unwrap(fun))
    out = []
    for name in _params(fun):
        if name in bound:
            out.append(bound[name])
            continue
        default = signature.parameters[name].default
        literal = default is None or type(default) in (int, float, bool, str)
        out.append(Const(default) if literal else Ref(default, (f"{getattr(fun, '__name__', 'f')}_{name}",)))
    return tuple(out)


def callee_ref(obj: object, fun: object, suffix: str) -> Ref:
    name = getattr(fun, "__name__", "f") + "_" + suffix
    return Ref(obj, (name,))


# ------------------------------------------------------------------ reverse mode


@dataclass
class ReverseCall:
    """`target = fun(...)` rewritten for reverse mode; its adjoint calls `bwd`."""

    target: Var
    residuals: Var
    bwd: Ref
    wrt: list[str]
    bound: dict[str, ir.Atom]


def rewrite_for_reverse(body: list[ir.Stmt], is_active, namer: Namer, calls: dict[int, ReverseCall]) -> list:
    """Replace each active call of a user function by `p = f_fwd(...)`, `r = p[1]`, `t = p[0]`."""
    out: list[ir.Stmt] = []
    for stmt in body:
        if isinstance(stmt, ir.If):
            stmt = ir.If(stmt.test, rewrite_for_reverse(stmt.body, is_active, namer, calls),
                         rewrite_for_reverse(stmt.orelse, is_active, namer, calls), stmt.line)
        elif isinstance(stmt, (ir.For, ir.While)):
            stmt = _rebuild_loop(stmt, lambda b: rewrite_for_reverse(b, is_active, namer, calls))
        elif _active_user_call(stmt, is_active):
            out += _split_call(stmt, is_active, namer, calls)
            continue
        out.append(stmt)
    return out


def _active_user_call(stmt: ir.Stmt, is_active) -> bool:
    if not (isinstance(stmt, Assign) and isinstance(stmt.value, Call)):
        return False
    return is_user_function(stmt.value.op.value) and is_active(stmt.target)


def _split_call(stmt: Assign, is_active, namer: Namer, calls: dict[int, ReverseCall]) -> list[ir.Stmt]:
    call = stmt.value
    fun = call.op.value
    wrt, bound = active_params(fun, call, is_active)
    fwd, _ = derivative(fun, "vjp", tuple(wrt), "fun")
    bwd, _ = derivative(fun, "vjp", tuple(wrt), "bwd")
    pair = Var(namer.temp())
    residuals = Var(namer.fresh("residuals"))
    getitem = _getitem()
    first = Assign(pair, Call(callee_ref(fwd, fun, "fwd"), call.args, call.kwargs), stmt.line)
    value = Assign(stmt.target, Call(getitem, (pair, Const(0))), stmt.line)
    rest = Assign(residuals, Call(getitem, (pair, Const(1))), stmt.line)
    calls[id(value)] = ReverseCall(stmt.target, residuals, callee_ref(bwd, fun, "bwd"), wrt, bound)
    return [first, rest, value]  # residuals first: restored only after the call's adjoint used them


def _rebuild_loop(stmt, fix):
    if isinstance(stmt, ir.For):
        return ir.For(stmt.target, stmt.iter, fix(stmt.body), stmt.line)
    return ir.While(fix(stmt.test_body), stmt.test, fix(stmt.body), stmt.line)


def _getitem() -> Ref:
    from s2sad.lower_expr import getitem_ref

    return getitem_ref()
