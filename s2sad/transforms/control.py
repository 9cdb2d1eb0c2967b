"""Transforms: the control flow the forward and reverse transforms treat alike.

A sweep (`forward.Forward`, `reverse.Reverse`) has a `state` with `copy()` and `join(other)`,
`block(statements)` for a nested block, and `reconcile(arm_state, line)`, the statements that
make the state at the end of one arm the joined one.
"""

from __future__ import annotations

from typing import Any, Protocol

from s2sad.core import ir


class Sweep(Protocol):
    state: Any
    """The sweep's state at this point (`forward.State`, `adjoints.State`)."""

    def block(self, body: list[ir.Stmt]) -> list[ir.Stmt]: ...

    def reconcile(self, arm: Any, line: int) -> list[ir.Stmt]: ...


def branch(sweep: Sweep, stmt: ir.If) -> list[ir.Stmt]:
    """Both arms from the state before the `if`; after it, the join of the two arms' states,
    and each arm ends with what its own state lacks of the join."""
    start = sweep.state.copy()
    body = sweep.block(stmt.body)
    after_body = sweep.state
    sweep.state = start.copy()
    orelse = sweep.block(stmt.orelse)
    after_else = sweep.state
    sweep.state = after_body.join(after_else)
    body += sweep.reconcile(after_body, stmt.line)
    orelse += sweep.reconcile(after_else, stmt.line)
    return [ir.If(stmt.test, body, orelse, stmt.line)]
