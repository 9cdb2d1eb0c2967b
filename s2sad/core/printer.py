"""Core: the IR printer, which writes a `Function` as Python-like text (`s2sad show --stage`).

Expressions are spelled by `s2sad.core.syntax`, the table emission reads too; `Save` and
`Restore` (reverse mode's markers, see `s2sad.core.ir`) print as pseudo-statements.
"""

from __future__ import annotations

from s2sad.core.ir import (
    Assign,
    Atom,
    Expr,
    For,
    Function,
    Guard,
    If,
    Ref,
    Restore,
    Return,
    Save,
    Stmt,
    Var,
    While,
    unknown,
)
from s2sad.core.syntax import expr_to_source


def format_atom(atom: Atom) -> str:
    if isinstance(atom, Var):
        return atom.name
    if isinstance(atom, Ref):
        return atom.dotted
    return repr(atom.value)


def format_expr(expr: Expr) -> str:
    return expr_to_source(expr)


def format_stmt(stmt: Stmt, indent: str = "") -> list[str]:
    if isinstance(stmt, Assign):
        return [f"{indent}{stmt.target.name} = {format_expr(stmt.value)}"]
    if isinstance(stmt, Return):
        return [f"{indent}return {format_expr(stmt.value)}"]
    if isinstance(stmt, Save):
        where = " in loop" if stmt.in_loop else ""
        return [f"{indent}save {stmt.name} ({stmt.kind}{where})"]
    if isinstance(stmt, Restore):
        return [f"{indent}restore {stmt.save.name} ({stmt.save.kind})"]
    return _format_compound(stmt, indent)


def _block(body: list[Stmt], indent: str) -> list[str]:
    return [line for s in body for line in format_stmt(s, indent)]


def _format_compound(stmt: Stmt, indent: str) -> list[str]:
    inner = indent + "    "
    if isinstance(stmt, If):
        out = [f"{indent}if {format_atom(stmt.test)}:"] + (_block(stmt.body, inner) or [f"{inner}pass"])
        if stmt.orelse:
            out += [f"{indent}else:"] + _block(stmt.orelse, inner)
        return out
    if isinstance(stmt, For):
        out = [f"{indent}for {stmt.target.name} in {format_atom(stmt.iter)}:"]
        return out + (_block(stmt.body, inner) or [f"{inner}pass"])
    if isinstance(stmt, Guard):
        return [f"{indent}with {stmt.manager.name}:"] + (_block(stmt.body, inner) or [f"{inner}pass"])
    if isinstance(stmt, While):
        out = [f"{indent}while True:"] + _block(stmt.test_body, inner)
        out += [f"{inner}if not {format_atom(stmt.test)}:", f"{inner}    break"]
        return out + _block(stmt.body, inner)
    raise unknown(stmt, "the IR printer")


def format_function(fn: Function) -> str:
    lines = [f"def {fn.name}({', '.join(fn.params)}):"]
    for stmt in fn.body:
        lines += format_stmt(stmt, "    ")
    return "\n".join(lines) + "\n"


def format_block(body: list[Stmt]) -> str:
    return "\n".join(line for stmt in body for line in format_stmt(stmt))


def same_block(before: list | None, body: list) -> bool:
    """Whether two statement lists are the same (statements compare by value; a constant that
    NumPy cannot compare is compared as text)."""
    if before is None:
        return False
    try:
        return bool(before == body)
    except (ValueError, TypeError):
        return format_block(before) == format_block(body)
