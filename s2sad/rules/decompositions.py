"""Matrix decompositions and matrix functions: `np.linalg` eigh, eigvalsh, eig, svd, qr, pinv,
lstsq and matrix_power, with np.kron and np.cross (scipy.linalg.expm is in `scipy_linalg`).

A decomposition returns a tuple (eigh -> (w, v), svd -> (u, s, vh), qr -> (q, r)); like
slogdet's, its tangent is a tuple of the same form and its cotangent `g` arrives as one, zeros
in the places the program did not read. The formulas are those of the decomposition's
defining identity differentiated (A V = V diag(w), A = U S Vh, A = Q R): for eigenvectors and
singular vectors they divide by the gaps between eigenvalues (squared singular values); a tied
pair (`equal_pairs`) contributes 0 there, where no derivative exists (docs/conventions.md).
"""

import numpy as np

from s2sad import runtime
from s2sad.rules.registry import define, linear, nondiff
from s2sad.runtime import (
    as_columns,
    at_rank,
    contract,
    cross_drop,
    cross_lift,
    cross_pad,
    cross_unpad,
    diagonal_blocks,
    equal_pairs,
    fit_to,
    fold_triangle,
    frechet_block,
    from_columns,
    kron_plan,
    lstsq_cutoff,
    mirror_triangle,
    qr_r,
    real_pairs,
    svd_cotangent,
    svd_pairs,
    unbroadcast,
    upper_right,
    uv_or_s,
    zeros_like,
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


@define(np.linalg.svd, "a, full_matrices=True, compute_uv=True, hermitian=False", structural=True)
class svd:
    """(u, s, vh) with a = u diag(s) vh, or s alone (compute_uv=False); the singular vectors
    need full_matrices=False on a matrix that is not square (the vectors full_matrices adds are
    any orthonormal completion). With p = u^T da v: ds = diag(p); du = u (F * (p S + S p^T))
    + (1 - u u^T) da v S^-1, dv likewise with a^T, F[i, j] = 1 / (s[j]^2 - s[i]^2) off the
    diagonal, 0 for tied singular values (as for eigh). A zero singular value has 1/s read as 0.
    With hermitian=True NumPy reads the lower triangle only (as eigh does), and so does the rule."""

    def da(da, a, full_matrices, compute_uv, hermitian):
        usv = np.linalg.svd(a, full_matrices=False, hermitian=hermitian)
        da = mirror_triangle(da, hermitian)
        u = usv[0]
        s = usv[1]
        v = np.swapaxes(usv[2], -1, -2)
        squares = s * s
        gap = np.expand_dims(squares, -2) - np.expand_dims(squares, -1)
        f = gap / (gap * gap + svd_pairs(s, a, full_matrices, compute_uv))
        inverse = np.expand_dims(s / (squares + (s == 0)), -2)
        dav = da @ v
        daut = np.swapaxes(da, -1, -2) @ u
        p = np.swapaxes(u, -1, -2) @ dav
        ps = p * np.expand_dims(s, -2)
        sp = np.expand_dims(s, -1) * p
        du = u @ (f * (ps + np.swapaxes(ps, -1, -2))) + (dav - u @ (np.swapaxes(u, -1, -2) @ dav)) * inverse
        dv = v @ (f * (sp + np.swapaxes(sp, -1, -2))) + (daut - v @ (usv[2] @ daut)) * inverse
        return uv_or_s((du, np.diagonal(p, 0, -2, -1), np.swapaxes(dv, -1, -2)), compute_uv)

    def ba(g, a, full_matrices, compute_uv, hermitian):
        usv = np.linalg.svd(a, full_matrices=False, hermitian=hermitian)
        u = usv[0]
        s = usv[1]
        vh = usv[2]
        squares = s * s
        gap = np.expand_dims(squares, -2) - np.expand_dims(squares, -1)
        f = gap / (gap * gap + svd_pairs(s, a, full_matrices, compute_uv))
        inverse = s / (squares + (s == 0))
        c = svd_cotangent(g, usv, compute_uv)
        ut = np.swapaxes(u, -1, -2)
        j = f * (ut @ c[0])
        k = f * (vh @ np.swapaxes(c[2], -1, -2))
        middle = (j + np.swapaxes(j, -1, -2)) * np.expand_dims(s, -2)
        middle = middle + np.expand_dims(s, -1) * (k + np.swapaxes(k, -1, -2))
        gu = (c[0] - u @ (ut @ c[0])) * np.expand_dims(inverse, -2)
        gvh = np.expand_dims(inverse, -1) * (c[2] - (c[2] @ np.swapaxes(vh, -1, -2)) @ vh)
        diagonal = np.expand_dims(c[1], -1) * vh
        return fold_triangle(u @ (middle @ vh + diagonal) + gu @ vh + u @ gvh, hermitian)


# ---------------------------------------------------------------- QR, pseudo-inverse, least squares


@define(np.linalg.qr, "a, mode='reduced'", structural=True)
class qr:
    """(q, r) with a = q r. For an m x n matrix, k = min(m, n) and a = [a1 a2] with a1 its first
    k columns: (q, r1) is the QR of a1 (r1 square and invertible) and r2 = q^T a2 (a2 and r2 are
    empty unless the matrix is wider than tall). With m = q^T da1 r1^-1 and
    o = tril(m, -1) - tril(m, -1)^T: dq = q (o - m) + da1 r1^-1, dr1 = (m - o) r1 and
    dr2 = dq^T a2 + q^T da2. The modes 'r' and 'raw', and 'complete' on a taller matrix, are
    refused when the derivative runs."""

    def da(da, a, mode, out):
        r = qr_r(out[1], mode)
        q = out[0]
        k = np.shape(q)[-1]
        r1 = r[..., :, :k]
        da_rinv = np.swapaxes(np.linalg.solve(np.swapaxes(r1, -1, -2), np.swapaxes(da[..., :, :k], -1, -2)), -1, -2)
        m = np.swapaxes(q, -1, -2) @ da_rinv
        low = np.tril(m, -1)
        o = low - np.swapaxes(low, -1, -2)
        dq = q @ (o - m) + da_rinv
        dr2 = np.swapaxes(dq, -1, -2) @ a[..., :, k:] + np.swapaxes(q, -1, -2) @ da[..., :, k:]
        return dq, np.concatenate([(m - o) @ r1, dr2], axis=-1)

    def ba(g, a, mode, out):
        r = qr_r(out[1], mode)
        q = out[0]
        k = np.shape(q)[-1]
        r1 = r[..., :, :k]
        gr2 = g[1][..., :, k:]
        gq = g[0] + a[..., :, k:] @ np.swapaxes(gr2, -1, -2)
        d = np.swapaxes(q, -1, -2) @ gq - g[1][..., :, :k] @ np.swapaxes(r1, -1, -2)
        bm = np.tril(d - np.swapaxes(d, -1, -2), -1) - d
        ga1 = np.swapaxes(np.linalg.solve(r1, np.swapaxes(gq + q @ bm, -1, -2)), -1, -2)
        return np.concatenate([ga1, q @ gr2], axis=-1)


@define(np.linalg.pinv, "a, rcond=None, hermitian=False, rtol=None")
class pinv:
    """x = a^+: dx = -x da x + x x^T da^T (1 - a x) + (1 - x a) da^T x^T x, the derivative at
    constant rank (where the rank changes, at a singular value crossing the cutoff, there is
    none). A cutoff (rcond, rtol) that drops singular values that are not zero is refused when
    the derivative runs (`at_rank`). With hermitian=True NumPy reads the lower triangle only, and
    so does the rule."""

    def da(da, a, hermitian, out):
        a = at_rank(mirror_triangle(a, hermitian), out, "np.linalg.pinv")
        da = mirror_triangle(da, hermitian)
        dat = np.swapaxes(da, -1, -2)
        xt = np.swapaxes(out, -1, -2)
        left = out @ (xt @ dat)
        right = dat @ (xt @ out)
        return -(out @ da @ out) + left - (left @ a) @ out + right - out @ (a @ right)

    def ba(g, a, hermitian, out):
        a = at_rank(mirror_triangle(a, hermitian), out, "np.linalg.pinv")
        gt = np.swapaxes(g, -1, -2)
        xt = np.swapaxes(out, -1, -2)
        left = gt @ (out @ xt)
        right = (xt @ out) @ gt
        return fold_triangle(-(xt @ g @ xt) + left - a @ (out @ left) + right - (right @ out) @ a, hermitian)


@define(np.linalg.lstsq, "a, b, rcond=None", structural=True)
class lstsq:
    """(x, residuals, rank, sv): x = a^+ b, the least-squares solution of least norm, with the
    derivative of the pseudo-inverse at constant rank; residuals = |b - a x|^2 per column (empty
    unless a is tall and of full rank), d residuals = 2 r . (db - da x) with r = b - a x (since
    a^T r = 0); the rank is an integer (derivative 0); sv are a's singular values (as for svd).
    The pseudo-inverse has lstsq's cutoff (`rcond`): a rank-deficient a keeps its rank, and a
    cutoff that drops singular values that are not zero is refused, as for pinv."""

    def da(da, a, b, rcond, out):
        p = np.linalg.pinv(a, lstsq_cutoff(a, rcond))
        a = at_rank(a, p, "np.linalg.lstsq")
        x = as_columns(out[0], b)
        r = as_columns(b, b) - a @ x
        pt = np.swapaxes(p, -1, -2)
        dax = da @ x
        right = np.swapaxes(da, -1, -2) @ (pt @ x)
        dx = -(p @ dax) + p @ (pt @ (np.swapaxes(da, -1, -2) @ r)) + right - p @ (a @ right)
        usv = np.linalg.svd(a, full_matrices=False)
        dsv = np.sum(usv[0] * (da @ np.swapaxes(usv[2], -1, -2)), axis=-2)
        dres = fit_to(-2 * np.sum(r * dax, axis=0), out[1])
        return from_columns(dx, b), dres, zeros_like(out[2]), dsv

    def ba(g, a, b, rcond, out):
        p = np.linalg.pinv(a, lstsq_cutoff(a, rcond))
        a = at_rank(a, p, "np.linalg.lstsq")
        x = as_columns(out[0], b)
        xt = np.swapaxes(x, -1, -2)
        r = as_columns(b, b) - a @ x
        pt = np.swapaxes(p, -1, -2)
        gx = as_columns(g[0], b)
        gxt = np.swapaxes(gx, -1, -2)
        gr = fit_to(g[1], np.sum(r, axis=0))
        z = pt @ (x @ gxt)
        usv = np.linalg.svd(a, full_matrices=False)
        bsv = (usv[0] * np.expand_dims(g[3], -2)) @ usv[2]
        return -(pt @ gx) @ xt + r @ (gxt @ (p @ pt)) + z - (z @ p) @ a - 2 * (r * gr) @ xt + bsv

    def db(db, a, b, rcond, out):
        r = as_columns(b, b) - a @ as_columns(out[0], b)
        dres = fit_to(2 * np.sum(r * as_columns(db, b), axis=0), out[1])
        dx = from_columns(np.linalg.pinv(a, lstsq_cutoff(a, rcond)) @ as_columns(db, b), b)
        return dx, dres, zeros_like(out[2]), zeros_like(out[3])

    def bb(g, a, b, rcond, out):
        r = as_columns(b, b) - a @ as_columns(out[0], b)
        gr = fit_to(g[1], np.sum(r, axis=0))
        pt = np.swapaxes(np.linalg.pinv(a, lstsq_cutoff(a, rcond)), -1, -2)
        return from_columns(pt @ as_columns(g[0], b) + 2 * r * gr, b)


# ---------------------------------------------------------------- matrix functions and products


@define(np.linalg.matrix_power, "a, n")
class matrix_power:
    """a^n for an integer n (negative: powers of the inverse). The derivative in direction e is
    the upper right block of [[a, e], [0, a]]^n, and the adjoint of g that of [[a^T, g], [0, a^T]]^n."""

    def da(da, a, n):
        return upper_right(np.linalg.matrix_power(frechet_block(a, da), n))

    def ba(g, a, n):
        return upper_right(np.linalg.matrix_power(frechet_block(np.swapaxes(a, -1, -2), g), n))


@define(np.kron, "a, b")
class kron:
    """Bilinear: out[i*p + k, j*q + l] = a[i, j] b[k, l] (any number of axes; the operand with
    fewer is read with leading axes of 1). The adjoint reads the cotangent with the axes of a and
    b interleaved and contracts it with the other factor (`kron_plan`)."""

    def da(da, b):
        return np.kron(da, b)

    def ba(g, a, b):
        plan = kron_plan(a, b)
        return np.reshape(contract(plan[1], np.reshape(g, plan[0]), b), np.shape(a))

    def db(db, a):
        return np.kron(a, db)

    def bb(g, a, b):
        plan = kron_plan(a, b)
        return np.reshape(contract(plan[2], np.reshape(g, plan[0]), a), np.shape(b))


@define(np.cross, "a, b, axisa=-1, axisb=-1, axisc=-1, axis=None")
class cross:
    """The cross product (bilinear): of 3-vectors, <g, a x b> = <a, b x g> = <b, g x a>, each
    summed where it was broadcast. A 2-vector is a 3-vector with a zero third component
    (`cross_pad`), and of two 2-vectors the result is the scalar a0 b1 - a1 b0, the third
    component, whose cotangent g is the vector (0, 0, g) (`cross_lift`)."""

    def da(da, b, axisa, axisb, axisc, axis):
        return np.cross(da, b, axisa, axisb, axisc, axis)

    def ba(g, a, b, axisa, axisb, axisc, axis):
        h = np.cross(cross_pad(b, axisb, axis), cross_lift(g, a, b, axisa, axisb, axisc, axis))
        return unbroadcast(cross_unpad(h, a, axisa, axis), a)

    def db(db, a, axisa, axisb, axisc, axis):
        return np.cross(a, db, axisa, axisb, axisc, axis)

    def bb(g, a, b, axisa, axisb, axisc, axis):
        h = np.cross(cross_lift(g, a, b, axisa, axisb, axisc, axis), cross_pad(a, axisa, axis))
        return unbroadcast(cross_unpad(h, b, axisb, axis), b)


# ---------------------------------------------------------------- the helpers the rules above call

nondiff(runtime.equal_pairs, runtime.real_pairs, runtime.svd_pairs, runtime.kron_plan, runtime.lstsq_cutoff)


@linear(runtime.uv_or_s, "t, compute_uv", linear_in="t", structural=True)
class uv_or_s_rule:
    def bt(c, t, compute_uv):
        return svd_cotangent(c, t, compute_uv)


@linear(runtime.svd_cotangent, "g, like, compute_uv", linear_in="g", structural=True)
class svd_cotangent_rule:
    """Reads only the shapes of `like`."""

    def bg(c, compute_uv):
        return uv_or_s(c, compute_uv)


@linear(runtime.qr_r, "r, mode", linear_in="r")
class qr_r_rule:
    def br(c):
        return c


@linear(runtime.cross_pad, "v, axisv, axis", linear_in="v")
class cross_pad_rule:
    def bv(c, v, axisv, axis):
        return cross_unpad(c, v, axisv, axis)


@linear(runtime.cross_unpad, "g, v, axisv, axis", linear_in="g")
class cross_unpad_rule:
    """Reads only the shape of `v`."""

    def bg(c, axisv, axis):
        return cross_pad(c, axisv, axis)


@linear(runtime.cross_lift, "g, a, b, axisa, axisb, axisc, axis", linear_in="g")
class cross_lift_rule:
    """Reads only the shapes of `a` and `b`."""

    def bg(c, a, b, axisa, axisb, axisc, axis):
        return cross_drop(c, a, b, axisa, axisb, axisc, axis)


@linear(runtime.cross_drop, "h, a, b, axisa, axisb, axisc, axis", linear_in="h")
class cross_drop_rule:
    """Reads only the shapes of `a` and `b`."""

    def bh(c, a, b, axisa, axisb, axisc, axis):
        return cross_lift(c, a, b, axisa, axisb, axisc, axis)


@define(runtime.at_rank, "a, like, name")
class at_rank_rule:
    """The identity in `a`; reads `like` (a pseudo-inverse of `a`) only to check the rank, so its
    tangent is the tangent itself (not at_rank of it, which would check the tangent)."""

    def da(da):
        return da

    def ba(g):
        return g


@linear(runtime.fit_to, "t, like", linear_in="t")
class fit_to_rule:
    """Reads only the shape of `like`."""

    def bt(c, t):
        return fit_to(c, t)


@linear(runtime.mirror_triangle, "d, UPLO", linear_in="d")
class mirror_triangle_rule:
    def bd(c, UPLO):
        return fold_triangle(c, UPLO)


@linear(runtime.fold_triangle, "c, UPLO", linear_in="c")
class fold_triangle_rule:
    def bc(h, UPLO):
        return mirror_triangle(h, UPLO)


@define(runtime.frechet_block, "x, e")
class frechet_block_rule:
    """Linear in (x, e) together: each tangent term keeps the other block at zero."""

    def dx(dx):
        return frechet_block(dx, np.zeros_like(dx))

    def bx(g):
        return diagonal_blocks(g)

    def de(de):
        return frechet_block(np.zeros_like(de), de)

    def be(g):
        return upper_right(g)


@linear(runtime.upper_right, "m", linear_in="m")
class upper_right_rule:
    def bm(c):
        return frechet_block(np.zeros_like(c), c)


@linear(runtime.diagonal_blocks, "m", linear_in="m")
class diagonal_blocks_rule:
    def bm(c):
        return frechet_block(c, np.zeros_like(c))
