"""Operations whose result carries no derivative: comparisons, shapes, rounding."""

import math
import operator

import numpy as np

from s2sad.rules.registry import nondiff

nondiff(
    operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge,
    operator.is_, operator.is_not, operator.not_, operator.floordiv, operator.mod,
    np.shape, np.ndim, np.size, np.sign, np.floor, np.ceil, np.argmax, np.argmin,
    np.zeros, np.ones, np.zeros_like, np.ones_like, np.arange, np.eye,
    math.floor, math.ceil, len, int, range, slice,
)
