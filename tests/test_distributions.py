"""A realistic program with frozen scipy.stats distributions: the variational objective (the
negative evidence lower bound) of a censored survival model, differentiated in every mode
against finite differences, the frozen program against the same program written with the
distributions' own calls, and the optimum found by scipy.optimize with s2sad's gradient.

The model: lifetimes ~ Gamma(shape 2, scale exp(w)), a log scale w with a N(0, 1.5) prior; the
last lifetimes are censored (only known to exceed the value: their log survival). The
approximation q(w) = N(mu, exp(log_sigma)) is frozen inside the objective, the prior and the
shape outside it; the expectation is over fixed reparameterised draws.
"""

import numpy as np
import pytest
import scipy.optimize
from scipy import stats

import s2sad
from s2sad.testing import check_grads

LIFETIMES = np.array([1.2, 0.7, 2.9, 1.8, 0.4, 2.2])
CENSORED = np.array([3.0, 2.5])
DRAWS = np.random.default_rng(11).standard_normal(32)
PRIOR = stats.norm(0.0, 1.5)


def negative_elbo(params):
    """−E_q[log p(data, w) − log q(w)], by the draws w = mu + sigma·eps."""
    mu, log_sigma = params[0], params[1]
    q = stats.norm(mu, np.exp(log_sigma))
    w = mu + np.exp(log_sigma) * DRAWS
    total = 0.0
    for i in range(len(DRAWS)):
        life = stats.gamma(2.0, scale=np.exp(w[i]))
        observed = np.sum(life.logpdf(LIFETIMES))
        censored = np.sum(life.logsf(CENSORED))
        total = total + observed + censored + PRIOR.logpdf(w[i]) - q.logpdf(w[i])
    return -total / len(DRAWS)


def negative_elbo_unfrozen(params):
    """The same objective with the distributions' own calls."""
    mu, log_sigma = params[0], params[1]
    w = mu + np.exp(log_sigma) * DRAWS
    total = 0.0
    for i in range(len(DRAWS)):
        scale = np.exp(w[i])
        observed = np.sum(stats.gamma.logpdf(LIFETIMES, 2.0, scale=scale))
        censored = np.sum(stats.gamma.logsf(CENSORED, 2.0, scale=scale))
        total = total + observed + censored + stats.norm.logpdf(w[i], 0.0, 1.5)
        total = total - stats.norm.logpdf(w[i], mu, np.exp(log_sigma))
    return -total / len(DRAWS)


def per_draw(params):
    """The objective's terms, one per draw (a vector for the Jacobians)."""
    mu, log_sigma = params[0], params[1]
    q = stats.norm(mu, np.exp(log_sigma))
    w = mu + np.exp(log_sigma) * DRAWS
    life = stats.gamma(2.0, scale=np.exp(w[:, None]))
    return (np.sum(life.logpdf(LIFETIMES), axis=1) + np.sum(life.logsf(CENSORED), axis=1)
            + PRIOR.logpdf(w) - q.logpdf(w))


PARAMS = np.array([0.3, -0.8])


def test_every_mode_against_finite_differences():
    check_grads(negative_elbo, [PARAMS], order=2)
    check_grads(per_draw, [PARAMS], order=2)
    value, grad = s2sad.value_and_grad(negative_elbo)(PARAMS)
    assert value == pytest.approx(negative_elbo(PARAMS), rel=1e-12)
    np.testing.assert_allclose(grad, s2sad.grad(negative_elbo)(PARAMS), rtol=1e-12)
    np.testing.assert_allclose(s2sad.jacrev(per_draw)(PARAMS), s2sad.jacfwd(per_draw)(PARAMS), rtol=1e-9, atol=1e-12)
    hessian = s2sad.hessian(negative_elbo)(PARAMS)
    eps, v = 1e-6, np.array([0.6, -0.8])
    grad_of = s2sad.grad(negative_elbo)
    numeric = (grad_of(PARAMS + eps * v) - grad_of(PARAMS - eps * v)) / (2 * eps)
    np.testing.assert_allclose(hessian @ v, numeric, rtol=1e-5, atol=1e-7)


def test_frozen_and_unfrozen_programs_agree():
    assert negative_elbo(PARAMS) == pytest.approx(negative_elbo_unfrozen(PARAMS), rel=1e-12)
    np.testing.assert_allclose(s2sad.grad(negative_elbo)(PARAMS), s2sad.grad(negative_elbo_unfrozen)(PARAMS),
                               rtol=1e-12)
    np.testing.assert_allclose(s2sad.hessian(negative_elbo)(PARAMS), s2sad.hessian(negative_elbo_unfrozen)(PARAMS),
                               rtol=1e-10)
    _, tangent = s2sad.jvp(negative_elbo, (PARAMS,), (np.array([1.0, 0.0]),))
    _, pullback = s2sad.vjp(negative_elbo_unfrozen, PARAMS)
    assert tangent == pytest.approx(pullback(1.0)[0][0], rel=1e-12)


def test_the_optimum_is_found_with_the_gradient():
    result = scipy.optimize.minimize(negative_elbo, PARAMS, jac=s2sad.grad(negative_elbo), method="BFGS")
    assert result.success
    np.testing.assert_allclose(s2sad.grad(negative_elbo)(result.x), 0.0, atol=1e-5)
    assert result.fun < negative_elbo(PARAMS)
