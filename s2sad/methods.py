"""Array methods and attributes, and the NumPy functions with the same meaning.

The lowering turns `x.sum(0)` into `np.sum(x, 0)` and `x.T` into `np.transpose(x)`, so one
rule serves both spellings.
"""

ARRAY_METHODS = {
    "sum": "sum", "mean": "mean", "prod": "prod", "max": "max", "min": "min", "std": "std",
    "var": "var", "dot": "dot", "reshape": "reshape", "transpose": "transpose",
    "ravel": "ravel", "flatten": "ravel", "squeeze": "squeeze", "copy": "copy",
    "cumsum": "cumsum", "cumprod": "cumprod", "clip": "clip", "trace": "trace",
    "diagonal": "diagonal", "astype": "asarray", "swapaxes": "swapaxes", "repeat": "repeat",
    "argmax": "argmax", "argmin": "argmin", "round": "round", "conj": "conj",
}
"""Array methods and the NumPy function with the same meaning: `x.sum(0)` is `np.sum(x, 0)`."""

ARRAY_ATTRIBUTES = {"T": "transpose", "shape": "shape", "ndim": "ndim", "size": "size", "real": "real"}
