"""Core: the intermediate representation, a Wengert list with structured control flow.

Contract (checked by `verify`):

- A `Function` has parameter names, a body (a list of statements) and a source location.
- Atoms are `Var` (a local name), `Const` (a literal: number, bool, str, None, Ellipsis,
  or a tuple/slice of those) and `Ref` (a resolved non-local object plus the dotted path that
  spells it, e.g. `numpy.sin` spelled `np.sin`).
- `Assign` binds exactly one `Var` to one expression: an atom (a copy), a `Call` of a `Ref`
  on atoms (one elementary operation), or a `Pack` (a tuple of atoms).
- No `Assign` reads the variable it writes (`x = x * 2` is lowered through a temporary), so an
  adjoint can read the operation's inputs and its output under their own names. The exception
  is an in-place operation (`is_inplace`: `x[i] = v` is `x = setitem(x, i, v)`,
  `items.append(v)` is `items = list_append(items, v)`), which mutates its first argument;
  `v = list_pop(items)` mutates `items` and binds `v`.
- `Return` is the last statement of the body and returns an atom or a `Pack` of atoms.
- `If`, `For`, `While` and `Guard` (a `try` block that may stop early) hold nested statement
  lists; `COMPOUND` names them, and `children` and `rebuild` are the one place that knows their
  blocks.
- `Save` and `Restore` exist only inside reverse mode, between its primal-sweep marking and
  `Recorder.finish`, which turns the ones the adjoint sweep needs into plain statements: a
  `Save` (before the statement that overwrites a variable) keeps the old value, and the
  `Restore` that answers it (after that statement's adjoint) puts it back. A `Restore` follows
  its `Save` in the function.
- Every statement carries `line`, the user's source line it came from (0 for generated code
  with no user line).
- Every statement carries `sid`, a number the IR gives it when it is made, unique in the
  process and never reused; it takes no part in equality (two statements with the same fields
  are equal). Side tables about statements are keyed by `sid`, never by `id()`: a statement
  rebuilt (`rebuild`) is a new statement with a new `sid`. Statements are made with their
  constructors only: a `copy.copy` or `dataclasses.replace` would keep the `sid`.

Analyses never annotate these nodes: they return side tables keyed by name or `sid`. A stage
that meets a statement kind it does not handle raises `InternalError` (`unknown`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Union

from s2sad.errors import InternalError


@dataclass(frozen=True, slots=True)
class Var:
    name: str


@dataclass(frozen=True, slots=True)
class Const:
    value: object


@dataclass(frozen=True, eq=False, slots=True)
class Ref:
    """A resolved object (function, module attribute, global value) and how to spell it.

    `path` spells it from a root name (`("np", "linalg", "norm")`) and `root` is the object
    that root name is bound to (the `numpy` module); for a one-part path the root is `value`.
    """

    value: object
    path: tuple[str, ...]
    root: object = None

    def __post_init__(self) -> None:
        if self.root is None and len(self.path) == 1:
            object.__setattr__(self, "root", self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Ref) and self.value is other.value and self.path == other.path

    def __hash__(self) -> int:
        return hash((id(self.value), self.path))

    @property
    def dotted(self) -> str:
        return ".".join(self.path)


Atom = Union[Var, Const, Ref]


@dataclass(frozen=True, slots=True)
class Call:
    op: Ref
    args: tuple[Atom, ...]
    kwargs: tuple[tuple[str, Atom], ...] = ()
    names: frozenset[str] | None = field(default=None, init=False, repr=False, compare=False)
    """The names the call reads, found once (see `reads`)."""


@dataclass(frozen=True, slots=True)
class Pack:
    items: tuple[Atom, ...]


Expr = Union[Var, Const, Ref, Call, Pack]


_SIDS = itertools.count(1)


def _sid_field():  # a dataclass field: numbered when made, not compared, not shown
    return field(default_factory=_SIDS.__next__, compare=False, repr=False, kw_only=True)


@dataclass(slots=True)
class Assign:
    target: Var
    value: Expr
    line: int = 0
    sid: int = _sid_field()


@dataclass(slots=True)
class Return:
    value: Atom | Pack
    line: int = 0
    sid: int = _sid_field()


@dataclass(slots=True)
class If:
    test: Atom
    body: list[Stmt]
    orelse: list[Stmt]
    line: int = 0
    sid: int = _sid_field()


@dataclass(slots=True)
class For:
    target: Var
    iter: Atom
    body: list[Stmt]
    line: int = 0
    sid: int = _sid_field()


@dataclass(slots=True)
class While:
    test_body: list[Stmt]
    test: Atom
    body: list[Stmt]
    line: int = 0
    sid: int = _sid_field()


@dataclass(slots=True)
class Guard:
    """The block of a `try`, run as `with manager: body` (`runtime.TryBlock` as the manager):
    an error an `except` of the `try` catches stops the body where it was raised, and the code
    after the block goes on. `counter` counts the body's top-level statements that finished
    (the lowering assigns it after each one; before a compound one, minus its number), so that
    the adjoint sweep undoes exactly the statements that ran."""

    manager: Var
    counter: Var
    body: list[Stmt]
    line: int = 0
    sid: int = _sid_field()


@dataclass(slots=True)
class Save:
    """Reverse mode: the value of `name` before the statement after this one changes it."""

    name: str
    """The variable whose value (or whose contents) is about to change."""
    kind: str
    """"value": rebinding; "slice": `x[i] = v`; "attribute": `x.a = v`; "append":
    `x.append(v)`; "pop": `v = x.pop()`; "whole": another in-place change (the whole value is
    copied)."""
    in_loop: bool
    line: int = 0
    stmt: Assign | None = None
    """The statement that overwrites (for the index of a slice, the item of a pop)."""
    maybe_unbound: bool = False
    """The variable may have no value yet where it is saved (it is assigned only in a branch or
    a loop before): the function then starts with `name = None`, so the save reads None."""
    sid: int = _sid_field()


SAVE_KINDS = ("value", "slice", "attribute", "append", "pop", "whole")
NEEDS_STMT = ("slice", "attribute", "pop")
"""Save kinds whose restore reads the overwriting statement (its index, its popped item)."""


@dataclass(slots=True)
class Restore:
    """Reverse mode: put back what `save` kept, right after the adjoint of the statement it
    came before."""

    save: Save
    line: int = 0
    sid: int = _sid_field()


Stmt = Union[Assign, Return, If, For, While, Guard, Save, Restore]

COMPOUND = (If, For, While, Guard)
"""The statements that hold nested statement lists."""


@dataclass(slots=True)
class Function:
    name: str
    params: list[str]
    body: list[Stmt]
    filename: str = "<generated>"
    firstline: int = 1
    lines: dict[int, str] = field(default_factory=dict)
    """The user's source text by line number, for provenance comments and errors."""
    temps: set[str] = field(default_factory=set)
    """Names s2sad made up (not the user's): emission may fold them into their single use."""
    defaults: dict[str, object] = field(default_factory=dict)
    """Default values of trailing parameters, as the user's function has them."""
    tape: str = ""
    """In reverse-mode code: the name of the tape list (for splitting the two sweeps)."""


