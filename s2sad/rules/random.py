"""Random draws: the methods of a `np.random.Generator` (`rng.normal(...)`) and of the legacy
`np.random.RandomState`, whose module-level functions (`np.random.randn`, `np.random.normal`)
are methods bound to NumPy's global one. Each rule is registered on the class's function, with
the parameters after `self`; `registry.lookup` finds it from the bound method.

A draw with no distribution parameters (standard_normal, random, integers, randn) carries no
derivative: `mu + sigma * rng.standard_normal(n)` is differentiated in mu and sigma. The
location-scale draws (normal, laplace, logistic, gumbel), uniform, exponential and lognormal
are differentiated in their parameters along the path of the draw: the same underlying
standard sample, moved by the parameters (`rng.normal(mu, sigma)` is mu + sigma·z, with
z = (out − mu)/sigma read back from the result). Counts (poisson, binomial) are piecewise
constant in their parameters: no derivative. Other distributions (gamma, beta, choice, ...)
have no rule: an active parameter is refused.

Calling a method of a generator held in a local variable (`rng = np.random.default_rng(0)`
inside the differentiated function) goes through `call_method`, which has no rule: draw
standard samples there and scale them (`mu + sigma * rng.standard_normal(n)`).
"""

import numpy as np

from s2sad.rules.registry import define, nondiff
from s2sad.runtime import broadcast_like, div_or_zero, unbroadcast

GENERATOR = np.random.Generator
LEGACY = np.random.RandomState

nondiff(
    GENERATOR.standard_normal, GENERATOR.random, GENERATOR.integers, GENERATOR.standard_exponential,
    GENERATOR.standard_cauchy, GENERATOR.poisson, GENERATOR.binomial,
    LEGACY.standard_normal, LEGACY.random, LEGACY.random_sample, LEGACY.randn, LEGACY.rand, LEGACY.randint,
    LEGACY.standard_exponential, LEGACY.standard_cauchy, LEGACY.poisson, LEGACY.binomial,
    family="random",
)


def _both(name: str, params: str):
    """Register the class as the rule of the method `name` of both Generator and RandomState."""

    def decorate(cls: type) -> type:
        for owner in (GENERATOR, LEGACY):
            define(getattr(owner, name), params, path=f"numpy.random.{owner.__name__}.{name}", family="random")(cls)
        return cls

    return decorate


@_both("gumbel", "loc=0.0, scale=1.0, size=None")
@_both("logistic", "loc=0.0, scale=1.0, size=None")
@_both("laplace", "loc=0.0, scale=1.0, size=None")
@_both("normal", "loc=0.0, scale=1.0, size=None")
class location_scale:
    """out = loc + scale·z with z a standard draw: slope 1 in loc, z = (out − loc)/scale in
    scale. Where scale is 0 the draw is lost (out = loc): the derivative in scale is 0 there."""

    def dloc(dloc, out):
        return broadcast_like(dloc, out)

    def bloc(g, loc):
        return unbroadcast(g, loc)

    def dscale(dscale, loc, scale, out):
        return dscale * div_or_zero(out - loc, scale)

    def bscale(g, loc, scale, out):
        return unbroadcast(g * div_or_zero(out - loc, scale), scale)


@_both("uniform", "low=0.0, high=1.0, size=None")
class uniform:
    """out = low + (high − low)·u with u uniform on [0, 1): slope 1 − u in low, u in high, with
    u = (out − low)/(high − low) (0 where high equals low: the draw is then lost)."""

    def dlow(dlow, low, high, out):
        return dlow * (1.0 - div_or_zero(out - low, high - low))

    def blow(g, low, high, out):
        return unbroadcast(g * (1.0 - div_or_zero(out - low, high - low)), low)

    def dhigh(dhigh, low, high, out):
        return dhigh * div_or_zero(out - low, high - low)

    def bhigh(g, low, high, out):
        return unbroadcast(g * div_or_zero(out - low, high - low), high)


@_both("exponential", "scale=1.0, size=None")
class exponential:
    """out = scale·e with e a standard exponential draw: slope e = out/scale (0 at scale 0)."""

    def dscale(dscale, scale, out):
        return dscale * div_or_zero(out, scale)

    def bscale(g, scale, out):
        return unbroadcast(g * div_or_zero(out, scale), scale)


@_both("lognormal", "mean=0.0, sigma=1.0, size=None")
class lognormal:
    """out = exp(mean + sigma·z): slope out in mean, out·z in sigma with z = (log(out) − mean)/sigma
    (0 at sigma 0)."""

    def dmean(dmean, out):
        return dmean * out

    def bmean(g, mean, out):
        return unbroadcast(g * out, mean)

    def dsigma(dsigma, mean, sigma, out):
        return dsigma * out * div_or_zero(np.log(out) - mean, sigma)

    def bsigma(g, mean, sigma, out):
        return unbroadcast(g * out * div_or_zero(np.log(out) - mean, sigma), sigma)
