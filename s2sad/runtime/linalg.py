"""Helpers of the decomposition rules (`s2sad.rules.decompositions`): which eigenvalues are
tied, the check that refuses complex ones, and the symmetric matrix a triangle stands for."""

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
    """`equal_pairs` of the eigenvalues np.linalg.eig returned, refusing complex ones."""
    if np.iscomplexobj(w):
        raise UnsupportedValue(
            "np.linalg.eig returned complex eigenvalues: s2sad differentiates real eigendecompositions only",
            hint="for a symmetric matrix call np.linalg.eigh (or np.linalg.eigvalsh); otherwise wrap the "
                 "computation in s2sad.custom_vjp with a rule of your own")
    return equal_pairs(w)


def mirror_triangle(d, UPLO):
    """The symmetric matrix that the lower (UPLO='L') or upper triangle of `d` stands for."""
    if UPLO.upper() == "L":
        return np.tril(d) + np.swapaxes(np.tril(d, -1), -1, -2)
    return np.triu(d) + np.swapaxes(np.triu(d, 1), -1, -2)


def fold_triangle(c, UPLO):
    """The adjoint of `mirror_triangle`: the lower (or upper) triangle of c + c^T, diagonal once."""
    if UPLO.upper() == "L":
        return np.tril(c) + np.tril(np.swapaxes(c, -1, -2), -1)
    return np.triu(c) + np.triu(np.swapaxes(c, -1, -2), 1)
