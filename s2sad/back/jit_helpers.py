"""Numba implementations of the runtime helpers that compiled derivative code calls.

`CHOOSERS` maps each helper (`s2sad.runtime.seed`, ...) to a function of the types Numba
infers for a call's arguments that returns the implementation for them, or None (then Numba's
typing fails, and `jit.Jitted` reports it at the user's line). `register` hands them to
`numba.extending.overload` once. The implementations are plain functions of numbers and
arrays (vectors and matrices where an axis matters), each computing what the NumPy helper
computes for those types.
"""

from __future__ import annotations

import builtins
import math

import numpy as np

from s2sad import runtime
from s2sad.back import jit_math, jit_reductions


def trip_storage(trips, shape):
    """One row a trip for the arrays of `shape` a loop keeps (`np.empty((trips, *shape))`)."""
    return np.empty((trips, *shape))


def store_trip(storage, trip, value):
    """`storage[trip] = value`, a trip's row of `trip_storage`. For Numba, written as loops over
    the elements of a vector or matrix: Numba's item assignment of an array into an array takes
    seconds to compile (about 3 s of a two-matrix RNN's 6)."""
    storage[trip] = value
    return storage


def store_rows(rows, trip, value):
    """`rows[trip * k:(trip + 1) * k] = value` for a matrix `value` of `k` rows: a trip's rows
    of the matrices `jit_batched` stacks. For Numba, loops over the elements (see `store_trip`)."""
    k = value.shape[0]
    rows[trip * k:(trip + 1) * k] = value
    return rows


def run_rows(products, slot, k):
    """`products[slot * k:(slot + 1) * k]`: a trip's `k` rows of its run's products (see
    `jit_batched.stack_products`)."""
    return products[slot * k:(slot + 1) * k]


def trip_rows(xs, low, count, like):
    """`xs[low:low + count]`, matrices of `k` rows each, as one matrix of `count * k` rows of
    `like`'s dtype: the rows of a run of trips' matrices that `jit_batched` reads where they
    are (a view of a C-contiguous `xs` of that dtype, no copy; else a copy)."""
    return xs[low:low + count].reshape(-1, xs.shape[2]).astype(like.dtype, copy=False)


def first_rows(rows, count, k):
    """`rows[:count * k]`: the rows `count` trips (of `k` rows each) stored by `store_rows`."""
    return rows[:count * k]


def clear_rows(rows, trips, k):
    """`rows[trips * k:] = 0`: the rows of `store_rows` (`k` a trip) that no trip wrote since
    the last product."""
    rows[trips * k:] = 0
    return rows


def zeros_array(shape):
    """`np.zeros(shape)` of a constant shape, in code Numba compiles (see `_intrinsics`)."""
    return np.zeros(shape)


def zeros_as(x):
    """`np.zeros_like(x)` of an array, in code Numba compiles (see `_intrinsics`)."""
    return np.zeros_like(x)


def fused_empty(shape, *inputs):
    """The array a fused loop (`jit_loops`) stores a value into: of `shape` and of the dtype
    NumPy gives an elementwise operation on `inputs`."""
    return np.empty(shape, np.result_type(*inputs))


def fused_empty_real(shape, *inputs):
    """`fused_empty` for a value an operation made a float of (`np.divide`, `np.sin`)."""
    return np.empty(shape, np.result_type(1.0, *inputs))


def fused_sum_empty(shape, *inputs):
    """The array a fused loop adds a sum along an axis into (`jit_loops`): zeros of `shape`, of
    the dtype `np.sum` gives the elementwise result of `inputs` (NumPy's sum starts from 0.0
    too: a sum of -0.0s is 0.0)."""
    return np.zeros(shape, np.sum(np.zeros(1, np.result_type(*inputs))).dtype)


def fused_reuse(old, shape, *inputs):
    """`fused_empty`, or `old` itself where it is an array of that shape and dtype: the array of
    a value a fused loop updates in place (`bwh = bwh + t41`, see `jit_loops`), which nothing
    else holds."""
    return _reused(old, shape, np.result_type(*inputs))


