"""Linear algebra: products (matmul, dot, vdot, inner, outer, tensordot, einsum), diagonals,
traces and triangles, and `np.linalg` (norm, det, slogdet, inv, solve, cholesky).

Products are linear in each factor, so each tangent is the product with one factor replaced by
its tangent. Adjoints of the products that NumPy defines by index pairing (inner, tensordot,
einsum, N-d dot) go through einsum: `einsum_plan` gives the subscripts contracting the cotangent
with the other factors, and `einsum_place` spreads the result over the factor's shape (repeated
indices are diagonals, indices summed in that factor alone are broadcast).
"""

import operator

import numpy as np

from s2sad import runtime
from s2sad.rules.registry import define, linear
from s2sad.runtime import (
    as_columns,
    contract,
    diag_adjoint,
    diagonal_adjoint,
    dot_adjoint_x,
    dot_adjoint_y,
    einsum_place,
    einsum_plan,
    from_columns,
    inner_subscripts,
    matmul_adjoint_x,
    matmul_adjoint_y,
    norm_axes,
    norm_partial,
    series_product,
    tensordot_subscripts,
    unbroadcast,
    unreduce,
)

# ---------------------------------------------------------------- products


@define(operator.matmul, "x, y", also=(np.matmul,))
class matmul:
    """x @ y for vectors, matrices and stacks of matrices (stacks broadcast)."""

    def dx(dx, y):
        return dx @ y

    def bx(g, x, y):
        return matmul_adjoint_x(g, x, y)

    def dy(dy, x):
        return x @ dy

    def by(g, x, y):
        return matmul_adjoint_y(g, x, y)

    def taylor(x, x_c, y, y_c):
        return series_product(np.matmul, x, x_c, y, y_c)


@define(np.dot, "x, y")
class dot:
    """np.dot for scalars, vectors and matrices; for N-d arrays it pairs the last axis of x with
    the second-to-last of y."""

    def dx(dx, y):
        return np.dot(dx, y)

    def bx(g, x, y):
        return dot_adjoint_x(g, x, y)

    def dy(dy, x):
        return np.dot(x, dy)

    def by(g, x, y):
        return dot_adjoint_y(g, x, y)

    def taylor(x, x_c, y, y_c):
        return series_product(np.dot, x, x_c, y, y_c)


@define(np.vdot, "x, y")
class vdot:
    """sum(ravel(x) * ravel(y)) (real arrays): x and y need the same size, not the same shape."""

    def dx(dx, y):
        return np.vdot(dx, y)

    def bx(g, x, y):
        return np.reshape(g * y, np.shape(x))

    def dy(dy, x):
        return np.vdot(x, dy)

    def by(g, x, y):
        return np.reshape(g * x, np.shape(y))


@define(np.outer, "x, y")
class outer:
    """out[i, j] = ravel(x)[i] * ravel(y)[j]."""

    def dx(dx, y):
        return np.outer(dx, y)

    def bx(g, x, y):
        return np.reshape(np.dot(g, np.ravel(y)), np.shape(x))

    def dy(dy, x):
        return np.outer(x, dy)

    def by(g, x, y):
        return np.reshape(np.dot(np.ravel(x), g), np.shape(y))


@define(np.inner, "x, y")
class inner:
    """Sums over the last axes of x and y (a product when either is a scalar)."""

    def dx(dx, y):
        return np.inner(dx, y)

    def bx(g, x, y):
        plan = einsum_plan(inner_subscripts(x, y), 0, x, y)
        return einsum_place(contract(plan[0], g, y), plan[1], x)

    def dy(dy, x):
        return np.inner(x, dy)

    def by(g, x, y):
        plan = einsum_plan(inner_subscripts(x, y), 1, x, y)
        return einsum_place(contract(plan[0], g, x), plan[1], y)


@define(np.tensordot, "x, y, axes=2")
class tensordot:
    def dx(dx, y, axes):
        return np.tensordot(dx, y, axes)

    def bx(g, x, y, axes):
        plan = einsum_plan(tensordot_subscripts(x, y, axes), 0, x, y)
        return einsum_place(contract(plan[0], g, y), plan[1], x)

    def dy(dy, x, axes):
        return np.tensordot(x, dy, axes)

    def by(g, x, y, axes):
        plan = einsum_plan(tensordot_subscripts(x, y, axes), 1, x, y)
        return einsum_place(contract(plan[0], g, x), plan[1], y)


@define(np.einsum, "subscripts, x, y=None, z=None, optimize=False", also=(runtime.contract,))
class einsum:
    """One to three operands; subscripts explicit ('ij,jk->ik') or implicit ('ij,jk'), with
    '...' allowed; the sublist form (`np.einsum(a, [0, 1], b, [1, 2])`) is rewritten to the
    subscripts form when lowered. The adjoint of an operand is the einsum of the cotangent with the other
    operands, placed back into the operand's shape (and summed where it was broadcast)."""

    def dx(dx, subscripts, y, z):
        return contract(subscripts, dx, y, z)

    def bx(g, subscripts, x, y, z):
        plan = einsum_plan(subscripts, 0, x, y, z)
        return unbroadcast(einsum_place(contract(plan[0], g, y, z), plan[1], x), x)

    def dy(dy, subscripts, x, z):
        return contract(subscripts, x, dy, z)

    def by(g, subscripts, x, y, z):
        plan = einsum_plan(subscripts, 1, x, y, z)
        return unbroadcast(einsum_place(contract(plan[0], g, x, z), plan[1], y), y)

    def dz(dz, subscripts, x, y):
        return contract(subscripts, x, y, dz)

    def bz(g, subscripts, x, y, z):
        plan = einsum_plan(subscripts, 2, x, y, z)
        return unbroadcast(einsum_place(contract(plan[0], g, x, y), plan[1], z), z)


