"""The adjoint of one assignment, for the reverse transform (a mixin of `reverse.Reverse`).

Each kind of statement has one helper: a copy, a call with a rule (one term per active input),
a display (`(a, b)`, `[a, b]`, `{k: a}`: each item's adjoint is its slot of the cotangent) and
the in-place writes (`x[i] = v`, `append`, `pop`). `State` is the adjoint of every active name
at this point of the sweep: a variable, or None for a symbolic zero.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field

from s2sad import runtime
from s2sad.core import ir
from s2sad.core.ir import Assign, Atom, Call, Const, Var
from s2sad.core.naming import runtime_ref
from s2sad.core.syntax import operator_ref
from s2sad.front.lower_expr import getitem_ref
from s2sad.transforms.derivs import constructor_items, constructor_slots
from s2sad.transforms.templates import accumulate_term, adjoint_term


@dataclass
class State:
    adj: dict[str, Var | None] = field(default_factory=dict)
    owned: set[str] = field(default_factory=set)
    """Names whose adjoint is a private value the sweep may mutate in place."""
    mutated: set[str] = field(default_factory=set)
    """Names whose adjoint was mutated in place since the start of the enclosing loop body."""

    def copy(self) -> State:
        return State(dict(self.adj), set(self.owned), set(self.mutated))

    def live(self) -> set[str]:
        return {name for name, var in self.adj.items() if var is not None}

    def join(self, other: State) -> State:
        names = self.live() | other.live()
        adj = {n: self.adj.get(n) or other.adj.get(n) for n in names}
        return State(adj, self.owned & other.owned, self.mutated | other.mutated)


class AdjointStatements:
    """Needs from the host: ctx (derivs.Context), state (State), containers and structured
    (sets of names), zeroed (a set of names, filled by `zero_out`)."""

    def temp(self, value: ir.Expr, stmts: list, line: int) -> Var:
        var = Var(self.ctx.namer.temp())
        stmts.append(Assign(var, value, line))
        return var

    def getitem(self) -> ir.Ref:
        return getitem_ref()

    def active(self, atom: object) -> bool:
        return self.ctx.activity.is_active(atom)

    # ------------------------------------------------------------ adjoint variables

    def accumulate(self, var: Atom, term: Atom, stmts: list, line: int) -> None:
        """Add `term` to the adjoint of `var`: the first contribution assigns."""
        if not self.active(var):
            return
        name = var.name
        badj = self.ctx.dname(name)
        current = self.state.adj.get(name)
        if current is None:
            stmts.append(Assign(badj, term, line))
            self.state.owned.discard(name)
        else:
            op = runtime_ref("add") if name in self.containers else operator_ref(operator.add)
            total = self.temp(Call(op, (current, term)), stmts, line)
            stmts.append(Assign(badj, total, line))
            self.state.owned.add(name)
        self.state.adj[name] = badj

    def kill(self, name: str) -> None:
        """The value `name` held is consumed: its adjoint is zero from here on."""
        self.state.adj[name] = None
        self.state.owned.discard(name)

    def zero_out(self, name: str, line: int, state: State | None) -> Assign:
        """`bname = zeros_like(name)`; with a state, record it there as live and private."""
        badj = self.ctx.dname(name)
        self.zeroed.add(name)
        if state is not None:
            state.adj[name] = badj
            state.owned.add(name)
        return Assign(badj, Call(runtime_ref("zeros_like"), (Var(name),)), line)

    def private_copy(self, name: str, line: int, state: State) -> list:
        badj = state.adj[name]
        state.owned.add(name)
        stmts: list = []
        return stmts + [Assign(badj, self.temp(Call(runtime_ref("copy_value"), (badj,)), stmts, line), line)]

    def own(self, name: str, stmts: list, line: int) -> Var:
        """The adjoint of `name` as a private value that may be mutated in place."""
        self.state.mutated.add(name)
        if self.state.adj.get(name) is None:
            stmts.append(self.zero_out(name, line, self.state))
        elif name not in self.state.owned:
            badj = self.ctx.dname(name)
            stmts.append(Assign(badj, self.temp(Call(runtime_ref("copy_value"), (badj,)), stmts, line), line))
            self.state.owned.add(name)
        return self.ctx.dname(name)

    # ------------------------------------------------------------ statements

    def assign(self, stmt: Assign) -> list:
        if stmt.sid in self.calls:
            return self.user_call(stmt, self.calls[stmt.sid])
        if ir.is_inplace(stmt.value):
            return self.inplace(stmt)
        stmts: list = []
        target = stmt.target.name
        g = self.state.adj.get(target)
        terms: list[tuple[Var, Atom]] = []
        if g is not None:
            terms = self.terms(stmt, g, stmts)
        self.kill(target)
        for var, term in terms:
            self.accumulate(var, term, stmts, stmt.line)
        return stmts

    def terms(self, stmt: Assign, g: Var, stmts: list) -> list[tuple[Var, Atom]]:
        value = stmt.value
        if isinstance(value, Var):
            return [(value, g)]
        items = constructor_items(value)
        if items is not None:
            return self.item_terms(value, items, g, stmts, stmt.line)
        if not isinstance(value, Call):
            return []
        rule, bindings = self.ctx.rule_for(stmt, value)
        out = []
        for param, var in self.ctx.active_params(rule, bindings, stmt.line):
            if param in rule.accumulate:
                self.accumulate_into(rule, param, bindings, g, var, stmts, stmt.line)
                continue
            more, term = adjoint_term(rule, param, bindings, g, stmt.target, self.ctx.namer, stmt.line)
            stmts += more
            out.append((var, term))
        return out

    def item_terms(self, value: ir.Expr, items: tuple, g: Var, stmts: list, line: int) -> list:
        out = []
        read = runtime_ref("attribute_of") if isinstance(value, Call) and value.op.value is runtime.make_record \
            else self.getitem()
        for item, slot in zip(items, constructor_slots(value)):
            if self.active(item):
                out.append((item, self.temp(Call(read, (g, slot)), stmts, line)))
        return out

    def accumulate_into(self, rule, param: str, bindings: dict, g: Var, var: Var, stmts: list, line: int) -> None:
        """`x[i]` and the like: add the adjoint into a private `bx` in place (no zero array per read)."""
        badj = self.own(var.name, stmts, line)
        more, result = accumulate_term(rule, param, {**bindings, param: var}, badj, g, self.ctx.namer, line)
        stmts += more
        stmts.append(Assign(badj, result, line))

    def user_call(self, stmt: Assign, call) -> list:
        """`t = f(...)` of a user function: its own adjoint sweep, `f_bwd(residuals, bt)`."""
        stmts: list = []
        g = self.state.adj.get(call.target.name)
        self.kill(call.target.name)
        if g is None:
            return stmts
        residuals = call.residuals
        if call.recompute is not None:  # a checkpoint: run the callee's forward sweep again
            pair = self.temp(call.recompute, stmts, stmt.line)
            residuals = self.temp(Call(self.getitem(), (pair, Const(1))), stmts, stmt.line)
        grads = self.temp(Call(call.bwd, (*call.extra, residuals, g)), stmts, stmt.line)
        for i, atom in call.outputs:
            part = self.temp(Call(self.getitem(), (grads, Const(i))), stmts, stmt.line)
            self.accumulate(atom, part, stmts, stmt.line)
        return stmts

    # ------------------------------------------------------------ in-place writes

    def inplace(self, stmt: Assign) -> list:
        call = stmt.value
        op = call.op.value
        stmts: list = []
        if op is runtime.set_attribute:
            self.ctx.refuse_active_attribute(stmt)
            return stmts
        if op in runtime.POPS:
            return self.pop(stmt)
        container = call.args[0]
        g = self.state.adj.get(container.name)
        if g is None or not self.active(container):
            return stmts
        value = call.args[-1]
        if op is runtime.setitem:
            self.overwritten(container.name, call.args[1], value, stmts, stmt.line)
        elif op is runtime.list_append:
            badj = self.own(container.name, stmts, stmt.line)
            item = self.temp(Call(runtime_ref("list_pop"), (badj,)), stmts, stmt.line)
            self.accumulate(value, item, stmts, stmt.line)
        elif op is runtime.add_at or op is runtime.add_into:
            part = self.temp(Call(self.getitem(), (g, call.args[1])), stmts, stmt.line)
            self.accumulate(value, self.temp(Call(runtime_ref("copy_value"), (part,)), stmts, stmt.line),
                            stmts, stmt.line)
        return stmts

    def overwritten(self, name: str, index: Atom, value: Atom, stmts: list, line: int) -> None:
        """`x[i] = v`: v's adjoint is the slot of x's; that slot's adjoint is then zero. The slot is
        zeroed before v's adjoint is added, as v may be x itself (`x[:] = x`)."""
        g = self.ctx.dname(name)
        part = None
        if self.active(value):
            part = self.temp(Call(self.getitem(), (g, index)), stmts, line)
            part = self.temp(Call(runtime_ref("copy_value"), (part,)), stmts, line)
        badj = self.own(name, stmts, line)
        stmts.append(Assign(badj, Call(runtime_ref("setitem"), (badj, index, Const(0.0))), line))
        if part is not None and isinstance(value, Var) and value.name in self.rows():
            self.accumulate(value, part, stmts, line)  # `x[i][j] = v`'s row: maybe a list or dict
        elif part is not None:
            self.accumulate(value, self.temp(Call(runtime_ref("unbroadcast"), (part, value)), stmts, line),
                            stmts, line)

    def rows(self) -> set[str]:
        """The names `x[i][j] = v` writes into, `row = item_to_write(x, i)`: the item written back
        into `x[i]` has the kind of that item (an array, or a list or dict)."""
        if getattr(self, "_rows", None) is None:
            self._rows = {s.target.name for s in ir.walk(self.ctx.fn.body) if isinstance(s, Assign)
                          and isinstance(s.value, Call) and s.value.op.value is runtime.item_to_write}
        return self._rows

    def zero_restored_item(self, save: ir.Save) -> list:
        """After `x[i] = v`'s adjoint and x's restore, for an x that may be a list or dict: the
        slot's adjoint becomes a zero shaped like the item x holds again (`zero_item`), so a
        list there, overwritten by an array, gets back a list of zeros, not `0.0`."""
        name = save.name
        if save.kind != "slice" or name not in self.structured or self.state.adj.get(name) is None:
            return []
        stmts: list = []
        badj = self.own(name, stmts, save.line)
        index = save.stmt.value.args[1]
        zeroed = self.temp(Call(runtime_ref("zero_item"), (badj, index, Var(name))), stmts, save.line)
        stmts.append(Assign(badj, zeroed, save.line))
        return stmts

    def pop(self, stmt: Assign) -> list:
        """`v = x.pop()`: push v's adjoint (or a zero) back onto x's."""
        container = stmt.value.args[0]
        target = stmt.target
        stmts: list = []
        gv = self.state.adj.get(target.name)
        if self.active(container) and (gv is not None or self.state.adj.get(container.name) is not None):
            badj = self.own(container.name, stmts, stmt.line)
            item = gv if gv is not None else self.temp(Call(runtime_ref("zeros_like"), (target,)), stmts, stmt.line)
            stmts.append(Assign(badj, Call(runtime_ref("list_append"), (badj, item)), stmt.line))
        self.kill(target.name)
        return stmts

