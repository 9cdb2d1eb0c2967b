"""Rules for the helpers generated code calls, so that generated code can be differentiated."""

import numpy as np

from s2sad import runtime
from s2sad.rules.registry import declare, linear, nondiff
from s2sad.runtime import broadcast_like, matmul_adjoint_x, matmul_adjoint_y, unbroadcast


@linear(runtime.unbroadcast, "g, like", linear_in="g", same_shape_as=1)
class unbroadcast_rule:
    def bg(c, g):
        return broadcast_like(c, g)


@linear(runtime.unbroadcast_to, "g, shape", linear_in="g")
class unbroadcast_to_rule:
    def bg(c, g):
        return broadcast_like(c, g)


@linear(runtime.broadcast_like, "g, like", linear_in="g", same_shape_as=1)
class broadcast_like_rule:
    def bg(c, g):
        return unbroadcast(c, g)


@linear(runtime.unreduce, "g, x, axis=None, keepdims=False", linear_in="g", same_shape_as=1)
class unreduce_rule:
    def bg(c, axis, keepdims):
        return np.sum(c, axis=axis, keepdims=keepdims)


@linear(runtime.matmul_adjoint_x, "g, x, y", linear_in="g,y", same_shape_as=1)
class matmul_adjoint_x_rule:
    """g @ y.T is linear in g and in y; each adjoint is a product with the other."""

    def bg(c, y):
        return c @ y

    def by(c, g, x, y):
        return matmul_adjoint_y(g, c, y)


@linear(runtime.matmul_adjoint_y, "g, x, y", linear_in="g,x", same_shape_as=2)
class matmul_adjoint_y_rule:
    def bg(c, x):
        return x @ c

    def bx(c, g, x, y):
        return matmul_adjoint_x(g, x, c)


nondiff(runtime.seed, effects=True)
nondiff(runtime.zeros_like, structural=True, same_shape_as=0)
nondiff(runtime.reduced_size, runtime.size, runtime.inverse_axes, runtime.negated_shift, runtime.shape_of,
        runtime.square_mask)
declare(runtime.receive, effects=True, structural=True, same_shape_as=0)
"""Where a callee's adjoint hands its result back (see `transforms.calls`)."""
# Taylor mode's coefficient lists (`runtime.series`): lists, whose items may be containers; the
# items `series_pop` takes out are held by the coefficients of a container, like `list_pop`'s.
declare(*(getattr(runtime, name) for name in runtime.series.__all__ if name not in ("Series", "series_pop")),
        structural=True)
declare(runtime.series_pop, structural=True, view=True)


# ---------------------------------------------------------------- special points (strong zeros)

from s2sad.rules.registry import define  # noqa: E402
from s2sad.runtime import power_term, series_div, series_mul, strong_div, strong_mul  # noqa: E402


@define(runtime.strong_mul, "d, p", shape="elementwise", broadcasts=True)
class strong_mul_rule:
    """Bilinear like `d * p`; in every term a zero factor wins over an inf or NaN one."""

    def dd(dd, p):
        return strong_mul(dd, p)

    def bd(c, d, p):
        return unbroadcast(strong_mul(c, p), d)

    def dp(dp, d):
        return strong_mul(d, dp)

    def bp(c, d, p):
        return unbroadcast(strong_mul(d, c), p)

    def taylor(d, d_c, p, p_c):
        return series_mul(d, d_c, p, p_c)


@define(runtime.strong_div, "d, q", shape="elementwise", broadcasts=True)
class strong_div_rule:
    """Like `d / q`; the `q` term is zero where `d` or the (co)tangent is zero."""

    def dd(dd, q):
        return strong_div(dd, q)

    def bd(c, d, q):
        return unbroadcast(strong_div(c, q), d)

    def dq(dq, q, out):
        return strong_div(strong_mul(-dq, out), q)

    def bq(c, q, out):
        return unbroadcast(strong_div(strong_mul(-c, out), q), q)

    def taylor(d, d_c, q, q_c):
        return series_div(d, d_c, q, q_c)


