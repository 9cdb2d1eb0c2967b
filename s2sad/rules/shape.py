"""Shape and layout: reshaping, axes, joining and splitting, tiling, padding, sorting, copies
and conversions. All are linear in the array (sort is linear for a fixed permutation), so each
tangent is the op applied to the tangent; the adjoints put the cotangent back where each input
element went, adding up where one element went to several places.

A sequence argument (`np.concatenate((a, b))`) has a tuple or list of tangents as its tangent
and a tuple or list of cotangents, one per item, as its cotangent. One array joined as the
sequence of its rows (`np.vstack(x)`, `np.concatenate(x)`) has an array cotangent.
"""

import numpy as np

from s2sad import runtime
from s2sad.rules.registry import define, elementwise, linear, nondiff, refuse
from s2sad.runtime import (
    astype_tangent,
    broadcast_like,
    convert,
    convert_back,
    inverse_axes,
    join,
    negated_shift,
    pad_value,
    pad_value_adjoint,
    rolled_to,
    select_adjoint,
    select_none,
    select_tangent,
    sort_order,
    split_axis,
    take_along_axis_adjoint,
    unbroadcast,
    unjoin,
    unpad,
    unrepeat,
    untile,
)


@linear(np.transpose, "x, axes=None", view=True)
class transpose:
    def bx(g, axes):
        return np.transpose(g, inverse_axes(axes))


@linear(np.reshape, "x, shape", view=True)
class reshape:
    def bx(g, x):
        return np.reshape(g, np.shape(x))


@linear(np.ravel, "x", view=True)
class ravel:
    def bx(g, x):
        return np.reshape(g, np.shape(x))


@linear(np.ndarray.flatten, "x", path="numpy.ndarray.flatten")
class flatten:
    """`x.flatten()`: like ravel, but always a copy (what the array method does)."""

    def bx(g, x):
        return np.reshape(g, np.shape(x))


@linear(np.squeeze, "x, axis=None", view=True)
class squeeze:
    def bx(g, x):
        return np.reshape(g, np.shape(x))


@linear(np.expand_dims, "x, axis", view=True)
class expand_dims:
    def bx(g, x):
        return np.reshape(g, np.shape(x))


@linear(np.swapaxes, "x, axis1, axis2", view=True)
class swapaxes:
    def bx(g, axis1, axis2):
        return np.swapaxes(g, axis1, axis2)


@linear(np.moveaxis, "x, source, destination", view=True)
class moveaxis:
    def bx(g, source, destination):
        return np.moveaxis(g, destination, source)


@linear(np.broadcast_to, "x, shape", view=True)
class broadcast_to:
    def bx(g, x):
        return unbroadcast(g, x)


@linear(np.flip, "x, axis=None", view=True)
class flip:
    def bx(g, axis):
        return np.flip(g, axis)




@linear(np.atleast_3d, "x", view=True)
@linear(np.atleast_2d, "x", view=True)
@linear(np.atleast_1d, "x", view=True)
class atleast_1d:
    """One array: a view of x with axes of length 1 added (several arrays give a tuple and have
    no rule: call it once per array)."""

    def bx(g, x):
        return np.reshape(g, np.shape(x))


@linear(np.flipud, "x", view=True)
class flipud:
    def bx(g):
        return np.flipud(g)


@linear(np.fliplr, "x", view=True)
class fliplr:
    def bx(g):
        return np.fliplr(g)


@linear(np.rot90, "x, k=1, axes=(0, 1)", view=True)
class rot90:
    def bx(g, k, axes):
        return np.rot90(g, np.negative(k), axes)


@linear(np.rollaxis, "x, axis, start=0", view=True)
class rollaxis:
    """The same permutation as moving `axis` to where it lands (see `rolled_to`)."""

    def bx(g, x, axis, start):
        return np.moveaxis(g, rolled_to(x, axis, start), axis)


@linear(np.roll, "x, shift, axis=None")
class roll:
    def bx(g, shift, axis):
        return np.roll(g, negated_shift(shift), axis)


@linear(np.tile, "x, reps")
class tile:
    """Each element of x appears once per tile: its cotangent is the sum over the tiles."""

    def bx(g, x, reps):
        return untile(g, x, reps)


@linear(np.repeat, "x, repeats, axis=None")
class repeat:
    def bx(g, x, repeats, axis):
        return unrepeat(g, x, repeats, axis)


