"""Rules users write: `custom_jvp`, `custom_vjp` (with `nondiff_argnums`), `defjvp`/`defvjp` for a
library callable, `stop_gradient`; at first and second order, in both modes; and the errors for a
rule that is missing.

A custom_jvp is used by forward mode and transposed for reverse mode; a custom_vjp is used by
reverse mode while forward mode differentiates the function's own source. Each case is checked
against closed forms, and `check_grads` (order 2) where the rule is the true derivative.
"""

import math

import numpy as np
import pytest
import scipy.special

import s2sad
from s2sad.rules.registry import RULES
from s2sad.testing import check_grads

# ---------------------------------------------------------------------------- custom_jvp


@s2sad.custom_jvp
def log1pexp(x):
    """log(1 + e^x) without overflow; its own derivative is wrong at 0 (kinks of maximum and abs)."""
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


@log1pexp.defjvp
def log1pexp_jvp(primals, tangents):
    (x,), (dx,) = primals, tangents
    return log1pexp(x), dx * 0.5 * (1.0 + np.tanh(0.5 * x))  # dx * sigmoid(x), finite everywhere


def softplus(x):
    return log1pexp(x)


def softplus_sum(x):
    return np.sum(log1pexp(x) * x)


def sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x)))


POINTS = [0.0, 1.3, -2.0, 800.0, -800.0]


@pytest.mark.parametrize("x", POINTS)
def test_custom_jvp_first_derivative_both_modes(x):
    assert s2sad.grad(softplus)(x) == pytest.approx(sigmoid(x), rel=1e-14, abs=1e-300)
    assert s2sad.jvp(softplus, (x,), (1.0,))[1] == pytest.approx(sigmoid(x), rel=1e-14, abs=1e-300)


@pytest.mark.parametrize("x", POINTS)
def test_custom_jvp_second_derivative_every_composition(x):
    expected = sigmoid(x) * (1.0 - sigmoid(x))
    grad = s2sad.grad(softplus)
    assert s2sad.grad(grad)(x) == pytest.approx(expected, rel=1e-12, abs=1e-300)
    assert s2sad.jvp(grad, (x,), (1.0,))[1] == pytest.approx(expected, rel=1e-12, abs=1e-300)
    assert s2sad.hvp(softplus)(x, 1.0) == pytest.approx(expected, rel=1e-12, abs=1e-300)


def test_the_custom_rule_replaces_what_the_source_would_give():
    plain = s2sad.grad(s2sad.grad(log1pexp.fun))(0.0)  # the kinks of maximum and abs at 0
    assert plain == 0.0
    assert s2sad.grad(s2sad.grad(softplus))(0.0) == 0.25
    third = s2sad.grad(s2sad.grad(s2sad.grad(softplus)))(1.0)
    s = sigmoid(1.0)
    assert third == pytest.approx(s * (1 - s) * (1 - 2 * s), rel=1e-12)


