"""scipy.stats: logpdf, pdf, cdf, logcdf, sf and logsf of norm, t, gamma and beta; logpmf, pmf,
cdf, logcdf, sf and logsf of poisson; multivariate_normal.logpdf.

scipy is optional: without it this module registers nothing. A distribution's method
(`scipy.stats.norm.logpdf`) is a bound method, a new object at each attribute access: its rule is
found by the distribution instance it is bound to (see `registry.lookup`).

The continuous distributions are location-scale families: with z = (x − loc)/scale,
F(x) = F0(z) and log f(x) = log f0(z) − log scale, so ∂loc = −∂x and ∂scale = −z·∂x (− 1/scale for
log f). The cdf's derivative in x is the pdf. The cdf (logcdf, sf, logsf) of t, gamma and beta has
no closed-form derivative in the shape parameters (df, a, b): they have no rule, and an active
value there is refused with MissingRule naming the parameter. So each family states only its
pieces (`FAMILIES`: the score ∂z log f0 and the partials in its shape parameters), and
`register_family` writes the six rules of its methods from them.
"""

import linecache
import textwrap
from dataclasses import dataclass, field

import numpy as np

from s2sad.rules.registry import define, linear
from s2sad.runtime import unbroadcast

try:
    from scipy import special, stats
except ImportError:  # scipy is optional
    special = stats = None


@dataclass(frozen=True)
class Family:
    """A location-scale family of scipy.stats, with z = (x − loc)/scale: its shape parameters,
    log f0(z) (written for the docs), the score s = ∂z log f0 and the partial of log f0 in each
    shape parameter (Python expressions in z and the parameters), and its support in z."""

    shapes: tuple[str, ...]
    density: str
    score: str
    partials: dict[str, str] = field(default_factory=dict)
    support: str = ""


def register_family(name: str, family: Family) -> None:
    """Define the rules of the six methods of `scipy.stats.<name>` from its pieces. Each rule is
    written as source (a class of templates, the form every rule has) and compiled under a name
    of its own that `linecache` holds, so the templates are read and printed like any others."""
    params = ("x", *family.shapes, "loc", "scale")
    signature = ", ".join(("x", *family.shapes, "loc=0", "scale=1"))
    for method in ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"):
        filename = f"<s2sad.rules.scipy_stats {name}.{method}>"
        text = _rule_source(name, family, method, params)
        linecache.cache[filename] = (len(text), None, text.splitlines(keepends=True), filename)
        namespace = {"__name__": __name__, "np": np, "special": special, "stats": stats, "unbroadcast": unbroadcast}
        exec(compile(text, filename, "exec"), namespace)  # noqa: S102 - source written from FAMILIES
        rule = namespace[f"{name}_{method}"]
        define(getattr(getattr(stats, name), method), signature, path=f"scipy.stats.{name}.{method}")(rule)


def _rule_source(name: str, family: Family, method: str, params: tuple[str, ...]) -> str:
    density = method in ("logpdf", "pdf")
    out = ", out" if method in ("pdf", "logcdf", "logsf") else ""  # the templates that read the result
    methods = []
    for param in params if density else ("x", "loc", "scale"):
        tangent, adjoint = (_density_terms if density else _tail_terms)(name, family, method, param, params)
        args = ", ".join(params) + out
        methods.append(f"    def d{param}(d{param}, {args}):\n{tangent.replace('TANGENT', f'd{param}')}")
        methods.append(f"    def b{param}(g, {args}):\n{adjoint}")
    doc = textwrap.fill(_doc(name, family, method), 100, initial_indent="    \"\"\"", subsequent_indent="    ")
    return f"class {name}_{method}:\n{doc}\"\"\"\n\n" + "\n".join(methods)