def fused_reuse_real(old, shape, *inputs):
    """`fused_reuse` for a value an operation made a float of."""
    return _reused(old, shape, np.result_type(1.0, *inputs))


def _reused(old, shape, dtype):
    if (type(old) is np.ndarray and old.dtype == dtype and old.shape == tuple(shape) and old.flags.c_contiguous
            and old.flags.writeable):
        return old
    return np.empty(shape, dtype)


def strong_mul_element(d, p):
    """`runtime.strong_mul` of two numbers of a fused loop: 0 where either is 0 (0 * inf)."""
    return 0.0 if d == 0 or p == 0 else d * p


def sigmoid_element(t):
    """`runtime.sigmoid` of a number of a fused loop, as it computes an array's elements."""
    return 1.0 / (1.0 + np.exp(-t))


def strong_div_element(d, q):
    """`runtime.strong_div` of two numbers of a fused loop: 0 where d is 0, else NumPy's division."""
    return 0.0 if d == 0 else np.divide(d, q)


# ------------------------------------------------------------------ implementations


def _store_vector(storage, trip, value):
    row = storage[trip]
    for i in range(row.shape[0]):
        row[i] = value[i]
    return storage


def _store_matrix(storage, trip, value):
    row = storage[trip]
    for i in range(row.shape[0]):
        for j in range(row.shape[1]):
            row[i, j] = value[i, j]
    return storage


def _store_rows(rows, trip, value):
    first = trip * value.shape[0]
    for i in range(value.shape[0]):
        for j in range(value.shape[1]):
            rows[first + i, j] = value[i, j]
    return rows


def _run_rows(products, slot, k):
    return products[slot * k:(slot + 1) * k]


def _trip_rows_contiguous(xs, low, count, like):
    return _rows_view(xs[low:low + count])


def _trip_rows_each(xs, low, count, like):
    out = np.empty((count * xs.shape[1], xs.shape[2]), like.dtype)
    for t in range(count):
        for i in range(xs.shape[1]):
            for j in range(xs.shape[2]):
                out[t * xs.shape[1] + i, j] = xs[low + t, i, j]
    return out


def _first_rows(rows, count, k):
    return rows[:count * k]


_rows_view = None
"""A Numba intrinsic (made by `register`): a C-contiguous 3-D array's matrices as the rows of one
matrix, a view, no copy."""


def _clear_rows(rows, trips, k):
    for i in range(trips * k, rows.shape[0]):
        for j in range(rows.shape[1]):
            rows[i, j] = 0
    return rows


def _store_item(storage, trip, value):
    storage[trip] = value
    return storage


def _seed(out, where=""):
    return 1.0


def _zeros_like_number(x):
    return 0.0


def _zeros_like_array(x):
    return np.zeros(x.shape)


def _same(g, like):
    return g


def _summed(g, like):
    return np.sum(g)


def _shape(x):
    return x.shape


def _no_shape(x):
    return ()


def _times(g, x, y):
    return g * y


def _times_x(g, x, y):
    return x * g


def _g_yt(g, x, y):
    return g @ y.T


def _xt_g(g, x, y):
    return x.T @ g


def _outer_g_y(g, x, y):
    return np.outer(g, y)


def _outer_x_g(g, x, y):
    return np.outer(x, g)


def _y_g(g, x, y):
    return y @ g


def _add_at_basic(x, index, value):
    x[index] += value
    return x


def _plus(a, b):
    return a + b


def _filled(g, like):
    return np.full(like.shape, g)


def _strong_mul_element(d, p):
    if d == 0 or p == 0:
        return 0.0
    return d * p


def _each_item_number(g, items, start=0):
    return np.full(items.shape, g)


def _each_row(g, items, start=0):
    out = np.empty(items.shape)
    for i in range(items.shape[0]):
        for j in range(items.shape[1]):
            out[i, j] = g[j]
    return out


