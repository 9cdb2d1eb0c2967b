"""Stage 2, lower: statements that the IR has no node for, rewritten into those it has.

A mixin of `lower.Lowerer`:

- `assert test, message` is `if not test: assertion_failed(message)`, the message computed only
  when the test fails (as in Python); under `python -O` it is dropped, as Python drops it.
- `a = b = v` computes `v` once and assigns it to each target from left to right.
- `first, *rest = xs` reads the items before and after the star by index and gives `rest` a
  new list of the items between, as Python does (a list, also when `xs` is an array).
- `with m as v: body` enters and exits the managers around the body, in the primal sweep
  (`s2sad.runtime.contexts`: the face exits those a raising body left open).
- `del name` ends nothing the derivative needs: reading the name afterwards is an error in
  Python already, so the statement is dropped. `del d[k]` (`del xs[i]`, `del xs[i:j]`) binds
  `d` to a new dict or list without the item (`runtime.without`), which is what Python's `d`
  holds where no other name holds the object (`aliasing.refuse_shared_deletions`).
  `del x[i][j]` and `del obj.attr` are refused.
"""

from __future__ import annotations

import itertools
import operator

import gast

from s2sad.core import ir
from s2sad.core.ir import Atom, Call, Const, Pack, Ref, Var
from s2sad.core.naming import runtime_ref
from s2sad.core.syntax import operator_ref
from s2sad.front.lower_expr import describe, getitem_ref
from s2sad.front.lower_flow import _contains


