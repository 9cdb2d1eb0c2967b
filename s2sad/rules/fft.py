"""The discrete Fourier transform (np.fft). The shifts that reorder a spectrum, fftshift and
ifftshift, are real permutations, each the other's adjoint.

The transforms are linear, so each is its own tangent. Their adjoints follow the pairing of
complex (co)tangents, <a, b> = Re(sum(a * b)) (docs/conventions.md, "Complex values"): the DFT
matrix is symmetric, so the adjoint of fft is fft itself (same `norm`), of ifft is ifft, cut or
zero-padded back to the input's length where `n` padded or cut it; on a real input the
cotangent is the real part (`real_like`). The real transforms rfft and irfft map real arrays to
half spectra and back; their adjoints are `rfftn_transpose` and `irfftn_transpose`. The 2-d and
n-d transforms are the 1-d ones over each axis. hfft and ihfft stay refused.
"""

import numpy as np

from s2sad import runtime
from s2sad.rules.registry import linear, nondiff, refuse
from s2sad.runtime import (
    fftn_axes,
    irfftn_of,
    irfftn_transpose,
    real_like,
    resize_to,
    rfftn_of,
    rfftn_transpose,
)

ONE_D = "n, axis"
N_D = "axes"
"""The settings of the 1-d and n-d transforms (`norm`, a string, and `s`, a tuple of ints, are
never active values either)."""


@linear(np.fft.fftshift, "x, axes=None")
class fftshift:
    """A roll by half of each axis (rounded down): its adjoint rolls back, which is ifftshift."""

    def bx(g, axes):
        return np.fft.ifftshift(g, axes)


@linear(np.fft.ifftshift, "x, axes=None")
class ifftshift:
    def bx(g, axes):
        return np.fft.fftshift(g, axes)


@linear(np.fft.fft, "x, n=None, axis=-1, norm=None", settings=ONE_D)
class fft:
    """Its adjoint is fft of the cotangent (the DFT matrix is symmetric), cut or padded back to
    x's length; for a real x, its real part."""

    def bx(g, x, axis, norm):
        return real_like(resize_to(np.fft.fft(g, None, axis, norm), np.shape(x)), x)


@linear(np.fft.ifft, "x, n=None, axis=-1, norm=None", settings=ONE_D)
class ifft:
    """Its adjoint is ifft of the cotangent, cut or padded back to x's length."""

    def bx(g, x, axis, norm):
        return real_like(resize_to(np.fft.ifft(g, None, axis, norm), np.shape(x)), x)


@linear(np.fft.fftn, "x, s=None, axes=None, norm=None", settings=N_D)
@linear(np.fft.fft2, "x, s=None, axes=(-2, -1), norm=None", settings=N_D)
class fftn:
    """fft over each axis: the adjoint is fftn of the cotangent over the same axes."""

    def bx(g, x, s, axes, norm):
        return real_like(resize_to(np.fft.fftn(g, None, fftn_axes(s, axes), norm), np.shape(x)), x)


@linear(np.fft.ifftn, "x, s=None, axes=None, norm=None", settings=N_D)
@linear(np.fft.ifft2, "x, s=None, axes=(-2, -1), norm=None", settings=N_D)
class ifftn:
    def bx(g, x, s, axes, norm):
        return real_like(resize_to(np.fft.ifftn(g, None, fftn_axes(s, axes), norm), np.shape(x)), x)


@linear(np.fft.rfft, "x, n=None, axis=-1, norm=None", settings=ONE_D)
class rfft:
    """Real x to the half spectrum: the adjoint zero-pads the cotangent to the full length n,
    transforms it forward and keeps the real part (`rfftn_transpose`)."""

    def bx(g, x, n, axis, norm):
        return rfftn_transpose(g, x, n, axis, norm)


@linear(np.fft.rfftn, "x, s=None, axes=None, norm=None", settings=N_D)
@linear(np.fft.rfft2, "x, s=None, axes=(-2, -1), norm=None", settings=N_D)
class rfftn:
    def bx(g, x, s, axes, norm):
        return rfftn_transpose(g, x, s, axes, norm)


@linear(np.fft.irfft, "x, n=None, axis=-1, norm=None", settings=ONE_D)
class irfft:
    """Half spectrum to a real signal of length n: each stored frequency counts twice (for itself
    and its conjugate) but 0 and, for even n, n / 2, so the adjoint is ifft of the cotangent,
    cut to n // 2 + 1 and weighted 2 there but 1 at those (`irfftn_transpose`). The imaginary
    parts at 0 and n / 2 do not count: their derivative is 0."""

    def bx(g, x, n, axis, norm):
        return irfftn_transpose(g, x, n, axis, norm)


@linear(np.fft.irfftn, "x, s=None, axes=None, norm=None", settings=N_D)
@linear(np.fft.irfft2, "x, s=None, axes=(-2, -1), norm=None", settings=N_D)
class irfftn:
    def bx(g, x, s, axes, norm):
        return irfftn_transpose(g, x, s, axes, norm)


# ---------------------------------------------------------------- the helpers the adjoints call


@linear(runtime.real_like, "g, x", linear_in="g", family="fft")
class real_like_rule:
    """Linear in g; its adjoint passes the cotangent on (the real part's adjoint embeds)."""

    def bg(c):
        return c


@linear(runtime.resize_to, "g, shape", linear_in="g", family="fft")
class resize_to_rule:
    """Cutting and zero-padding are each other's adjoints."""

    def bg(c, g):
        return resize_to(c, np.shape(g))


@linear(runtime.rfftn_transpose, "g, x, s, axes, norm", linear_in="g", family="fft")
class rfftn_transpose_rule:
    """The adjoint of rfftn's adjoint is rfftn."""

    def bg(c, s, axes, norm):
        return rfftn_of(c, s, axes, norm)


@linear(runtime.rfftn_of, "c, s, axes, norm", linear_in="c", family="fft")
class rfftn_of_rule:
    def bc(g, c, s, axes, norm):
        return rfftn_transpose(g, c, s, axes, norm)


@linear(runtime.irfftn_transpose, "g, x, s, axes, norm", linear_in="g", family="fft")
class irfftn_transpose_rule:
    """The adjoint of irfftn's adjoint is irfftn."""

    def bg(c, s, axes, norm):
        return irfftn_of(c, s, axes, norm)


@linear(runtime.irfftn_of, "c, s, axes, norm", linear_in="c", family="fft")
class irfftn_of_rule:
    def bc(g, c, s, axes, norm):
        return irfftn_transpose(g, c, s, axes, norm)


nondiff(runtime.fftn_axes, family="fft")


refuse(np.fft.hfft, np.fft.ihfft, reason="Hermitian transforms have no rule yet",
       hint="write np.fft.hfft(a, n) as np.fft.irfft(np.conj(a), n) * n, and np.fft.ihfft(x) as "
            "np.conj(np.fft.rfft(x)) / x.shape[-1]")