def _sigmoid_element(t):
    return np.divide(1.0, 1.0 + jit_math.exp_element(-t))  # no branch: vectorised


def _strong_div_element(d, q):
    if d == 0:
        return 0.0
    return np.divide(d, q)


def _reversed_range(r):
    last = r.start + (len(r) - 1) * r.step  # (`r.stop - r.step` is last only where the step divides the length)
    return range(last, r.start - r.step, -r.step)


def _item(values, trip):
    return values[trip]


def _sigmoid_number(t):
    if t >= 0:
        return 1.0 / (1.0 + math.exp(-t))
    e = math.exp(t)
    return e / (1.0 + e)


def _sigmoid_array(t):
    return 1.0 / (1.0 + np.exp(-t))


def _unreduce_number(g, x, axis=None, keepdims=False):
    return g


def _unreduce_full(g, x, axis=None, keepdims=False):
    return np.full(x.shape, g)


def _copy_list(items):
    return list(items)


def _copy(x):
    return x.copy()


def _itself(x):
    return x


def _unchanged_adjoint(adjoint, index, x):
    return adjoint


def _flatten(x):
    return x.flatten()


def _count(x):
    return x.size


def _astype(x, dtype, copy=True):
    return x.astype(dtype)


def _cast_back(g, x, dtype=None):
    return g.astype(x.dtype)


def _no_cotangent(g, x, dtype=None):
    return np.zeros(x.shape)


def _size(x, axis=None):
    return x.size


def _unreduce_matrix(g, x, axis=None, keepdims=False):
    along = axis if axis >= 0 else axis + 2
    found = g.ravel()
    out = np.empty(x.shape)
    if along == 1:
        for j in range(x.shape[1]):
            out[:, j] = found
    else:
        for i in range(x.shape[0]):
            out[i] = found
    return out


def _strong_div(d, q):
    if d == 0:
        return 0.0
    return d / q


def _strong_div_array(d, q):
    t = d / q
    total = t.sum()
    if total != total:  # a NaN: 0 where d is 0 (0 / 0 and 0 / nan), as `runtime.strong_div`
        zero = (d == 0) | np.zeros(t.shape, np.bool_)  # broadcast to t's shape
        out, where = t.copy().ravel(), zero.ravel()  # (a loop: `np.where` takes seconds to compile)
        for i in range(out.size):
            if where[i]:
                out[i] = 0.0
        return out.reshape(t.shape)
    return t


def _strong_mul_array(d, p):
    t = d * p
    total = t.sum()
    if total != total:  # 0 where either factor is 0 (0 * inf), as `runtime.strong_mul`
        zero = (d == 0) | (p == 0) | np.zeros(t.shape, np.bool_)
        out, where = t.copy().ravel(), zero.ravel()
        for i in range(out.size):
            if where[i]:
                out[i] = 0.0
        return out.reshape(t.shape)
    return t


def _strong_mul_number_array(d, p):
    t = d * p
    total = t.sum()
    if total != total:
        return np.zeros(t.shape) if d == 0 else np.where(p == 0, 0.0, t)
    return t


def _strong_mul_array_number(d, p):
    return _strong_mul_number_array(p, d)


def _tie_weights_all(x, out, axis=None, keepdims=False):
    mask = (x == out) * 1.0
    return mask / mask.sum()


def _tie_weights_matrix(x, out, axis=None, keepdims=False):
    along = axis if axis >= 0 else axis + 2
    found = out.ravel()
    weights = np.zeros(x.shape)
    if along == 1:
        for i in range(x.shape[0]):
            row = (x[i] == found[i]) * 1.0
            weights[i] = row / row.sum()
    else:
        for j in range(x.shape[1]):
            column = (x[:, j] == found[j]) * 1.0
            weights[:, j] = column / column.sum()
    return weights


def _strong_mul(d, p):
    if d == 0 or p == 0:
        return 0.0
    return d * p


# ------------------------------------------------------------------ choosing by types

_TYPES: list = []
"""`numba.core.types`, once `register` has run."""


