"""Stage 2, lower: a gast function in, a Wengert-list `ir.Function` out.

Nested expressions are flattened into one operation per statement (`lower_expr`), augmented
assignment becomes assignment, tuple assignment is unpacked explicitly, control flow is brought
to structured `If`/`For`/`While` (`lower_flow`), and every name that is not local is resolved to
the object it denotes now (globals, closure, builtins). This module is the fence: any construct
it does not handle raises `UnsupportedSyntax` at the user's line and column.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable

import gast

from s2sad import runtime
from s2sad.core import ir
from s2sad.core.ir import Assign, Call, Const, Expr, Pack, Ref, Var
from s2sad.core.naming import Namer, runtime_ref
from s2sad.core.syntax import BINARY, operator_ref
from s2sad.errors import UnsupportedSyntax
from s2sad.front import aliasing, helper_writes
from s2sad.front.callees import child_nodes
from s2sad.front.lower_expr import ExprLowering, describe, getattr_ref, getitem_ref
from s2sad.front.lower_flow import FlowLowering, Loop, _contains
from s2sad.front.lower_stmts import StatementLowering
from s2sad.front.parse import Parsed, parse
from s2sad.rules.registry import facts


class Lowerer(ExprLowering, FlowLowering, StatementLowering):
    def __init__(self, parsed: Parsed) -> None:
        self.parsed = parsed
        self.body: list[ir.Stmt] = []
        self.locals, every = _tree_names(parsed.tree)
        self.namer = Namer(every)
        self.line = parsed.tree.lineno
        self.renames: dict[str, str] = {}
        self.loops: list[Loop] = []
        self.loop_returns = False
        self.ret: tuple[str, str] | None = None
        self.handling: list[ir.Atom] = []
        """The `try_block` of each `except` block being lowered, innermost last (a bare `raise`)."""
        self.augmented: dict[int, tuple] = {}
        """`y += v` on a name: the statement computing `y + v`, by id, and where the user wrote it."""
        self.written_globals: set[str] = set()
        """Names declared `global` that the function assigns (see `write_globals`)."""
        args = parsed.tree.args
        self.self_name = (args.posonlyargs + args.args)[0].id if parsed.self_class and args.args else None

    # ------------------------------------------------------------ helpers

    def unsupported(self, node: gast.AST, what: str, hint: str = "") -> UnsupportedSyntax:
        return UnsupportedSyntax(f"s2sad does not support {what} yet", self.parsed.where(node), hint)

    def emit(self, target: str, value: Expr) -> Var:
        self.body.append(Assign(Var(target), value, self.line))
        return Var(target)

    def sub_block(self, fill: Callable[[], object]) -> list[ir.Stmt]:
        """The statements `fill` emits, collected into a nested block."""
        outer, line = self.body, self.line
        self.body = []
        try:
            fill()
            return self.body
        finally:
            self.body, self.line = outer, line

    # ------------------------------------------------------------ the function

    def function(self) -> ir.Function:
        tree = self.parsed.tree
        params = self.params(tree.args)
        body = tree.body
        if body and isinstance(body[0], gast.Expr) and isinstance(body[0].value, gast.Constant):
            body = body[1:]  # docstring
        if _contains(body[:-1], (gast.Return,), into_loops=True) or (
                body and not isinstance(body[-1], gast.Return) and _contains(body[-1:], (gast.Return,), True)):
            self.ret = (self.namer.fresh("returned"), self.namer.fresh("result"))
            self.locals |= set(self.ret)
            self.set_flag(self.ret[0], False)
            self.emit(self.ret[1], Const(None))
        self.stmts(body)
        if self.ret:
            self.body.append(ir.Return(Var(self.ret[1]), self.line))
        elif not self.body or not isinstance(self.body[-1], ir.Return):
            self.body.append(ir.Return(Const(None), self.line))
        body = write_globals(self.body, self.written_globals, self.parsed.globals, self.namer)
        fn = ir.Function(tree.name, params, body, self.parsed.filename, tree.lineno, self.parsed.lines,
                         set(self.namer.temps))
        fn.defaults = self.parsed.defaults if self.parsed.defaults is not None else _defaults(self.parsed.fun)
        return fn

    def params(self, args: gast.arguments) -> list[str]:
        if args.vararg or args.kwarg:
            node = args.vararg or args.kwarg
            hint = ""
            if getattr(self.parsed.fun, "__wrapped__", None) is not None:  # what a decorator returned
                hint = (f"this is a decorator's wrapper of {self.parsed.fun.__qualname__}, and what is called is "
                        "differentiated: give the wrapper the parameters of the function it wraps")
            raise self.unsupported(node, "*args or **kwargs parameters", hint)
        positional = args.posonlyargs + args.args
        keyword = [a for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is None]
        if keyword and args.defaults:
            raise self.unsupported(keyword[0], "a keyword-only parameter without a default after a parameter with one",
                                   f"give {keyword[0].id!r} a default, or make it positional")
        keyword += [a for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None]
        return [a.id for a in positional + keyword]  # the order of `Target.params`

    # ------------------------------------------------------------ simple statements

    def stmt(self, node: gast.stmt) -> None:
        self.line = node.lineno
        handler = getattr(self, "stmt_" + type(node).__name__, None)
        if handler is None:
            raise self.unsupported(node, f"the `{type(node).__name__.lower()}` statement")
        handler(node)

    def stmt_Pass(self, node: gast.Pass) -> None:
        pass

    def stmt_Expr(self, node: gast.Expr) -> None:
        if isinstance(node.value, gast.Constant):
            return
        value = self.expr(node.value) if isinstance(node.value, gast.Call) else None
        if ir.is_inplace(value) and isinstance(value.args[0], Var) and value.op.value is not runtime.list_pop:
            self.body.append(Assign(value.args[0], value, self.line))
            return
        if ir.is_inplace(value):  # `items.pop()` for its effect: the item is bound to a temporary
            self.emit(self.namer.temp(), value)
            return
        if isinstance(value, Call) and facts(value.op.value).statement:
            self.emit(self.namer.temp(), value)
            return
        raise self.unsupported(node, "an expression statement (a call for its side effect)",
                               "s2sad differentiates pure computations: a function that changes its argument should "
                               "return the new value, assigned by the caller (`out = fill(out, x)` with `return out` "
                               "in fill)")

    def stmt_Return(self, node: gast.Return) -> None:
        if node.value is None:
            value: Expr = Const(None)
        elif isinstance(node.value, gast.Tuple):
            value = Pack(tuple(self.to_atom(e) for e in node.value.elts))
        else:
            value = self.to_atom(node.value)
        if self.ret:
            self.nested_return(value)
        else:
            self.body.append(ir.Return(value, self.line))

    def stmt_Assign(self, node: gast.Assign) -> None:
        if len(node.targets) != 1:
            self.chained_assign(node.targets, node.value)
        else:
            self.assign(node.targets[0], node.value)

    def stmt_AnnAssign(self, node: gast.AnnAssign) -> None:
        if node.value is not None:
            self.assign(node.target, node.value)

    def stmt_AugAssign(self, node: gast.AugAssign) -> None:
        op = BINARY[type(node.op).__name__]
        target = node.target
        if isinstance(target, gast.Name):
            name = self.renames.get(target.id, target.id)
            value = self.to_atom(node.value)
            new = self.emit(self.namer.temp(), Call(operator_ref(op), (Var(name), value)))
            where = self.parsed.where(node)
            self.augmented[self.body[-1].sid] = (where.filename, where.line, where.col, where.text)
            self.emit(name, new)
        elif isinstance(target, gast.Subscript):
            def updated(owner: Var, index) -> Var:
                old = self.emit(self.namer.temp(), Call(getitem_ref(), (owner, index)))
                return self.emit(self.namer.temp(), Call(operator_ref(op), (old, self.to_atom(node.value))))

            self.write_item(target, updated)
        elif isinstance(target, gast.Attribute):
            owner = self.attribute_owner(target)
            old = self.emit(self.namer.temp(), Call(getattr_ref(), (owner, Const(target.attr))))
            new = self.emit(self.namer.temp(), Call(operator_ref(op), (old, self.to_atom(node.value))))
            self.set_attribute(owner, target.attr, new)
        else:
            raise self.unsupported(node, f"augmented assignment to {describe(target)}")

    def assign(self, target: gast.expr, value: gast.expr) -> None:
        if isinstance(target, gast.Name):
            self.bind(self.renames.get(target.id, target.id), self.expr(value))
        elif isinstance(target, (gast.Tuple, gast.List)):
            self.unpack(target, value)
        elif isinstance(target, gast.Subscript):
            atom = self.to_atom(value)
            self.write_item(target, lambda owner, index: atom)
        elif isinstance(target, gast.Attribute):
            owner = self.attribute_owner(target)
            self.set_attribute(owner, target.attr, self.to_atom(value))
        else:
            raise self.unsupported(target, f"assignment to {describe(target)}",
                                   "assign to a local name or to an item of a local array")

    def is_local(self, name: str) -> bool:
        """A name the function binds (or renamed)."""
        return name in self.locals or name in self.renames

    def attribute_owner(self, target: gast.Attribute) -> Var:
        if not isinstance(target.value, gast.Name) or not self.is_local(target.value.id):
            raise self.unsupported(target, f"assigning to {describe(target)}",
                                   "set attributes of a parameter or local object only (obj.attr = v)")
        return Var(self.renames.get(target.value.id, target.value.id))

    def set_attribute(self, owner: Var, name: str, value) -> None:
        """`obj.name = value`: an in-place write (values that carry a derivative are refused by
        the transforms: attributes of objects have no adjoint)."""
        self.body.append(Assign(owner, Call(runtime_ref("set_attribute"), (owner, Const(name), value)), self.line))

    def write_item(self, target: gast.Subscript, value: Callable[[Var, object], object]) -> None:
        """`x[i] = value(x, i)`; for `x[i][j] = ...`, `row = item_to_write(x, i)` (a copy of the
        view, checked when it runs), the write into `row`, then `x[i] = row`."""
        if not isinstance(target.value, gast.Subscript):
            owner, index = self.subscript_target(target)
            new = value(owner, index)
            self.body.append(Assign(owner, Call(runtime_ref("setitem"), (owner, index, new)), self.line))
            return

        def row_written(owner: Var, index) -> Var:
            row = self.emit(self.fresh_local("row"), Call(runtime_ref("item_to_write"), (owner, index)))
            inner = self.index(target.slice)
            new = value(row, inner)
            self.body.append(Assign(row, Call(runtime_ref("setitem"), (row, inner, new)), self.line))
            return row

        self.write_item(target.value, row_written)

    def subscript_target(self, target: gast.Subscript) -> tuple[Var, object]:
        if not isinstance(target.value, gast.Name) or not self.is_local(target.value.id):
            raise self.unsupported(target, f"writing into {describe(target.value)}",
                                   "write into a local array by name: x[i, j] = v")
        name = self.renames.get(target.value.id, target.value.id)
        return Var(name), self.index(target.slice)

    def bind(self, name: str, value: Expr) -> None:
        """`name = value`, through a temporary when `value` reads `name`."""
        if isinstance(value, (Call, Pack)) and Var(name) in ir.atoms_of(value) and not ir.is_inplace(value):
            value = self.emit(self.namer.temp(), value)
        self.emit(name, value)

    def unpack(self, target: gast.Tuple, value: gast.expr) -> None:
        elts = target.elts
        if any(isinstance(e, gast.Starred) for e in elts):
            self.starred_unpack(elts, self.to_atom(value))
            return
        if isinstance(value, (gast.Tuple, gast.List)) and len(value.elts) == len(elts):
            atoms = [self.to_atom(v) for v in value.elts]
            names = {n.id for n in gast.walk(target) if isinstance(n, gast.Name)}
            atoms = [self.emit(self.namer.temp(), a) if isinstance(a, Var) and a.name in names else a for a in atoms]
            for elt, atom in zip(elts, atoms):
                self.assign_atom(elt, atom)
            return
        whole = self.to_atom(value)
        for i, elt in enumerate(elts):
            self.assign_atom(elt, self.emit(self.namer.temp(), Call(getitem_ref(), (whole, Const(i)))))

    def assign_atom(self, target: gast.expr, atom) -> None:
        if isinstance(target, gast.Name):
            self.bind(self.renames.get(target.id, target.id), atom)
        elif isinstance(target, (gast.Tuple, gast.List)) and any(isinstance(e, gast.Starred) for e in target.elts):
            self.starred_unpack(target.elts, atom)
        elif isinstance(target, (gast.Tuple, gast.List)):
            for i, elt in enumerate(target.elts):
                self.assign_atom(elt, self.emit(self.namer.temp(), Call(getitem_ref(), (atom, Const(i)))))
        else:
            raise self.unsupported(target, f"unpacking into {describe(target)}")


def _tree_names(tree: gast.FunctionDef) -> tuple[set[str], set[str]]:
    """The function's local names (parameters, names bound or deleted), and `all_names`, in one walk."""
    local = {a.id for a in tree.args.posonlyargs + tree.args.args + tree.args.kwonlyargs}
    every: set[str] = set()
    for node in _nodes(tree):
        if isinstance(node, gast.Name):
            every.add(node.id)
            if isinstance(node.ctx, (gast.Store, gast.Del)):
                local.add(node.id)
    return local, every | {tree.name} | _BUILTINS


