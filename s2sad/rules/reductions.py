"""Reductions over axes: sum and mean (with `axis` and `keepdims`)."""

import numpy as np

from s2sad.rules.registry import linear
from s2sad.runtime import reduced_size, unreduce


@linear(np.sum, "x, axis=None, dtype=None, keepdims=False")
class sum:
    def bx(g, x, axis, keepdims):
        return unreduce(g, x, axis, keepdims)


@linear(np.mean, "x, axis=None, dtype=None, keepdims=False")
class mean:
    def bx(g, x, axis, keepdims):
        return unreduce(g, x, axis, keepdims) / reduced_size(x, axis)
