"""Complex intermediates: real functions that pass through complex values differentiate exactly
in every mode, with cotangents paired by <a, b> = Re(sum(a * b)) (docs/conventions.md, "Complex
values"); complex arguments are refused with the fix."""

import numpy as np
import pytest

import s2sad
from s2sad.testing import check_grads, make_function
from tests.rules.endtoend import check_every_mode

RNG = np.random.default_rng(0)


def phasor(x):
    return np.real(np.exp(1j * x)) + np.imag(np.exp(2j * x))


def test_a_phasor_is_cos_and_sin():
    """Re(e^{ix}) + Im(e^{2ix}) = cos x + sin 2x: the derivative -sin x + 2 cos 2x."""
    x = RNG.uniform(-2, 2, 5)
    expected = -np.sin(x) + 2 * np.cos(2 * x)
    np.testing.assert_allclose(s2sad.grad(lambda v: np.sum(phasor(v)))(x), expected, rtol=1e-12)
    np.testing.assert_allclose(np.diag(s2sad.jacfwd(phasor)(x)), expected, rtol=1e-12)
    np.testing.assert_allclose(np.diag(s2sad.jacrev(phasor)(x)), expected, rtol=1e-12)
    assert s2sad.grad(lambda v: np.sum(phasor(v)))(x).dtype == np.float64


def modulus(x, y):
    z = x + 1j * y
    return np.abs(z) + np.angle(z) + (z * z.conj()).real + z.imag


def test_modulus_and_angle_are_hypot_and_arctan2():
    x, y = RNG.uniform(0.5, 2, 4), RNG.uniform(-2, 2, 4)
    r = np.hypot(x, y)
    gx, gy = s2sad.grad(lambda a, b: np.sum(modulus(a, b)), argnums=(0, 1))(x, y)
    np.testing.assert_allclose(gx, x / r - y / r ** 2 + 2 * x, rtol=1e-12)
    np.testing.assert_allclose(gy, y / r + x / r ** 2 + 2 * y + 1, rtol=1e-12)


@pytest.mark.parametrize("source", [
    "def f(x, y):\n    return modulus(x, y)\n",
    "def f(x, y):\n    z = np.conj(x * np.exp(1j * y))\n    return np.abs(z + 0.5) ** 2 + z.real * np.angle(z * 1j)\n",
    "def f(x, y):\n    return np.abs(np.fft.fft(x * y)) + np.fft.ifft(x + 2j * y).real\n",
])
def test_complex_intermediates_in_every_mode(source):
    x, y = RNG.uniform(0.5, 2, 6), RNG.uniform(0.5, 2, 6)
    check_every_mode(source, [x, y], namespace={"modulus": modulus})


def test_a_python_float_argument_gets_a_float_gradient():
    fun = make_function("def f(a, x):\n    return np.sum(np.abs(np.fft.rfft(a * x)) ** 2) + np.real(a * 1j * a)\n")
    x = RNG.uniform(-1, 1, 6)
    g = s2sad.grad(fun)(1.5, x)
    assert type(g) is float
    check_grads(fun, [1.5, x], order=2)


def test_abs_keeps_its_conventions_on_real_values():
    """Real abs: sign(x) as before, 0 at 0, and a zero second derivative (also at 0), silently."""
    fun = make_function("def f(x):\n    return np.sum(np.abs(x) * x)\n")
    x = np.array([-1.5, 0.0, 2.0])
    with np.errstate(all="raise"):
        np.testing.assert_allclose(s2sad.grad(make_function("def f(x):\n    return np.sum(np.abs(x))\n"))(x),
                                   [-1.0, 0.0, 1.0])
        np.testing.assert_allclose(s2sad.hessian(fun)(x), np.diag([-2.0, 0.0, 2.0]))


def test_abs_of_complex_zero_has_derivative_zero():
    fun = make_function("def f(x):\n    return np.sum(np.abs(x * 1j))\n")
    np.testing.assert_allclose(s2sad.grad(fun)(np.array([0.0, -2.0])), [0.0, -1.0])


def test_complex_constants_print_in_the_derivative_code():
    fun = make_function("def f(x):\n    return np.real(np.exp(1j * x) * (2 - 3j))\n")
    source = s2sad.grad(fun).source
    assert "np.exp(1j * x)" in source and "2 - 3j" in source and "return real_like(" in source
    np.testing.assert_allclose(s2sad.grad(fun)(0.3), np.real(1j * np.exp(0.3j) * (2 - 3j)), rtol=1e-12)


