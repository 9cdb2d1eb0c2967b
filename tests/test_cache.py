"""Transform once, call many times: what the cache keeps, what makes it build again, threads.

`s2sad.pipeline.STATS["builds"]` counts runs of the whole pipeline (parse to compile).
"""

import math
import threading

import numpy as np
import pytest

import s2sad
from s2sad import cache
from s2sad.pipeline import STATS
from s2sad.testing import make_function


def builds() -> int:
    return STATS["builds"]


def wave(x):
    return np.sum(np.sin(x) * x)


def dwave(x):
    return np.cos(x) * x + np.sin(x)


def test_second_call_does_not_build(fresh_cache):
    dw = s2sad.grad(wave)
    before = builds()
    assert dw(1.0) == pytest.approx(dwave(1.0))
    assert builds() == before + 1
    assert dw(2.0) == pytest.approx(dwave(2.0))
    assert dw(3.0) == pytest.approx(dwave(3.0))
    assert builds() == before + 1


def test_a_new_transform_of_the_same_function_reuses_the_code(fresh_cache):
    s2sad.grad(wave)(1.0)
    before = builds()
    assert s2sad.grad(wave)(2.0) == pytest.approx(dwave(2.0))
    assert builds() == before


def test_the_cache_key_includes_mode_and_argnums(fresh_cache):
    def count(fun):
        before = builds()
        fun()
        return builds() - before

    assert count(lambda: s2sad.grad(wave)(1.0)) == 1
    assert count(lambda: s2sad.value_and_grad(wave)(1.0)) == 1
    assert count(lambda: s2sad.jvp(wave, (1.0,), (1.0,))) == 1
    assert count(lambda: s2sad.grad(wave, optimize=False)(1.0)) == 1
    assert count(lambda: s2sad.grad(wave)(1.0)) == 0


def test_one_specialisation_per_argument_kind_and_shape(fresh_cache):
    dw = s2sad.grad(wave)
    before = builds()
    dw(0.5)
    dw(np.ones(3))
    assert builds() == before + 2
    dw(1.5)
    dw(np.ones(3) * 2)
    assert builds() == before + 2
    dw(np.float64(2.0))  # a NumPy scalar: the scalar code that keeps its dtype, not a Python float's
    dw(np.float32(2.0))
    assert builds() == before + 3
    dw(np.ones((2, 2)))  # another shape: code of its own
    assert builds() == before + 4
    scalar, array = dw.built(("scalar",)).source, dw.built(("array",)).source
    assert scalar != array
    assert "unreduce" not in scalar and "unreduce" in array
    np.testing.assert_allclose(dw(np.array([0.5, 1.5])), dwave(np.array([0.5, 1.5])), rtol=1e-14)


def scaled(x, k):
    return np.sum(x * k * k)


def test_calls_alternating_the_types_of_numbers_run_the_code_for_each(fresh_cache):
    """The last types of one or two numbers are remembered (`Transformed._last`): a call with
    other types, or with arrays, must not take that code."""
    d = s2sad.grad(scaled, argnums=1)
    calls = [(2.0, 3.0), (2, 3.0), (np.float32(2.0), np.float32(3.0)), (2.0, np.float64(3.0)), (2.0, 3.0)]
    for _ in range(3):
        for x, k in calls:
            result = d(x, k)
            assert result == 12.0
            assert (type(result) is np.float32) == (type(k) is np.float32)
        assert d(1.5, 2.0) == 6.0
    before = builds()
    np.testing.assert_allclose(d(np.ones(3), 2.0), 12.0)  # an array: its shape decides, not its type
    np.testing.assert_allclose(d(np.ones(4), 2.0), 16.0)
    np.testing.assert_allclose(d(np.ones(3), 2.0), 12.0)
    assert builds() == before + 2


def test_generic_code_is_built_for_other_kinds(fresh_cache):
    dw = s2sad.grad(wave)
    before = builds()
    assert dw(np.float32(0.5)) == pytest.approx(dwave(0.5), rel=1e-6)  # float32 is a scalar kind
    values = [0.5, 1.0]
    assert dw(values) == pytest.approx(dwave(np.array(values)))  # a list: no kind, generic code
    assert builds() == before + 2


