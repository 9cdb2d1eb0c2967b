"""Broadcasting, seeds and zeros, reductions' and products' adjoints: the helpers most
generated code calls."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from s2sad.errors import NonScalarOutput, UnsupportedValue

_SCALARS = (float, int)


def foreign_array(x) -> bool:
    """An array of another library that speaks NumPy's protocols (a Dask or CuPy array): NumPy's
    functions dispatch to its own (`__array_function__`), so generated code runs on it as is."""
    return (not isinstance(x, np.ndarray) and hasattr(type(x), "__array_function__")
            and hasattr(x, "shape") and hasattr(x, "dtype"))


def on_host(g):
    """A GPU library's cotangent (CuPy's) of a NumPy value, moved to NumPy by its `.get()`: such a
    library mixes no NumPy array into its operations, so the cotangent must be where its value
    is. A Dask array, which mixes with NumPy, stays as it is (lazy)."""
    if hasattr(g, "__dask_graph__") or not callable(getattr(g, "get", None)):
        return g
    return g.get()


def array_kind(x) -> str:
    """How an error names an array of another library: "dask Array", "cupy ndarray"."""
    return f"{type(x).__module__.partition('.')[0]} {type(x).__name__}"


def known_shape(x) -> tuple:
    """`np.shape(x)`, for a Dask array whose chunk sizes are unknown (after a boolean mask) an
    error that says so: a NaN in a shape would make sizes and means silently NaN."""
    shape = np.shape(x)
    if foreign_array(x) and not all(type(n) is int for n in shape):
        kind = array_kind(x)
        raise UnsupportedValue(
            f"the derivative needs the shape of a {kind} whose size is unknown ({shape}): its chunk sizes "
            "are unknown, as after a boolean mask", hint="call .compute_chunk_sizes() on the masked array in your "
                                                         "function, or mask with np.where instead")
    return shape


def unbroadcast(g, like):
    """Sum `g` down to the shape of `like`, undoing NumPy broadcasting (the adjoint of it)."""
    if g is None:
        return zeros_like(like)  # no cotangent (a placeholder's): a zero shaped like `like`
    if foreign_array(g) and not foreign_array(like):
        g = on_host(g)  # (a NumPy value's cotangent: NumPy's, not CuPy's)
    if type(like) in _SCALARS:
        if type(g) is float:
            return g
        if isinstance(g, np.generic):  # a NumPy number (an item of an array): nothing to sum
            return float(g.real) if type(like) is float else g
        if foreign_array(g):  # a Dask array's sum stays lazy: a float would compute it now
            return np.real(np.sum(g)) if type(like) is float else np.sum(g)
        return float(np.real(np.sum(g))) if type(like) is float else np.sum(g)
    if isinstance(g, (tuple, list)):
        _joined_sequences()
    return unbroadcast_to(g, known_shape(like))


def _joined_sequences():
    """Arithmetic never returns a tuple or list: `+` or `*` joined sequences here."""
    raise UnsupportedValue(
        "`+` or `*` joined tuples or lists that s2sad could not tell were tuples or lists when it built "
        "the derivative (they come from parameters); their derivative would be wrong",
        hint="join them where they are made (a display such as (a, b) + (c,) is seen as a tuple), or build "
             "the result as a display: (t[0], t[1], u[0])")


def unbroadcast_to(g, shape: tuple):
    """Sum `g` down to `shape` (a shape the primal sweep recorded instead of the value)."""
    gshape = np.shape(g)
    if gshape == shape:
        return g
    extra = len(gshape) - len(shape)
    if extra > 0:
        g = np.sum(g, axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and np.shape(g)[i] != 1)
    if axes:
        g = np.sum(g, axis=axes, keepdims=True)
    return np.reshape(g, shape) if np.shape(g) != shape else g


def shape_of(x):
    """`np.shape(x)`, or None for a list or tuple whose items have different shapes (it has none)."""
    if isinstance(x, (list, tuple)):
        try:
            return np.shape(x)
        except ValueError:
            return None
    return np.shape(x)


def broadcast_like(g, like):
    """Broadcast `g` up to the shape of `like`: the adjoint of `unbroadcast`."""
    if type(like) is float:
        return g
    if isinstance(like, (tuple, list)):
        _joined_sequences()
    if foreign_array(like) and not foreign_array(g):
        g = np.asarray(g, like=like)  # (into like's library: CuPy does not mix with NumPy arrays)
    shape = np.shape(like)
    if np.shape(g) == shape:
        return g
    return np.broadcast_to(g, shape) + np.zeros((), dtype=np.result_type(g))


def seed(out, where: str = ""):
    """The cotangent 1 of a scalar output (or of an array holding one number), of its dtype; a
    clear error for anything else."""
    if type(out) is float:
        return 1.0
    if not isinstance(out, (tuple, list, dict)) and np.ndim(out) == 0:  # (size 1: no np.size, Dask lacks it)
        dtype = getattr(out, "dtype", None)
        if dtype is not None and np.issubdtype(dtype, np.floating):
            return np.ones((), dtype)[()]
        return 1.0
    if type(out) is np.ndarray and out.size == 1 and np.issubdtype(out.dtype, np.floating):
        return np.ones(out.shape, out.dtype)  # shape (1,) or (1, 1): one number, as autograd takes it
    shape = np.shape(out) if isinstance(out, np.ndarray) else type(out).__name__
    raise NonScalarOutput(
        f"grad requires a scalar output, but {where or 'the function'} returned {shape}",
        hint="use s2sad.jacrev (or jacobian) for a Jacobian, or s2sad.vjp for a vector-Jacobian product",
    )


def zeros_like(x):
    """A zero (co)tangent with the structure and shape of `x`: floats for numbers (an integer
    array gets a float zero), the same container type for tuples, lists, dicts, namedtuples and
    dataclasses; None for values that carry no derivative (strings, None, objects)."""
    kind = type(x)
    if kind is float or kind is int or kind is complex:
        return 0.0
    if kind is np.ndarray or isinstance(x, np.generic):
        zero = np.zeros(np.shape(x), x.dtype if np.issubdtype(x.dtype, np.inexact) else np.float64)
        return zero if zero.ndim or kind is np.ndarray else zero[()]
    if isinstance(x, (list, tuple, dict)) or (dataclasses.is_dataclass(x) and not isinstance(x, type)):
        return map_structure(zeros_like, x)
    if foreign_array(x):  # made by x's own library (a Dask array's zeros are lazy and chunked like x)
        return np.zeros_like(x, dtype=x.dtype if np.issubdtype(x.dtype, np.inexact) else np.float64)
    if isinstance(x, range):
        return [0.0] * len(x)  # indexable like the range, so loops over it differentiate cleanly
    if kind is bool or isinstance(x, np.bool_):
        return 0.0
    return None  # strings, None, other objects: no derivative


def map_structure(fn, *trees):
    """Apply `fn` leaf by leaf to containers of the same structure, keeping the structure."""
    first = trees[0]
    if isinstance(first, (list, tuple)):
        items = [map_structure(fn, *parts) for parts in zip(*trees)]
        if isinstance(first, list):
            return items
        return type(first)(*items) if hasattr(first, "_fields") else tuple(items)
    if isinstance(first, dict):
        return {k: map_structure(fn, *(t[k] for t in trees)) for k in first}
    if dataclasses.is_dataclass(first) and not isinstance(first, type):
        fields = {f.name: map_structure(fn, *(getattr(t, f.name) for t in trees)) for f in dataclasses.fields(first)}
        return dataclasses.replace(first, **fields)
    return fn(*trees)


def add(a, b):
    """`a + b` for (co)tangents: elementwise for containers; None counts as zero."""
    if a is None:
        return b
    if b is None:
        return a
    if isinstance(a, (list, tuple, dict)) or dataclasses.is_dataclass(a):
        return _map_children(add, a, b)  # add again at each level: None may stand for a whole subtree
    return a + b


def _map_children(fn, a, b):
    """`fn` on each pair of children of two containers of the same kind, keeping the kind."""
    if isinstance(a, (list, tuple)):
        items = [fn(x, y) for x, y in zip(a, b)]
        if isinstance(a, list):
            return items
        return type(a)(*items) if hasattr(a, "_fields") else tuple(items)
    if isinstance(a, dict):
        return {k: fn(a[k], b[k]) for k in a}
    fields = {f.name: fn(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a)}
    return dataclasses.replace(a, **fields)


def _axes(axis, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, tuple) else (axis,)
    return tuple(a % ndim for a in axes)


def unreduce(g, x, axis=None, keepdims=False):
    """Broadcast the cotangent of a reduction back over the reduced axes (adjoint of sum)."""
    shape = np.shape(x)
    if not shape:
        return g
    if foreign_array(g) and not foreign_array(x):
        g = on_host(g)  # (a NumPy value's cotangent: NumPy's, not CuPy's)
    if foreign_array(x) or foreign_array(g):  # zeros made by x's library (lazy, chunked like x)
        g = g if keepdims or axis is None else np.expand_dims(g, _axes(axis, len(shape)))
        if not foreign_array(x):  # (or g's: CuPy adds no NumPy array to its own)
            return np.zeros_like(g, shape=shape, dtype=_float_result(g, x)) + g
        if isinstance(g, np.ndarray):
            g = np.asarray(g, like=x)
        return np.zeros_like(x, dtype=_float_result(g, x)) + g
    if axis is None and np.ndim(g) == 0:  # the common case (a full reduction), fast
        return np.full(shape, g, _float_result(g, x))
    if not keepdims:
        g = np.expand_dims(g, _axes(axis, len(shape)))
    return np.broadcast_to(g, shape) + np.zeros((), np.result_type(g))


def _float_result(g, x) -> np.dtype:
    """The dtype of `g` spread over `x`: `x`'s if it is floating point, at least float64 else."""
    dtype = getattr(x, "dtype", None)
    return np.result_type(g, dtype if dtype is not None and dtype.kind == "f" else 1.0)


