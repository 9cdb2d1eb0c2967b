"""Stage 1, parse (a helper): the source of a lambda, found in its file as a `def`.

A lambda's code object knows only its first line, and that line may hold several lambdas, or
a lambda in the middle of a dict display (`{"tanh": lambda x: np.tanh(x)}`), which is no
statement on its own. So the whole file (or IPython cell, which `linecache` also holds) is
parsed, the lambdas starting on that line are taken, and the one whose parameters and body
position match the code object is chosen. It is returned as `def <name>(params): return body`
with the user's line numbers, which the lowering reads like any function.
"""

from __future__ import annotations

import linecache
import types

import gast

from s2sad.errors import Location, NoSource

LAMBDA_NAME = "lambda_"
"""The name a lambda's `def` gets (an identifier; `<lambda>` is not one)."""

_TREES: dict[tuple[str, int], gast.Module] = {}


def is_lambda(fun: types.FunctionType) -> bool:
    return fun.__code__.co_name == "<lambda>"


def lambda_def(fun: types.FunctionType) -> gast.FunctionDef:
    """`fun`'s lambda as a `def`, located at the user's line (see the module docstring)."""
    code = fun.__code__
    where = Location(code.co_filename, code.co_firstlineno, 0, linecache.getline(code.co_filename, code.co_firstlineno))
    lines = linecache.getlines(code.co_filename)
    if not lines:
        raise NoSource(
            f"the source of this lambda ({code.co_filename}) is not available: code run by exec or typed at a "
            "plain `python` prompt has none",
            where, hint="define it in a .py file, or in IPython or Jupyter (which keep every cell's source)")
    node = _choose(_lambdas_at(code, lines), code, where)
    body = [gast.Return(value=node.body)]
    gast.copy_location(body[0], node.body)
    tree = gast.FunctionDef(name=LAMBDA_NAME, args=node.args, body=body, decorator_list=[], returns=None,
                            type_comment=None, type_params=[])
    return gast.copy_location(tree, node)


def _lambdas_at(code: types.CodeType, lines: list[str]) -> list[gast.Lambda]:
    key = (code.co_filename, hash(tuple(lines)))
    if key not in _TREES:
        _TREES.clear()  # one file at a time is enough: lambdas of one file are usually built together
        _TREES[key] = gast.parse("".join(lines))
    return [n for n in gast.walk(_TREES[key]) if isinstance(n, gast.Lambda) and n.lineno == code.co_firstlineno]


def _choose(found: list[gast.Lambda], code: types.CodeType, where: Location) -> gast.Lambda:
    params = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
    found = [n for n in found if tuple(a.id for a in n.args.posonlyargs + n.args.args + n.args.kwonlyargs) == params]
    start = min(((line, col) for line, _, col, _ in code.co_positions()
                 if line is not None and col is not None and (line, col) != (code.co_firstlineno, 0)), default=None)
    if len(found) > 1 and start is not None:
        found = [n for n in found if (n.body.lineno, n.body.col_offset) <= start
                 <= (n.body.end_lineno, n.body.end_col_offset)]
    if len(found) != 1:
        raise NoSource(f"cannot tell which lambda of line {code.co_firstlineno} this is "
                       f"({len(found)} match its parameters and position)", where,
                       hint="give the lambda a name with `def`, or put it on a line of its own")
    return found[0]
