"""Stage 2, lower: a gast function in, a Wengert-list `ir.Function` out.

Nested expressions are flattened into one operation per statement, augmented assignment
becomes assignment, tuple assignment is unpacked explicitly, and every name that is not local
is resolved to the object it denotes now (globals, closure, builtins). This module is the fence:
any construct it does not handle raises `UnsupportedSyntax` at the user's line and column.
"""

from __future__ import annotations

import builtins
import operator
import types

import gast

from s2sad import ir
from s2sad.errors import UnsupportedSyntax
from s2sad.ir import Assign, Atom, Call, Const, Expr, Pack, Ref, Var
from s2sad.methods import ARRAY_ATTRIBUTES, ARRAY_METHODS
from s2sad.naming import Namer, numpy_ref
from s2sad.parse import Parsed
from s2sad.syntax import BINARY, COMPARE, UNARY, operator_ref

class Lowerer:
    def __init__(self, parsed: Parsed) -> None:
        self.parsed = parsed
        self.body: list[ir.Stmt] = []
        self.locals = _local_names(parsed.tree)
        self.namer = Namer(all_names(parsed.tree))
        self.line = parsed.tree.lineno

    # ------------------------------------------------------------ helpers

    def unsupported(self, node: gast.AST, what: str, hint: str = "") -> UnsupportedSyntax:
        return UnsupportedSyntax(f"s2sad does not support {what} yet", self.parsed.where(node), hint)

    def emit(self, target: str, value: Expr) -> Var:
        self.body.append(Assign(Var(target), value, self.line))
        return Var(target)

    def to_atom(self, node: gast.expr) -> Atom:
        expr = self.expr(node)
        if isinstance(expr, (Var, Const, Ref)):
            return expr
        return self.emit(self.namer.temp(), expr)

    # ------------------------------------------------------------ statements

    def function(self) -> ir.Function:
        tree = self.parsed.tree
        params = self.params(tree.args)
        body = tree.body
        if body and isinstance(body[0], gast.Expr) and isinstance(body[0].value, gast.Constant):
            body = body[1:]  # docstring
        for stmt in body:
            self.stmt(stmt)
        if not self.body or not isinstance(self.body[-1], ir.Return):
            self.body.append(ir.Return(Const(None), self.line))
        return ir.Function(tree.name, params, self.body, self.parsed.filename, tree.lineno, self.parsed.lines,
                           set(self.namer.temps))

    def params(self, args: gast.arguments) -> list[str]:
        if args.vararg or args.kwarg or args.kwonlyargs:
            node = args.vararg or args.kwarg or args.kwonlyargs[0]
            raise self.unsupported(node, "*args, **kwargs or keyword-only parameters")
        return [a.id for a in args.posonlyargs + args.args]

    def stmt(self, node: gast.stmt) -> None:
        if self.body and isinstance(self.body[-1], ir.Return):
            raise self.unsupported(node, "statements after `return`")
        self.line = node.lineno
        handler = getattr(self, "stmt_" + type(node).__name__, None)
        if handler is None:
            raise self.unsupported(node, f"the `{_describe(node)}` statement")
        handler(node)

    def stmt_Pass(self, node: gast.Pass) -> None:
        pass

    def stmt_Expr(self, node: gast.Expr) -> None:
        if isinstance(node.value, gast.Constant):
            return
        raise self.unsupported(node, "an expression statement (a call for its side effect)",
                               "assign the result to a name; s2sad differentiates pure computations")

    def stmt_Return(self, node: gast.Return) -> None:
        if node.value is None:
            self.body.append(ir.Return(Const(None), self.line))
        elif isinstance(node.value, gast.Tuple):
            self.body.append(ir.Return(Pack(tuple(self.to_atom(e) for e in node.value.elts)), self.line))
        else:
            self.body.append(ir.Return(self.to_atom(node.value), self.line))

    def stmt_Assign(self, node: gast.Assign) -> None:
        if len(node.targets) != 1:
            raise self.unsupported(node, "chained assignment `a = b = ...`", "write two assignments")
        self.assign(node.targets[0], node.value)

    def stmt_AnnAssign(self, node: gast.AnnAssign) -> None:
        if node.value is not None:
            self.assign(node.target, node.value)

    def stmt_AugAssign(self, node: gast.AugAssign) -> None:
        if not isinstance(node.target, gast.Name):
            raise self.unsupported(node, "augmented assignment to a subscript or attribute")
        op = BINARY.get(type(node.op).__name__)
        value = Call(operator_ref(op), (Var(node.target.id), self.to_atom(node.value)))
        self.bind(node.target.id, value)

    def assign(self, target: gast.expr, value: gast.expr) -> None:
        if isinstance(target, gast.Name):
            self.bind(target.id, self.expr(value))
        elif isinstance(target, (gast.Tuple, gast.List)):
            self.unpack(target, value)
        else:
            raise self.unsupported(target, f"assignment to {_describe(target)}")

    def bind(self, name: str, value: Expr) -> None:
        """`name = value`, through a temporary when `value` reads `name`."""
        if isinstance(value, (Call, Pack)) and Var(name) in ir.atoms_of(value):
            value = self.emit(self.namer.temp(), value)
        self.emit(name, value)

    def unpack(self, target: gast.Tuple, value: gast.expr) -> None:
        names = [self.target_name(t) for t in target.elts]
        if isinstance(value, (gast.Tuple, gast.List)) and len(value.elts) == len(names):
            atoms = [self.to_atom(v) for v in value.elts]
            atoms = [self.emit(self.namer.temp(), a) if isinstance(a, Var) and a.name in names else a for a in atoms]
        else:
            whole = self.to_atom(value)
            getitem = operator_ref_getitem()
            atoms = [Call(getitem, (whole, Const(i))) for i in range(len(names))]
        for name, atom in zip(names, atoms):
            self.bind(name, atom)

    def target_name(self, node: gast.expr) -> str:
        if isinstance(node, gast.Name):
            return node.id
        raise self.unsupported(node, f"unpacking into {_describe(node)}")

    # ------------------------------------------------------------ expressions

    def expr(self, node: gast.expr) -> Expr:
        handler = getattr(self, "expr_" + type(node).__name__, None)
        if handler is None:
            raise self.unsupported(node, f"the expression `{_describe(node)}`")
        return handler(node)

    def expr_Constant(self, node: gast.Constant) -> Expr:
        return Const(node.value)

    def expr_Name(self, node: gast.Name) -> Expr:
        if node.id in self.locals:
            return Var(node.id)
        found, value = self.parsed.lookup(node.id)
        if not found:
            raise UnsupportedSyntax(f"name {node.id!r} is not defined", self.parsed.where(node),
                                    "define it before calling the transformed function")
        return _global_atom(node.id, value)

    def expr_BinOp(self, node: gast.BinOp) -> Expr:
        op = BINARY[type(node.op).__name__]
        return Call(operator_ref(op), (self.to_atom(node.left), self.to_atom(node.right)))

    def expr_UnaryOp(self, node: gast.UnaryOp) -> Expr:
        operand = self.to_atom(node.operand)
        if isinstance(node.op, gast.USub) and isinstance(operand, Const) and type(operand.value) in (int, float):
            return Const(-operand.value)
        return Call(operator_ref(UNARY[type(node.op).__name__]), (operand,))

    def expr_Compare(self, node: gast.Compare) -> Expr:
        if len(node.ops) != 1:
            raise self.unsupported(node, "chained comparison `a < b < c`", "write `a < b and b < c`")
        op = COMPARE.get(type(node.ops[0]).__name__)
        if op is None:
            raise self.unsupported(node, f"the comparison `{type(node.ops[0]).__name__}`")
        return Call(operator_ref(op), (self.to_atom(node.left), self.to_atom(node.comparators[0])))

    def expr_Tuple(self, node: gast.Tuple) -> Expr:
        atoms = tuple(self.to_atom(e) for e in node.elts)
        if all(isinstance(a, Const) for a in atoms):
            return Const(tuple(a.value for a in atoms))
        return Pack(atoms)

    def expr_Subscript(self, node: gast.Subscript) -> Expr:
        return Call(operator_ref_getitem(), (self.to_atom(node.value), self.index(node.slice)))

    def index(self, node: gast.expr) -> Atom:
        if isinstance(node, gast.Slice):
            parts = [None if p is None else self.to_atom(p) for p in (node.lower, node.upper, node.step)]
            if all(p is None or isinstance(p, Const) for p in parts):
                return Const(slice(*(None if p is None else p.value for p in parts)))
            atoms = tuple(Const(None) if p is None else p for p in parts)
            return self.emit(self.namer.temp(), Call(Ref(slice, ("slice",)), atoms))
        if isinstance(node, gast.Tuple):
            items = tuple(self.index(e) for e in node.elts)
            if all(isinstance(a, Const) for a in items):
                return Const(tuple(a.value for a in items))
            return self.emit(self.namer.temp(), Pack(items))
        return self.to_atom(node)

    def expr_Attribute(self, node: gast.Attribute) -> Expr:
        ref = self.resolve(node)
        if ref is not None:
            return ref
        if node.attr in ARRAY_ATTRIBUTES:
            return Call(numpy_ref(ARRAY_ATTRIBUTES[node.attr]), (self.to_atom(node.value),))
        raise self.unsupported(node, f"the attribute `.{node.attr}` on a local value")

    def expr_Call(self, node: gast.Call) -> Expr:
        func = node.func
        args = tuple(self.call_arg(a) for a in node.args)
        kwargs = tuple((k.arg, self.call_arg(k.value)) for k in node.keywords if self.check_keyword(k))
        ref = self.resolve(func)
        if ref is None and isinstance(func, gast.Attribute) and func.attr in ARRAY_METHODS:
            ref = numpy_ref(ARRAY_METHODS[func.attr])
            if func.attr in ("reshape", "transpose") and len(args) > 1:
                args = (args[0], self.emit(self.namer.temp(), Pack(args[1:])))
            args = (self.to_atom(func.value),) + args
        if ref is None:
            raise self.unsupported(func, f"calling `{_describe(func)}`",
                                   "call a module-level function, or an array method s2sad knows")
        return Call(ref, args, kwargs)

    def call_arg(self, node: gast.expr) -> Atom:
        if isinstance(node, gast.Starred):
            raise self.unsupported(node, "`*args` in a call")
        return self.to_atom(node)

    def check_keyword(self, k: gast.keyword) -> bool:
        if k.arg is None:
            raise self.unsupported(k.value, "`**kwargs` in a call")
        return True

    def resolve(self, node: gast.expr) -> Ref | None:
        """The object a global name or a dotted module path denotes, or None for a local value."""
        parts: list[str] = []
        while isinstance(node, gast.Attribute):
            parts.insert(0, node.attr)
            node = node.value
        if not isinstance(node, gast.Name) or node.id in self.locals:
            return None
        found, root = self.parsed.lookup(node.id)
        if not found:
            raise UnsupportedSyntax(f"name {node.id!r} is not defined", self.parsed.where(node))
        value = root
        for i, part in enumerate(parts):
            if not hasattr(value, part):
                if i == len(parts) - 1 and not isinstance(value, types.ModuleType):
                    return None  # a method of a global object; handled by the caller
                raise UnsupportedSyntax(f"{'.'.join([node.id, *parts[:i + 1]])!r} does not exist",
                                        self.parsed.where(node))
            value = getattr(value, part)
        return Ref(value, (node.id, *parts), root)