def _density_terms(name: str, family: Family, method: str, param: str, params: tuple) -> tuple[str, str]:
    """logpdf: ∂x = s/scale, ∂loc = −s/scale, ∂scale = −(s·z + 1)/scale, a shape its partial;
    pdf: the same times f (`out`)."""
    factor = " * out" if method == "pdf" else ""
    lines = "        z = (x - loc) / scale\n"
    if param in family.partials and "\n" in family.partials[param]:  # a long partial gets a name
        lines += f"        partial = {family.partials[param]}\n"
        term = "partial"
    elif param in family.partials:
        term = f"({family.partials[param]})"
    else:
        lines += f"        s = {family.score}\n"
        term = {"x": "s / scale", "loc": "-s / scale", "scale": "(-(s * z + 1) / scale)"}[param]
    return (f"{lines}        return TANGENT{factor} * {term}\n",
            f"{lines}        return unbroadcast(g{factor} * {term}, {param})\n")


def _tail_terms(name: str, family: Family, method: str, param: str, params: tuple) -> tuple[str, str]:
    """F (cdf) and S (sf): ∂x = ±f, ∂loc = ∓f, ∂scale = ∓f·z; their logs divide by F or S
    (f/F = exp(logpdf − log F))."""
    call = ", ".join(params)
    f = f"stats.{name}.pdf({call})" if method in ("cdf", "sf") else f"np.exp(stats.{name}.logpdf({call}) - out)"
    sign = 1 if method in ("cdf", "logcdf") else -1
    term = {("x", 1): "f", ("x", -1): "(-f)", ("loc", 1): "(-f)", ("loc", -1): "f",
            ("scale", 1): "(-f * (x - loc) / scale)", ("scale", -1): "(f * (x - loc) / scale)"}[(param, sign)]
    lines = f"        f = {f}\n"
    return f"{lines}        return TANGENT * {term}\n", f"{lines}        return unbroadcast(g * {term}, {param})\n"


_TAIL_DOCS = {
    "cdf": "F = cdf: ∂x F = f (the pdf), ∂loc F = −f, ∂scale F = −f·z, z = (x − loc)/scale.",
    "logcdf": "log F: ∂x = f/F = exp(logpdf − log F), ∂loc = −∂x, ∂scale = −∂x·z.",
    "sf": "S = 1 − cdf: ∂x S = −f (the pdf), ∂loc S = f, ∂scale S = f·z, z = (x − loc)/scale.",
    "logsf": "log S: ∂x = −f/S = −exp(logpdf − log S), ∂loc = −∂x, ∂scale = −∂x·z.",
}


def _doc(name: str, family: Family, method: str) -> str:
    support = (f" On the support {family.support}; outside it logpdf is −inf and its derivative nan."
               if family.support else "")
    if method == "logpdf":
        where = f", {family.support}" if family.support else ""
        return (f"log f = {family.density} − log scale{where}, with z = (x − loc)/scale. With s = ∂z log f0 = "
                f"{family.score}: ∂x = s/scale, ∂loc = −s/scale, ∂scale = −(s·z + 1)/scale.{support}")
    if method == "pdf":
        return f"f = exp(logpdf): ∂f = f·∂logpdf (see {name}_logpdf).{support}"
    shapes = " and ".join(family.shapes)
    refused = f" No rule for {shapes} (no closed form): an active value there is refused." if shapes else ""
    return _TAIL_DOCS[method] + refused


FAMILIES = {
    "norm": Family((), "−z²/2 − log(2π)/2", "-z"),
    "t": Family(("df",), "log Γ((df+1)/2) − log Γ(df/2) − log(df·π)/2 − (df+1)/2·log(1 + z²/df)",
                "-(df + 1) * z / (df + z**2)",
                {"df": "(special.digamma((df + 1) / 2) - special.digamma(df / 2) - 1 / df - np.log1p(z**2 / df)\n"
                       "           + (df + 1) * z**2 / (df * (df + z**2))) / 2"}),
    "gamma": Family(("a",), "(a−1)·log z − z − log Γ(a)", "(a - 1) / z - 1",
                    {"a": "np.log(z) - special.digamma(a)"}, "z > 0"),
    "beta": Family(("a", "b"), "(a−1)·log z + (b−1)·log(1−z) − log B(a, b)", "(a - 1) / z - (b - 1) / (1 - z)",
                   {"a": "np.log(z) - special.digamma(a) + special.digamma(a + b)",
                    "b": "np.log1p(-z) - special.digamma(b) + special.digamma(a + b)"}, "0 < z < 1"),
}
"""The location-scale families: each states its pieces once, and `register_family` writes the
rules of its logpdf, pdf, cdf, logcdf, sf and logsf from them."""

