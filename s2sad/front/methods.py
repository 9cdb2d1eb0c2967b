"""Array methods and attributes, and the NumPy functions with the same meaning.

The lowering turns `x.sum(0)` into `np.sum(x, 0)` and `x.T` into `np.transpose(x)`, so one
rule serves both spellings. Every function named here has a derivative rule (or is declared
non-differentiable); `tests/test_methods.py` checks it.

Copies stay copies: `x.flatten()` is `np.ndarray.flatten(x)` and `x.astype(t)` is
`np.array(x, t)`, never a view, so writing into the result cannot change `x`.
"""

ARRAY_METHODS = {
    # reductions
    "sum": "sum", "mean": "mean", "prod": "prod", "max": "max", "min": "min", "std": "std",
    "var": "var", "cumsum": "cumsum", "cumprod": "cumprod",
    # linear algebra
    "dot": "dot", "trace": "trace", "diagonal": "diagonal",
    # shape
    "reshape": "reshape", "transpose": "transpose", "ravel": "ravel", "flatten": "ndarray.flatten",
    "squeeze": "squeeze", "swapaxes": "swapaxes", "repeat": "repeat", "take": "take",
    # copies, conversions, elementwise
    "copy": "copy", "astype": "array", "clip": "clip", "conj": "conj", "conjugate": "conj",
    # no derivative: positions and rounding
    "argmax": "argmax", "argmin": "argmin", "argsort": "argsort", "nonzero": "nonzero",
    "round": "round",
}
"""Array methods and the NumPy function with the same meaning: `x.sum(0)` is `np.sum(x, 0)`."""

ARRAY_ATTRIBUTES = {"T": "transpose", "shape": "shape", "ndim": "ndim", "size": "size", "real": "real",
                    "imag": "imag"}
"""Array attributes and the NumPy function computing them: `x.T` is `np.transpose(x)`."""
