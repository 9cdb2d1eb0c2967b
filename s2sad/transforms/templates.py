"""Instantiate one rule for one statement: rename the template's names, drop inactive terms.

A template is a plain Python function (see `s2sad.rules.registry`). It is parsed and lowered to
IR once, by the same lowering as user code, then copied for each statement it serves with its
parameters replaced by that statement's atoms and its locals given fresh names.
"""

from __future__ import annotations

import inspect
import operator
from collections.abc import Callable
from functools import cache

from s2sad.core import ir
from s2sad.core.ir import Assign, Atom, Call, Const, Pack, Ref, Var
from s2sad.core.modes import BWD, FUN, VJP
from s2sad.core.naming import Namer, runtime_ref
from s2sad.core.syntax import is_const, operator_ref
from s2sad.errors import MissingRule
from s2sad.front.lower import lower
from s2sad.front.lower_expr import getitem_ref
from s2sad.front.parse import parse
from s2sad.rules.registry import DEFAULT, PACK, Rule, _elementwise_params, binding_plan
from s2sad.transforms.calls import callee_ref, derivative


@cache
def template_ir(fn: Callable) -> ir.Function:
    return lower(parse(fn), user_code=False)


def instantiate(fn: Callable, bindings: dict[str, Atom], namer: Namer, line: int) -> tuple[list[ir.Stmt], Atom | Pack]:
    """The template's statements for one use, and the atom (or Pack) holding its result."""
    tmpl = template_ir(fn)
    env: dict[str, Atom] = {}
    for param in tmpl.params:
        if param not in bindings:
            raise KeyError(f"template {fn.__qualname__} reads {param!r}, which the rule does not bind")
        env[param] = bindings[param]
    out: list[ir.Stmt] = []
    for stmt in tmpl.body:
        if isinstance(stmt, ir.Return):
            return out, _subst(stmt.value, env)
        if not isinstance(stmt, Assign):
            raise TypeError(f"template {fn.__qualname__} must be straight-line code")
        value = _subst(stmt.value, env)
        if isinstance(value, (Var, Const, Ref)):
            env[stmt.target.name] = value
            continue
        new = Var(namer.temp())
        env[stmt.target.name] = new
        out.append(Assign(new, value, line))
    raise TypeError(f"template {fn.__qualname__} has no return")


def _subst(expr, env: dict[str, Atom]):
    def atom(a: Atom) -> Atom:
        return env.get(a.name, a) if isinstance(a, Var) else a

    if isinstance(expr, Call):
        return Call(expr.op, tuple(atom(a) for a in expr.args), tuple((k, atom(a)) for k, a in expr.kwargs))
    if isinstance(expr, Pack):
        return Pack(tuple(atom(a) for a in expr.items))
    return atom(expr)


# ------------------------------------------------------------------ binding a call to a rule


def bind(rule: Rule, call: Call, where) -> dict[str, Atom]:
    """Map the rule's parameter names to the call's atoms, defaults filled in. `where`: the
    location of the call for the error, or a function that finds it (asked only then)."""
    kwargs = dict(call.kwargs)
    plan = binding_plan(rule, len(call.args), tuple(kwargs))
    if plan is None:
        try:
            rule.signature.bind(*call.args, **kwargs)
        except TypeError as err:
            raise MissingRule(f"cannot match the call of {rule.name} to its rule: {err}",
                              where() if callable(where) else where,
                              hint="pass arguments the way the NumPy documentation shows") from None
    out: dict[str, Atom] = {}
    for name, how, what in plan:
        if how is PACK:
            out[name] = Pack(tuple(call.args[i] for i in what))  # type: ignore[assignment]
            continue
        value = what if how is DEFAULT else call.args[what] if type(what) is int else kwargs[what]
        out[name] = value if isinstance(value, (Var, Const, Ref, Pack)) else Const(value)
    return out


# ------------------------------------------------------------------ one term of one rule


def tangent_term(rule: Rule, param: str, bindings: dict[str, Atom], dparam: Atom, out: Atom,
                 namer: Namer, line: int) -> tuple[list[ir.Stmt], Atom]:
    """Statements computing the tangent contribution of `param` to `out`."""
    env = {**bindings, "out": out}
    if param in rule.tangents:
        fn = rule.tangents[param]
        return _finish(instantiate(fn, {**env, _first(fn): dparam}, namer, line), namer, line)
    if param in rule.linear:
        return _finish(([], linear_call(rule, param, bindings, dparam)), namer, line)
    if rule.partials is None:
        raise MissingRule(f"{rule.name} has no forward-mode rule for its argument {param!r}", None,
                          hint=f"register one with s2sad.defjvp({rule.name}, ...)")
    stmts, partial = _partial(rule, param, env, namer, line)
    return _scale(stmts, dparam, partial, namer, line, rule.strong)


def linear_call(rule: Rule, param: str, bindings: dict[str, Atom], dparam: Atom) -> Call:
    """The op itself on the derivative `dparam` in place of `param` (an op linear in `param`)."""
    args = dict(bindings)
    args[param] = dparam
    return Call(rule.ref, tuple(args[p] for p in _positional_names(rule, args)), _keywords(rule, args))


