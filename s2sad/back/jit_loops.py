"""Fusion for the Numba backend: runs of elementwise statements written as one loop.

Numba compiles one expression of elementwise array operations as one loop, but each statement
is still its own loop with its own result array, and a value read by two statements (Rosenbrock's
`200 * (x[1:] - x[:-1] ** 2)`, read by both writes into the gradient) is materialised between
them. `fuse` finds runs of consecutive statements that are elementwise over arrays of one known
shape (`t = a * b + c`, `np.tanh(t)`, a view `t = x[1:]`, a write `bx[:-1] = v` or
`bx[1:] += v`) and writes each run as one loop over the elements (nested loops for a matrix):

    bx = np.zeros_like(x)
    bx_part = bx[:-1]
    t22_all = fused_empty((9999,), 200.0, t1, t2, 2)
    for i in range(9999):
        t2_i = t2[i]
        t22_i = 200.0 * (t1[i] - t2_i ** 2)
        t22_all[i] = t22_i
        bx_part[i] = -2.0 * (1 - t7[i]) + t22_i * t2_i * -2

Every value the run binds is a number a trip; only the ones read after the run (`_Readers`)
are stored, into an array made before the loop (`fused_empty`, of the dtype NumPy would give
them). Views, and statements between that read nothing the run computes (`bx = ...` above),
are made before the loop.

A run is fused only where doing the statements element by element gives what doing them array
by array gives: every operand is a number or an array of a known shape that broadcasts to the
run's shape; a write goes into an array the function made itself (not a view, not an argument),
and no statement of the run reads or writes that array through another selection (Rosenbrock's
`bx[1:] += t22` reads elements the loop above has written: it is a loop of its own); divisions
and powers are NumPy's (`np.divide`: a division by zero is inf, as for arrays, not Python's
`ZeroDivisionError`).
"""

from __future__ import annotations

import builtins
import operator
from dataclasses import dataclass, field

import numpy as np

from s2sad import runtime
from s2sad.back import jit_helpers, jit_math, jit_reductions
from s2sad.core import ir
from s2sad.core.ir import Assign, Call, Const, Pack, Ref, Var
from s2sad.core.naming import builtin_ref, numpy_ref, runtime_ref

_UFUNCS = ("add", "subtract", "multiply", "divide", "negative", "positive", "power", "absolute", "square",
           "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh", "arccosh",
           "arctanh", "exp", "expm1", "log", "log1p", "log2", "log10", "exp2", "sqrt", "maximum", "minimum",
           "arctan2", "hypot")
_REAL = ("divide", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh",
         "arccosh", "arctanh", "exp", "expm1", "log", "log1p", "log2", "log10", "exp2", "sqrt", "arctan2", "hypot")
"""Ufuncs whose result is a float for integer operands."""


def _element_ops() -> dict[int, tuple[Ref | None, bool]]:
    """Per op (by id): the op a trip applies to numbers (None: the same op), and whether it
    makes integers floats. Python's `/` and `**` become `np.divide` and `np.power`, whose
    numbers behave as arrays do (a division by zero is inf, not `ZeroDivisionError`)."""
    ops: dict[int, tuple[Ref | None, bool]] = {id(getattr(operator, name)): (None, False)
                                               for name in ("add", "sub", "mul", "neg", "pos")}
    ops[id(operator.truediv)] = (numpy_ref("divide"), True)
    ops[id(operator.pow)] = (numpy_ref("power"), False)
    ops[id(operator.abs)] = ops[id(builtins.abs)] = (numpy_ref("absolute"), False)
    for name in _UFUNCS:
        ufunc = getattr(np, name)
        element = jit_math.ELEMENTS.get(ufunc)
        ops[id(ufunc)] = (Ref(element, (element.__name__,)) if element else numpy_ref(name), name in _REAL)
    ops[id(runtime.strong_mul)] = (Ref(jit_helpers.strong_mul_element, ("strong_mul_element",)), False)
    ops[id(runtime.strong_div)] = (Ref(jit_helpers.strong_div_element, ("strong_div_element",)), True)
    ops[id(runtime.sigmoid)] = (Ref(jit_helpers.sigmoid_element, ("sigmoid_element",)), True)
    return ops


_ELEMENT_OPS = _element_ops()
_NUMPY_TRIG = {element: numpy_ref(ufunc.__name__) for ufunc, element in jit_math.ELEMENTS.items()
               if element in jit_math.TRIG}
