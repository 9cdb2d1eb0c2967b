"""Products: matmul (`@`) and dot, for vectors, matrices and stacks of matrices."""

import operator

import numpy as np

from s2sad.rules.registry import define
from s2sad.runtime import matmul_adjoint_x, matmul_adjoint_y


@define(operator.matmul, "x, y", also=(np.matmul,))
class matmul:
    def dx(dx, y):
        return dx @ y

    def bx(g, x, y):
        return matmul_adjoint_x(g, x, y)

    def dy(dy, x):
        return x @ dy

    def by(g, x, y):
        return matmul_adjoint_y(g, x, y)


@define(np.dot, "x, y")
class dot:
    """np.dot for scalars, vectors and matrices (N-d stacks follow np.dot's own pairing)."""

    def dx(dx, y):
        return np.dot(dx, y)

    def bx(g, x, y):
        return matmul_adjoint_x(g, x, y)

    def dy(dy, x):
        return np.dot(x, dy)

    def by(g, x, y):
        return matmul_adjoint_y(g, x, y)