def partial_of(rule: Rule, param: str, env: dict[str, Atom], namer: Namer, line: int):
    """The statements and the atom of an elementwise rule's partial derivative in `param`."""
    return _partial(rule, param, env, namer, line)


def adjoint_term(rule: Rule, param: str, bindings: dict[str, Atom], g: Atom, out: Atom,
                 namer: Namer, line: int) -> tuple[list[ir.Stmt], Atom]:
    """Statements computing the adjoint contribution to `param` from the cotangent `g` of `out`."""
    env = {**bindings, "out": out}
    if param in rule.adjoints:
        fn = rule.adjoints[param]
        return _finish(instantiate(fn, {**env, _first(fn): g}, namer, line), namer, line)
    if param in rule.tangents:
        return _transposed(rule.tangents[param], env, g, bindings[param], namer, line)
    if rule.partials is None:
        raise MissingRule(f"{rule.name} has no reverse-mode rule for its argument {param!r}", None,
                          hint=f"register one with s2sad.defvjp({rule.name}, ...)")
    stmts, partial = _partial(rule, param, env, namer, line)
    stmts, term = _scale(stmts, g, partial, namer, line, rule.strong)
    if len(_elementwise_params(rule)) > 1:
        stmts, term = _finish((stmts, Call(runtime_ref("unbroadcast"), (term, bindings[param]))), namer, line)
    return stmts, term


def _transposed(tangent: Callable, env: dict[str, Atom], g: Atom, like: Atom, namer: Namer,
                line: int) -> tuple[list[ir.Stmt], Atom]:
    """An adjoint from a tangent rule alone: reverse mode of the rule, which is linear in its
    first argument (the tangent), taken at a zero tangent: `bx = tangent_rule^T g`."""
    names = _params(tangent)
    fwd, _ = derivative(tangent, VJP, (names[0],), FUN)
    bwd, _ = derivative(tangent, VJP, (names[0],), BWD)
    stmts: list[ir.Stmt] = []

    def temp(value: ir.Expr) -> Var:
        var = Var(namer.temp())
        stmts.append(Assign(var, value, line))
        return var

    zero = temp(Call(runtime_ref("zeros_like"), (like,)))
    pair = temp(Call(callee_ref(fwd, tangent, "fwd"), (zero, *(env[n] for n in names[1:]))))
    residuals = temp(Call(getitem_ref(), (pair, Const(1))))
    grads = temp(Call(callee_ref(bwd, tangent, "bwd"), (residuals, g)))
    return stmts, temp(Call(getitem_ref(), (grads, Const(0))))


def accumulate_term(rule: Rule, param: str, bindings: dict[str, Atom], badj: Atom, g: Atom,
                    namer: Namer, line: int) -> tuple[list[ir.Stmt], ir.Expr]:
    """Statements adding the cotangent `g` into the private adjoint `badj` of `param`, in place."""
    fn = rule.accumulate[param]
    names = _params(fn)
    env = {**bindings, names[0]: badj, names[1]: g}
    stmts, result = instantiate(fn, env, namer, line)
    if stmts and isinstance(stmts[-1], Assign) and stmts[-1].target == result:
        return stmts[:-1], stmts[-1].value  # the in-place call itself, to assign to `badj`
    return stmts, result


def _partial(rule: Rule, param: str, env: dict[str, Atom], namer: Namer, line: int):
    stmts, result = instantiate(rule.partials, env, namer, line)
    if isinstance(result, Pack):
        result = result.items[_elementwise_params(rule).index(param)]
    return stmts, result


def _scale(stmts: list[ir.Stmt], d: Atom, partial: Atom, namer: Namer, line: int, strong: str = ""):
    if strong:  # strong_mul(d, p) or strong_div(d, q): see `Rule.strong`
        return _finish((stmts, Call(runtime_ref("strong_" + strong), (d, partial))), namer, line)
    if is_const(partial, 1):
        return stmts, d
    if is_const(partial, -1):
        return _finish((stmts, Call(operator_ref(operator.neg), (d,))), namer, line)
    return _finish((stmts, Call(operator_ref(operator.mul), (d, partial))), namer, line)


def _finish(result, namer: Namer, line: int) -> tuple[list[ir.Stmt], Atom]:
    stmts, value = result
    if isinstance(value, (Var, Const, Ref)):
        return stmts, value
    tmp = Var(namer.temp())
    return stmts + [Assign(tmp, value, line)], tmp


def _first(fn: Callable) -> str:
    return _params(fn)[0]


@cache
def _params(fn: Callable) -> tuple[str, ...]:
    """A rule function's parameter names (asked for every use of the rule: kept)."""
    return tuple(inspect.signature(fn).parameters)


def _positional_names(rule: Rule, args: dict) -> list[str]:
    return [n for n, p in rule.signature.parameters.items()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is inspect.Parameter.empty]


def _keywords(rule: Rule, args: dict[str, Atom]) -> tuple[tuple[str, Atom], ...]:
    out = []
    for n, p in rule.signature.parameters.items():
        if p.default is not inspect.Parameter.empty and n in args:
            value = args[n]
            if not (isinstance(value, Const) and type(value.value) is type(p.default) and value.value == p.default):
                out.append((n, value))
    return tuple(out)