@define(runtime.power_term, "d, x, y", shape="elementwise", broadcasts=True)
class power_term_rule:
    """d·y·x^(y−1): linear in d; in x it is the next power term; in y, d·x^(y−1)·(1 + y ln x)."""

    def dd(dd, x, y):
        return power_term(dd, x, y)

    def bd(c, d, x, y):
        return unbroadcast(power_term(c, x, y), d)

    def dx(dx, d, x, y):
        return power_term(d * y * dx, x, y - 1)

    def bx(c, d, x, y):
        return unbroadcast(power_term(c * d * y, x, y - 1), x)

    def dy(dy, d, x, y):
        return strong_mul(d * dy, np.power(x, y - 1) * (1 + y * np.log(x)))

    def by(c, d, x, y):
        return unbroadcast(strong_mul(c * d, np.power(x, y - 1) * (1 + y * np.log(x))), y)


@define(runtime.log_base, "base")
class log_base_rule:
    def dbase(dbase, base):
        return dbase / base

    def bbase(c, base):
        return c / base


nondiff(runtime.ties, runtime.clip_weights)


# ---------------------------------------------------------------- reductions, linear algebra,
# shape and indexing helpers (the einsum helper `contract` shares np.einsum's rule, in linalg.py)

from s2sad.rules.registry import define as _define  # noqa: E402
from s2sad.runtime import (  # noqa: E402
    as_columns,
    collapse_weights,
    contract,
    convert,
    convert_back,
    div_or_zero,
    dot_adjoint_x,
    dot_adjoint_y,
    expand_weights,
    from_columns,
    from_last,
    join,
    norm_hvp,
    prod_others,
    square_mask,
    to_last,
    unjoin,
)


@linear(runtime.to_last, "x, axis=None")
class to_last_rule:
    def bx(c, x, axis):
        return from_last(c, x, axis)


@linear(runtime.from_last, "y, like, axis=None", linear_in="y")
class from_last_rule:
    def by(c, axis):
        return to_last(c, axis)


@_define(runtime.prod_others, "x, axis=None")
class prod_others_rule:
    """d(prod of the others of i)/dx_j = product of all but i and j (0 for j = i): a symmetric
    matrix per reduction, itself the product of the others of x with x_i set to 1."""

    def dx(dx, x, axis):
        z = to_last(x, axis)
        same = square_mask(np.shape(z)[-1], z)
        pairs = prod_others(np.where(same, 1.0, np.expand_dims(z, -2)), -1) * np.logical_not(same)
        return from_last(np.sum(pairs * np.expand_dims(to_last(dx, axis), -2), axis=-1), x, axis)

    def bx(g, x, axis):
        z = to_last(x, axis)
        same = square_mask(np.shape(z)[-1], z)
        pairs = prod_others(np.where(same, 1.0, np.expand_dims(z, -2)), -1) * np.logical_not(same)
        return from_last(np.sum(pairs * np.expand_dims(to_last(g, axis), -2), axis=-1), x, axis)


@_define(runtime.div_or_zero, "num, den", shape="elementwise")
class div_or_zero_rule:
    """num / den, 0 where den is 0: every term is 0 there too."""

    def dnum(dnum, den):
        return div_or_zero(dnum, den)

    def bnum(g, num, den):
        return unbroadcast(div_or_zero(g, den), num)

    def dden(dden, den, out):
        return -div_or_zero(out * dden, den)

    def bden(g, den, out):
        return unbroadcast(-div_or_zero(g * out, den), den)


@linear(runtime.expand_weights, "weights, x, axis=None", linear_in="weights")
class expand_weights_rule:
    def bweights(c, weights, x, axis):
        return collapse_weights(c, weights, x, axis)


@linear(runtime.collapse_weights, "c, weights, x, axis=None", linear_in="c")
class collapse_weights_rule:
    def bc(h, x, axis):
        return expand_weights(h, x, axis)