# ---------------------------------------------------------------- diagonals


@linear(np.trace, "x, offset=0, axis1=0, axis2=1, dtype=None")
class trace:
    def bx(g, x, offset, axis1, axis2):
        diagonal = np.diagonal(x, offset, axis1, axis2)
        return diagonal_adjoint(unreduce(g, diagonal, -1), x, offset, axis1, axis2)


@linear(np.diagonal, "x, offset=0, axis1=0, axis2=1", view=True)
class diagonal:
    def bx(g, x, offset, axis1, axis2):
        return diagonal_adjoint(g, x, offset, axis1, axis2)


@linear(np.diag, "v, k=0", linear_in="v", view=True)
class diag:
    """Builds a matrix from a vector, or reads a matrix's diagonal: each is the other's adjoint."""

    def bv(g, v, k):
        return diag_adjoint(g, v, k)


@linear(np.tril, "x, k=0")
class tril:
    def bx(g, k):
        return np.tril(g, k)


@linear(np.triu, "x, k=0")
class triu:
    def bx(g, k):
        return np.triu(g, k)


# ---------------------------------------------------------------- np.linalg


@define(np.linalg.norm, "x, ord=None, axis=None, keepdims=False")
class norm:
    """Vector norms (ord None, 2, 1, inf, -inf, 0, any p) and matrix norms ('fro', 'nuc', 1, -1,
    2, -2, inf, -inf) over `axis`. At a zero vector the derivative is 0 (the minimum-norm
    subgradient); where several entries (or rows, columns) attain a max/min norm they share the
    derivative evenly. Second derivatives exist for the smooth p-norms and are 0 for the
    piecewise-linear ones; 'nuc', 2 and -2 on matrices have first derivatives only."""

    def dx(dx, x, ord, axis, keepdims, out):
        axes = norm_axes(x, ord, axis)
        return np.sum(norm_partial(x, ord, axes, keepdims, out) * dx, axis=axes, keepdims=keepdims)

    def bx(g, x, ord, axis, keepdims, out):
        axes = norm_axes(x, ord, axis)
        return unreduce(g, x, axes, keepdims) * norm_partial(x, ord, axes, keepdims, out)


@define(np.linalg.det, "x")
class det:
    """d det = det * trace(x^-1 dx); stacks of matrices allowed. Singular x raises LinAlgError."""

    def dx(dx, x, out):
        return out * np.trace(np.linalg.solve(x, dx), axis1=-2, axis2=-1)

    def bx(g, x, out):
        return np.expand_dims(g * out, (-2, -1)) * np.swapaxes(np.linalg.inv(x), -1, -2)


@define(np.linalg.slogdet, "x", structural=True)
class slogdet:
    """(sign, log|det|): the sign is piecewise constant (derivative 0), d logdet = trace(x^-1 dx).
    The tangent and the cotangent are pairs like the result."""

    def dx(dx, x, out):
        return np.zeros_like(out[0]), np.trace(np.linalg.solve(x, dx), axis1=-2, axis2=-1)

    def bx(g, x):
        return np.expand_dims(g[1], (-2, -1)) * np.swapaxes(np.linalg.inv(x), -1, -2)


@define(np.linalg.inv, "x")
class inv:
    def dx(dx, out):
        return -(out @ dx @ out)

    def bx(g, out):
        inverse_t = np.swapaxes(out, -1, -2)
        return -(inverse_t @ g @ inverse_t)


@define(np.linalg.solve, "a, b")
class solve:
    """out = a^-1 b, with b a vector when one-dimensional (numpy 2 semantics) or a stack of
    matrices; `as_columns` turns a vector right-hand side into a column so that the formulas
    are those for matrices."""

    def da(da, a, b, out):
        return -from_columns(np.linalg.solve(a, da @ as_columns(out, b)), b)

    def ba(g, a, b, out):
        gb = np.linalg.solve(np.swapaxes(a, -1, -2), as_columns(g, b))
        return -unbroadcast(gb @ np.swapaxes(as_columns(out, b), -1, -2), a)

    def db(db, a, b):
        return from_columns(np.linalg.solve(a, as_columns(db, b)), b)

    def bb(g, a, b):
        return unbroadcast(from_columns(np.linalg.solve(np.swapaxes(a, -1, -2), as_columns(g, b)), b), b)


@define(np.linalg.cholesky, "x")
class cholesky:
    """L with L L^T = x. NumPy reads only the lower triangle of x, so the derivative is that of
    the function of the lower triangle: a tangent's upper triangle is ignored (it is mirrored
    from the lower one) and a cotangent is lower triangular. Phi(m) keeps the lower triangle of
    m with its diagonal halved."""

    def dx(dx, x, out):
        diagonal = np.eye(np.shape(x)[-1], dtype=bool)
        sym = np.tril(dx) + np.swapaxes(np.tril(dx, -1), -1, -2)
        inner = np.linalg.solve(out, np.swapaxes(np.linalg.solve(out, sym), -1, -2))
        return out @ (np.tril(inner) - 0.5 * (inner * diagonal))

    def bx(g, x, out):
        diagonal = np.eye(np.shape(x)[-1], dtype=bool)
        lt = np.swapaxes(out, -1, -2)
        phi = lt @ g
        phi = np.tril(phi) - 0.5 * (phi * diagonal)
        s = np.linalg.solve(lt, np.swapaxes(np.linalg.solve(lt, np.swapaxes(phi, -1, -2)), -1, -2))
        sym = 0.5 * (s + np.swapaxes(s, -1, -2))
        return np.tril(sym) + np.tril(sym, -1)
