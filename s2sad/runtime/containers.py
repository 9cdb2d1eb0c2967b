"""In-place operations (each mutates its first argument), container displays and the
adjoints of item, attribute and sequence reads."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from s2sad.errors import Location, S2SADError, UnsupportedSyntax, UnsupportedValue, UsageError
from s2sad.runtime.complexes import real_like
from s2sad.runtime.core import add, array_kind, foreign_array, unbroadcast, zeros_like

# ---------------------------------------------------------------- in-place operations
# Each mutates its first argument. Generated code writes them as the statements they stand
# for (`x[i] = v`, `x[i] += v`, `items.append(v)`, `v = items.pop()`); `add_at` is called as it is.


def inplace(fn):
    fn.__s2sad_inplace__ = True
    return fn


class _Missing:
    """What `item_or_missing` gives for a key a dict does not have yet."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()


def item_or_missing(x, index):
    """`x[index]`, or MISSING for a key a dict does not have (what a write that adds the key
    overwrote: restoring MISSING removes the key again)."""
    if isinstance(x, dict):
        return x.get(index, MISSING)
    return x[index]


def zero_item(adjoint, index, x):
    """The adjoint of a list or dict after the adjoint of `x[index] = v` and x's restore: the
    slot (zeroed with 0.0) becomes a zero shaped like the item x holds again where that item is
    an array or a structure (a list, or an array of another shape, that `x[index] = v`
    replaced). A new container where anything changes, so that it differentiates as a function.
    (A key the write added keeps its 0.0.)"""
    old = item_or_missing(x, index)
    if isinstance(old, (list, tuple, dict, np.ndarray)) and isinstance(adjoint, (list, dict)):
        adjoint = adjoint.copy()
        adjoint[index] = zeros_like(old)
    return adjoint


def item_to_write(x, index):
    """A copy of `x[index]`, for `x[index][j] = v`, which the lowering writes as
    `row = item_to_write(x, index); row[j] = v; x[index] = row`. That is exact for an array
    indexed by integers and slices (where `x[index]` is a view, written through), and for a
    list's or dict's item that is a list, dict or array no other item of `x` is (names that
    hold it are checked where they are read: `aliasing.copy_views`). An array indexed by an
    array (a copy, whose write Python drops) and an item another item is too (the rows of
    `[[0.0] * n] * n`, which Python writes all at once) are refused."""
    if isinstance(x, np.ndarray) and _basic_index(index):
        return x[index].copy()
    if isinstance(x, (list, dict)) and not isinstance(index, slice):
        item = x[index]
        at = index % len(x) if isinstance(x, list) else index
        others = (v for k, v in (x.items() if isinstance(x, dict) else enumerate(x)) if k != at)
        if isinstance(item, (list, dict, np.ndarray)) and not any(v is item for v in others):
            return copy_value(item)
    raise UnsupportedValue(
        "x[i][j] = v writes into an item that is not a list, dict or array of its own (another item of x is "
        "the same object, as the rows of [[0.0] * n] * n are), or into an array indexed by an array: Python "
        "changes that object for every name that holds it, or a copy it then drops; s2sad cannot follow the "
        "write", hint="make each item its own object ([[0.0] * n for _ in range(n)]), write into an array by "
                      "one index, x[i, j] = v, or rebuild the item: row = x[i].copy(); row[j] = v; x[i] = row")


def not_an_item(value, like):
    """`value`, read from `like`, whose items are written into (`x[i][j] = v`) later while `value`
    is still used: fine for a number or a copy, an error for a view of an array `like`, and for
    a list, dict or array read from a list or dict `like` (it would change with the write in
    Python; s2sad writes into a copy of the item)."""
    if isinstance(like, np.ndarray):
        return not_a_view(value)
    if isinstance(value, (list, dict)) or isinstance(value, np.ndarray) and value.ndim > 0:
        raise S2SADError(
            "this value read from a list or dict whose items are written into later (x[i][j] = v) is one of "
            "its items: it would change with the write, which the derivative would not follow",
            hint="take a copy where it is read: copy.deepcopy(x[i]), x[i].copy(), list(x[i])")
    return not_a_view(value)