SOURCE = "def redefined(x):\n    return x * x\n"


def test_redefining_a_function_gives_new_code(fresh_cache):
    first = make_function(SOURCE)
    assert s2sad.grad(first)(3.0) == 6.0
    before = builds()
    second = make_function(SOURCE.replace("x * x", "x * x * x"))
    assert second.__code__ is not first.__code__
    assert s2sad.grad(second)(3.0) == 27.0
    assert builds() == before + 1
    assert s2sad.grad(first)(3.0) == 6.0
    assert builds() == before + 1


def test_same_source_new_code_object_builds_again(fresh_cache):
    first, second = make_function(SOURCE), make_function(SOURCE)
    before = builds()
    s2sad.grad(first)(1.0)
    s2sad.grad(second)(1.0)
    assert builds() == before + 2


def test_rebinding_a_global_helper_gives_new_code(fresh_cache):
    scope = {"helper": np.sin}
    fun = make_function("def uses_helper(x):\n    return helper(x) * 2.0\n", scope)
    dfun = s2sad.grad(fun)
    assert dfun(0.3) == pytest.approx(2 * math.cos(0.3))
    assert "np.cos" in dfun.source_for(0.3)
    before = builds()
    fun.__globals__["helper"] = np.exp
    assert dfun(0.3) == pytest.approx(2 * math.exp(0.3))
    assert builds() == before + 1
    assert "np.cos" not in dfun.source_for(0.3)
    assert dfun(0.4) == pytest.approx(2 * math.exp(0.4))
    assert builds() == before + 1


def test_rebinding_an_unrelated_global_does_not_rebuild(fresh_cache):
    scope = {"helper": np.sin, "unrelated": 1.0}
    fun = make_function("def uses_helper(x):\n    return helper(x)\n", scope)
    dfun = s2sad.grad(fun)
    dfun(0.3)
    before = builds()
    fun.__globals__["unrelated"] = 2.0
    assert dfun(0.3) == pytest.approx(math.cos(0.3))
    assert builds() == before


def test_threads_share_one_build_and_get_correct_results(fresh_cache):
    dw = s2sad.grad(wave)
    n = 8
    barrier = threading.Barrier(n)
    results: dict[int, list] = {}
    failures: list[BaseException] = []

    def work(i: int) -> None:
        try:
            barrier.wait()
            results[i] = [dw(0.1 * i + 0.01 * k) for k in range(20)]
        except BaseException as err:  # noqa: BLE001 - reported by the main thread
            failures.append(err)

    before = builds()
    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
    assert builds() == before + 1
    for i in range(n):
        expected = [dwave(0.1 * i + 0.01 * k) for k in range(20)]
        assert results[i] == pytest.approx(expected, rel=1e-14)


