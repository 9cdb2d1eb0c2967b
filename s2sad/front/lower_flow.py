"""Lowering of control flow: if, for, while, break, continue, early return, comprehensions.

A mixin of `lower.Lowerer`. The IR has structured `If`, `For` (over a `range` object) and
`While` only, so the rest is rewritten on the way in:

- `for x in seq` (arrays, lists, tuples, dicts, `enumerate`, `zip`, `d.items()`) becomes a loop
  over `range(len(seq))` that reads `x = seq[k]`: the read is an ordinary `getitem`, so
  derivatives flow through it.
- `break`, `continue` and a `return` inside a block set a flag; the statements after them in
  the same block are guarded by `if not flag`, and a loop that can break becomes a `While` whose
  test also checks the flag. A function that returns from inside a block assigns its value to
  one variable and returns it at the end.
- `a if c else b`, `and`/`or` and chained comparisons become `If`s (short-circuit kept).
- List, generator and dict comprehensions become loops that append (or set items).
"""

from __future__ import annotations

import builtins
import operator
from dataclasses import dataclass

import gast

from s2sad.core import ir
from s2sad.core.ir import Atom, Call, Const, Expr, Pack, Var
from s2sad.core.naming import builtin_ref, runtime_ref
from s2sad.core.syntax import operator_ref
from s2sad.front.local_functions import located as _located
from s2sad.front.lower_expr import getitem_ref


@dataclass
class Loop:
    brk: str | None
    cont: str | None


def _contains(nodes: list, kinds: tuple, into_loops: bool) -> bool:
    """Whether a statement list contains a node of `kinds`, looking into nested loops or not."""
    for node in nodes:
        if isinstance(node, kinds):
            return True
        if isinstance(node, (gast.FunctionDef, gast.Lambda, gast.ClassDef)):
            continue
        if isinstance(node, (gast.For, gast.While)) and not into_loops:
            if _contains(node.orelse, kinds, into_loops):
                return True
            continue
        children = [c for c in gast.iter_child_nodes(node) if isinstance(c, gast.stmt)]
        children += [s for c in gast.iter_child_nodes(node) if isinstance(c, gast.ExceptHandler) for s in c.body]
        if _contains(children, kinds, into_loops):
            return True
    return False


