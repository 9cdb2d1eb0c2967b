"""scipy.stats: logpdf, pdf, cdf, logcdf, sf and logsf of norm, t, gamma and beta; logpmf, pmf,
cdf, logcdf, sf and logsf of poisson; multivariate_normal.logpdf.

scipy is optional: without it this module registers nothing. A distribution's method
(`scipy.stats.norm.logpdf`) is a bound method, a new object at each attribute access: its rule is
found by the distribution instance it is bound to (see `registry.lookup`).

The continuous distributions are location-scale families: with z = (x − loc)/scale,
F(x) = F0(z) and log f(x) = log f0(z) − log scale, so ∂loc = −∂x and ∂scale = −z·∂x (− 1/scale for
log f). The cdf's derivative in x is the pdf. The cdf (logcdf, sf, logsf) of t, gamma and beta has
no closed-form derivative in the shape parameters (df, a, b): they have no rule, and an active
value there is refused with MissingRule naming the parameter.
"""

import numpy as np

from s2sad.rules.registry import define, linear
from s2sad.runtime import unbroadcast

try:
    from scipy import special, stats
except ImportError:  # scipy is optional
    special = stats = None

if stats is not None:

    # ---------------------------------------------------------------- norm

    @define(stats.norm.logpdf, "x, loc=0, scale=1", path="scipy.stats.norm.logpdf")
    class norm_logpdf:
        """log f = −z²/2 − log(2π)/2 − log scale, with z = (x − loc)/scale. With s = ∂z log f0 = -z: ∂x =
        s/scale, ∂loc = −s/scale, ∂scale = −(s·z + 1)/scale."""

        def dx(dx, x, loc, scale):
            z = (x - loc) / scale
            s = -z
            return dx * s / scale

        def bx(g, x, loc, scale):
            z = (x - loc) / scale
            s = -z
            return unbroadcast(g * s / scale, x)

        def dloc(dloc, x, loc, scale):
            z = (x - loc) / scale
            s = -z
            return dloc * -s / scale

        def bloc(g, x, loc, scale):
            z = (x - loc) / scale
            s = -z
            return unbroadcast(g * -s / scale, loc)

        def dscale(dscale, x, loc, scale):
            z = (x - loc) / scale
            s = -z
            return dscale * (-(s * z + 1) / scale)

        def bscale(g, x, loc, scale):
            z = (x - loc) / scale
            s = -z
            return unbroadcast(g * (-(s * z + 1) / scale), scale)

    @define(stats.norm.pdf, "x, loc=0, scale=1", path="scipy.stats.norm.pdf")
    class norm_pdf:
        """f = exp(logpdf): ∂f = f·∂logpdf (see norm_logpdf)."""

        def dx(dx, x, loc, scale, out):
            z = (x - loc) / scale
            s = -z
            return dx * out * s / scale

        def bx(g, x, loc, scale, out):
            z = (x - loc) / scale
            s = -z
            return unbroadcast(g * out * s / scale, x)

        def dloc(dloc, x, loc, scale, out):
            z = (x - loc) / scale
            s = -z
            return dloc * out * -s / scale

        def bloc(g, x, loc, scale, out):
            z = (x - loc) / scale
            s = -z
            return unbroadcast(g * out * -s / scale, loc)

        def dscale(dscale, x, loc, scale, out):
            z = (x - loc) / scale
            s = -z
            return dscale * out * (-(s * z + 1) / scale)

        def bscale(g, x, loc, scale, out):
            z = (x - loc) / scale
            s = -z
            return unbroadcast(g * out * (-(s * z + 1) / scale), scale)

    @define(stats.norm.cdf, "x, loc=0, scale=1", path="scipy.stats.norm.cdf")
    class norm_cdf:
        """F = cdf: ∂x F = f (the pdf), ∂loc F = −f, ∂scale F = −f·z, z = (x − loc)/scale."""

        def dx(dx, x, loc, scale):
            f = stats.norm.pdf(x, loc, scale)
            return dx * f

        def bx(g, x, loc, scale):
            f = stats.norm.pdf(x, loc, scale)
            return unbroadcast(g * f, x)

        def dloc(dloc, x, loc, scale):
            f = stats.norm.pdf(x, loc, scale)
            return dloc * (-f)

        def bloc(g, x, loc, scale):
            f = stats.norm.pdf(x, loc, scale)
            return unbroadcast(g * (-f), loc)

        def dscale(dscale, x, loc, scale):
            f = stats.norm.pdf(x, loc, scale)
            return dscale * (-f * (x - loc) / scale)

        def bscale(g, x, loc, scale):
            f = stats.norm.pdf(x, loc, scale)
            return unbroadcast(g * (-f * (x - loc) / scale), scale)

    @define(stats.norm.logcdf, "x, loc=0, scale=1", path="scipy.stats.norm.logcdf")
    class norm_logcdf:
        """log F: ∂x = f/F = exp(logpdf − log F), ∂loc = −∂x, ∂scale = −∂x·z."""

        def dx(dx, x, loc, scale, out):
            f = np.exp(stats.norm.logpdf(x, loc, scale) - out)
            return dx * f

        def bx(g, x, loc, scale, out):
            f = np.exp(stats.norm.logpdf(x, loc, scale) - out)
            return unbroadcast(g * f, x)

        def dloc(dloc, x, loc, scale, out):
            f = np.exp(stats.norm.logpdf(x, loc, scale) - out)
            return dloc * (-f)

        def bloc(g, x, loc, scale, out):
            f = np.exp(stats.norm.logpdf(x, loc, scale) - out)
            return unbroadcast(g * (-f), loc)

        def dscale(dscale, x, loc, scale, out):
            f = np.exp(stats.norm.logpdf(x, loc, scale) - out)
            return dscale * (-f * (x - loc) / scale)

        def bscale(g, x, loc, scale, out):
            f = np.exp(stats.norm.logpdf(x, loc, scale) - out)
            return unbroadcast(g * (-f * (x - loc) / scale), scale)

    @define(stats.norm.sf, "x, loc=0, scale=1", path="scipy.stats.norm.sf")
    class norm_sf:
        """S = 1 − cdf: ∂x S = −f (the pdf), ∂loc S = f, ∂scale S = f·z, z = (x − loc)/scale."""

        def dx(dx, x, loc, scale):
            f = stats.norm.pdf(x, loc, scale)
            return dx * (-f)

        def bx(g, x, loc, scale):
            f = stats.norm.pdf(x, loc, scale)
            return unbroadcast(g * (-f), x)

        def dloc(dloc, x, loc, scale):
            f = stats.norm.pdf(x, loc, scale)
            return dloc * f

        def bloc(g, x, loc, scale):
            f = stats.norm.pdf(x, loc, scale)
            return unbroadcast(g * f, loc)

        def dscale(dscale, x, loc, scale):
            f = stats.norm.pdf(x, loc, scale)
            return dscale * (f * (x - loc) / scale)

        def bscale(g, x, loc, scale):
            f = stats.norm.pdf(x, loc, scale)
            return unbroadcast(g * (f * (x - loc) / scale), scale)

    @define(stats.norm.logsf, "x, loc=0, scale=1", path="scipy.stats.norm.logsf")
    class norm_logsf:
        """log S: ∂x = −f/S = −exp(logpdf − log S), ∂loc = −∂x, ∂scale = −∂x·z."""

        def dx(dx, x, loc, scale, out):
            f = np.exp(stats.norm.logpdf(x, loc, scale) - out)
            return dx * (-f)

        def bx(g, x, loc, scale, out):
            f = np.exp(stats.norm.logpdf(x, loc, scale) - out)
            return unbroadcast(g * (-f), x)

        def dloc(dloc, x, loc, scale, out):
            f = np.exp(stats.norm.logpdf(x, loc, scale) - out)
            return dloc * f

        def bloc(g, x, loc, scale, out):
            f = np.exp(stats.norm.logpdf(x, loc, scale) - out)
            return unbroadcast(g * f, loc)

        def dscale(dscale, x, loc, scale, out):
            f = np.exp(stats.norm.logpdf(x, loc, scale) - out)
            return dscale * (f * (x - loc) / scale)

        def bscale(g, x, loc, scale, out):
            f = np.exp(stats.norm.logpdf(x, loc, scale) - out)
            return unbroadcast(g * (f * (x - loc) / scale), scale)

    # ---------------------------------------------------------------- t

    @define(stats.t.logpdf, "x, df, loc=0, scale=1", path="scipy.stats.t.logpdf")
    class t_logpdf:
        """log f = log Γ((df+1)/2) − log Γ(df/2) − log(df·π)/2 − (df+1)/2·log(1 + z²/df) − log scale, with z =
        (x − loc)/scale. With s = ∂z log f0 = -(df + 1) * z / (df + z**2): ∂x = s/scale, ∂loc = −s/scale,
        ∂scale = −(s·z + 1)/scale."""

        def dx(dx, x, df, loc, scale):
            z = (x - loc) / scale
            s = -(df + 1) * z / (df + z**2)
            return dx * s / scale

        def bx(g, x, df, loc, scale):
            z = (x - loc) / scale
            s = -(df + 1) * z / (df + z**2)
            return unbroadcast(g * s / scale, x)

        def ddf(ddf, x, df, loc, scale):
            z = (x - loc) / scale
            partial = (special.digamma((df + 1) / 2) - special.digamma(df / 2) - 1 / df - np.log1p(z**2 / df)
                     + (df + 1) * z**2 / (df * (df + z**2))) / 2
            return ddf * partial

        def bdf(g, x, df, loc, scale):
            z = (x - loc) / scale
            partial = (special.digamma((df + 1) / 2) - special.digamma(df / 2) - 1 / df - np.log1p(z**2 / df)
                     + (df + 1) * z**2 / (df * (df + z**2))) / 2
            return unbroadcast(g * partial, df)

        def dloc(dloc, x, df, loc, scale):
            z = (x - loc) / scale
            s = -(df + 1) * z / (df + z**2)
            return dloc * -s / scale

        def bloc(g, x, df, loc, scale):
            z = (x - loc) / scale
            s = -(df + 1) * z / (df + z**2)
            return unbroadcast(g * -s / scale, loc)

        def dscale(dscale, x, df, loc, scale):
            z = (x - loc) / scale
            s = -(df + 1) * z / (df + z**2)
            return dscale * (-(s * z + 1) / scale)

        def bscale(g, x, df, loc, scale):
            z = (x - loc) / scale
            s = -(df + 1) * z / (df + z**2)
            return unbroadcast(g * (-(s * z + 1) / scale), scale)

    @define(stats.t.pdf, "x, df, loc=0, scale=1", path="scipy.stats.t.pdf")
    class t_pdf:
        """f = exp(logpdf): ∂f = f·∂logpdf (see t_logpdf)."""

        def dx(dx, x, df, loc, scale, out):
            z = (x - loc) / scale
            s = -(df + 1) * z / (df + z**2)
            return dx * out * s / scale

        def bx(g, x, df, loc, scale, out):
            z = (x - loc) / scale
            s = -(df + 1) * z / (df + z**2)
            return unbroadcast(g * out * s / scale, x)

        def ddf(ddf, x, df, loc, scale, out):
            z = (x - loc) / scale
            partial = (special.digamma((df + 1) / 2) - special.digamma(df / 2) - 1 / df - np.log1p(z**2 / df)
                     + (df + 1) * z**2 / (df * (df + z**2))) / 2
            return ddf * out * partial

        def bdf(g, x, df, loc, scale, out):
            z = (x - loc) / scale
            partial = (special.digamma((df + 1) / 2) - special.digamma(df / 2) - 1 / df - np.log1p(z**2 / df)
                     + (df + 1) * z**2 / (df * (df + z**2))) / 2
            return unbroadcast(g * out * partial, df)

        def dloc(dloc, x, df, loc, scale, out):
            z = (x - loc) / scale
            s = -(df + 1) * z / (df + z**2)
            return dloc * out * -s / scale

        def bloc(g, x, df, loc, scale, out):
            z = (x - loc) / scale
            s = -(df + 1) * z / (df + z**2)
            return unbroadcast(g * out * -s / scale, loc)

        def dscale(dscale, x, df, loc, scale, out):
            z = (x - loc) / scale
            s = -(df + 1) * z / (df + z**2)
            return dscale * out * (-(s * z + 1) / scale)

        def bscale(g, x, df, loc, scale, out):
            z = (x - loc) / scale
            s = -(df + 1) * z / (df + z**2)
            return unbroadcast(g * out * (-(s * z + 1) / scale), scale)

    @define(stats.t.cdf, "x, df, loc=0, scale=1", path="scipy.stats.t.cdf")
    class t_cdf:
        """F = cdf: ∂x F = f (the pdf), ∂loc F = −f, ∂scale F = −f·z, z = (x − loc)/scale. No rule for df (no
        closed form): an active value there is refused."""

        def dx(dx, x, df, loc, scale):
            f = stats.t.pdf(x, df, loc, scale)
            return dx * f

        def bx(g, x, df, loc, scale):
            f = stats.t.pdf(x, df, loc, scale)
            return unbroadcast(g * f, x)

        def dloc(dloc, x, df, loc, scale):
            f = stats.t.pdf(x, df, loc, scale)
            return dloc * (-f)

        def bloc(g, x, df, loc, scale):
            f = stats.t.pdf(x, df, loc, scale)
            return unbroadcast(g * (-f), loc)

        def dscale(dscale, x, df, loc, scale):
            f = stats.t.pdf(x, df, loc, scale)
            return dscale * (-f * (x - loc) / scale)

        def bscale(g, x, df, loc, scale):
            f = stats.t.pdf(x, df, loc, scale)
            return unbroadcast(g * (-f * (x - loc) / scale), scale)

    @define(stats.t.logcdf, "x, df, loc=0, scale=1", path="scipy.stats.t.logcdf")
    class t_logcdf:
        """log F: ∂x = f/F = exp(logpdf − log F), ∂loc = −∂x, ∂scale = −∂x·z. No rule for df (no closed form):
        an active value there is refused."""

        def dx(dx, x, df, loc, scale, out):
            f = np.exp(stats.t.logpdf(x, df, loc, scale) - out)
            return dx * f

        def bx(g, x, df, loc, scale, out):
            f = np.exp(stats.t.logpdf(x, df, loc, scale) - out)
            return unbroadcast(g * f, x)

        def dloc(dloc, x, df, loc, scale, out):
            f = np.exp(stats.t.logpdf(x, df, loc, scale) - out)
            return dloc * (-f)

        def bloc(g, x, df, loc, scale, out):
            f = np.exp(stats.t.logpdf(x, df, loc, scale) - out)
            return unbroadcast(g * (-f), loc)

        def dscale(dscale, x, df, loc, scale, out):
            f = np.exp(stats.t.logpdf(x, df, loc, scale) - out)
            return dscale * (-f * (x - loc) / scale)

        def bscale(g, x, df, loc, scale, out):
            f = np.exp(stats.t.logpdf(x, df, loc, scale) - out)
            return unbroadcast(g * (-f * (x - loc) / scale), scale)

    @define(stats.t.sf, "x, df, loc=0, scale=1", path="scipy.stats.t.sf")
    class t_sf:
        """S = 1 − cdf: ∂x S = −f (the pdf), ∂loc S = f, ∂scale S = f·z, z = (x − loc)/scale. No rule for df
        (no closed form): an active value there is refused."""

        def dx(dx, x, df, loc, scale):
            f = stats.t.pdf(x, df, loc, scale)
            return dx * (-f)

        def bx(g, x, df, loc, scale):
            f = stats.t.pdf(x, df, loc, scale)
            return unbroadcast(g * (-f), x)

        def dloc(dloc, x, df, loc, scale):
            f = stats.t.pdf(x, df, loc, scale)
            return dloc * f

        def bloc(g, x, df, loc, scale):
            f = stats.t.pdf(x, df, loc, scale)
            return unbroadcast(g * f, loc)

        def dscale(dscale, x, df, loc, scale):
            f = stats.t.pdf(x, df, loc, scale)
            return dscale * (f * (x - loc) / scale)

        def bscale(g, x, df, loc, scale):
            f = stats.t.pdf(x, df, loc, scale)
            return unbroadcast(g * (f * (x - loc) / scale), scale)

    @define(stats.t.logsf, "x, df, loc=0, scale=1", path="scipy.stats.t.logsf")
    class t_logsf:
        """log S: ∂x = −f/S = −exp(logpdf − log S), ∂loc = −∂x, ∂scale = −∂x·z. No rule for df (no closed
        form): an active value there is refused."""

        def dx(dx, x, df, loc, scale, out):
            f = np.exp(stats.t.logpdf(x, df, loc, scale) - out)
            return dx * (-f)

        def bx(g, x, df, loc, scale, out):
            f = np.exp(stats.t.logpdf(x, df, loc, scale) - out)
            return unbroadcast(g * (-f), x)

        def dloc(dloc, x, df, loc, scale, out):
            f = np.exp(stats.t.logpdf(x, df, loc, scale) - out)
            return dloc * f

        def bloc(g, x, df, loc, scale, out):
            f = np.exp(stats.t.logpdf(x, df, loc, scale) - out)
            return unbroadcast(g * f, loc)

        def dscale(dscale, x, df, loc, scale, out):
            f = np.exp(stats.t.logpdf(x, df, loc, scale) - out)
            return dscale * (f * (x - loc) / scale)

        def bscale(g, x, df, loc, scale, out):
            f = np.exp(stats.t.logpdf(x, df, loc, scale) - out)
            return unbroadcast(g * (f * (x - loc) / scale), scale)

    # ---------------------------------------------------------------- gamma

    @define(stats.gamma.logpdf, "x, a, loc=0, scale=1", path="scipy.stats.gamma.logpdf")
    class gamma_logpdf:
        """log f = (a−1)·log z − z − log Γ(a) − log scale, z > 0, with z = (x − loc)/scale. With s = ∂z log f0
        = (a - 1) / z - 1: ∂x = s/scale, ∂loc = −s/scale, ∂scale = −(s·z + 1)/scale. On the support z > 0;
        outside it logpdf is −inf and its derivative nan."""

        def dx(dx, x, a, loc, scale):
            z = (x - loc) / scale
            s = (a - 1) / z - 1
            return dx * s / scale

        def bx(g, x, a, loc, scale):
            z = (x - loc) / scale
            s = (a - 1) / z - 1
            return unbroadcast(g * s / scale, x)

        def da(da, x, a, loc, scale):
            z = (x - loc) / scale
            return da * (np.log(z) - special.digamma(a))

        def ba(g, x, a, loc, scale):
            z = (x - loc) / scale
            return unbroadcast(g * (np.log(z) - special.digamma(a)), a)

        def dloc(dloc, x, a, loc, scale):
            z = (x - loc) / scale
            s = (a - 1) / z - 1
            return dloc * -s / scale

        def bloc(g, x, a, loc, scale):
            z = (x - loc) / scale
            s = (a - 1) / z - 1
            return unbroadcast(g * -s / scale, loc)

        def dscale(dscale, x, a, loc, scale):
            z = (x - loc) / scale
            s = (a - 1) / z - 1
            return dscale * (-(s * z + 1) / scale)

        def bscale(g, x, a, loc, scale):
            z = (x - loc) / scale
            s = (a - 1) / z - 1
            return unbroadcast(g * (-(s * z + 1) / scale), scale)

    @define(stats.gamma.pdf, "x, a, loc=0, scale=1", path="scipy.stats.gamma.pdf")
    class gamma_pdf:
        """f = exp(logpdf): ∂f = f·∂logpdf (see gamma_logpdf). On the support z > 0; outside it logpdf is −inf
        and its derivative nan."""

        def dx(dx, x, a, loc, scale, out):
            z = (x - loc) / scale
            s = (a - 1) / z - 1
            return dx * out * s / scale

        def bx(g, x, a, loc, scale, out):
            z = (x - loc) / scale
            s = (a - 1) / z - 1
            return unbroadcast(g * out * s / scale, x)

        def da(da, x, a, loc, scale, out):
            z = (x - loc) / scale
            return da * out * (np.log(z) - special.digamma(a))

        def ba(g, x, a, loc, scale, out):
            z = (x - loc) / scale
            return unbroadcast(g * out * (np.log(z) - special.digamma(a)), a)

        def dloc(dloc, x, a, loc, scale, out):
            z = (x - loc) / scale
            s = (a - 1) / z - 1
            return dloc * out * -s / scale

        def bloc(g, x, a, loc, scale, out):
            z = (x - loc) / scale
            s = (a - 1) / z - 1
            return unbroadcast(g * out * -s / scale, loc)

        def dscale(dscale, x, a, loc, scale, out):
            z = (x - loc) / scale
            s = (a - 1) / z - 1
            return dscale * out * (-(s * z + 1) / scale)

        def bscale(g, x, a, loc, scale, out):
            z = (x - loc) / scale
            s = (a - 1) / z - 1
            return unbroadcast(g * out * (-(s * z + 1) / scale), scale)

    @define(stats.gamma.cdf, "x, a, loc=0, scale=1", path="scipy.stats.gamma.cdf")
    class gamma_cdf:
        """F = cdf: ∂x F = f (the pdf), ∂loc F = −f, ∂scale F = −f·z, z = (x − loc)/scale. No rule for a (no
        closed form): an active value there is refused."""

        def dx(dx, x, a, loc, scale):
            f = stats.gamma.pdf(x, a, loc, scale)
            return dx * f

        def bx(g, x, a, loc, scale):
            f = stats.gamma.pdf(x, a, loc, scale)
            return unbroadcast(g * f, x)

        def dloc(dloc, x, a, loc, scale):
            f = stats.gamma.pdf(x, a, loc, scale)
            return dloc * (-f)

        def bloc(g, x, a, loc, scale):
            f = stats.gamma.pdf(x, a, loc, scale)
            return unbroadcast(g * (-f), loc)

        def dscale(dscale, x, a, loc, scale):
            f = stats.gamma.pdf(x, a, loc, scale)
            return dscale * (-f * (x - loc) / scale)

        def bscale(g, x, a, loc, scale):
            f = stats.gamma.pdf(x, a, loc, scale)
            return unbroadcast(g * (-f * (x - loc) / scale), scale)

    @define(stats.gamma.logcdf, "x, a, loc=0, scale=1", path="scipy.stats.gamma.logcdf")
    class gamma_logcdf:
        """log F: ∂x = f/F = exp(logpdf − log F), ∂loc = −∂x, ∂scale = −∂x·z. No rule for a (no closed form):
        an active value there is refused."""

        def dx(dx, x, a, loc, scale, out):
            f = np.exp(stats.gamma.logpdf(x, a, loc, scale) - out)
            return dx * f

        def bx(g, x, a, loc, scale, out):
            f = np.exp(stats.gamma.logpdf(x, a, loc, scale) - out)
            return unbroadcast(g * f, x)

        def dloc(dloc, x, a, loc, scale, out):
            f = np.exp(stats.gamma.logpdf(x, a, loc, scale) - out)
            return dloc * (-f)

        def bloc(g, x, a, loc, scale, out):
            f = np.exp(stats.gamma.logpdf(x, a, loc, scale) - out)
            return unbroadcast(g * (-f), loc)

        def dscale(dscale, x, a, loc, scale, out):
            f = np.exp(stats.gamma.logpdf(x, a, loc, scale) - out)
            return dscale * (-f * (x - loc) / scale)

        def bscale(g, x, a, loc, scale, out):
            f = np.exp(stats.gamma.logpdf(x, a, loc, scale) - out)
            return unbroadcast(g * (-f * (x - loc) / scale), scale)

    @define(stats.gamma.sf, "x, a, loc=0, scale=1", path="scipy.stats.gamma.sf")
    class gamma_sf:
        """S = 1 − cdf: ∂x S = −f (the pdf), ∂loc S = f, ∂scale S = f·z, z = (x − loc)/scale. No rule for a
        (no closed form): an active value there is refused."""

        def dx(dx, x, a, loc, scale):
            f = stats.gamma.pdf(x, a, loc, scale)
            return dx * (-f)

        def bx(g, x, a, loc, scale):
            f = stats.gamma.pdf(x, a, loc, scale)
            return unbroadcast(g * (-f), x)

        def dloc(dloc, x, a, loc, scale):
            f = stats.gamma.pdf(x, a, loc, scale)
            return dloc * f

        def bloc(g, x, a, loc, scale):
            f = stats.gamma.pdf(x, a, loc, scale)
            return unbroadcast(g * f, loc)

        def dscale(dscale, x, a, loc, scale):
            f = stats.gamma.pdf(x, a, loc, scale)
            return dscale * (f * (x - loc) / scale)

        def bscale(g, x, a, loc, scale):
            f = stats.gamma.pdf(x, a, loc, scale)
            return unbroadcast(g * (f * (x - loc) / scale), scale)

    @define(stats.gamma.logsf, "x, a, loc=0, scale=1", path="scipy.stats.gamma.logsf")
    class gamma_logsf:
        """log S: ∂x = −f/S = −exp(logpdf − log S), ∂loc = −∂x, ∂scale = −∂x·z. No rule for a (no closed
        form): an active value there is refused."""

        def dx(dx, x, a, loc, scale, out):
            f = np.exp(stats.gamma.logpdf(x, a, loc, scale) - out)
            return dx * (-f)

        def bx(g, x, a, loc, scale, out):
            f = np.exp(stats.gamma.logpdf(x, a, loc, scale) - out)
            return unbroadcast(g * (-f), x)

        def dloc(dloc, x, a, loc, scale, out):
            f = np.exp(stats.gamma.logpdf(x, a, loc, scale) - out)
            return dloc * f

        def bloc(g, x, a, loc, scale, out):
            f = np.exp(stats.gamma.logpdf(x, a, loc, scale) - out)
            return unbroadcast(g * f, loc)

        def dscale(dscale, x, a, loc, scale, out):
            f = np.exp(stats.gamma.logpdf(x, a, loc, scale) - out)
            return dscale * (f * (x - loc) / scale)

        def bscale(g, x, a, loc, scale, out):
            f = np.exp(stats.gamma.logpdf(x, a, loc, scale) - out)
            return unbroadcast(g * (f * (x - loc) / scale), scale)

    # ---------------------------------------------------------------- beta

    @define(stats.beta.logpdf, "x, a, b, loc=0, scale=1", path="scipy.stats.beta.logpdf")
    class beta_logpdf:
        """log f = (a−1)·log z + (b−1)·log(1−z) − log B(a, b) − log scale, 0 < z < 1, with z = (x −
        loc)/scale. With s = ∂z log f0 = (a - 1) / z - (b - 1) / (1 - z): ∂x = s/scale, ∂loc = −s/scale,
        ∂scale = −(s·z + 1)/scale. On the support 0 < z < 1; outside it logpdf is −inf and its derivative
        nan."""

        def dx(dx, x, a, b, loc, scale):
            z = (x - loc) / scale
            s = (a - 1) / z - (b - 1) / (1 - z)
            return dx * s / scale

        def bx(g, x, a, b, loc, scale):
            z = (x - loc) / scale
            s = (a - 1) / z - (b - 1) / (1 - z)
            return unbroadcast(g * s / scale, x)

        def da(da, x, a, b, loc, scale):
            z = (x - loc) / scale
            return da * (np.log(z) - special.digamma(a) + special.digamma(a + b))

        def ba(g, x, a, b, loc, scale):
            z = (x - loc) / scale
            return unbroadcast(g * (np.log(z) - special.digamma(a) + special.digamma(a + b)), a)

        def db(db, x, a, b, loc, scale):
            z = (x - loc) / scale
            return db * (np.log1p(-z) - special.digamma(b) + special.digamma(a + b))

        def bb(g, x, a, b, loc, scale):
            z = (x - loc) / scale
            return unbroadcast(g * (np.log1p(-z) - special.digamma(b) + special.digamma(a + b)), b)

        def dloc(dloc, x, a, b, loc, scale):
            z = (x - loc) / scale
            s = (a - 1) / z - (b - 1) / (1 - z)
            return dloc * -s / scale

        def bloc(g, x, a, b, loc, scale):
            z = (x - loc) / scale
            s = (a - 1) / z - (b - 1) / (1 - z)
            return unbroadcast(g * -s / scale, loc)

        def dscale(dscale, x, a, b, loc, scale):
            z = (x - loc) / scale
            s = (a - 1) / z - (b - 1) / (1 - z)
            return dscale * (-(s * z + 1) / scale)

        def bscale(g, x, a, b, loc, scale):
            z = (x - loc) / scale
            s = (a - 1) / z - (b - 1) / (1 - z)
            return unbroadcast(g * (-(s * z + 1) / scale), scale)

    @define(stats.beta.pdf, "x, a, b, loc=0, scale=1", path="scipy.stats.beta.pdf")
    class beta_pdf:
        """f = exp(logpdf): ∂f = f·∂logpdf (see beta_logpdf). On the support 0 < z < 1; outside it logpdf is
        −inf and its derivative nan."""

        def dx(dx, x, a, b, loc, scale, out):
            z = (x - loc) / scale
            s = (a - 1) / z - (b - 1) / (1 - z)
            return dx * out * s / scale

        def bx(g, x, a, b, loc, scale, out):
            z = (x - loc) / scale
            s = (a - 1) / z - (b - 1) / (1 - z)
            return unbroadcast(g * out * s / scale, x)

        def da(da, x, a, b, loc, scale, out):
            z = (x - loc) / scale
            return da * out * (np.log(z) - special.digamma(a) + special.digamma(a + b))

        def ba(g, x, a, b, loc, scale, out):
            z = (x - loc) / scale
            return unbroadcast(g * out * (np.log(z) - special.digamma(a) + special.digamma(a + b)), a)

        def db(db, x, a, b, loc, scale, out):
            z = (x - loc) / scale
            return db * out * (np.log1p(-z) - special.digamma(b) + special.digamma(a + b))

        def bb(g, x, a, b, loc, scale, out):
            z = (x - loc) / scale
            return unbroadcast(g * out * (np.log1p(-z) - special.digamma(b) + special.digamma(a + b)), b)

        def dloc(dloc, x, a, b, loc, scale, out):
            z = (x - loc) / scale
            s = (a - 1) / z - (b - 1) / (1 - z)
            return dloc * out * -s / scale

        def bloc(g, x, a, b, loc, scale, out):
            z = (x - loc) / scale
            s = (a - 1) / z - (b - 1) / (1 - z)
            return unbroadcast(g * out * -s / scale, loc)

        def dscale(dscale, x, a, b, loc, scale, out):
            z = (x - loc) / scale
            s = (a - 1) / z - (b - 1) / (1 - z)
            return dscale * out * (-(s * z + 1) / scale)

        def bscale(g, x, a, b, loc, scale, out):
            z = (x - loc) / scale
            s = (a - 1) / z - (b - 1) / (1 - z)
            return unbroadcast(g * out * (-(s * z + 1) / scale), scale)

    @define(stats.beta.cdf, "x, a, b, loc=0, scale=1", path="scipy.stats.beta.cdf")
    class beta_cdf:
        """F = cdf: ∂x F = f (the pdf), ∂loc F = −f, ∂scale F = −f·z, z = (x − loc)/scale. No rule for a and b
        (no closed form): an active value there is refused."""

        def dx(dx, x, a, b, loc, scale):
            f = stats.beta.pdf(x, a, b, loc, scale)
            return dx * f

        def bx(g, x, a, b, loc, scale):
            f = stats.beta.pdf(x, a, b, loc, scale)
            return unbroadcast(g * f, x)

        def dloc(dloc, x, a, b, loc, scale):
            f = stats.beta.pdf(x, a, b, loc, scale)
            return dloc * (-f)

        def bloc(g, x, a, b, loc, scale):
            f = stats.beta.pdf(x, a, b, loc, scale)
            return unbroadcast(g * (-f), loc)

        def dscale(dscale, x, a, b, loc, scale):
            f = stats.beta.pdf(x, a, b, loc, scale)
            return dscale * (-f * (x - loc) / scale)

        def bscale(g, x, a, b, loc, scale):
            f = stats.beta.pdf(x, a, b, loc, scale)
            return unbroadcast(g * (-f * (x - loc) / scale), scale)

    @define(stats.beta.logcdf, "x, a, b, loc=0, scale=1", path="scipy.stats.beta.logcdf")
    class beta_logcdf:
        """log F: ∂x = f/F = exp(logpdf − log F), ∂loc = −∂x, ∂scale = −∂x·z. No rule for a and b (no closed
        form): an active value there is refused."""

        def dx(dx, x, a, b, loc, scale, out):
            f = np.exp(stats.beta.logpdf(x, a, b, loc, scale) - out)
            return dx * f

        def bx(g, x, a, b, loc, scale, out):
            f = np.exp(stats.beta.logpdf(x, a, b, loc, scale) - out)
            return unbroadcast(g * f, x)

        def dloc(dloc, x, a, b, loc, scale, out):
            f = np.exp(stats.beta.logpdf(x, a, b, loc, scale) - out)
            return dloc * (-f)

        def bloc(g, x, a, b, loc, scale, out):
            f = np.exp(stats.beta.logpdf(x, a, b, loc, scale) - out)
            return unbroadcast(g * (-f), loc)

        def dscale(dscale, x, a, b, loc, scale, out):
            f = np.exp(stats.beta.logpdf(x, a, b, loc, scale) - out)
            return dscale * (-f * (x - loc) / scale)

        def bscale(g, x, a, b, loc, scale, out):
            f = np.exp(stats.beta.logpdf(x, a, b, loc, scale) - out)
            return unbroadcast(g * (-f * (x - loc) / scale), scale)

    @define(stats.beta.sf, "x, a, b, loc=0, scale=1", path="scipy.stats.beta.sf")
    class beta_sf:
        """S = 1 − cdf: ∂x S = −f (the pdf), ∂loc S = f, ∂scale S = f·z, z = (x − loc)/scale. No rule for a
        and b (no closed form): an active value there is refused."""

        def dx(dx, x, a, b, loc, scale):
            f = stats.beta.pdf(x, a, b, loc, scale)
            return dx * (-f)

        def bx(g, x, a, b, loc, scale):
            f = stats.beta.pdf(x, a, b, loc, scale)
            return unbroadcast(g * (-f), x)

        def dloc(dloc, x, a, b, loc, scale):
            f = stats.beta.pdf(x, a, b, loc, scale)
            return dloc * f

        def bloc(g, x, a, b, loc, scale):
            f = stats.beta.pdf(x, a, b, loc, scale)
            return unbroadcast(g * f, loc)

        def dscale(dscale, x, a, b, loc, scale):
            f = stats.beta.pdf(x, a, b, loc, scale)
            return dscale * (f * (x - loc) / scale)

        def bscale(g, x, a, b, loc, scale):
            f = stats.beta.pdf(x, a, b, loc, scale)
            return unbroadcast(g * (f * (x - loc) / scale), scale)

    @define(stats.beta.logsf, "x, a, b, loc=0, scale=1", path="scipy.stats.beta.logsf")
    class beta_logsf:
        """log S: ∂x = −f/S = −exp(logpdf − log S), ∂loc = −∂x, ∂scale = −∂x·z. No rule for a and b (no closed
        form): an active value there is refused."""

        def dx(dx, x, a, b, loc, scale, out):
            f = np.exp(stats.beta.logpdf(x, a, b, loc, scale) - out)
            return dx * (-f)

        def bx(g, x, a, b, loc, scale, out):
            f = np.exp(stats.beta.logpdf(x, a, b, loc, scale) - out)
            return unbroadcast(g * (-f), x)

        def dloc(dloc, x, a, b, loc, scale, out):
            f = np.exp(stats.beta.logpdf(x, a, b, loc, scale) - out)
            return dloc * f

        def bloc(g, x, a, b, loc, scale, out):
            f = np.exp(stats.beta.logpdf(x, a, b, loc, scale) - out)
            return unbroadcast(g * f, loc)

        def dscale(dscale, x, a, b, loc, scale, out):
            f = np.exp(stats.beta.logpdf(x, a, b, loc, scale) - out)
            return dscale * (f * (x - loc) / scale)

        def bscale(g, x, a, b, loc, scale, out):
            f = np.exp(stats.beta.logpdf(x, a, b, loc, scale) - out)
            return unbroadcast(g * (f * (x - loc) / scale), scale)

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
