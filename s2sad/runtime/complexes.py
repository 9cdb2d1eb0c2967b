"""Runtime helpers for complex intermediates (called by the rules of s2sad.rules.fft and by the
derivative code): cotangents of complex values pair with tangents by Re(sum(a * b))
(docs/conventions.md, "Complex values"), so a real variable may receive a complex cotangent
whose real part is its derivative."""

import numpy as np

from s2sad.runtime.core import foreign_array

__all__ = ["real_like", "resize_axis", "resize_to", "irfft_weights", "fftn_axes", "rfftn_transpose", "rfftn_of",
           "irfftn_transpose", "irfftn_of", "angle_unit", "abs_unit"]


def real_like(g, x):
    """`g`, or its real part where `x` is real and `g` complex: the cotangent of a real value
    is the real part of what flows back to it."""
    if _is_complex(g) and not _is_complex(x):
        return np.real(g)
    return g


def _is_complex(value) -> bool:
    return isinstance(value, (complex, np.complexfloating)) or (
        (isinstance(value, np.ndarray) or foreign_array(value)) and value.dtype.kind == "c")


def resize_axis(g, m: int, axis: int):
    """`g` cut or zero-padded to length `m` along `axis` (what np.fft.fft(x, n) does to x first)."""
    g = np.asarray(g)
    n = g.shape[axis]
    if n == m:
        return g
    if n > m:
        return np.take(g, np.arange(m), axis=axis)
    pad = [(0, 0)] * g.ndim
    pad[axis] = (0, m - n)
    return np.pad(g, pad)


def irfft_weights(n: int, axis: int, ndim: int):
    """How often each of the n // 2 + 1 stored frequencies counts in the real inverse transform of
    length n: 2 (once for itself, once for its conjugate), 1 at 0 and, for even n, at n / 2;
    shaped to broadcast along `axis` of an array with `ndim` axes."""
    weights = np.full(n // 2 + 1, 2.0)
    weights[0] = 1.0
    if n % 2 == 0:
        weights[-1] = 1.0
    shape = [1] * ndim
    shape[axis] = n // 2 + 1
    return weights.reshape(shape)


def resize_to(g, shape: tuple):
    """`g` cut or zero-padded at the end of each axis to `shape`: the adjoint of the cut or
    padding np.fft.fft(x, n) makes of x before it transforms."""
    if np.shape(g) == shape:
        return g
    for axis, m in enumerate(shape):
        g = resize_axis(g, m, axis)
    return g


def fftn_axes(s, axes):
    """The axes np.fft.fftn transforms for its `s` and `axes` (all when both are None, the last
    len(s) when only `s` is given)."""
    if axes is None and s is not None:
        return tuple(range(-np.size(s), 0))
    return axes


def _cooked(x, s, axes, inverse_real: bool = False):
    """`s` and `axes` of a real transform as tuples, filled in as NumPy does."""
    axes = tuple(range(np.ndim(x))) if axes is None and s is None else fftn_axes(s, axes)
    axes = (axes,) if np.ndim(axes) == 0 else tuple(axes)
    if s is None:
        s = [np.shape(x)[a] for a in axes]
        if inverse_real:
            s[-1] = 2 * (s[-1] - 1)
    s = (s,) if np.ndim(s) == 0 else tuple(s)
    return s, axes


def rfftn_transpose(g, x, s, axes, norm):
    """The adjoint of x -> np.fft.rfftn(x, s, axes, norm) (np.fft.rfft with an int `s` and
    `axes`) for real x: the half spectrum zero-padded to the full length, transformed forward,
    cut back to x's shape; its real part."""
    s, axes = _cooked(x, s, axes)
    if len(axes) > 1:
        g = np.fft.fftn(g, None, axes[:-1], norm)
    return np.real(resize_to(np.fft.fft(g, s[-1], axes[-1], norm), np.shape(x)))


def rfftn_of(c, s, axes, norm):
    """np.fft.rfftn of the real part of `c`, which has the shape of the transform's input (the
    adjoint of `rfftn_transpose`)."""
    return np.fft.rfftn(np.real(c), *_cooked(c, s, axes), norm)


def irfftn_transpose(g, x, s, axes, norm):
    """The adjoint of x -> np.fft.irfftn(x, s, axes, norm) (np.fft.irfft with an int `s` and
    `axes`): along the last axis each stored frequency counts with its weight (`irfft_weights`)
    in an inverse transform of the real part of g; then the other axes' inverse transform, and
    x's shape."""
    s, axes = _cooked(x, s, axes, inverse_real=True)
    g = np.fft.ifft(np.real(g), None, axes[-1], norm)
    g = np.take(g, np.arange(s[-1] // 2 + 1), axis=axes[-1]) * irfft_weights(s[-1], axes[-1], np.ndim(g))
    if len(axes) > 1:
        g = np.fft.ifftn(g, None, axes[:-1], norm)
    return resize_to(g, np.shape(x))


def irfftn_of(c, s, axes, norm):
    """np.fft.irfftn of `c`, which has the shape of the transform's input (the adjoint of
    `irfftn_transpose`)."""
    return np.fft.irfftn(c, *_cooked(c, s, axes, inverse_real=True), norm)


def angle_unit(deg: bool) -> float:
    """The unit of np.angle: radians, or degrees for deg=True."""
    return 180.0 / np.pi if deg else 1.0


def abs_unit(x):
    """conj(x) / |x|, 0 at x = 0: the direction in which |x| grows (sign(x) for real x)."""
    if not _is_complex(x) and not (isinstance(x, np.ndarray) and x.dtype == object):
        return np.sign(x)
    r = np.abs(x)
    return np.where(r == 0, 0.0, np.conj(x) / np.where(r == 0, 1.0, r))[()]