class StatementLowering:
    """Needs from the host: body, namer, line, emit(), to_atom(), sub_block(), condition(),
    assign_atom(), bind(), subscript_target(), attribute_owner(), set_attribute(), unsupported()."""

    def stmt_Assert(self, node: gast.Assert) -> None:
        if not __debug__:  # pragma: no cover - python -O drops asserts, and so do we
            return
        test = self.condition(node.test)
        failed = self.emit(self.namer.temp(), Call(operator_ref(operator.not_), (test,)))

        def fail() -> None:
            message = (self.to_atom(node.msg),) if node.msg is not None else ()
            self.emit(self.namer.temp(), Call(runtime_ref("assertion_failed"), message))

        self.body.append(ir.If(failed, self.sub_block(fail), [], node.lineno))

    def stmt_With(self, node: gast.With) -> None:
        """`with m as v: body`: `v = enter_context(m)`, the body, `exit_context(m)`, for each
        manager in turn (exits in reverse). The enter and exit run where Python runs them, in
        the primal sweep; the adjoint sweep of the body runs without the manager. (`with attempt:`
        on a `try_block`, in derivative code being differentiated again, is a `try` block.)"""
        attempt = self.try_manager(node)
        if attempt is not None:
            counter = self.emit(self.fresh_local("done"), Const(0))
            body = self.sub_block(lambda: self.stmts(node.body))
            self.line = node.lineno
            self.body.append(ir.Guard(attempt, counter, _counted(body, counter), node.lineno))
            return
        managers = []
        for item in node.items:
            manager = self.emit(self.fresh_local("manager"), self.to_atom(item.context_expr))
            value = self.emit(self.namer.temp(), Call(runtime_ref("enter_context"), (manager,)))
            if item.optional_vars is not None:
                self.store(item.optional_vars, value)
            managers.append(manager)
        self.stmts(node.body)
        self.line = node.lineno
        for manager in reversed(managers):
            self.emit(self.namer.temp(), Call(runtime_ref("exit_context"), (manager,)))

    def try_manager(self, node: gast.With) -> Var | None:
        """The variable of `with attempt:` where `attempt` is bound by a `try_block(...)` call
        (as derivative code spells a `try` block), else None."""
        if len(node.items) != 1 or node.items[0].optional_vars is not None:
            return None
        name = node.items[0].context_expr
        if not isinstance(name, gast.Name):
            return None
        for assign in gast.walk(self.parsed.tree):
            if (isinstance(assign, gast.Assign) and isinstance(assign.value, gast.Call)
                    and any(isinstance(t, gast.Name) and t.id == name.id for t in assign.targets)
                    and self.resolve(assign.value.func) == runtime_ref("try_block")):
                atom = self.to_atom(name)
                return atom if isinstance(atom, Var) else None
        return None

    def stmt_Raise(self, node: gast.Raise) -> None:
        if node.exc is None and self.handling:  # `raise` in an `except`: the error it caught, again
            error = self.emit(self.namer.temp(), Call(runtime_ref("caught_error"), (self.handling[-1],)))
            self.emit(self.namer.temp(), Call(runtime_ref("raise_error"), (error,)))
            return
        if node.exc is None:
            raise self.unsupported(node, "a bare `raise` outside an `except` block")
        atoms = (self.to_atom(node.exc),) + ((self.to_atom(node.cause),) if node.cause is not None else ())
        self.emit(self.namer.temp(), Call(runtime_ref("raise_error"), atoms))

    def stmt_Try(self, node: gast.Try) -> None:
        """`try`: the block as an `ir.Guard` (`with attempt:` in generated code, a
        `runtime.TryBlock` that swallows what an `except` catches), a counter of the block's
        statements that finished, then the `except` that caught the error (`try_outcome`
        says which) or `else`, then `finally`. The derivative follows the path that ran."""
        for final in node.finalbody:
            if _contains([final], (gast.Return, gast.Break, gast.Continue), into_loops=False):
                raise self.unsupported(final, "`return`, `break` or `continue` in a `finally` block",
                                       "move it after the `try` statement")
        where = self.parsed.where(node)
        handled = self.handler_types(node.handlers)
        attempt = self.emit(self.fresh_local("attempt"), Call(runtime_ref("try_block"), (
            Const((where.filename, where.line, where.col, where.text)), handled, Const(bool(node.finalbody)))))
        counter = self.emit(self.fresh_local("done"), Const(0))
        body = self.sub_block(lambda: self.stmts(node.body))
        self.line = node.lineno
        self.body.append(ir.Guard(attempt, counter, _counted(body, counter), node.lineno))
        caught = self.emit(self.fresh_local("caught"), Call(runtime_ref("try_outcome"), (attempt, counter)))
        self.handlers(node, attempt, caught, 0)
        self.stmts(node.finalbody)

    def handlers(self, node: gast.Try, attempt: Atom, caught: Atom, i: int) -> None:
        """`if caught == 1: <first except> else: if caught == 2: ... else: <else block>`."""
        if i == len(node.handlers):
            self.try_else(node)
            return
        handler = node.handlers[i]
        test = self.emit(self.namer.temp(), Call(operator_ref(operator.eq), (caught, Const(i + 1))))

        def handle() -> None:
            if handler.name is not None:
                self.store(handler.name, self.emit(self.namer.temp(), Call(runtime_ref("caught_error"), (attempt,))))
            self.handling.append(attempt)
            try:
                self.stmts(handler.body)
            finally:
                self.handling.pop()

        body = self.sub_block(handle)
        orelse = self.sub_block(lambda: self.handlers(node, attempt, caught, i + 1))
        self.body.append(ir.If(test, body, orelse, handler.lineno))

    def try_else(self, node: gast.Try) -> None:
        """The `else` block: when the block raised nothing and did not leave the function or loop."""
        flags = self.exit_flags(gast.If(gast.Constant(True, None), node.body, []))
        if node.orelse and flags:
            guard = self.none_set(flags)
            self.body.append(ir.If(guard, self.sub_block(lambda: self.stmts(node.orelse)), [], self.line))
        else:
            self.stmts(node.orelse)

    def handler_types(self, handlers: list[gast.ExceptHandler]) -> Atom:
        """The exception classes each `except` clause names: a tuple of tuples, one per clause."""
        atoms = [self.handled_types([handler]) for handler in handlers]
        if all(isinstance(a, Const) for a in atoms):
            return Const(tuple(a.value for a in atoms))
        return self.emit(self.namer.temp(), Pack(tuple(atoms)))

    def handled_types(self, handlers: list[gast.ExceptHandler]) -> Atom:
        """The exception classes the `except` clauses name, as one tuple (bare `except`: all)."""
        atoms = []
        for handler in handlers:
            if handler.type is None:
                atoms.append(Const(BaseException))
            elif isinstance(handler.type, gast.Tuple):
                atoms.extend(self.to_atom(t) for t in handler.type.elts)
            else:
                atoms.append(self.to_atom(handler.type))
        if all(isinstance(a, Const) for a in atoms):
            return Const(tuple(a.value for a in atoms))
        return self.emit(self.namer.temp(), Pack(tuple(atoms)))

    def stmt_Global(self, node: gast.Global) -> None:
        """`global n` for reading `n`: the name is resolved as any free name is (its value now).
        For a name the function assigns: `n = global_value(scope, "n")` here, and after each
        assignment to it `set_global(scope, "n", n)` (`front.lower.write_globals`)."""
        for name in node.names:
            if name in self.locals:
                self.written_globals.add(name)
                scope = Ref(self.parsed.globals, ("module_globals",), self.parsed.globals)
                self.emit(name, Call(runtime_ref("global_value"), (scope, Const(name))))

    def stmt_Nonlocal(self, node: gast.Nonlocal) -> None:
        """`nonlocal n` for reading `n` (resolved as any free name is). Writing it would change a
        cell of the enclosing function: refused."""
        written = [name for name in node.names if name in self.locals]
        if written:
            raise self.unsupported(node, f"assigning to the nonlocal name {written[0]!r}",
                                   f"return the new value and assign it where {written[0]!r} lives")

    def stmt_Delete(self, node: gast.Delete) -> None:
        for target in node.targets:
            if isinstance(target, gast.Subscript) and not isinstance(target.value, gast.Subscript):
                owner, index = self.subscript_target(target)  # `del d[k]`: see `runtime.without`
                self.bind(owner.name, Call(runtime_ref("without"), (owner, index)))
            elif not isinstance(target, gast.Name):
                raise self.unsupported(node, f"`del {describe(target)}`",
                                       "build the container without the item (a new list or dict), or set the "
                                       "item to a value: x[i] = 0.0")

    def chained_assign(self, targets: list[gast.expr], value: gast.expr) -> None:
        """`a = b = v`: `v` once, then each target in turn, left to right as Python assigns."""
        atom = self.to_atom(value)
        for target in targets:
            self.store(target, atom)

    def store(self, target: gast.expr, atom: Atom) -> None:
        """Assign an already computed atom to any assignment target."""
        if isinstance(target, gast.Subscript):
            self.write_item(target, lambda owner, index: atom)
        elif isinstance(target, gast.Attribute):
            self.set_attribute(self.attribute_owner(target), target.attr, atom)
        else:
            self.assign_atom(target, atom)

    def starred_unpack(self, elts: list[gast.expr], whole: Atom) -> None:
        """`a, *rest, z = whole`: items by index from either end, the middle as a new list."""
        star = next(i for i, e in enumerate(elts) if isinstance(e, gast.Starred))
        if sum(isinstance(e, gast.Starred) for e in elts) > 1:
            raise self.unsupported(elts[star], "two starred targets in one assignment")
        seq = self.emit(self.fresh_local("seq"), Call(runtime_ref("as_sequence"), (whole,)))
        after = len(elts) - star - 1
        for i, elt in enumerate(elts):
            if i == star:
                continue
            index = Const(i) if i < star else Const(i - len(elts))
            self.store(elt, self.emit(self.namer.temp(), Call(getitem_ref(), (seq, index))))
        middle = gast.Subscript(_name(seq.name), gast.Slice(gast.Constant(star, None),
                                                            gast.Constant(-after, None) if after else None, None),
                                gast.Load())
        item = self.fresh_local("item")
        rest = gast.ListComp(_name(item), [gast.comprehension(gast.Name(item, gast.Store(), None, None), middle,
                                                              [], 0)])
        self.store(elts[star].value, self.to_atom(_located(rest, self.line)))