def size(x) -> int:
    """`np.size(x)` from the shape: Dask arrays do not implement `np.size` (NumPy would warn and
    convert), and every array library gives `np.shape`."""
    return math.prod(known_shape(x))


def reduced_size(x, axis=None) -> int:
    """How many elements a reduction over `axis` combines into one."""
    if axis is None:
        return size(x)
    shape = known_shape(x)
    return int(np.prod([shape[a] for a in _axes(axis, len(shape))])) if shape else 1


def inverse_axes(axes):
    """The permutation that undoes `np.transpose(_, axes)`; None stays None."""
    return None if axes is None else tuple(np.argsort(axes))


def negated_shift(shift):
    """The shift that undoes `np.roll(_, shift)`: an int, or a tuple of ints (not a NumPy array,
    which a GPU array library would not take)."""
    return -shift if np.ndim(shift) == 0 else tuple(-int(s) for s in np.ravel(shift))


def matmul_adjoint_x(g, x, y):
    """Cotangent of `x` in `x @ y` (also `np.dot` for vectors and matrices)."""
    if np.ndim(x) == 0 or np.ndim(y) == 0:
        return unbroadcast(g * y, x)
    if np.ndim(y) == 1:
        return unbroadcast(g[..., :, None] * y, x) if np.ndim(x) > 1 else g * y
    if np.ndim(x) == 1:
        return unbroadcast(np.matmul(y, g[..., None])[..., 0] if np.ndim(g) > 1 else y @ g, x)
    return unbroadcast(np.matmul(g, np.swapaxes(y, -1, -2)), x)


def matmul_adjoint_y(g, x, y):
    """Cotangent of `y` in `x @ y`."""
    if np.ndim(x) == 0 or np.ndim(y) == 0:
        return unbroadcast(x * g, y)
    if np.ndim(x) == 1:
        return unbroadcast(x[:, None] * g[..., None, :], y) if np.ndim(y) > 1 else x * g
    if np.ndim(y) == 1:
        return unbroadcast(np.matmul(np.swapaxes(x, -1, -2), g[..., None])[..., 0], y)
    return unbroadcast(np.matmul(np.swapaxes(x, -1, -2), g), y)


def receive(out):
    """Marks where a `vjp` generator yields its output and receives the cotangent.

    Generated code never calls it: emission writes `bout = yield out` in its place.
    """
    raise RuntimeError("s2sad.runtime.receive is a marker for code emission and is never called")