def _basic_index(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(item is None or item is Ellipsis or isinstance(item, slice)
               or (isinstance(item, (int, np.integer)) and not isinstance(item, bool)) for item in items)


@inplace
def setitem(x, index, value):
    """`x[index] = value`, returning `x` (MISSING removes a dict's key)."""
    if value is MISSING:
        del x[index]
    else:
        x[index] = value
    return x


@inplace
def list_append(items, value):
    """`items.append(value)`, returning `items`."""
    items.append(value)
    return items


@inplace
def list_pop(items):
    """`items.pop()`: the last item, removed."""
    return items.pop()


@inplace
def add_into(x, index, value):
    """`x[index] += value`, returning `x`: for a float array `x` and a basic index (integers and
    slices), where code specialised to shapes knows both. Generated code writes the statement."""
    x[index] += value
    return x


@inplace
def add_at(x, index, value):
    """Accumulate `value` into `x[index]` in place: repeated integer indices add up."""
    if isinstance(x, np.ndarray) and foreign_array(value):  # NumPy zeros, a Dask or CuPy cotangent:
        x = np.asarray(x, like=value)  # the sum in the cotangent's library (CuPy mixes in no NumPy array)
        _add_into_foreign(x, index, value)
    elif isinstance(x, np.ndarray):
        value = real_like(value, x)  # a real array's part of a complex cotangent
        if isinstance(index, (int, slice, np.integer)) or (
                isinstance(index, tuple) and all(isinstance(i, (int, slice, np.integer)) for i in index)):
            x[index] += value
        else:
            np.add.at(x, index, value)
    elif foreign_array(x):
        _add_into_foreign(x, index, value)
    elif isinstance(x, tuple):  # immutable: a new tuple (or namedtuple) with the slot updated
        items = list(x)
        items[index] = add(items[index], value)
        return type(x)(*items) if hasattr(x, "_fields") else tuple(items)
    else:
        x[index] = add(x[index], value)
    return x


def _add_into_foreign(x, index, value) -> None:
    """`add_at` into a Dask or CuPy array. CuPy has `np.add.at` (its `__array_ufunc__`); Dask
    has not, and its item assignment keeps one of several values written to one element. Then
    which elements `index` selects is worked out on the shape alone (NumPy); an index that
    selects elements more than once is added in rounds, each selecting every element at most
    once (the first time each is selected, then the second...): the sums of `np.add.at`, added
    in its order."""
    parts = index if isinstance(index, tuple) else (index,)
    if all(isinstance(i, _BASIC_INDEX) for i in parts):
        x[index] = x[index] + value
        return
    if any(foreign_array(i) for i in parts):  # an index on the device: the NumPy parts go there too
        index = parts = tuple(np.asarray(i, like=x) if isinstance(i, np.ndarray) else i for i in parts)
    if isinstance(value, np.ndarray) and value.ndim:  # (CuPy adds no NumPy array to its own)
        value = np.asarray(value, like=x)
    try:
        np.add.at(x, index, value)
        return
    except TypeError:  # the library has no `add.at` (Dask): NotImplemented before any change
        pass
    if any(foreign_array(i) for i in parts):
        kind = array_kind(x)
        raise UnsupportedValue(
            f"an index that is itself a {kind} selects from a {kind} whose derivative s2sad accumulates: "
            "not supported", hint="index with a NumPy array or a list")
    selected = np.arange(math.prod(x.shape)).reshape(x.shape)[index]  # the flat positions selected
    chosen = selected.ravel()
    values = (np.broadcast_to(value, selected.shape) + np.zeros((), np.result_type(value))).reshape(-1)
    flat = x.reshape(-1)  # (the library indexes a flat array by a list of positions)
    for picked in _rounds(chosen):  # (positions as lists: every array library indexes by a list)
        where, taken = chosen[picked].tolist(), picked.tolist()
        flat[where] = flat[where] + values[taken]
    x[...] = flat.reshape(x.shape)


_BASIC_INDEX = (int, slice, np.integer, type(None), type(Ellipsis))


def _rounds(positions: np.ndarray) -> list[np.ndarray]:
    """The indices into `positions` split into rounds: round r holds, for each position, its
    r-th occurrence (in order), so no round names a position twice."""
    order = np.argsort(positions, kind="stable")
    ranked = positions[order]
    starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])
    occurrence = np.arange(ranked.size) - np.repeat(starts, np.diff(np.r_[starts, ranked.size]))
    return [order[occurrence == r] for r in range(int(occurrence.max()) + 1)] if ranked.size else []


