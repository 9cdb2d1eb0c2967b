"""Stage 4c, Taylor mode: one forward sweep carries truncated Taylor series to order K.

Each active value `x` gets the list of its Taylor coefficients `x_c = [x_1, ..., x_K]` (see
`runtime.series`): `y = np.sin(x)` is followed by `y_c = series_sin(x, x_c, y)`, the recurrence
of sin, one loop over k. The sweep is forward mode's (`forward.Forward`): the same symbolic
zeros, control flow, containers (a container's coefficients are containers), writes and calls of
user functions, which call the callee's own Taylor code (`f_taylor3(x, x_c)`); only what a
derivative is differs, through forward mode's hooks.

The coefficient list of one statement comes, per op, from:

- the op's Taylor template (`Rule.taylor`): the recurrences of products, quotients, powers,
  exp, log, sin/cos, tanh, sqrt...;
- a linear op: the op on each coefficient (`series_map(np.sum, x_c, axis=0)`);
- `taylor="each"`: the tangent rule on each coefficient (an op affine where it is evaluated);
- otherwise a composition through the op's first-order rule: along the path, y' = T(x', x)
  with T the tangent rule (for an elementwise op, x'·g(x) with g its partial), so the
  coefficients of y are those of T(x'(t), x(t)) integrated, and those come from T's own Taylor
  code one order lower (a callee built through `derive`). That is exact for any T that does not
  read the op's result `out`; for one that does, the op needs a Taylor template, and without
  one the transform raises MissingRule naming the op and the order.
"""

from __future__ import annotations

import inspect
import operator
from collections.abc import Callable

from s2sad import runtime
from s2sad.core import ir
from s2sad.core.ir import Assign, Atom, Call, Const, Ref, Var
from s2sad.core.modes import taylor_mode, taylor_order
from s2sad.core.naming import runtime_ref
from s2sad.core.syntax import operator_ref
from s2sad.errors import MissingRule
from s2sad.front.lower_expr import getitem_ref
from s2sad.rules.registry import Rule, _elementwise_params
from s2sad.transforms.base import TransformContext
from s2sad.transforms.calls import callee_ref, derivative
from s2sad.transforms.forward import Forward
from s2sad.transforms.templates import instantiate, linear_call, partial_of


