"""Rules for the helpers generated code calls, so that generated code can be differentiated."""

import numpy as np

from s2sad import runtime
from s2sad.rules.registry import linear, nondiff
from s2sad.runtime import broadcast_like, matmul_adjoint_x, matmul_adjoint_y, unbroadcast


@linear(runtime.unbroadcast, "g, like", linear_in="g")
class unbroadcast_rule:
    def bg(c, g):
        return broadcast_like(c, g)


@linear(runtime.broadcast_like, "g, like", linear_in="g")
class broadcast_like_rule:
    def bg(c, g):
        return unbroadcast(c, g)


@linear(runtime.unreduce, "g, x, axis=None, keepdims=False", linear_in="g")
class unreduce_rule:
    def bg(c, axis, keepdims):
        return np.sum(c, axis=axis, keepdims=keepdims)


@linear(runtime.matmul_adjoint_x, "g, x, y", linear_in="g,y")
class matmul_adjoint_x_rule:
    """g @ y.T is linear in g and in y; each adjoint is a product with the other."""

    def bg(c, y):
        return c @ y

    def by(c, g, x, y):
        return matmul_adjoint_y(g, c, y)


@linear(runtime.matmul_adjoint_y, "g, x, y", linear_in="g,x")
class matmul_adjoint_y_rule:
    def bg(c, x):
        return x @ c

    def bx(c, g, x, y):
        return matmul_adjoint_x(g, x, c)


nondiff(runtime.seed, runtime.zeros_like, runtime.reduced_size, runtime.inverse_axes)
