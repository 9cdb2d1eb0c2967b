"""Stage 4b, reverse mode: a primal sweep, then the adjoint sweep in reverse order.

The adjoint of statement k reads variables as they were right after k ran. A variable that is
overwritten later is saved before it is overwritten and restored in the adjoint sweep right
after the adjoint of the overwriting statement, and only when the adjoint actually reads the
old value (the to-be-recorded analysis, here for straight-line code: a saved local). An
adjoint is assigned by its first contribution and accumulated after that; zero adjoints stay
symbolic, so no code is generated for them.

Three forms share one transform: `grad` (seed 1, return the gradients), `value_and_grad`
(also return the value) and `vjp` (a generator: `bout = yield out`, then the adjoint sweep).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass

from s2sad import ir
from s2sad.activity import Activity
from s2sad.derivs import Context
from s2sad.ir import Assign, Atom, Call, Const, Pack, Var
from s2sad.naming import Namer, runtime_ref
from s2sad.syntax import operator_ref
from s2sad.templates import adjoint_term

FORMS = ("grad", "value_and_grad", "vjp")


@dataclass
class Restore:
    """Placeholder in the adjoint sweep: put `name` back to the value saved at primal step k."""

    name: str
    saved: str
    line: int


class Reverse:
    def __init__(self, fn: ir.Function, activity: Activity, namer: Namer, wrt: list[str], single: bool) -> None:
        self.ctx = Context(fn, activity, namer, "b")
        self.wrt = wrt
        self.single = single
        self.adj: dict[str, Var | None] = {}

    # ------------------------------------------------------------ assembling one form

    def run(self, form: str) -> ir.Function:
        fn = self.ctx.fn
        *primal, ret = fn.body
        primal, saves = self.with_saves(primal)
        stmts: list[ir.Stmt] = []
        out = self.atom(ret.value, stmts, ret.line)
        items = ret.value.items if isinstance(ret.value, Pack) else None
        stmts += self.seed(form, out, items, ret.line)
        for stmt in reversed(primal):
            stmts += self.adjoint(stmt, saves)
        grads = self.grads(stmts)
        result = Pack((out, grads)) if form == "value_and_grad" else grads
        body = self.drop_unused_saves(primal, stmts + [ir.Return(result)], saves)
        return ir.Function(f"{fn.name}_{form}", list(fn.params), body, fn.filename, fn.firstline, fn.lines)

    def atom(self, value: Atom | Pack, stmts: list[ir.Stmt], line: int) -> Atom:
        if isinstance(value, Pack):
            var = Var(self.ctx.namer.temp())
            stmts.append(Assign(var, value, line))
            return var
        return value

    def seed(self, form: str, out: Atom, items: tuple[Atom, ...] | None, line: int) -> list[ir.Stmt]:
        """The output's cotangent: 1 for `grad`, received from the caller for `vjp`."""
        bout = Var(self.ctx.namer.fresh("bout"))
        helper = "receive" if form == "vjp" else "seed"
        stmts: list[ir.Stmt] = [Assign(bout, Call(runtime_ref(helper), (out,)), line)]
        if items is None:
            self.accumulate(out, bout, stmts, line)
            return stmts
        for i, item in enumerate(items):
            if self.ctx.activity.is_active(item):
                part = Var(self.ctx.namer.temp())
                stmts.append(Assign(part, Call(_getitem(), (bout, Const(i))), line))
                self.accumulate(item, part, stmts, line)
        return stmts

    def grads(self, stmts: list[ir.Stmt]) -> Atom:
        found = []
        for name in self.wrt:
            adj = self.adj.get(name)
            if adj is None:
                adj = Var(self.ctx.namer.temp())
                stmts.append(Assign(adj, Call(runtime_ref("zeros_like"), (Var(name),))))
            found.append(adj)
        if self.single:
            return found[0]
        packed = Var(self.ctx.namer.temp())
        stmts.append(Assign(packed, Pack(tuple(found))))
        return packed

    # ------------------------------------------------------------ saves and restores

    def with_saves(self, primal: list[ir.Stmt]) -> tuple[list[ir.Stmt], dict[int, Restore]]:
        """Insert `v_saved = v` before each statement that overwrites a defined variable."""
        defined = set(self.ctx.fn.params)
        out: list[ir.Stmt] = []
        saves: dict[int, Restore] = {}
        for stmt in primal:
            if not isinstance(stmt, Assign):
                raise NotImplementedError(f"reverse mode of {type(stmt).__name__}")
            name = stmt.target.name
            if name in defined:
                saved = self.ctx.namer.fresh(f"{name}_saved")
                out.append(Assign(Var(saved), Var(name), stmt.line))
                saves[id(stmt)] = Restore(name, saved, stmt.line)
            defined.add(name)
            out.append(stmt)
        return out, saves

    def drop_unused_saves(self, primal: list[ir.Stmt], adjoint: list, saves: dict[int, Restore]) -> list[ir.Stmt]:
        """Keep a save only when the adjoint reads the old value before it is restored again."""
        needed: set[str] = set()
        body: list[ir.Stmt] = []
        for i, stmt in enumerate(adjoint):
            if not isinstance(stmt, Restore):
                body.append(stmt)
                continue
            if _read_before_restore(adjoint[i + 1:], stmt.name):
                needed.add(stmt.saved)
                body.append(Assign(Var(stmt.name), Var(stmt.saved), stmt.line))
        kept = [s for s in primal if not (isinstance(s.value, Var) and s.target.name in _saved_names(saves) - needed)]
        return kept + body

    # ------------------------------------------------------------ one statement's adjoint

    def adjoint(self, stmt: ir.Stmt, saves: dict[int, Restore]) -> list:
        if not isinstance(stmt, Assign):
            return []
        stmts: list = []
        target = stmt.target.name
        g = self.adj.get(target)
        terms: list[tuple[Var, Atom]] = []
        if g is not None:
            terms = self.terms(stmt, g, stmts)
        self.adj[target] = None
        for var, term in terms:
            self.accumulate(var, term, stmts, stmt.line)
        if id(stmt) in saves:
            stmts.append(saves[id(stmt)])
        return stmts

    def terms(self, stmt: Assign, g: Var, stmts: list) -> list[tuple[Var, Atom]]:
        value = stmt.value
        if isinstance(value, Var):
            return [(value, g)] if self.ctx.activity.is_active(value) else []
        if isinstance(value, Pack):
            raise NotImplementedError("reverse mode of an active tuple")
        if not isinstance(value, Call):
            return []
        rule, bindings = self.ctx.rule_for(stmt, value)
        out = []
        for param, var in self.ctx.active_params(rule, bindings):
            more, term = adjoint_term(rule, param, bindings, g, stmt.target, self.ctx.namer, stmt.line)
            stmts += more
            out.append((var, term))
        return out

    def accumulate(self, var: Atom, term: Atom, stmts: list, line: int) -> None:
        if not self.ctx.activity.is_active(var):
            return
        name = var.name
        badj = self.ctx.dname(name)
        current = self.adj.get(name)
        if current is None:
            stmts.append(Assign(badj, term, line))
        else:
            total = Var(self.ctx.namer.temp())
            stmts.append(Assign(total, Call(operator_ref(operator.add), (current, term)), line))
            stmts.append(Assign(badj, total, line))
        self.adj[name] = badj


def _getitem() -> ir.Ref:
    return ir.Ref(operator.getitem, ("operator", "getitem"), operator)


def _saved_names(saves: dict[int, Restore]) -> set[str]:
    return {r.saved for r in saves.values()}


def _read_before_restore(rest: list, name: str) -> bool:
    for stmt in rest:
        if isinstance(stmt, Restore):
            if stmt.name == name:
                return False
            continue
        if name in ir.reads(stmt):
            return True
    return False


def reverse(fn: ir.Function, activity: Activity, namer: Namer, wrt: list[str], form: str, single: bool) -> ir.Function:
    return Reverse(fn, activity, namer, wrt, single).run(form)
