"""Helpers of the creation rules (np.full, np.full_like, np.linspace, np.arange) and of np.pad's
padding value. Each comes with its transpose; their rules are in s2sad.rules.runtime_rules."""

from __future__ import annotations

import numpy as np

from s2sad.runtime.arrays import convert, convert_back
from s2sad.runtime.core import size, unbroadcast, zeros_like


def _dtype_of(out):
    return np.asarray(out).dtype


def fill_tangent(d, like):
    """The tangent of `np.full(shape, v)` (or `full_like`) from the tangent `d` of `v`: `d`
    broadcast to the result (zeros where the result is an integer array)."""
    d = np.asarray(d)
    return convert(np.full(np.shape(like), d, dtype=np.result_type(d, 0.0)), _dtype_of(like))


def fill_adjoint(g, value, like):
    """The cotangent of the fill value: `g` summed down to its shape (the transpose of
    `fill_tangent`); `like` is the filled array."""
    dtype = _dtype_of(like)
    if not np.issubdtype(dtype, np.inexact):
        return zeros_like(value)
    return convert_back(unbroadcast(g, value), value)


def _linspace_weights(num, endpoint, which: int) -> tuple[np.ndarray, float]:
    """The weight of start (which=0) or stop (1) in each sample, and in the step."""
    div = (num - 1) if endpoint else num
    t = np.arange(num) / div if div > 0 else np.zeros(num)
    step = (1.0 / div if div > 0 else np.nan) * (1 if which else -1)
    return (t if which else 1.0 - t), step


def linspace_part(d, other, num=50, endpoint=True, retstep=False, dtype=None, axis=0, which=0):
    """The tangent of `np.linspace(start, stop, ...)` from the tangent `d` of start (which=0)
    or of stop (which=1): linspace is linear in the pair, sample k = start·(1 − t_k) + stop·t_k.
    With `retstep`, also the tangent of the step, (stop − start) / div."""
    d = np.broadcast_to(d, np.broadcast_shapes(np.shape(d), np.shape(other)))
    w, step = _linspace_weights(num, endpoint, which)
    samples = np.moveaxis(np.multiply.outer(w, d), 0, axis) if np.ndim(d) else w * d
    samples = convert(samples, dtype)
    return (samples, convert(d * step, dtype)) if retstep else samples


def linspace_part_adjoint(g, like, other, num=50, endpoint=True, retstep=False, dtype=None, axis=0, which=0):
    """The cotangent of start (which=0) or stop (1) in `np.linspace`: the transpose of
    `linspace_part`. `g` is a pair (samples, step) with `retstep`; None for an unused part."""
    gs, gstep = g if retstep else (g, None)
    w, step = _linspace_weights(num, endpoint, which)
    shape = np.broadcast_shapes(np.shape(like), np.shape(other))
    total = np.zeros(shape)
    if gs is not None:
        moved = np.moveaxis(np.asarray(gs), axis, 0) if shape else np.asarray(gs)
        total = total + np.tensordot(w, moved, axes=(0, 0))
    if gstep is not None:
        total = total + step * np.asarray(gstep)
    return convert_back(unbroadcast(total, like), like, dtype)


def arange_weights(samples, stop, which: str):
    """The derivative of `np.arange(start, stop, step)` in start (1 per element) or in step
    (k for element k). Called with one argument, np.arange's `start` is its stop: weight 0."""
    n = size(samples)
    if which == "step":
        return np.arange(n, dtype=float)
    return np.full(n, 1.0 if stop is not None else 0.0)


def arange_part(d, samples, stop, which="start"):
    """The tangent of `samples = np.arange(...)` from the tangent `d` of its start or step."""
    return convert(arange_weights(samples, stop, which) * d, _dtype_of(samples))


