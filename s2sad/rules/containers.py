"""Containers and iteration: item and attribute reads, `sum` of a sequence, what a `for` loop
indexes. Displays (`(a, b)`, `[a, b]`, `{k: v}`) and in-place writes (`x[i] = v`, `append`,
`pop`) are handled by the transforms themselves: their derivatives are the same operation on
the derivatives.
"""

import builtins
import logging
import operator
import warnings

from s2sad import runtime
from s2sad.rules.registry import declare, define, linear, nondiff
from s2sad.runtime import add_at, attribute_adjoint, getitem_adjoint, sum_adjoint


@linear(operator.getitem, "x, index", view=True, structural=True, also=(runtime.item_or_missing,))
class getitem_rule:
    """x[index] for arrays, lists, tuples and dicts: the adjoint scatters into the slot read;
    repeated integer indices add up."""

    def bx(g, x, index):
        return getitem_adjoint(g, x, index)

    def ix(bx, g, index):
        return add_at(bx, index, g)


@define(runtime.item_to_write, "x, index", structural=True)
class item_to_write_rule:
    """A copy of x[index] (a row, a list or dict item) that `x[i][j] = v` writes into: as x[index]
    (the tangent's item is copied as it is: the checks of the primal's item are done)."""

    def dx(dx, index):
        return runtime.copy_value(dx[index])

    def bx(g, x, index):
        return getitem_adjoint(g, x, index)


@linear(builtins.getattr, "x, name", view=True, structural=True)
class attribute_rule:
    """obj.name on namedtuples and dataclasses: the adjoint is a zero structure with g in name."""

    def bx(g, x, name):
        return attribute_adjoint(g, x, name)


@define(runtime.as_sequence, "x", view=True, structural=True)
class sequence_rule:
    """What a for loop indexes: the sequence itself (a dict's keys carry no derivative)."""

    def dx(dx, x):
        return runtime.sequence_tangent(dx, x)

    def bx(g, x):
        return runtime.sequence_adjoint(g, x)


@linear(runtime.sequence_tangent, "dx, x", linear_in="dx", structural=True)
class sequence_tangent_rule:
    def bdx(g, x):
        return runtime.sequence_adjoint(g, x)


@define(builtins.sum, "x, start=0", structural=True)
class sum_of_items_rule:
    """sum(items, start): every item, and start, gets the cotangent (summed down to its shape)."""

    def dx(dx):
        return sum(dx)

    def bx(g, x):
        return sum_adjoint(g, x)

    def dstart(dstart):
        return dstart

    def bstart(g, start):
        return runtime.unbroadcast(g, start)


@linear(runtime.getitem_adjoint, "g, x, index", linear_in="g", structural=True)
class getitem_adjoint_rule:
    def bg(c, index):
        return c[index]


@linear(runtime.zero_item, "adjoint, index, x", linear_in="adjoint", structural=True, same_shape_as=0)
class zero_item_rule:
    """A projection (one slot set to zero): its own adjoint."""

    def badjoint(c, index, x):
        return runtime.zero_item(c, index, x)


@linear(runtime.sum_adjoint, "g, items", linear_in="g", structural=True)
class sum_adjoint_rule:
    def bg(c, g):
        return runtime.unbroadcast(sum(c), g)


nondiff(operator.and_, operator.or_, operator.xor, operator.invert, builtins.len, builtins.range,
        builtins.isinstance)
nondiff(builtins.print, logging.debug, logging.info, logging.warning, logging.error, logging.critical,
        logging.exception, logging.log, warnings.warn, statement=True, effects=True)
