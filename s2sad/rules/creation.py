"""Creating arrays: zeros, ones, empty and their `*_like` forms, eye, identity and tri make
constants (their arguments are shapes, sizes and arrays read only for their shape). The ops
that put values in are differentiated in those values: `np.full(shape, v)` and
`np.full_like(a, v)` in v (each element is v), `np.linspace(start, stop)` in start and stop
(sample k = start·(1 − t_k) + stop·t_k), `np.arange(start, stop, step)` in start and step
(element k = start + k·step; stop only sets how many elements there are).
"""

import numpy as np

from s2sad.rules.registry import define, nondiff
from s2sad.runtime import (
    arange_part,
    arange_part_adjoint,
    fill_adjoint,
    fill_tangent,
    linspace_part,
    linspace_part_adjoint,
)

nondiff(
    np.zeros, np.ones, np.empty,
    np.zeros_like, np.ones_like, np.empty_like,
    np.eye, np.identity, np.tri,
    family="creation",
)


@define(np.full, "shape, fill_value, dtype=None, order='C', *, like=None", family="creation")
class full:
    """Each element is the fill value: its cotangent is the sum of the result's. An integer
    result carries no derivative."""

    def dfill_value(dfill_value, out):
        return fill_tangent(dfill_value, out)

    def bfill_value(g, fill_value, out):
        return fill_adjoint(g, fill_value, out)


@define(np.full_like, "a, fill_value, dtype=None, order='K', subok=True, shape=None", family="creation",
        constant="a, subok")
class full_like:
    """Like np.full; `a` gives only the shape and dtype (no derivative flows into it)."""

    def dfill_value(dfill_value, out):
        return fill_tangent(dfill_value, out)

    def bfill_value(g, fill_value, out):
        return fill_adjoint(g, fill_value, out)


@define(np.linspace, "start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0", family="creation",
        constant="num, endpoint, retstep", structural=True)
class linspace:
    """Linear in (start, stop): sample k = start·(1 − t_k) + stop·t_k, t_k = k/(num − 1) (k/num
    without the endpoint); with retstep the step (stop − start)/(num − 1) too."""

    def dstart(dstart, stop, num, endpoint, retstep, dtype, axis):
        return linspace_part(dstart, stop, num, endpoint, retstep, dtype, axis, 0)

    def bstart(g, start, stop, num, endpoint, retstep, dtype, axis):
        return linspace_part_adjoint(g, start, stop, num, endpoint, retstep, dtype, axis, 0)

    def dstop(dstop, start, num, endpoint, retstep, dtype, axis):
        return linspace_part(dstop, start, num, endpoint, retstep, dtype, axis, 1)

    def bstop(g, start, stop, num, endpoint, retstep, dtype, axis):
        return linspace_part_adjoint(g, stop, start, num, endpoint, retstep, dtype, axis, 1)


@define(np.arange, "start, stop=None, step=None, dtype=None, *, like=None", family="creation", constant="stop")
class arange:
    """Element k is start + k·step: slope 1 in start, k in step. stop only sets the number of
    elements (slope 0); called with one argument, that argument is the stop."""

    def dstart(dstart, out, stop):
        return arange_part(dstart, out, stop, "start")

    def bstart(g, start, out, stop):
        return arange_part_adjoint(g, start, out, stop, "start")

    def dstep(dstep, out, stop):
        return arange_part(dstep, out, stop, "step")

    def bstep(g, step, out, stop):
        return arange_part_adjoint(g, step, out, stop, "step")
