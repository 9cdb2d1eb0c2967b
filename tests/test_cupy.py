"""Derivatives of NumPy code given CuPy arrays (docs/arrays.md): the same values as on NumPy
arrays, to 1e-12, and CuPy arrays back. Runs where `cupy` imports and a GPU is present;
skipped, with that reason, elsewhere (`pip install ".[gpu]"` on a machine with an NVIDIA GPU).

The cases are those of tests/test_dask.py: the array rule tables in both modes, the programs,
and repeated indices.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import s2sad
from tests import array_cases
from tests.programs import logistic, mlp
from tests.rules import family
from tests.rules.specs import cases

cupy = pytest.importorskip("cupy", reason="CuPy is not installed: pip install '.[gpu]' on a machine with a GPU")
try:
    GPUS = cupy.cuda.runtime.getDeviceCount()
except Exception:  # noqa: BLE001 - CuPy without a driver or device raises its own errors
    GPUS = 0
if not GPUS:
    pytest.skip("no GPU: CuPy is installed but finds no CUDA device", allow_module_level=True)

FAMILIES = ("arith", "elementwise", "reductions", "shape", "indexing", "linalg", "containers")
CASES = [case for name in FAMILIES
         for case in cases(family.pipeline_specs(importlib.import_module(f"tests.rules.test_{name}")))
         if any(shape != () for shape in case.shapes)]


def _on_device(value):
    return cupy.asarray(value) if isinstance(value, np.ndarray) else value


def _on_host(value):
    if isinstance(value, (tuple, list)):
        return type(value)(_on_host(v) for v in value)
    if isinstance(value, dict):
        return {k: _on_host(v) for k, v in value.items()}
    return cupy.asnumpy(value) if isinstance(value, cupy.ndarray) else value


def _primal_runs(case) -> bool:
    values = case.values()
    try:
        array_cases.case_function(case)(*[_on_device(values[p]) for p in case.spec.params])
    except Exception:  # noqa: BLE001 - whatever CuPy raises: it does not run this op
        return False
    return True


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_rule_on_cupy_arrays(case):
    """jvp and vjp of the one-line function on CuPy arrays equal those on NumPy arrays; where
    CuPy cannot run the function itself, they raise or still equal NumPy's."""
    try:
        on_numpy, on_device = array_cases.run_both(case, _on_device)
    except Exception:
        if _primal_runs(case):
            raise
        return
    np.testing.assert_allclose(np.asarray(_on_host(on_device)[0]), np.asarray(on_numpy[0]), rtol=1e-12, atol=1e-14)
    for expected, got in zip(on_numpy[2], _on_host(on_device)[2]):
        np.testing.assert_allclose(np.asarray(got), np.asarray(expected), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(np.asarray(_on_host(on_device)[1]), np.asarray(on_numpy[1]), rtol=1e-12, atol=1e-14)


def test_logistic_regression_gradient_stays_on_the_device():
    rng = np.random.default_rng(3)
    x, labels = rng.standard_normal((20, 3)), np.where(rng.random(20) < 0.5, -1.0, 1.0)
    w = rng.standard_normal(3)
    got = s2sad.grad(logistic.log_loss)(cupy.asarray(w), 0.2, cupy.asarray(x), cupy.asarray(labels))
    assert isinstance(got, cupy.ndarray)
    np.testing.assert_allclose(cupy.asnumpy(got), logistic.log_loss_by_hand(w, 0.2, x, labels)[0], rtol=1e-12)


def test_network_with_a_dict_of_device_parameters():
    params = mlp.init((3, 5, 2))
    rng = np.random.default_rng(5)
    inputs, targets = rng.standard_normal((12, 3)), rng.standard_normal((12, 2))
    got = s2sad.grad(mlp.mlp_loss)({k: cupy.asarray(v) for k, v in params.items()}, cupy.asarray(inputs),
                                   cupy.asarray(targets))
    assert all(isinstance(v, cupy.ndarray) for v in got.values())
    for key, value in mlp.mlp_loss_by_hand(params, inputs, targets).items():
        np.testing.assert_allclose(cupy.asnumpy(got[key]), value, rtol=1e-12, atol=1e-15)


def embedding_loss(table, ids, targets):
    return np.sum((table[ids] - targets) ** 2)


def test_repeated_indices_add_up_as_with_numpy():
    rng = np.random.default_rng(6)
    table, targets = rng.standard_normal((5, 3)), rng.standard_normal((6, 3))
    ids = np.array([0, 3, 3, 1, 3, 0])
    got = s2sad.grad(embedding_loss)(cupy.asarray(table), ids, cupy.asarray(targets))
    np.testing.assert_allclose(cupy.asnumpy(got), s2sad.grad(embedding_loss)(table, ids, targets), rtol=1e-12)