class Taylor(Forward):
    prefix, suffix = "", "_c"

    def __init__(self, primal: ir.Function, ctx: TransformContext) -> None:
        self.mode = ctx.request.mode
        self.order = taylor_order(ctx.request.mode)
        super().__init__(primal, ctx.activity, ctx.namer, list(ctx.request.wrt), set(ctx.containers))

    def name_suffix(self) -> str:
        return f"taylor{self.order}"

    # ------------------------------------------------------------ forward mode's hooks

    def zero(self, atom: Atom) -> ir.Expr:
        return Call(runtime_ref("series_zeros"), (atom, Const(self.order)))

    def lift(self, call: Call) -> Call:
        if call.op.value in runtime.POPS:
            return Call(runtime_ref("series_pop"), (call.args[0], call.op, *call.args[1:]), call.kwargs)
        if ir.is_inplace(call):
            return Call(runtime_ref("series_inplace"), (call.args[0], call.op, *call.args[1:]), call.kwargs)
        return Call(runtime_ref("series_map"), (call.op, *call.args), call.kwargs)

    def pack(self, items: tuple[Atom, ...]) -> ir.Expr:
        return Call(runtime_ref("series_pack"), items)

    def sum_op(self, target: str) -> Ref:
        return runtime_ref("series_add")

    def custom_jvp_call(self, stmt: Assign, call: Call) -> list[ir.Stmt]:
        raise MissingRule(f"{call.op.dotted} has a custom jvp, a first derivative only: Taylor mode to order "
                          f"{self.order} needs its higher ones", self.ctx.where(stmt.line),
                          hint="differentiate the function itself (remove the custom rule), or use s2sad.jvp")

    # ------------------------------------------------------------ one op

    def terms(self, stmt: Assign, value: Call, stmts: list[ir.Stmt]) -> list[Atom]:
        rule, bindings = self.ctx.rule_for(stmt, value)
        moving = [(p, a) for p, a in self.ctx.active_params(rule, bindings, stmt.line) if self.tangent(a) is not None]
        if not moving or self.order == 0:
            return []
        if callable(rule.taylor):
            return [self.hand(rule, bindings, stmt, stmts)]
        products = [p for p, _ in moving if p in rule.linear]
        if len(products) > 1:  # linear in each of them: a product
            terms = [self.product(rule, products, bindings, stmt, stmts)]
            terms += [self.term(rule, p, bindings, stmt, stmts) for p, _ in moving if p not in products]
        else:
            terms = [self.term(rule, p, bindings, stmt, stmts) for p, _ in moving]
        parts = [t for t in terms if isinstance(t, ir.Pack)]
        if not parts:
            return terms
        fixed = self.combine_atoms([t for t in terms if not isinstance(t, ir.Pack)], stmts, stmt.line)
        parts = [self.temp(part, stmts, stmt.line) for part in parts]
        call = Call(runtime_ref("series_through"), (Const(self.order), stmt.target, fixed, *parts))
        return [self.temp(call, stmts, stmt.line)]

    def combine_atoms(self, terms: list[Atom], stmts: list[ir.Stmt], line: int) -> Atom:
        if not terms:
            return Const(None)
        total = terms[0]
        for term in terms[1:]:
            total = self.temp(Call(runtime_ref("series_add"), (total, term)), stmts, line)
        return total

    def series_of(self, atom: object) -> Atom:
        """The coefficient list of an atom, or the constant None when it does not move."""
        return self.tangent(atom) or Const(None)

    def hand(self, rule: Rule, bindings: dict[str, Atom], stmt: Assign, stmts: list[ir.Stmt]) -> Atom:
        """The op's own Taylor template, with `<p>_c` bound to each input's coefficient list."""
        env = {**bindings, "out": stmt.target}
        env.update({f"{p}_c": self.series_of(a) for p, a in bindings.items()})
        more, result = instantiate(rule.taylor, env, self.ctx.namer, stmt.line)
        stmts += more
        return result if not isinstance(result, ir.Pack) else self.temp(result, stmts, stmt.line)

    def term(self, rule: Rule, param: str, bindings: dict[str, Atom], stmt: Assign,
             stmts: list[ir.Stmt]) -> Atom | ir.Pack:
        """The coefficients `param`'s motion gives the output; for a term that reads the output
        itself, what `series_through` needs to find them (see `part`)."""
        series = self.tangent(bindings[param])
        if param in rule.linear:
            return self.temp(self.lift(linear_call(rule, param, bindings, series)), stmts, stmt.line)
        if rule.taylor == "each":
            return self.each(rule, param, bindings, series, stmt, stmts)
        if param in rule.tangents:
            return self.through_tangent(rule, param, bindings, series, stmt, stmts)
        if rule.partials is not None:
            return self.through_partial(rule, param, bindings, series, stmt, stmts)
        raise self.missing(rule, stmt, f"it has no first-order rule for its argument {param!r}")

    def product(self, rule: Rule, params: list[str], bindings: dict[str, Atom], stmt: Assign,
                stmts: list[ir.Stmt]) -> Atom:
        """`series_multilinear(op, (x, y), x_c, y_c)`: the Cauchy product of an op linear in each
        of its moving arguments (forward mode's terms, one per argument, are its first order)."""
        call = linear_call(rule, params[0], bindings, self.tangent(bindings[params[0]]))
        for param in params[1:]:
            call = linear_call(rule, param, _rebound(rule, call, bindings), self.tangent(bindings[param]))
        values = self.temp(ir.Pack(tuple(bindings[p] for p in params)), stmts, stmt.line)
        return self.temp(Call(runtime_ref("series_multilinear"), (call.op, values, *call.args), call.kwargs),
                         stmts, stmt.line)

    def each(self, rule: Rule, param: str, bindings: dict[str, Atom], series: Var, stmt: Assign,
             stmts: list[ir.Stmt]) -> Atom:
        """`series_each(rule, x_c, ...)`: the tangent rule on each coefficient."""
        env = {**bindings, "out": stmt.target}
        if param in rule.tangents:
            fn = rule.tangents[param]
            args = tuple(env[n] for n in _params(fn)[1:])
            ref = Ref(fn, (f"{rule.path[-1]}_d{param}",))
            return self.temp(Call(runtime_ref("series_each"), (ref, series, *args)), stmts, stmt.line)
        more, partial = partial_of(rule, param, env, self.ctx.namer, stmt.line)
        stmts += more
        return self.temp(Call(runtime_ref("series_scale"), (series, partial)), stmts, stmt.line)

    # ------------------------------------------------------------ composition through a first-order rule

    def through_tangent(self, rule: Rule, param: str, bindings: dict[str, Atom], series: Var, stmt: Assign,
                        stmts: list[ir.Stmt]) -> Atom:
        """y' = T(x', x): T's Taylor code one order lower, on the velocity's series, integrated."""
        fn, line = rule.tangents[param], stmt.line
        names = _params(fn)
        env = {**bindings, "out": stmt.target}
        env[names[0]] = self.temp(Call(runtime_ref("series_head"), (series,)), stmts, line)
        moving = (names[0], *self.moving(names[1:], env))
        lower = [self.temp(Call(runtime_ref("series_slope"), (series,)), stmts, line)]
        lower += self.truncated(moving[1:], env, stmts, line)
        code = self.lower_code(rule, fn, moving, stmt)
        args = tuple(env[n] for n in names)
        if "out" in moving:  # T reads y itself: its coefficients are found one by one
            return self.part(code, args, lower, moving.index("out"), Const(None), stmts, line)
        value, coefs = self.lower_call(code, args, lower, stmts, line)
        return self.temp(Call(runtime_ref("series_integral"), (value, coefs)), stmts, line)

    def through_partial(self, rule: Rule, param: str, bindings: dict[str, Atom], series: Var, stmt: Assign,
                        stmts: list[ir.Stmt]) -> Atom:
        """y' = x'·g(x) (or x' / q(x), `strong="div"`): the partial's Taylor code one order
        lower, times the velocity's series, integrated."""
        fn, line = rule.partials, stmt.line
        names = _params(fn)
        env = {**bindings, "out": stmt.target}
        moving = self.moving(names, env)
        lower = self.truncated(moving, env, stmts, line)
        params = _elementwise_params(rule)
        index = params.index(param) if len(params) > 1 else None
        args = tuple(env[n] for n in names)
        if "out" in moving:
            code = self.lower_code(rule, fn, moving, stmt)
            how = self.temp(ir.Pack((Const(index), series, Const(rule.strong))), stmts, line)
            return self.part(code, args, lower, moving.index("out"), how, stmts, line)
        if moving:
            g, gs = self.lower_call(self.lower_code(rule, fn, moving, stmt), args, lower, stmts, line)
        else:
            g, gs = self.temp(Call(Ref(fn, (f"{rule.path[-1]}_partial",)), args), stmts, line), Const(None)
        if index is not None:  # the partials of all inputs, a tuple: this input's
            g = self.temp(Call(getitem_ref(), (g, Const(index))), stmts, line)
            if moving:
                gs = self.temp(Call(runtime_ref("series_map"), (getitem_ref(), gs, Const(index))), stmts, line)
        head = self.temp(Call(runtime_ref("series_head"), (series,)), stmts, line)
        slope = self.temp(Call(runtime_ref("series_slope"), (series,)), stmts, line)
        combine = "series_div" if rule.strong == "div" else "series_mul"
        first = Call(runtime_ref("strong_" + rule.strong), (head, g)) if rule.strong else Call(_mul_ref(), (head, g))
        value = self.temp(first, stmts, line)
        coefs = self.temp(Call(runtime_ref(combine), (head, slope, g, gs)), stmts, line)
        return self.temp(Call(runtime_ref("series_integral"), (value, coefs)), stmts, line)

    def moving(self, names: tuple[str, ...], env: dict[str, Atom]) -> tuple[str, ...]:
        """The names among `names` bound to values that move along the path (`out` does)."""
        return tuple(n for n in names if n == "out" or self.tangent(env[n]) is not None)

    def truncated(self, names: tuple[str, ...], env: dict[str, Atom], stmts: list[ir.Stmt], line: int) -> list[Atom]:
        """The coefficient lists of `names` one order shorter (`out`'s is found as it goes: a
        placeholder, None)."""
        return [Const(None) if n == "out" else
                self.temp(Call(runtime_ref("series_trunc"), (self.tangent(env[n]),)), stmts, line) for n in names]

    def lower_code(self, rule: Rule, fn: Callable, moving: tuple[str, ...], stmt: Assign) -> Ref:
        """A reference to the Taylor code of `fn` one order lower, in the `moving` parameters."""
        try:
            code, _ = derivative(fn, taylor_mode(self.order - 1), moving)
        except MissingRule as err:
            raise self.missing(rule, stmt, f"composing through its first-order rule needs {err.message}") from None
        return callee_ref(code, fn, f"taylor{self.order - 1}")

    def lower_call(self, code: Ref, args: tuple[Atom, ...], lower: list[Atom], stmts: list[ir.Stmt],
                   line: int) -> tuple[Atom, Atom]:
        """`code(*args, *lower)`: a value and its coefficient list."""
        pair = self.temp(Call(code, args + tuple(lower)), stmts, line)
        value = self.temp(Call(getitem_ref(), (pair, Const(0))), stmts, line)
        return value, self.temp(Call(getitem_ref(), (pair, Const(1))), stmts, line)

    def part(self, code: Ref, args: tuple[Atom, ...], lower: list[Atom], at: int, how: Atom,
             stmts: list[ir.Stmt], line: int) -> ir.Pack:
        """A term that reads the op's result: `(code, args, series, at, how)` for `series_through`."""
        packed = self.temp(ir.Pack(args), stmts, line)
        series = self.temp(ir.Pack(tuple(lower)), stmts, line)
        return ir.Pack((code, packed, series, Const(at), how))

    def missing(self, rule: Rule, stmt: Assign, why: str) -> MissingRule:
        return MissingRule(f"no Taylor rule for {rule.name} to order {self.order}: {why}",
                           self.ctx.where(stmt.line),
                           hint=f"give {rule.name} a `taylor` template beside its other rules (see "
                                "docs/higher-order.md), or wrap the value in s2sad.stop_gradient if no derivative "
                                "should flow through it")


def _rebound(rule: Rule, call: Call, bindings: dict[str, Atom]) -> dict[str, Atom]:
    """The bindings of `call` (a call of the rule's op) by parameter name."""
    out = dict(bindings)
    out.update(dict(zip(_positional(rule), call.args)))
    out.update(dict(call.kwargs))
    return out


def _positional(rule: Rule) -> list[str]:
    return [n for n, p in rule.signature.parameters.items()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is inspect.Parameter.empty]


def _params(fn: Callable) -> tuple[str, ...]:
    return tuple(inspect.signature(fn).parameters)


def _mul_ref() -> Ref:
    return operator_ref(operator.mul)


def transform(primal: ir.Function, ctx: TransformContext) -> ir.Function:
    """Taylor mode of `primal` to the request's order (see `transforms.base`):
    `f_taylor<K>(*params, *coefficient_lists) -> (out, out_c)`."""
    return Taylor(primal, ctx).run()
