"""Run a rule spec case through s2sad on NumPy arrays and on another library's arrays (chunked
Dask arrays, CuPy arrays or their stand-in): tests/test_dask.py and tests/test_device_array.py
compare the two."""
from __future__ import annotations

import importlib
import math
import warnings

import numpy as np

import s2sad
from s2sad.testing import make_function
from tests.rules import family
from tests.rules.specs import Case, cases

FAMILIES = ("arith", "elementwise", "reductions", "shape", "indexing", "linalg", "containers")
"""The rule tables of the array operations."""
NO_TAYLOR = (np.linalg.norm, np.interp)
"""Ops with no Taylor rule past order 1 (docs/higher-order.md)."""


def _has_array(case: Case) -> bool:
    return any(shape != () for shape in case.shapes)


def _table(name: str):
    return importlib.import_module(f"tests.rules.test_{name}")


def rule_cases() -> list[Case]:
    """Every case of the array rule tables with an array argument."""
    return [case for name in FAMILIES for case in cases(family.pipeline_specs(_table(name))) if _has_array(case)]


def taylor_cases() -> list[Case]:
    """One case of each spec of the array rule tables with an array argument and a Taylor rule."""
    return [case for name in FAMILIES for case in family.taylor_cases(family.pipeline_specs(_table(name)))
            if _has_array(case) and case.spec.op not in NO_TAYLOR]


def convert_all(value, convert):
    """`convert` applied to the arrays (not 0-d) in `value`, in tuples, lists and dicts too."""
    if isinstance(value, np.ndarray) and value.ndim:
        return convert(value)
    if isinstance(value, (list, tuple)):
        return type(value)(convert_all(v, convert) for v in value)
    if isinstance(value, dict):
        return {k: convert_all(v, convert) for k, v in value.items()}
    return value


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


def taylor_both(case: Case, convert) -> tuple:
    """(the Taylor object, the NumPy result, the arguments and series for the other library) of
    three coefficients of the case's function along random series."""
    values = case.values()
    args = [values[p] for p in case.spec.params]
    rng = np.random.default_rng(1)
    series = [tuple(rng.standard_normal(np.shape(a)) if isinstance(a, np.ndarray) else float(rng.standard_normal())
                    for _ in range(3)) for a in args]
    taylor = s2sad.taylor(case_function(case), order=3, argnums=tuple(range(len(args))))
    expected = taylor(tuple(args), tuple(series))
    return taylor, expected, (tuple(map(convert, args)), tuple(tuple(map(convert, s)) for s in series))
