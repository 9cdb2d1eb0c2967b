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

from s2sad.core import ir
from s2sad.core.ir import Assign, Call, Const, Ref, Var
from s2sad.core.naming import Namer
from s2sad.front.parse import MethodOf
from s2sad.rules.registry import is_internal, lookup

_BUILDING = threading.local()


def is_user_function(op: object) -> bool:
    """A Python function (or transformed s2sad object) with no rule: its source is differentiated."""
    if lookup(op) is not None:
        return False
    if hasattr(op, "nondiff_argnums") or type(op).__name__ == "checkpoint":
        return False
    internal = isinstance(op, types.FunctionType) and is_internal(op)
    if internal and not getattr(op, "__s2sad_generated__", False):
        return False  # s2sad's own helpers: displays and in-place operations the transforms handle
    return isinstance(op, (types.FunctionType, MethodOf)) or hasattr(op, "__s2sad_source_function__")


class Deferred:
    """Stands for a derivative that is being built (a recursive call): built on first call."""

    def __init__(self, fun: object, request: object, part: str) -> None:
        self.fun, self.request, self.part = fun, request, part

    @property
    def __s2sad_source_function__(self):
        """The derivative it stands for (built by now), so generated code can be differentiated."""
        from s2sad import cache

        built = cache.get(self.fun, self.request)
        return built.fun if self.part == "fun" else built.bwd

    def __call__(self, *args, **kwargs):
        return self.__s2sad_source_function__(*args, **kwargs)


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


def require_positional(fun: object) -> None:
    """Refuse a custom rule's function with `*args`, `**kwargs` or keyword-only parameters: its
    arguments are passed to the rule by position (the same refusal as the lowering's)."""
    import inspect

    from s2sad.errors import Location, UnsupportedSyntax
    from s2sad.front.parse import unwrap

    code = unwrap(fun).__code__
    if code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS) or code.co_kwonlyargcount:
        import linecache

        text = linecache.getline(code.co_filename, code.co_firstlineno)
        raise UnsupportedSyntax("s2sad does not support *args, **kwargs or keyword-only parameters yet",
                                Location(code.co_filename, code.co_firstlineno, 0, text),
                                f"give {getattr(fun, '__name__', 'the function')} named positional parameters")


def positional_args(fun: object, bound: dict[str, ir.Atom]) -> tuple[ir.Atom, ...]:
    """Every parameter of the callee in order: the caller's atoms, defaults where omitted."""
    import inspect

    from s2sad.api import _params
    from s2sad.front.parse import unwrap

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
    """`target = fun(...)` rewritten for reverse mode: its adjoint is
    `grads = bwd(*extra, residuals, bt)` (after `residuals = recompute(...)[1]` for a
    checkpoint), and `grads[i]` flows into `outputs[i]`'s caller atom."""

    target: Var
    residuals: Var | None
    bwd: Ref
    outputs: list[tuple[int, ir.Atom]]
    extra: tuple[ir.Atom, ...] = ()
    recompute: Call | None = None


def callee_kind(op: object) -> str | None:
    from s2sad import custom

    for kind, cls in (("custom_jvp", custom.custom_jvp), ("custom_vjp", custom.custom_vjp),
                      ("checkpoint", custom.checkpoint)):
        if isinstance(op, cls):
            return kind
    return "function" if is_user_function(op) else None


def rewrite_for_reverse(body: list[ir.Stmt], is_active, namer: Namer, calls: dict[int, ReverseCall],
                        written: set[str] | None = None) -> list:
    """Replace each active call of a user function by its forward sweep (see `ReverseCall`).
    `written`: the names written in place somewhere in the function (default: found in `body`)."""
    written = ir.written_into(body) if written is None else written
    out: list[ir.Stmt] = []
    for stmt in body:
        if isinstance(stmt, ir.COMPOUND):
            stmt = ir.rebuild(stmt, lambda b: rewrite_for_reverse(b, is_active, namer, calls, written))
        elif isinstance(stmt, Assign) and isinstance(stmt.value, Call) and is_active(stmt.target):
            kind = callee_kind(stmt.value.op.value)
            if kind is not None:
                kept = written if kind != "checkpoint" else set()  # a checkpoint reads its arguments again
                out += SPLITTERS[kind](stmt, is_active, namer, calls, _args_at_call_time(stmt, kept, namer, out))
                continue
        out.append(stmt)
    return out


