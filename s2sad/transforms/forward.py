"""Stage 4a, forward mode: each active statement is followed by its tangent statement.

`y = np.sin(x)` gets `dy = dx * np.cos(x)`. Inactive variables have no tangent; a tangent known
to be zero stays symbolic (no zero arrays are allocated) until a value is needed: where two
branches meet or a loop carries it, the zero is materialised with `zeros_like`. Control flow is
copied as is. A tangent that is written in place (`dx[i] = dv`, `dl.append(dv)`) is first made
a private copy, so the caller's arrays are never modified.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field

from s2sad import runtime
from s2sad.analyses.activity import Activity
from s2sad.core import ir
from s2sad.core.ir import Assign, Atom, Call, Const, Pack, Ref, Var
from s2sad.core.modes import FUN, JVP
from s2sad.core.naming import Namer, runtime_ref
from s2sad.core.syntax import operator_ref
from s2sad.front.lower_expr import getitem_ref
from s2sad.transforms.base import TransformContext
from s2sad.transforms.calls import (
    ValueCall,
    active_params,
    callee_kind,
    callee_ref,
    derivative,
    positional_args,
    require_positional,
)
from s2sad.transforms.control import branch
from s2sad.transforms.derivs import Context, constructor_items
from s2sad.transforms.templates import tangent_term


@dataclass
class State:
    zero: set[str] = field(default_factory=set)
    """Active names whose tangent is a symbolic zero."""
    owned: set[str] = field(default_factory=set)
    """Active names whose tangent is a private array or list that may be mutated in place."""
    defined: set[str] = field(default_factory=set)
    """Names that may hold a value here."""

    def copy(self) -> State:
        return State(set(self.zero), set(self.owned), set(self.defined))

    def join(self, other: State) -> State:
        """Where two branches meet: zero or owned on both paths, defined on either."""
        return State(self.zero & other.zero, self.owned & other.owned, self.defined | other.defined)


class Forward:
    """Forward mode. Its hooks (`mode`, `suffix`, `zero`, `lift`, `pack`, `sum_op`) say what a
    tangent is; Taylor mode (`transforms.taylor`) overrides them to carry coefficient lists
    through the same sweep: the same control flow, containers, writes and calls."""

    mode = JVP
    """The mode of the callees' derivatives this sweep calls."""
    prefix, suffix = "d", ""
    """The derivative of `x` is named `dx`."""

    def __init__(self, fn: ir.Function, activity: Activity, namer: Namer, wrt: list[str],
                 containers: set[str] = frozenset()) -> None:
        self.ctx = Context(fn, activity, namer, self.prefix, suffix=self.suffix)
        self.containers = containers
        self.guarded: list[set[str]] = []
        """For each `try` block the sweep is in, the active names it assigns."""
        self.wrt = wrt
        self.state = State()

    def run(self) -> ir.Function:
        fn = self.ctx.fn
        tangent_params = [self.ctx.dname(x).name for x in self.wrt]
        active = self.ctx.activity.active
        self.state = State({p for p in fn.params if p in active and p not in self.wrt}, set(), set(fn.params))
        body = self.block(fn.body)
        return ir.Function(fn.name + "_" + self.name_suffix(), fn.params + tangent_params, body, fn.filename,
                           fn.firstline, fn.lines, set(fn.temps))

    def name_suffix(self) -> str:
        return "jvp"

    def block(self, body: list[ir.Stmt]) -> list[ir.Stmt]:
        out: list[ir.Stmt] = []
        for stmt in body:
            out += self.stmt(stmt)
        return out

    def stmt(self, stmt: ir.Stmt) -> list[ir.Stmt]:
        if isinstance(stmt, Assign):
            out = self.assign(stmt)
            self.state.defined.add(stmt.target.name)
            return out + (self.real_zeros(set().union(*self.guarded), stmt.line) if self.guarded else [])
        if isinstance(stmt, ir.Return):
            return self.ret(stmt)
        if isinstance(stmt, ir.If):
            return branch(self, stmt)
        if isinstance(stmt, (ir.For, ir.While)):
            return self.loop(stmt)
        if isinstance(stmt, ir.Guard):
            return self.guard(stmt)
        raise ir.unknown(stmt, "the forward transform")

    # ------------------------------------------------------------ helpers

    def active(self, atom: object) -> bool:
        return self.ctx.activity.is_active(atom)

    def tangent(self, atom: object) -> Var | None:
        """The tangent of an atom, or None when it is (symbolically) zero."""
        if self.active(atom) and atom.name not in self.state.zero:
            return self.ctx.dname(atom.name)
        return None

    def zero(self, atom: Atom) -> ir.Expr:
        """A real zero derivative of `atom`."""
        return Call(runtime_ref("zeros_like"), (atom,))

    def lift(self, call: Call) -> Call:
        """A call of a linear or structural op on derivatives (`dx[i]`, `[da, db]`, a write into
        `dx`): as it is for tangents."""
        return call

    def pack(self, items: tuple[Atom, ...]) -> ir.Expr:
        """The derivative of a tuple of values with these derivatives."""
        return Pack(items)

    def sum_op(self, target: str) -> Ref:
        """The op that adds two derivatives of `target`."""
        return runtime_ref("add") if target in self.containers else operator_ref(operator.add)

    def temp(self, value: ir.Expr, stmts: list[ir.Stmt], line: int) -> Var:
        var = Var(self.ctx.namer.temp())
        stmts.append(Assign(var, value, line))
        return var

    def materialize(self, atom: Atom, stmts: list[ir.Stmt], line: int) -> Atom:
        """The tangent of `atom` as a value: a zero of its shape when symbolically zero."""
        d = self.tangent(atom)
        return d if d is not None else self.temp(self.zero(atom), stmts, line)

    def zero_out(self, name: str, line: int) -> Assign:
        """`dname = zeros_like(name)`: a symbolic zero made real (and private)."""
        self.state.zero.discard(name)
        self.state.owned.add(name)
        return Assign(self.ctx.dname(name), self.zero(Var(name)), line)

    def set_tangent(self, target: str, value: Atom | None, line: int, owned: bool = False) -> list[ir.Stmt]:
        if value is None:
            self.state.zero.add(target)
            self.state.owned.discard(target)
            return []
        self.state.zero.discard(target)
        (self.state.owned.add if owned else self.state.owned.discard)(target)
        return [Assign(self.ctx.dname(target), value, line)]

    # ------------------------------------------------------------ assignments

    def assign(self, stmt: Assign) -> list[ir.Stmt]:
        target = stmt.target.name
        value = stmt.value
        if ir.is_inplace(value):
            return self.inplace(stmt)
        if target not in self.ctx.activity.active:
            return [stmt]
        stmts: list[ir.Stmt] = [stmt]
        if isinstance(value, Var):
            return stmts + self.set_tangent(target, self.tangent(value), stmt.line)
        items = constructor_items(value)
        if items is not None:
            return stmts + self.construct(stmt, items)
        if not isinstance(value, Call):
            return stmts + self.set_tangent(target, None, stmt.line)
        kind = callee_kind(value.op.value)
        if kind == "custom_jvp":
            return self.custom_jvp_call(stmt, value)
        if kind in ("custom_vjp", "checkpoint"):  # forward mode differentiates the function itself
            return self.user_call(stmt, Call(Ref(value.op.value.fun, value.op.path), value.args, value.kwargs))
        if kind == "function":
            return self.user_call(stmt, value)
        if kind == "value":
            return self.value_call(stmt, value)
        terms = self.terms(stmt, value, stmts)
        return stmts + self.combine(target, terms, stmt.line)

    def terms(self, stmt: Assign, value: Call, stmts: list[ir.Stmt]) -> list[Atom]:
        rule, bindings = self.ctx.rule_for(stmt, value)
        terms = []
        for param, atom in self.ctx.active_params(rule, bindings, stmt.line):
            d = self.tangent(atom)
            if d is not None:
                more, term = tangent_term(rule, param, bindings, d, stmt.target, self.ctx.namer, stmt.line)
                stmts += more
                terms.append(term)
        return terms

    def user_call(self, stmt: Assign, call: Call) -> list[ir.Stmt]:
        """`t = f(...)` of a user function: `t, dt = f_jvp(..., dx=...)`, its own forward mode."""
        fun = call.op.value
        wrt, bound = active_params(fun, call, self.active)
        if not any(self.tangent(a) is not None for a in ir.atoms_of(call)):
            return [stmt] + self.set_tangent(stmt.target.name, None, stmt.line)
        jvp, _ = derivative(fun, self.mode, tuple(wrt))
        stmts: list[ir.Stmt] = []
        tangents = tuple(self.materialize(bound[w], stmts, stmt.line) for w in wrt)
        args = positional_args(fun, bound) + tangents
        pair = self.temp(Call(callee_ref(jvp, fun, self.name_suffix()), args), stmts, stmt.line)
        stmts.append(Assign(stmt.target, Call(getitem_ref(), (pair, Const(0))), stmt.line))
        tangent = self.temp(Call(getitem_ref(), (pair, Const(1))), stmts, stmt.line)
        return stmts + self.set_tangent(stmt.target.name, tangent, stmt.line)

    def value_call(self, stmt: Assign, call: Call) -> list[ir.Stmt]:
        """`t = f(...)` of a function value known only when the code runs: `t, dt =
        call_value(f_jvp, ..., dx)` with `f_jvp = value_derivative(f, ...)` (see `runtime.dispatch`)."""
        where = self.ctx.where(stmt.line)
        value = ValueCall.of(call)
        wrt = tuple(i for i, a in enumerate(value.values) if self.active(a))
        if not any(self.tangent(value.values[i]) is not None for i in wrt):
            return [stmt] + self.set_tangent(stmt.target.name, None, stmt.line)
        stmts: list[ir.Stmt] = []
        jvp = self.temp(value.derivative(self.mode, wrt, FUN, where), stmts, stmt.line)
        tangents = tuple(self.materialize(value.values[i], stmts, stmt.line) for i in wrt)
        pair = self.temp(Call(runtime_ref("call_value"), (jvp, *value.values, *tangents)), stmts, stmt.line)
        stmts.append(Assign(stmt.target, Call(getitem_ref(), (pair, Const(0))), stmt.line))
        tangent = self.temp(Call(getitem_ref(), (pair, Const(1))), stmts, stmt.line)
        return stmts + self.set_tangent(stmt.target.name, tangent, stmt.line)

    def custom_jvp_call(self, stmt: Assign, call: Call) -> list[ir.Stmt]:
        """`t = f(...)` with a custom jvp: `t, dt = rule(*nondiff, primals, tangents)`."""
        obj = call.op.value
        obj.require_rule()
        require_positional(obj.fun)
        args = positional_args(obj.fun, active_params(obj.fun, call, self.active)[1])
        stmts: list[ir.Stmt] = []
        diff = [a for i, a in enumerate(args) if i not in obj.nondiff_argnums]
        primals = self.temp(Pack(tuple(diff)), stmts, stmt.line)
        tangents = self.temp(Pack(tuple(self.materialize(a, stmts, stmt.line) for a in diff)), stmts, stmt.line)
        nondiff = tuple(args[i] for i in obj.nondiff_argnums)
        rule = callee_ref(obj.jvp, obj.fun, "jvp_rule")
        pair = self.temp(Call(rule, (*nondiff, primals, tangents)), stmts, stmt.line)
        stmts.append(Assign(stmt.target, Call(getitem_ref(), (pair, Const(0))), stmt.line))
        tangent = self.temp(Call(getitem_ref(), (pair, Const(1))), stmts, stmt.line)
        return stmts + self.set_tangent(stmt.target.name, tangent, stmt.line)

    def combine(self, target: str, terms: list[Atom], line: int) -> list[ir.Stmt]:
        if not terms:
            return self.set_tangent(target, None, line)
        stmts: list[ir.Stmt] = []
        total = terms[0]
        op = self.sum_op(target)
        for term in terms[1:]:
            total = self.temp(Call(op, (total, term)), stmts, line)
        return stmts + self.set_tangent(target, total, line)

    def construct(self, stmt: Assign, items: tuple[Atom, ...]) -> list[ir.Stmt]:
        """`t = (a, b)`, `[a, b]`, `{k: a}`: the same constructor over the items' tangents."""
        if all(self.tangent(a) is None for a in items):
            return self.set_tangent(stmt.target.name, None, stmt.line)
        stmts: list[ir.Stmt] = []
        tangents = tuple(self.materialize(a, stmts, stmt.line) for a in items)
        value = stmt.value
        if isinstance(value, Pack):
            new: ir.Expr = self.pack(tangents)
        else:
            fixed = value.args[: len(value.args) - len(items)]
            new = self.lift(Call(value.op, fixed + tangents))
        return stmts + self.set_tangent(stmt.target.name, self.temp(new, stmts, stmt.line), stmt.line, owned=True)

    def inplace(self, stmt: Assign) -> list[ir.Stmt]:
        """Mutations: the same mutation applied to the (private) tangent of the container."""
        call = stmt.value
        container, op = call.args[0], call.op.value
        if op is runtime.set_attribute:
            self.ctx.refuse_active_attribute(stmt)
            return [stmt]
        if op in runtime.POPS:
            d = self.tangent(container)
            if d is None:
                return [stmt] + self.set_tangent(stmt.target.name, None, stmt.line)
            popped = self.lift(Call(call.op, (d,)))  # popped even when unused: the tangent list stays aligned
            if not self.active(stmt.target):
                return [stmt, Assign(Var(self.ctx.namer.temp()), popped, stmt.line)]
            self.state.zero.discard(stmt.target.name)
            return [stmt, Assign(self.ctx.dname(stmt.target.name), popped, stmt.line)]
        value = call.args[-1]
        if not self.active(container) or (self.tangent(container) is None and self.tangent(value) is None):
            return [stmt]
        stmts = self.own(container.name, stmt.line) + [stmt]
        dvalue = self.tangent(value)
        if dvalue is None:  # into an array, 0.0 broadcasts; into a list or dict, the item's own zero
            held = op is runtime.list_append or container.name in self.containers or (
                isinstance(value, Var) and value.name in self.containers)
            dvalue = self.temp(self.zero(value), stmts, stmt.line) if held else Const(0.0)
        dcontainer = self.ctx.dname(container.name)
        stmts.append(Assign(dcontainer, self.lift(Call(call.op, (dcontainer, *call.args[1:-1], dvalue))), stmt.line))
        return stmts

    def own(self, name: str, line: int) -> list[ir.Stmt]:
        """Make the tangent of `name` a private value that may be mutated (before the mutation)."""
        if name in self.state.zero:
            return [self.zero_out(name, line)]
        if name not in self.state.owned:
            self.state.owned.add(name)
            d = self.ctx.dname(name)
            stmts: list[ir.Stmt] = []
            return stmts + [Assign(d, self.temp(self.lift(Call(runtime_ref("copy_value"), (d,))), stmts, line), line)]
        return []

    # ------------------------------------------------------------ control flow

    def reconcile(self, branch: State, line: int) -> list[ir.Stmt]:
        """At the end of a branch, make real the zeros the joined state expects to be real."""
        return [Assign(self.ctx.dname(n), self.zero(Var(n)), line)
                for n in sorted(branch.zero - self.state.zero) if n in branch.defined]

    def loop(self, stmt: ir.For | ir.While) -> list[ir.Stmt]:
        """Generate the body until the tangent state at its start and end agree. A tangent the
        body leaves symbolically zero but the start expects real (`t = c` after `t = y * y` in
        an earlier trip) is made a real zero at the end of the body: the next trip reads it."""
        before: list[ir.Stmt] = []
        start = self.state.copy()
        while True:
            self.state = start.copy()
            if isinstance(stmt, ir.For):
                self.state.defined.add(stmt.target.name)
            test_body = self.block(stmt.test_body) if isinstance(stmt, ir.While) else []
            after_test = self.state.copy()
            body = self.block(stmt.body)
            end = self.state
            carried = sorted(n for n in start.zero - end.zero if n in start.defined)
            unowned = start.owned - end.owned
            if not carried and not unowned:
                break
            for name in carried:
                before.append(Assign(self.ctx.dname(name), self.zero(Var(name)), stmt.line))
                start.zero.discard(name)
                start.owned.add(name)
            start.owned -= unowned
        body += self.loop_end(start, end, stmt.line)
        exit_state = after_test if isinstance(stmt, ir.While) else start
        self.state = State(set(exit_state.zero), exit_state.owned & end.owned, start.defined | end.defined)
        if isinstance(stmt, ir.For):
            return before + [ir.For(stmt.target, stmt.iter, body, stmt.line)]
        return before + [ir.While(test_body, stmt.test, body, stmt.line)]

    def loop_end(self, start: State, end: State, line: int) -> list[ir.Stmt]:
        """Real zeros, at the end of a loop body, for the tangents `end` has symbolically zero
        and `start` real (every such name was assigned in the body, so it is defined here)."""
        names = sorted(end.zero - start.zero)
        end.zero -= set(names)
        end.owned |= set(names)
        return [Assign(self.ctx.dname(n), self.zero(Var(n)), line) for n in names]

    def guard(self, stmt: ir.Guard) -> list[ir.Stmt]:
        """A `try` block may stop after any of its statements: each tangent the block assigns is
        real before it and after each of its assignments (never a symbolic zero the code after
        the block could not tell from a stale value), and the tangent code runs in the guard."""
        names = ir.assigned(stmt.body) & self.ctx.activity.active
        before = self.real_zeros(names, stmt.line)
        start = self.state.copy()
        self.guarded.append(names)
        try:
            body = self.block(stmt.body)
        finally:
            self.guarded.pop()
        self.state = self.state.join(start)
        return before + [ir.Guard(stmt.manager, stmt.counter, body, stmt.line)]

    def real_zeros(self, names: set[str], line: int) -> list[ir.Stmt]:
        return [self.zero_out(n, line) for n in sorted(names & self.state.zero & self.state.defined)]

    # ------------------------------------------------------------ return

    def ret(self, stmt: ir.Return) -> list[ir.Stmt]:
        """`return out` becomes `return out, dout`; a tuple output gets a tuple of tangents."""
        value, line = stmt.value, stmt.line
        stmts: list[ir.Stmt] = []
        if isinstance(value, Pack):
            out = self.temp(value, stmts, line)
            dout = self.temp(self.pack(tuple(self.materialize(a, stmts, line) for a in value.items)), stmts, line)
        else:
            out, dout = value, self.materialize(value, stmts, line)
        return stmts + [ir.Return(Pack((out, dout)), line)]


def transform(primal: ir.Function, ctx: TransformContext) -> ir.Function:
    """Forward mode of `primal` (see `transforms.base`): `f_jvp(*params, *tangents)`."""
    return Forward(primal, ctx.activity, ctx.namer, list(ctx.request.wrt), set(ctx.containers)).run()