"""The vectorised sin and cos, and NumPy's (see `jit_math.WIDE`)."""
_TRIG_WIDE = Ref(jit_math.trig_wide, ("trig_wide",))
_FRESH = (np.zeros, np.ones, np.empty, np.full, np.zeros_like, np.ones_like, np.empty_like, runtime.zeros_like,
          runtime.array_copy, np.copy, jit_helpers.trip_storage, jit_helpers.zeros_array, jit_helpers.zeros_as,
          jit_helpers.fused_empty, jit_helpers.fused_empty_real, jit_helpers.fused_sum_empty,
          operator.matmul, np.matmul, np.dot)
"""Ops whose result is a new array (with the elementwise ones): an array the function made."""
_WRITES = (runtime.setitem, runtime.add_into)
_GETITEM = Ref(operator.getitem, ("operator", "getitem"), operator)
_UNKNOWN = "?"


# ------------------------------------------------------------------ what may share memory


def _bases(fn: ir.Function) -> dict[str, frozenset[str]]:
    """Per name, the arrays (named by a variable that made one) whose memory it may share: itself
    where every binding made a new array, else everything the bindings' operands may share (a
    call may return a view of any argument), `?` for a parameter or unknown origin."""
    bindings: dict[str, list[ir.Expr]] = {}
    for stmt in ir.walk(fn.body):
        if type(stmt) is Assign:
            bindings.setdefault(stmt.target.name, []).append(stmt.value)
        elif type(stmt) is ir.For:
            bindings.setdefault(stmt.target.name, []).append(Var(_UNKNOWN))
    found: dict[str, frozenset[str]] = {p: frozenset((p, _UNKNOWN)) for p in fn.params}
    changed = True
    while changed:
        changed = False
        for name, values in bindings.items():
            new = frozenset().union(*(_shares(name, v, found) for v in values)) | found.get(name, frozenset())
            if new != found.get(name):
                found[name], changed = new, True
    return found


def _shares(name: str, value: ir.Expr, found: dict[str, frozenset[str]]) -> frozenset[str]:
    if isinstance(value, Call) and value.op.value in _WRITES and value.args[0] == Var(name):
        return frozenset((name,))  # written in place: still the array it was
    if isinstance(value, Call) and (value.op.value in _FRESH or id(value.op.value) in _ELEMENT_OPS):
        return frozenset((name,))
    if isinstance(value, (Const, Ref)):
        return frozenset((name,))
    atoms = value.items if isinstance(value, Pack) else ir.atoms_of(value)
    shared = {_UNKNOWN} if isinstance(value, Call) and not value.args else set()
    for atom in atoms:
        if isinstance(atom, Var):
            shared |= found.get(atom.name, {_UNKNOWN} if atom.name == _UNKNOWN else frozenset())
    return frozenset(shared) | ({name} if isinstance(value, Call) else frozenset())


def _made_here(name: str, bases: dict[str, frozenset[str]]) -> bool:
    """The function made every array `name` holds (whatever else may share it)."""
    return bases.get(name) == frozenset((name,))


class _Readers:
    """The statements (by sid) that read each name, anywhere in the function."""

    def __init__(self, fn: ir.Function) -> None:
        self.by_name: dict[str, set[int]] = {}
        for stmt in ir.walk(fn.body):
            for name in ir.reads(stmt):
                self.by_name.setdefault(name, set()).add(stmt.sid)

    def only(self, name: str, sids: set[int]) -> bool:
        return self.by_name.get(name, set()) <= sids


# ------------------------------------------------------------------ runs


