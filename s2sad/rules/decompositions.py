"""Matrix decompositions: `np.linalg` eigh, eigvalsh and eig.

A decomposition returns a tuple (eigh -> (w, v)); like slogdet's, its tangent is a tuple of the
same form and its cotangent `g` arrives as one, zeros in the places the program did not read.
The formulas are those of the decomposition's defining identity differentiated
(A V = V diag(w)): for eigenvectors they divide by the gaps between eigenvalues; a tied pair
(`equal_pairs`) contributes 0 there, where no derivative exists (docs/conventions.md).
"""

import numpy as np

from s2sad import runtime
from s2sad.rules.registry import define, linear, nondiff
from s2sad.runtime import (
    equal_pairs,
    fold_triangle,
    mirror_triangle,
    real_pairs,
)

# ---------------------------------------------------------------- symmetric eigenproblems


@define(np.linalg.eigh, "a, UPLO='L'", structural=True)
class eigh:
    """(w, v) with a = v diag(w) v^T, of the symmetric matrix the lower (UPLO='L') or upper
    triangle of `a` stands for: a tangent's other triangle is ignored, a cotangent lies in that
    triangle. dw = diag(v^T da v); dv = v (F * v^T da v) with F[i, j] = 1 / (w[j] - w[i]) off
    the diagonal. Where two eigenvalues are equal their eigenvectors are any basis of a plane:
    F is 0 for that pair (the eigenvectors' change within the plane is left out), and dw is
    exact for functions symmetric in the tied eigenvalues (their sum, a determinant)."""

    def da(da, a, UPLO, out):
        w = out[0]
        v = out[1]
        p = np.swapaxes(v, -1, -2) @ mirror_triangle(da, UPLO) @ v
        gap = np.expand_dims(w, -2) - np.expand_dims(w, -1)
        f = gap / (gap * gap + equal_pairs(w))
        return np.diagonal(p, 0, -2, -1), v @ (f * p)

    def ba(g, a, UPLO, out):
        w = out[0]
        v = out[1]
        vt = np.swapaxes(v, -1, -2)
        gap = np.expand_dims(w, -2) - np.expand_dims(w, -1)
        f = gap / (gap * gap + equal_pairs(w))
        m = v @ (f * (vt @ g[1])) @ vt + (v * np.expand_dims(g[0], -2)) @ vt
        return fold_triangle(m, UPLO)


@define(np.linalg.eigvalsh, "a, UPLO='L'")
class eigvalsh:
    """The eigenvalues of eigh: dw = diag(v^T da v), with v the eigenvectors (recomputed)."""

    def da(da, a, UPLO):
        v = np.linalg.eigh(a, UPLO)[1]
        return np.sum(v * (mirror_triangle(da, UPLO) @ v), axis=-2)

    def ba(g, a, UPLO):
        v = np.linalg.eigh(a, UPLO)[1]
        return fold_triangle((v * np.expand_dims(g, -2)) @ np.swapaxes(v, -1, -2), UPLO)


@define(np.linalg.eig, "a", structural=True)
class eig:
    """(w, v) with a v = v diag(w), for a real matrix with real eigenvalues (a symmetric one,
    say); complex eigenvalues are refused when the derivative runs. With p = v^-1 da v:
    dw = diag(p); dv = v (F * p), F as for eigh, less each column's component along itself
    (np.linalg.eig returns eigenvectors of unit length). Tied eigenvalues as for eigh."""

    def da(da, a, out):
        w = out[0]
        v = out[1]
        gap = np.expand_dims(w, -2) - np.expand_dims(w, -1)
        f = gap / (gap * gap + real_pairs(w))
        p = np.linalg.solve(v, da @ v)
        dv = v @ (f * p)
        return np.diagonal(p, 0, -2, -1), dv - v * np.sum(v * dv, axis=-2, keepdims=True)

    def ba(g, a, out):
        w = out[0]
        v = out[1]
        vt = np.swapaxes(v, -1, -2)
        gap = np.expand_dims(w, -2) - np.expand_dims(w, -1)
        f = gap / (gap * gap + real_pairs(w))
        gv = g[1] - v * np.sum(v * g[1], axis=-2, keepdims=True)
        return np.linalg.solve(vt, (f * (vt @ gv)) @ vt + np.expand_dims(g[0], -1) * vt)


# ---------------------------------------------------------------- singular values


# ---------------------------------------------------------------- QR, pseudo-inverse, least squares


# ---------------------------------------------------------------- matrix functions and products


# ---------------------------------------------------------------- the helpers the rules above call

nondiff(runtime.equal_pairs, runtime.real_pairs)


@linear(runtime.mirror_triangle, "d, UPLO", linear_in="d")
class mirror_triangle_rule:
    def bd(c, UPLO):
        return fold_triangle(c, UPLO)


@linear(runtime.fold_triangle, "c, UPLO", linear_in="c")
class fold_triangle_rule:
    def bc(h, UPLO):
        return mirror_triangle(h, UPLO)
