"""Derivatives on arrays of a GPU library: CuPy where a GPU is, and everywhere a strict stand-in
for it on the CPU (tests/device_array.py). The same values as on NumPy arrays, the library's
arrays back, and no implicit copy to NumPy or mixing of NumPy and device arrays anywhere in the
generated code or the runtime helpers (docs/arrays.md)."""

from __future__ import annotations

import numpy as np
import pytest

import s2sad
from benchmarks import workloads
from tests import array_cases
from tests.device_array import STAND_IN, Library, cupy_library
from tests.fuzz import arrays as fuzz_arrays
from tests.programs import logistic, mlp

CUPY, NO_CUPY = cupy_library()
LIBRARIES = [STAND_IN] + ([CUPY] if CUPY else [])
on_each_library = pytest.mark.parametrize("lib", LIBRARIES, ids=repr)

CASES = array_cases.rule_cases()
NOT_ON_DEVICE = {
    # ops that do not run on the stand-in's arrays themselves, so neither can their derivative
    "np.where": "the case's condition is a NumPy array",
    "np.interp": "the sample points are NumPy arrays", "interp_values": "(the same)",
    "interp_values_adjoint": "(the same)", "interp_slope": "(the same)", "interp_slope_adjoint": "(the same)",
    "np.asarray": "converts to NumPy, which a device array refuses", "np.array": "(the same)",
    "convert": "(the same)", "np.ndarray.flatten": "NumPy's own method, not the library's",
    "item_to_write": "writes into an item that is a 0-d array of its own",
}


def test_cupy_runs_these_tests_where_a_gpu_is():
    if CUPY is None:
        pytest.skip(NO_CUPY)
    assert CUPY in LIBRARIES


def _primal_runs(case, lib: Library) -> bool:
    values = case.values()
    try:
        array_cases.case_function(case)(*[lib.to_device(values[p]) for p in case.spec.params])
    except Exception:  # noqa: BLE001 - the op itself does not run on the library's arrays
        return False
    return True


def test_the_ops_left_out_are_those_that_do_not_run_on_device_arrays():
    """Nothing leaves the rule table quietly: the cases whose op does not run on the stand-in's
    arrays are exactly those of NOT_ON_DEVICE."""
    assert {c.spec.label() for c in CASES if not _primal_runs(c, STAND_IN)} == set(NOT_ON_DEVICE)


def _close(lib: Library, got, expected) -> None:
    np.testing.assert_allclose(np.asarray(lib.to_host(got)), np.asarray(expected), rtol=1e-12, atol=1e-14)


@on_each_library
@pytest.mark.parametrize("case", [c for c in CASES if c.spec.label() not in NOT_ON_DEVICE], ids=repr)
def test_rule_on_device_arrays(case, lib):
    """jvp and vjp of the one-line function on device arrays equal those on NumPy arrays (on
    CuPy, where CuPy runs the function itself)."""
    if lib is not STAND_IN and not _primal_runs(case, lib):
        pytest.skip("CuPy does not run the op itself")
    on_numpy, on_device = array_cases.run_both(case, lib.to_device)
    _close(lib, on_device[0], on_numpy[0])
    _close(lib, on_device[1], on_numpy[1])
    for expected, got in zip(on_numpy[2], on_device[2]):
        _close(lib, got, expected)


TAYLOR_CASES = [case for case in array_cases.taylor_cases() if case.spec.label() not in NOT_ON_DEVICE]


@on_each_library
@pytest.mark.parametrize("case", TAYLOR_CASES, ids=repr)
def test_taylor_mode_on_device_arrays(case, lib):
    """Three Taylor coefficients of the one-line function on device arrays equal those on NumPy
    arrays (on CuPy, where CuPy runs the op)."""
    taylor, expected, on_device = array_cases.taylor_both(case, lib.to_device)
    if lib is not STAND_IN and not _primal_runs(case, lib):
        pytest.skip("CuPy does not run the op itself")
    got = taylor(*on_device)
    _close(lib, got[0], expected[0])
    for g, e in zip(got[1], expected[1], strict=True):
        _close(lib, g, e)


# ---------------------------------------------------------------- programs