def scatter_add(out, index, g):
    """`np.add.at(out, index, g)` where `g` may be a Dask or CuPy array (`out` is then made an
    array of that library); the array holding the sums."""
    if not foreign_array(g) and not foreign_array(out):
        np.add.at(out, index, g)
        return out
    if not foreign_array(out):
        out = np.asarray(out, like=g)  # (in g's library: CuPy adds no NumPy array to its own)
    _add_into_foreign(out, index, g)
    return out


def copy_value(x):
    """A copy that generated code may mutate: arrays and containers are copied, numbers kept."""
    if isinstance(x, np.ndarray) or foreign_array(x):
        return x.copy()
    if isinstance(x, list):
        return [copy_value(v) for v in x]
    if isinstance(x, dict):
        return {k: copy_value(v) for k, v in x.items()}
    return x


def assertion_failed(*message):
    """`assert test, message` where the test failed: raise what Python raises."""
    raise AssertionError(*message)


def make_list(*items):
    """`[a, b, ...]`."""
    return list(items)


def make_record(cls, names, *values):
    """`Cls(a, b=c)` of a dataclass or namedtuple: the fields `names` given `values`."""
    return cls(**dict(zip(names, values)))


def make_dict(keys, *values):
    """`{k1: v1, k2: v2}` with the keys given as one tuple."""
    return dict(zip(keys, values))


def as_sequence(items):
    """What a `for` loop indexes: arrays, lists and tuples as they are, a dict's keys, or any
    other iterable as a list."""
    if isinstance(items, (np.ndarray, list, tuple, range)) or foreign_array(items):
        return items
    return list(items)


def like_structure(g, x):
    """`g`, a (co)tangent of `x`, in the structure of `x`: for a list or tuple (nested too) or a
    dict, the same container of the leaves' parts (an array made by a NumPy function of the list
    is split along its first axis; a zero (None) part is a zero of its leaf); for an array, an
    array. Anything else as it is."""
    if isinstance(x, (list, tuple)):
        if isinstance(g, (list, tuple)) and len(g) == len(x) and type(g) is type(x):
            if all(_same_leaf_kind(a, b) for a, b in zip(g, x)):
                return g  # the common case: already the structure of x
        parts = [zeros_like(item) if g is None else like_structure(g[i], item) for i, item in enumerate(x)]
        if isinstance(x, list):
            return parts
        return type(x)(*parts) if hasattr(x, "_fields") else tuple(parts)
    if isinstance(x, dict) and isinstance(g, dict):
        return {k: like_structure(g.get(k), v) for k, v in x.items()}
    if g is None:
        return zeros_like(x)
    if isinstance(x, np.ndarray) and isinstance(g, (list, tuple)):
        return np.asarray(g)
    if foreign_array(x) and isinstance(g, (list, tuple)):
        return np.stack(g)  # rows of a Dask or CuPy array: stacked by their library
    return real_like(g, x)  # a real leaf's part of a complex cotangent is its real part


def _same_leaf_kind(g, x) -> bool:
    """Whether `g` already has the structure `like_structure(g, x)` would give it."""
    if isinstance(x, (list, tuple, dict)):
        return False  # nested: look inside
    return g is not None and not (isinstance(g, (list, tuple)) and (isinstance(x, np.ndarray) or foreign_array(x)))


def sequence_tangent(dx, x):
    """The tangent of `as_sequence(x)`: the items of `dx`, or zeros for a dict's keys (keys are
    never differentiable)."""
    return zeros_like(list(x)) if isinstance(x, dict) else as_sequence(dx)


def items_tangent(dx, x, kind):
    """The tangent of `list(x)` (`kind` "list") or `tuple(x)`: the items of `dx`, or zeros for a
    dict's keys (keys are never differentiable)."""
    items = zeros_like(list(x)) if isinstance(x, dict) else list(as_sequence(dx))
    return items if kind == "list" else tuple(items)