def _args_at_call_time(stmt: Assign, written: set[str], namer: Namer, out: list[ir.Stmt]) -> dict[str, Var]:
    """The residuals of a call keep its arguments: an argument the caller writes into in place
    (later, or on a later trip of a loop) is passed to the forward sweep as a copy, so that the
    callee's adjoint sees the values it was called with. Returns name -> copy."""
    copies: dict[str, Var] = {}
    for atom in ir.atoms_of(stmt.value):
        if isinstance(atom, Var) and atom.name in written and atom.name not in copies:
            copies[atom.name] = Var(namer.temp())
            out.append(Assign(copies[atom.name], Call(_runtime("copy_value"), (atom,)), stmt.line))
    return copies


def _passed(atoms: tuple, copies: dict[str, Var]) -> tuple:
    return tuple(copies.get(a.name, a) if isinstance(a, Var) else a for a in atoms)


def _forward_sweep(stmt: Assign, fwd: Ref, args: tuple, kwargs: tuple, namer: Namer) -> tuple[list, Var]:
    """`p = fwd(...)`, `r = p[1]`, `target = p[0]` (residuals first: they are restored only after
    the call's adjoint has used them)."""
    pair, residuals = Var(namer.temp()), Var(namer.fresh("residuals"))
    stmts = [Assign(pair, Call(fwd, args, kwargs), stmt.line),
             Assign(residuals, Call(_getitem(), (pair, Const(1))), stmt.line),
             Assign(stmt.target, Call(_getitem(), (pair, Const(0))), stmt.line)]
    return stmts, residuals


def _split_function(stmt: Assign, is_active, namer: Namer, calls: dict[int, ReverseCall],
                    copies: dict[str, Var]) -> list:
    call, fun = stmt.value, stmt.value.op.value
    wrt, bound = active_params(fun, call, is_active)
    fwd, _ = derivative(fun, "vjp", tuple(wrt), "fun")
    bwd, _ = derivative(fun, "vjp", tuple(wrt), "bwd")
    kwargs = tuple(zip([k for k, _ in call.kwargs], _passed(tuple(a for _, a in call.kwargs), copies)))
    stmts, residuals = _forward_sweep(stmt, callee_ref(fwd, fun, "fwd"), _passed(call.args, copies), kwargs, namer)
    outputs = [(i, bound[name]) for i, name in enumerate(wrt)]
    calls[stmts[-1].sid] = ReverseCall(stmt.target, residuals, callee_ref(bwd, fun, "bwd"), outputs)
    return stmts


def _split_checkpoint(stmt: Assign, is_active, namer: Namer, calls: dict[int, ReverseCall],
                      copies: dict[str, Var]) -> list:
    """Keep the plain call; the adjoint runs the callee's forward sweep again, then its bwd."""
    call, fun = stmt.value, stmt.value.op.value.fun
    wrt, bound = active_params(fun, call, is_active)
    fwd, _ = derivative(fun, "vjp", tuple(wrt), "fun")
    bwd, _ = derivative(fun, "vjp", tuple(wrt), "bwd")
    outputs = [(i, bound[name]) for i, name in enumerate(wrt)]
    again = Call(callee_ref(fwd, fun, "fwd"), call.args, call.kwargs)
    calls[stmt.sid] = ReverseCall(stmt.target, None, callee_ref(bwd, fun, "bwd"), outputs, recompute=again)
    return [stmt]


