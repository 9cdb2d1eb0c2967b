"""Reading elements by index: `np.take` and `np.take_along_axis`. Both are linear in the array;
the adjoint scatter-adds the cotangent into zeros shaped like the array, so an index that is
read several times receives the sum of its cotangents. Indices carry no derivative.

(`x[index]`, the subscript itself, is `operator.getitem`; its rule is with the containers.)
"""

import numpy as np

from s2sad.rules.registry import linear, nondiff
from s2sad.runtime import take_adjoint, take_along_axis_adjoint


@linear(np.take, "x, indices, axis=None")
class take:
    def bx(g, x, indices, axis):
        return take_adjoint(g, x, indices, axis)


@linear(np.take_along_axis, "x, indices, axis=-1")
class take_along_axis:
    def bx(g, x, indices, axis):
        return take_along_axis_adjoint(g, x, indices, axis)


nondiff(np.argsort, np.argwhere, np.nonzero, np.flatnonzero, np.searchsorted, family="indexing")