@_define(runtime.norm_partial, "x, ord, axes, keepdims, norm")
class norm_partial_rule:
    """The gradient of a norm; `norm` is the norm's value, passed to save recomputing it, so the
    x term is the whole derivative: the Hessian, symmetric, hence the same in both directions."""

    def dx(dx, x, ord, axes, keepdims, norm):
        return norm_hvp(x, dx, ord, axes, keepdims, norm)

    def bx(g, x, ord, axes, keepdims, norm):
        return norm_hvp(x, g, ord, axes, keepdims, norm)


@_define(runtime.norm_hvp, "x, v, ord, axes, keepdims, norm")
class norm_hvp_rule:
    """Linear and self-adjoint in v. Its derivative in x (a third derivative of the norm) is not
    implemented: it raises NotImplementedError when it would be computed."""

    def dv(dv, x, ord, axes, keepdims, norm):
        return norm_hvp(x, dv, ord, axes, keepdims, norm)

    def bv(c, x, ord, axes, keepdims, norm):
        return norm_hvp(x, c, ord, axes, keepdims, norm)

    def dx(dx, x):
        return runtime.not_implemented(x, "third derivatives of np.linalg.norm")

    def bx(c, x):
        return runtime.not_implemented(x, "third derivatives of np.linalg.norm")


@linear(runtime.as_columns, "v, like", linear_in="v")
class as_columns_rule:
    def bv(c, like):
        return from_columns(c, like)


@linear(runtime.from_columns, "m, like", linear_in="m")
class from_columns_rule:
    def bm(c, like):
        return as_columns(c, like)


@linear(runtime.dot_adjoint_x, "g, x, y", linear_in="g,y")
class dot_adjoint_x_rule:
    def bg(c, y):
        return np.dot(c, y)

    def by(c, g, y):
        return dot_adjoint_y(g, c, y)


@linear(runtime.dot_adjoint_y, "g, x, y", linear_in="g,x")
class dot_adjoint_y_rule:
    def bg(c, x):
        return np.dot(x, c)

    def bx(c, g, x):
        return dot_adjoint_x(g, x, c)


@linear(runtime.diagonal_adjoint, "g, x, offset=0, axis1=0, axis2=1", linear_in="g")
class diagonal_adjoint_rule:
    def bg(c, offset, axis1, axis2):
        return np.diagonal(c, offset, axis1, axis2)


@linear(runtime.diag_adjoint, "g, v, k=0", linear_in="g")
class diag_adjoint_rule:
    def bg(c, k):
        return np.diag(c, k)


@linear(runtime.einsum_place, "r, place, like", linear_in="r")
class einsum_place_rule:
    def br(c, place):
        return contract(place[2], c)


@linear(runtime.unjoin, "g, arrays, axis=0, how='concatenate'", linear_in="g")
class unjoin_rule:
    def bg(c, arrays, axis, how):
        return join(c, arrays, axis, how)


@linear(runtime.join, "c, arrays, axis=0, how='concatenate'", linear_in="c")
class join_rule:
    def bc(h, arrays, axis, how):
        return unjoin(h, arrays, axis, how)


@linear(runtime.untile, "g, x, reps", linear_in="g")
class untile_rule:
    def bg(c, reps):
        return np.tile(c, reps)


@linear(runtime.unrepeat, "g, x, repeats, axis=None", linear_in="g")
class unrepeat_rule:
    def bg(c, repeats, axis):
        return np.repeat(c, repeats, axis)


@linear(runtime.unpad, "g, x, pad_width, mode='constant'", linear_in="g")
class unpad_rule:
    def bg(c, pad_width, mode):
        return np.pad(c, pad_width, mode=mode)


@linear(runtime.take_adjoint, "g, x, indices, axis=None", linear_in="g")
class take_adjoint_rule:
    def bg(c, indices, axis):
        return np.take(c, indices, axis=axis)


@linear(runtime.take_along_axis_adjoint, "g, x, indices, axis=-1", linear_in="g")
class take_along_axis_adjoint_rule:
    def bg(c, indices, axis):
        return np.take_along_axis(c, indices, axis)


