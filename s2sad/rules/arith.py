"""Arithmetic: the Python operators and their NumPy spellings."""

import operator

import numpy as np

from s2sad.rules.registry import define, elementwise, linear
from s2sad.runtime import broadcast_like, unbroadcast


@define(operator.add, "x, y", also=(np.add,), shape="elementwise")
class add:
    def dx(dx, out):
        return broadcast_like(dx, out)

    def bx(g, x):
        return unbroadcast(g, x)

    def dy(dy, out):
        return broadcast_like(dy, out)

    def by(g, y):
        return unbroadcast(g, y)


@define(operator.sub, "x, y", also=(np.subtract,), shape="elementwise")
class sub:
    def dx(dx, out):
        return broadcast_like(dx, out)

    def bx(g, x):
        return unbroadcast(g, x)

    def dy(dy, out):
        return broadcast_like(-dy, out)

    def by(g, y):
        return unbroadcast(-g, y)


@define(operator.mul, "x, y", also=(np.multiply,), shape="elementwise")
class mul:
    def dx(dx, y):
        return dx * y

    def bx(g, x, y):
        return unbroadcast(g * y, x)

    def dy(dy, x):
        return x * dy

    def by(g, x, y):
        return unbroadcast(x * g, y)


@define(operator.truediv, "x, y", also=(np.divide, np.true_divide), shape="elementwise")
class truediv:
    def dx(dx, y):
        return dx / y

    def bx(g, x, y):
        return unbroadcast(g / y, x)

    def dy(dy, y, out):
        return -dy * out / y

    def by(g, y, out):
        return unbroadcast(-g * out / y, y)


@define(operator.pow, "x, y", also=(np.power,), shape="elementwise")
class pow:
    """x ** y: the exponent's term uses log(x), so it is only generated when y is active."""

    def dx(dx, x, y):
        return dx * y * x ** (y - 1)

    def bx(g, x, y):
        return unbroadcast(g * y * x ** (y - 1), x)

    def dy(dy, x, out):
        return dy * out * np.log(x)

    def by(g, x, y, out):
        return unbroadcast(g * out * np.log(x), y)


@linear(operator.neg, "x", also=(np.negative,), shape="elementwise")
class neg:
    def bx(g):
        return -g


@linear(operator.pos, "x", also=(np.positive,), shape="elementwise")
class pos:
    def bx(g):
        return g


@elementwise(np.square)
def square(x):
    return 2 * x