"""Calls for their output alone: they run in the primal sweep as in Python, and have no derivative."""
nondiff(operator.contains)
nondiff(runtime.assertion_failed, runtime.enter_context, runtime.exit_context, runtime.raise_error, effects=True)
nondiff(runtime.set_global, statement=True, effects=True)
nondiff(runtime.not_shared, runtime.check_pair, effects=True)
"""The check, on entry, that a parameter written in place is no other parameter's object."""
nondiff(runtime.global_value)
"""A name declared `global` and assigned: read where `global` stands, written after each assignment
(`s2sad.runtime.state`); module state carries no derivative."""
nondiff(runtime.try_block, runtime.try_outcome, runtime.caught_error)
declare(runtime.call_unpacking)
"""`f(*xs, **opts)` whose items s2sad cannot list when it builds the derivative: it runs on
constants (`np.random.randn(*shape)`); on a differentiated value it is refused."""
nondiff(builtins.bool)
nondiff(runtime.keys_of, structural=True)
nondiff(runtime.is_count)
"""Whether a tuple or list times a name is repetition: the test of that branch (see `derivs.sequence_ops`)."""
declare(runtime.make_list, runtime.make_dict, runtime.make_record, runtime.list_append, structural=True)
"""Containers built or grown in place: their derivatives are built item by item (see `derivs`)."""
declare(runtime.list_pop, runtime.tape_pop, runtime.trip_value, view=True, structural=True)
"""They hand out an item the container holds (so the item is shared with it)."""
declare(runtime.setitem, runtime.add_at, runtime.add_into, structural=True, same_shape_as=0)
"""In-place writes (s2sad's own helpers): the result is the container or array written."""


@linear(runtime.copy_value, "x", structural=True, same_shape_as=0)
class copy_value_rule:
    def bx(g):
        return g


@define(runtime.add, "a, b", structural=True)
class add_rule:
    """`a + b` for (co)tangents that may be containers (None counts as zero)."""

    def da(da):
        return da

    def ba(c):
        return c

    def db(db):
        return db

    def bb(c):
        return c


@linear(runtime.like_structure, "g, x", linear_in="g", same_shape_as=1)
class like_structure_rule:
    """A gradient in the structure of its argument (a list stays a list): only the containers
    change, so the transpose puts the cotangent back in the structure of `g`."""

    def bg(c, g):
        return runtime.like_structure(c, g)


@linear(runtime.copy_list, "x", structural=True)
class copy_list_rule:
    def bx(g):
        return g


@linear(builtins.reversed, "x", structural=True)
class reversed_items_rule:
    """reversed(seq): the cotangent is reversed back (an array's as an array)."""

    def bx(g, x):
        return runtime.reversed_adjoint(g, x)


@define(builtins.list, "x", view=True, structural=True)
class list_of_items_rule:
    """list(items) (a list of an array's rows, of a tuple's or a generator helper's values): the
    items' derivatives, in the kind of each side (a dict's keys carry none)."""

    def dx(dx, x):
        return runtime.items_tangent(dx, x, "list")

    def bx(g, x):
        return runtime.items_adjoint(g, x)


@define(builtins.tuple, "x", view=True, structural=True)
class tuple_of_items_rule:
    """tuple(items): as list(items)."""

    def dx(dx, x):
        return runtime.items_tangent(dx, x, "tuple")

    def bx(g, x):
        return runtime.items_adjoint(g, x)


@linear(runtime.items_tangent, "dx, x, kind", linear_in="dx", structural=True)
class items_tangent_rule:
    def bdx(g, x):
        return runtime.items_adjoint(g, x)


@linear(runtime.items_adjoint, "g, items", linear_in="g", structural=True)
class items_adjoint_rule:
    def bg(c, g, items):
        return runtime.items_adjoint_transpose(c, g, items)


@linear(runtime.items_adjoint_transpose, "c, g, items", linear_in="c", structural=True)
class items_adjoint_transpose_rule:
    def bc(b, items):
        return runtime.items_adjoint(b, items)


@linear(runtime.without, "x, index", structural=True)
class without_rule:
    """`del x[index]` as a new dict or list: the deleted item's cotangent is zero."""

    def bx(g, x, index):
        return runtime.without_adjoint(g, x, index)


@linear(runtime.without_adjoint, "g, x, index", linear_in="g", structural=True)
class without_adjoint_rule:
    def bg(c, index):
        return runtime.without(c, index)


@linear(runtime.reverse_items, "x", structural=True)
class reverse_items_rule:
    def bx(g):
        return runtime.reverse_items(g)


@linear(runtime.sequence_adjoint, "g, items", linear_in="g", structural=True)
class sequence_adjoint_rule:
    def bg(c, g, items):
        return runtime.sequence_adjoint_transpose(c, g, items)