def test_custom_jvp_on_arrays_with_check_grads():
    x = np.array([-2.0, 0.5, 3.0])
    check_grads(softplus_sum, [x], order=2)
    hessian = s2sad.hessian(softplus_sum)(x)
    s = sigmoid(x)
    np.testing.assert_allclose(hessian, np.diag(2 * s + x * s * (1 - s)), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(s2sad.jacrev(s2sad.grad(softplus_sum))(x), hessian, rtol=1e-12, atol=1e-15)


@s2sad.custom_jvp(nondiff_argnums=(0,))
def integer_power(n, x):
    return x ** n


@integer_power.defjvp
def integer_power_jvp(n, primals, tangents):
    (x,), (dx,) = primals, tangents
    return x ** n, n * x ** (n - 1) * dx


def two_powers(x):
    return integer_power(3, x) + integer_power(2, x * 2.0)


def powers_by_keyword(x):
    return integer_power(n=3, x=x)


def test_custom_jvp_with_nondiff_argnums_to_third_order():
    x = 2.0  # 8 + 16 = x ** 3 + 4 x ** 2
    assert s2sad.jvp(two_powers, (x,), (1.0,)) == (24.0, 28.0)
    assert s2sad.grad(two_powers)(x) == 28.0
    assert s2sad.grad(s2sad.grad(two_powers))(x) == 20.0
    assert s2sad.grad(s2sad.grad(s2sad.grad(two_powers)))(x) == 6.0
    assert s2sad.grad(powers_by_keyword)(x) == 12.0
    assert s2sad.jvp(powers_by_keyword, (x,), (1.0,)) == (8.0, 12.0)
    check_grads(two_powers, [1.3], order=2)


# ---------------------------------------------------------------------------- custom_vjp


@s2sad.custom_vjp(nondiff_argnums=(1,))
def clip_gradient(x, bound):
    """The identity; in reverse mode, the cotangent is clipped to [-bound, bound]."""
    return x


def clip_gradient_fwd(x, bound):
    return x, None


def clip_gradient_bwd(bound, residuals, g):
    return (np.clip(g, -bound, bound),)


clip_gradient.defvjp(clip_gradient_fwd, clip_gradient_bwd)


def clipped_loss(x):
    return np.sum(clip_gradient(x, 1.0) ** 2)


def test_custom_vjp_clips_in_reverse_mode_only():
    x = np.array([0.1, 2.0, -3.0])
    np.testing.assert_array_equal(s2sad.grad(clipped_loss)(x), [0.2, 1.0, -1.0])
    out, tangent = s2sad.jvp(clipped_loss, (x,), (np.ones(3),))  # forward mode: the source, the identity
    assert out == pytest.approx(13.01) and tangent == pytest.approx(2 * np.sum(x))


def test_custom_vjp_clipping_at_second_order():
    x = np.array([0.1, 2.0, -3.0])  # the gradient is clip(2 x, -1, 1): slope 2 inside, 0 outside
    expected = np.diag([2.0, 0.0, 0.0])
    np.testing.assert_array_equal(s2sad.hessian(clipped_loss)(x), expected)
    np.testing.assert_array_equal(s2sad.jacrev(s2sad.grad(clipped_loss))(x), expected)


@s2sad.custom_vjp
def norm_by_loop(x):
    """sqrt(sum x**2) by a loop over the elements; the rule is one line."""
    s = 0.0
    for i in range(x.shape[0]):
        s = s + x[i] * x[i]
    return np.sqrt(s)


def norm_by_loop_fwd(x):
    n = norm_by_loop(x)
    return n, (x, n)


def norm_by_loop_bwd(residuals, g):
    x, n = residuals
    return (g * x / n,)


norm_by_loop.defvjp(norm_by_loop_fwd, norm_by_loop_bwd)


def twice_norm(x):
    return 2.0 * norm_by_loop(x) + x[0]


def test_custom_vjp_with_a_rule_simpler_than_its_code():
    x = np.array([0.1, 2.0, -3.0])
    n = np.linalg.norm(x)
    gradient = 2 * x / n + np.array([1.0, 0.0, 0.0])
    np.testing.assert_allclose(s2sad.grad(twice_norm)(x), gradient, rtol=1e-14)
    np.testing.assert_allclose(s2sad.jvp(twice_norm, (x,), (np.ones(3),))[1], np.sum(gradient), rtol=1e-14)
    hessian = 2 * (np.eye(3) / n - np.outer(x, x) / n ** 3)
    np.testing.assert_allclose(s2sad.hessian(twice_norm)(x), hessian, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(s2sad.jacrev(s2sad.grad(twice_norm))(x), hessian, rtol=1e-12, atol=1e-15)
    check_grads(twice_norm, [x], order=2)


@s2sad.custom_vjp
def scaled_product(a, b):
    return a * b


def scaled_product_fwd(a, b):
    return a * b, (a, b)


def scaled_product_bwd(residuals, g):
    a, b = residuals
    return g * b, g * a


scaled_product.defvjp(scaled_product_fwd, scaled_product_bwd)


def product_then_weight(a, b):
    return np.sum(scaled_product(a, b) * a)


def test_custom_vjp_of_two_arguments_one_or_both_active():
    a, b = np.array([1.0, 2.0]), np.array([3.0, -1.0])
    ga, gb = s2sad.grad(product_then_weight, argnums=(0, 1))(a, b)
    np.testing.assert_array_equal(ga, 2 * a * b)
    np.testing.assert_array_equal(gb, a * a)
    np.testing.assert_array_equal(s2sad.grad(product_then_weight, argnums=1)(a, b), a * a)
    check_grads(product_then_weight, [a, b], order=2)


# ---------------------------------------------------------------------------- defjvp / defvjp


def normal_pdf_jvp(t, out, x):
    return t * np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi)


def normal_pdf_vjp(g, out, x):
    return g * np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi)