def _counted(body: list[ir.Stmt], counter: Var) -> list[ir.Stmt]:
    """The block of a `try` with its statements counted, in the order they run (see `_count`)."""
    return _count(body, counter, itertools.count(1))


def _count(body: list[ir.Stmt], counter: Var, numbers) -> list[ir.Stmt]:
    """`counter = k` after each plain statement (it finished), before each `if` (it was entered;
    its branches are counted inside), and around each loop: `-k` before, `k` after (an error
    raised inside a loop is told apart, and refused)."""
    out: list[ir.Stmt] = []
    for stmt in body:
        if isinstance(stmt, ir.If):
            out.append(ir.Assign(counter, Const(next(numbers)), stmt.line))
            out.append(ir.rebuild(stmt, lambda block: _count(block, counter, numbers)))
        elif isinstance(stmt, ir.COMPOUND):
            k = next(numbers)
            out += [ir.Assign(counter, Const(-k), stmt.line), stmt, ir.Assign(counter, Const(k), stmt.line)]
        else:
            out += [stmt, ir.Assign(counter, Const(next(numbers)), stmt.line)]
    return out


def _name(name: str) -> gast.Name:
    return gast.Name(name, gast.Load(), None, None)


def _located(node: gast.AST, line: int) -> gast.AST:
    for child in gast.walk(node):
        if "lineno" in child._attributes and getattr(child, "lineno", None) is None:
            child.lineno, child.col_offset = line, 0
    return node


__all__ = ["StatementLowering"]
