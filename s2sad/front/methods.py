"""Array methods and attributes, and the NumPy functions with the same meaning.

The lowering turns `x.sum(0)` into `np.sum(x, 0)` and `x.T` into `np.transpose(x)`, so one
rule serves both spellings. Every function named here has a derivative rule (or is declared
non-differentiable); `tests/test_methods.py` checks it.

Where NumPy's function would take the array out of its own library (`np.copy` and `np.size`
compute a Dask array, `np.ndarray.flatten` refuses one), the target is a runtime helper that
calls the array's own method (`runtime.array_copy`, `runtime.astype`, `runtime.flatten`,
`runtime.size`). Copies stay copies: `x.flatten()`, `x.copy()` and `x.astype(t)` are never
views, so writing into the result cannot change `x`.
"""

from s2sad.core.naming import Ref, numpy_ref, runtime_ref

ARRAY_METHODS = {
    # reductions
    "sum": "sum", "mean": "mean", "prod": "prod", "max": "max", "min": "min", "std": "std",
    "var": "var", "cumsum": "cumsum", "cumprod": "cumprod",
    # linear algebra
    "dot": "dot", "trace": "trace", "diagonal": "diagonal",
    # shape
    "reshape": "reshape", "transpose": "transpose", "ravel": "ravel", "flatten": "runtime.flatten",
    "squeeze": "squeeze", "swapaxes": "swapaxes", "repeat": "repeat", "take": "take",
    # copies, conversions, elementwise
    "copy": "runtime.array_copy", "astype": "runtime.astype", "clip": "clip", "conj": "conj", "conjugate": "conj",
    # no derivative: positions and rounding
    "argmax": "argmax", "argmin": "argmin", "argsort": "argsort", "nonzero": "nonzero",
    "round": "round",
}
"""Array methods and the NumPy function (or runtime helper, `runtime.`) with the same meaning:
`x.sum(0)` is `np.sum(x, 0)`."""

ARRAY_ATTRIBUTES = {"T": "transpose", "shape": "shape", "ndim": "ndim", "size": "runtime.size", "real": "real",
                    "imag": "imag"}
"""Array attributes and the NumPy function computing them: `x.T` is `np.transpose(x)`."""


def target_ref(target: str) -> Ref:
    """The function a method or attribute is lowered to: `"sum"` is `np.sum`, `"runtime.size"`
    the runtime helper `size`."""
    if target.startswith("runtime."):
        return runtime_ref(target.removeprefix("runtime."))
    return numpy_ref(target)
