"""Calls to the user's own functions, differentiated modularly.

A callee gets its own derivative, looked up through the `derive` the pipeline hands down (the
cache builds it once and shares it with every caller):
forward mode calls its `jvp` (`out, dout = f_jvp(x, dx)`); reverse mode calls its split pair,
`f_fwd` in the primal sweep (the value and the residuals its adjoint needs) and `f_bwd` in the
adjoint sweep (`bx = f_bwd(residuals, bout)`). So the generated code stays proportional to the
source, and recursion works: a callee whose derivative is still being built is called through
a stub that looks it up when first called.
"""

from __future__ import annotations

import inspect
import linecache
from dataclasses import dataclass

from s2sad import runtime
from s2sad.core import ir
from s2sad.core.ir import Assign, Call, Const, Ref, Var
from s2sad.core.modes import BWD, FUN, VJP
from s2sad.core.naming import Namer, runtime_ref, spelled_name
from s2sad.core.source import define
from s2sad.core.targets import params_of, plain_function, rule_kind, target_of
from s2sad.errors import Location, UnsupportedSyntax
from s2sad.front.lower_expr import getitem_ref
from s2sad.front.parse import is_user_function
from s2sad.transforms.base import current_derive

__all__ = ["ReverseCall", "ValueCall", "callee_kind", "derivative", "is_user_function", "rewrite_for_reverse"]


def derivative(fun: object, mode: str, wrt: tuple[str, ...], part: str = FUN) -> tuple[object, object]:
    """The compiled derivative of a callee (or a stub while it is being built) and its Built,
    from the `derive` the pipeline handed down (see `transforms.base`)."""
    return current_derive()(fun, mode, wrt, part)


def active_params(fun: object, call: Call, is_active) -> tuple[list[str], dict[str, ir.Atom]]:
    """The callee's parameter names bound to active atoms, and every bound parameter."""
    params = params_of(fun)
    bound: dict[str, ir.Atom] = dict(zip(params, call.args))
    bound.update(dict(call.kwargs))
    return [p for p in params if p in bound and is_active(bound[p])], bound


def require_positional(fun: object) -> None:
    """Refuse a custom rule's function with `*args`, `**kwargs` or keyword-only parameters: its
    arguments are passed to the rule by position (the same refusal as the lowering's)."""
    code = plain_function(fun).__code__
    if code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS) or code.co_kwonlyargcount:
        text = linecache.getline(code.co_filename, code.co_firstlineno)
        raise UnsupportedSyntax("s2sad does not support *args, **kwargs or keyword-only parameters yet",
                                Location(code.co_filename, code.co_firstlineno, 0, text),
                                f"give {getattr(fun, '__name__', 'the function')} named positional parameters")


def positional_args(fun: object, bound: dict[str, ir.Atom]) -> tuple[ir.Atom, ...]:
    """Every parameter of the callee in order: the caller's atoms, defaults where omitted."""
    target = target_of(fun)
    signature = inspect.signature(target.plain)
    out = []
    for name in target.params:
        if name in bound:
            out.append(bound[name])
            continue
        default = signature.parameters[name].default
        literal = default is None or type(default) in (int, float, bool, str)
        out.append(Const(default) if literal else Ref(default, (f"{spelled_name(fun)}_{name}",)))
    return tuple(out)


def callee_ref(obj: object, fun: object, suffix: str) -> Ref:
    name = spelled_name(fun) + "_" + suffix
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
    """"custom_jvp", "custom_vjp", "checkpoint" (a custom-rule object), "function" (a user
    function, differentiated from its source), "value" (a function value known only when the
    code runs, `runtime.call_value`) or None (an op with a rule)."""
    if op is runtime.call_value:
        return "value"
    return rule_kind(op) or ("function" if is_user_function(op) else None)


# ------------------------------------------------------------------ function values