if stats is not None:
    for _name, _family in FAMILIES.items():
        register_family(_name, _family)

if stats is not None:

    # ---------------------------------------------------------------- poisson

    @define(stats.poisson.logpmf, "k, mu, loc=0", path="scipy.stats.poisson.logpmf", constant="loc")
    class poisson_logpmf:
        """k·log mu − mu − log k! (at k − loc): ∂mu = (k − loc)/mu − 1. k (an integer) and loc (an
        integer shift) carry no derivative."""

        def dmu(dmu, k, mu, loc):
            return dmu * ((k - loc) / mu - 1)

        def bmu(g, k, mu, loc):
            return unbroadcast(g * ((k - loc) / mu - 1), mu)

    @define(stats.poisson.pmf, "k, mu, loc=0", path="scipy.stats.poisson.pmf", constant="loc")
    class poisson_pmf:
        """p = exp(logpmf): ∂mu p = p·((k − loc)/mu − 1)."""

        def dmu(dmu, k, mu, loc, out):
            return dmu * out * ((k - loc) / mu - 1)

        def bmu(g, k, mu, loc, out):
            return unbroadcast(g * out * ((k - loc) / mu - 1), mu)

    @define(stats.poisson.cdf, "k, mu, loc=0", path="scipy.stats.poisson.cdf", constant="loc")
    class poisson_cdf:
        """F = Σ_{j ≤ k} p(j), and ∂mu p(j) = p(j − 1) − p(j) telescopes: ∂mu F = −p(floor(k))."""

        def dmu(dmu, k, mu, loc):
            return -dmu * stats.poisson.pmf(np.floor(k), mu, loc)

        def bmu(g, k, mu, loc):
            return unbroadcast(-g * stats.poisson.pmf(np.floor(k), mu, loc), mu)

    @define(stats.poisson.logcdf, "k, mu, loc=0", path="scipy.stats.poisson.logcdf", constant="loc")
    class poisson_logcdf:
        """log F: ∂mu = −p(floor(k))/F (see poisson_cdf)."""

        def dmu(dmu, k, mu, loc, out):
            return -dmu * np.exp(stats.poisson.logpmf(np.floor(k), mu, loc) - out)

        def bmu(g, k, mu, loc, out):
            return unbroadcast(-g * np.exp(stats.poisson.logpmf(np.floor(k), mu, loc) - out), mu)

    @define(stats.poisson.sf, "k, mu, loc=0", path="scipy.stats.poisson.sf", constant="loc")
    class poisson_sf:
        """S = 1 − F: ∂mu S = p(floor(k)) (see poisson_cdf)."""

        def dmu(dmu, k, mu, loc):
            return dmu * stats.poisson.pmf(np.floor(k), mu, loc)

        def bmu(g, k, mu, loc):
            return unbroadcast(g * stats.poisson.pmf(np.floor(k), mu, loc), mu)

    @define(stats.poisson.logsf, "k, mu, loc=0", path="scipy.stats.poisson.logsf", constant="loc")
    class poisson_logsf:
        """log S: ∂mu = p(floor(k))/S (see poisson_cdf)."""

        def dmu(dmu, k, mu, loc, out):
            return dmu * np.exp(stats.poisson.logpmf(np.floor(k), mu, loc) - out)

        def bmu(g, k, mu, loc, out):
            return unbroadcast(g * np.exp(stats.poisson.logpmf(np.floor(k), mu, loc) - out), mu)

    # ---------------------------------------------------------------- multivariate_normal

    @define(stats.multivariate_normal.logpdf, "x, mean=0.0, cov=1.0, allow_singular=False",
            path="scipy.stats.multivariate_normal.logpdf")
    class multivariate_normal_logpdf:
        """−(d·log 2π + log det C + rᵀ C⁻¹ r)/2 for each row r = x − mean of x (d,) or (n, d), where
        C is cov as a matrix (a scalar is cov·I, a vector the diagonal: `covariance_matrix`).
        With α = C⁻¹ r: ∂x = −α, ∂mean = α, ∂C = (α αᵀ − C⁻¹)/2 summed over the rows. scipy reads
        only the lower triangle of a matrix cov (like np.linalg.cholesky): a tangent's upper
        triangle is ignored (it is mirrored from the lower one) and the cotangent is lower
        triangular."""

        def dx(dx, x, mean, cov):
            alpha = np.transpose(np.linalg.solve(covariance_matrix(cov, x), np.transpose(x - mean)))
            return -np.sum(alpha * dx, axis=-1)

        def bx(g, x, mean, cov):
            alpha = np.transpose(np.linalg.solve(covariance_matrix(cov, x), np.transpose(x - mean)))
            return unbroadcast(-np.expand_dims(g, -1) * alpha, x)

        def dmean(dmean, x, mean, cov):
            alpha = np.transpose(np.linalg.solve(covariance_matrix(cov, x), np.transpose(x - mean)))
            return np.sum(alpha * dmean, axis=-1)

        def bmean(g, x, mean, cov):
            alpha = np.transpose(np.linalg.solve(covariance_matrix(cov, x), np.transpose(x - mean)))
            return unbroadcast(np.expand_dims(g, -1) * alpha, mean)

        def dcov(dcov, x, mean, cov):
            matrix = covariance_matrix(cov, x)
            alpha = np.transpose(np.linalg.solve(matrix, np.transpose(x - mean)))
            lower = covariance_matrix(dcov, x)
            sym = np.tril(lower) + np.transpose(np.tril(lower, -1))
            quadratic = np.sum(alpha * np.transpose(sym @ np.transpose(alpha)), axis=-1)
            return (quadratic - np.trace(np.linalg.solve(matrix, sym))) / 2

        def bcov(g, x, mean, cov):
            matrix = covariance_matrix(cov, x)
            alpha = np.transpose(np.linalg.solve(matrix, np.transpose(x - mean)))
            rows = np.reshape(alpha, (-1, np.shape(matrix)[0]))
            weighted = rows * np.reshape(g, (-1, 1))
            full = (np.transpose(weighted) @ rows - np.sum(g) * np.linalg.inv(matrix)) / 2
            return covariance_adjoint(np.tril(full) + np.tril(np.transpose(full), -1), cov)


def covariance_matrix(cov, x):
    """cov as the (d, d) matrix scipy reads, d the last axis of x: a scalar is cov·I, a vector
    the diagonal, a matrix itself. Linear in cov."""
    if np.ndim(cov) == 2:
        return cov
    if np.ndim(cov) == 1:
        return np.diag(cov)
    return cov * np.eye(np.shape(x)[-1])


def covariance_adjoint(g, cov):
    """The adjoint of `covariance_matrix` for a (d, d) cotangent g: g itself, its diagonal or its
    trace, as cov is a matrix, a vector or a scalar."""
    if np.ndim(cov) == 2:
        return g
    if np.ndim(cov) == 1:
        return np.diagonal(g).copy()
    return np.trace(g)


if stats is not None:

    @linear(covariance_matrix, "cov, x", linear_in="cov", path="covariance_matrix")
    class covariance_matrix_rule:
        def bcov(g, cov):
            return covariance_adjoint(g, cov)

    @linear(covariance_adjoint, "g, cov", linear_in="g", path="covariance_adjoint")
    class covariance_adjoint_rule:
        def bg(h, g):
            return covariance_matrix(h, g)