@define(np.pad, "x, pad_width, mode='constant', constant_values=0")
class pad:
    """Linear in x for the modes that copy elements (constant, edge, reflect, symmetric, wrap);
    in mode constant also linear in the padding value, which fills the padded cells (each entry
    of a per-axis value the cells it fills; the other modes ignore it)."""

    def dx(dx, pad_width, mode):
        return np.pad(dx, pad_width, mode=mode)

    def bx(g, x, pad_width, mode):
        return unpad(g, x, pad_width, mode)

    def dconstant_values(dconstant_values, x, pad_width, mode):
        return pad_value(dconstant_values, x, pad_width, mode)

    def bconstant_values(g, x, pad_width, constant_values, mode):
        return pad_value_adjoint(g, x, pad_width, constant_values, mode)


@linear(np.concatenate, "arrays, axis=0", linear_in="arrays")
class concatenate:
    def barrays(g, arrays, axis):
        return unjoin(g, arrays, axis, "concatenate")


@linear(np.stack, "arrays, axis=0", linear_in="arrays")
class stack:
    def barrays(g, arrays, axis):
        return unjoin(g, arrays, axis, "stack")


@linear(np.hstack, "arrays", linear_in="arrays")
class hstack:
    def barrays(g, arrays):
        return unjoin(g, arrays, 0, "hstack")


@linear(np.vstack, "arrays", linear_in="arrays")
class vstack:
    def barrays(g, arrays):
        return unjoin(g, arrays, 0, "vstack")


if hasattr(np, "row_stack"):  # a deprecated name of np.vstack (NumPy 2.0), absent from later versions
    @linear(np.row_stack, "arrays", linear_in="arrays")
    class row_stack:
        """np.vstack under its old name."""

        def barrays(g, arrays):
            return unjoin(g, arrays, 0, "vstack")


@linear(np.column_stack, "arrays", linear_in="arrays")
class column_stack:
    """1-D arrays become columns; the cotangent of each is its columns of g."""

    def barrays(g, arrays):
        return unjoin(g, arrays, 1, "column_stack")


@linear(np.dstack, "arrays", linear_in="arrays")
class dstack:
    def barrays(g, arrays):
        return unjoin(g, arrays, 2, "dstack")


@linear(np.array_split, "x, indices_or_sections, axis=0", structural=True)
@linear(np.split, "x, indices_or_sections, axis=0", structural=True)
class split:
    """A list of pieces; its cotangent is a list of cotangents, joined back along the axis."""

    def bx(g, axis, out):
        return join(g, out, axis, "concatenate")


@linear(np.vsplit, "x, indices_or_sections", structural=True)
class vsplit:
    """np.split along axis 0."""

    def bx(g, out):
        return join(g, out, 0, "concatenate")


@linear(np.hsplit, "x, indices_or_sections", structural=True)
class hsplit:
    """np.split along axis 1 (along axis 0 for a 1-D array)."""

    def bx(g, x, out):
        return join(g, out, split_axis(x, 1), "concatenate")


@linear(np.dsplit, "x, indices_or_sections", structural=True)
class dsplit:
    """np.split along axis 2."""

    def bx(g, out):
        return join(g, out, 2, "concatenate")


@define(np.append, "arr, values, axis=None")
class append:
    """np.concatenate((arr, values), axis) (with axis None both are flattened first): each part
    of the cotangent goes back to the array it came from."""

    def darr(darr, arr, values, axis):
        return join((darr, None), (arr, values), axis, "concatenate")

    def barr(g, arr, values, axis):
        return unjoin(g, (arr, values), axis, "concatenate")[0]

    def dvalues(dvalues, arr, values, axis):
        return join((None, dvalues), (arr, values), axis, "concatenate")

    def bvalues(g, arr, values, axis):
        return unjoin(g, (arr, values), axis, "concatenate")[1]


@define(np.sort, "x, axis=-1, kind=None")
class sort:
    """The derivative follows the permutation that sorts x (stable: tied elements keep their
    order, so each gets the derivative of the place it lands in)."""

    def dx(dx, x, axis):
        return np.take_along_axis(dx, sort_order(x, axis), axis)

    def bx(g, x, axis):
        return take_along_axis_adjoint(g, x, sort_order(x, axis), axis)


@define(np.partition, "x, kth, axis=-1, kind='introselect', order=None")
class partition:
    """Like sort: the derivative follows the permutation that np.argpartition finds (the one
    np.partition applies), each element taking the derivative of the place it lands in."""

    def dx(dx, x, kth, axis):
        return np.take_along_axis(dx, np.argpartition(x, kth, axis), axis)

    def bx(g, x, kth, axis):
        return take_along_axis_adjoint(g, x, np.argpartition(x, kth, axis), axis)


nondiff(np.argpartition, rolled_to, split_axis, family="shape")