def _assert_same(lib: Library, expected, got) -> None:
    """`got` holds the library's arrays where `expected` holds arrays, with the same values."""
    if isinstance(expected, dict):
        assert set(got) == set(expected)
        for key in expected:
            _assert_same(lib, expected[key], got[key])
    elif isinstance(expected, (tuple, list)):
        for e, g in zip(expected, got, strict=True):
            _assert_same(lib, e, g)
    else:
        if isinstance(expected, np.ndarray) and expected.ndim:
            assert isinstance(got, lib.array), type(got)
        _close(lib, got, expected)


@on_each_library
def test_logistic_regression_gradient_stays_on_the_device(lib):
    rng = np.random.default_rng(3)
    x, labels, w = rng.standard_normal((20, 3)), np.where(rng.random(20) < 0.5, -1.0, 1.0), rng.standard_normal(3)
    got = s2sad.grad(logistic.log_loss, argnums=(0, 1))(lib.to_device(w), 0.2, lib.to_device(x), lib.to_device(labels))
    _assert_same(lib, logistic.log_loss_by_hand(w, 0.2, x, labels), got)


@on_each_library
def test_network_with_a_dict_of_device_parameters(lib):
    params = mlp.init((3, 5, 2))
    rng = np.random.default_rng(5)
    inputs, targets = rng.standard_normal((12, 3)), rng.standard_normal((12, 2))
    on_device = {k: lib.to_device(v) for k, v in params.items()}
    got = s2sad.grad(mlp.mlp_loss)(on_device, lib.to_device(inputs), lib.to_device(targets))
    _assert_same(lib, mlp.mlp_loss_by_hand(params, inputs, targets), got)


@on_each_library
@pytest.mark.parametrize("name", ["logreg", "mlp_small", "rosenbrock", "chain", "scalar_ops", "vector_ops"])
def test_benchmark_workloads_on_device_arrays(name, lib):
    work = next(w for w in workloads.WORKLOADS if w.name == name)
    args = work.args(True)
    device_args = [array_cases.convert_all(a, lib.to_device) for a in args]
    expected = s2sad.grad(work.primal, argnums=work.argnums)(*args)
    _assert_same(lib, expected, s2sad.grad(work.primal, argnums=work.argnums)(*device_args))


def embedding_loss(table, ids, targets):
    return np.sum((table[ids] - targets) ** 2)


@on_each_library
@pytest.mark.parametrize("on_device", [False, True], ids=["NumPy ids", "device ids"])
def test_repeated_indices_add_up_as_with_numpy(on_device, lib):
    rng = np.random.default_rng(6)
    table, targets = rng.standard_normal((5, 3)), rng.standard_normal((6, 3))
    ids = np.array([0, 3, 3, 1, 3, 0])
    ids_given = lib.to_device(ids) if on_device else ids
    got = s2sad.grad(embedding_loss)(lib.to_device(table), ids_given, lib.to_device(targets))
    _assert_same(lib, s2sad.grad(embedding_loss)(table, ids, targets), got)


def copies_and_casts(x):
    y = x.copy()
    y[0] = 2.0 * y[1]
    flat = x.flatten()
    return np.sum(y * x.astype(np.float64)) + np.sum(flat[:3] ** 2) / x.size


@on_each_library
@pytest.mark.parametrize("mode", ["grad", "jvp", "hessian"])
def test_array_methods_keep_the_array_on_the_device(mode, lib):
    """`x.copy()`, `x.flatten()`, `x.astype(t)`, `x.size`: the array's own methods, not NumPy's
    functions (which would need a NumPy array)."""
    x = np.random.default_rng(7).standard_normal((3, 4))
    run = {"grad": lambda a: s2sad.grad(copies_and_casts)(a),
           "jvp": lambda a: s2sad.jvp(copies_and_casts, (a,), (a * 0.5,)),
           "hessian": lambda a: s2sad.hvp(copies_and_casts)(a, a * 0.5)}[mode]
    _assert_same(lib, run(x), run(lib.to_device(x)))


