"""Run a rule spec case through s2sad on NumPy arrays and on another library's arrays (chunked
Dask arrays, CuPy arrays or their stand-in): tests/test_dask.py and tests/test_device_array.py
compare the two."""
from __future__ import annotations

import math
import warnings

import numpy as np

import s2sad
from s2sad.testing import make_function
from tests.rules.specs import Case


def as_dask(value, da):
    """A chunked Dask array for an array (two chunks along each axis of length 2 or more)."""
    if not isinstance(value, np.ndarray):
        return value
    return da.from_array(value, chunks=tuple(max(1, math.ceil(n / 2)) for n in value.shape))


def case_function(case: Case):
    spec = case.spec
    params = ", ".join(spec.params)
    names = {f"extra{i}": v for i, v in enumerate(spec.extra)} | {f"kw_{k}": v for k, v in spec.kwargs.items()}
    literals = [f"extra{i}" for i in range(len(spec.extra))] + [f"{k}=kw_{k}" for k in spec.kwargs]
    return make_function(f"def f({params}):\n    return op({', '.join([params, *literals])})\n",
                         {"op": spec.op, **names})


def run_both(case: Case, convert):
    """(NumPy results, the other library's results) of jvp and vjp: (value, tangent, cotangents);
    `convert` makes an argument, tangent or cotangent of the other library from a NumPy one."""
    fun = case_function(case)
    values = case.values()
    args = [values[p] for p in case.spec.params]
    rng = np.random.default_rng(1)
    tangents = [rng.standard_normal(np.shape(a)) if isinstance(a, np.ndarray) else float(rng.standard_normal())
                for a in args]
    found = []
    for into in (lambda v: v, convert):
        with warnings.catch_warnings():
            warnings.simplefilter("error", FutureWarning)
            out, tangent = s2sad.jvp(fun, tuple(map(into, args)), tuple(map(into, tangents)))
            out2, pullback = s2sad.vjp(fun, *map(into, args))
            grads = pullback(_cotangent(out2, into))
        found.append((out, tangent, grads))
    return found


def _cotangent(out, into):
    """A random cotangent shaped like `out` (item by item for a list or tuple)."""
    if isinstance(out, (list, tuple)):
        return type(out)(_cotangent(item, into) for item in out)
    cot = np.random.default_rng(2).standard_normal(np.shape(out))
    return float(cot) if isinstance(out, (float, int, np.generic)) else into(cot)
