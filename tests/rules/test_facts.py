"""Op facts live on the rules: what the stages know about an op besides its derivative.

A view, a container result, an effect, a foldable operator, a result shaped like an argument, a
reduction, a broadcast, the parameters that are settings: each is declared where the op's rule
is defined (`define(..., view=True)`, `declare(np.atleast_1d, view=True)` for an op without a
derivative) and read with `registry.facts(op)`. The table below lists every op the stages used
to keep in lists of their own; the proof test adds a view-returning op in the test alone and
shows that the aliasing analysis treats it like NumPy's own views.
"""

import builtins
import operator

import numpy as np
import pytest

import s2sad
from s2sad import runtime
from s2sad.errors import S2SADError
from s2sad.rules.registry import GENERATION, NO_FACTS, RULES, SETTINGS, Facts, facts, linear, lookup
from tests.test_modes_agree import each_mode
from tests.test_purity import agree

COMPARISONS = (operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge)

FACTS = [
    # views (aliasing): items handed out by a container, views without a derivative rule
    *[(op, "view", True) for op in (runtime.list_pop, runtime.tape_pop, runtime.trip_value, np.atleast_1d,
                                    np.atleast_2d,
                                    np.atleast_3d, np.imag, np.rot90, np.fliplr, np.flipud)],
    *[(op, "view", True) for op in (operator.getitem, getattr, np.transpose, np.reshape, np.diagonal, np.real)],
    # results that may be containers (derivs: their adjoints add up item by item)
    *[(getattr(runtime, name), "structural", True) for name in runtime.series.__all__ if name != "Series"],
    (runtime.series_pop, "view", True),
    *[(op, "structural", True) for op in (
        operator.getitem, getattr, builtins.reversed, builtins.sum, builtins.list, builtins.tuple,
        runtime.items_tangent, runtime.items_adjoint, runtime.items_adjoint_transpose, runtime.as_sequence, runtime.add,
        runtime.zeros_like, runtime.copy_value, runtime.copy_list, *runtime.POPS, runtime.list_append,
        runtime.add_at, runtime.setitem, runtime.receive, runtime.getitem_adjoint, runtime.attribute_adjoint,
        runtime.attribute_of, runtime.sum_adjoint, runtime.zero_item, runtime.sequence_adjoint,
        runtime.sequence_adjoint_transpose,
        runtime.sequence_tangent, runtime.keys_of, runtime.rebindable, runtime.stored_value, runtime.not_an_item,
        runtime.item_to_write, runtime.without, runtime.without_adjoint,
        runtime.unwritten_sequence,
        runtime.reverse_items, runtime.concat, runtime.repeat_items, runtime.head, runtime.tail, runtime.pad_head,
        runtime.pad_tail, runtime.fold_repeats, runtime.unfold_repeats, runtime.make_list, runtime.make_dict,
        runtime.make_record,
        np.split, np.array_split, np.linalg.slogdet, np.linspace)],
    # shapes: the result has the shape class of an argument, is a scalar, or broadcasts
    *[(op, "same_shape_as", i) for op, i in (
        (runtime.unbroadcast, 1), (runtime.broadcast_like, 1), (runtime.zeros_like, 0), (runtime.receive, 0),
        (runtime.unreduce, 1), (runtime.copy_value, 0), (runtime.add_at, 0), (runtime.setitem, 0),
        (runtime.like_structure, 1))],
    *[(op, "reduction", True) for op in (np.sum, np.mean)],
    *[(op, "broadcasts", True) for op in (*COMPARISONS, runtime.strong_div, runtime.strong_mul, runtime.power_term)],
    # the optimizer: calls kept when unused, arithmetic folded on constants
    *[(op, "effects", True) for op in (runtime.seed, runtime.receive)],
    # checks that raise where s2sad cannot follow the program: kept even when their value is not read
    *[(op, "effects", True) for op in (runtime.rebindable, runtime.stored_value, runtime.unwritten_sequence,
                                       runtime.not_a_view, runtime.not_an_item, runtime.not_shared)],
    *[(op, "foldable", True) for op in (operator.add, operator.sub, operator.mul, operator.truediv, operator.pow,
                                        operator.neg)],
    # the lowering: calls that may stand as statements
    (builtins.print, "statement", True),
    (builtins.print, "effects", True),  # it runs in the primal sweep of the derivative code
]


