"""Stage 5, optimize: constant folding, copy propagation and dead-code elimination on the IR,
repeated until the IR stops changing.
"""

from __future__ import annotations

import operator
from collections import Counter

from s2sad import ir, runtime, shapes
from s2sad.ir import Assign, Call, Const, Pack, Var

EFFECTFUL = {id(runtime.seed), id(runtime.receive)}
"""Calls kept even when their result is unused: they check or communicate."""

_FOLDABLE = {id(f) for f in (operator.add, operator.sub, operator.mul, operator.truediv, operator.pow, operator.neg)}


def optimize(fn: ir.Function, start: dict[str, str | None] | None = None) -> ir.Function:
    """`start`, the shape class of each parameter (see `shapes`), lets shape-only helpers go."""
    before = None
    while before != (text := ir.format_function(fn)):
        before = text
        fn = ir.Function(fn.name, fn.params, fn.body, fn.filename, fn.firstline, fn.lines, fn.temps, fn.defaults)
        fn.body = shapes.simplify(fn, start or {})
        fn.body = _fold(fn.body)
        fn.body = _propagate_copies(fn)
        fn.body = _eliminate_dead(fn.body)
    return fn


def _fold(body: list[ir.Stmt]) -> list[ir.Stmt]:
    out = []
    for stmt in body:
        if isinstance(stmt, Assign) and isinstance(stmt.value, Call):
            stmt = Assign(stmt.target, _fold_call(stmt.value), stmt.line)
        out.append(stmt)
    return out


def _number(atom: object) -> bool:
    return isinstance(atom, Const) and type(atom.value) in (int, float)


def _fold_call(call: Call) -> ir.Expr:
    op = call.op.value
    if id(op) not in _FOLDABLE or call.kwargs:
        return call
    if all(_number(a) for a in call.args):
        try:
            return Const(op(*(a.value for a in call.args)))
        except (ArithmeticError, ValueError):
            return call
    if len(call.args) == 2:
        x, y = call.args
        one = lambda a: _number(a) and a.value == 1  # noqa: E731
        if op is operator.pow and one(y) or op in (operator.mul, operator.truediv) and one(y):
            return x
        if op is operator.mul and one(x):
            return y
    return call


def _counts(body: list[ir.Stmt]) -> tuple[Counter, Counter]:
    writes: Counter = Counter()
    reads: Counter = Counter()
    for stmt in ir.walk(body):
        for name in ir.reads(stmt):
            reads[name] += 1
        if isinstance(stmt, Assign):
            writes[stmt.target.name] += 1
        elif isinstance(stmt, ir.For):
            writes[stmt.target.name] += 1
    return writes, reads


def _propagate_copies(fn: ir.Function) -> list[ir.Stmt]:
    """`a = b` with `a` and `b` each written once: read `b` wherever `a` was read."""
    if any(ir.children(s) for s in fn.body):
        return fn.body  # straight-line code only, for now
    writes, _ = _counts(fn.body)
    params = set(fn.params)
    subst: dict[str, ir.Atom] = {}
    body = []
    for stmt in fn.body:
        if isinstance(stmt, Assign) and isinstance(stmt.value, (Var, Const)) and stmt.target.name not in params:
            src = stmt.value
            once = isinstance(src, Const) or writes[src.name] + (src.name in params) <= 1
            if writes[stmt.target.name] == 1 and once:
                subst[stmt.target.name] = _apply(src, subst)
                continue
        body.append(_substitute(stmt, subst))
    return body


def _apply(atom: ir.Atom, subst: dict[str, ir.Atom]) -> ir.Atom:
    return subst.get(atom.name, atom) if isinstance(atom, Var) else atom


def _substitute(stmt: ir.Stmt, subst: dict[str, ir.Atom]) -> ir.Stmt:
    if not subst:
        return stmt
    if isinstance(stmt, Assign):
        return Assign(stmt.target, _subst_expr(stmt.value, subst), stmt.line)
    if isinstance(stmt, ir.Return):
        return ir.Return(_subst_expr(stmt.value, subst), stmt.line)
    return stmt


def _subst_expr(expr, subst):
    if isinstance(expr, Call):
        return Call(expr.op, tuple(_apply(a, subst) for a in expr.args),
                    tuple((k, _apply(a, subst)) for k, a in expr.kwargs))
    if isinstance(expr, Pack):
        return Pack(tuple(_apply(a, subst) for a in expr.items))
    return _apply(expr, subst)


def _eliminate_dead(body: list[ir.Stmt]) -> list[ir.Stmt]:
    _, reads = _counts(body)
    out = []
    for stmt in body:
        if isinstance(stmt, Assign) and reads[stmt.target.name] == 0 and not _effectful(stmt.value):
            continue
        out.append(stmt)
    return out


def _effectful(value: ir.Expr) -> bool:
    return isinstance(value, Call) and id(value.op.value) in EFFECTFUL
