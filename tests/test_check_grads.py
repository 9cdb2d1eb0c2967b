"""`s2sad.testing.check_grads` finds wrong derivatives and passes right ones.

Deliberately wrong rules are registered (custom_jvp, custom_vjp, defjvp/defvjp on a library
callable): each must make `check_grads` raise AssertionError in the mode that uses it, saying
which comparison failed, while the same rule written correctly passes. A rule that is right at
first order and wrong at second order is caught by `order=2` only.
"""

import math

import numpy as np
import pytest

import s2sad
from s2sad.testing import check_grads

# ---------------------------------------------------------------------------- passing functions


def tanh_layer(w, x, bias):
    return np.sum(np.tanh(x @ w.T + bias) ** 2)


def power_with_integer(x, n):
    return x ** n * np.sin(x)


def of_a_dict(params, scale):
    return np.sum(params["w"] ** 2) * params["b"] + scale * params["b"] ** 3


def branchy(x):
    s = 0.0
    for i in range(x.shape[0]):
        if x[i] > 0.0:
            s = s + np.exp(-x[i]) * x[i]
        else:
            s = s - x[i] ** 3
    return s


RNG = np.random.default_rng(0)
PASSING = [
    (tanh_layer, (RNG.standard_normal((2, 3)), RNG.standard_normal((4, 3)), 0.5)),
    (power_with_integer, (1.3, 3)),
    (of_a_dict, ({"w": np.array([0.3, -0.5]), "b": 0.7}, 2.0)),
    (branchy, (np.array([0.4, -0.8, 1.5]),)),
]


@pytest.mark.parametrize("order", [1, 2])
@pytest.mark.parametrize(("fun", "args"), PASSING, ids=[p[0].__name__ for p in PASSING])
def test_right_derivatives_pass_in_every_mode(fun, args, order):
    for modes in (("fwd",), ("rev",), ("fwd", "rev")):
        check_grads(fun, args, order=order, modes=modes)


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_right_derivatives_pass_in_any_direction(seed):
    check_grads(branchy, [np.array([0.4, -0.8, 1.5])], order=2, seed=seed)


# ---------------------------------------------------------------------------- wrong custom rules


@s2sad.custom_jvp
def sine_right_once(x):
    return np.sin(x)


@sine_right_once.defjvp
def sine_right_once_jvp(primals, tangents):
    """cos(x) dx, but with cos(x) held constant: right first derivative, zero second derivative."""
    (x,), (dx,) = primals, tangents
    return np.sin(x), dx * s2sad.stop_gradient(np.cos(x))


@s2sad.custom_jvp
def sine_right(x):
    return np.sin(x)


@sine_right.defjvp
def sine_right_jvp(primals, tangents):
    (x,), (dx,) = primals, tangents
    return np.sin(x), dx * np.cos(x)


def uses_sine_right_once(x):
    return np.sum(sine_right_once(x) * x)


def uses_sine_right(x):
    return np.sum(sine_right(x) * x)


X = np.array([0.3, 1.0, -0.6])
MODES = [("fwd",), ("rev",), ("fwd", "rev")]


@pytest.mark.parametrize("modes", MODES, ids=["fwd", "rev", "both"])
def test_a_rule_wrong_at_second_order_is_caught_by_order_2_only(modes):
    check_grads(uses_sine_right_once, [X], order=1, modes=modes)
    with pytest.raises(AssertionError, match="finite differences"):
        check_grads(uses_sine_right_once, [X], order=2, modes=modes)
    check_grads(uses_sine_right, [X], order=2, modes=modes)


@s2sad.custom_vjp
def cube_wrong_vjp(x):
    return x ** 3


def cube_fwd(x):
    return x ** 3, x


def cube_wrong_bwd(x, g):
    return (g * 2.0 * x * x,)  # 2 x^2 instead of 3 x^2


def cube_right_bwd(x, g):
    return (g * 3.0 * x * x,)


cube_wrong_vjp.defvjp(cube_fwd, cube_wrong_bwd)


@s2sad.custom_vjp
def cube_right_vjp(x):
    return x ** 3


cube_right_vjp.defvjp(cube_fwd, cube_right_bwd)


def uses_cube_wrong(x):
    return np.sum(cube_wrong_vjp(x))


def uses_cube_right(x):
    return np.sum(cube_right_vjp(x))