def _number(t) -> bool:
    types = _TYPES[0]
    return isinstance(t, (types.Float, types.Integer, types.Boolean))


def _array(t, ndim: int | None = None) -> bool:
    return isinstance(t, _TYPES[0].Array) and (ndim is None or t.ndim == ndim)


def _integer(t) -> bool:
    return isinstance(t, _TYPES[0].Integer)


def _none(axis) -> bool:
    """`axis` left out or None, as Numba types it."""
    return axis is None or type(axis).__name__ in ("NoneType", "Omitted")


def seed(out, where=""):
    return _seed if _number(out) else None


def zeros_like(x):
    return _zeros_like_number if _number(x) else _zeros_like_array if _array(x) else None


def unbroadcast(g, like):
    if _number(like):
        return _same if _number(g) else _summed if _array(g) else None
    return None


def broadcast_like(g, like):
    if _number(g):
        return _same if _number(like) else _filled if _array(like) else None
    return None


def add(a, b):
    return _plus if (_number(a) or _array(a)) and (_number(b) or _array(b)) else None


def like_structure(g, x):
    if _number(g) and _number(x) or _array(g) and _array(x) and g.ndim == x.ndim:
        return _same
    return None


def shape_of(x):
    return _shape if _array(x) else _no_shape if _number(x) else None


def matmul_adjoint_x(g, x, y):
    by_ndims = {(2, 2): _g_yt, (2, 1): _outer_g_y, (1, 2): _y_g, (1, 1): _times}
    return by_ndims.get((x.ndim, y.ndim)) if _array(x) and _array(y) else None


def matmul_adjoint_y(g, x, y):
    by_ndims = {(2, 2): _xt_g, (2, 1): _xt_g, (1, 2): _outer_x_g, (1, 1): _times_x}
    return by_ndims.get((x.ndim, y.ndim)) if _array(x) and _array(y) else None


def strong_div(d, q):
    if _number(d):
        return _strong_div if _number(q) else None
    return _strong_div_array if _array(d) and (_array(q) or _number(q)) else None


def strong_mul(d, p):
    if _number(d):
        return _strong_mul if _number(p) else _strong_mul_number_array if _array(p) else None
    if _array(d):
        return _strong_mul_array if _array(p) else _strong_mul_array_number if _number(p) else None
    return None


def tie_weights(x, out, axis=None, keepdims=False):
    if _array(x) and _number(out) and _none(axis):
        return _tie_weights_all
    return _tie_weights_matrix if _array(x, 2) and _array(out) and _integer(axis) else None


def trip_value(values, trip):
    return _item if _array(values) else None


def sigmoid(t):
    return _sigmoid_number if _number(t) else _sigmoid_array if _array(t) else None


def unreduce(g, x, axis=None, keepdims=False):
    if _number(x):
        return _unreduce_number
    if _array(x) and _number(g) and _none(axis):
        return _unreduce_full
    return _unreduce_matrix if _array(x, 2) and _array(g) and _integer(axis) else None


def reduced_size(x, axis=None):
    return _size if _array(x) and _none(axis) else None


def copy_value(x):
    return _itself if _number(x) else _copy if _array(x) else None


def copy_list(items):
    """A tape (a list of numbers or arrays) the adjoint sweep of a `vjp` pops: a new list."""
    return _copy_list if isinstance(items, _TYPES[0].List) else None


def flatten(x):
    return _flatten if _array(x) else None


def zero_item(adjoint, index, x):
    """An array's adjoint after the adjoint of a write into it (`g[::-1] += v`): unchanged
    (only a list's or dict's slot becomes a zero shaped like its old item)."""
    return _unchanged_adjoint if _array(adjoint) and _array(x) else None


def size(x):
    return _count if _array(x) else None


def astype(x, dtype, copy=True):
    return _astype if _array(x) and isinstance(dtype, (_TYPES[0].NumberClass, _TYPES[0].DType)) else None