def test_a_complex_argument_is_refused_with_the_fix():
    fun = make_function("def f(z):\n    return np.abs(z)\n")
    with pytest.raises(s2sad.UnsupportedValue, match="complex argument 'z' is not supported yet") as info:
        s2sad.grad(fun)(1.0 + 2.0j)
    assert isinstance(info.value, TypeError)
    assert info.value.hint == "differentiate the real and imaginary parts as separate float arguments"
    assert info.value.where.filename == __file__  # the call's line


def test_the_fix_for_a_complex_argument_differentiates():
    """The fix: pass the real and imaginary parts, and build the complex value inside."""
    fun = make_function("def f(re, im):\n    z = re + 1j * im\n    return np.abs(z ** 2 + 1)\n")
    gre, gim = s2sad.grad(fun, argnums=(0, 1))(0.7, -0.4)
    z = 0.7 - 0.4j
    w = z ** 2 + 1
    dz = np.conj(w) / abs(w) * 2 * z  # d|w| = Re(conj(w)/|w| dw), dw = 2 z dz
    np.testing.assert_allclose([gre, gim], [dz.real, -dz.imag], rtol=1e-12)


def test_the_builtin_abs_of_complex_values_is_the_modulus():
    fun = make_function("def f(x):\n    return abs(np.fft.fft(x)) ** 2 + abs(x[0] * (1 + 1j))\n")
    x = RNG.uniform(-1, 1, 5)
    expected = 10 * x + np.eye(5)[0] * 5 * np.sqrt(2) * np.sign(x[0])
    np.testing.assert_allclose(s2sad.grad(lambda v: np.sum(fun(v)))(x), expected, rtol=1e-12)
    check_grads(fun, [x], order=2)


def spectrum(x):
    return np.fft.fft(x)


def scaled_power(x):
    z = spectrum(x)  # complex only through the callee: the caller shows no complex value itself
    return np.sum(np.abs(z * x) ** 2)


def test_a_complex_value_from_a_callee_leaves_a_real_gradient():
    x = RNG.uniform(-1, 1, 4)
    grads = (s2sad.grad(scaled_power)(x), s2sad.value_and_grad(scaled_power)(x)[1],
             s2sad.vjp(scaled_power, x)[1](1.0)[0])
    for g in grads:
        assert g.dtype == np.float64
        np.testing.assert_allclose(g, s2sad.jacfwd(scaled_power)(x), rtol=1e-12)



def power_of_params(params, f):
    return through_a_function_value(params["w"], f) + np.sum(params["b"] ** 2)


def test_a_complex_value_from_a_callee_leaves_a_real_gradient_in_a_dict():
    """A dict of real parameters gets real gradients, leaf by leaf, through a function value
    that returns complex values."""
    params = {"w": RNG.uniform(-1, 1, 4), "b": RNG.uniform(-1, 1, 3)}
    expected = s2sad.jacfwd(through_a_function_value)(params["w"], rotate)
    for g in (s2sad.grad(power_of_params)(params, rotate), s2sad.value_and_grad(power_of_params)(params, rotate)[1]):
        assert {k: v.dtype for k, v in g.items()} == {"w": np.float64, "b": np.float64}
        np.testing.assert_allclose(g["w"], expected, rtol=1e-12)
        np.testing.assert_allclose(g["b"], 2 * params["b"], rtol=1e-12)

def rotate(x):
    return x * np.exp(0.3j)


def through_a_rotation(x):
    z = rotate(x)  # the caller's own `+ x` then sends a complex cotangent to the real x
    return np.sum(np.abs(z * z + x) ** 2)


def through_a_function_value(x, f):
    z = f(x)  # known only when it runs: it may return complex values
    return np.sum(np.abs(z * z + x) ** 2)


@pytest.mark.parametrize("fun", [scaled_power, through_a_rotation, lambda x: through_a_function_value(x, rotate)],
                         ids=["fft-in-callee", "complex-constant-in-callee", "function-value"])
def test_second_derivatives_through_a_complex_callee_are_real(fun):
    """The caller shows no complex value itself; its gradient code must still take the real part,
    or the Jacobians of that gradient (hessian, jacfwd/jacrev of grad, hvp) come out complex."""
    x, v = RNG.uniform(-1, 1, 4), RNG.uniform(-1, 1, 4)
    gradient = s2sad.grad(fun)
    fd = (gradient(x + 1e-6 * v) - gradient(x - 1e-6 * v)) / 2e-6
    for second in (s2sad.hessian(fun)(x), s2sad.jacfwd(gradient)(x), s2sad.jacrev(gradient)(x)):
        assert second.dtype == np.float64
        np.testing.assert_allclose(second @ v, fd, rtol=1e-6, atol=1e-8)
    for product in (s2sad.hvp(fun)(x, v), s2sad.jvp(gradient, (x,), (v,))[1]):
        assert product.dtype == np.float64
        np.testing.assert_allclose(product, fd, rtol=1e-6, atol=1e-8)