def operator_ref_getitem() -> Ref:
    return Ref(operator.getitem, ("operator", "getitem"), operator)


def _global_atom(name: str, value: object) -> Atom:
    if type(value) in (int, float, bool, str) or value is None:
        return Ref(value, (name,)) if name not in ("True", "False", "None") else Const(value)
    return Ref(value, (name,))


def _local_names(tree: gast.FunctionDef) -> set[str]:
    names = {a.id for a in tree.args.posonlyargs + tree.args.args + tree.args.kwonlyargs}
    for node in gast.walk(tree):
        if isinstance(node, gast.Name) and isinstance(node.ctx, (gast.Store, gast.Del)):
            names.add(node.id)
    return names


def all_names(tree: gast.FunctionDef) -> set[str]:
    names = {n.id for n in gast.walk(tree) if isinstance(n, gast.Name)}
    return names | {tree.name} | set(dir(builtins))


def _describe(node: gast.AST) -> str:
    try:
        text = gast.unparse(node) if hasattr(gast, "unparse") else ""
    except Exception:  # noqa: BLE001 - describing is best effort
        text = ""
    return (text.splitlines()[0] if text else type(node).__name__.lower())[:60]


def lower(parsed: Parsed) -> ir.Function:
    fn = Lowerer(parsed).function()
    ir.verify(fn)
    return fn

