"""Operations whose result carries no derivative: comparisons, tests, rounding, sizes.

Each is piecewise constant (or integer-valued), so its derivative is 0 wherever it exists;
a result computed by one of them is a constant for the transforms, even from active inputs.
Creation functions live in `creation`, the builtins len/range/bool/isinstance in `containers`.
"""

import builtins
import math
import operator

import numpy as np

from s2sad.rules.registry import nondiff

# comparisons: the result has the broadcast shape of the operands
nondiff(operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge, broadcasts=True)
nondiff(
    # comparisons and logic
    operator.is_, operator.is_not, operator.not_, operator.floordiv,
    np.equal, np.not_equal, np.less, np.less_equal, np.greater, np.greater_equal,
    np.logical_and, np.logical_or, np.logical_not, np.logical_xor, np.isclose, np.allclose,
    np.isnan, np.isinf, np.isfinite, np.isposinf, np.isneginf, np.signbit, np.floor_divide,
    # rounding and sign
    np.sign, np.floor, np.ceil, np.trunc, np.rint, np.round, np.around, np.fix, np.heaviside,
    # sizes and positions
    np.shape, np.ndim, np.size, np.argmax, np.argmin,
    # the math module and builtins
    math.floor, math.ceil, math.trunc, math.isnan, math.isinf, math.isfinite, math.isclose,
    builtins.round, builtins.int, builtins.slice,
)
