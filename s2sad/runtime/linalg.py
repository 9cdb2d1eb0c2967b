"""Helpers of the decomposition rules (`s2sad.rules.decompositions`): which eigenvalues or
singular values are tied, the checks that refuse what has no derivative, the block matrix of a
Fréchet derivative, and the plan of np.kron's adjoint."""

from __future__ import annotations

import numpy as np

from s2sad.errors import UnsupportedValue


def equal_pairs(w):
    """1.0 where two values along the last axis of `w` are equal up to rounding (the diagonal
    included), else 0.0: the pairs whose eigenvector (singular vector) derivative does not exist.
    The rules divide by `gap**2 + equal_pairs(w)`, so a tied pair contributes 0 (docs/conventions.md)."""
    w = np.asarray(w)
    dtype = w.dtype if np.issubdtype(w.dtype, np.floating) else np.float64
    gap = np.abs(w[..., :, None] - w[..., None, :])
    scale = np.max(np.abs(w), axis=-1, initial=0.0)[..., None, None]
    return (gap <= w.shape[-1] * np.finfo(dtype).eps * scale).astype(dtype)


def real_pairs(w):
    """`equal_pairs` of the eigenvalues np.linalg.eig returned, refusing complex ones (NumPy 2.5
    returns real eigenvalues in a complex array: those are real)."""
    if np.iscomplexobj(w):
        if not np.any(np.imag(w)):
            return equal_pairs(np.real(w))
        raise UnsupportedValue(
            "np.linalg.eig returned complex eigenvalues: s2sad differentiates real eigendecompositions only",
            hint="for a symmetric matrix call np.linalg.eigh (or np.linalg.eigvalsh); otherwise wrap the "
                 "computation in s2sad.custom_vjp with a rule of your own")
    return equal_pairs(w)


def svd_pairs(s, a, full_matrices, compute_uv):
    """`equal_pairs` of the singular values, refusing full_matrices=True on a matrix that is not
    square (the added singular vectors are any orthonormal completion: no derivative)."""
    shape = np.shape(a)
    if compute_uv and full_matrices and shape[-1] != shape[-2]:
        raise UnsupportedValue(
            f"np.linalg.svd with full_matrices=True on a {shape[-2]}x{shape[-1]} matrix: the singular "
            "vectors it adds are any orthonormal completion, so they have no derivative",
            hint="call np.linalg.svd(a, full_matrices=False)")
    return equal_pairs(s)


def uv_or_s(t, compute_uv):
    """The triple (u, s, vh) itself, or its singular values alone (np.linalg.svd's compute_uv)."""
    return t if compute_uv else t[1]


def svd_cotangent(g, like, compute_uv):
    """The cotangent of np.linalg.svd as a triple: zeros shaped like u and vh of the triple
    `like` when only s was computed (the adjoint of `uv_or_s`)."""
    if compute_uv:
        return g
    return np.zeros_like(like[0]), g, np.zeros_like(like[2])


def qr_r(r, mode):
    """R of np.linalg.qr, refusing what has no derivative: modes other than 'reduced' and
    'complete', and mode='complete' on a matrix taller than wide (whose Q has columns that are
    any orthonormal completion)."""
    if mode not in ("reduced", "complete") or np.shape(r)[-2] > np.shape(r)[-1]:
        shape = np.shape(r)
        raise UnsupportedValue(
            f"np.linalg.qr with mode={mode!r} giving R of shape {shape}: s2sad differentiates the QR "
            "decomposition in mode 'reduced' (or 'complete' on a matrix at most as tall as wide)",
            hint="call np.linalg.qr(a) (mode='reduced'), and take R alone from its result")
    return r


def cross_pad(v, axisv, axis):
    """The vectors of `v` (along `axisv`, or `axis` if given, as np.cross reads them) along the
    last axis as 3-vectors: a 2-vector gets a zero third component."""
    v = np.moveaxis(np.asarray(v), axisv if axis is None else axis, -1)
    if v.shape[-1] == 2:
        v = np.concatenate([v, np.zeros_like(v[..., :1])], axis=-1)
    return v


def cross_unpad(g, v, axisv, axis):
    """The adjoint of `cross_pad` in `v`: the first components of the 3-vectors of `g` that
    `v`'s vectors have, moved back to their axis."""
    axisv = axisv if axis is None else axis
    return np.moveaxis(np.asarray(g)[..., : np.shape(v)[axisv]], -1, axisv)


def cross_planar(a, b, axisa, axisb, axis):
    """Whether np.cross(a, b) multiplies 2-vectors (its result is then their scalar z-component)."""
    axisa, axisb = (axisa, axisb) if axis is None else (axis, axis)
    return np.shape(a)[axisa] == 2 and np.shape(b)[axisb] == 2


