"""The programs the benchmarks differentiate, and their hand-written gradients."""

import math

import numpy as np


def scalar_loop(x, n):
    """A 1000-step scalar recurrence: the tracing systems' worst case."""
    s = x
    for _ in range(n):
        s = s * 0.99 + math.sin(s) * x
    return s


def scalar_loop_grad(x, n):
    """Its gradient with respect to x, written by hand: forward values kept, then reversed."""
    values = [0.0] * n
    s = x
    for i in range(n):
        values[i] = s
        s = s * 0.99 + math.sin(s) * x
    bs, bx = 1.0, 0.0
    for i in range(n - 1, -1, -1):
        s = values[i]
        bx += bs * math.sin(s)
        bs = bs * (0.99 + math.cos(s) * x)
    return bx + bs


def mlp_loss(w1, b1, w2, x, y):
    """A two-layer network's mean squared error on a batch."""
    h = np.tanh(x @ w1 + b1)
    out = h @ w2
    return np.mean((out - y) ** 2)


def mlp_loss_grad(w1, b1, w2, x, y):
    h = np.tanh(x @ w1 + b1)
    out = h @ w2
    dout = 2.0 * (out - y) / out.size
    dw2 = h.T @ dout
    dh = np.outer(dout, w2) if w2.ndim == 1 else dout @ w2.T
    dz = dh * (1.0 - h * h)
    return x.T @ dz, dz.sum(axis=0), dw2