def items_adjoint(g, items):
    """The cotangent of `items` in `list(items)` or `tuple(items)`: the items of `g` in the kind of
    `items` (an array's as an array; a zero item, None, as zeros), zero for a dict's keys."""
    if isinstance(items, dict):
        return zeros_like(items)
    parts = [zeros_like(item) if part is None else part for part, item in zip(g, as_sequence(items))]
    if isinstance(items, np.ndarray):
        return np.asarray(parts).reshape(items.shape) if parts else zeros_like(items)
    if foreign_array(items):  # a Dask or CuPy array's rows, stacked by their library
        return np.stack(parts).reshape(items.shape) if parts else zeros_like(items)
    return tuple(parts) if isinstance(items, tuple) else parts


def items_adjoint_transpose(c, g, items):
    """The transpose of `items_adjoint(g, items)` in `g`: the items of `c` in the kind of `g`."""
    if isinstance(items, dict):
        return zeros_like(g)
    parts = list(as_sequence(c))
    return tuple(parts) if isinstance(g, tuple) else parts


def without(x, index):
    """`del x[index]` as a new value: a dict without the key, a list without the item (or the
    items of a slice). An array has no `del`, as in NumPy."""
    if isinstance(x, dict):
        return {k: v for k, v in x.items() if k != index}
    if isinstance(x, list):
        out = list(x)
        del out[index]
        return out
    if isinstance(x, np.ndarray):
        raise ValueError("cannot delete array elements")
    raise TypeError(f"{type(x).__name__!r} object doesn't support item deletion")


def without_adjoint(g, x, index):
    """The cotangent of `x` in `without(x, index)`: `g` with a zero of each deleted item put back
    where it was."""
    if isinstance(x, dict):
        return {k: (zeros_like(v) if k == index else _part(g, k, v)) for k, v in x.items()}
    kept = list(range(len(x)))
    del kept[index]
    parts = [zeros_like(v) for v in x]
    for k, at in enumerate(kept):
        parts[at] = _part(g, k, x[at])
    return parts


def _part(g, key, item):
    part = None if g is None else g.get(key) if isinstance(g, dict) else g[key]
    return zeros_like(item) if part is None else part


def keys_of(mapping):
    """The keys of a dict, as a list (what `for k in d.keys()` and `d.items()` iterate)."""
    return list(mapping)


def getitem_adjoint(g, x, index):
    """The cotangent of `x` in `x[index]`: zeros with `g` added at `index` (repeats add up)."""
    return add_at(zeros_like(x), index, g)


def attribute_adjoint(g, obj, name):
    """The cotangent of `obj` in `obj.name`: zeros of its structure with `g` in that field."""
    zero = zeros_like(obj)
    if hasattr(zero, "_replace"):
        return zero._replace(**{name: g})
    return dataclasses.replace(zero, **{name: g})


def sum_adjoint(g, items, start=0):
    """The cotangent of each item in `sum(items)`: `g`, summed down to the item's shape; for
    an array summed over its first axis, an array."""
    if isinstance(items, np.ndarray):
        return np.broadcast_to(unbroadcast(g, items[0]) if len(items) else g, items.shape).copy()
    parts = [unbroadcast(g, item) for item in items]
    return tuple(parts) if isinstance(items, tuple) else parts


@inplace
def tape_pop(tape):
    """`tape.pop()` in the adjoint sweep: a value the primal sweep saved. Like `list_pop`, but
    shape analysis knows the value is an earlier value of the variable it is assigned to."""
    return tape.pop()


POPS = (list_pop, tape_pop)


def trip_value(values, trip):
    """`values[trip]` in the adjoint sweep: a number a loop over `range(n)` kept for that trip
    (see `s2sad.analyses.trip_slots`). Like `tape_pop`, shape analysis knows the value is an
    earlier value of the variable it is assigned to."""
    return values[trip]


def copy_list(items):
    """A new list with the same items (a tape the adjoint sweep may pop without consuming the
    caller's residuals)."""
    return list(items)


def reverse_items(items):
    """The items in reverse order, as a list (the adjoint of `reversed`)."""
    return list(reversed(items))


def sequence_adjoint(g, items):
    """The cotangent of `items` in `as_sequence(items)`: `g`, or zero for a dict (whose keys
    were iterated)."""
    return zeros_like(items) if isinstance(items, dict) else g


def sequence_adjoint_transpose(c, g, items):
    """The transpose of `sequence_adjoint(g, items)`: `c`, or zeros the shape of `g` (the keys
    iterated) for a dict."""
    return zeros_like(g) if isinstance(items, dict) else c


