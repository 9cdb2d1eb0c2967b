"""A helper that `yield`s, read as the function that returns the list of what it yields.

    def doubled(x):                      def doubled(x):
        for v in x:                          yielded = []
            yield v * 2           ->         for v in x:
                                                 yielded.append(v * 2)
                                             return yielded

A caller that iterates over the values (`for`, `sum`, `list`, `zip`, `max`) sees the same values
in the same order, so its derivative is exact. What differs: the helper runs to its end when it
is called, not as the values are asked for (a generator with no end never returns), and the
result is a list, not an iterator (`next(gen)` on it fails when the derivative code runs).
`yield from xs` yields each item of `xs`; a `return` ends the values. A `yield` used as a value
(`got = yield v`, what `send` passes in) is refused.
"""

from __future__ import annotations

import gast

from s2sad.errors import Location, UnsupportedSyntax


def as_list_builder(node: gast.FunctionDef, filename: str, lines: dict[int, str]) -> gast.FunctionDef:
    """`node`, a generator function, rewritten to build and return the list of its values."""
    taken = {n.id for n in gast.walk(node) if isinstance(n, gast.Name)}
    name = next(n for n in ("yielded", *(f"yielded_{i}" for i in range(1, 1000))) if n not in taken)
    line = node.lineno
    start = _at(gast.Assign([_name(name, gast.Store())], gast.List([], gast.Load()), None), line)
    node.body = [start, *_rewrite(node.body, name, filename, lines), _at(gast.Return(_name(name, gast.Load())), line)]
    return node


def _rewrite(body: list, name: str, filename: str, lines: dict[int, str]) -> list:
    out = []
    for stmt in body:
        if isinstance(stmt, (gast.FunctionDef, gast.AsyncFunctionDef, gast.ClassDef)):
            out.append(stmt)  # a nested function's yields are its own
            continue
        if isinstance(stmt, gast.Expr) and isinstance(stmt.value, (gast.Yield, gast.YieldFrom)):
            out += _appends(stmt.value, name, stmt.lineno)
            continue
        if isinstance(stmt, gast.Return):
            out.append(_at(gast.Return(_name(name, gast.Load())), stmt.lineno))
            continue
        for field in ("body", "orelse", "finalbody"):
            if isinstance(getattr(stmt, field, None), list):
                setattr(stmt, field, _rewrite(getattr(stmt, field), name, filename, lines))
        for handler in getattr(stmt, "handlers", ()):
            handler.body = _rewrite(handler.body, name, filename, lines)
        _refuse_yield_values(stmt, filename, lines)
        out.append(stmt)
    return out


def _appends(node: gast.expr, name: str, line: int) -> list:
    """`yielded.append(v)` for `yield v`; a loop of appends for `yield from xs`."""
    if isinstance(node, gast.Yield):
        value = node.value if node.value is not None else gast.Constant(None, None)
        return [_at(gast.Expr(_append(name, value)), line)]
    item = _name(f"{name}_item", gast.Store())
    loop = gast.For(item, node.value, [gast.Expr(_append(name, _name(f"{name}_item", gast.Load())))], [], None)
    return [_at(loop, line)]


def _append(name: str, value: gast.expr) -> gast.Call:
    return gast.Call(gast.Attribute(_name(name, gast.Load()), "append", gast.Load()), [value], [])


def _refuse_yield_values(stmt: gast.stmt, filename: str, lines: dict[int, str]) -> None:
    """A `yield` left in a statement that is not one of its own is used as a value."""
    own = [v for f in ("body", "orelse", "finalbody", "handlers") for v in getattr(stmt, f, None) or ()]
    skip = {id(n) for child in own for n in gast.walk(child)}
    for node in gast.walk(stmt):
        if id(node) not in skip and isinstance(node, (gast.Yield, gast.YieldFrom)):
            raise UnsupportedSyntax(
                "s2sad does not support a `yield` used as a value (what `send` passes in) yet",
                Location(filename, node.lineno, node.col_offset, lines.get(node.lineno, "")),
                hint="yield as a statement of its own (`yield v`), or return a list")


def _name(name: str, ctx: gast.expr_context) -> gast.Name:
    return gast.Name(name, ctx, None, None)


def _at(node: gast.AST, line: int) -> gast.AST:
    for child in gast.walk(node):
        if "lineno" in child._attributes and getattr(child, "lineno", None) is None:
            child.lineno, child.col_offset = line, 0
            if "end_lineno" in child._attributes:
                child.end_lineno, child.end_col_offset = line, 0
    return node
