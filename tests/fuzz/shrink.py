"""Shrink a failing program: delete statements, unwrap branches and loops, and replace
expressions by one of their parts, for as long as the program still fails with the same kind."""

from __future__ import annotations

import ast
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

from tests.fuzz.checks import run_program
from tests.fuzz.generate import Program


def _statement_lists(tree: ast.AST) -> list[list[ast.stmt]]:
    lists = []
    for node in ast.walk(tree):
        for name in ("body", "orelse"):
            value = getattr(node, name, None)
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                lists.append(value)
    return lists


def _statement_edits(tree: ast.AST) -> list[Callable[[], None]]:
    """Each edit mutates `tree` in place (the caller parses a fresh tree per edit)."""
    edits: list[Callable[[], None]] = []
    for body in _statement_lists(tree):
        for i, stmt in enumerate(body):
            if isinstance(stmt, (ast.Import, ast.ImportFrom)) or isinstance(stmt, ast.Pass):
                continue

            def delete(body=body, i=i):
                del body[i]
                if not body:
                    body.append(ast.Pass())

            edits.append(delete)
            if isinstance(stmt, (ast.If, ast.For, ast.While)):
                edits.append(lambda body=body, i=i, stmt=stmt: body.__setitem__(slice(i, i + 1), stmt.body))
            if isinstance(stmt, ast.If) and stmt.orelse:
                edits.append(lambda body=body, i=i, stmt=stmt: body.__setitem__(slice(i, i + 1), stmt.orelse))
                edits.append(lambda stmt=stmt: setattr(stmt, "orelse", []))
    return edits


def _parts(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.Call):
        return [a for a in node.args if isinstance(a, ast.expr) and not isinstance(a, ast.Starred)]
    if isinstance(node, ast.IfExp):
        return [node.body, node.orelse]
    if isinstance(node, ast.BoolOp):
        return list(node.values)
    if isinstance(node, ast.Subscript):
        return [node.value]
    return []


def _expression_edits(tree: ast.AST) -> list[Callable[[], None]]:
    edits: list[Callable[[], None]] = []
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            many = isinstance(value, list)
            children = value if many else [value]
            for index, child in enumerate(children):
                if not isinstance(child, ast.expr):
                    continue
                for part in _parts(child):
                    def edit(parent=parent, field=field, index=index, part=part, many=many):
                        if many:
                            getattr(parent, field)[index] = part
                        else:
                            setattr(parent, field, part)
                    edits.append(edit)
    return edits


def candidates(source: str) -> Iterator[str]:
    """Smaller variants of `source`, statement edits first."""
    for kind in (_statement_edits, _expression_edits):
        count = len(kind(ast.parse(source)))
        for k in range(count):
            tree = ast.parse(source)
            kind(tree)[k]()
            try:
                yield ast.unparse(ast.fix_missing_locations(tree)) + "\n"
            except Exception:  # an edit that leaves no valid tree
                continue


def shrink(program: Program, kind: str, directory: Path, budget_s: float = 40.0, max_tests: int = 600) -> Program:
    """A smaller program that fails with the same `kind` (the smallest found within the budget)."""
    start = time.monotonic()
    tests = 0
    current = replace(program, source=ast.unparse(ast.parse(program.source)) + "\n")
    if not _fails_same(current, kind, directory):
        current = program
    improved = True
    while improved:
        improved = False
        position = 0
        while True:
            cands = list(candidates(current.source))
            tried_any = False
            for cand in cands[position:]:
                if time.monotonic() - start > budget_s or tests >= max_tests:
                    return current
                tried_any = True
                trial = replace(current, source=cand)
                if len(cand) < len(current.source):
                    tests += 1
                if len(cand) < len(current.source) and _fails_same(trial, kind, directory):
                    current = trial
                    improved = True
                    break
                position += 1
            else:
                break
            if not tried_any:
                break
    return current


class _Hang(BaseException):  # not an Exception: nothing on the way may swallow it
    pass


def _hang(signum, frame):
    raise _Hang


def _fails_same(program: Program, kind: str, directory: Path, timeout_s: int = 10) -> bool:
    """Whether `program` fails with `kind`; a candidate that hangs (a `while` loop that lost its
    counter, say) does not."""
    alarm = hasattr(signal, "SIGALRM")
    if alarm:
        previous = signal.signal(signal.SIGALRM, _hang)
        signal.alarm(timeout_s)
    try:
        outcome = run_program(program, directory, only=kind)
    except (Exception, _Hang):
        return False
    finally:
        if alarm:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)
    return outcome.status == "failed" and outcome.kind == kind