def arange_part_adjoint(g, like, samples, stop, which="start"):
    """The cotangent of np.arange's start or step (`like`): the transpose of `arange_part`."""
    if not np.issubdtype(_dtype_of(samples), np.inexact):
        return zeros_like(like)
    return convert_back(unbroadcast(np.sum(arange_weights(samples, stop, which) * g), like), like)


def pad_value(d, x, pad_width, mode="constant"):
    """The tangent of `np.pad(x, pad_width, constant_values=v)` from the tangent `d` of `v`: `d`
    where the padding is, 0 on x (and 0 everywhere for the other modes, which ignore v)."""
    zero = np.zeros(np.shape(x))
    if mode != "constant":
        return np.pad(zero, pad_width)
    return np.pad(zero, pad_width, mode="constant", constant_values=d)


def pad_value_adjoint(g, x, pad_width, value, mode="constant"):
    """The cotangent of the padding value: for each (axis, side) entry of the value, the sum of
    `g` over the cells that entry fills, summed down to the value's own shape."""
    ndim = np.ndim(x)
    table = np.zeros((ndim, 2))
    if mode == "constant":
        zero = np.zeros(np.shape(x))
        for axis in range(ndim):
            for side in (0, 1):
                hot = np.zeros((ndim, 2))
                hot[axis, side] = 1.0
                table[axis, side] = np.sum(g * np.pad(zero, pad_width, constant_values=hot))
    return unbroadcast(table, value)


# ---------------------------------------------------------------- np.r_[...] and np.c_[...]


def index_concat(how, items):
    """`np.r_[items]` (how="r_") or `np.c_[items]` (how="c_"), as a call s2sad has a rule for."""
    return getattr(np, how)[tuple(items)]


def _numeric(item) -> bool:
    return not isinstance(item, (str, slice))


def _layout(how, items) -> tuple[np.ndarray, list[int]]:
    """Where each element of each array item lands: the result of the same np.r_/np.c_ over
    the items' element numbers (−1 where a slice makes elements), flattened, and the items' sizes."""
    tagged, sizes, offset = [], [], 0
    for item in items:
        if _numeric(item):
            count = int(size(item))
            tagged.append(np.arange(offset, offset + count, dtype=float).reshape(np.shape(item)))
            sizes.append(count)
            offset += count
        elif isinstance(item, slice):
            tagged.append(np.full(size(np.r_[item]), -1.0))
            sizes.append(0)
        else:
            tagged.append(item)
            sizes.append(0)
    return np.ravel(getattr(np, how)[tuple(tagged)]).astype(np.int64), sizes


def index_concat_tangent(ditems, how, items):
    """The tangent of `index_concat(how, items)`: each item's tangent put where its elements
    went (0 where a slice made elements)."""
    flat, _ = _layout(how, items)
    sources = [np.ravel(d if d is not None else np.zeros(np.shape(item)))
               for d, item in zip(ditems, items) if _numeric(item)]
    source = np.concatenate(sources) if sources else np.zeros(0)
    out = np.zeros(flat.shape, np.result_type(source, 0.0))
    placed = flat >= 0
    out[placed] = source[flat[placed]]
    return np.reshape(out, np.shape(index_concat(how, [np.zeros(np.shape(i)) if _numeric(i) else i for i in items])))


def index_concat_adjoint(g, how, items):
    """The cotangent of each item of `index_concat(how, items)`: the elements of `g` where its
    elements went, shaped like it (a float for a float item, None for slices and strings)."""
    flat, sizes = _layout(how, items)
    gathered = np.zeros(sum(sizes), np.result_type(g, 0.0))
    placed = flat >= 0
    gathered[flat[placed]] = np.ravel(g)[placed]
    pieces, start = [], 0
    for item, count in zip(items, sizes):
        if not _numeric(item):
            pieces.append(None)
            continue
        piece = np.reshape(gathered[start:start + count], np.shape(item))
        pieces.append(float(piece) if type(item) in (float, int) else piece)
        start += count
    return list(pieces) if isinstance(items, list) else tuple(pieces)