def convert_back(g, x, dtype=None):
    """To a floating-point dtype (or none given) the cotangent cast back; to integers none."""
    types = _TYPES[0]
    if not (_array(x) and _array(g) and isinstance(x.dtype, types.Float)):
        return None
    if _none(dtype):
        return _cast_back
    kind = dtype.instance_type if isinstance(dtype, types.NumberClass) else getattr(dtype, "dtype", None)
    if isinstance(kind, types.Float):
        return _cast_back
    return _no_cotangent if isinstance(kind, (types.Integer, types.Boolean)) else None


def as_sequence(items):
    return _itself if _array(items) or isinstance(items, _TYPES[0].RangeType) else None


def _basic_index(index) -> bool:
    """An integer, a slice, or a tuple of those: `x[index] += v` adds each element once."""
    types = _TYPES[0]
    if isinstance(index, (types.Integer, types.SliceType)):
        return True
    return isinstance(index, types.BaseTuple) and all(isinstance(i, (types.Integer, types.SliceType))
                                                      for i in index.types)


def add_at(x, index, value):
    """An array's basic index only: where an index array repeats an index, `x[index] += v`
    would add once what `np.add.at` adds twice."""
    return _add_at_basic if _array(x) and _basic_index(index) and (_number(value) or _array(value)) else None


def store_trip_of(storage, trip, value):
    if not (_array(storage) and _integer(trip) and _array(value)):
        return None
    return {1: _store_vector, 2: _store_matrix}.get(value.ndim, _store_item)


def clear_rows_of(rows, trips, k):
    return _clear_rows if _array(rows) and rows.ndim == 2 and _integer(trips) and _integer(k) else None


def run_rows_of(products, slot, k):
    return _run_rows if _array(products, 2) and _integer(slot) and _integer(k) else None


def trip_rows_of(xs, low, count, like):
    if not (_array(xs, 3) and _integer(low) and _integer(count) and _array(like)):
        return None
    return _trip_rows_contiguous if xs.layout == "C" and xs.dtype == like.dtype else _trip_rows_each


def first_rows_of(rows, count, k):
    return _first_rows if _array(rows, 2) and _integer(count) and _integer(k) else None


def store_rows_of(rows, trip, value):
    return _store_rows if _array(rows) and _integer(trip) and _array(value) and rows.ndim == value.ndim == 2 else None


INTRINSICS: dict = {}
"""Helpers Numba compiles as intrinsics, not as functions of their own (see `_allocation`):
the Python helper -> its intrinsic, swapped in for the code Numba compiles (`jit.Jitted`)."""