def attribute_of(g, name):
    """`getattr(g, name)`, or None when the structure carries no cotangent there."""
    return None if g is None else getattr(g, name)


def reversed_adjoint(g, items):
    """The cotangent of `items` in `reversed(items)`: `g` in the original order and kind."""
    if isinstance(items, np.ndarray):
        return np.asarray(g)[::-1]
    if foreign_array(items):
        return (g if foreign_array(g) else np.stack(g))[::-1]
    parts = list(reversed(list(g)))
    return tuple(parts) if isinstance(items, tuple) else parts


def reversed_adjoint_transpose(c, g):
    """The transpose of `reversed_adjoint` in `g`: `c` reversed, in the kind of `g`."""
    return reversed_adjoint(c, g)


def call_method(obj, name, *args, **kwargs):
    """`obj.name(*args, **kwargs)` for an object s2sad knows nothing about (a random generator,
    say). It has no derivative rule: a call with active arguments is reported at transform time."""
    return getattr(obj, name)(*args, **kwargs)


def not_shared(written, other, where):
    """On entry to a function that writes into its parameter `written` in place (s2sad writes
    into a copy): an error where the parameter `other` is the same object or shares memory with
    it, as `h(v, v)` passes it (Python's `other` would see the write). `where`: the function's
    location, then the two names."""
    same = written is other
    if not same and isinstance(written, np.ndarray) and isinstance(other, np.ndarray) \
            and np.may_share_memory(written, other):
        try:
            same = np.shares_memory(written, other, max_work=10_000)
        except getattr(np, "exceptions", np).TooHardError:
            same = True
    if same:
        raise UnsupportedValue(
            f"{where[4]!r} is written in place and {where[5]!r} is the same object, or shares memory with it, "
            f"in this call: Python's {where[5]} would change with the write, which the derivative would not follow",
            hint="pass a copy as one of them: h(v, v.copy())")
    return None



def check_pair(value, where):
    """`has_aux=True`: the function returned `value`, which must be a pair (output, aux), where
    the return's kind is not known before it runs. `where`: the return's filename, line and
    text, then the function's name."""
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return None
    what = f"{len(value)} values" if isinstance(value, (tuple, list)) else f"a {type(value).__name__}"
    raise UsageError(f"has_aux=True: {where[3]} must return a pair (output, aux), but it returned {what}",
                     Location.of(where[0], where[1], where[2], "return"),
                     hint="return output, aux (aux: anything to hand back beside the derivative), or leave has_aux out")


def not_a_view(value):
    """`value`, read from an array that is written in place later while `value` is still used:
    fine for a number or a copy, an error for a view (it would change, unlike its derivative)."""
    if isinstance(value, np.ndarray) and value.base is not None:
        raise S2SADError(
            "this value read from an array that is written in place later (an item, a slice, x.T, a reshape) "
            "is a view of that array: it would change with the write, which the derivative would not follow",
            hint="take a copy where it is read: x[i].copy(), x.T.copy()")
    return value


# ---------------------------------------------------------------- `+` and `*` on tuples and lists


def concat(x, y):
    """`x + y` on tuples or lists: concatenation."""
    return x + y


def repeat_items(x, count):
    """`x * count` (or `count * x`) on a tuple or list: `count` copies of its items."""
    return x * count


def is_count(n) -> bool:
    """Whether `seq * n` repeats the tuple or list `seq` (an integer, as Python's `*` takes it),
    rather than being NumPy's elementwise product (an array, a float)."""
    return isinstance(n, (int, np.integer)) or (isinstance(n, np.ndarray) and n.ndim == 0 and n.dtype.kind in "iub")


def head(g, x):
    """The first `len(x)` items of `g`, as `x`'s kind: the cotangent of `x` in `x + y`."""
    return _like(x, g[: len(x)])


def tail(g, y):
    """The last `len(y)` items of `g`, as `y`'s kind: the cotangent of `y` in `x + y`."""
    return _like(y, g[len(g) - len(y):])


def pad_tail(c, g):
    """`c` followed by zeros for the rest of `g`: the transpose of `head`."""
    return _like(g, list(c) + list(zeros_like(g[len(c):])))