@pytest.mark.parametrize("op, fact, value", FACTS, ids=lambda v: getattr(v, "__name__", repr(v)))
def test_each_op_the_stages_listed_has_the_fact_on_its_rule(op, fact, value):
    assert getattr(facts(op), fact) == value


@pytest.mark.parametrize("op, fact", [(np.add, "foldable"), (np.array, "view"),
                                      (np.equal, "broadcasts"), (np.sin, "structural"), (operator.contains, "effects"),
                                      (runtime.item_or_missing, "structural")])
def test_facts_describe_one_spelling_not_the_others_of_its_rule(op, fact):
    """np.add shares operator.add's derivative, not its folding; np.array is np.asarray's other
    spelling, but a copy; `in` has no effects, unlike print (both without derivative)."""
    assert not getattr(facts(op), fact)


def test_an_op_without_a_rule_or_declared_facts_has_none():
    assert facts(np.unique) is NO_FACTS and facts(lambda x: x) == Facts()


def test_an_op_with_declared_facts_only_still_has_no_derivative_rule():
    assert lookup(runtime.list_pop) is None and facts(runtime.list_pop).view


def test_settings_are_declared_on_each_rule():
    """By default the parameters named in SETTINGS, among the rule's own."""
    assert lookup(np.sum).settings == {"axis", "dtype", "keepdims"}
    assert lookup(np.roll).settings == {"shift", "axis"}
    assert lookup(np.sin).settings == frozenset()
    assert all(rule.settings <= SETTINGS for rule in RULES.values())


# ------------------------------------------------------------------ a new view op, aliasing unchanged


def first_row(a):
    """A view of its argument's first row (a new op, registered in the test)."""
    return a[0]


def builtin_view_read_after_a_write(y):
    y = y * 1.0
    v = y[0]
    y[0, 0] = 5.0
    return np.sum(v * y[1])


def new_view_read_after_a_write(y):
    y = y * 1.0
    v = first_row(y)
    y[0, 0] = 5.0
    return np.sum(v * y[1])


def new_view_read_before_a_write(y):
    y = y * 1.0
    v = first_row(y)
    s = np.sum(v * np.sin(v))
    y[0, 0] = 5.0
    return s + np.sum(y * y)


@pytest.fixture
def register_first_row():
    """Registers `first_row`'s rule (a view: `view=` as given) and removes it afterwards."""

    def register(view: bool) -> None:
        @linear(first_row, "a", linear_in="a", view=view)
        class first_row_rule:
            def ba(g, a):
                return runtime.getitem_adjoint(g, a, 0)

    yield register
    RULES.pop(id(first_row), None)
    GENERATION[0] += 1


Y = np.array([[0.3, -0.7, 1.1], [0.5, 0.2, -0.4]])


def _refusal(fun) -> list[str]:
    messages = []
    for call in each_mode(fun, Y):
        with pytest.raises(S2SADError, match="is a view of that array") as info:
            call()
        messages.append(str(info.value))
    return messages


def test_a_new_op_declared_a_view_on_its_rule_is_treated_like_numpys_views(register_first_row):
    """Reading `first_row(y)`, writing `y` in place and then using the row is refused in every
    mode, as `y[0]` is: the aliasing analysis learns it from the rule alone."""
    register_first_row(view=True)
    assert _refusal(new_view_read_after_a_write) == _refusal(builtin_view_read_after_a_write)


def test_a_new_view_op_used_before_the_write_has_the_exact_derivative(register_first_row):
    register_first_row(view=True)
    agree(new_view_read_before_a_write, Y.copy())


def test_without_the_view_fact_the_same_program_is_not_refused(register_first_row):
    """The fact is what the aliasing analysis reads (and without it the derivative is wrong: the
    read row would be taken as unchanged by the write)."""
    register_first_row(view=False)
    grad = s2sad.grad(new_view_read_after_a_write)(Y.copy())
    assert grad[0, 0] != 0.0  # y[0, 0] is overwritten: its true derivative is 0