def cross_lift(g, a, b, axisa, axisb, axisc, axis):
    """A cotangent of np.cross(a, b) as 3-vectors along the last axis: (0, 0, g) for the
    scalar result of 2-vectors."""
    g = np.asarray(g)
    if cross_planar(a, b, axisa, axisb, axis):
        return np.stack([np.zeros_like(g), np.zeros_like(g), g], axis=-1)
    return np.moveaxis(g, axisc if axis is None else axis, -1)


def cross_drop(h, a, b, axisa, axisb, axisc, axis):
    """The adjoint of `cross_lift` in g: the z-components of `h` for 2-vectors, else `h` with
    its vectors moved back to np.cross's result axis."""
    h = np.asarray(h)
    if cross_planar(a, b, axisa, axisb, axis):
        return h[..., 2]
    return np.moveaxis(h, -1, axisc if axis is None else axis)


def fit_to(t, like):
    """`t` where it has the shape of `like`, else zeros of that shape: the residuals of
    np.linalg.lstsq are empty unless the matrix is tall and of full rank."""
    return t if np.shape(t) == np.shape(like) else np.zeros(np.shape(like), np.result_type(t, 0.0))


def lstsq_cutoff(a, rcond):
    """The relative cutoff below which np.linalg.lstsq treats singular values of `a` as zero,
    as np.linalg.pinv's `rcond` (lstsq's default rcond=None is eps * max(m, n), in float64)."""
    return np.finfo(np.float64).eps * max(np.shape(a)[-2:]) if rcond is None else rcond


def at_rank(a, like, name):
    """`a` itself, refusing a pseudo-inverse `like` whose cutoff dropped singular values of `a`
    that are not zero: its derivative (of the truncated pseudo-inverse) is not implemented."""
    a = np.asarray(a)
    dropped = np.linalg.norm(a - a @ like @ a, axis=(-2, -1))
    eps = np.finfo(np.result_type(a, like, np.float32)).eps
    if np.any(dropped > np.sqrt(eps) * np.linalg.norm(a, axis=(-2, -1))):
        raise UnsupportedValue(
            f"{name} dropped singular values that are not zero (its cutoff, rcond or rtol): s2sad "
            "differentiates the pseudo-inverse at the rank of the matrix, not a truncated one",
            hint="lower the cutoff, or build the truncated pseudo-inverse from "
                 "np.linalg.svd(a, full_matrices=False), whose derivative s2sad has")
    return a


def mirror_triangle(d, UPLO):
    """The symmetric matrix that the lower (UPLO='L') or upper ('U') triangle of `d` stands for.
    UPLO may also be the `hermitian` flag of np.linalg.svd and pinv: True reads the lower
    triangle (they call eigh), False the whole matrix (`d` itself)."""
    if UPLO is False:
        return d
    if UPLO is True or UPLO.upper() == "L":
        return np.tril(d) + np.swapaxes(np.tril(d, -1), -1, -2)
    return np.triu(d) + np.swapaxes(np.triu(d, 1), -1, -2)


def fold_triangle(c, UPLO):
    """The adjoint of `mirror_triangle`: the lower (or upper) triangle of c + c^T, diagonal once
    (`c` itself for UPLO=False)."""
    if UPLO is False:
        return c
    if UPLO is True or UPLO.upper() == "L":
        return np.tril(c) + np.tril(np.swapaxes(c, -1, -2), -1)
    return np.triu(c) + np.triu(np.swapaxes(c, -1, -2), 1)


def frechet_block(x, e):
    """[[x, e], [0, x]] over the last two axes: f of it has the derivative of f at x in the
    direction e as its upper right block, for a matrix function f."""
    top = np.concatenate([x, e], axis=-1)
    bottom = np.concatenate([np.zeros_like(x), x], axis=-1)
    return np.concatenate([top, bottom], axis=-2)


def upper_right(m):
    """The upper right block of a matrix of twice the size (see `frechet_block`)."""
    half = np.shape(m)[-1] // 2
    return m[..., :half, half:]


def diagonal_blocks(m):
    """The sum of the two diagonal blocks of a matrix of twice the size (see `frechet_block`)."""
    half = np.shape(m)[-1] // 2
    return m[..., :half, :half] + m[..., half:, half:]


def kron_plan(a, b):
    """How np.kron's adjoint reads its cotangent: the shape that interleaves the axes of `a` and
    `b` (each padded with leading ones to the larger number of axes), and the einsum subscripts
    that contract it with `b` (for `a`) and with `a` (for `b`)."""
    na, nb = np.ndim(a), np.ndim(b)
    nd = max(na, nb)
    sa = (1,) * (nd - na) + np.shape(a)
    sb = (1,) * (nd - nb) + np.shape(b)
    first = "abcdefghijklm"[:nd]
    second = "nopqrstuvwxyz"[:nd]
    g = "".join(i + j for i, j in zip(first, second))
    shape = tuple(n for pair in zip(sa, sb) for n in pair)
    return shape, f"{g},{second[nd - nb:]}->{first[nd - na:]}", f"{g},{first[nd - na:]}->{second[nd - nb:]}"