@dataclass
class _Run:
    """Consecutive statements elementwise over arrays of `shape`."""

    shape: tuple[int, ...]
    top: int = 0
    """The statement of the function's body the run is in."""
    stmts: list[Assign] = field(default_factory=list)
    bound: dict[str, int] = field(default_factory=dict)
    """Names the run binds (by an elementwise statement), and the position of the first binding."""
    views: dict[str, tuple[str, object]] = field(default_factory=dict)
    """Views the run makes (`t = x[1:]`): their array and index."""
    read_before: set[str] = field(default_factory=set)
    """Names read before the run binds them (the value they had before the run)."""
    selections: dict[str, set] = field(default_factory=dict)
    """Per array, how the run reads or writes it: (the name, the index) of each access."""
    written: set[str] = field(default_factory=set)
    read: set[str] = field(default_factory=set)
    """Every name the run's statements read."""
    moved: set[int] = field(default_factory=set)
    """Statements (by sid) that are not elementwise and read nothing the run binds or writes
    (`bx = np.zeros_like(x)` between the forward and the adjoint statements): made before the loop."""
    reductions: dict[str, tuple[ir.Atom, int, bool]] = field(default_factory=dict)
    """Sums along an axis of an array of the run's shape (`t36 = sum_axis(t34, 0)`), added up
    in the loop: per name, (the array, the axis, whether the axis is kept)."""

    @property
    def work(self) -> int:
        return sum(1 for s in self.stmts if s.sid not in self.moved and (s.target.name not in self.views
                                                                         or _is_write(s)))

    def can_move(self, stmt: ir.Stmt, bases: dict[str, frozenset[str]]) -> bool:
        """`stmt` (not part of the run) can be made before the run's loop: it changes nothing in
        place, reads nothing the run has bound or written (nor what may share memory with an
        array the run writes), and binds nothing the run has read, bound or written."""
        if type(stmt) is not Assign or ir.is_inplace(stmt.value) or ir.writes(stmt) != {stmt.target.name}:
            return False
        changed = set(self.bound) | set(self.views) | self.written | set(self.reductions)
        reads = ir.reads(stmt)
        if reads & changed or any(bases.get(name, frozenset()) & self.written for name in reads):
            return False
        return stmt.target.name not in changed | self.read


class _Kinds:
    """What `fuse` asks of names and statements: their shape classes, what they share."""

    def __init__(self, fn: ir.Function, table: dict) -> None:
        self.table = table
        self.bases = _bases(fn)
        self.first: dict[str, int] = {}
        """Per name, the first statement of the function's body that binds it (or holds a binding)."""
        for position, stmt in enumerate(fn.body):
            for inner in ir.walk([stmt]):
                if type(inner) in (Assign, ir.For):
                    self.first.setdefault(inner.target.name, position)
        self.position = 0
        """The statement of the function's body being fused."""

    def array(self, atom: ir.Atom) -> tuple[int, ...] | None:
        cls = self.table.get(atom.name) if isinstance(atom, Var) else None
        return cls if isinstance(cls, tuple) and cls and all(type(n) is int for n in cls) else None

    def number(self, atom: ir.Atom) -> bool:
        if isinstance(atom, Var):
            return self.table.get(atom.name) == "()"
        value = atom.value
        return type(value) in (int, float) or isinstance(value, (np.floating, np.integer))


def _broadcasts(have: tuple[int, ...], shape: tuple[int, ...]) -> bool:
    return len(have) <= len(shape) and all(h in (1, n) for h, n in zip(reversed(have), reversed(shape)))


def _is_write(stmt: Assign) -> bool:
    value = stmt.value
    return (isinstance(value, Call) and value.op.value in _WRITES and value.args[0] == stmt.target
            and isinstance(value.args[1], Const))


def _shape_of(stmt: Assign, kinds: _Kinds) -> tuple[int, ...] | None:
    """The shape of the elements `stmt` works on, where it is one a run can hold."""
    value = stmt.value
    if not isinstance(value, Call) or value.kwargs:
        return None
    if _is_write(stmt):
        whole = kinds.array(stmt.target)
        index = value.args[1].value
        shape = _selected(whole, index) if whole else None
        return shape if shape and _operand(value.args[2], shape, kinds) else None
    shape = kinds.array(stmt.target)
    if shape is None:
        return None
    if value.op.value is operator.getitem:
        ok = kinds.array(value.args[0]) and isinstance(value.args[1], Const) and _view_index(value.args[1].value)
        return shape if ok else None
    if id(value.op.value) not in _ELEMENT_OPS:
        return None
    return shape if all(_operand(atom, shape, kinds) for atom in value.args) else None


def _operand(atom: ir.Atom, shape: tuple[int, ...], kinds: _Kinds) -> bool:
    """A number, or an array of a known shape that broadcasts to `shape`."""
    have = kinds.array(atom)
    return kinds.number(atom) or have is not None and _broadcasts(have, shape)


def _small_power(exponent: ir.Atom) -> bool:
    """A constant natural exponent, which Numba's `**` computes by multiplying (and which no
    number turns into Python's `ZeroDivisionError`)."""
    return isinstance(exponent, Const) and type(exponent.value) is int and 0 <= exponent.value <= 8


