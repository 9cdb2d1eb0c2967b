"""Derivatives of NumPy code given Dask arrays (docs/arrays.md): the same values as on NumPy
arrays, to 1e-12, and lazy Dask arrays back; where Dask cannot run the function or its
derivative, an error, never a value.

- Every case of the rule spec tables of the array families (arith, elementwise, reductions, shape,
  indexing, linalg, containers) with an array argument, split into two chunks along each axis:
  jvp and vjp against the same on NumPy arrays.
- The end-to-end programs (tests/programs) and benchmark workloads without element-level
  Python loops, by grad, value_and_grad and jvp; some on a `dask.distributed` cluster of two
  worker processes.
- Repeated indices (an embedding lookup) add up in the derivative, as with NumPy.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import s2sad
from benchmarks import workloads
from s2sad.errors import UnsupportedValue
from tests import array_cases
from tests.fuzz import arrays as fuzz_arrays
from tests.programs import logistic, mlp, rnn

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
callbacks = pytest.importorskip("dask.callbacks")

CASES = array_cases.rule_cases()

REFUSED = {
    # case: why its derivative (or Dask itself) raises on Dask arrays although the primal runs
    "np.gradient[(5,)]": "Dask's np.gradient returns a list where NumPy's returns an array",
    "gradient_adjoint[(3, 4)]": "Dask's np.gradient needs chunks longer than the edge order",
    "pad(wider than x)[(3,)]mode=reflect": "Dask's reflecting pad wider than the array differs from NumPy's",
    "unrepeat[(3, 6)]": "Dask's np.repeat takes an integer count only",
    "take_adjoint[(2, 2)]": "Dask's np.take needs an integer axis",
    "np.vdot[(3, 4), (4, 3)]": "Dask's np.vdot takes vectors only",
}


def _chunks(value):
    return array_cases.as_dask(value, da)


EAGER = {
    # ops whose derivative computes (part of) a Dask array when it is called, not when asked:
    # the values are right, the laziness is lost there (docs/arrays.md)
    "np.asarray", "np.array", "convert",  # the function itself makes a NumPy array
    "interp_slope", "interp_slope_adjoint",  # (np.interp: Dask runs neither)
}


def _primal_runs(case) -> bool:
    values = case.values()
    args = [array_cases.as_dask(values[p], da) for p in case.spec.params]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", FutureWarning)
            dask.compute(array_cases.case_function(case)(*args))
    except Exception:  # noqa: BLE001 - whatever Dask raises: it does not run this op
        return False
    return True


def _assert_close(expected, got) -> None:
    if isinstance(expected, (tuple, list)):
        assert len(expected) == len(got)
        for e, g in zip(expected, got):
            _assert_close(e, g)
        return
    np.testing.assert_allclose(np.asarray(got), np.asarray(expected), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_rule_on_dask_arrays(case):
    """jvp and vjp of the one-line function on chunked Dask arrays equal those on NumPy arrays.
    Where Dask cannot run the function itself, they raise or (where s2sad's code for the op
    runs on Dask) still equal NumPy's; the cases of REFUSED raise."""
    if repr(case) in REFUSED:
        with pytest.raises(Exception):  # noqa: B017, PT011 - Dask's own errors vary
            dask.compute(array_cases.run_both(case, _chunks)[1])
        return
    try:
        with _Computes() as computes:
            on_numpy, on_dask = array_cases.run_both(case, _chunks)
        computed = dask.compute(*on_dask)
    except Exception:
        if _primal_runs(case):
            raise
        return  # Dask does not run the op: an error, never a value
    _assert_close(on_numpy, computed)
    if case.spec.label() not in EAGER:
        assert computes.count == 0, "the derivative computed a Dask array before it was asked to"


TAYLOR_CASES = [case for case in array_cases.taylor_cases() if repr(case) not in REFUSED]


@pytest.mark.parametrize("case", TAYLOR_CASES, ids=repr)
def test_taylor_mode_on_dask_arrays(case):
    """Three Taylor coefficients of the one-line function on chunked Dask arrays equal those on
    NumPy arrays, where Dask runs the op itself."""
    taylor, expected, on_dask = array_cases.taylor_both(case, _chunks)
    if not _primal_runs(case):
        with pytest.raises(Exception):  # noqa: B017, PT011 - Dask's own errors vary
            with warnings.catch_warnings():
                warnings.simplefilter("error", FutureWarning)
                dask.compute(taylor(*on_dask))
        return
    got = taylor(*on_dask)
    _assert_close((expected[0], *expected[1]), dask.compute(got[0], *got[1]))


