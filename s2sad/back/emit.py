"""Stage 6, emit: IR in; Python source text, the namespace it runs in and a line map out.

Single-use temporaries are folded back into the expression that reads them, so the output
reads like hand-written code (`bx = g * np.cos(x)`, not three one-op lines). A provenance
comment names the user's line above each block of statements that came from it, and the line
map says the same as data: each generated line under such a comment (up to the next one in the
same function) maps to the user's line it names. Text comes from `ast.unparse`; names are
deterministic, so the same IR always gives the same bytes.
"""

from __future__ import annotations

import ast
import inspect
import operator
from collections import Counter
from dataclasses import dataclass, field

from s2sad import runtime
from s2sad.back.optimize import first_after
from s2sad.core import ir
from s2sad.core.ir import Assign, Atom, Call, Const, Ref, Var
from s2sad.core.syntax import atom_to_ast, expr_to_ast, index_to_ast


@dataclass
class Emitted:
    source: str
    namespace: dict
    """The globals the generated code runs in: each root name it spells, bound."""
    lines: dict[int, int] = field(default_factory=dict)
    """Generated line number (from 1) -> the user's line it came from, for lines that have one."""


class _Provenance(str):
    """A provenance comment's text, knowing the user's line it names."""

    line: int

    def __new__(cls, text: str, line: int) -> _Provenance:
        comment = super().__new__(cls, text)
        comment.line = line
        return comment