def _intrinsics(numba) -> dict:
    """The allocating helpers as Numba intrinsics: the array made in place, in the caller's
    code. An overload's implementation would be compiled once for each combination of argument
    types (about 30 ms each, and NumPy's `empty` or `zeros` behind it as much again); an
    intrinsic costs its caller's compile a few instructions."""
    types, cgutils = numba.core.types, numba.core.cgutils
    from numba.core.imputils import impl_ret_borrowed, impl_ret_new_ref
    from numba.np.arrayobj import _empty_nd_impl

    def made(context, builder, array, dims, zero: bool):
        ary = _empty_nd_impl(context, builder, array, dims)
        if zero:
            itemsize = context.get_abi_sizeof(context.get_data_type(array.dtype))
            cgutils.memset(builder, ary.data, builder.mul(ary.nitems, context.get_constant(types.intp, itemsize)), 0)
        return impl_ret_new_ref(context, builder, array, ary._getvalue())

    def dims_of(context, builder, shape_type, shape):
        return [context.cast(builder, v, t, types.intp)
                for v, t in zip(cgutils.unpack_tuple(builder, shape, len(shape_type)), shape_type)]

    def integers(shape) -> bool:
        return isinstance(shape, types.BaseTuple) and all(isinstance(t, types.Integer) for t in shape)

    def empty(real: bool):
        def typer(typingctx, shape, *inputs):
            dtype = _result_dtype(inputs, real)
            if dtype is None or not integers(shape):
                return None
            array = types.Array(numba.from_dtype(dtype), len(shape), "C")
            return array(shape, types.StarArgTuple(inputs)), lambda context, builder, sig, args: made(
                context, builder, array, dims_of(context, builder, shape, args[0]), False)
        return typer

    def sum_typer(typingctx, shape, *inputs):
        dtype = _result_dtype(inputs, False)
        if dtype is None or not integers(shape):
            return None
        dtype = np.dtype(np.uint64 if dtype.kind == "u" else np.int64) if dtype.kind in "biu" else dtype
        array = types.Array(numba.from_dtype(dtype), len(shape), "C")
        return array(shape, types.StarArgTuple(inputs)), lambda context, builder, sig, args: made(
            context, builder, array, dims_of(context, builder, shape, args[0]), True)

    def reuse(real: bool):
        def typer(typingctx, old, shape, *inputs):
            dtype = _result_dtype(inputs, real)
            if dtype is None or not integers(shape):
                return None
            array = types.Array(numba.from_dtype(dtype), len(shape), "C")
            if old != array:  # (a C-contiguous array of that dtype; its shape is the loop's)
                return array(old, shape, types.StarArgTuple(inputs)), lambda context, builder, sig, args: made(
                    context, builder, array, dims_of(context, builder, shape, args[1]), False)
            return array(old, shape, types.StarArgTuple(inputs)), lambda context, builder, sig, args: (
                impl_ret_borrowed(context, builder, array, args[0]))
        return typer

    def zeros_typer(typingctx, shape):
        if not integers(shape):
            return None
        array = types.Array(types.float64, len(shape), "C")
        return array(shape), lambda context, builder, sig, args: made(
            context, builder, array, dims_of(context, builder, shape, args[0]), True)

    def zeros_as_typer(typingctx, x):
        if not isinstance(x, types.Array):
            return None
        array = types.Array(x.dtype, x.ndim, "C")

        def codegen(context, builder, sig, args):
            shape = context.make_array(x)(context, builder, args[0]).shape
            return made(context, builder, array, cgutils.unpack_tuple(builder, shape, x.ndim), True)
        return array(x), codegen

    def storage_typer(typingctx, trips, shape):
        if not (isinstance(trips, types.Integer) and integers(shape)):
            return None
        array = types.Array(types.float64, 1 + len(shape), "C")

        def codegen(context, builder, sig, args):
            rows = context.cast(builder, args[0], trips, types.intp)
            return made(context, builder, array, [rows, *dims_of(context, builder, shape, args[1])], False)
        return array(trips, shape), codegen

    typers = {fused_empty: empty(False), fused_empty_real: empty(True), fused_sum_empty: sum_typer,
              fused_reuse: reuse(False),
              fused_reuse_real: reuse(True), zeros_array: zeros_typer,
              zeros_as: zeros_as_typer, trip_storage: storage_typer}
    for helper, typer in typers.items():
        typer.__name__ = helper.__name__
    return {helper: numba.extending.intrinsic(typer) for helper, typer in typers.items()}


def _views(numba) -> None:
    """`_rows_view`, the intrinsic `_trip_rows_contiguous` reads."""
    global _rows_view
    types, cgutils = numba.core.types, numba.core.cgutils
    from numba.core.imputils import impl_ret_borrowed
    from numba.np.arrayobj import make_array, populate_array

    def view(context, builder, source, target, source_value, dims):
        src = make_array(source)(context, builder, source_value)
        shape, strides = cgutils.unpack_tuple(builder, src.shape), cgutils.unpack_tuple(builder, src.strides)
        out = make_array(target)(context, builder)
        sizes, steps = dims(builder, shape, strides)
        populate_array(out, data=src.data, shape=sizes, strides=steps, itemsize=src.itemsize, meminfo=src.meminfo,
                       parent=src.parent)
        return impl_ret_borrowed(context, builder, target, out._getvalue())

    def rows_typer(typingctx, xs):
        if not (isinstance(xs, types.Array) and xs.ndim == 3 and xs.layout == "C"):
            return None
        target = types.Array(xs.dtype, 2, "C")
        return target(xs), lambda context, builder, sig, args: view(
            context, builder, xs, target, args[0],
            lambda b, shape, strides: ([b.mul(shape[0], shape[1]), shape[2]], [strides[1], strides[2]]))

    rows_typer.__name__ = "rows_view"
    _rows_view = numba.extending.intrinsic(rows_typer)