class IRError(InternalError):
    """The IR broke its contract: a bug in s2sad, never a user error."""


def unknown(stmt: object, stage: str) -> InternalError:
    """The error a stage raises for a statement kind it does not handle."""
    return InternalError(f"{stage} does not handle the statement kind {type(stmt).__name__}")


# ---------------------------------------------------------------- traversal helpers


def atoms_of(expr: Expr | Atom) -> tuple[Atom, ...]:
    kind = type(expr)
    if kind is Call:
        return expr.args + tuple(a for _, a in expr.kwargs) if expr.kwargs else expr.args
    if kind is Pack:
        return expr.items
    return (expr,)


_NONE: frozenset[str] = frozenset()


def _names(expr: Expr | Atom) -> frozenset[str]:
    """The names an expression reads (a call's, found once and kept on it)."""
    kind = type(expr)
    if kind is Call:
        names = expr.names
        if names is None:
            names = frozenset([a.name for a in expr.args if type(a) is Var]
                              + [a.name for _, a in expr.kwargs if type(a) is Var])
            object.__setattr__(expr, "names", names)
        return names
    if kind is Var:
        return frozenset((expr.name,))
    if kind is Pack:
        return frozenset([a.name for a in expr.items if type(a) is Var])
    return _NONE


def reads(stmt: Stmt) -> frozenset[str]:
    """Names a statement reads directly (not inside nested blocks). A `Save` reads its variable
    (unless it may be unbound there); a `Restore`, what it needs besides (`restore_reads`)."""
    kind = type(stmt)
    if kind is Assign or kind is Return:
        return _names(stmt.value)
    if kind is If or kind is While:
        return frozenset((stmt.test.name,)) if type(stmt.test) is Var else _NONE
    if kind is For:
        return frozenset((stmt.iter.name,)) if type(stmt.iter) is Var else _NONE
    if kind is Guard:
        return frozenset((stmt.manager.name,))
    if kind is Save:
        return _NONE if stmt.maybe_unbound else frozenset((stmt.name,))
    if kind is Restore:
        return restore_reads(stmt.save)
    raise unknown(stmt, "ir.reads")