def _nodes(tree: gast.AST) -> list[gast.AST]:
    """Every node of `tree` (the nodes `gast.walk` gives, in another order, in a third of its time)."""
    out: list[gast.AST] = []
    todo = [tree]
    while todo:
        node = todo.pop()
        out.append(node)
        todo += child_nodes(node)
    return out


_BUILTINS = set(dir(builtins)) - {"_"}
"""Builtin names a derivative's names avoid: not `_`, which the interactive interpreter (and doctest) set
in builtins to the last value shown."""


def write_globals(body: list[ir.Stmt], names: set[str], scope: dict, namer: Namer) -> list[ir.Stmt]:
    """After each assignment to a name declared `global` (and at the top of a loop binding one),
    `set_global(scope, name, value)`: the module sees each new value as Python's would."""
    if not names:
        return body
    ref = Ref(scope, ("module_globals",), scope)

    def written(name: str, line: int) -> ir.Assign:
        return ir.Assign(Var(namer.temp()), Call(runtime_ref("set_global"), (ref, Const(name), Var(name))), line)

    out: list[ir.Stmt] = []
    for stmt in body:
        if isinstance(stmt, ir.For) and stmt.target.name in names:
            stmt = ir.rebuild(stmt, lambda block: write_globals(block, names, scope, namer))
            stmt.body.insert(0, written(stmt.target.name, stmt.line))
        elif isinstance(stmt, ir.COMPOUND):
            stmt = ir.rebuild(stmt, lambda block: write_globals(block, names, scope, namer))
        out.append(stmt)
        if isinstance(stmt, ir.Assign) and stmt.target.name in names and not (
                isinstance(stmt.value, Call) and stmt.value.op.value is runtime.global_value):
            out.append(written(stmt.target.name, stmt.line))
    return out