def pad_head(c, g):
    """Zeros for the start of `g`, then `c`: the transpose of `tail`."""
    return _like(g, list(zeros_like(g[: len(g) - len(c)])) + list(c))


def fold_repeats(g, x):
    """The cotangent of `x` in `x * count`: the `count` slices of `g` the size of `x`, added up."""
    n = len(x)
    total = zeros_like(x)
    for start in range(0, len(g) if n else 0, n):
        total = add(total, _like(x, g[start:start + n]))
    return total


def unfold_repeats(c, g):
    """`c` repeated to the length of `g`: the transpose of `fold_repeats`."""
    return _like(g, list(c) * (len(g) // len(c) if len(c) else 0))


def transposed(rows):
    """`zip(*rows)` as a value: a new list of the tuples of the rows' items at each position
    (as many as the shortest row has)."""
    return list(zip(*rows))


def untransposed(g, rows):
    """The cotangent of `rows` in `transposed(rows)`: item `i` of row `r` gets `g[i][r]`, the
    items past the shortest row (which `zip` leaves out) zeros; for an array, an array."""
    if isinstance(rows, np.ndarray):
        if not len(g):
            return np.zeros_like(rows, dtype=np.result_type(rows, 1.0))
        return np.swapaxes(np.asarray(g, dtype=np.result_type(rows, 1.0)), 0, 1)
    out = [_like(row, [g[i][r] for i in range(len(g))] + [zeros_like(v) for v in row[len(g):]])
           for r, row in enumerate(rows)]
    return _like(rows, out)


def _like(kind, items):
    return tuple(items) if isinstance(kind, tuple) else list(items)


def rebindable(value, where):
    """`value` in `y += v` where `y` may share memory: a number or tuple (for which `+=` makes a
    new value), or an error for an array or list (for which Python would write into the object
    that other names hold too, which the derivative would not follow). `where` is the location,
    and for an argument of a call, the refusal's message and hint (see `s2sad.front.helper_writes`)."""
    if isinstance(value, (np.ndarray, list)):
        from s2sad.errors import Location, UnsupportedSyntax

        kind = "an array" if isinstance(value, np.ndarray) else "a list"
        if len(where) > 4:
            raise UnsupportedSyntax(f"{where[4]} (it is {kind} here)", Location(*where[:4]), hint=where[5])
        raise UnsupportedSyntax(
            f"`+=` (or another augmented assignment) on {kind} that another name may hold too: Python writes "
            "into it in place, which the derivative would not follow", Location(*where),
            hint="make a new value (y = y + v), or copy first (y = y.copy())")
    return value


def stored_value(value, into, where):
    """`value`, stored into `into` (`into[k] = value`) and written in place afterwards: an array
    copies what it stores, so `value` goes on as it is; a list or dict would hold `value` itself
    and see the write, which the derivative would not follow. With `where` None (nothing reads
    `into` after the write) it holds a copy; otherwise that is an error at the user's line."""
    if isinstance(into, np.ndarray):
        return value
    if where is None:
        return copy_value(value)
    raise UnsupportedSyntax(
        f"a {type(into).__name__} holds this value itself, which is written in place afterwards while the "
        f"{type(into).__name__} is still read: it would change too, which the derivative would not follow",
        Location(*where), hint="store a copy: items[k] = x.copy()")


def unwritten_sequence(items, where):
    """`items`, which a `for` loop iterates over while the loop writes into it in place: fine
    for a dict (the loop runs over a list of its keys) or a tuple, an error for an array or a
    list (Python's loop would see the writes, or the items appended, which the loop over what
    the sequence held when it started would not)."""
    if isinstance(items, (np.ndarray, list)):
        from s2sad.errors import Location, UnsupportedSyntax

        kind = "an array" if isinstance(items, np.ndarray) else "a list"
        raise UnsupportedSyntax(
            f"this loop iterates over {kind} that its body writes into in place (or appends to): Python's "
            "loop sees the new rows or items, which s2sad's loop over the items it started with would not",
            Location(*where),
            hint="loop over the indices and read the current item: for i in range(len(x)): r = x[i] "
                 "(or iterate over a copy, for r in x.copy(), if the loop should not see its writes)")
    return items


@inplace
def set_attribute(obj, name, value):
    """`obj.name = value`, returning `obj`."""
    setattr(obj, name, value)
    return obj
