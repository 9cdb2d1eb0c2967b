"""Python operators as functions and back: the one table both lowering and emission read."""

from __future__ import annotations

import ast
import operator
import types
from collections.abc import Callable

import numpy as np

from s2sad import runtime
from s2sad.core.ir import Atom, Call, Const, Expr, Pack, Ref, Var

BINARY: dict[str, Callable] = {
    "Add": operator.add,
    "Sub": operator.sub,
    "Mult": operator.mul,
    "Div": operator.truediv,
    "FloorDiv": operator.floordiv,
    "Mod": operator.mod,
    "Pow": operator.pow,
    "MatMult": operator.matmul,
    "BitAnd": operator.and_,
    "BitOr": operator.or_,
    "BitXor": operator.xor,
    "LShift": operator.lshift,
    "RShift": operator.rshift,
}
UNARY: dict[str, Callable] = {
    "USub": operator.neg,
    "UAdd": operator.pos,
    "Not": operator.not_,
    "Invert": operator.invert,
}
COMPARE: dict[str, Callable] = {
    "Eq": operator.eq,
    "NotEq": operator.ne,
    "Lt": operator.lt,
    "LtE": operator.le,
    "Gt": operator.gt,
    "GtE": operator.ge,
    "Is": operator.is_,
    "IsNot": operator.is_not,
}

_METHOD = types.MethodDescriptorType
_BY_FUNCTION: dict[int, tuple[str, str]] = {}
for _kind, _table in (("binary", BINARY), ("unary", UNARY), ("compare", COMPARE)):
    for _name, _fn in _table.items():
        _BY_FUNCTION[id(_fn)] = (_kind, _name)

OPERATOR_PATHS = {id(fn): ("operator", fn.__name__) for t in (BINARY, UNARY, COMPARE) for fn in t.values()}


def operator_ref(fn: Callable) -> Ref:
    return Ref(fn, OPERATOR_PATHS[id(fn)])


def atom_to_ast(atom: Atom, spell: Callable[[Ref], str]) -> ast.expr:
    if isinstance(atom, Var):
        return ast.Name(atom.name, ast.Load())
    if isinstance(atom, Ref):
        return dotted_to_ast(spell(atom))
    return _const_to_ast(atom.value)


def dotted_to_ast(text: str) -> ast.expr:
    """`np.linalg.norm` as a Name and Attributes (what `ast.parse` gives, without parsing)."""
    parts = text.split(".")
    if not all(part.isidentifier() for part in parts):
        return ast.parse(text, mode="eval").body
    node: ast.expr = ast.Name(parts[0], ast.Load())
    for part in parts[1:]:
        node = ast.Attribute(node, part, ast.Load())
    return node


def index_to_ast(atom: Atom, conv: Callable[[Atom], ast.expr]) -> ast.expr:
    """An index in subscript position, where `a:b` slices may be written as such."""
    return _const_to_ast(atom.value, index=True) if isinstance(atom, Const) else conv(atom)


def _const_to_ast(value: object, index: bool = False) -> ast.expr:
    if isinstance(value, tuple):
        return ast.Tuple([_const_to_ast(v, index) for v in value], ast.Load())
    if isinstance(value, slice):
        parts = [None if v is None else _const_to_ast(v) for v in (value.start, value.stop, value.step)]
        if index:
            return ast.Slice(*parts)
        return ast.Call(ast.Name("slice", ast.Load()), [p or ast.Constant(None) for p in parts], [])
    if isinstance(value, float) and (value != value or value in (float("inf"), -float("inf"))):
        return ast.Call(ast.Name("float", ast.Load()), [ast.Constant(repr(value))], [])
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
        return ast.UnaryOp(ast.USub(), ast.Constant(-value))
    return ast.Constant(value)


def expr_to_ast(expr: Expr, spell: Callable[[Ref], str], sub: Callable[[Atom], ast.expr] | None = None) -> ast.expr:
    """Build the Python expression for an IR expression; `sub` may replace atoms (inlining)."""
    conv = sub or (lambda a: atom_to_ast(a, spell))
    if isinstance(expr, Pack):
        return ast.Tuple([conv(a) for a in expr.items], ast.Load())
    if not isinstance(expr, Call):
        return conv(expr)
    name = expr.args[1].value if len(expr.args) == 2 and isinstance(expr.args[1], Const) else None
    if expr.op.value is getattr and isinstance(name, str) and name.isidentifier() and not expr.kwargs:
        return ast.Attribute(conv(expr.args[0]), name, ast.Load())
    if expr.op.value is operator.getitem and len(expr.args) == 2 and not expr.kwargs:
        return ast.Subscript(conv(expr.args[0]), index_to_ast(expr.args[1], conv), ast.Load())
    if _is_dict_display(expr):
        keys = [atom_to_ast(Const(k), spell) for k in expr.args[0].value]
        return ast.Dict(keys, [conv(a) for a in expr.args[1:]])
    args = [conv(a) for a in expr.args]  # each atom converted once: `conv` consumes inlined ones
    if expr.op.value is runtime.make_list and not expr.kwargs:
        return ast.List(args, ast.Load())  # `[a, b]`, as written, without a call
    if expr.op.value is runtime.trip_value and len(args) == 2 and not expr.kwargs:
        return ast.Subscript(args[0], args[1], ast.Load())  # `values[trip]`
    if isinstance(expr.op.value, _METHOD) and getattr(expr.op.value, "__objclass__", None) is np.ndarray and args:
        keywords = [ast.keyword(k, conv(a)) for k, a in expr.kwargs]  # `np.ndarray.sum(g, ...)`: `g.sum(...)`
        return ast.Call(ast.Attribute(args[0], expr.op.value.__name__, ast.Load()), args[1:], keywords)
    kind = _BY_FUNCTION.get(id(expr.op.value))
    if kind and not expr.kwargs:
        family, name = kind
        op_node = getattr(ast, name)()
        if family == "binary" and len(args) == 2:
            return ast.BinOp(args[0], op_node, args[1])
        if family == "unary" and len(args) == 1:
            return ast.UnaryOp(op_node, args[0])
        if family == "compare" and len(args) == 2:
            return ast.Compare(args[0], [op_node], [args[1]])
    func = dotted_to_ast(spell(expr.op))
    keywords = [ast.keyword(k, conv(a)) for k, a in expr.kwargs]
    return ast.Call(func, args, keywords)


def _is_dict_display(expr: Call) -> bool:
    """`make_dict(keys, *values)` with constant keys, written `{k: v, ...}`."""
    keys = expr.args[0] if expr.args else None
    return (expr.op.value is runtime.make_dict and not expr.kwargs and isinstance(keys, Const)
            and isinstance(keys.value, tuple) and len(keys.value) == len(expr.args) - 1)


def expr_to_source(expr: Expr) -> str:
    return ast.unparse(expr_to_ast(expr, lambda r: r.dotted))


def is_const(atom: object, value: object) -> bool:
    return isinstance(atom, Const) and type(atom.value) in (int, float) and atom.value == value