def _split_custom_vjp(stmt: Assign, is_active, namer: Namer, calls: dict[int, ReverseCall],
                      copies: dict[str, Var]) -> list:
    call, obj = stmt.value, stmt.value.op.value
    obj.require_rule()
    require_positional(obj.fun)
    args = positional_args(obj.fun, dict(zip(_param_names(obj.fun), call.args)) | dict(call.kwargs))
    stmts, residuals = _forward_sweep(stmt, callee_ref(obj.fwd, obj.fun, "fwd"), _passed(args, copies), (), namer)
    extra = tuple(args[i] for i in obj.nondiff_argnums)
    diff = [a for i, a in enumerate(args) if i not in obj.nondiff_argnums]
    outputs = [(i, a) for i, a in enumerate(diff) if is_active(a)]
    calls[stmts[-1].sid] = ReverseCall(stmt.target, residuals, callee_ref(obj.bwd, obj.fun, "bwd"), outputs, extra)
    return stmts


def _split_custom_jvp(stmt: Assign, is_active, namer: Namer, calls: dict[int, ReverseCall],
                      copies: dict[str, Var]) -> list:
    """Transpose the custom jvp: reverse mode of its tangent output, which is linear in the tangents."""
    call, obj = stmt.value, stmt.value.op.value
    obj.require_rule()
    require_positional(obj.fun)
    args = positional_args(obj.fun, dict(zip(_param_names(obj.fun), call.args)) | dict(call.kwargs))
    diff = [i for i in range(len(args)) if i not in obj.nondiff_argnums]
    linear = linearization(obj, len(args))
    zeros = []
    out: list[ir.Stmt] = [stmt]
    for i in diff:
        zero = Var(namer.temp())
        out.append(Assign(zero, Call(_runtime("zeros_like"), (args[i],)), stmt.line))
        zeros.append(zero)
    wrt = [f"t{i}" for i in diff if is_active(args[i])]
    fwd, _ = derivative(linear, "vjp", tuple(wrt), "fun")
    bwd, _ = derivative(linear, "vjp", tuple(wrt), "bwd")
    pair, residuals = Var(namer.temp()), Var(namer.fresh("residuals"))
    linear_fwd = Call(callee_ref(fwd, obj.fun, "linear_fwd"), (*_passed(args, copies), *zeros))
    out.append(Assign(pair, linear_fwd, stmt.line))
    out.append(Assign(residuals, Call(_getitem(), (pair, Const(1))), stmt.line))
    outputs = [(k, args[int(name[1:])]) for k, name in enumerate(wrt)]
    calls[stmt.sid] = ReverseCall(stmt.target, residuals, callee_ref(bwd, obj.fun, "linear_bwd"), outputs)
    return out[1:] + [stmt]  # the primal call last: the transposed sweep reads the residuals


def linearization(obj, count: int):
    """`def linear(x0, .., t0, ..): return jvp((x0, ..), (t0, ..))[1]`, made once per arity."""
    import linecache

    cache = obj.__dict__.setdefault("_s2sad_linear", {})
    if count in cache:
        return cache[count]
    diff = [i for i in range(count) if i not in obj.nondiff_argnums]
    xs = [f"x{i}" for i in range(count)]
    ts = [f"t{i}" for i in diff]
    nd = [xs[i] for i in obj.nondiff_argnums]
    primals = "(" + "".join(xs[i] + ", " for i in diff) + ")"
    tangents = "(" + "".join(t + ", " for t in ts) + ")"
    name = f"{obj.__name__}_linear"
    source = (f"def {name}({', '.join(xs + ts)}):\n"
              f"    return rule({''.join(a + ', ' for a in nd)}{primals}, {tangents})[1]\n")
    filename = f"<s2sad linearization of {obj.__qualname__}/{count}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    scope = {"rule": obj.jvp}
    exec(compile(source, filename, "exec"), scope)  # noqa: S102 - generated from the arity alone
    cache[count] = scope[name]
    return scope[name]


def _param_names(fun) -> list[str]:
    from s2sad.api import _params

    return _params(fun)


def _runtime(name: str) -> Ref:
    from s2sad.core.naming import runtime_ref

    return runtime_ref(name)


SPLITTERS = {"function": _split_function, "checkpoint": _split_checkpoint,
             "custom_vjp": _split_custom_vjp, "custom_jvp": _split_custom_jvp}


def _getitem() -> Ref:
    from s2sad.front.lower_expr import getitem_ref

    return getitem_ref()