@pytest.fixture
def no_ndtr_rule(fresh_cache):
    """scipy.special.ndtr without a rule during the test, as before it afterwards."""
    saved = RULES.pop(id(scipy.special.ndtr), None)
    yield
    RULES.pop(id(scipy.special.ndtr), None)
    if saved is not None:
        RULES[id(scipy.special.ndtr)] = saved


def ndtr_weighted(x):
    return np.sum(scipy.special.ndtr(x) * x)


def test_ndtr_has_no_builtin_rule(no_ndtr_rule):
    with pytest.raises(s2sad.MissingRule, match="ndtr"):
        s2sad.grad(ndtr_weighted)(np.array([0.3]))


def test_defvjp_alone_gives_reverse_mode_and_a_missing_rule_in_forward_mode(no_ndtr_rule):
    s2sad.defvjp(scipy.special.ndtr, normal_pdf_vjp, params="x")
    x = np.array([0.3, -1.0, 2.0])
    pdf = np.exp(-x * x / 2) / np.sqrt(2 * np.pi)
    np.testing.assert_allclose(s2sad.grad(ndtr_weighted)(x), scipy.special.ndtr(x) + x * pdf, rtol=1e-14)
    with pytest.raises(s2sad.MissingRule, match="ndtr has no forward-mode rule") as err:
        s2sad.jvp(ndtr_weighted, (x,), (x,))
    assert "defjvp" in err.value.hint


