"""Stage 4a, forward mode: each active statement is followed by its tangent statement.

`y = np.sin(x)` gets `dy = dx * np.cos(x)`. Inactive variables have no tangent; a tangent
known to be zero stays symbolic (no zero arrays are allocated) until a value is needed.
"""

from __future__ import annotations

import operator

from s2sad import ir
from s2sad.activity import Activity
from s2sad.derivs import Context
from s2sad.ir import Assign, Call, Pack, Var
from s2sad.naming import Namer, runtime_ref
from s2sad.syntax import operator_ref
from s2sad.templates import tangent_term


class Forward:
    def __init__(self, fn: ir.Function, activity: Activity, namer: Namer, wrt: list[str]) -> None:
        self.ctx = Context(fn, activity, namer, "d")
        self.wrt = wrt
        self.zero: set[str] = set()
        """Active names whose tangent is currently a symbolic zero."""

    def run(self) -> ir.Function:
        fn = self.ctx.fn
        tangent_params = [self.ctx.dname(x).name for x in self.wrt]
        active = self.ctx.activity.active
        self.zero = {p for p in fn.params if p in active and p not in self.wrt}
        body = self.block(fn.body)
        return ir.Function(fn.name + "_jvp", fn.params + tangent_params, body, fn.filename, fn.firstline, fn.lines)

    def block(self, body: list[ir.Stmt]) -> list[ir.Stmt]:
        out: list[ir.Stmt] = []
        for stmt in body:
            out += self.stmt(stmt)
        return out

    def stmt(self, stmt: ir.Stmt) -> list[ir.Stmt]:
        if isinstance(stmt, Assign):
            return [stmt] + self.assign(stmt)
        if isinstance(stmt, ir.Return):
            return self.ret(stmt)
        raise NotImplementedError(f"forward mode of {type(stmt).__name__}")

    def tangent(self, atom: ir.Atom) -> Var | None:
        """The tangent of an atom, or None when it is (symbolically) zero."""
        if self.ctx.activity.is_active(atom) and atom.name not in self.zero:
            return self.ctx.dname(atom.name)
        return None

    def assign(self, stmt: Assign) -> list[ir.Stmt]:
        target = stmt.target.name
        if target not in self.ctx.activity.active:
            return []
        value = stmt.value
        stmts: list[ir.Stmt] = []
        terms: list[ir.Atom] = []
        if isinstance(value, Var):
            terms = [t for t in [self.tangent(value)] if t is not None]
        elif isinstance(value, Call):
            rule, bindings = self.ctx.rule_for(stmt, value)
            for param, atom in self.ctx.active_params(rule, bindings):
                d = self.tangent(atom)
                if d is not None:
                    more, term = tangent_term(rule, param, bindings, d, stmt.target, self.ctx.namer, stmt.line)
                    stmts += more
                    terms.append(term)
        elif isinstance(value, Pack):
            raise NotImplementedError("forward mode of an active tuple")
        return stmts + self.combine(target, terms, stmt.line)

    def combine(self, target: str, terms: list[ir.Atom], line: int) -> list[ir.Stmt]:
        if not terms:
            self.zero.add(target)
            return []
        self.zero.discard(target)
        total = terms[0]
        stmts: list[ir.Stmt] = []
        for term in terms[1:]:
            nxt = Var(self.ctx.namer.temp())
            stmts.append(Assign(nxt, Call(operator_ref(operator.add), (total, term)), line))
            total = nxt
        return stmts + [Assign(self.ctx.dname(target), total, line)]

    def ret(self, stmt: ir.Return) -> list[ir.Stmt]:
        """`return out` becomes `return out, dout`; a tuple output gets a tuple of tangents."""
        value, line = stmt.value, stmt.line
        stmts: list[ir.Stmt] = []
        if isinstance(value, Pack):
            out = self.temp(value, stmts, line)
            dout = self.temp(Pack(tuple(self.materialize(a, stmts, line) for a in value.items)), stmts, line)
        else:
            out, dout = value, self.materialize(value, stmts, line)
        return stmts + [ir.Return(Pack((out, dout)), line)]

    def materialize(self, atom: ir.Atom, stmts: list[ir.Stmt], line: int) -> ir.Atom:
        """The tangent of `atom` as a value: a zero of its shape when symbolically zero."""
        d = self.tangent(atom)
        return d if d is not None else self.temp(Call(runtime_ref("zeros_like"), (atom,)), stmts, line)

    def temp(self, value: ir.Expr, stmts: list[ir.Stmt], line: int) -> Var:
        var = Var(self.ctx.namer.temp())
        stmts.append(Assign(var, value, line))
        return var


def forward(fn: ir.Function, activity: Activity, namer: Namer, wrt: list[str]) -> ir.Function:
    return Forward(fn, activity, namer, wrt).run()