@on_each_library
@pytest.mark.parametrize("name", ["hessian", "hvp", "jacrev", "jacfwd"])
def test_higher_order_on_device_arrays(name, lib):
    rng = np.random.default_rng(8)
    x, labels, w = rng.standard_normal((10, 3)), np.where(rng.random(10) < 0.5, -1.0, 1.0), rng.standard_normal(3)
    call = {"hessian": lambda *a: s2sad.hessian(logistic.log_loss)(a[0], 0.2, a[1], a[2]),
            "hvp": lambda *a: s2sad.hvp(logistic.log_loss)(a[0], 0.2, a[1], a[2], a[0] * 2.0),
            "jacrev": lambda *a: s2sad.jacrev(_linear_response)(*a),
            "jacfwd": lambda *a: s2sad.jacfwd(_linear_response)(*a)}[name]
    _close(lib, call(lib.to_device(w), lib.to_device(x), lib.to_device(labels)), call(w, x, labels))


def _linear_response(w, x, labels):
    return x @ w * labels


# ---------------------------------------------------------------- the differential tester's programs


@on_each_library
def test_random_programs_on_device_arrays_are_never_silently_wrong(lib):
    """The differential tester's programs (tests/fuzz/arrays.py) given device arrays: where the
    program itself runs on them (a NumPy constant in it mixes with them, as CuPy refuses), the
    derivative runs and equals the one on NumPy arrays. (`python -m tests.fuzz.arrays --library
    stand-in --seeds 0:1400`: see docs/arrays.md.)"""
    arrays = fuzz_arrays.Arrays(lib.name, lib.to_device, lib.array, lib.to_host)
    counts = fuzz_arrays.run(range(100), arrays)
    assert counts["wrong"] == counts["fails"] == 0, counts
    assert counts["same"] >= 25, counts


def made_like(x):
    h = np.zeros(3, like=x) + x[0]
    weights = np.asarray([1.0, 2.0, 3.0], like=x)
    return np.sum(h * x[1] * weights) + np.sum(np.asarray([x[0, 0], x[1, 1]], like=x) ** 2)


@on_each_library
@pytest.mark.parametrize("mode", ["grad", "jvp"])
def test_arrays_made_like_the_argument_stay_on_the_device(mode, lib):
    """What a function makes itself must be made on the device (`like=x`), or CuPy refuses to
    mix it in; s2sad's derivative of such code makes its tangents there too."""
    x = np.arange(6.0).reshape(2, 3)
    run = {"grad": lambda a: s2sad.grad(made_like)(a),
           "jvp": lambda a: s2sad.jvp(made_like, (a,), (a * 0.5 + 1.0,))}[mode]
    _assert_same(lib, run(x), run(lib.to_device(x)))


@on_each_library
def test_a_numpy_cotangent_added_into_a_device_array_goes_to_the_device(lib):
    """`add_at` of a NumPy value into a device array at repeated indices: the value is moved to
    the device first, and the repeats add up as `np.add.at` adds them."""
    got = s2sad.runtime.add_at(lib.to_device(np.zeros((4, 3))), ([0, 2, 0],), np.arange(9.0).reshape(3, 3))
    expected = np.zeros((4, 3))
    np.add.at(expected, ([0, 2, 0],), np.arange(9.0).reshape(3, 3))
    _assert_same(lib, expected, got)


def numpy_part_beside_device_part(x, z):
    v = np.tanh(z * np.ones(3))  # a NumPy array, depending on the float z
    return np.sum(x**2) * np.sum(v * v) + z


@on_each_library
@pytest.mark.parametrize("mode", ["grad", "jvp", "hessian"])
def test_a_numpy_value_beside_device_values_gets_a_numpy_cotangent(mode, lib):
    """The product of a device part and a NumPy part: the NumPy part's cotangent is the device
    part's value, a device scalar; it must come back to NumPy (CuPy would refuse to multiply it
    into the NumPy array). The tester's seeds 551, 779, 1039 and 1326 on the
    stand-in raised here."""
    x = np.arange(6.0).reshape(2, 3)
    run = {"grad": lambda a: s2sad.grad(numpy_part_beside_device_part, argnums=(0, 1))(a, 0.3),
           "jvp": lambda a: s2sad.jvp(numpy_part_beside_device_part, (a, 0.3), (a * 0.5, 1.0)),
           "hessian": lambda a: s2sad.hessian(numpy_part_beside_device_part, argnums=1)(a, 0.3)}[mode]
    expected, got = run(x), run(lib.to_device(x))
    for e, g in zip(fuzz_arrays.leaves(expected), fuzz_arrays.leaves(got), strict=True):
        _close(lib, g, e)