class Emitter:
    def __init__(self, fn: ir.Function, temps: set[str], taken: set[str], max_inlined: int | None = None) -> None:
        """`taken`: the names an alias must not take (every local name of the module's functions);
        `max_inlined`: the most operations one folded expression holds (see `_inlinable`)."""
        self.fn = fn
        self.aliases: dict[int, str] = {}
        self.namespace: dict = {}
        self.taken = taken
        reads: Counter = Counter(n for s in ir.walk(fn.body) for n in _read_occurrences(s))
        limit = MAX_INLINED_OPS if max_inlined is None else max_inlined
        shared = _shared_memory(fn)
        self.inline = set().union(*(_inlinable(block, temps, reads, limit, shared) for block in _blocks(fn.body)))
        self.pending: dict[str, ast.expr] = {}

    def spell(self, ref: Ref) -> str:
        root = ref.root if ref.root is not None else ref.value
        alias = self.aliases.get(id(root))
        if alias is None:
            alias = ref.path[0]
            n = 0
            while alias in self.taken or (alias in self.namespace and self.namespace[alias] is not root):
                n += 1
                alias = f"{ref.path[0]}_{n}"
            self.aliases[id(root)] = alias
            self.namespace[alias] = root
        return ".".join((alias, *ref.path[1:]))

    def atom(self, atom: Atom) -> ast.expr:
        if isinstance(atom, Var) and atom.name in self.pending:
            return self.pending.pop(atom.name)
        return atom_to_ast(atom, self.spell)

    def expr(self, value: ir.Expr) -> ast.expr:
        if isinstance(value, Call):
            value = _drop_default_args(value)
        return expr_to_ast(value, self.spell, self.atom)

    def function(self) -> list[str]:
        """The function's lines; the provenance comments among them are `_Provenance`."""
        params = [self.param(p) for p in self.fn.params]
        lines = [f"def {self.fn.name}({', '.join(params)}):"]
        return lines + (self.block(self.fn.body, "    ") or ["    pass"])

    def block(self, body: list[ir.Stmt], indent: str) -> list[str]:
        out: list[str] = []
        last_line = None
        for stmt in body:
            text = self.stmt(stmt, indent)
            if not text:
                continue
            if stmt.line and stmt.line != last_line and stmt.line in self.fn.lines:
                out.append(_Provenance(f"{indent}# line {stmt.line}: {self.fn.lines[stmt.line].strip()}", stmt.line))
            last_line = stmt.line
            out += text
        return out

    def stmt(self, stmt: ir.Stmt, indent: str) -> list[str]:
        if isinstance(stmt, Assign):
            return self.assign(stmt, indent)
        if isinstance(stmt, ir.Return):
            return [indent + ast.unparse(ast.Return(self.expr(stmt.value)))]
        inner = indent + "    "
        if isinstance(stmt, ir.If):
            out = [f"{indent}if {ast.unparse(self.atom(stmt.test))}:"] + self.nested(stmt.body, inner)
            return out + ([f"{indent}else:"] + self.nested(stmt.orelse, inner) if stmt.orelse else [])
        if isinstance(stmt, ir.For):
            head = f"{indent}for {stmt.target.name} in {ast.unparse(self.atom(stmt.iter))}:"
            return [head] + self.nested(stmt.body, inner)
        if isinstance(stmt, ir.While):
            return self.while_loop(stmt, indent)
        if isinstance(stmt, ir.Guard):
            return [f"{indent}with {stmt.manager.name}:"] + self.nested(stmt.body, inner)
        raise ir.unknown(stmt, "emission")

    def param(self, name: str) -> str:
        """`name`, or `name=<default>` (a literal, or a name bound to the default object)."""
        if name not in self.fn.defaults:
            return name
        value = self.fn.defaults[name]
        if value is None or type(value) in (int, float, bool, str):
            return f"{name}={value!r}"
        return f"{name}={self.spell(Ref(value, (f'{self.fn.name}_{name}_default',)))}"

    def nested(self, body: list[ir.Stmt], indent: str) -> list[str]:
        return self.block(body, indent) or [indent + "pass"]

    def while_loop(self, stmt: ir.While, indent: str) -> list[str]:
        """`while <test>:` when the test folds into one expression, else `while True:` + break."""
        inner = indent + "    "
        test_lines = self.block(stmt.test_body, inner)
        test = ast.unparse(self.atom(stmt.test))
        if not test_lines:
            return [f"{indent}while {test}:"] + self.nested(stmt.body, inner)
        check = [f"{inner}if not {test}:", f"{inner}    break"]
        return [f"{indent}while True:"] + test_lines + check + self.block(stmt.body, inner)

    def assign(self, stmt: Assign, indent: str) -> list[str]:
        name = stmt.target.name
        if name in self.inline:
            self.pending[name] = self.expr(stmt.value)
            return []
        value = stmt.value
        op = value.op.value if isinstance(value, Call) else None
        if op is runtime.setitem:
            owner, item = self.atom(value.args[0]), self.atom(value.args[2])
            index = index_to_ast(value.args[1], self.atom)
            node: ast.stmt = ast.Assign([ast.Subscript(owner, index, ast.Store())], item, lineno=0)
        elif op is runtime.add_into:
            owner, item = self.atom(value.args[0]), self.atom(value.args[2])
            index = index_to_ast(value.args[1], self.atom)
            node = ast.AugAssign(ast.Subscript(owner, index, ast.Store()), ast.Add(), item, lineno=0)
        elif op is runtime.set_attribute:
            owner, item = self.atom(value.args[0]), self.atom(value.args[2])
            node = ast.Assign([ast.Attribute(owner, value.args[1].value, ast.Store())], item, lineno=0)
        elif op is runtime.list_append:
            owner, item = (self.atom(a) for a in value.args)
            node = ast.Expr(ast.Call(ast.Attribute(owner, "append", ast.Load()), [item], []))
        elif op in runtime.POPS:
            call = ast.Call(ast.Attribute(self.atom(value.args[0]), "pop", ast.Load()), [], [])
            node = ast.Assign([ast.Name(name, ast.Store())], call, lineno=0)
        elif op is runtime.receive:
            node = ast.Assign([ast.Name(name, ast.Store())], ast.Yield(self.atom(value.args[0])), lineno=0)
        else:
            node = ast.Assign([ast.Name(name, ast.Store())], self.expr(value), lineno=0)
        return [indent + ast.unparse(node)]


def _drop_default_args(call: Call) -> Call:
    """`unreduce(g, x, None, False)` reads better as `unreduce(g, x)`: drop trailing defaults."""
    if call.kwargs or not call.args or not isinstance(call.args[-1], Const):
        return call
    params = _params(call.op.value)
    if params is None:
        return call
    args = list(call.args)
    while args and len(args) <= len(params):
        default = params[len(args) - 1].default
        last = args[-1]
        if default is inspect.Parameter.empty or not isinstance(last, Const) or last.value is not default and not (
                type(last.value) is type(default) and last.value == default):
            break
        args.pop()
    return call if len(args) == len(call.args) else Call(call.op, tuple(args), call.kwargs)


