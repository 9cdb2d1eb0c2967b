"""Random draws: the draws without parameters carry no derivative (NONDIFF), the
location-scale, uniform, exponential and lognormal draws are differentiated along the path of
the draw. A draw differs at each call, so the checks are exact identities on one call's result
(the standard sample z is read back from it) and, for finite differences, programs that seed
NumPy's global generator before they draw."""

import numpy as np
import pytest

import s2sad
from s2sad.rules.registry import lookup
from s2sad.testing import make_function
from tests.rules.endtoend import check_every_mode
from tests.rules.family import Nondiff, test_nondiff_gives_zero_derivatives  # noqa: F401
from tests.rules.specs import Spec

G, R = np.random.Generator, np.random.RandomState
GEN = "np.random.default_rng(0)"
LEG = "np.random.RandomState(0)"

NONDIFF = [
    *[Nondiff(getattr(G, name), f"op({GEN}, 3) * 1.0")
      for name in ("standard_normal", "random", "standard_exponential", "standard_cauchy")],
    Nondiff(G.integers, f"op({GEN}, 0, 5, 3) * 1.0"),
    Nondiff(G.poisson, f"op({GEN}, x * 0.0 + 2.0) * 1.0"),
    Nondiff(G.binomial, f"op({GEN}, 5, x * 0.0 + 0.5) * 1.0"),
    *[Nondiff(getattr(R, name), f"op({LEG}, 3) * 1.0")
      for name in ("standard_normal", "random", "random_sample", "randn", "rand", "standard_exponential",
                   "standard_cauchy")],
    Nondiff(R.randint, f"op({LEG}, 0, 5, 3) * 1.0"),
    Nondiff(R.poisson, f"op({LEG}, x * 0.0 + 2.0) * 1.0"),
    Nondiff(R.binomial, f"op({LEG}, 5, x * 0.0 + 0.5) * 1.0"),
]

PATHWISE = {"normal": ("loc", "scale"), "laplace": ("loc", "scale"), "logistic": ("loc", "scale"),
            "gumbel": ("loc", "scale"), "uniform": ("low", "high"), "exponential": ("scale",),
            "lognormal": ("mean", "sigma")}
"""The draws differentiated in their parameters, and those parameters."""

SPECS = [Spec(getattr(owner, name), params) for owner in (G, R) for name, params in PATHWISE.items()]
"""The rules of this module; a draw cannot be called twice alike, so the shared harness does not
run them: the tests below do."""


def standard(name: str, params: dict, out):
    """The standard sample of a draw, read back from its result."""
    if name == "uniform":
        return (out - params["low"]) / (params["high"] - params["low"])
    if name == "exponential":
        return out / params["scale"]
    if name == "lognormal":
        return (np.log(out) - params["mean"]) / params["sigma"]
    return (out - params["loc"]) / params["scale"]


def expected_tangent(name: str, params: dict, tangents: dict, out):
    z = standard(name, params, out)
    if name == "uniform":
        return tangents["low"] * (1 - z) + tangents["high"] * z
    if name == "exponential":
        return tangents["scale"] * z
    if name == "lognormal":
        return out * (tangents["mean"] + tangents["sigma"] * z)
    return tangents["loc"] + tangents["scale"] * z


VALUES = {"loc": np.array([0.5, -1.0, 2.0]), "scale": 1.5, "low": -0.5, "high": np.array([1.0, 2.0, 3.0]),
          "mean": 0.2, "sigma": np.array([0.3, 0.6, 0.9])}


@pytest.mark.parametrize("spelling", ["rng", "np.random"])
@pytest.mark.parametrize("name", list(PATHWISE))
def test_pathwise_derivative(name, spelling):
    """jvp and vjp of one draw, against the same draw's standard sample (read back from it)."""
    params = PATHWISE[name]
    values = {p: VALUES[p] for p in params}
    call = f"{spelling}.{name}({', '.join(params)}, size=(2, 3))"
    fun = make_function(f"def f({', '.join(params)}):\n    return {call}\n", {"rng": np.random.default_rng(3)})
    rng = np.random.default_rng(4)
    tangents = {p: rng.standard_normal(np.shape(v)) if np.ndim(v) else float(rng.standard_normal())
                for p, v in values.items()}
    out, tangent = s2sad.jvp(fun, tuple(values.values()), tuple(tangents.values()))
    np.testing.assert_allclose(tangent, expected_tangent(name, values, tangents, out), rtol=1e-10)
    out, pullback = s2sad.vjp(fun, *values.values())
    g = rng.standard_normal(np.shape(out))
    cotangents = pullback(g)
    cotangents = cotangents if isinstance(cotangents, tuple) else (cotangents,)
    lhs = sum(np.sum(c * tangents[p]) for c, p in zip(cotangents, params))
    np.testing.assert_allclose(lhs, np.sum(g * expected_tangent(name, values, tangents, out)), rtol=1e-10)
    for c, p in zip(cotangents, params):
        assert np.shape(c) == np.shape(values[p])


def test_bound_methods_find_the_rule_of_their_class():
    rng = np.random.default_rng(0)
    assert lookup(rng.normal) is lookup(G.normal) is not None
    assert lookup(np.random.normal) is lookup(R.normal) is not None
    assert lookup(np.random.randn).nondiff


def test_reparameterised_draw():
    """mu + sigma * z with z a standard draw (here from a generator made in the function):
    differentiated in mu and sigma in every mode."""
    source = ("def f(mu, sigma):\n    z = np.random.default_rng(7).standard_normal(4)\n"
              "    return np.tanh(mu + sigma * z)\n")
    check_every_mode(source, [np.array([0.1, -0.3, 0.5, 0.2]), np.array([1.0, 0.5, 2.0, 1.5])])


@pytest.mark.parametrize("draw", ["np.random.normal(mu, sigma, 4)", "np.random.uniform(mu, mu + sigma, 4)",
                                  "np.random.lognormal(mu, sigma, 4)", "np.random.laplace(mu, sigma)"])
def test_seeded_draw_in_every_mode(draw):
    """NumPy's global generator seeded before the draw: the same sample at each call, so the
    pathwise derivatives meet finite differences."""
    source = f"def f(mu, sigma):\n    _ = np.random.seed(11)\n    return np.sin({draw}) * mu\n"
    check_every_mode(source, [np.array([0.1, -0.3, 0.5, 0.2]), np.array([1.0, 0.5, 2.0, 1.5])])


def test_a_local_generator_with_active_parameters_is_refused():
    fun = make_function("def f(mu):\n    rng = np.random.default_rng(0)\n    return rng.normal(mu, 1.0)\n")
    with pytest.raises(s2sad.MissingRule, match="standard_normal"):
        s2sad.grad(fun)(0.5)


def test_a_draw_without_a_rule_refuses_an_active_parameter():
    fun = make_function("def f(k):\n    return np.sum(rng.gamma(k, 1.0, 3))\n", {"rng": np.random.default_rng(0)})
    with pytest.raises(s2sad.MissingRule, match="gamma"):
        s2sad.grad(fun)(2.0)
