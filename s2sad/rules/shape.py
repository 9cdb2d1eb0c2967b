"""Shape and layout: transpose, reshape. All linear, so each is its own tangent."""

import numpy as np

from s2sad.rules.registry import linear
from s2sad.runtime import inverse_axes


@linear(np.transpose, "x, axes=None")
class transpose:
    def bx(g, axes):
        return np.transpose(g, inverse_axes(axes))


@linear(np.reshape, "x, shape")
class reshape:
    def bx(g, x):
        return np.reshape(g, np.shape(x))