def _params(fn: object) -> tuple[inspect.Parameter, ...] | None:
    """`fn`'s parameters (None for builtins and ufuncs without a signature), asked once each."""
    try:
        return _PARAMS[fn]
    except KeyError:
        pass
    except TypeError:  # an unhashable callable
        return _signature_params(fn)
    found = _PARAMS[fn] = _signature_params(fn)
    return found


def _signature_params(fn: object) -> tuple[inspect.Parameter, ...] | None:
    try:
        return tuple(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):  # builtins and ufuncs without a signature
        return None


_PARAMS: dict[object, tuple[inspect.Parameter, ...] | None] = {}


def _all_local_names(fn: ir.Function) -> set[str]:
    names = set(fn.params)
    for stmt in ir.walk(fn.body):
        names |= ir.reads(stmt)
        if isinstance(stmt, Assign):
            names.add(stmt.target.name)
    return names


MAX_INLINED_OPS = 4
"""Fold at most this many operations into one expression, so lines stay readable."""


def _read_occurrences(stmt: ir.Stmt) -> list[str]:
    """Every read of a name, counting `t * t` as two."""
    if isinstance(stmt, (Assign, ir.Return)):
        return [a.name for a in ir.atoms_of(stmt.value) if isinstance(a, Var)]
    return list(ir.reads(stmt))


def _blocks(body: list[ir.Stmt]):
    """Every statement list: the body and each nested block (a While's test with its body)."""
    yield body
    for stmt in body:
        if isinstance(stmt, ir.While):
            yield from _blocks(stmt.test_body + [ir.Return(stmt.test)])
            yield from _blocks(stmt.body)
        else:
            for child in ir.children(stmt):
                yield from _blocks(child)


def _shared_memory(fn: ir.Function) -> dict[str, set[str]]:
    """Per name bound to a view or a copy of another (`t = x[1:]`, `t = x`), every name that
    may share its memory: a write into one (`x[1:] = 0.0`) changes what the others read. A view
    is an index by slices (an integer index of a vector is a number, not a view)."""
    group: dict[str, set[str]] = {}
    for stmt in ir.walk(fn.body):
        source = _viewed(stmt) if type(stmt) is Assign else None
        if source is None or source == stmt.target.name:
            continue
        merged = group.get(stmt.target.name, {stmt.target.name}) | group.get(source, {source})
        for name in merged:
            group[name] = merged
    return group


def _viewed(stmt: Assign) -> str | None:
    value = stmt.value
    if type(value) is Var:
        return value.name
    if not (type(value) is Call and value.op.value is operator.getitem and type(value.args[0]) is Var):
        return None
    index = value.args[1]
    parts = index.value if type(index) is Const and type(index.value) is tuple else (getattr(index, "value", 0),)
    return value.args[0].name if any(type(p) is slice or p is Ellipsis or p is None for p in parts) else None


def _inlinable(body: list[ir.Stmt], temps: set[str], reads: Counter, limit: int = MAX_INLINED_OPS,
               shared: dict[str, set[str]] | None = None) -> set[str]:
    """Temporaries read exactly once, later in the same block, with their inputs unchanged.
    Linear in the block's length (give or take a log): where each name is read and written, and
    where the compound statements stand, are indexed once. `shared`: see `_shared_memory`."""
    out: set[str] = set()
    size: dict[str, int] = {}
    defs: dict[str, Assign] = {}
    checks: set[str] = set()  # temporaries whose expression holds a check that raises at its line
    index = _BlockIndex(body, shared or {})
    for i, stmt in enumerate(body):
        if _single_use_temp(stmt, temps, reads):
            name = stmt.target.name
            size[name] = 1 + sum(size.get(n, 0) for n in ir.reads(stmt) if n in out)
            if _checks(stmt.value) or any(n in checks for n in ir.reads(stmt) if n in out):
                checks.add(name)
            if size[name] <= limit and index.foldable(i, name, _inputs(stmt, defs, out)):
                later = body[index.next_read(i, name)]
                if (not _is_seed(later) and not ir.is_inplace(stmt.value) and not isinstance(later, ir.Guard)
                        and (name not in checks or later.line == stmt.line)):
                    out.add(name)
        if isinstance(stmt, Assign):
            defs[stmt.target.name] = stmt
    return out


_CHECKS = (runtime.not_a_view, runtime.not_an_item)
"""Runtime checks whose error is located at the line of the statement that calls them: not
folded into a statement of another line."""