def restore_reads(save: Save) -> frozenset[str]:
    """The names a restore reads, other than the variable it restores."""
    if save.kind in ("slice", "attribute"):
        index = save.stmt.value.args[1]
        return frozenset([a.name for a in atoms_of(index) if isinstance(a, Var)])
    if save.kind == "pop":
        return frozenset((save.stmt.target.name,))
    return _NONE


def is_inplace(value: object) -> bool:
    """True for a call that mutates its first argument (see the contract above)."""
    return isinstance(value, Call) and getattr(value.op.value, "__s2sad_inplace__", False)


def writes(stmt: Stmt) -> set[str]:
    """Names a statement binds or mutates directly (not inside nested blocks)."""
    if type(stmt) is Assign:
        value = stmt.value
        if type(value) is Call and getattr(value.op.value, "__s2sad_inplace__", False) and type(value.args[0]) is Var:
            return {stmt.target.name, value.args[0].name}
        return {stmt.target.name}
    if isinstance(stmt, For):
        return {stmt.target.name}
    if isinstance(stmt, Restore):
        return {stmt.save.name}
    if isinstance(stmt, (Return, If, While, Guard, Save)):
        return set()
    raise unknown(stmt, "ir.writes")


def written_into(body: list[Stmt]) -> set[str]:
    """Names whose object may be written in place: the first argument of each in-place call, and
    (flow-insensitively) every variable copied into such a name (`y = x`: x's object too)."""
    names = {s.value.args[0].name for s in walk(body) if isinstance(s, Assign) and is_inplace(s.value)
             and isinstance(s.value.args[0], Var)}
    copies = [(s.target.name, s.value.name) for s in walk(body) if isinstance(s, Assign) and isinstance(s.value, Var)]
    while more := {source for target, source in copies if target in names} - names:
        names |= more
    return names


def rebuild(stmt: Stmt, fix) -> Stmt:
    """The compound statement with each nested block replaced by `fix(block)`; others as they are."""
    if type(stmt) in _FLAT:
        return stmt  # the common case, first
    if isinstance(stmt, If):
        return If(stmt.test, fix(stmt.body), fix(stmt.orelse), stmt.line)
    if isinstance(stmt, For):
        return For(stmt.target, stmt.iter, fix(stmt.body), stmt.line)
    if isinstance(stmt, While):
        return While(fix(stmt.test_body), stmt.test, fix(stmt.body), stmt.line)
    if isinstance(stmt, Guard):
        return Guard(stmt.manager, stmt.counter, fix(stmt.body), stmt.line)
    if isinstance(stmt, SIMPLE):
        return stmt
    raise unknown(stmt, "ir.rebuild")