def _chunked(*arrays, rows: int = 4):
    return [da.from_array(a, chunks=(rows,) + a.shape[1:]) for a in arrays]


def _logistic_data():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((20, 3))
    labels = np.where(rng.random(20) < 0.5, -1.0, 1.0)
    return rng.standard_normal(3), 0.2, x, labels


def test_logistic_regression_gradient_is_a_lazy_dask_array():
    w, b, x, labels = _logistic_data()
    xd, ld = _chunked(x, labels)
    expected = s2sad.grad(logistic.log_loss, argnums=(0, 1))(w, b, x, labels)
    got = s2sad.grad(logistic.log_loss, argnums=(0, 1))(w, b, xd, ld)
    assert isinstance(got[0], da.Array) and got[0].npartitions == 1  # w is NumPy; x @ w's adjoint sums chunks
    _assert_close(expected, dask.compute(*got))
    _assert_close(logistic.log_loss_by_hand(w, b, x, labels), dask.compute(*got))


def test_differentiating_a_dask_array_gives_a_dask_array():
    w, b, x, labels = _logistic_data()
    wd, xd, ld = da.from_array(w, chunks=2), *_chunked(x, labels)
    value, grad = s2sad.value_and_grad(logistic.log_loss)(wd, b, xd, ld)
    assert isinstance(grad, da.Array)
    expected_value, expected = s2sad.value_and_grad(logistic.log_loss)(w, b, x, labels)
    _assert_close((expected_value, expected), dask.compute(value, grad))


def test_forward_mode_on_dask_arrays():
    w, b, x, labels = _logistic_data()
    xd, ld = _chunked(x, labels)
    dw = np.random.default_rng(4).standard_normal(3)
    expected = s2sad.jvp(logistic.log_loss, (w, b, x, labels), (dw, 0.0, np.zeros_like(x), np.zeros_like(labels)))
    got = s2sad.jvp(logistic.log_loss, (w, b, xd, ld), (dw, 0.0, np.zeros_like(x), np.zeros_like(labels)))
    _assert_close(expected, dask.compute(*got))


def test_network_with_a_dict_of_dask_parameters():
    params = {k: da.from_array(v, chunks=2) for k, v in mlp.init((3, 5, 2)).items()}
    rng = np.random.default_rng(5)
    inputs, targets = rng.standard_normal((12, 3)), rng.standard_normal((12, 2))
    got = s2sad.grad(mlp.mlp_loss)(params, *_chunked(inputs, targets))
    assert set(got) == set(params) and all(isinstance(v, da.Array) for v in got.values())
    expected = mlp.mlp_loss_by_hand(mlp.init((3, 5, 2)), inputs, targets)
    computed = dask.compute(got)[0]
    for key in expected:
        np.testing.assert_allclose(computed[key], expected[key], rtol=1e-12, atol=1e-15)


def test_recurrent_network_over_the_rows_of_a_dask_array():
    rng = np.random.default_rng(0)
    wx, wh, b = rng.standard_normal((3, 2)) * 0.5, rng.standard_normal((3, 3)) * 0.5, rng.standard_normal(3) * 0.1
    xs, target = rng.standard_normal((6, 2)), rng.standard_normal(3)
    got = s2sad.grad(rnn.rnn_loss, argnums=(0, 1, 2))(wx, wh, b, da.from_array(xs, chunks=(2, 2)), target)
    _assert_close(rnn.rnn_loss_by_hand(wx, wh, b, xs, target), dask.compute(*got))