def _view_index(index: object) -> bool:
    """Slices (and `...`): `x[index]` is a view of x, of its number of axes."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(type(p) is slice or p is Ellipsis for p in parts)


def _selected(shape: tuple[int, ...], index: object) -> tuple[int, ...] | None:
    if not _view_index(index):
        return None
    try:
        found = np.broadcast_to(np.empty(()), shape)[index].shape
    except (IndexError, TypeError, ValueError):
        return None
    return found or None


def _accesses(stmt: Assign, run: _Run, kinds: _Kinds) -> list[tuple[frozenset[str], tuple, bool]]:
    """The arrays `stmt` reads or writes outside the run's own numbers: (what they may share,
    (name, index), whether it writes)."""
    value = stmt.value
    found = []
    reads = value.args[2:] if _is_write(stmt) else value.args
    for atom in reads:
        if isinstance(atom, Var) and atom.name not in run.bound and kinds.array(atom):
            root, index = run.views.get(atom.name, (atom.name, None))
            found.append((kinds.bases.get(root, frozenset((_UNKNOWN,))), (root, _selection(index)), False))
    if _is_write(stmt):
        name = stmt.target.name
        found.append((frozenset((name,)), (name, _selection(value.args[1].value)), True))
    return found


def _whole(index: object) -> object:
    """None for the whole array (`x[:]`), else the index."""
    parts = index if isinstance(index, tuple) else (index,)
    return None if all(p == slice(None) or p is Ellipsis for p in parts) else index


def _selection(index: object) -> tuple | None:
    """The index as something to compare and hash (a slice is not hashable before Python 3.12)."""
    index = _whole(index)
    if index is None:
        return None
    parts = index if isinstance(index, tuple) else (index,)
    return tuple((p.start, p.stop, p.step) if type(p) is slice else p for p in parts)


def _joins(stmt: Assign, run: _Run, kinds: _Kinds) -> bool:
    """Whether `stmt` can join `run`: its arrays and writes keep element-by-element order exact
    (and it reads no sum the loop is adding up)."""
    value, name = stmt.value, stmt.target.name
    if name in run.reductions or not ir.reads(stmt).isdisjoint(run.reductions):
        return False
    if _is_write(stmt):
        if name in run.bound or name in run.views or not _made_here(name, kinds.bases):
            return False
    elif value.op.value is operator.getitem:
        root = value.args[0].name
        if name in run.bound or name in run.read_before or name in run.written or root in run.bound or name == root:
            return False
    elif name in run.written:
        return False
    selections = {k: set(v) for k, v in run.selections.items()}
    written = set(run.written)
    for shared, selection, writes in _accesses(stmt, run, kinds):
        for base in shared:
            selections.setdefault(base, set()).add(selection)
        if writes:
            written.add(selection[0])
    if any(len(selections.get(base, ())) > 1 for base in written):
        return False
    run.selections, run.written = selections, written
    return True


def _add(stmt: Assign, run: _Run) -> None:
    value, name = stmt.value, stmt.target.name
    run.read |= ir.reads(stmt)
    reads = value.args[2:] if _is_write(stmt) else value.args
    run.read_before |= {a.name for a in reads if isinstance(a, Var) and a.name not in run.bound}
    if _is_write(stmt):
        pass
    elif value.op.value is operator.getitem:
        run.views[name] = (value.args[0].name, value.args[1].value)
    else:
        run.bound.setdefault(name, len(run.stmts))
        run.views.pop(name, None)
    run.stmts.append(stmt)


_SUMS = {jit_reductions.sum_axis: False, jit_reductions.sum_axis_kept: True}


def _sums_along(stmt: ir.Stmt, run: _Run, kinds: _Kinds) -> bool:
    """`t = sum_axis(a, axis)` (or `sum_axis_kept`) of a matrix of the run's shape, along a
    constant axis, binding a name the run has not touched: added up in the run's loop."""
    value = stmt.value if type(stmt) is Assign else None
    if not (type(value) is Call and value.op.value in _SUMS and len(value.args) == 2 and not value.kwargs):
        return False
    array, axis = value.args
    name = stmt.target.name
    return (len(run.shape) == 2 and type(axis) is Const and axis.value in (0, 1, -1, -2) and type(array) is Var
            and kinds.array(array) == run.shape and not kinds.bases.get(array.name, frozenset()) & run.written
            and name not in set(run.bound) | set(run.views) | run.written | run.read | set(run.reductions))