@linear(runtime.sequence_adjoint_transpose, "c, g, items", linear_in="c", structural=True)
class sequence_adjoint_transpose_rule:
    def bc(b, items):
        return runtime.sequence_adjoint(b, items)


@linear(runtime.attribute_adjoint, "g, obj, name", linear_in="g", structural=True)
class attribute_adjoint_rule:
    def bg(c, name):
        return runtime.attribute_of(c, name)


@linear(runtime.attribute_of, "g, name", linear_in="g", structural=True)
class attribute_of_rule:
    def bg(c, g, name):
        return runtime.attribute_adjoint(c, g, name)


@linear(runtime.reversed_adjoint, "g, items", linear_in="g")
class reversed_adjoint_rule:
    def bg(c, g):
        return runtime.reversed_adjoint_transpose(c, g)  # reversing is its own transpose


@linear(runtime.reversed_adjoint_transpose, "c, g", linear_in="c")
class reversed_adjoint_transpose_rule:
    def bc(b, c):
        return runtime.reversed_adjoint_transpose(b, c)


@define(runtime.concat, "x, y", structural=True)
class concat_rule:
    """`x + y` on tuples or lists: each side's (co)tangent is its own slice of the result's."""

    def dx(dx, y):
        return runtime.concat(dx, runtime.zeros_like(y))

    def bx(g, x):
        return runtime.head(g, x)

    def dy(dy, x):
        return runtime.concat(runtime.zeros_like(x), dy)

    def by(g, y):
        return runtime.tail(g, y)


@linear(runtime.repeat_items, "x, count", structural=True)
class repeat_items_rule:
    """`x * count` on a tuple or list: the cotangents of the copies add up."""

    def bx(g, x):
        return runtime.fold_repeats(g, x)


@linear(runtime.transposed, "rows", linear_in="rows", structural=True)
class transposed_rule:
    """`zip(*rows)`: the cotangent of each tuple's items goes back to the rows they came from."""

    def brows(g, rows):
        return runtime.untransposed(g, rows)


@linear(runtime.untransposed, "g, rows", linear_in="g", structural=True)
class untransposed_rule:
    def bg(c, g):
        return runtime.transposed(c)


@linear(runtime.head, "g, x", linear_in="g", structural=True)
class head_rule:
    def bg(c, g):
        return runtime.pad_tail(c, g)


@linear(runtime.tail, "g, y", linear_in="g", structural=True)
class tail_rule:
    def bg(c, g):
        return runtime.pad_head(c, g)


@linear(runtime.pad_tail, "c, g", linear_in="c", structural=True)
class pad_tail_rule:
    def bc(b, c):
        return runtime.head(b, c)


@linear(runtime.pad_head, "c, g", linear_in="c", structural=True)
class pad_head_rule:
    def bc(b, c):
        return runtime.tail(b, c)


@linear(runtime.fold_repeats, "g, x", linear_in="g", structural=True)
class fold_repeats_rule:
    def bg(c, g):
        return runtime.unfold_repeats(c, g)


@linear(runtime.unfold_repeats, "c, g", linear_in="c", structural=True)
class unfold_repeats_rule:
    def bc(b, c):
        return runtime.fold_repeats(b, c)


@define(runtime.rebindable, "x, where", structural=True, effects=True)
class rebindable_rule:
    """The identity on numbers and tuples (an array or a list is refused when it runs)."""

    def dx(dx):
        return dx

    def bx(g):
        return g


@define(runtime.stored_value, "x, like, where", structural=True, effects=True)
class stored_value_rule:
    """The identity on a value stored into an array (`like`), or a copy of one stored into a
    list or dict that is not read after the value is written (it is refused otherwise)."""

    def dx(dx):
        return dx

    def bx(g):
        return g


@define(runtime.unwritten_sequence, "x, where", view=True, structural=True, effects=True)
class unwritten_sequence_rule:
    """The identity on what a for loop may iterate over while writing into it (a dict, a tuple);
    an array or a list is refused when it runs."""

    def dx(dx):
        return dx

    def bx(g):
        return g


@linear(runtime.not_a_view, "x", effects=True)
class not_a_view_rule:
    def bx(g):
        return g


@linear(runtime.not_an_item, "x, like", structural=True, effects=True)
class not_an_item_rule:
    def bx(g):
        return g
