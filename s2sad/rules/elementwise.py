"""Elementwise functions of one argument, NumPy's and the math module's: each is its partial."""

import math

import numpy as np

from s2sad.rules.registry import elementwise


@elementwise(np.exp, also=(math.exp,))
def exp(x, out):
    return out


@elementwise(np.log)
def log(x):
    return 1 / x


@elementwise(math.log)
def math_log(x):
    return 1.0 / x


@elementwise(np.sqrt)
def sqrt(x, out):
    return 0.5 / out


@elementwise(math.sqrt)
def math_sqrt(x, out):
    return 0.5 / out


@elementwise(np.sin)
def sin(x):
    return np.cos(x)


@elementwise(math.sin)
def math_sin(x):
    return math.cos(x)


@elementwise(np.cos)
def cos(x):
    return -np.sin(x)


@elementwise(math.cos)
def math_cos(x):
    return -math.sin(x)


@elementwise(np.tan, also=(math.tan,))
def tan(x, out):
    return 1 + out * out


@elementwise(np.tanh, also=(math.tanh,))
def tanh(x, out):
    return 1 - out * out


@elementwise(np.abs, also=(np.absolute, abs))
def absolute(x):
    """abs'(0) = 0: the minimum-norm subgradient."""
    return np.sign(x)
