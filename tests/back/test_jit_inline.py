"""The Numba backend with the user's helper functions (s2sad/front/inline.py): helpers of the
same module are inlined, so the derivative is one compiled function specialised to the
arguments, equal to the default backend's; a refusal inside a helper is located at its line;
rebinding a helper rebuilds the derivative."""

import math
import sys

import numpy as np
import pytest

import s2sad
from tests.back.test_jit import same
from tests.fixtures import foreign_helpers
from tests.fixtures.foreign_helpers import step as foreign_step

numba = pytest.importorskip("numba", reason="the numba extra is not installed")


def step(s, x):
    return s * 0.9 + math.sin(s) * x


def calls_a_helper(x, n):
    s = x
    for _ in range(n):
        s = step(s, x)
    return s


def squash(v):
    return np.tanh(v) * 0.5


def layer(w, v):
    h = squash(w @ v)
    h = h * h  # the parameter's name rebound in the helper
    return h


def energy(x):
    return np.sum(squash(x) * x)


def network(w1, w2, x):
    return np.sum(layer(w2, layer(w1, x)))


def norm(a):
    total = np.einsum("i,i->", a, a)
    return total


def calls_norm(x):
    y = np.sin(x)
    return norm(y) * 2.0


def helper(v):
    return v * v


def calls_helper(x):
    return helper(x) + 1.0


def cube(v):
    return v * v * v


def clipped(v):
    if v > 1.0:
        return 1.0 + 0.1 * v
    elif v < -1.0:
        return -1.0
    return math.sin(v) * v


def loop_with_early_returns(x, n):
    s = x
    for _ in range(n):
        s = clipped(s) + x * 0.7
    return s


W1 = np.linspace(-1.0, 1.0, 12).reshape(4, 3)
W2 = np.linspace(0.5, -0.5, 8).reshape(2, 4)
X = np.array([0.3, -0.2, 0.7])


def test_a_loop_calling_a_helper_compiles_to_the_default_backends_gradient():
    expected = s2sad.grad(calls_a_helper)(0.3, 4)
    got = s2sad.grad(calls_a_helper, backend="numba")(0.3, 4)
    assert got == pytest.approx(expected, rel=1e-12)
    code = s2sad.show(calls_a_helper, backend="numba", args=(0.3, 4))
    assert "step_fwd" not in code and "step_bwd" not in code  # no call of step's derivative: inlined
    assert "math.cos(" in code


def test_a_helper_with_early_returns_is_inlined_in_its_one_return_form():
    g, expected = s2sad.grad(loop_with_early_returns, backend="numba"), s2sad.grad(loop_with_early_returns)
    for x in (-2.0, -0.4, 0.3, 0.9, 1.6):
        assert g(x, 5) == pytest.approx(expected(x, 5), rel=1e-12)
    assert "clipped_fwd" not in s2sad.show(loop_with_early_returns, backend="numba", args=(0.3, 5))


def test_nested_helpers_on_arrays_in_every_mode():
    args = (W1, W2, X)
    for argnums in (0, (0, 1, 2)):
        same(s2sad.grad(network, argnums=argnums, backend="numba")(*args), s2sad.grad(network, argnums=argnums)(*args))
    value, grads = s2sad.value_and_grad(network, argnums=(0, 1), backend="numba")(*args)
    assert value == pytest.approx(network(*args), rel=1e-12)
    same(grads, s2sad.grad(network, argnums=(0, 1))(*args))
    tangents = (W1 * 0.1, W2 * -0.2, X * 0.3)
    same(s2sad.jvp(network, args, tangents, backend="numba"), s2sad.jvp(network, args, tangents))
    out, pullback = s2sad.vjp(network, *args, backend="numba")
    same(pullback(1.5), s2sad.vjp(network, *args)[1](1.5))
    same(s2sad.hessian(energy, backend="numba")(X), s2sad.hessian(energy)(X))
    same(s2sad.hvp(energy, backend="numba")(X, X * 2.0), s2sad.hvp(energy)(X, X * 2.0))


def test_a_refusal_inside_an_inlined_helper_is_located_at_the_helpers_line():
    with pytest.raises(s2sad.BackendError) as info:
        s2sad.grad(calls_norm, backend="numba")(X)
    assert info.value.where.filename == __file__
    assert info.value.where.line == norm.__code__.co_firstlineno + 1
    assert "einsum" in info.value.message


def test_rebinding_an_inlined_helper_rebuilds_the_derivative(monkeypatch):
    g = s2sad.grad(calls_helper, backend="numba")
    assert g(3.0) == pytest.approx(6.0)
    monkeypatch.setattr(sys.modules[__name__], "helper", cube)
    assert g(3.0) == pytest.approx(27.0)


def loop_of_a_foreign_helper(x, n):
    s = x
    for _ in range(n):
        s = foreign_step(s, x)
    return s


def foreign_on_arrays(x):
    return np.sum(foreign_helpers.squash(x) * foreign_helpers.squash(x * 2.0))


def test_helpers_of_another_module_are_inlined_and_located_at_the_call():
    for x in (0.3, 12.0):
        assert s2sad.grad(loop_of_a_foreign_helper, backend="numba")(x, 4) == pytest.approx(
            s2sad.grad(loop_of_a_foreign_helper)(x, 4), rel=1e-12)
    same(s2sad.grad(foreign_on_arrays, backend="numba")(X), s2sad.grad(foreign_on_arrays)(X))
    code = s2sad.show(loop_of_a_foreign_helper, backend="numba", args=(0.3, 4))
    assert "step_fwd" not in code and "inner" not in code  # both copied in
    first = loop_of_a_foreign_helper.__code__.co_firstlineno
    assert "# line 9: if s > 10.0:" not in code and f"# line {first + 3}: s = foreign_step(s, x)" in code


def test_rebinding_a_global_of_another_module_rebuilds_the_derivative(monkeypatch):
    g = s2sad.grad(foreign_on_arrays, backend="numba")
    before = g(X)
    monkeypatch.setattr(foreign_helpers, "SCALE", 1.0)
    np.testing.assert_allclose(g(X), before * 4.0, rtol=1e-12)


def test_a_helper_returning_a_tuple_in_a_loop_compiles(tmp_path):
    """`h, c = step(h, c, x[t], w)`, an LSTM's shape: inlined, the tuple's items keep their
    shapes, so nothing asks a shape the Numba backend cannot answer (it refused the loop)."""
    import importlib.util

    path = tmp_path / "lstm_like.py"
    path.write_text("import numpy as np\n\n\ndef step(h, c, x, w):\n    z = np.tanh(x * w + h)\n"
                    "    c2 = c * 0.9 + z\n    return z * np.tanh(c2), c2\n\n\ndef f(x, w):\n    h = np.zeros(4)\n"
                    "    c = np.zeros(4)\n    for t in range(3):\n        h, c = step(h, c, x[t], w)\n"
                    "    return np.sum(h * h) + np.sum(c)\n")
    spec = importlib.util.spec_from_file_location("lstm_like", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    x, w = np.random.default_rng(6).normal(size=(3, 4)), np.full(4, 0.5)
    value, grads = s2sad.value_and_grad(module.f, argnums=(0, 1), backend="numba")(x, w)
    assert value == pytest.approx(module.f(x, w), rel=1e-12)
    for got, want in zip(grads, s2sad.grad(module.f, argnums=(0, 1))(x, w)):
        np.testing.assert_allclose(got, want, rtol=1e-12)
