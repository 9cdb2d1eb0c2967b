"""Functions other modules call: s2sad differentiates them where they are defined."""

import numpy as np


def softplus(x):
    return np.log1p(np.exp(x))


def affine(x, a=2.0, b=1.0):
    return a * x + b


def power(x, n):
    """x ** n by recursion on the integer n (bounded: n steps)."""
    if n == 0:
        return 1.0
    return x * power(x, n - 1)


def fast_power(x, n):
    """x ** n by repeated squaring: two recursive calls with different arguments."""
    if n == 0:
        return 1.0
    half = fast_power(x, n // 2)
    if n % 2 == 0:
        return half * half
    return x * half * half


def spiral_down(x, n):
    """Mutual recursion with `spiral_up`."""
    if n <= 0:
        return x
    return spiral_up(np.sin(x), n - 1)


def spiral_up(x, n):
    return spiral_down(1.5 * x + 0.1, n - 1)
