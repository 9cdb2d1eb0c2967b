"""Analysis: shifts that cancel, such as the max in a stable softmax or log-sum-exp.

    m = np.max(v, axis=a, keepdims=True)
    z = v - m
    e = np.exp(z)
    s = np.sum(e, axis=a, keepdims=True)
    logp = z - np.log(s)        # or  p = e / s,  or  lse = m + np.log(s)

Each of `logp`, `p` and `lse` is the same function of `v` whatever `m` is: shifting `v` by a
constant along the reduced axes changes none of them. So the derivative of the output with
respect to `m` is exactly zero, at every order, and `m` can be treated as a constant: neither
its tangent nor its adjoint (the max's tie weights) is computed. `cancelling_shifts` finds the
names bound so, checking every use of `m`, `z`, `e`, `s` and `log(s)`; one use of another kind
(`z` read by anything else, a sum over other axes) keeps `m` differentiated as usual.
"""

from __future__ import annotations

import operator
from collections import defaultdict

import numpy as np

from s2sad.core import ir
from s2sad.core.ir import Assign, Call, Const, Var

_MAXIMA = (np.max, np.amax)
_SUMS = (np.sum,)


def cancelling_shifts(fn: ir.Function) -> set[str]:
    """The names bound to a shift that cancels in every use (see the module docstring)."""
    uses = _Uses(fn)
    return {name for name, value in uses.defs.items() if _is_call(value, _MAXIMA) and _cancels(name, value, uses)}


class _Uses:
    """Each name bound once, with its value, and the statements that read each name."""

    def __init__(self, fn: ir.Function) -> None:
        writes: defaultdict[str, int] = defaultdict(int)
        self.readers: defaultdict[str, list[ir.Stmt]] = defaultdict(list)
        values: dict[str, ir.Expr] = {}
        for stmt in ir.walk(fn.body):
            for name in ir.reads(stmt):
                self.readers[name].append(stmt)
            for name in ir.writes(stmt):
                writes[name] += 1
            if isinstance(stmt, Assign):
                values[stmt.target.name] = stmt.value
        for param in fn.params:
            writes[param] += 1
        self.defs = {name: value for name, value in values.items() if writes[name] == 1}
        self.params = set(fn.params)
        self.writes = writes

    def uses(self, name: str) -> list[tuple[str, Call]] | None:
        """(target, call) for each statement reading `name`; None if one is not a call bound to a
        name bound once."""
        found = []
        for stmt in self.readers[name]:
            if not (isinstance(stmt, Assign) and isinstance(stmt.value, Call) and stmt.target.name in self.defs):
                return None
            found.append((stmt.target.name, stmt.value))
        return found


def _is_call(value: object, ops: tuple) -> bool:
    return isinstance(value, Call) and any(value.op.value is op for op in ops)


def _reduction(value: Call) -> tuple | None:
    """`(axis, keepdims)` of a reduction of one array with constant options; None otherwise.
    Over some axes, the reduced axes must be kept, so that the shift broadcasts along them."""
    options = dict(value.kwargs)
    if len(value.args) != 1 or set(options) - {"axis", "keepdims"}:
        return None
    if not all(isinstance(a, Const) for a in options.values()):
        return None
    axis = options["axis"].value if "axis" in options else None
    keepdims = options["keepdims"].value if "keepdims" in options else False
    if axis is not None and keepdims is not True:
        return None
    return axis, bool(keepdims)


def _cancels(m: str, value: Call, uses: _Uses) -> bool:
    reduced = _reduction(value)
    v = value.args[0]
    if reduced is None or not isinstance(v, Var) or uses.writes[v.name] != 1:
        return False
    family = _Family(m, reduced, uses)
    return family.check(v)


class _Family:
    """The names computed from one shift `m`, checked use by use."""

    def __init__(self, m: str, reduced: tuple, uses: _Uses) -> None:
        self.m, self.reduced, self.uses = m, reduced, uses
        self.shifted: set[str] = set()  # z = v - m
        self.exps: set[str] = set()  # e = exp(z)
        self.sums: set[str] = set()  # s = sum(e)
        self.logs: set[str] = set()  # l = log(s)
        self.wanted: list[tuple[str, str]] = []  # (set, name) each read must belong to

    def check(self, v: Var) -> bool:
        """Every use of `m`, then of each name made from it (each group is complete before it
        is checked: only the group before adds to it)."""
        if not self.accepted(self.m, self.of_shift(v)):
            return False
        for group, accept in ((self.shifted, self.of_shifted), (self.exps, self.of_exp), (self.sums, self.of_sum),
                              (self.logs, self.of_log)):
            for name in sorted(group):
                if not self.accepted(name, accept):
                    return False
        return all(name in getattr(self, group) for group, name in self.wanted) and bool(self.shifted)

    def accepted(self, name: str, accept) -> bool:
        found = self.uses.uses(name)
        return found is not None and all(accept(name, target, call) for target, call in found)

    def of_shift(self, v: Var):
        def accept(m: str, target: str, call: Call) -> bool:
            if _op(call, operator.sub) and call.args == (v, Var(m)):
                self.shifted.add(target)
                return True
            if _op(call, operator.add) and Var(m) in call.args:  # lse = m + log(s)
                other = call.args[1] if call.args[0] == Var(m) else call.args[0]
                return self.want("logs", other)
            return False
        return accept

    def of_shifted(self, z: str, target: str, call: Call) -> bool:
        if _is_call(call, (np.exp,)) and call.args == (Var(z),) and not call.kwargs:
            self.exps.add(target)
            return True
        return _op(call, operator.sub) and call.args[0] == Var(z) and self.want("logs", call.args[1])

    def of_exp(self, e: str, target: str, call: Call) -> bool:
        if _is_call(call, _SUMS) and call.args == (Var(e),) and _reduction(call) == self.reduced:
            self.sums.add(target)
            return True
        return _op(call, operator.truediv) and call.args[0] == Var(e) and self.want("sums", call.args[1])

    def of_sum(self, s: str, target: str, call: Call) -> bool:
        if _is_call(call, (np.log,)) and call.args == (Var(s),) and not call.kwargs:
            self.logs.add(target)
            return True
        return _op(call, operator.truediv) and call.args[1] == Var(s) and self.want("exps", call.args[0])

    def of_log(self, log: str, target: str, call: Call) -> bool:
        if _op(call, operator.sub) and call.args[1] == Var(log):
            return self.want("shifted", call.args[0])
        return _op(call, operator.add) and Var(self.m) in call.args and Var(log) in call.args

    def want(self, group: str, atom: ir.Atom) -> bool:
        if not isinstance(atom, Var):
            return False
        self.wanted.append((group, atom.name))
        return True


def _op(call: Call, op) -> bool:
    return call.op.value is op and len(call.args) == 2 and not call.kwargs