@dataclass(frozen=True)
class ValueCall:
    """`call_value(f, *args, **kwargs)` taken apart: the function value, the arguments (the
    keyword ones after the positional ones, as its derivative takes them), their number and keys.
    The function value itself carries no derivative (like an object's attributes): a closure over
    a differentiated value is inlined where it is made (`front.local_functions`) or refused there."""

    fun: ir.Atom
    values: tuple[ir.Atom, ...]
    count: int
    keys: tuple[str, ...]

    @staticmethod
    def of(call: Call) -> ValueCall:
        fun, *args = call.args
        keys = tuple(k for k, _ in call.kwargs)
        return ValueCall(fun, (*args, *(a for _, a in call.kwargs)), len(args), keys)

    def derivative(self, mode: str, wrt: tuple[int, ...], part: str, where: Location) -> Call:
        """`value_derivative(f, ...)`: the callee's derivative code, looked up when it runs."""
        return Call(_runtime("value_derivative"), (self.fun, Const(mode), Const(wrt), Const(self.count),
                                                   Const(self.keys), Const(part), Const(where.filename),
                                                   Const(where.line)))


def methods_as_values(fn: ir.Function, is_active, namer: Namer) -> tuple[ir.Function, bool]:
    """`t = obj.name(*args)` on an object known only when the code runs (`runtime.call_method`),
    where a derivative flows: the method becomes a function value, `m = method_value(obj, name,
    ...)`, and `t = call_value(m, *args)`; where `obj` carries a derivative itself, `m` is the
    function its class defines and `obj` is passed first. Whether anything changed, too."""
    changed = False

    def rewrite(body: list[ir.Stmt]) -> list[ir.Stmt]:
        nonlocal changed
        out: list[ir.Stmt] = []
        for stmt in body:
            if isinstance(stmt, ir.COMPOUND):
                stmt = ir.rebuild(stmt, rewrite)
            elif (isinstance(stmt, Assign) and isinstance(stmt.value, Call)
                  and stmt.value.op.value is runtime.call_method and is_active(stmt.target)):
                obj, name, *args = stmt.value.args
                active = is_active(obj)
                method = Var(namer.temp())
                out.append(Assign(method, Call(_runtime("method_value"), (
                    obj, name, Const(active), Const(fn.filename), Const(stmt.line))), stmt.line))
                passed = (obj, *args) if active else tuple(args)
                stmt = Assign(stmt.target, Call(_runtime("call_value"), (method, *passed), stmt.value.kwargs),
                              stmt.line)
                changed = True
            out.append(stmt)
        return out

    body = rewrite(fn.body)
    if not changed:
        return fn, False
    return ir.Function(fn.name, fn.params, body, fn.filename, fn.firstline, fn.lines, fn.temps | namer.temps,
                       fn.defaults), True


def rewrite_for_reverse(body: list[ir.Stmt], is_active, namer: Namer, calls: dict[int, ReverseCall],
                        written: set[str] | None = None, where=None) -> list:
    """Replace each active call of a user function by its forward sweep (see `ReverseCall`).
    `written`: the names written in place somewhere in the function (default: found in `body`);
    `where(line)`: the user's location of a line (for calls of function values)."""
    written = ir.written_into(body) if written is None else written
    out: list[ir.Stmt] = []
    for stmt in body:
        if isinstance(stmt, ir.COMPOUND):
            stmt = ir.rebuild(stmt, lambda b: rewrite_for_reverse(b, is_active, namer, calls, written, where))
        elif isinstance(stmt, Assign) and isinstance(stmt.value, Call) and is_active(stmt.target):
            kind = callee_kind(stmt.value.op.value)
            if kind == "value":
                copies = _args_at_call_time(stmt, written, namer, out)
                out += _split_value(stmt, is_active, namer, calls, copies, where(stmt.line))
                continue
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
    fwd, _ = derivative(fun, VJP, tuple(wrt), FUN)
    bwd, _ = derivative(fun, VJP, tuple(wrt), BWD)
    kwargs = tuple(zip([k for k, _ in call.kwargs], _passed(tuple(a for _, a in call.kwargs), copies)))
    stmts, residuals = _forward_sweep(stmt, callee_ref(fwd, fun, "fwd"), _passed(call.args, copies), kwargs, namer)
    outputs = [(i, bound[name]) for i, name in enumerate(wrt)]
    calls[stmts[-1].sid] = ReverseCall(stmt.target, residuals, callee_ref(bwd, fun, "bwd"), outputs)
    return stmts