def all_names(tree: gast.FunctionDef) -> set[str]:
    """Every name the function's text uses, its own name and the builtins': what a new name avoids."""
    return _tree_names(tree)[1]


def _defaults(fun) -> dict[str, object]:
    import inspect

    return {n: p.default for n, p in inspect.signature(fun).parameters.items()
            if p.default is not inspect.Parameter.empty}


def lower(parsed: Parsed, user_code: bool = True) -> ir.Function:
    """`user_code=False` for rule templates, which mutate their accumulators on purpose. s2sad's
    own generated code is only made to hold copies where its restores would change an alias
    (`aliasing.check_generated`)."""
    lowerer = Lowerer(parsed)
    fn = lowerer.function()
    if user_code and getattr(parsed.fun, "__s2sad_generated__", False):
        fn = aliasing.check_generated(fn, lowerer.namer)
    elif user_code:
        fn.body = helper_writes.check_calls(fn, lowerer.augmented, lowerer.namer, _lower_callee)
        fn = aliasing.check(fn, lowerer.namer, lowerer.augmented, lowerer.ret[1] if lowerer.ret else None)
    ir.verify(fn)
    return fn


def _lower_callee(fun: object) -> tuple[ir.Function, dict[int, tuple]]:
    """A callee's IR, unchecked, and its augmented assignments (what `helper_writes` reads)."""
    lowerer = Lowerer(parse(fun))
    return lowerer.function(), lowerer.augmented


__all__ = ["lower", "all_names", "Lowerer"]