def _checks(value: ir.Expr) -> bool:
    return type(value) is ir.Call and any(value.op.value is check for check in _CHECKS)


def _single_use_temp(stmt: ir.Stmt, temps: set[str], reads: Counter) -> bool:
    return isinstance(stmt, Assign) and stmt.target.name in temps and reads[stmt.target.name] == 1


class _BlockIndex:
    """For one block: the positions at which each name is read and written directly, and those of
    the statements that stop folding (anything but an assignment or a return)."""

    def __init__(self, body: list[ir.Stmt], shared: dict[str, set[str]]) -> None:
        self.read_at: dict[str, list[int]] = {}
        self.written_at: dict[str, list[int]] = {}
        self.barriers: list[int] = []
        for i, stmt in enumerate(body):
            for name in ir.reads(stmt):
                self.read_at.setdefault(name, []).append(i)
            written = ir.writes(stmt)
            if type(stmt) is Assign and ir.is_inplace(stmt.value):  # also what shares its memory
                written = set().union(*(shared.get(n, {n}) for n in written))
            for name in written:
                self.written_at.setdefault(name, []).append(i)
            if not isinstance(stmt, (Assign, ir.Return)):
                self.barriers.append(i)

    def next_read(self, i: int, name: str) -> int | None:
        return first_after(self.read_at.get(name, []), i)

    def foldable(self, i: int, name: str, inputs: set[str]) -> bool:
        """`name`, bound at `i`, is read later in the block, and no statement in between writes
        one of `inputs` or is a compound statement (the reading statement itself may be one)."""
        j = self.next_read(i, name)
        if j is None:
            return False
        barrier = first_after(self.barriers, i)
        if barrier is not None and barrier < j:
            return False
        return not any(_written_between(self.written_at.get(n, []), i, j) for n in inputs)


def _written_between(positions: list[int], i: int, j: int) -> bool:
    nxt = first_after(positions, i)
    return nxt is not None and nxt < j


def _is_seed(stmt: ir.Stmt) -> bool:
    """The output handed to `seed` or `yield` keeps its name: it is the function's value."""
    value = stmt.value if isinstance(stmt, Assign) else None
    return isinstance(value, Call) and value.op.value in (runtime.receive, runtime.seed)


def _inputs(stmt: Assign, defs: dict[str, Assign], inlined: set[str]) -> set[str]:
    """The names an inlined expression reads, through the temporaries inlined into it (`defs`:
    the last assignment to each name before `stmt`)."""
    names = set(ir.reads(stmt))
    frontier = [n for n in names if n in inlined]
    while frontier:
        name = frontier.pop()
        if name in defs:
            new = ir.reads(defs[name]) - names
            names |= new
            frontier += [n for n in new if n in inlined]
    return names


def emit(fn: ir.Function, temps: set[str]) -> Emitted:
    return emit_module([fn], temps)


def emit_module(fns: list[ir.Function], temps: set[str], max_inlined: int = MAX_INLINED_OPS) -> Emitted:
    """Several functions in one source text, sharing one namespace (one alias per object);
    `max_inlined`: the most operations one expression folds (a readable line for Python; the
    Numba backend folds whole chains, which it compiles as one loop over the elements)."""
    sources = []
    aliases: dict[int, str] = {}
    namespace: dict = {}
    taken = set().union(*(_all_local_names(fn) for fn in fns)) | {fn.name for fn in fns}
    line_map: dict[int, int] = {}
    first = 1
    for fn in fns:
        emitter = Emitter(fn, temps, taken, max_inlined)
        emitter.aliases, emitter.namespace = aliases, namespace
        lines = emitter.function()
        first = _map_lines(lines, first, line_map) + 3  # two blank lines between functions
        sources.append("\n".join(lines) + "\n")
    return Emitted("\n\n".join(sources), namespace, line_map)


def _map_lines(lines: list[str], first: int, line_map: dict[int, int]) -> int:
    """Enter in `line_map` the user line of each of one function's `lines`, the first of which
    is generated line `first`: the one named by the last provenance comment above it. The
    number of the function's last line."""
    number, user = first - 1, None
    for text in lines:
        if isinstance(text, _Provenance):
            user = text.line
        for _ in range(text.count("\n") + 1):
            number += 1
            if user is not None:
                line_map[number] = user
    return number