class FlowLowering:
    """Needs from the host: body, namer, line, emit(), stmt(), to_atom(), sub_block(), locals."""

    # ------------------------------------------------------------ blocks and exits

    def stmts(self, nodes: list[gast.stmt]) -> None:
        """Lower statements; after one that may exit (break/continue/return), guard the rest."""
        for i, node in enumerate(nodes):
            self.stmt(node)
            if isinstance(node, (gast.Break, gast.Continue, gast.Return)):
                return
            flags = self.exit_flags(node)
            rest = nodes[i + 1:]
            if flags and rest:
                guard = self.none_set(flags)
                self.body.append(ir.If(guard, self.sub_block(lambda rest=rest: self.stmts(rest)), [], self.line))
                return

    def exit_flags(self, node: gast.stmt) -> list[str]:
        flags = []
        loop = self.loops[-1] if self.loops else None
        if loop and loop.brk and _contains([node], (gast.Break,), into_loops=False):
            flags.append(loop.brk)
        if loop and loop.cont and _contains([node], (gast.Continue,), into_loops=False):
            flags.append(loop.cont)
        if self.ret and _contains([node], (gast.Return,), into_loops=True):
            flags.append(self.ret[0])
        return flags

    def none_set(self, flags: list[str]) -> Var:
        """A fresh variable holding `not (flag1 or flag2 ...)`."""
        acc: Atom = Var(flags[0])
        for flag in flags[1:]:
            acc = self.emit(self.namer.temp(), Call(operator_ref(operator.or_), (acc, Var(flag))))
        return self.emit(self.namer.temp(), Call(operator_ref(operator.not_), (acc,)))

    def set_flag(self, name: str, value: bool = True) -> None:
        self.emit(name, Const(value))

    def stmt_Break(self, node: gast.Break) -> None:
        self.set_flag(self.loops[-1].brk)

    def stmt_Continue(self, node: gast.Continue) -> None:
        self.set_flag(self.loops[-1].cont)

    def nested_return(self, value: Expr) -> None:
        flag, result = self.ret
        self.emit(result, value)
        self.set_flag(flag)

    # ------------------------------------------------------------ if and conditional expressions

    def condition(self, node: gast.expr) -> Var:
        """The test of a branch, copied into a variable nothing else writes (so it can be replayed)."""
        atom = self.to_atom(node)
        if isinstance(atom, Var) and atom.name in self.namer.temps and atom.name not in self.locals:
            return atom  # a temporary bound once, right here
        return self.emit(self.namer.temp(), atom)

    def stmt_If(self, node: gast.If) -> None:
        test = self.condition(node.test)
        line = node.lineno
        body = self.sub_block(lambda: self.stmts(node.body))
        orelse = self.sub_block(lambda: self.stmts(node.orelse))
        self.body.append(ir.If(test, body, orelse, line))

    def expr_IfExp(self, node: gast.IfExp) -> Expr:
        out = self.fresh_local()
        test = self.condition(node.test)
        body = self.sub_block(lambda: self.emit(out, self.to_atom(node.body)))
        orelse = self.sub_block(lambda: self.emit(out, self.to_atom(node.orelse)))
        self.body.append(ir.If(test, body, orelse, self.line))
        return Var(out)

    def expr_BoolOp(self, node: gast.BoolOp) -> Expr:
        """`a and b`: b if a else a; `a or b`: a if a else b (operands evaluated lazily)."""
        out = self.fresh_local()
        self.emit(out, self.to_atom(node.values[0]))
        for value in node.values[1:]:
            test = self.emit(self.namer.temp(), Var(out))
            more = self.sub_block(lambda v=value: self.emit(out, self.to_atom(v)))
            taken, skipped = (more, []) if isinstance(node.op, gast.And) else ([], more)
            self.body.append(ir.If(test, taken, skipped, self.line))
        return Var(out)

    def chained_compare(self, node: gast.Compare) -> Expr:
        left = node.left
        parts = []
        for op, right in zip(node.ops, node.comparators):
            parts.append(gast.Compare(left, [op], [right]))
            left = right
        return self.expr_BoolOp(gast.BoolOp(gast.And(), parts))

    def fresh_local(self, base: str = "t") -> str:
        name = self.namer.temp(base)
        self.locals.add(name)
        return name

    # ------------------------------------------------------------ loops

    def stmt_While(self, node: gast.While) -> None:
        loop = self.open_loop(node.body)
        if loop.brk:
            self.set_flag(loop.brk, False)
        test, test_body = self.test_block(node.test, loop)
        body = self.sub_block(lambda: self.loop_body(node.body, loop, []))
        self.loops.pop()
        self.body.append(ir.While(test_body, test, body, node.lineno))
        self.loop_else(node.orelse, loop)

    def test_block(self, test: gast.expr, loop: Loop) -> tuple[Atom, list[ir.Stmt]]:
        """The statements computing a loop's test (its own test and the exit flags), and the atom."""
        found: list[Atom] = []
        body = self.sub_block(lambda: found.append(self.loop_test(test, loop)))
        return found[0], body

    def loop_test(self, test: gast.expr | None, loop: Loop) -> Atom:
        atoms = [self.to_atom(test)] if test is not None else []
        for flag in (loop.brk, self.ret[0] if self.ret and self.loop_returns else None):
            if flag:
                atoms.append(self.emit(self.namer.temp(), Call(operator_ref(operator.not_), (Var(flag),))))
        acc = atoms[0]
        for atom in atoms[1:]:
            acc = self.emit(self.namer.temp(), Call(operator_ref(operator.and_), (acc, atom)))
        return acc

    def open_loop(self, body: list[gast.stmt]) -> Loop:
        brk = self.namer.fresh("brk") if _contains(body, (gast.Break,), into_loops=False) else None
        cont = self.namer.fresh("cont") if _contains(body, (gast.Continue,), into_loops=False) else None
        self.loop_returns = bool(self.ret) and _contains(body, (gast.Return,), into_loops=True)
        loop = Loop(brk, cont)
        self.loops.append(loop)
        return loop

    def loop_body(self, body: list[gast.stmt], loop: Loop, prologue: list) -> None:
        for make in prologue:
            make()
        if loop.cont:
            self.set_flag(loop.cont, False)
        self.stmts(body)

    def loop_else(self, orelse: list[gast.stmt], loop: Loop) -> None:
        if not orelse:
            return
        if loop.brk:
            guard = self.emit(self.namer.temp(), Call(operator_ref(operator.not_), (Var(loop.brk),)))
            self.body.append(ir.If(guard, self.sub_block(lambda: self.stmts(orelse)), [], self.line))
        else:
            self.stmts(orelse)

    def stmt_For(self, node: gast.For) -> None:
        if self.unroll_for(node):  # over a known list of functions or objects (front.callees)
            return
        span, prologue = self.iteration(node.iter, node.target)
        loop = self.open_loop(node.body)
        exits = bool(loop.brk) or self.loop_returns
        index = self.namer.fresh("k") if exits or prologue else self.loop_target(node.target)
        if exits:
            self.while_over(span, index, loop, node, prologue)
        else:
            steps = [lambda p=p: p(Var(index)) for p in prologue]
            body = self.sub_block(lambda: self.loop_body(node.body, loop, steps))
            self.body.append(ir.For(Var(index), span, body, node.lineno))
        self.loops.pop()
        self.loop_else(node.orelse, loop)

    def loop_target(self, target: gast.expr) -> str:
        if isinstance(target, gast.Name):
            return self.renames.get(target.id, target.id)
        raise self.unsupported(target, "this loop target", "loop over range(...) or name the element")

    def while_over(self, span: Atom, index: str, loop: Loop, node: gast.For, prologue: list) -> None:
        """`for` that can break or return: count through `span` in a While that checks the flags."""
        if loop.brk:
            self.set_flag(loop.brk, False)
        count = self.emit(self.namer.temp(), Call(builtin_ref("len"), (span,)))
        position = self.namer.fresh("n")
        self.emit(position, Const(0))
        less = gast.Compare(gast.Name(position, gast.Load(), None, None), [gast.Lt()],
                            [gast.Name(count.name, gast.Load(), None, None)])
        self.locals |= {position, count.name}
        test, test_body = self.test_block(less, loop)
        target = index if prologue else self.loop_target(node.target)

        def body() -> None:
            self.emit(target, Call(getitem_ref(), (span, Var(position))))
            step = self.emit(self.namer.temp(), Call(operator_ref(operator.add), (Var(position), Const(1))))
            self.emit(position, step)
            self.loop_body(node.body, loop, [lambda p=p: p(Var(target)) for p in prologue])

        self.body.append(ir.While(test_body, test, self.sub_block(body), node.lineno))

    def iteration(self, it: gast.expr, target: gast.expr) -> tuple[Atom, list]:
        """What a `for` counts over (a range object) and how each step binds its target.

        Returns `(span, prologue)`: `span` is an atom holding a `range`; each prologue entry,
        called with the step's index atom, emits the assignments that bind the loop target.
        """
        call = it if isinstance(it, gast.Call) else None
        func = self.resolve(call.func) if call is not None and not isinstance(call.func, gast.Attribute) else None
        if func is not None and func.value is builtins.range:
            return self.to_atom(it), []
        if func is not None and func.value is builtins.enumerate and _enumerate_call(call):
            return self.zipped(call, target, True)
        if func is not None and func.value is builtins.zip and not call.keywords and not any(
                isinstance(a, gast.Starred) for a in call.args):  # `zip(*rows)`: a list (see `lower_expr`)
            return self.zipped(call, target, False)
        view = isinstance(it, gast.Call) and isinstance(it.func, gast.Attribute) and not it.args
        if view and it.func.attr in ("items", "keys", "values") and self.resolve(it.func) is None:
            return self.dict_view(it, target)
        seq = self.emit(self.namer.temp(), Call(runtime_ref("as_sequence"), (self.to_atom(it),)))
        return self.span_of([seq]), [lambda k: self.bind_target(target, Call(getitem_ref(), (seq, k)))]

    def span_of(self, seqs: list[Atom]) -> Atom:
        lengths = [self.emit(self.namer.temp(), Call(builtin_ref("len"), (s,))) for s in seqs]
        n = lengths[0] if len(lengths) == 1 else self.emit(self.namer.temp(), Call(builtin_ref("min"), tuple(lengths)))
        return self.emit(self.namer.temp(), Call(builtin_ref("range"), (n,)))

    def zipped(self, call: gast.Call, target: gast.expr, enumerate_: bool) -> tuple[Atom, list]:
        args = call.args[:1] if enumerate_ else call.args
        seqs = [self.emit(self.namer.temp(), Call(runtime_ref("as_sequence"), (self.to_atom(a),))) for a in args]
        start = [self.to_atom(a) for a in call.args[1:] + [k.value for k in call.keywords]] if enumerate_ else []
        if not isinstance(target, gast.Tuple) or len(target.elts) != len(seqs) + enumerate_:
            raise self.unsupported(target, "this loop target", "unpack every element: for i, (a, b) in ...")
        elts = target.elts

        def prologue(k: Atom) -> None:
            if enumerate_:
                self.bind_target(elts[0], Call(operator_ref(operator.add), (k, start[0])) if start else k)
            for elt, seq in zip(elts[enumerate_:], seqs):
                self.bind_target(elt, Call(getitem_ref(), (seq, k)))

        return self.span_of(seqs), [prologue]

    def dict_view(self, it: gast.Call, target: gast.expr) -> tuple[Atom, list]:
        mapping = self.to_atom(it.func.value)
        keys = self.emit(self.namer.temp(), Call(runtime_ref("keys_of"), (mapping,)))
        kind = it.func.attr

        def prologue(k: Atom) -> None:
            key = self.emit(self.namer.temp(), Call(getitem_ref(), (keys, k)))
            if kind == "keys":
                self.bind_target(target, key)
                return
            value = Call(getitem_ref(), (mapping, key))
            if kind == "values":
                self.bind_target(target, value)
            elif isinstance(target, gast.Tuple) and len(target.elts) == 2:
                self.bind_target(target.elts[0], key)
                self.bind_target(target.elts[1], value)
            elif isinstance(target, gast.Name):
                self.bind_target(target, Pack((key, self.emit(self.namer.temp(), value))))
            else:
                raise self.unsupported(target, "this loop target", "unpack the pair: for k, v in d.items()")

        return self.span_of([keys]), [prologue]

    def bind_target(self, target: gast.expr, value: Expr | Atom) -> None:
        if isinstance(target, gast.Name):
            self.bind(self.renames.get(target.id, target.id), value)
            return
        if isinstance(target, gast.Tuple):
            whole = value if isinstance(value, Var) else self.emit(self.namer.temp(), value)
            for i, elt in enumerate(target.elts):
                self.bind_target(elt, Call(getitem_ref(), (whole, Const(i))))
            return
        raise self.unsupported(target, "this loop target")

    # ------------------------------------------------------------ comprehensions

    def expr_ListComp(self, node: gast.ListComp) -> Expr:
        out = self.fresh_local()
        self.emit(out, Call(runtime_ref("make_list"), ()))
        append = gast.Expr(gast.Call(gast.Attribute(gast.Name(out, gast.Load(), None, None), "append", gast.Load()),
                                     [node.elt], []))
        self.comprehension(node.generators, [append])
        return Var(out)

    expr_GeneratorExp = expr_ListComp

    def expr_DictComp(self, node: gast.DictComp) -> Expr:
        out = self.fresh_local()
        self.emit(out, Call(runtime_ref("make_dict"), (Const(()),)))
        store = gast.Assign([gast.Subscript(gast.Name(out, gast.Load(), None, None), node.key, gast.Store())],
                            node.value, None)
        self.comprehension(node.generators, [store])
        return Var(out)

    def comprehension(self, generators: list, inner: list[gast.stmt]) -> None:
        """Lower `for ... if ...` clauses as nested loops; the targets get fresh names."""
        saved = dict(self.renames)
        body = inner
        for gen in reversed(generators):
            for cond in reversed(gen.ifs):
                body = [gast.If(cond, body, [])]
            body = [gast.For(gen.target, gen.iter, body, [], None)]
        for gen in generators:
            for name in [n.id for n in gast.walk(gen.target) if isinstance(n, gast.Name)]:
                self.renames[name] = self.fresh_local(name)
        self.stmts([_located(s, self.line) for s in body])
        self.renames = saved


    # ------------------------------------------------------------ iteration as a value

    def iteration_value(self, node: gast.Call, value: object) -> Expr | None:
        """`zip(...)`, `enumerate(...)` and `list(...)` of them (or of a generator) outside a
        `for` header: a new list of the tuples a loop over them would bind. (Python gives a
        one-shot iterator; a list holds the same items.) None for any other call."""
        if value is builtins.list and len(node.args) == 1 and not node.keywords:
            arg = node.args[0]
            if isinstance(arg, (gast.ListComp, gast.GeneratorExp)) or self.is_iteration(arg):
                return self.expr(gast.ListComp(arg.elt, arg.generators) if isinstance(arg, gast.GeneratorExp) else arg)
            return None
        if value is builtins.zip and node.args and not node.keywords:
            return self.listed(node, len(node.args))
        if value is builtins.enumerate and _enumerate_call(node):
            return self.listed(node, 2)
        if value is builtins.dict and not node.args:
            return self.expr(gast.Dict([None if k.arg is None else gast.Constant(k.arg, None) for k in node.keywords],
                                       [k.value for k in node.keywords]))
        if value is builtins.dict and len(node.args) == 1 and not node.keywords:
            arg = node.args[0]
            if isinstance(arg, gast.Dict):
                return self.expr(arg)
            if isinstance(arg, (gast.ListComp, gast.GeneratorExp)) or self.is_iteration(arg):
                key, item = _name(self.fresh_local("key")), _name(self.fresh_local("item"))
                target = gast.Tuple([_stored(key), _stored(item)], gast.Store())
                pairs = self.expr(arg) if not self.is_iteration(arg) else None
                source = arg if pairs is None else _name(self.emit(self.fresh_local("pairs"), pairs).name)
                return self.expr(_located(gast.DictComp(key, item, [gast.comprehension(target, source, [], 0)]),
                                          self.line))
        return None

    def is_iteration(self, node: gast.expr) -> bool:
        """A call that a `for` header takes apart: zip, enumerate, or a dict's items/keys/values."""
        if not isinstance(node, gast.Call):
            return False
        if isinstance(node.func, gast.Attribute):
            return node.func.attr in ("items", "keys", "values") and not node.args and not node.keywords \
                and self.resolve(node.func) is None
        func = self.resolve(node.func) if isinstance(node.func, gast.Name) else None
        return func is not None and func.value in (builtins.zip, builtins.enumerate)

    def listed(self, node: gast.Call, width: int) -> Expr:
        """`[(a, b) for a, b in node]`: the items a loop over `node` binds, as a new list."""
        names = [self.fresh_local("item") for _ in range(width)]
        target = gast.Tuple([gast.Name(n, gast.Store(), None, None) for n in names], gast.Store())
        element = gast.Tuple([_name(n) for n in names], gast.Load())
        return self.expr(_located(gast.ListComp(element, [gast.comprehension(target, node, [], 0)]), self.line))

    def dict_view_value(self, node: gast.Call) -> Expr:
        """`d.items()`, `d.keys()`, `d.values()` outside a `for` header: a new list of what a loop
        over them binds, as it is at that line (Python's view would follow later writes)."""
        if node.func.attr == "items":
            return self.listed(node, 2)
        item = self.fresh_local("item")
        return self.expr(_located(gast.ListComp(_name(item), [gast.comprehension(
            gast.Name(item, gast.Store(), None, None), node, [], 0)]), self.line))


def _name(name: str) -> gast.Name:
    return gast.Name(name, gast.Load(), None, None)


def _stored(name: gast.Name) -> gast.Name:
    return gast.Name(name.id, gast.Store(), None, None)


def _enumerate_call(call: gast.Call) -> bool:
    """`enumerate(xs)`, `enumerate(xs, start)` or `enumerate(xs, start=s)`."""
    keywords = [k.arg for k in call.keywords]
    return len(call.args) + len(keywords) in (1, 2) and bool(call.args) and keywords in ([], ["start"])


