"""Helpers of the reduction, linear-algebra, shape and indexing rules."""

from __future__ import annotations

import numpy as np

from s2sad.runtime.complexes import real_like
from s2sad.runtime.containers import scatter_add
from s2sad.runtime.core import _SCALARS, _axes, foreign_array, matmul_adjoint_x, matmul_adjoint_y, unreduce, zeros_like

# ---------------------------------------------------------------- reductions, linear algebra,
# shape and indexing helpers (rules in s2sad.rules.runtime_rules)


def _moved(shape: tuple, axis) -> tuple[list[int], tuple[int, ...]]:
    """The axes kept and the axes reduced by `axis`, for an array of `shape`."""
    axes = _axes(axis, len(shape))
    return [i for i in range(len(shape)) if i not in axes], axes


def _zeros(x):
    """Floating-point zeros shaped like `x` (float32 stays float32)."""
    if foreign_array(x):
        return np.zeros_like(x, dtype=np.result_type(x, 1.0))
    return np.zeros(np.shape(x), np.result_type(x, 1.0))


def to_last(x, axis=None):
    """`x` with the axes of `axis` moved to the end and merged into one (all axes for None)."""
    x = x if foreign_array(x) else np.asarray(x)
    keep, axes = _moved(x.shape, axis)
    n = int(np.prod([x.shape[a] for a in axes]))
    return np.reshape(np.transpose(x, keep + list(axes)), tuple(x.shape[i] for i in keep) + (n,))


def from_last(y, like, axis=None):
    """Undo `to_last`: split the last axis of `y` back into the axes of `axis` of `like`."""
    shape = np.shape(like)
    keep, axes = _moved(shape, axis)
    order = keep + list(axes)
    y = np.reshape(y, tuple(shape[i] for i in keep) + tuple(shape[a] for a in axes))
    return np.transpose(y, [int(i) for i in np.argsort(order)]) if order != sorted(order) else y