def _split_value(stmt: Assign, is_active, namer: Namer, calls: dict[int, ReverseCall],
                 copies: dict[str, Var], where: Location) -> list:
    """`fwd = value_derivative(f, ...)`, `bwd = ...` and the forward sweep `call_value(fwd, ...)`;
    the adjoint `call_value(bwd, residuals, bt)` (`bwd` passed first, as `extra`)."""
    value = ValueCall.of(stmt.value)
    wrt = tuple(i for i, a in enumerate(value.values) if is_active(a))
    fwd, bwd = Var(namer.temp()), Var(namer.temp())
    stmts: list[ir.Stmt] = [Assign(fwd, value.derivative(VJP, wrt, FUN, where), stmt.line),
                            Assign(bwd, value.derivative(VJP, wrt, BWD, where), stmt.line)]
    more, residuals = _forward_sweep(stmt, _runtime("call_value"), (fwd, *_passed(value.values, copies)), (), namer)
    outputs = [(k, value.values[i]) for k, i in enumerate(wrt)]
    calls[more[-1].sid] = ReverseCall(stmt.target, residuals, _runtime("call_value"), outputs, (bwd,))
    return stmts + more


def _split_checkpoint(stmt: Assign, is_active, namer: Namer, calls: dict[int, ReverseCall],
                      copies: dict[str, Var]) -> list:
    """Keep the plain call; the adjoint runs the callee's forward sweep again, then its bwd."""
    call, fun = stmt.value, stmt.value.op.value.fun
    wrt, bound = active_params(fun, call, is_active)
    fwd, _ = derivative(fun, VJP, tuple(wrt), FUN)
    bwd, _ = derivative(fun, VJP, tuple(wrt), BWD)
    outputs = [(i, bound[name]) for i, name in enumerate(wrt)]
    again = Call(callee_ref(fwd, fun, "fwd"), call.args, call.kwargs)
    calls[stmt.sid] = ReverseCall(stmt.target, None, callee_ref(bwd, fun, "bwd"), outputs, recompute=again)
    return [stmt]


def _split_custom_vjp(stmt: Assign, is_active, namer: Namer, calls: dict[int, ReverseCall],
                      copies: dict[str, Var]) -> list:
    call, obj = stmt.value, stmt.value.op.value
    obj.require_rule()
    require_positional(obj.fun)
    args = positional_args(obj.fun, dict(zip(params_of(obj.fun), call.args)) | dict(call.kwargs))
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
    args = positional_args(obj.fun, dict(zip(params_of(obj.fun), call.args)) | dict(call.kwargs))
    diff = [i for i in range(len(args)) if i not in obj.nondiff_argnums]
    linear = linearization(obj, len(args))
    zeros = []
    out: list[ir.Stmt] = [stmt]
    for i in diff:
        zero = Var(namer.temp())
        out.append(Assign(zero, Call(_runtime("zeros_like"), (args[i],)), stmt.line))
        zeros.append(zero)
    wrt = [f"t{i}" for i in diff if is_active(args[i])]
    fwd, _ = derivative(linear, VJP, tuple(wrt), FUN)
    bwd, _ = derivative(linear, VJP, tuple(wrt), BWD)
    pair, residuals = Var(namer.temp()), Var(namer.fresh("residuals"))
    linear_fwd = Call(callee_ref(fwd, obj.fun, "linear_fwd"), (*_passed(args, copies), *zeros))
    out.append(Assign(pair, linear_fwd, stmt.line))
    out.append(Assign(residuals, Call(_getitem(), (pair, Const(1))), stmt.line))
    outputs = [(k, args[int(name[1:])]) for k, name in enumerate(wrt)]
    calls[stmt.sid] = ReverseCall(stmt.target, residuals, callee_ref(bwd, obj.fun, "linear_bwd"), outputs)
    return out[1:] + [stmt]  # the primal call last: the transposed sweep reads the residuals


def linearization(obj, count: int):
    """`def linear(x0, .., t0, ..): return jvp((x0, ..), (t0, ..))[1]`, made once per arity."""
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
    cache[count] = define(source, filename, {"rule": obj.jvp}, [name])[0]
    return cache[count]


def _runtime(name: str) -> Ref:
    return runtime_ref(name)


SPLITTERS = {"function": _split_function, "checkpoint": _split_checkpoint,
             "custom_vjp": _split_custom_vjp, "custom_jvp": _split_custom_jvp}


def _getitem() -> Ref:
    return getitem_ref()