def _result_dtype(inputs, real: bool):
    """NumPy's dtype for an elementwise result of `inputs` (Numba's types): the arrays'
    promoted, a number only lifting its kind (an int array times a float is float64, a float32
    array times a float stays float32); `real`: integers become float64."""
    types = _TYPES[0]
    arrays = [np.dtype(str(t.dtype)) for t in inputs if isinstance(t, types.Array)]
    if not arrays or not all(isinstance(t, types.Array) or _number(t) or isinstance(t, types.Complex)
                             for t in inputs):
        return None
    dtype = np.result_type(*arrays)
    for t in inputs:
        if isinstance(t, types.Complex) and dtype.kind != "c":
            dtype = np.result_type(dtype, np.complex64)
        elif isinstance(t, types.Float) and dtype.kind in "biu":
            dtype = np.dtype(np.float64)
    return np.dtype(np.float64) if real and dtype.kind in "biu" else dtype


def strong_mul_element_of(d, p):
    return _strong_mul_element if _number(d) and _number(p) else None


def sum_adjoint(g, items, start=0):
    """`sum(items)` of a vector (a number's cotangent for each item) or of a matrix (a row's)."""
    if _array(items, 1) and _number(g):
        return _each_item_number
    return _each_row if _array(items, 2) and _array(g, 1) else None


def sigmoid_element_of(t):
    return _sigmoid_element if _number(t) else None


def strong_div_element_of(d, q):
    return _strong_div_element if _number(d) and _number(q) else None


def reversed_range(r):
    return _reversed_range if isinstance(r, _TYPES[0].RangeType) else None


CHOOSERS = {
    runtime.seed: seed, runtime.zeros_like: zeros_like, runtime.unbroadcast: unbroadcast,
    runtime.broadcast_like: broadcast_like, runtime.add: add, runtime.like_structure: like_structure,
    runtime.shape_of: shape_of, runtime.matmul_adjoint_x: matmul_adjoint_x,
    runtime.matmul_adjoint_y: matmul_adjoint_y, runtime.strong_div: strong_div, runtime.strong_mul: strong_mul,
    runtime.tie_weights: tie_weights, runtime.trip_value: trip_value, runtime.sigmoid: sigmoid,
    runtime.unreduce: unreduce, runtime.reduced_size: reduced_size, runtime.copy_value: copy_value,
    runtime.copy_list: copy_list,
    runtime.as_sequence: as_sequence, store_trip: store_trip_of, store_rows: store_rows_of,
    clear_rows: clear_rows_of, run_rows: run_rows_of, trip_rows: trip_rows_of,
    first_rows: first_rows_of,
    runtime.add_at: add_at,
    runtime.array_copy: copy_value, runtime.flatten: flatten, runtime.size: size, runtime.astype: astype,
    runtime.convert_back: convert_back,
    strong_mul_element: strong_mul_element_of, strong_div_element: strong_div_element_of,
    sigmoid_element: sigmoid_element_of, runtime.sum_adjoint: sum_adjoint, runtime.zero_item: zero_item,
}
"""Each runtime helper with a Numba implementation, and its chooser."""


def register(numba) -> None:
    """The implementations handed to Numba (once per process)."""
    if _TYPES:
        return
    _TYPES.append(numba.core.types)
    for helper, chooser in CHOOSERS.items():
        numba.extending.overload(helper)(chooser)
    numba.extending.overload(builtins.reversed)(reversed_range)
    INTRINSICS.update(_intrinsics(numba))
    _views(numba)
    jit_reductions.register(numba, numba.core.types, numba.extending.overload)
    jit_math.register(numba)
