"""Run a rule spec case through s2sad on NumPy arrays and on chunked Dask arrays; compare."""
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


def run_both(case: Case, da):
    """(NumPy results, Dask results computed, the Dask results as returned) of jvp and vjp."""
    fun = case_function(case)
    values = case.values()
    args = [values[p] for p in case.spec.params]
    rng = np.random.default_rng(1)
    tangents = [rng.standard_normal(np.shape(a)) if isinstance(a, np.ndarray) else float(rng.standard_normal())
                for a in args]
    found = []
    for convert in (lambda v: v, lambda v: as_dask(v, da)):
        with warnings.catch_warnings():
            warnings.simplefilter("error", FutureWarning)
            out, tangent = s2sad.jvp(fun, tuple(map(convert, args)), tuple(map(convert, tangents)))
            out2, pullback = s2sad.vjp(fun, *map(convert, args))
            grads = pullback(_cotangent(out2, convert))
        found.append((out, tangent, grads))
    return found


def _cotangent(out, convert):
    """A random cotangent shaped like `out` (item by item for a list or tuple)."""
    if isinstance(out, (list, tuple)):
        return type(out)(_cotangent(item, convert) for item in out)
    cot = np.random.default_rng(2).standard_normal(np.shape(out))
    return float(cot) if np.ndim(out) == 0 and not isinstance(out, np.ndarray) else convert(cot)
