"""Taylor mode (`transforms.taylor`, `s2sad.taylor`, `s2sad.derivatives`): the worked examples,
programs (loops, branches, containers, writes, calls, ODE integrators, Halley's method) against
nested jvp's and closed forms, and its refusals."""

from __future__ import annotations

import math

import numpy as np
import pytest

import s2sad
from s2sad.errors import MissingRule
from s2sad.testing import check_taylor, make_function, nested_jvps
from tests.fixtures import textbook

# ------------------------------------------------------------------ the worked examples


def cube(x):
    return x ** 3


def test_cube_at_two():
    """(2 + t)³ = 8 + 12t + 6t² + t³."""
    out, coefs = s2sad.taylor(cube, order=2)((2.0,), ((1.0, 0.0),))
    assert (out, coefs) == (8.0, [12.0, 6.0])
    assert s2sad.derivatives(cube, order=2)(2.0) == (8.0, 12.0, 12.0)
    assert s2sad.derivatives(cube, order=4)(2.0) == (8.0, 12.0, 12.0, 6.0, 0.0)


def x2_over_cos(x):
    return x ** 2 / np.cos(x)


@pytest.mark.parametrize("fun", [x2_over_cos, textbook.g], ids=["np.cos", "math.cos"])
def test_x2_over_cos_at_pi(fun):
    """f = x² sec x at π: sec π = −1, tan π = 0, so f = −π², f' = −2π, f'' = −2 − π², f''' = −6π."""
    pi = math.pi
    got = s2sad.derivatives(fun, order=3)(pi)
    np.testing.assert_allclose(got, [-pi ** 2, -2 * pi, -2 - pi ** 2, -6 * pi], rtol=1e-13)


def test_log_plus_product_along_a_direction():
    """ln x1 + x1·x2 at (2, 3) along (1, 1/2): ln(2 + t) + (2 + t)(3 + t/2)."""
    out, coefs = s2sad.taylor(textbook.f, order=3, argnums=(0, 1))((2.0, 3.0), ((1.0, 0.0, 0.0), (0.5, 0.0, 0.0)))
    assert out == pytest.approx(math.log(2) + 6)
    np.testing.assert_allclose(coefs, [1 / 2 + 4, -1 / 8 + 1 / 2, 1 / 24], rtol=1e-14)


def test_a_curved_path():
    """The input path may be any polynomial: exp(x(t)) with x(t) = t² is exp(t²) = 1 + t² + t⁴/2."""
    f = make_function("def f(x):\n    return np.exp(x)\n")
    out, coefs = s2sad.taylor(f, order=5)((0.0,), ((0.0, 1.0, 0.0, 0.0, 0.0),))
    np.testing.assert_allclose([out, *coefs], [1, 0, 1, 0, 0.5, 0], atol=1e-15)


# ------------------------------------------------------------------ arrays and programs


def chain(x):
    y = np.tanh(x) * np.exp(-x) + np.sqrt(x * x + 1.0)
    return np.sin(y) / (1.0 + x ** 2)


def helper(u, c):
    return u * u + c * np.sin(u)


def branchy(x, n):
    s = 0.0
    ys = []
    for i in range(n):
        if x > 0.5 * i:
            s = s + helper(x, 2.0)
        else:
            s = s * x
        ys.append(s)
    a = np.array([1.0, 2.0, 3.0]) * x
    a[1] = s
    return ys[-1] + ys[0] + np.sum(a ** 2)


def settle(x):
    while x < 10.0:
        x = x * 1.5 + np.exp(-x)
    return x


def containers(x, y):
    b = [y, x * y]
    b.append(np.cos(x))
    d = {"a": x, "b": b}
    total = 0.0
    for item in d["b"]:
        total = total + item * item
    pair = (total, d["a"])
    return pair[0] * pair[1]


def power(x, n):
    if n == 0:
        return 1.0
    return x * power(x, n - 1)


@pytest.mark.parametrize("fun, args", [
    (chain, (np.linspace(0.1, 2.0, 5),)),
    (branchy, (1.3, 5)),
    (branchy, (0.7, 5)),
    (settle, (1.0,)),
    (containers, (0.8, -1.1)),
    (power, (1.2, 5)),
], ids=["elementwise chain", "loop with a branch", "loop with the other branch", "while", "containers", "recursion"])
def test_program_against_nested_jvps(fun, args):
    check_taylor(fun, args, order=4)


def test_a_callee_gets_its_own_taylor_code():
    source = s2sad.taylor(branchy, order=3).source
    assert "helper_taylor3(" in source
    assert "series_inplace(" in source  # the write a[1] = s, done to each coefficient of a


def test_elementwise_derivatives_of_an_array():
    x = np.linspace(0.1, 2.0, 4)
    got = s2sad.derivatives(chain, order=3)(x)
    for i, xi in enumerate(x):
        expected = nested_jvps(chain, xi, 3)
        np.testing.assert_allclose([g[i] for g in got], expected, rtol=1e-10)


def test_tuple_output():
    f = make_function("def f(x):\n    return np.sin(x), x * x\n")
    out, coefs = s2sad.taylor(f, order=2)((0.5,), ((1.0, 0.0),))
    assert out == (np.sin(0.5), 0.25)
    np.testing.assert_allclose(coefs, [(np.cos(0.5), 1.0), (-np.sin(0.5) / 2, 1.0)])


def test_order_is_part_of_the_cache_key():
    assert s2sad.derivatives(cube, order=1)(2.0) == (8.0, 12.0)
    assert s2sad.derivatives(cube, order=3)(2.0) == (8.0, 12.0, 12.0, 6.0)
    assert s2sad.show(cube, mode="taylor", order=3) != s2sad.show(cube, mode="taylor", order=2)