def test_threads_with_different_kinds(fresh_cache):
    dw = s2sad.grad(wave)
    inputs = [0.3, np.array([0.3, 0.4]), 0.7, np.array([1.0])] * 3
    out: list = [None] * len(inputs)

    def work(i: int) -> None:
        out[i] = dw(inputs[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(inputs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for x, got in zip(inputs, out):
        np.testing.assert_allclose(got, dwave(np.asarray(x)), rtol=1e-14)


def test_clear_empties_the_cache():
    s2sad.grad(wave)(1.0)
    cache.clear()
    before = builds()
    s2sad.grad(wave)(1.0)
    assert builds() == before + 1


# ---------------------------------------------------------------- what else the key covers


def scaled_makers():
    """Functions sharing one code object, each with its own default `k` (a float, then an array)."""
    made = []
    for k in (1.0, 2.0, 3.0, np.array([0.5, -1.5])):
        def scaled(x, k=k):
            return np.sum(k * np.sin(x) * x)
        made.append((scaled, k))
    return made


def test_default_values_are_part_of_the_key_in_every_mode(fresh_cache):
    x, v = 0.7, 1.0
    exact = math.cos(x) * x + math.sin(x)
    second = 2 * math.cos(x) - x * math.sin(x)
    for fun, k in scaled_makers():
        scale = float(np.sum(k))
        value, gradient = s2sad.value_and_grad(fun)(x)
        assert value == pytest.approx(scale * math.sin(x) * x, rel=1e-13)
        assert gradient == pytest.approx(scale * exact, rel=1e-13)
        assert s2sad.grad(fun)(x) == pytest.approx(scale * exact, rel=1e-13)
        assert s2sad.jvp(fun, (x,), (v,))[1] == pytest.approx(scale * exact * v, rel=1e-13)
        pullback = s2sad.vjp(fun, x)[1]
        assert pullback(2.0) == pullback(2.0) == (pytest.approx(2 * scale * exact, rel=1e-13),)
        assert s2sad.grad(s2sad.grad(fun))(x) == pytest.approx(scale * second, rel=1e-12)
        assert s2sad.hessian(fun)(x) == pytest.approx(scale * second, rel=1e-12)
        assert s2sad.hvp(fun)(x, v) == pytest.approx(scale * second * v, rel=1e-12)
        assert s2sad.jacfwd(fun)(x) == pytest.approx(s2sad.jacrev(fun)(x), rel=1e-13)


def test_defaults_reassigned_on_the_same_function_rebuild(fresh_cache):
    fun = scaled_makers()[0][0]
    dfun = s2sad.grad(fun)
    assert dfun(0.3) == pytest.approx(math.cos(0.3) * 0.3 + math.sin(0.3))
    fun.__defaults__ = (np.array([2.0, 3.0]),)
    assert dfun(0.3) == pytest.approx(5 * (math.cos(0.3) * 0.3 + math.sin(0.3)))
    before = builds()
    assert dfun(0.4) == pytest.approx(5 * (math.cos(0.4) * 0.4 + math.sin(0.4)))
    assert builds() == before


def test_a_callee_whose_defaults_change_rebuilds_its_caller(fresh_cache):
    scope: dict = {}
    helper = make_function("def helper(x, w=2.0):\n    return w * x * x\n", scope)
    caller = make_function("def caller(x):\n    return helper(x) + x\n", {"helper": helper})
    dcaller = s2sad.grad(caller)
    assert dcaller(1.5) == pytest.approx(2 * 2.0 * 1.5 + 1)
    helper.__defaults__ = (5.0,)
    assert dcaller(1.5) == pytest.approx(2 * 5.0 * 1.5 + 1)
    assert s2sad.jvp(caller, (1.5,), (1.0,))[1] == pytest.approx(2 * 5.0 * 1.5 + 1)


class Scaled:
    def __init__(self, w):
        self.w = w

    def inner(self, x):
        return self.w * x * x

    def loss(self, x):
        return self.inner(x) + x


def cubed(self, x):
    return self.w * x * x * x


def test_a_method_rebound_on_the_class_rebuilds_its_callers(fresh_cache, monkeypatch):
    model = Scaled(2.0)
    dloss = s2sad.grad(model.loss)
    assert dloss(1.5) == pytest.approx(2 * 2.0 * 1.5 + 1)
    monkeypatch.setattr(Scaled, "inner", cubed)
    assert dloss(1.5) == pytest.approx(3 * 2.0 * 1.5 ** 2 + 1)
    assert s2sad.jvp(model.loss, (1.5,), (1.0,))[1] == pytest.approx(3 * 2.0 * 1.5 ** 2 + 1)


def make_shared():
    def shared(x, k):
        return k * x * x
    return shared


def test_functions_sharing_an_entry_until_one_is_given_defaults(fresh_cache):
    first, second = make_shared(), make_shared()  # one code object, globals, no cells: one entry
    dfirst, dsecond = s2sad.grad(first), s2sad.grad(second)
    before = builds()
    assert dfirst(1.5, 3.0) == dsecond(1.5, 3.0) == pytest.approx(9.0)
    assert builds() == before + 1
    assert dfirst.source == dsecond.source and "k=2.0" not in dsecond.source  # built for `first`
    second.__defaults__ = (2.0,)  # baked into the code for `second` only
    assert "def shared_grad(x, k=2.0):" in dsecond.source and "k=2.0" not in dfirst.source
    assert dsecond(1.5) == pytest.approx(6.0)
    assert dfirst(1.5, 3.0) == pytest.approx(9.0)
    with pytest.raises(TypeError):
        dfirst(1.5)