def _add_sum(stmt: Assign, run: _Run) -> None:
    array, axis = stmt.value.args
    run.reductions[stmt.target.name] = (array, axis.value % 2, _SUMS[stmt.value.op.value])
    run.read.add(array.name)
    run.read_before |= {array.name} - set(run.bound)
    run.stmts.append(stmt)


# ------------------------------------------------------------------ the pass


def fuse(fn: ir.Function, table: dict) -> ir.Function:
    """`fn` with its runs of elementwise statements as loops; `table`: shape classes of its names."""
    kinds = _Kinds(fn, table)
    names = _Names(fn)
    body = _fuse_block(fn.body, kinds, _Readers(fn), names, top=True)
    return ir.Function(fn.name, fn.params, body, fn.filename, fn.firstline, fn.lines, fn.temps | names.made,
                       fn.defaults, fn.tape)


def _fuse_block(body: list[ir.Stmt], kinds: _Kinds, readers: _Readers, names: _Names,
                top: bool = False) -> list[ir.Stmt]:
    out: list[ir.Stmt] = []
    run: _Run | None = None
    for position, stmt in enumerate(body):
        kinds.position = position if top else kinds.position
        if isinstance(stmt, ir.COMPOUND):
            out += _close(run, readers, names, kinds)
            run = None
            out.append(ir.rebuild(stmt, lambda block: _fuse_block(block, kinds, readers, names)))
            continue
        shape = _shape_of(stmt, kinds) if type(stmt) is Assign else None
        if run is not None and shape == run.shape and _joins(stmt, run, kinds):
            _add(stmt, run)
            continue
        if run is not None and shape is None and _sums_along(stmt, run, kinds):
            _add_sum(stmt, run)
            continue
        if run is not None and shape is None and run.can_move(stmt, kinds.bases):
            run.moved.add(stmt.sid)
            run.stmts.append(stmt)
            run.read |= ir.reads(stmt)
            continue
        out += _close(run, readers, names, kinds, stmt)
        run = None
        if shape is not None:
            run = _Run(shape, kinds.position)
            if _joins(stmt, run, kinds):
                _add(stmt, run)
                continue
            run = None
        out.append(stmt)
    return out + _close(run, readers, names, kinds)


def _close(run: _Run | None, readers: _Readers, names: _Names, kinds: _Kinds,
           following: ir.Stmt | None = None) -> list[ir.Stmt]:
    """The run as a loop, where it computes something (a run of views only stays as it was).
    One operation is a loop too: Numba compiles a loop over numbers in less time than an
    operation on arrays (`strong_div` of two arrays: 1.9 s, of two numbers in a loop: 0.1 s)."""
    if run is None:
        return []
    if run.work < 1:
        return list(run.stmts)
    return _Loop(run, readers, names, kinds, following).statements()


class _Names:
    """Fresh names, none of the function's."""

    def __init__(self, fn: ir.Function) -> None:
        self.taken = set(fn.params) | fn.temps
        for stmt in ir.walk(fn.body):
            self.taken |= ir.reads(stmt) | ir.writes(stmt) if type(stmt) is Assign else ir.reads(stmt)
            if type(stmt) is ir.For:
                self.taken.add(stmt.target.name)
        self.made: set[str] = set()

    def fresh(self, base: str) -> str:
        name, k = base, 1
        while name in self.taken:
            name, k = f"{base}{k}", k + 1
        self.taken.add(name)
        self.made.add(name)
        return name