def test_defjvp_and_defvjp_at_first_and_second_order(no_ndtr_rule):
    s2sad.defjvp(scipy.special.ndtr, normal_pdf_jvp, params="x")
    s2sad.defvjp(scipy.special.ndtr, normal_pdf_vjp, params="x")
    x = np.array([0.3, -1.0, 2.0])
    check_grads(ndtr_weighted, [x], order=2)
    pdf = np.exp(-x * x / 2) / np.sqrt(2 * np.pi)
    hessian = np.diag(2 * pdf - x * x * pdf)
    np.testing.assert_allclose(s2sad.hessian(ndtr_weighted)(x), hessian, rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(s2sad.jacrev(s2sad.grad(ndtr_weighted))(x), hessian, rtol=1e-13, atol=1e-16)


def relative_entropy_scalar(p, q):
    return p * math.log(p / q) - p + q


relative_entropy = np.vectorize(relative_entropy_scalar, otypes=[float])
"""A callable of two arguments without a rule, whose source s2sad does not read."""


def entropy_sum(p, q):
    return np.sum(relative_entropy(p, q))


def entropy_jvp_p(t, out, p, q):
    return t * np.log(p / q)


def entropy_jvp_q(t, out, p, q):
    return t * (1.0 - p / q)


s2sad.defjvp(relative_entropy, entropy_jvp_p, entropy_jvp_q, params="p, q")


def test_defjvp_alone_gives_both_modes():
    """Reverse mode transposes the tangent rules (they are linear in the tangent)."""
    p, q = np.array([0.2, 0.5, 0.3]), np.array([0.3, 0.3, 0.4])
    dp, dq = np.array([1.0, -2.0, 0.5]), np.array([0.3, 0.1, -1.0])
    tangent = s2sad.jvp(entropy_sum, (p, q), (dp, dq))[1]
    assert tangent == pytest.approx(np.sum(dp * np.log(p / q) + dq * (1 - p / q)), rel=1e-14)
    check_grads(entropy_sum, [p, q], order=2)
    gp, gq = s2sad.grad(entropy_sum, argnums=(0, 1))(p, q)
    np.testing.assert_allclose(gp, np.log(p / q), rtol=1e-14)
    np.testing.assert_allclose(gq, 1.0 - p / q, rtol=1e-14)


def offset(x, shift):
    return x + shift


def offset_by_square(x):
    return np.sum(offset(x, x * x))


@pytest.fixture
def no_offset_rule():
    yield
    RULES.pop(id(offset), None)


@pytest.mark.parametrize("define", ["defvjp", "defjvp"])
def test_a_user_rule_without_a_term_for_an_active_argument_is_refused_whatever_its_name(no_offset_rule, define):
    """`shift` names a setting of np.roll, but a user's rule declares no settings: an active value
    there is refused in both modes (it was silently dropped by reverse mode)."""
    getattr(s2sad, define)(offset, lambda g, ans, x, shift: g, params="x, shift")
    x = np.array([1.0, 2.0])
    for run in (lambda: s2sad.grad(offset_by_square)(x), lambda: s2sad.jvp(offset_by_square, (x,), (x,)),
                lambda: s2sad.vjp(offset_by_square, x)):
        with pytest.raises(s2sad.MissingRule, match="offset"):
            run()


def test_a_user_rule_for_every_argument_is_used(no_offset_rule):
    s2sad.defvjp(offset, lambda g, ans, x, shift: g, lambda g, ans, x, shift: g)
    x = np.array([1.0, 2.0])
    np.testing.assert_allclose(s2sad.grad(offset_by_square)(x), 1.0 + 2.0 * x, rtol=1e-15)


# ---------------------------------------------------------------------------- stop_gradient


def half_stopped(x):
    return x * s2sad.stop_gradient(x) + np.sin(s2sad.stop_gradient(x * x))


def stopped_in_arrays(x):
    y = s2sad.stop_gradient(x)
    return np.sum((x - y) ** 2 + x * y)


def test_stop_gradient_both_modes_and_second_order():
    assert half_stopped(3.0) == 9.0 + math.sin(9.0)
    assert s2sad.grad(half_stopped)(3.0) == 3.0
    assert s2sad.jvp(half_stopped, (3.0,), (1.0,))[1] == 3.0
    assert s2sad.grad(s2sad.grad(half_stopped))(3.0) == 0.0
    x = np.array([1.0, 2.0])
    np.testing.assert_array_equal(s2sad.grad(stopped_in_arrays)(x), x)
    np.testing.assert_array_equal(s2sad.jvp(stopped_in_arrays, (x,), (np.ones(2),))[1], np.sum(x))
    np.testing.assert_array_equal(s2sad.hessian(stopped_in_arrays)(x), 2 * np.eye(2))


# ---------------------------------------------------------------------------- missing rules


@s2sad.custom_vjp
def vjp_never_defined(x):
    return x * 2.0


def calls_vjp_never_defined(x):
    return vjp_never_defined(x) + 1.0


@s2sad.custom_jvp
def jvp_never_defined(x):
    return x * 2.0


def calls_jvp_never_defined(x):
    return jvp_never_defined(x) + 1.0


def test_custom_vjp_without_defvjp_is_a_missing_rule_in_reverse_mode():
    with pytest.raises(s2sad.MissingRule, match="'vjp_never_defined' has no rule") as err:
        s2sad.grad(calls_vjp_never_defined)(1.0)
    assert "vjp_never_defined.defvjp(fwd, bwd)" in err.value.hint
    assert s2sad.jvp(calls_vjp_never_defined, (1.0,), (1.0,)) == (3.0, 2.0)  # forward mode reads the source


@pytest.mark.parametrize("transform", [lambda f: s2sad.grad(f)(1.0), lambda f: s2sad.jvp(f, (1.0,), (1.0,))],
                         ids=["reverse", "forward"])
def test_custom_jvp_without_defjvp_is_a_missing_rule_in_both_modes(transform):
    with pytest.raises(s2sad.MissingRule, match="'jvp_never_defined' has no rule") as err:
        transform(calls_jvp_never_defined)
    assert "@jvp_never_defined.defjvp" in err.value.hint


# ---------------------------------------------------------------------------- the decorated function itself


def test_grad_jvp_and_vjp_of_a_custom_jvp_function_itself_use_its_rule():
    assert s2sad.grad(log1pexp)(800.0) == 1.0
    assert s2sad.grad(s2sad.grad(log1pexp))(0.0) == 0.25  # the source would give 0
    assert s2sad.jvp(log1pexp, (0.0,), (2.0,)) == (math.log(2.0), 1.0)
    assert s2sad.vjp(log1pexp, 0.0)[1](2.0) == (1.0,)


def test_grad_of_a_custom_vjp_function_itself_uses_its_rule():
    x = np.array([0.1, 2.0, -3.0])
    np.testing.assert_allclose(s2sad.grad(norm_by_loop)(x), x / np.linalg.norm(x), rtol=1e-14)
    np.testing.assert_array_equal(s2sad.vjp(clip_gradient, x, 0.5)[1](np.array([1.0, -2.0, 0.3]))[0],
                                  [0.5, -0.5, 0.3])


@s2sad.checkpoint
def checkpointed_square(x):
    return np.sin(x) * x


def test_grad_of_a_checkpointed_function_itself():
    assert s2sad.grad(checkpointed_square)(0.5) == pytest.approx(math.sin(0.5) + 0.5 * math.cos(0.5), rel=1e-15)
    check_grads(checkpointed_square, [0.5], order=2)


# ---------------------------------------------------------------------------- known bugs


def test_missing_forward_rule_names_the_callable_as_the_user_wrote_it(no_ndtr_rule):
    s2sad.defvjp(scipy.special.ndtr, normal_pdf_vjp, params="x")
    with pytest.raises(s2sad.MissingRule) as err:
        s2sad.jvp(ndtr_weighted, (np.array([0.3]),), (np.ones(1),))
    assert "np.ndtr" not in str(err.value)


def redefined_rule_fwd(x):
    return x * x, x


def doubled_rule_bwd(x, g):
    return (2.0 * g * x,)


def tripled_rule_bwd(x, g):
    return (3.0 * g * x,)


def doubling_rule_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return x * x, 2.0 * x * t


def redefined_rule_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return x * x, 5.0 * x * t


def test_a_rule_defined_again_after_use_is_the_one_used():
    @s2sad.custom_vjp
    def square(x):
        return x * x

    def calls_square(x):
        return square(x) + x

    square.defvjp(redefined_rule_fwd, doubled_rule_bwd)
    dcalls = s2sad.grad(calls_square)
    assert dcalls(1.5) == pytest.approx(2 * 1.5 + 1)
    assert s2sad.vjp(calls_square, 1.5)[1](1.0) == (pytest.approx(2 * 1.5 + 1),)
    square.defvjp(redefined_rule_fwd, tripled_rule_bwd)
    assert dcalls(1.5) == pytest.approx(3 * 1.5 + 1)
    assert s2sad.vjp(calls_square, 1.5)[1](1.0) == (pytest.approx(3 * 1.5 + 1),)

    @s2sad.custom_jvp
    def cube(x):
        return x * x

    def calls_cube(x):
        return cube(x) + x

    cube.defjvp(doubling_rule_jvp)
    assert s2sad.jvp(calls_cube, (1.5,), (1.0,))[1] == pytest.approx(2 * 1.5 + 1)
    assert s2sad.grad(calls_cube)(1.5) == pytest.approx(2 * 1.5 + 1)
    cube.defjvp(redefined_rule_jvp)
    assert s2sad.jvp(calls_cube, (1.5,), (1.0,))[1] == pytest.approx(5 * 1.5 + 1)
    assert s2sad.grad(calls_cube)(1.5) == pytest.approx(5 * 1.5 + 1)