def test_a_wrong_custom_vjp_fails_the_dot_product_identity():
    check_grads(uses_cube_wrong, [X], modes=("fwd",))  # forward mode differentiates x ** 3 itself
    with pytest.raises(AssertionError, match="dot-product identity"):
        check_grads(uses_cube_wrong, [X], modes=("rev",))
    with pytest.raises(AssertionError, match="dot-product identity"):
        check_grads(uses_cube_wrong, [X], order=2)
    check_grads(uses_cube_right, [X], order=2)


# ---------------------------------------------------------------------------- wrong library rules


erf_right = np.vectorize(math.erf, otypes=[float])
erf_wrong = np.vectorize(math.erf, otypes=[float])
"""math.erf over arrays, twice: a library callable s2sad has no rule for. Its derivative is
registered right on one and wrong (without the factor 2/sqrt(pi)) on the other."""


def erf_jvp_right(t, out, x):
    return t * 2.0 / np.sqrt(np.pi) * np.exp(-x * x)


def erf_vjp_right(g, out, x):
    return g * 2.0 / np.sqrt(np.pi) * np.exp(-x * x)


def erf_jvp_wrong(t, out, x):
    return t * np.exp(-x * x)


def erf_vjp_wrong(g, out, x):
    return g * np.exp(-x * x)


s2sad.defjvp(erf_right, erf_jvp_right, params="x")
s2sad.defvjp(erf_right, erf_vjp_right, params="x")
s2sad.defjvp(erf_wrong, erf_jvp_right, params="x")  # forward right, reverse wrong
s2sad.defvjp(erf_wrong, erf_vjp_wrong, params="x")


def sum_right(x):
    return np.sum(erf_right(x) * x)


def sum_wrong(x):
    return np.sum(erf_wrong(x) * x)


XE = np.array([0.5, 1.5, -2.0])


def test_a_wrong_defvjp_is_caught_in_reverse_mode_and_the_right_one_passes():
    check_grads(sum_wrong, [XE], modes=("fwd",))
    with pytest.raises(AssertionError, match="dot-product identity"):
        check_grads(sum_wrong, [XE], modes=("rev",))
    check_grads(sum_right, [XE], order=2)


erf_wrong_forward = np.vectorize(math.erf, otypes=[float])
s2sad.defjvp(erf_wrong_forward, erf_jvp_wrong, params="x")
s2sad.defvjp(erf_wrong_forward, erf_vjp_right, params="x")


def sum_wrong_forward(x):
    return np.sum(erf_wrong_forward(x) * x)


def test_a_wrong_defjvp_is_caught_in_forward_mode():
    with pytest.raises(AssertionError, match="jvp vs finite differences"):
        check_grads(sum_wrong_forward, [XE], modes=("fwd",))
    with pytest.raises(AssertionError, match="dot-product identity"):
        check_grads(sum_wrong_forward, [XE], modes=("rev",))  # reverse mode is compared with the (wrong) jvp


# ---------------------------------------------------------------------------- known bugs


def pair_of_outputs(x, y):
    return x * y, np.sin(x)


def vector_output(x):
    return np.sin(x) * x[0]


erf_fixed_later = np.vectorize(math.erf, otypes=[float])


def sum_fixed_later(x):
    return np.sum(erf_fixed_later(x) * x)


def test_registering_a_rule_again_replaces_it_in_derivatives_built_before():
    s2sad.defjvp(erf_fixed_later, erf_jvp_wrong, params="x")
    s2sad.jvp(sum_fixed_later, (XE,), (XE,))
    s2sad.defjvp(erf_fixed_later, erf_jvp_right, params="x")
    check_grads(sum_fixed_later, [XE], modes=("fwd",))


@pytest.mark.parametrize(("fun", "args", "order"), [(pair_of_outputs, (0.3, 0.7), 2),
                                                    (vector_output, (np.array([0.3, 0.5]),), 3)],
                         ids=["tuple-output", "order-3"])
def test_higher_order_checks_of_tuple_outputs(fun, args, order):
    check_grads(fun, args, order=order)


def test_float32_arguments_with_a_loose_tolerance():
    check_grads(vector_output, [np.array([0.3, 0.5], dtype=np.float32)], rtol=1e-2, atol=1e-3, eps=1e-3)


def test_float32_forward_mode_with_a_loose_tolerance():
    check_grads(vector_output, [np.array([0.3, 0.5], dtype=np.float32)], modes=("fwd",), rtol=1e-2, atol=1e-3,
                eps=1e-3)