@linear(runtime.convert, "x, dtype=None, like=None")
class convert_rule:
    def bx(c, x, dtype):
        return convert_back(c, x, dtype)


@linear(runtime.convert_back, "g, x, dtype=None", linear_in="g")
class convert_back_rule:
    def bg(c, dtype):
        return convert(c, dtype)


nondiff(runtime.tie_weights, same_shape_as=0)
nondiff(runtime.norm_axes, runtime.einsum_plan, runtime.tensordot_subscripts,
        runtime.inner_subscripts, runtime.dot_subscripts, runtime.sort_order)


# ---------------------------------------------------------------- creation and padding values

from s2sad.runtime import (  # noqa: E402
    arange_part,
    arange_part_adjoint,
    fill_adjoint,
    fill_tangent,
    linspace_part,
    linspace_part_adjoint,
    pad_value,
    pad_value_adjoint,
)


@linear(runtime.fill_tangent, "d, like", linear_in="d")
class fill_tangent_rule:
    def bd(c, d, like):
        return fill_adjoint(c, d, like)


@linear(runtime.fill_adjoint, "g, value, like", linear_in="g")
class fill_adjoint_rule:
    def bg(c, like):
        return fill_tangent(c, like)


@linear(runtime.linspace_part, "d, other, num=50, endpoint=True, retstep=False, dtype=None, axis=0, which=0",
        linear_in="d")
class linspace_part_rule:
    def bd(c, d, other, num, endpoint, retstep, dtype, axis, which):
        return linspace_part_adjoint(c, d, other, num, endpoint, retstep, dtype, axis, which)


@linear(runtime.linspace_part_adjoint,
        "g, like, other, num=50, endpoint=True, retstep=False, dtype=None, axis=0, which=0", linear_in="g")
class linspace_part_adjoint_rule:
    def bg(c, other, num, endpoint, retstep, dtype, axis, which):
        return linspace_part(c, other, num, endpoint, retstep, dtype, axis, which)


@linear(runtime.arange_part, "d, samples, stop, which='start'", linear_in="d")
class arange_part_rule:
    def bd(c, d, samples, stop, which):
        return arange_part_adjoint(c, d, samples, stop, which)


@linear(runtime.arange_part_adjoint, "g, like, samples, stop, which='start'", linear_in="g")
class arange_part_adjoint_rule:
    def bg(c, samples, stop, which):
        return arange_part(c, samples, stop, which)


@linear(runtime.pad_value, "d, x, pad_width, mode='constant'", linear_in="d")
class pad_value_rule:
    def bd(c, d, x, pad_width, mode):
        return pad_value_adjoint(c, x, pad_width, d, mode)


@linear(runtime.pad_value_adjoint, "g, x, pad_width, value, mode='constant'", linear_in="g")
class pad_value_adjoint_rule:
    def bg(c, x, pad_width, mode):
        return pad_value(c, x, pad_width, mode)


# ---------------------------------------------------------------- np.r_[...] and np.c_[...]

from s2sad.runtime import index_concat_adjoint, index_concat_tangent  # noqa: E402


@define(runtime.index_concat, "how, items")
class index_concat_rule:
    """`np.r_[a, b]`, `np.c_[a, b]` (lowered to this call): linear in the array items; the
    tangent puts each item's tangent where its elements went, the adjoint takes them back."""

    def ditems(ditems, how, items):
        return index_concat_tangent(ditems, how, items)

    def bitems(g, how, items):
        return index_concat_adjoint(g, how, items)


@linear(runtime.index_concat_tangent, "ditems, how, items", linear_in="ditems")
class index_concat_tangent_rule:
    def bditems(c, how, items):
        return index_concat_adjoint(c, how, items)


@linear(runtime.index_concat_adjoint, "g, how, items", linear_in="g")
class index_concat_adjoint_rule:
    def bg(c, how, items):
        return index_concat_tangent(c, how, items)