# ------------------------------------------------------------------ ODE integrators


def rk4(y, t, n):
    h = t / n
    for _ in range(n):
        k1 = -y * y
        k2 = -(y + 0.5 * h * k1) ** 2
        k3 = -(y + 0.5 * h * k2) ** 2
        k4 = -(y + h * k3) ** 2
        y = y + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return y


def test_rk4_matches_the_solution_to_order_four():
    """y' = −y², y(0) = y0: y(t) = y0 / (1 + y0·t) = Σ y0·(−y0·t)^k. RK4 is exact to order 4 in
    the step (here t/n), so its result's coefficients in t are the solution's up to t⁴, not t⁵."""
    y0 = 0.8
    for n in (1, 3):
        out, coefs = s2sad.taylor(rk4, order=5, argnums=1)((y0, 0.0, n), ((1.0, 0.0, 0.0, 0.0, 0.0),))
        exact = [y0 * (-y0) ** k for k in range(6)]
        np.testing.assert_allclose([out, *coefs[:4]], exact[:5], rtol=1e-13)
        assert abs(coefs[4] - exact[5]) > 1e-5


def test_euler_matches_its_own_series():
    """y' = λy by n Euler steps: y0·(1 + λt/n)^n, whose k-th coefficient is y0·C(n, k)·(λ/n)^k;
    the first is the solution's, y0·λ."""
    f = make_function("def euler(y, t, n, lam):\n    h = t / n\n    for _ in range(n):\n"
                      "        y = y + h * lam * y\n    return y\n")
    y0, lam, n = 1.5, -0.7, 4
    out, coefs = s2sad.taylor(f, order=5, argnums=1)((y0, 0.0, n, lam), ((1.0, 0.0, 0.0, 0.0, 0.0),))
    np.testing.assert_allclose([out, *coefs], [y0 * math.comb(n, k) * (lam / n) ** k for k in range(6)],
                               rtol=1e-14, atol=1e-15)


def test_euler_fixture_against_nested_jvps():
    check_taylor(textbook.euler, (0.8, 0.3, 6), order=4)


# ------------------------------------------------------------------ Halley's method


def kepler(x):
    return x ** 3 - 2.0 * x - 5.0


def halley(f, x, steps):
    """x ← x − 2 f f' / (2 f'² − f f''), with f, f' and f'' from one Taylor pass."""
    trace = [x]
    for _ in range(steps):
        fx, d1, d2 = s2sad.derivatives(f, order=2)(x)
        x = x - 2 * fx * d1 / (2 * d1 * d1 - fx * d2)
        trace.append(x)
    return trace


def test_halley_converges_cubically():
    root = 2.0945514815423265  # Wallis's cubic
    trace = halley(kepler, 3.0, 4)
    errors = [abs(x - root) for x in trace]
    assert errors[3] < 1e-12 and errors[4] < 1e-15
    assert errors[2] < 10 * errors[1] ** 3  # the error is cubed at each step


# ------------------------------------------------------------------ refusals and argument checks


@s2sad.custom_jvp
def clipped(x):
    return np.minimum(x, 1.0)


@clipped.defjvp
def clipped_jvp(primals, tangents):
    (x,), (dx,) = primals, tangents
    return np.minimum(x, 1.0), dx * (x < 1.0)


def uses_clipped(x):
    return clipped(x) * 2.0


def test_a_custom_jvp_is_refused_past_first_order():
    with pytest.raises(MissingRule, match="custom jvp.*order 3"):
        s2sad.taylor(uses_clipped, order=3)((0.5,), ((1.0, 0.0, 0.0),))


def only_reverse(x):
    return 2.0 * x


s2sad.defvjp(only_reverse, lambda g, out, x: 2.0 * g)


def uses_only_reverse(x):
    return only_reverse(x) + x


def test_an_op_with_a_reverse_rule_only_is_refused_naming_it_and_the_order():
    with pytest.raises(MissingRule, match=r"no Taylor rule for .*only_reverse to order 2"):
        s2sad.taylor(uses_only_reverse, order=2)((0.5,), ((1.0, 0.0),))


def test_argument_checks():
    with pytest.raises(ValueError, match="order"):
        s2sad.taylor(cube, order=0)
    with pytest.raises(ValueError, match="2 coefficients"):
        s2sad.taylor(cube, order=3)((1.0,), ((1.0, 0.0),))
    with pytest.raises(TypeError, match="series"):
        s2sad.taylor(cube, order=1)((1.0,), ((1.0,), (1.0,)))


def test_show_and_source_agree():
    expand = s2sad.taylor(cube, order=3)
    assert expand.source == s2sad.show(cube, mode="taylor", order=3)
    assert "series_pow(" in expand.source


# ------------------------------------------------------------------ function values and custom rules


def apply_twice(g, x):
    return g(g(x))


def through_a_function_value(x):
    return apply_twice(np.sin, x) + apply_twice(helper_of_one, x)


def helper_of_one(u):
    return u * np.exp(-u)


@s2sad.custom_vjp
def smooth_abs(x):
    return np.sqrt(x * x + 1e-2)


smooth_abs.defvjp(lambda x: (smooth_abs(x), x), lambda x, g: (g * x / smooth_abs(x),))


def uses_custom_vjp(x):
    return smooth_abs(x) * np.cos(x)


@s2sad.checkpoint
def heavy(x):
    return np.tanh(x) ** 2


def uses_checkpoint(x):
    return heavy(x) + x


@pytest.mark.parametrize("fun", [through_a_function_value, uses_custom_vjp, uses_checkpoint],
                         ids=["function values", "custom_vjp (its function)", "checkpoint"])
def test_calls_of_every_kind(fun):
    check_taylor(fun, (0.6,), order=4)
