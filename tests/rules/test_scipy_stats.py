"""Spec table for scipy.stats (scipy is a test dependency; s2sad itself runs without it).

A distribution's parameters share one drawn domain per spec, so the constants (`extra`) are
chosen to keep each point inside the support: gamma needs x > loc, beta 0 < (x − loc)/scale < 1.
"""

import numpy as np
import pytest
from scipy import stats

import s2sad
from s2sad.errors import MissingRule, UnsupportedSyntax
from s2sad.rules.registry import lookup
from s2sad.rules.scipy_stats import covariance_adjoint, covariance_matrix
from s2sad.testing import check_grads, check_rule, make_function
from tests.rules.family import test_pipeline, test_rule, test_taylor  # noqa: F401
from tests.rules.specs import Case, Spec
from tests.rules.test_elementwise import call_source, check_second_order

POSITIVE = (0.5, 2.0)
UNIT = (0.1, 0.9)
TAILS = ("cdf", "logcdf", "sf", "logsf")
DENSITIES = ("logpdf", "pdf")


def _methods(dist, names):
    return [getattr(dist, name) for name in names]


TABLE = [
    *[Spec(op, ("x", "loc", "scale"), domain=POSITIVE) for op in _methods(stats.norm, DENSITIES + TAILS)],
    *[Spec(op, ("x", "df", "loc", "scale"), domain=POSITIVE) for op in _methods(stats.t, DENSITIES)],
    *[Spec(op, ("x", "loc", "scale"), extra=(3.5,), domain=POSITIVE) for op in _methods(stats.t, TAILS)],
    *[Spec(op, ("x", "a", "scale"), extra=(-0.5,), domain=POSITIVE) for op in _methods(stats.gamma, DENSITIES)],
    *[Spec(op, ("loc",), extra=(3.0, 1.5), domain=POSITIVE, name=f"gamma.{op.__name__} in loc")
      for op in _methods(stats.gamma, DENSITIES)],
    *[Spec(op, ("x",), extra=(1.5,), domain=POSITIVE) for op in _methods(stats.gamma, TAILS)],
    *[Spec(op, ("loc", "scale"), extra=(3.0, 1.5), domain=POSITIVE, name=f"gamma.{op.__name__} in loc, scale")
      for op in _methods(stats.gamma, TAILS)],
    *[Spec(op, ("x", "a", "b"), domain=UNIT) for op in _methods(stats.beta, DENSITIES)],
    *[Spec(op, ("x",), extra=(1.5, 2.5), domain=UNIT) for op in _methods(stats.beta, TAILS)],
    *[Spec(op, ("loc", "scale"), extra=(2.5, 1.5, 2.5), domain=(1.5, 2.0), name=f"beta.{op.__name__} in loc, scale")
      for op in _methods(stats.beta, DENSITIES + TAILS)],
    *[Spec(op, ("mu",), extra=(3,), domain=POSITIVE) for op in _methods(stats.poisson, ("logpmf", "pmf") + TAILS)],
]
"""The specs drawn again by tests/rules/test_hypothesis.py (any point of one domain will do)."""

TABLE += [
    Spec(covariance_matrix, ("cov",), shapes=[((),), ((3,),), ((3, 3),)], extra=(np.zeros(3),)),
    Spec(covariance_adjoint, ("g",), shapes=[((3, 3),)], extra=(np.zeros(3),), name="covariance_adjoint of a vector"),
    Spec(covariance_adjoint, ("g",), shapes=[((3, 3),)], extra=(0.0,), name="covariance_adjoint of a scalar"),
    Spec(covariance_adjoint, ("g",), shapes=[((3, 3),)], extra=(np.zeros((3, 3)),), name="covariance_adjoint"),
]

MVN_SHAPES = [((3,), (3,), (3, 3)), ((4, 3), (3,), (3, 3)), ((2,), (2,), (2, 2)), ((4, 3), (3,), (3,)),
              ((3,), (3,), ())]
SPECS = [*TABLE, Spec(stats.multivariate_normal.logpdf, ("x", "mean", "cov"), shapes=MVN_SHAPES)]


def _values(case: Case, seed: int = 0) -> dict:
    """The case's point; a `cov` made symmetric positive definite (positive as a scalar or a
    diagonal)."""
    values = case.values(seed)
    if "cov" in values and case.spec.op is not covariance_matrix:
        a = values["cov"]
        values["cov"] = a @ a.T + np.eye(len(a)) if np.ndim(a) == 2 else np.abs(a) + 0.5
    return values