def walk(body: list[Stmt]):
    """Every statement, depth first, in source order."""
    for stmt in body:
        yield stmt
        if type(stmt) not in _FLAT:
            for child in children(stmt):
                yield from walk(child)


def children(stmt: Stmt) -> list[list[Stmt]]:
    kind = type(stmt)
    if kind is If:
        return [stmt.body, stmt.orelse]
    if kind is For or kind is Guard:
        return [stmt.body]
    if kind is While:
        return [stmt.test_body, stmt.body]
    if kind in _FLAT:
        return []
    raise unknown(stmt, "ir.children")


SIMPLE = (Assign, Return, Save, Restore)
_FLAT = frozenset(SIMPLE)
"""The statements without nested blocks."""


def assigned(body: list[Stmt]) -> set[str]:
    names: set[str] = set()
    for stmt in walk(body):
        if isinstance(stmt, Assign):
            names.add(stmt.target.name)
        elif isinstance(stmt, For):
            names.add(stmt.target.name)
    return names


# ---------------------------------------------------------------- verify


def verify(fn: Function) -> None:
    """Check the contract in this module's docstring; raise IRError on the first breach."""
    defined = set(fn.params)
    _verify_block(fn.body, defined, top=True, saves=set())


def _verify_block(body: list[Stmt], defined: set[str], top: bool, saves: set[int]) -> None:
    for i, stmt in enumerate(body):
        kind = type(stmt)
        if kind is Assign:  # the common case first
            for name in _names(stmt.value):
                if name not in defined:
                    raise IRError(f"line {stmt.line}: {name!r} read before assignment")
            _verify_assign(stmt)
            defined.add(stmt.target.name)
            continue
        if kind is While:
            _verify_block(stmt.test_body, defined, top=False, saves=saves)
        if kind is Save or kind is Restore:
            _verify_marker(stmt, saves)
        for name in reads(stmt):
            if name not in defined:
                raise IRError(f"line {stmt.line}: {name!r} read before assignment")
        if isinstance(stmt, Return):
            if top and i != len(body) - 1:
                raise IRError(f"line {stmt.line}: statements after return")
        elif isinstance(stmt, For):
            defined.add(stmt.target.name)
        for child in children(stmt):
            if not (isinstance(stmt, While) and child is stmt.test_body):
                _verify_block(child, defined, top=False, saves=saves)


def _verify_marker(stmt: Save | Restore, saves: set[int]) -> None:
    if isinstance(stmt, Restore):
        if not isinstance(stmt.save, Save):
            raise IRError(f"line {stmt.line}: restore of {stmt.save!r}, which is not a Save")
        if stmt.save.sid not in saves:
            raise IRError(f"line {stmt.line}: restore of {stmt.save.name} before its save")
        return
    if stmt.kind not in SAVE_KINDS:
        raise IRError(f"line {stmt.line}: save of {stmt.name} has unknown kind {stmt.kind!r}")
    if stmt.kind in NEEDS_STMT and not isinstance(stmt.stmt, Assign):
        raise IRError(f"line {stmt.line}: {stmt.kind} save of {stmt.name} without the statement it saves for")
    saves.add(stmt.sid)


_ATOMS = frozenset((Var, Const, Ref))
_EXPRS = _ATOMS | {Call, Pack}


def _verify_assign(stmt: Assign) -> None:
    if type(stmt.target) is not Var:
        raise IRError(f"line {stmt.line}: target {stmt.target!r} is not a Var")
    value = stmt.value
    if type(value) not in _EXPRS:
        raise IRError(f"line {stmt.line}: {value!r} is not an expression")
    for atom in atoms_of(value):
        if type(atom) not in _ATOMS:
            raise IRError(f"line {stmt.line}: {atom!r} is not an atom (nested expression)")
    if type(value) is Call and stmt.target.name in _names(value) and not is_inplace(value):
        raise IRError(f"line {stmt.line}: {stmt.target.name} both read and written")