@elementwise(np.nan_to_num, "x, copy=True, nan=0.0, posinf=None, neginf=None")
def nan_to_num(x):
    """Slope 1 where x is finite (kept as it is), 0 where a NaN or an infinity is replaced by a
    constant. The replacement values are constants (an active one is refused)."""
    return np.isfinite(x) * 1.0


@define(np.select, "condlist, choicelist, default=0")
class select:
    """Each element comes from the first choice whose condition holds there, else from the
    default: linear in the choices and the default, piecewise constant in the conditions."""

    def dchoicelist(dchoicelist, condlist, choicelist):
        return select_tangent(dchoicelist, condlist, choicelist)

    def bchoicelist(g, condlist, choicelist):
        return select_adjoint(g, condlist, choicelist)

    def ddefault(ddefault, condlist, choicelist):
        return np.where(select_none(condlist, choicelist), ddefault, 0.0)

    def bdefault(g, condlist, choicelist, default):
        return unbroadcast(np.where(select_none(condlist, choicelist), g, 0.0), default)


@linear(runtime.select_tangent, "d, condlist, choicelist", linear_in="d")
class select_tangent_rule:
    def bd(c, condlist, choicelist):
        return select_adjoint(c, condlist, choicelist)


@linear(runtime.select_adjoint, "g, condlist, choicelist", linear_in="g", structural=True)
class select_adjoint_rule:
    def bg(c, g, condlist, choicelist):
        return broadcast_like(select_tangent(c, condlist, choicelist), g)


nondiff(runtime.select_none, family="shape")
refuse(np.piecewise, reason="NumPy calls its functions itself, out of s2sad's sight, when the function list is "
                            "not known where the derivative is built",
       hint="write the list in the call, np.piecewise(x, [x < 0, x >= 0], [f, g]) (then s2sad writes out "
            "NumPy's loop), or compute each piece and pick with np.select([x < 0, x >= 0], [f(x), g(x)]) or "
            "np.where(x < 0, f(x), g(x))")


@linear(np.copy, "x", same_shape_as=0)
class copy:
    def bx(g):
        return g


# The array methods that NumPy's functions would take out of the array's own library (`x.copy()`,
# `x.flatten()`, `x.astype(t)`; see `front.methods`) lower to runtime helpers that call the method.


@linear(runtime.array_copy, "x", same_shape_as=0)
class array_copy:
    """`x.copy()`: a copy by the array's library."""

    def bx(g):
        return g


@linear(runtime.flatten, "x")
class flatten_method:
    """`x.flatten()`: a flat copy by the array's library."""

    def bx(g, x):
        return np.reshape(g, np.shape(x))


@define(runtime.astype, "x, dtype, copy=True", taylor="each", same_shape_as=0)
class astype:
    """`x.astype(t)`: the tangent cast to `t` too (zeros for an integer `t`), the cotangent cast
    back to the dtype of x."""

    def dx(dx, dtype):
        return astype_tangent(dx, dtype)

    def bx(g, x, dtype):
        return convert_back(g, x, dtype)


@linear(runtime.astype_tangent, "dx, dtype", linear_in="dx", same_shape_as=0)
class astype_tangent_rule:
    def bdx(g, dx, dtype):
        return convert_back(g, dx, dtype)


# ---------------------------------------------------------------- complex parts (docs/conventions.md)


@linear(np.real, "x", view=True)
class real:
    """The adjoint of the real part is the real cotangent itself: Re(g dz) = g Re(dz)."""

    def bx(g):
        return np.real(g)


@linear(np.imag, "x", view=True)
class imag:
    """g Im(dz) = Re(-1j g dz): the adjoint is -1j times the real cotangent (0 in the real part,
    so a real x, whose imaginary part is the constant 0, gets none)."""

    def bx(g):
        return -1j * np.real(g)


@linear(np.conj, "x", also=(np.conjugate,))
class conj:
    """Re(g conj(dz)) = Re(conj(g) dz): the adjoint conjugates the cotangent."""

    def bx(g):
        return np.conj(g)


@define(np.asarray, "x, dtype=None, copy=None, like=None", also=(np.array,), view=True)
class asarray:
    """A conversion: the cotangent gets the dtype of x back (float32 stays float32); converting
    to an integer dtype carries no derivative. A list or tuple x (`np.array([a, b])`) has one
    cotangent per item. With `like=` (an array of another library) the tangent is made in that
    library too."""

    def dx(dx, dtype, like):
        return convert(dx, dtype, like)

    def bx(g, x, dtype):
        return convert_back(g, x, dtype)