def prod_others(x, axis=None):
    """For each element, the product of the *other* elements of its reduction: the partial
    derivative of `np.prod(x, axis)`. Computed from prefix and suffix products, no division, so
    zeros in `x` are handled exactly."""
    if type(x) in _SCALARS:
        return 1.0
    z = to_last(x, axis)
    if z.shape[-1] == 0:
        return _zeros(x)
    ones = np.ones_like(z, shape=z.shape[:-1] + (1,))  # (in z's library)
    before = np.cumprod(np.concatenate([ones, z[..., :-1]], axis=-1), axis=-1)
    after = np.cumprod(np.concatenate([ones, z[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    return from_last(before * after, x, axis)


def square_mask(n: int, like, lower: bool = False):
    """The n-by-n boolean identity (`lower`: the lower triangle with the diagonal), in the
    library of `like` (a Dask or CuPy array gets one of its own: no NumPy array mixes in)."""
    mask = np.tri(n, dtype=bool) if lower else np.eye(n, dtype=bool)
    return np.asarray(mask, like=like) if foreign_array(like) else mask


def tie_weights(x, out, axis=None, keepdims=False):
    """1/k on the k elements equal to the reduction's result `out` (max, min), 0 elsewhere: ties
    share the derivative evenly."""
    mask = x == unreduce(out, x, axis, keepdims)
    dtype = np.result_type(x, 1.0)  # (`astype` keeps a Dask or CuPy array in its library)
    mask = mask.astype(dtype) if foreign_array(mask) else np.asarray(mask, dtype)
    return mask / np.sum(mask, axis=axis, keepdims=True)


def div_or_zero(num, den):
    """`num / den`, and 0 where `den` is 0 (the minimum-norm choice for norm-like kinks)."""
    den = den if foreign_array(den) else np.asarray(den)  # (a Dask array stays lazy)
    zero = den == 0
    out = np.where(zero, 0.0, num / np.where(zero, 1.0, den))
    return out if out.ndim else out[()]


def expand_weights(weights, x, axis=None):
    """The weights of `np.average(x, axis, weights)` broadcast to the shape of `x` (ones for None)."""
    shape = np.shape(x)
    if weights is None:
        return np.ones_like(x, dtype=float) if foreign_array(x) else np.ones(shape)
    if np.shape(weights) == shape:
        return weights
    _, axes = _moved(shape, axis)
    placed = [1] * len(shape)
    for a, n in zip(axes, np.shape(weights)):
        placed[a] = n
    return np.broadcast_to(np.reshape(weights, placed), shape)


def collapse_weights(c, weights, x, axis=None):
    """The adjoint of `expand_weights`: sum `c` (shaped like `x`) back to the shape of `weights`."""
    shape = np.shape(weights)
    if np.shape(c) == shape:
        return c
    keep, _ = _moved(np.shape(x), axis)
    return np.reshape(np.sum(c, axis=tuple(keep)), shape)


def norm_axes(x, ord=None, axis=None) -> tuple[int, ...]:
    """The axes `np.linalg.norm(x, ord, axis)` reduces."""
    ndim = np.ndim(x)
    if axis is None:
        return tuple(range(ndim)) if ord is None or ndim == 1 else (0, 1)
    return _axes(axis, ndim)


def norm_partial(x, ord, axes, keepdims, norm):
    """The gradient of `norm = np.linalg.norm(x, ord, axes, keepdims)` with respect to `x`: 0 at
    a zero vector (the minimum-norm subgradient); ties in max/min norms share it evenly."""
    scale = unreduce(norm, x, axes, keepdims)
    if len(axes) == 2 and ord not in (None, "fro"):
        return _matrix_norm_partial(x, ord, axes)
    if ord in (None, 2, "fro"):
        return div_or_zero(x, scale)
    if ord == 0:
        return _zeros(x)
    if ord in (np.inf, -np.inf):
        return np.sign(x) * tie_weights(np.abs(x), scale, axes, True)
    p = float(ord)
    return np.sign(x) * div_or_zero(np.abs(x) ** (p - 1), scale ** (p - 1))


def _matrix_norm_partial(x, ord, axes):
    m = np.moveaxis(x, axes, (-2, -1))
    if ord in ("nuc", 2, -2):
        u, _, vt = np.linalg.svd(m, full_matrices=False)
        if ord == "nuc":
            part = u @ vt
        else:
            k = 0 if ord == 2 else vt.shape[-2] - 1
            part = u[..., :, k:k + 1] @ vt[..., k:k + 1, :]
        return np.moveaxis(part, (-2, -1), axes)
    summed, across = (-2, -1) if ord in (1, -1) else (-1, -2)
    sums = np.sum(np.abs(m), axis=summed, keepdims=True)
    pick = np.max if ord > 0 else np.min
    part = np.sign(m) * tie_weights(sums, pick(sums, axis=across, keepdims=True), across, True)
    return np.moveaxis(part, (-2, -1), axes)


def norm_hvp(x, v, ord, axes, keepdims, norm):
    """The Hessian of the norm at `x` applied to `v` (symmetric, so also its own adjoint):
    zero for the piecewise-linear norms (ord 0, 1, inf, -inf and their matrix forms)."""
    if len(axes) == 2 and ord not in (None, "fro"):
        if ord in (2, -2, "nuc"):
            raise NotImplementedError(f"second derivatives of np.linalg.norm with ord={ord!r}")
        return _zeros(x)
    if ord in (0, 1, np.inf, -np.inf):
        return _zeros(x)
    p = 2.0 if ord in (None, "fro") else float(ord)
    scale = unreduce(norm, x, axes, keepdims)
    grad = norm_partial(x, ord, axes, keepdims, norm)
    along = unreduce(np.sum(grad * v, axis=axes, keepdims=keepdims), x, axes, keepdims)
    ratio = div_or_zero(np.abs(x), scale) ** (p - 2) if p != 2 else 1.0
    return (p - 1) * div_or_zero(ratio * v - grad * along, scale)


def as_columns(v, like):
    """`v` as a stack of column matrices when `like` is a vector (how `np.linalg.solve` reads a
    one-dimensional right-hand side), else `v` itself."""
    return v[..., None] if np.ndim(like) == 1 else v


def from_columns(m, like):
    """Undo `as_columns`."""
    return m[..., 0] if np.ndim(like) == 1 else m


def dot_adjoint_x(g, x, y):
    """Cotangent of `x` in `np.dot(x, y)`; for `y` of more than two dimensions np.dot pairs the
    last axis of `x` with the second-to-last of `y`."""
    if np.ndim(y) <= 2:
        return matmul_adjoint_x(g, x, y)
    adjoint, place = einsum_plan(dot_subscripts(x, y), 0, x, y)
    return einsum_place(contract(adjoint, g, y), place, x)


def dot_adjoint_y(g, x, y):
    """Cotangent of `y` in `np.dot(x, y)`."""
    if np.ndim(y) <= 2:
        return matmul_adjoint_y(g, x, y)
    adjoint, place = einsum_plan(dot_subscripts(x, y), 1, x, y)
    return einsum_place(contract(adjoint, g, x), place, y)


def diagonal_adjoint(g, x, offset=0, axis1=0, axis2=1):
    """The adjoint of `np.diagonal(x, offset, axis1, axis2)`: `g` placed on that diagonal."""
    if foreign_array(g):
        return _on_diagonal(g, np.shape(x), offset, axis1, axis2)
    out = np.zeros(np.shape(x), np.result_type(g, 1.0))
    view = np.moveaxis(out, (axis1, axis2), (-2, -1))
    rows, cols = view.shape[-2:]
    i = np.arange(max(0, -offset), min(rows, cols - offset))
    view[..., i, i + offset] = g
    return out


def _on_diagonal(g, shape: tuple, offset: int, axis1: int, axis2: int):
    """`diagonal_adjoint` for a Dask or CuPy `g`, without writing into an array (Dask cannot
    write through a view): each place of the two axes takes `g`'s entry for its position on the
    diagonal where it is on it, and 0 elsewhere (`where`: no product, so inf and NaN stay put)."""
    moved = np.moveaxis(np.zeros(shape, bool), (axis1, axis2), (-2, -1)).shape
    rows, cols = moved[-2:]
    r, c = np.indices((rows, cols))
    on = c - r == offset
    position = np.where(on, np.minimum(r, c), 0).ravel().tolist()  # the entry of g each place takes
    spread = np.reshape(g[..., position], moved)
    on = np.asarray(on, like=g)  # (in g's library, as the other operands of `where`)
    return np.moveaxis(np.where(on, spread, np.zeros((), np.result_type(g, 1.0))), (-2, -1), (axis1, axis2))


def diag_adjoint(g, v, k=0):
    """The adjoint of `np.diag(v, k)`: the k-th diagonal of `g` (v a vector), or `g` placed on
    the k-th diagonal of a zero matrix shaped like `v` (v a matrix)."""
    if np.ndim(v) == 1:
        return np.diagonal(g, k).copy()
    return diagonal_adjoint(g, v, k, 0, 1)


def _einsum_parse(subscripts: str, operands: tuple) -> tuple[list[str], str]:
    """Explicit input and output subscripts of an einsum, with `...` spelled as letters."""
    import string
    from collections import Counter

    subs = subscripts.replace(" ", "")
    lhs, arrow, out = subs.partition("->")
    ins = lhs.split(",")
    pool = [c for c in string.ascii_letters if c not in subs]
    width = max([np.ndim(op) - len(s) + 3 for s, op in zip(ins, operands) if "..." in s], default=0)
    ellipsis = "".join(pool[:width])
    ins = [s.replace("...", ellipsis[width - (np.ndim(op) - len(s) + 3):]) for s, op in zip(ins, operands)]
    if arrow:
        return ins, out.replace("...", ellipsis)
    counts = Counter("".join(ins))
    return ins, ellipsis + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ellipsis))


def einsum_plan(subscripts, k, x, y=None, z=None):
    """How to differentiate an einsum with respect to operand `k`: the subscripts contracting
    the cotangent with the other operands, and how to place that result into `k`'s shape."""
    operands = tuple(o for o in (x, y, z) if o is not None)
    ins, out = _einsum_parse(subscripts, operands)
    others = [s for i, s in enumerate(ins) if i != k]
    elsewhere = set(out) | set("".join(others))
    mine = ins[k]
    target = "".join(c for i, c in enumerate(mine) if c in elsewhere and c not in mine[:i])
    return ",".join([out, *others]) + "->" + target, (target, mine, f"{mine}->{target}")


def contract(subscripts, x, y=None, z=None):
    """`np.einsum(subscripts, ...)` on one to three operands (None operands are left out)."""
    return np.einsum(subscripts, *(o for o in (x, y, z) if o is not None))


def einsum_place(r, place, like):
    """Spread `r` (indexed by `place[0]`) over an array indexed by `place[1]` shaped like `like`:
    repeated letters become diagonals, letters missing from `r` are broadcast."""
    target, mine, _ = place
    if len(set(mine)) == len(mine) and set(mine) == set(target):
        return np.einsum(f"{target}->{mine}", r)
    sizes = dict(zip(target, np.shape(r)))
    sizes.update({c: n for c, n in zip(mine, np.shape(like)) if c not in sizes})
    if foreign_array(r):
        return _einsum_spread(r, target, mine, sizes)
    out = np.zeros(tuple(sizes[c] for c in mine), np.result_type(r, 1.0))
    unique = "".join(c for i, c in enumerate(mine) if c not in mine[:i])
    view = np.einsum(f"{mine}->{unique}", out)
    spread = np.einsum(f"{target}->{''.join(c for c in unique if c in target)}", r)
    view[...] = np.reshape(spread, tuple(sizes[c] if c in target else 1 for c in unique))
    return out


def _einsum_spread(r, target: str, mine: str, sizes: dict):
    """`einsum_place` without writing into a view (a Dask array has none): one einsum of `r` with
    a diagonal mask for each letter `mine` repeats and ones for each letter `r` lacks, the masks
    made by `r`'s library (`like=`)."""
    fresh = [chr(ord("A") + i) for i in range(len(mine))]  # one letter per axis of the result
    first = {c: fresh[mine.index(c)] for c in set(mine)}
    operands, inputs = [r], ["".join(first.get(c, "") for c in target)]
    for c in dict.fromkeys(mine):
        axes = [fresh[i] for i, m in enumerate(mine) if m == c]
        if len(axes) > 1 or c not in target:
            operands.append(np.asarray(_diagonal_mask(sizes[c], len(axes)), like=r))
            inputs.append("".join(axes))
    return np.einsum(f"{','.join(inputs)}->{''.join(fresh)}", *operands)


def _diagonal_mask(n: int, k: int) -> np.ndarray:
    """The k-axis identity of size n: 1 where every index is equal (ones for k = 1)."""
    mask = np.zeros((n,) * k)
    mask[(np.arange(n),) * k] = 1.0
    return mask


def tensordot_subscripts(a, b, axes=2) -> str:
    """The einsum subscripts of `np.tensordot(a, b, axes)`."""
    import string

    na, nb = np.ndim(a), np.ndim(b)
    if isinstance(axes, (int, np.integer)):
        axes = (list(range(na - axes, na)), list(range(axes)))
    left, right = ([axes[0]] if np.ndim(axes[0]) == 0 else list(axes[0]),
                   [axes[1]] if np.ndim(axes[1]) == 0 else list(axes[1]))
    letters = iter(string.ascii_letters)
    sa = [next(letters) for _ in range(na)]
    sb = [next(letters) for _ in range(nb)]
    for i, j in zip(left, right):
        sb[j % nb] = sa[i % na]
    free_a = [c for i, c in enumerate(sa) if i not in {i % na for i in left}]
    free_b = [c for j, c in enumerate(sb) if j not in {j % nb for j in right}]
    return f"{''.join(sa)},{''.join(sb)}->{''.join(free_a + free_b)}"


def inner_subscripts(a, b) -> str:
    """The einsum subscripts of `np.inner(a, b)` (a product when either is a scalar)."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return tensordot_subscripts(a, b, 0)
    return tensordot_subscripts(a, b, ([-1], [-1]))


def dot_subscripts(a, b) -> str:
    """The einsum subscripts of `np.dot(a, b)` for any dimensions."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return tensordot_subscripts(a, b, 0)
    return tensordot_subscripts(a, b, ([-1], [-2 if np.ndim(b) > 1 else -1]))


def _sequence(items, like):
    """Pieces in the structure of `like`: a list, a tuple, or (for one array joined as the
    sequence of its rows, `np.vstack(x)`) an array of like's shape."""
    if isinstance(like, np.ndarray):
        pieces = list(items)
        return np.stack(pieces) if pieces else np.zeros(np.shape(like))
    return list(items) if isinstance(like, list) else tuple(items)


JOIN_NDMIN = {"concatenate": 1, "hstack": 1, "vstack": 2, "column_stack": 2, "dstack": 3}


def _promoted(shape: tuple, how: str) -> tuple:
    """The shape an array of `shape` takes inside the join `how` (atleast_1d, _2d, _3d; a 1-D
    array is a column in column_stack)."""
    ndmin = JOIN_NDMIN[how]
    if len(shape) >= ndmin:
        return shape
    if how == "column_stack":
        return (1, 1) if not shape else (shape[0], 1)
    if how == "dstack":
        return (1, *shape, 1) if len(shape) == 1 else (*shape, 1) if shape else (1, 1, 1)
    return (1,) * (ndmin - len(shape)) + shape


def unjoin(g, arrays, axis=0, how="concatenate"):
    """The adjoint of joining `arrays` (`how`: concatenate, stack, hstack, vstack, column_stack
    or dstack): `g` cut back into one piece per array, each shaped like it. `arrays` may be one
    array, joined as the sequence of its rows; the cotangent is then one array too."""
    shapes = [np.shape(a) for a in arrays]
    if how == "stack":
        return _sequence((np.take(g, i, axis=axis) for i in range(len(shapes))), arrays)
    if how == "concatenate" and axis is None:
        sizes, axis, g = [int(np.prod(s)) for s in shapes], 0, np.ravel(g)
    else:
        promoted = [_promoted(s, how) for s in shapes]
        if how == "hstack":
            axis = 0 if len(promoted[0]) == 1 else 1
        elif how == "column_stack":
            axis = 1
        elif how == "dstack":
            axis = 2
        sizes = [p[axis] for p in promoted]
    pieces = _split(g, sizes, axis)
    return _sequence((np.reshape(p, s) for p, s in zip(pieces, shapes)), arrays)


def _split(g, sizes: list[int], axis: int) -> list:
    """`np.split` at the cumulative `sizes`; for a Dask or CuPy array by slicing (Dask has no
    `np.split`)."""
    if not foreign_array(g):
        return np.split(g, np.cumsum(sizes)[:-1], axis=axis)
    ends = np.cumsum(sizes).tolist()
    lead = (slice(None),) * (axis % g.ndim)
    return [g[lead + (slice(end - n, end),)] for n, end in zip(sizes, ends)]


def join(c, arrays, axis=0, how="concatenate"):
    """Join the pieces `c` the way `arrays` were joined: the adjoint of `unjoin`."""
    pieces = [zeros_like(a) if p is None else p for p, a in zip(c, arrays)]
    if how == "stack":
        return np.stack(pieces, axis=axis)
    if how in ("hstack", "vstack", "column_stack", "dstack"):
        return getattr(np, how)(pieces)
    return np.concatenate([np.ravel(p) for p in pieces] if axis is None else pieces, axis=axis)


def untile(g, x, reps):
    """The adjoint of `np.tile(x, reps)`: sum the tiles of `g` into one shaped like `x`."""
    shape = np.shape(x)
    reps = (reps,) if np.ndim(reps) == 0 else tuple(reps)
    n = max(len(shape), len(reps))
    base = (1,) * (n - len(shape)) + tuple(shape)
    reps = (1,) * (n - len(reps)) + reps
    split = [d for pair in zip(reps, base) for d in pair]
    summed = np.sum(np.reshape(g, split), axis=tuple(range(0, 2 * n, 2)))
    return np.reshape(summed, shape)


def unrepeat(g, x, repeats, axis=None):
    """The adjoint of `np.repeat(x, repeats, axis)`: add the copies of each element."""
    shape = np.shape(x)
    if axis is None:
        source = np.repeat(np.arange(int(np.prod(shape))), repeats)
        out = scatter_add(np.zeros(int(np.prod(shape)), np.result_type(g, 1.0)), source, g)
        return np.reshape(out, shape)
    axis = axis % len(shape)
    source = np.repeat(np.arange(shape[axis]), repeats)
    out = np.zeros(shape, np.result_type(g, 1.0))
    return np.moveaxis(scatter_add(np.moveaxis(out, axis, 0), source, np.moveaxis(g, axis, 0)), 0, axis)


_PAD_BY_INDEX = ("constant", "edge", "reflect", "symmetric", "wrap")


def unpad(g, x, pad_width, mode="constant"):
    """The adjoint of `np.pad(x, pad_width, mode)` for the modes that copy elements of `x`:
    each element of `x` receives the cotangents of every place it was copied to."""
    if mode not in _PAD_BY_INDEX:
        raise NotImplementedError(f"the derivative of np.pad with mode={mode!r}")
    shape = np.shape(x)
    size = int(np.prod(shape))
    if mode == "constant":
        source = np.pad(np.arange(size).reshape(shape), pad_width, mode="constant", constant_values=-1)
    else:
        source = np.pad(np.arange(size).reshape(shape), pad_width, mode=mode)
    keep = source >= 0
    out = np.zeros(size, np.result_type(g, 1.0))
    g = g if foreign_array(g) else np.asarray(g)
    return np.reshape(scatter_add(out, source[keep], np.ravel(g)[np.flatnonzero(keep)]), shape)


def take_adjoint(g, x, indices, axis=None):
    """The adjoint of `np.take(x, indices, axis)`: scatter-add `g` (repeated indices add up)."""
    shape = np.shape(x)
    out = np.zeros(shape, np.result_type(g, 1.0))
    if axis is None:
        flat = np.zeros(int(np.prod(shape)), out.dtype)
        return np.reshape(scatter_add(flat, indices, g), shape)
    axis = axis % len(shape)
    index = (slice(None),) * axis + (indices,)
    return scatter_add(out, index, g)


def take_along_axis_adjoint(g, x, indices, axis=-1):
    """The adjoint of `np.take_along_axis(x, indices, axis)`: scatter-add `g` along `axis`."""
    shape = np.shape(x)
    if axis is None:
        flat = np.zeros(int(np.prod(shape)), np.result_type(g, 1.0))
        return np.reshape(scatter_add(flat, np.ravel(indices), np.ravel(g)), shape)
    axis = axis % len(shape)
    grid = list(np.ix_(*(np.arange(n) for n in np.shape(g))))
    grid[axis] = np.broadcast_to(indices, np.shape(g))
    return scatter_add(np.zeros(shape, np.result_type(g, 1.0)), tuple(grid), g)


def sort_order(x, axis=-1):
    """The permutation `np.sort(x, axis)` applies (stable, so ties keep their order)."""
    return np.argsort(x, axis=axis, kind="stable")


def array_copy(x):
    """`x.copy()`: a copy made by the array's own library (NumPy's `np.copy` would compute a Dask
    array)."""
    return x.copy() if foreign_array(x) else np.copy(x)


def flatten(x):
    """`x.flatten()`: a flat copy, made by the array's own library."""
    if isinstance(x, np.ndarray) or foreign_array(x):
        return x.flatten()
    return np.ravel(x)


def astype(x, dtype, copy=True):
    """`x.astype(dtype, copy=copy)` made by the array's own library; on a number (a Python float,
    which has no such method) what `np.array(x, dtype)` makes."""
    if isinstance(x, np.ndarray) or foreign_array(x):
        return x.astype(dtype, copy=copy)
    return np.array(x, dtype)


def astype_tangent(dx, dtype):
    """The tangent of `astype`: the tangent cast too; zeros for a cast to integers."""
    if not np.issubdtype(np.dtype(dtype), np.inexact):
        return _zeros(dx) if foreign_array(dx) else np.zeros(np.shape(dx))
    return astype(dx, dtype)


def convert(x, dtype=None, like=None):
    """`np.asarray(x, dtype, like=like)` for (co)tangents: zeros when `dtype` is not floating
    point (a conversion to integers carries no derivative)."""
    if dtype is not None and not np.issubdtype(np.dtype(dtype), np.inexact):
        return np.zeros(np.shape(x)) if like is None else np.zeros_like(like, shape=np.shape(x), dtype=float)
    return np.asarray(x, dtype) if like is None else np.asarray(x, dtype, like=like)


def convert_back(g, x, dtype=None):
    """The adjoint of `convert`: `g` with the dtype of `x` (zeros for an integer `dtype`); the
    cotangent of a list or tuple `x` is one entry per item."""
    if dtype is not None and not np.issubdtype(np.dtype(dtype), np.inexact):
        return zeros_like(x)
    if isinstance(x, (tuple, list)):
        return _sequence((convert_back(gi, xi) for gi, xi in zip(g, x)), x)
    g = real_like(g, x)  # (a real x's part of a complex cotangent)
    if type(x) is float:
        return float(g)
    if isinstance(x, (np.ndarray, np.generic)) and np.issubdtype(x.dtype, np.inexact):
        return np.asarray(g, x.dtype) if isinstance(x, np.ndarray) else x.dtype.type(g)
    if foreign_array(x) and np.issubdtype(x.dtype, np.inexact):
        return g.astype(x.dtype) if hasattr(g, "astype") else np.asarray(g, x.dtype)
    return g