def check_stats_rule(case: Case) -> None:
    spec = case.spec
    values = _values(case)
    constants = dict(zip([n for n in _signature(spec) if n not in spec.params], spec.extra))
    check_rule(spec.op, values, constants, rtol=spec.rtol, atol=spec.atol)


def _signature(spec: Spec) -> list[str]:
    return list(lookup(spec.op).signature.parameters)


def check_stats_pipeline(case: Case) -> None:
    spec = case.spec
    call, namespace = call_source(spec)
    fun = make_function(f"def f({', '.join(spec.params)}):\n    return {call}\n", namespace)
    values = _values(case)
    check_grads(fun, [values[p] for p in spec.params], rtol=spec.rtol, atol=spec.atol)


CHECK_RULE = check_stats_rule
CHECK_PIPELINE = check_stats_pipeline


@pytest.mark.parametrize("spec", [s for s in TABLE if s.shapes is None], ids=Spec.label)
def test_second_order(spec):
    check_second_order(spec)


def test_second_order_of_multivariate_normal():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((3, 3))
    cov = a @ a.T + np.eye(3)
    x, mean = rng.standard_normal((4, 3)), rng.standard_normal(3)

    def f(x, mean, cov):
        return np.sum(stats.multivariate_normal.logpdf(x, mean, cov))

    check_grads(f, [x, mean, cov], order=2, rtol=1e-5, atol=1e-6)
    check_grads(f, [x, mean, np.array([0.5, 1.0, 2.0])], order=2, rtol=1e-5, atol=1e-6)
    check_grads(f, [x, mean, 1.5], order=2, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- closed forms


def test_norm_cdf_gradient_is_the_pdf():
    x = np.array([-1.5, 0.2, 2.0])
    fun = make_function("def f(x):\n    return np.sum(stats.norm.cdf(x, 0.5, 2.0))\n", {"stats": stats})
    np.testing.assert_allclose(s2sad.grad(fun)(x), stats.norm.pdf(x, 0.5, 2.0), rtol=1e-12)


def test_norm_logpdf_score_in_loc_and_scale():
    x = np.array([-1.5, 0.2, 2.0])
    fun = make_function("def f(m, s):\n    return np.sum(stats.norm.logpdf(x, m, s))\n", {"stats": stats, "x": x})
    dm, ds = s2sad.grad(fun, argnums=(0, 1))(0.5, 2.0)
    z = (x - 0.5) / 2.0
    np.testing.assert_allclose(dm, np.sum(z / 2.0), rtol=1e-12)
    np.testing.assert_allclose(ds, np.sum((z**2 - 1) / 2.0), rtol=1e-12)


def test_poisson_cdf_derivative_telescopes():
    fun = make_function("def f(mu):\n    return stats.poisson.cdf(4, mu)\n", {"stats": stats})
    np.testing.assert_allclose(s2sad.grad(fun)(2.5), -stats.poisson.pmf(4, 2.5), rtol=1e-12)


def test_poisson_logpmf_second_derivative():
    fun = make_function("def f(mu):\n    return stats.poisson.logpmf(3, mu)\n", {"stats": stats})
    np.testing.assert_allclose(s2sad.hessian(fun)(1.7), -3 / 1.7**2, rtol=1e-12)


# ---------------------------------------------------------------- refusals at the user's line


def _refusal(source: str, *args) -> MissingRule:
    fun = make_function(source, {"stats": stats})
    with pytest.raises(MissingRule) as info:
        s2sad.grad(fun)(*args)
    return info.value


def test_cdf_in_a_shape_parameter_is_refused_naming_it():
    err = _refusal("def f(df):\n    return stats.t.cdf(0.3, df)\n", 3.0)
    assert "'df'" in str(err) and "scipy_stats.t.cdf" in str(err)
    assert "return stats.t.cdf(0.3, df)" in str(err)


def test_a_library_function_without_rule_is_refused_not_read():
    err = _refusal("def f(x):\n    return stats.norm.ppf(x)\n", 0.3)
    assert "stats.norm.ppf" in str(err) and "return stats.norm.ppf(x)" in str(err)


def test_a_library_python_function_without_rule_is_refused_not_read():
    from scipy import stats as library

    err = _refusal("def f(x):\n    return stats.zscore(x)[0]\n", np.array([0.3, 1.0, 2.0]))
    assert "stats.zscore" in str(err) and library is stats


def test_a_frozen_distribution_passed_in_is_refused_with_the_fix():
    fun = make_function("def f(x, d):\n    return d.logpdf(x)\n")
    with pytest.raises(MissingRule) as info:
        s2sad.grad(fun)(0.3, stats.norm(0.0, 2.0))
    err = str(info.value)
    assert ".logpdf" in err and "return d.logpdf(x)" in err and ":2:" in err
    assert "scipy.stats.norm.logpdf(x, loc, scale)" in err and "made inside the function" in err


def test_a_frozen_distribution_used_otherwise_is_refused_naming_it():
    """`d.mean()` reads the frozen object itself, so it is built, and freezing an active
    parameter has no derivative."""
    fun = make_function("def f(mu):\n    d = stats.norm(mu, 2.0)\n    return d.logpdf(0.3) + d.mean()\n",
                        {"stats": stats})
    for call in (lambda: s2sad.jvp(fun, (0.3,), (1.0,)), lambda: s2sad.grad(fun)(0.3)):
        with pytest.raises(MissingRule) as info:  # both modes name the freezing
            call()
        assert "stats.norm(...) freezes parameters" in str(info.value) and "d = stats.norm(mu, 2.0)" in str(info.value)
        assert "call its methods only" in str(info.value)


def test_a_frozen_method_without_a_rule_is_refused_at_its_line():
    fun = make_function("def f(mu):\n    d = stats.norm(mu, 2.0)\n    return d.logpmf(0.3)\n", {"stats": stats})
    with pytest.raises(UnsupportedSyntax, match="logpmf of a frozen scipy.stats.norm") as info:
        s2sad.grad(fun)(0.3)
    assert info.value.where.line == 3 and "cdf" in info.value.hint


# ---------------------------------------------------------------- frozen distributions

FROZEN = [
    ("norm", (0.4, 1.3), DENSITIES + TAILS, 0.7),
    ("t", (4.5, 0.2, 1.1), DENSITIES + TAILS, 0.7),
    ("gamma", (2.5, -0.3, 1.2), DENSITIES + TAILS, 1.4),
    ("beta", (2.5, 1.5, -0.1, 1.4), DENSITIES + TAILS, 0.6),
    ("poisson", (2.5,), ("logpmf", "pmf") + TAILS, 3.0),
]
"""Each distribution with parameters, the methods with a rule and a point of the support."""


@pytest.mark.parametrize("name, params, methods, x", FROZEN, ids=[f[0] for f in FROZEN])
def test_frozen_in_place_is_the_distributions_call(name, params, methods, x):
    """`stats.norm(*p).logpdf(x)` differentiates like `stats.norm.logpdf(x, *p)`, in x and in
    each parameter (cdf-like methods of t, gamma and beta only in x, loc and scale)."""
    for method in methods:
        tail_of_a_shape = name in ("t", "gamma", "beta") and method in TAILS  # the shape has no rule there
        for i in range(len(params) - 2, len(params)) if tail_of_a_shape else range(len(params)):
            args = ", ".join("p" if j == i else repr(v) for j, v in enumerate(params))
            frozen = make_function(f"def f(p):\n    return stats.{name}({args}).{method}({x})\n", {"stats": stats})
            plain = make_function(f"def f(p):\n    return stats.{name}.{method}({x}, {args})\n", {"stats": stats})
            assert frozen(params[i]) == pytest.approx(plain(params[i]), rel=1e-12)
            assert s2sad.grad(frozen)(params[i]) == pytest.approx(s2sad.grad(plain)(params[i]), rel=1e-12)
            check_grads(frozen, [params[i]], order=2)
        if name != "poisson":
            in_x = make_function(f"def f(x):\n    return stats.{name}{params}.{method}(x)\n", {"stats": stats})
            check_grads(in_x, [x], order=2)


def test_a_local_frozen_distribution_keeps_its_parameters():
    """`d = norm(mu, s)` copies the parameters: rebinding `mu` afterwards does not change `d`,
    as in Python; several methods of one `d`, and keyword parameters."""
    source = ("def f(mu, s, x):\n    d = stats.norm(mu, s)\n    e = stats.gamma(2.0, loc=-mu, scale=s)\n"
              "    mu = mu * 3.0\n    return np.sum(d.logpdf(x) + d.logcdf(x) + e.logsf(x)) + mu\n")
    fun = make_function(source, {"stats": stats})
    x = np.array([0.3, 1.2, 2.0])
    want = (np.sum(stats.norm.logpdf(x, 0.4, 1.3) + stats.norm.logcdf(x, 0.4, 1.3)
                   + stats.gamma.logsf(x, 2.0, loc=-0.4, scale=1.3)) + 1.2)
    assert s2sad.value_and_grad(fun)(0.4, 1.3, x)[0] == pytest.approx(want, rel=1e-12)
    check_grads(fun, [0.4, 1.3, x], order=2)
    dmu = s2sad.grad(fun)(0.4, 1.3, x)
    z = (x - 0.4) / 1.3
    closed = np.sum(z / 1.3 + stats.norm.pdf(z) / stats.norm.cdf(z) * -1 / 1.3
                    - stats.gamma.pdf(x + 0.4, 2.0, scale=1.3) / stats.gamma.sf(x + 0.4, 2.0, scale=1.3)) + 3.0
    assert dmu == pytest.approx(closed, rel=1e-10)


FROZEN_GAMMA = stats.gamma(2.0, scale=1.5)
FROZEN_MVN = stats.multivariate_normal(np.array([0.2, -0.1]), np.array([[1.0, 0.3], [0.3, 0.8]]))


def test_a_distribution_frozen_outside_reads_its_parameters():
    """Globals and closures frozen outside the function: their parameters are constants (an
    array too), the derivative flows through x."""
    prior = stats.t(3.0, 0.5)

    def f(x):
        return np.sum(FROZEN_GAMMA.logpdf(x ** 2 + 0.5)) + FROZEN_MVN.logpdf(x[:2]) + np.sum(prior.cdf(x))

    x = np.array([0.3, 1.1, 0.8])
    assert s2sad.value_and_grad(f)(x)[0] == pytest.approx(f(x), rel=1e-12)
    check_grads(f, [x], order=2)
    dx = s2sad.grad(f)(x)[2]
    closed = (1.0 / (0.8 ** 2 + 0.5) - 1 / 1.5) * 2 * 0.8 + stats.t.pdf(0.8, 3.0, 0.5)
    assert dx == pytest.approx(closed, rel=1e-10)


def test_rebinding_a_global_frozen_distribution_rebuilds_the_derivative():
    namespace = {"stats": stats, "D": stats.gamma(2.0)}
    fun = make_function("def f(x):\n    return np.sum(D.logpdf(x))\n", namespace)
    grad, x = s2sad.grad(fun), np.array([0.5, 1.5])
    np.testing.assert_allclose(grad(x), (2.0 - 1) / x - 1, rtol=1e-12)
    fun.__globals__["D"] = stats.gamma(3.0, scale=2.0)
    np.testing.assert_allclose(grad(x), ((3.0 - 1) / (x / 2.0) - 1) / 2.0, rtol=1e-12)


def test_frozen_multivariate_normal_made_in_place():
    def f(mean, x):
        return stats.multivariate_normal(mean, np.eye(2) * 2.0).logpdf(x)

    mean, x = np.array([0.1, 0.4]), np.array([[0.5, -0.2], [1.0, 0.3]])
    check_grads(f, [mean, x], order=2)
    np.testing.assert_allclose(s2sad.grad(lambda m: np.sum(f(m, x)))(mean), np.sum(x - mean, axis=0) / 2.0,
                               rtol=1e-12)


def test_poisson_k_carries_no_derivative():
    fun = make_function("def f(k, mu):\n    return stats.poisson.logpmf(k, mu)\n", {"stats": stats})
    assert s2sad.grad(fun, argnums=1)(3, 1.5) == pytest.approx(3 / 1.5 - 1, rel=1e-12)


# ---------------------------------------------------------------- a realistic program

ELBO_DRAWS = np.random.default_rng(7).standard_normal(64)
DATA = np.array([0.8, 1.3, 0.4, 1.9, 1.1])


def elbo(mu, log_sigma):
    """The evidence lower bound of a Gaussian approximation q = N(mu, sigma) to the posterior of
    the mean of DATA under a N(0, 2) prior and a N(theta, 1) likelihood, by reparameterised
    draws theta = mu + sigma·eps from a fixed seed."""
    sigma = np.exp(log_sigma)
    theta = mu + sigma * ELBO_DRAWS
    prior = stats.norm.logpdf(theta, 0.0, 2.0)
    likelihood = np.sum(stats.norm.logpdf(DATA[:, None], theta, 1.0), axis=0)
    entropy = stats.norm.logpdf(theta, mu, sigma)
    return np.mean(prior + likelihood - entropy)


def test_elbo_gradient_in_both_modes():
    check_grads(elbo, [0.4, -0.7], order=2, rtol=1e-5, atol=1e-7)
    value, (dmu, dlog_sigma) = s2sad.value_and_grad(elbo, argnums=(0, 1))(0.4, -0.7)
    assert value == pytest.approx(elbo(0.4, -0.7), rel=1e-12)
    eps = 1e-6
    assert dmu == pytest.approx((elbo(0.4 + eps, -0.7) - elbo(0.4 - eps, -0.7)) / (2 * eps), rel=1e-6)
    assert dlog_sigma == pytest.approx((elbo(0.4, -0.7 + eps) - elbo(0.4, -0.7 - eps)) / (2 * eps), rel=1e-6)


def test_gaussian_mixture_log_likelihood_with_jacobians():
    """A per-point log likelihood of a two-component mixture in its means and scales: jacrev and
    jacfwd agree and match finite differences."""

    def loglik(params):
        means, scales = params[:2], np.exp(params[2:])
        dens = 0.3 * stats.norm.pdf(DATA, means[0], scales[0]) + 0.7 * stats.norm.pdf(DATA, means[1], scales[1])
        return np.log(dens)

    p = np.array([0.5, 1.5, -0.2, 0.1])
    check_grads(loglik, [p], modes=("fwd", "rev"))
    np.testing.assert_allclose(s2sad.jacrev(loglik)(p), s2sad.jacfwd(loglik)(p), rtol=1e-10)


# ---------------------------------------------------------------- finding the rule of a bound method


def test_a_distribution_method_is_found_at_every_attribute_access():
    assert stats.norm.logpdf is not stats.norm.logpdf
    assert lookup(stats.norm.logpdf) is lookup(stats.norm.logpdf) is not None
    assert lookup(stats.norm.logpdf) is not lookup(stats.t.logpdf)  # one function, two instances
    assert lookup(stats.norm.ppf) is None


class Scaler:
    def __init__(self, factor):
        self.factor = factor

    def apply(self, x):
        return self.factor * x


def test_a_rule_registered_for_a_class_serves_each_instance():
    import types

    from s2sad.rules.registry import RULES, define, method_key

    @define(types.MethodType(Scaler.apply, Scaler), "x", path="tests.rules.test_scipy_stats.Scaler.apply")
    class apply:
        def dx(dx):
            return 3.0 * dx

        def bx(g, x):
            return 3.0 * g

    try:
        assert lookup(Scaler(3.0).apply) is lookup(Scaler(5.0).apply) is not None
        method = types.MethodType(np.random.Generator.random, np.random.Generator)
        define(method, "size=None")(type("random", (), {}))
        assert lookup(np.random.default_rng(0).random) is not None
    finally:
        RULES.pop(method_key(Scaler, Scaler.apply), None)
        RULES.pop(method_key(np.random.Generator, np.random.Generator.random), None)


def test_multivariate_normal_with_the_default_cov_is_the_standard_score():
    x = np.array([[0.3, -1.0, 2.0], [1.0, 0.5, -0.2]])
    source = "def f(x):\n    return np.sum(stats.multivariate_normal.logpdf(x, np.zeros(3)))\n"
    fun = make_function(source, {"stats": stats})
    np.testing.assert_allclose(s2sad.grad(fun)(x), -x, rtol=1e-12)


# ---------------------------------------------------------------- small models, every mode

Y = np.array([0.8, 1.3, 0.4, 1.9, 1.1, 2.6])
X = np.array([0.1, 0.5, -0.3, 1.2, 0.4, 1.6])
COUNTS = np.array([0.0, 2.0, 1.0, 4.0, 2.0, 6.0])
UNIT_Y = np.array([0.2, 0.45, 0.3, 0.7, 0.55, 0.85])
LABELS = np.array([0.0, 1.0, 0.0, 1.0, 1.0, 1.0])


def student_t_regression(theta):
    """Robust regression: residuals t-distributed, in slope, log scale and log df."""
    return stats.t.logpdf(Y, np.exp(theta[2]), theta[0] * X, np.exp(theta[1]))


def gamma_survival(theta):
    """Gamma lifetimes, the last two censored (their log survival), in log a and log scale."""
    a, scale = np.exp(theta[0]), np.exp(theta[1])
    observed = stats.gamma.logpdf(Y[:4], a, 0.0, scale)
    censored = stats.gamma.logsf(Y[4:], 2.0, 0.0, scale) + stats.gamma.logcdf(Y[4:], 2.0, -0.1, scale)
    return np.concatenate([observed, censored])


def beta_proportions(theta):
    """Proportions under Beta(a, b): logpdf, pdf, cdf and sf, in log a and log b."""
    a, b = np.exp(theta[0]), np.exp(theta[1])
    return (stats.beta.logpdf(UNIT_Y, a, b) + np.log(stats.beta.pdf(UNIT_Y, a, b))
            + stats.beta.cdf(UNIT_Y, 2.0, 3.0, -0.1 * theta[0], 1.2)
            + stats.beta.sf(UNIT_Y, 2.0, 3.0, 0.0, 1.1 + theta[1]))


def poisson_regression(theta):
    """Counts with rate exp(c + s·x): logpmf, pmf, cdf and sf of the Poisson, in c and s."""
    mu = np.exp(theta[0] + theta[1] * X)
    return (stats.poisson.logpmf(COUNTS, mu) + stats.poisson.pmf(COUNTS, mu) + stats.poisson.cdf(COUNTS, mu)
            + stats.poisson.logcdf(COUNTS, mu) - stats.poisson.sf(COUNTS, mu) + stats.poisson.logsf(COUNTS, mu))


def probit(theta):
    """Probit classification: log Φ(z) for the ones, log(1 − Φ(z)) for the zeros, and t and norm
    tails, in intercept and slope."""
    z = theta[0] + theta[1] * X
    return (LABELS * stats.norm.logcdf(z) + (1 - LABELS) * stats.norm.logsf(z) + stats.norm.cdf(z, 0.1, 2.0)
            - stats.norm.sf(z) + stats.t.cdf(z, 4.0) + stats.t.logcdf(z, 4.0, 0.5) + stats.t.sf(z, 3.0)
            + stats.t.logsf(z, 3.0, 0.0, 1.5) + stats.norm.pdf(z) + stats.t.pdf(z, 5.0) + stats.gamma.cdf(z + 2.0, 1.5)
            + stats.gamma.pdf(z + 2.0, 1.5) + stats.gamma.sf(z + 2.0, 1.5)
            + stats.beta.logcdf(0.5, 2.0, 2.0, 0.0, 1.5 + z) + stats.beta.logsf(0.5, 2.0, 2.0, 0.0, 1.5 + z))


def gaussian_process(theta):
    """Marginal log likelihood of a squared-exponential Gaussian process, in log length scale,
    log noise and the mean."""
    length, noise = np.exp(theta[0]), np.exp(theta[1])
    cov = np.exp(-0.5 * (X[:, None] - X[None, :]) ** 2 / length**2) + noise * np.eye(6)
    return np.reshape(stats.multivariate_normal.logpdf(Y, theta[2] * np.ones(6), cov), (1,))


MODELS = [(student_t_regression, [0.9, -0.5, 1.2]), (gamma_survival, [0.4, -0.2]), (beta_proportions, [0.5, 0.8]),
          (poisson_regression, [0.2, 0.6]), (probit, [0.1, 0.7]), (gaussian_process, [-0.2, -1.0, 1.1])]


@pytest.mark.parametrize("model, theta", MODELS, ids=lambda v: getattr(v, "__name__", ""))
def test_models_in_every_mode(model, theta):
    """jvp and vjp (check_grads, to second order), jacrev against jacfwd, and grad,
    value_and_grad and hessian of the total."""
    theta = np.array(theta)
    check_grads(model, [theta], order=2, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(s2sad.jacrev(model)(theta), s2sad.jacfwd(model)(theta), rtol=1e-9, atol=1e-12)
    total = make_function("def total(theta):\n    return np.sum(model(theta))\n", {"model": model})
    value, grad = s2sad.value_and_grad(total)(theta)
    assert value == pytest.approx(np.sum(model(theta)), rel=1e-12)
    np.testing.assert_allclose(grad, s2sad.grad(total)(theta), rtol=1e-12)
    hess = s2sad.hessian(total)(theta)
    np.testing.assert_allclose(hess, np.transpose(hess), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(hess @ theta, s2sad.jvp(s2sad.grad(total), (theta,), (theta,))[1], rtol=1e-8)