class _Loop:
    """One run written as nested loops over its shape."""

    def __init__(self, run: _Run, readers: _Readers, names: _Names, kinds: _Kinds,
                 following: ir.Stmt | None = None) -> None:
        self.run, self.names, self.kinds = run, names, kinds
        self.line = run.stmts[0].line
        self.sums = {} if self._has_trig() else run.reductions
        """The sums along an axis added up in the loop (none in a loop that may be done again)."""
        self.after_loop = [s for s in run.stmts if s.target.name in run.reductions and s.target.name not in self.sums]
        """The sums not added up in the loop: made after it, as they were."""
        later = {s.sid for s in self.after_loop}
        after = {name: {s.sid for s in run.stmts[first + 1:]} - later for name, first in run.bound.items()}
        self.kept = [n for n in run.bound if n in run.read_before or not readers.only(n, after[n])]
        self.last = {s.target.name: i for i, s in enumerate(run.stmts) if s.target.name in run.bound
                     and s.sid not in run.moved}
        self.counters = [Var(names.fresh("ijklmn"[d] if d < 6 else f"i{d}")) for d in range(len(run.shape))]
        self.before: list[ir.Stmt] = []
        self.body: list[ir.Stmt] = []
        self.row_start: list[ir.Stmt] = []
        self.row_end: list[ir.Stmt] = []
        """Around the inner loop of a matrix: a sum along the row read before it, stored after."""
        self.local: dict[str, ir.Atom] = {}
        self.loaded: dict[tuple[str, tuple[int, ...]], Var] = {}
        self.outputs: dict[str, Var] = {}
        self.cones: dict[str, tuple[tuple[ir.Atom, ...], bool]] = {}
        """Per name the run binds: the operands from outside the run its value is computed from,
        and whether an operation on the way makes integers floats (for its array's dtype)."""
        self.index = self._index()
        donors = {} if self._has_trig() else {n: self._donor(n, following) for n in self.kept}
        self.donors = {n: d for n, d in donors.items() if d is not None}
        """Per kept name, the name whose array its new elements may be written into (`_donor`)."""
        self.repeatable = not self.donors and not any(_is_write(s) for s in run.stmts if s.sid not in run.moved)
        """Whether doing the loop twice gives what doing it once gives (it writes into no array
        the function had: only into new arrays of the values it binds)."""
        self.wide: Var | None = None
        """Whether a sin or cos met an argument past `jit_math.WIDE` (then the loop is done again
        with NumPy's functions); None where the loop has none, or is not repeatable."""

    def _donor(self, name: str, following: ir.Stmt | None) -> str | None:
        """The name whose array the loop can write `name`'s new elements into (an accumulator,
        `bwh = bwh + t41`, or `t42 = bwh + t41` followed by `bwh = t42`): `name` itself or the
        name the statement after the run copies it to, whose old value no one reads after the
        run. The run reads that array element by element only, through that name, each at the
        element it writes (of the run's shape, not written, not broadcast); the function made
        every array the name may hold, and no other name may hold one of them but `name`, which
        the run rebinds: nothing sees the old elements afterwards. Where the old array is not
        of the new one's dtype, `fused_reuse` makes a new one at compile time."""
        candidates = [name]
        if type(following) is Assign and following.value == Var(name):
            candidates.insert(0, following.target.name)
        return next((d for d in candidates if self._gives(d, name)), None)

    def _gives(self, donor: str, name: str) -> bool:
        run, kinds = self.run, self.kinds
        bases = kinds.bases.get(donor, frozenset((_UNKNOWN,)))
        if (donor not in run.read_before or donor in run.written or donor != name and donor in run.bound
                or kinds.array(Var(donor)) != run.shape or _UNKNOWN in bases):
            return False
        if any(not run.selections.get(base, set()) <= {(donor, None)} for base in bases):
            return False
        holders = {other for other, found in kinds.bases.items() if found & bases} - {donor, name}
        return all(kinds.first.get(other, -1) > run.top for other in holders)  # (bound after: the new array)

    def _has_trig(self) -> bool:
        """A sin or cos, vectorised only in a loop that can be done again (see `jit_math.WIDE`)."""
        return any(s.sid not in self.run.moved and not _is_write(s) and isinstance(s.value, Call)
                   and _ELEMENT_OPS.get(id(s.value.op.value), (None,))[0] is not None
                   and _ELEMENT_OPS[id(s.value.op.value)][0].value in _NUMPY_TRIG for s in self.run.stmts)

    def statements(self) -> list[ir.Stmt]:
        for name in self.kept:
            self.outputs[name] = Var(self.names.fresh(f"{name}_all"))
        for position, stmt in enumerate(self.run.stmts):
            self._statement(stmt, position)
        allocations = [self._allocation(name) for name in self.kept] + [self._sum_allocation(n) for n in self.sums]
        loop = self.body
        for d in reversed(range(len(self.run.shape))):
            span = Var(self.names.fresh("span"))
            if d == 0 and len(self.run.shape) == 2:  # a row's running sums around the inner loop
                loop = self.row_start + loop + self.row_end
            loop = [Assign(span, Call(builtin_ref("range"), (Const(self.run.shape[d]),)), self.line),
                    ir.For(self.counters[d], span, (self._pack() if d == len(self.run.shape) - 1 else []) + loop,
                           self.line)]
        if self.wide is not None:
            loop = [Assign(self.wide, Const(False), self.line), *loop,
                    ir.If(self.wide, self._again(loop, {}), [], self.line)]
        rebound = [Assign(Var(name), self.outputs[name], self.line) for name in [*self.kept, *self.sums]]
        return self.before + allocations + loop + rebound + self.after_loop

    def _index(self) -> ir.Atom:
        if len(self.counters) == 1:
            return self.counters[0]
        return Var(self.names.fresh("at"))

    def _pack(self) -> list[ir.Stmt]:
        if len(self.counters) == 1:
            return []
        return [Assign(self.index, Pack(tuple(self.counters)), self.line)]

    def _statement(self, stmt: Assign, position: int) -> None:
        value, name = stmt.value, stmt.target.name
        if name in self.run.reductions:
            if name in self.sums:
                self._add_up(name, stmt.line)
        elif stmt.sid in self.run.moved:
            self.before.append(stmt)
        elif _is_write(stmt):
            self._write(stmt)
        elif value.op.value is operator.getitem:
            self.before.append(stmt)  # a view: made once, read by the trips
        else:
            op, real = _ELEMENT_OPS[id(value.op.value)]
            if value.op.value is operator.pow and _small_power(value.args[1]):
                op = None  # `t ** 2`: Numba multiplies
            if op is not None and op.value in _NUMPY_TRIG and not self.repeatable:
                op = _NUMPY_TRIG[op.value]
            self.cones[name] = self._cone(value.args, real)
            args = tuple(self._element(a, stmt.line) for a in value.args)
            local = Var(self.names.fresh(f"{name}_i"))
            self.body.append(Assign(local, Call(op or value.op, args), stmt.line))
            if op is not None and op.value in _NUMPY_TRIG:
                self._note_wide(args[0], stmt.line)
            self.local[name] = local
            if name in self.outputs and self.last[name] == position:
                out = self.outputs[name]
                self.body.append(Assign(out, Call(runtime_ref("setitem"), (out, self.index, local)), stmt.line))

    def _note_wide(self, argument: ir.Atom, line: int) -> None:
        """`wide = trig_wide(wide, argument)` after a vectorised sin or cos (through a temporary:
        an assignment of a call reads none of the names it binds)."""
        self.wide = self.wide or Var(self.names.fresh("wide"))
        now = Var(self.names.fresh(f"{self.wide.name}_now"))
        self.body += [Assign(now, Call(_TRIG_WIDE, (self.wide, argument)), line), Assign(self.wide, now, line)]

    def _again(self, block: list[ir.Stmt], renamed: dict[str, Var]) -> list[ir.Stmt]:
        """The loop `block` again, with NumPy's sin and cos, noting no wide argument; the numbers
        it binds renamed (each is read once, so the emitter folds it into its reader)."""
        out: list[ir.Stmt] = []
        for stmt in block:
            if type(stmt) is ir.For:
                out.append(ir.For(stmt.target, renamed.get(stmt.iter.name, stmt.iter),
                                  self._again(stmt.body, renamed), stmt.line))
                continue
            if stmt.target == self.wide or self.wide.name in ir.reads(stmt):
                continue
            value = _renamed(stmt.value, renamed)
            if isinstance(value, Call) and value.op.value in _NUMPY_TRIG:
                value = Call(_NUMPY_TRIG[value.op.value], value.args)
            if not ir.is_inplace(value):
                renamed[stmt.target.name] = Var(self.names.fresh(stmt.target.name))
            out.append(Assign(renamed.get(stmt.target.name, stmt.target), value, stmt.line))
        return out

    def _write(self, stmt: Assign) -> None:
        value = stmt.value
        target = stmt.target
        if _whole(value.args[1].value) is not None:
            target = Var(self.names.fresh(f"{target.name}_part"))
            self.before.append(Assign(target, Call(_GETITEM, (stmt.target, value.args[1])),
                                      stmt.line))
        element = self._element(value.args[2], stmt.line)
        self.body.append(Assign(target, Call(value.op, (target, self.index, element)), stmt.line))

    def _element(self, atom: ir.Atom, line: int) -> ir.Atom:
        if isinstance(atom, Var) and atom.name in self.local:
            return self.local[atom.name]
        have = self.kinds.array(atom)
        if have is None:
            return atom  # a number
        key = (atom.name, have)
        if key not in self.loaded:
            self.loaded[key] = Var(self.names.fresh(f"{atom.name}_i"))
            self.body.append(Assign(self.loaded[key], Call(_GETITEM,
                                                           (atom, self._index_for(have, line))), line))
        return self.loaded[key]

    def _index_for(self, have: tuple[int, ...], line: int) -> ir.Atom:
        """The element of an array of shape `have` broadcast to the run's shape."""
        if have == self.run.shape:
            return self.index
        skip = len(self.run.shape) - len(have)
        parts = tuple(Const(0) if n == 1 else self.counters[skip + d] for d, n in enumerate(have))
        if len(parts) == 1:
            return parts[0]
        packed = Var(self.names.fresh("at"))
        self.body.append(Assign(packed, Pack(parts), line))
        return packed

    def _add_up(self, name: str, line: int) -> None:
        """`t_all[j] = t_all[j] + a_ij` down the columns (row after row, as `np.sum` adds them);
        along a row, a running number `s = s + a_ij`, read from `t_all[i]` before the row and
        stored after it (one by one: NumPy adds eight at a time, so the last bits may differ)."""
        array, axis, kept = self.sums[name]
        element = self._element(array, line)
        out = self.outputs[name] = self.outputs.get(name) or Var(self.names.fresh(f"{name}_all"))
        other = self.counters[1 - axis]
        index = other
        if kept:
            index = Var(self.names.fresh("at"))
            where = [Assign(index, Pack((other, Const(0)) if axis == 1 else (Const(0), other)), line)]
            (self.row_start if axis == 1 else self.body).extend(where)
        add = Ref(operator.add, ("operator", "add"), operator)
        if axis == 1:  # along the row the inner loop runs over: a number, stored once the row is done
            running, total = Var(self.names.fresh(f"{name}_running")), Var(self.names.fresh(f"{name}_sum"))
            self.row_start.append(Assign(running, Call(_GETITEM, (out, index)), line))
            self.body += [Assign(total, Call(add, (running, element)), line), Assign(running, total, line)]
            self.row_end.append(Assign(out, Call(runtime_ref("setitem"), (out, index, running)), line))
        else:
            found, total = Var(self.names.fresh(f"{name}_found")), Var(self.names.fresh(f"{name}_sum"))
            self.body += [Assign(found, Call(_GETITEM, (out, index)), line),
                          Assign(total, Call(add, (found, element)), line),
                          Assign(out, Call(runtime_ref("setitem"), (out, index, total)), line)]
        self.cones[name] = self._cone((array,), False)

    def _sum_allocation(self, name: str) -> Assign:
        """`t_all = fused_sum_empty(shape, ...)`: zeros of the dtype `np.sum` gives."""
        _, axis, kept = self.sums[name]
        shape = tuple(1 if d == axis else n for d, n in enumerate(self.run.shape)) if kept else (
            self.run.shape[1 - axis],)
        inputs, _ = self.cones[name]
        helper = jit_helpers.fused_sum_empty
        return Assign(self.outputs[name], Call(Ref(helper, (helper.__name__,)), (Const(shape), *inputs)), self.line)

    def _allocation(self, name: str) -> Assign:
        """`t_all = fused_empty(shape, ...)`: of the dtype NumPy gives the statements making `t`."""
        inputs, real = self.cones[name]
        if name in self.donors:
            helper = jit_helpers.fused_reuse_real if real else jit_helpers.fused_reuse
            call = Call(Ref(helper, (helper.__name__,)), (Var(self.donors[name]), Const(self.run.shape), *inputs))
        else:
            helper = jit_helpers.fused_empty_real if real else jit_helpers.fused_empty
            call = Call(Ref(helper, (helper.__name__,)), (Const(self.run.shape), *inputs))
        return Assign(self.outputs[name], call, self.line)

    def _cone(self, args: tuple[ir.Atom, ...], real: bool) -> tuple[tuple[ir.Atom, ...], bool]:
        inputs: list[ir.Atom] = []
        for atom in args:
            found, made_real = self.cones.get(atom.name if isinstance(atom, Var) else "", ((atom,), False))
            inputs += [a for a in found if a not in inputs]
            real = real or made_real
        return tuple(inputs), real


def _renamed(value: ir.Expr, renamed: dict[str, Var]) -> ir.Expr:
    if isinstance(value, Var):
        return renamed.get(value.name, value)
    if isinstance(value, Pack):
        return Pack(tuple(_renamed(a, renamed) for a in value.items))
    if isinstance(value, Call):
        return Call(value.op, tuple(_renamed(a, renamed) for a in value.args), value.kwargs)
    return value


__all__ = ["fuse"]