@pytest.mark.parametrize("name", ["logreg", "mlp_small", "rnn", "rosenbrock", "chain"])
def test_benchmark_workloads_on_dask_arrays(name):
    work = next(w for w in workloads.WORKLOADS if w.name == name)
    args = work.args(True)
    dask_args = [da.from_array(a, chunks=tuple(max(1, n // 2) for n in a.shape)) if isinstance(a, np.ndarray)
                 else {k: da.from_array(v, chunks=2) for k, v in a.items()} if isinstance(a, dict) else a
                 for a in args]
    expected = s2sad.grad(work.primal, argnums=work.argnums)(*args)
    got = dask.compute(s2sad.grad(work.primal, argnums=work.argnums)(*dask_args))[0]
    if isinstance(expected, dict):
        for key in expected:
            np.testing.assert_allclose(got[key], expected[key], rtol=1e-12, atol=1e-15)
    else:
        _assert_close(expected, got)


def embedding_loss(table, ids, targets):
    rows = table[ids]  # repeated ids: their rows' cotangents add up
    return np.sum((rows - targets) ** 2)


def test_repeated_indices_add_up_as_with_numpy():
    rng = np.random.default_rng(6)
    table, targets = rng.standard_normal((5, 3)), rng.standard_normal((6, 3))
    ids = np.array([0, 3, 3, 1, 3, 0])
    expected = s2sad.grad(embedding_loss)(table, ids, targets)
    got = s2sad.grad(embedding_loss)(da.from_array(table, chunks=(2, 3)), ids, da.from_array(targets, chunks=(3, 3)))
    assert isinstance(got, da.Array)
    np.testing.assert_array_equal(got.compute(), expected)  # the same sums, added in the same order


def test_an_index_held_in_a_dask_array_is_refused_by_name():
    table = da.from_array(np.arange(6.0).reshape(3, 2), chunks=2)
    with pytest.raises(UnsupportedValue, match="index that is itself a dask Array"):
        dask.compute(s2sad.grad(embedding_loss)(table, da.from_array(np.array([0, 2])), np.zeros((2, 2))))


@pytest.fixture
def cluster_client():
    """A client of a local cluster of two worker processes, closed after the test (while it is
    open, `dask.compute` runs on it)."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cl, \
            distributed.Client(cl) as client:
        yield client


def test_gradients_computed_on_a_local_cluster(cluster_client):
    """The gradient's task graph runs on two worker processes; the values are NumPy's."""
    w, b, x, labels = _logistic_data()
    xd, ld = _chunked(x, labels, rows=5)
    grads = s2sad.grad(logistic.log_loss, argnums=(0, 1))(w, b, xd, ld)
    computed = cluster_client.compute(list(grads), sync=True)
    _assert_close(logistic.log_loss_by_hand(w, b, x, labels), computed)
    params = mlp.init((3, 4, 2))
    rng = np.random.default_rng(7)
    inputs, targets = rng.standard_normal((10, 3)), rng.standard_normal((10, 2))
    got = cluster_client.compute(s2sad.grad(mlp.mlp_loss)(params, *_chunked(inputs, targets, rows=5)), sync=True)
    for key, value in mlp.mlp_loss_by_hand(params, inputs, targets).items():
        np.testing.assert_allclose(got[key], value, rtol=1e-12, atol=1e-15)


def masked_mean(x):
    y = x[x > 0]  # Dask does not know how many elements are left
    return np.sum(y * y) + np.mean(y)


def test_unknown_chunk_sizes_are_a_clear_error_not_nan():
    x = np.random.default_rng(0).standard_normal(10)
    with pytest.raises(UnsupportedValue, match="chunk sizes are unknown"):
        dask.compute(s2sad.grad(masked_mean)(da.from_array(x, chunks=5)))


class _Computes(callbacks.Callback):
    """Counts the graphs Dask's local schedulers start computing."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def _start(self, dsk) -> None:
        self.count += 1


def test_the_derivative_is_one_graph_computed_nothing_before():
    """Reverse mode keeps the Dask arrays lazy on its tape: calling the gradient computes
    nothing; one `dask.compute` evaluates the whole gradient."""
    w, b, x, labels = _logistic_data()
    xd, ld = _chunked(x, labels)
    with _Computes() as computes:
        grads = s2sad.grad(rnn.rnn_loss, argnums=(0, 1, 2))(*_rnn_args(da.from_array))
        also = s2sad.grad(logistic.log_loss, argnums=(0, 1))(w, b, xd, ld)
    assert computes.count == 0
    with _Computes() as computes:
        dask.compute(grads, also)
    assert computes.count == 1
    _assert_close(rnn.rnn_loss_by_hand(*_rnn_args(lambda a, chunks: a)), dask.compute(*grads))


def _rnn_args(make):
    rng = np.random.default_rng(0)
    wx, wh, b = rng.standard_normal((3, 2)) * 0.5, rng.standard_normal((3, 3)) * 0.5, rng.standard_normal(3) * 0.1
    xs, target = rng.standard_normal((6, 2)), rng.standard_normal(3)
    return wx, wh, b, make(xs, chunks=(2, 2)), target


def _linear_response(w, x, labels):
    return x @ w * labels


def _summed_gradient(w, b, x, labels):
    return np.sum(s2sad.grad(logistic.log_loss)(w, b, x, labels))


@pytest.mark.parametrize("name", ["hessian", "hvp", "jacrev", "jacfwd", "grad of grad"])
def test_higher_order_and_jacobians_on_dask_data(name):
    """Second derivatives and Jacobians through Dask data equal those through NumPy data."""
    w, b, x, labels = _logistic_data()
    call = {
        "hessian": lambda xs, ls: s2sad.hessian(logistic.log_loss)(w, b, xs, ls),
        "hvp": lambda xs, ls: s2sad.hvp(logistic.log_loss)(w, b, xs, ls, np.arange(3.0)),
        "jacrev": lambda xs, ls: s2sad.jacrev(_linear_response)(w, xs, ls),
        "jacfwd": lambda xs, ls: s2sad.jacfwd(_linear_response)(w, xs, ls),
        "grad of grad": lambda xs, ls: s2sad.grad(_summed_gradient)(w, b, xs, ls),
    }[name]
    expected = call(x, labels)
    lazy = call(*_chunked(x, labels))
    assert isinstance(lazy, da.Array)  # (a Jacobian is stacked by Dask: one graph, nothing computed)
    (got,) = dask.compute(lazy)
    _assert_close(expected, got)


def rows_backwards(x):
    total = 0.0
    for row in reversed(x):
        total = total * 0.5 + np.sum(row * row)
    return total


def first_rows(x):
    rows = list(x)
    return np.sum(rows[0] * rows[1])


@pytest.mark.parametrize("fun", [rows_backwards, first_rows])
def test_rows_of_a_dask_array_give_a_dask_array(fun):
    """A loop over `reversed(x)` and `list(x)` of a Dask array: the cotangent of the rows is
    stacked back into a Dask array, not left a list."""
    x = np.random.default_rng(0).standard_normal((4, 3))
    got = s2sad.grad(fun)(da.from_array(x, chunks=2))
    assert isinstance(got, da.Array)
    _assert_close(s2sad.grad(fun)(x), got.compute())


def test_random_programs_on_dask_arrays_are_never_silently_wrong():
    """The differential tester's programs (tests/fuzz/arrays.py) with their arrays made Dask
    arrays: where the program itself runs on them, the derivative runs too, without Dask warning
    that it converted an array, and equals the derivative on the NumPy arrays.
    (`python -m tests.fuzz.arrays --library dask --seeds 0:1400`: see docs/arrays.md.)"""
    counts = fuzz_arrays.run(range(50), fuzz_arrays.dask_arrays())
    assert counts["wrong"] == counts["fails"] == 0, counts
    assert counts["same"] >= 35, counts


def reversed_rows_times(x, w):
    a = w[::-1] @ x
    return np.sum(a * a) + np.sum(w * w)


def rows_in_a_loop(x, w):
    total = np.sum(w * w)
    for i in range(2):
        total = total + np.sum(w[i] * x[i])
    return total


@pytest.mark.parametrize("fun", [reversed_rows_times, rows_in_a_loop])
def test_a_dask_cotangent_added_into_a_numpy_adjoint_by_a_selection(fun):
    """`bw[::-1] += g` or `bw[i] += g` where `bw` is a NumPy array of known shape but `g` comes
    from a Dask argument (a known shape, another library): added by `add_at`, in Dask, not in
    place by NumPy (which refuses a Dask operand)."""
    rng = np.random.default_rng(4)
    x, w = rng.normal(size=(3, 3)), rng.normal(size=(2, 3))
    derivative = s2sad.grad(fun, argnums=(0, 1))
    got = derivative(da.from_array(x, chunks=1), w)
    _assert_close(derivative(x, w), dask.compute(*got))
