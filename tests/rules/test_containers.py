"""Rules of s2sad/rules/containers.py: item and attribute reads, what a `for` loop indexes,
`sum` and `reversed` of a sequence, the (co)tangent helpers `add`, `copy_value`, `copy_list`
and the adjoint helpers' own rules (so generated code can be differentiated again); both
modes, the rule alone and through the pipeline.

Array cases go through the shared spec harness (TABLE). Ops whose arguments or results are
containers (lists, tuples, dicts, namedtuples, dataclasses) are checked by `check_tree_rule`,
the same checks for pytrees: the tangent against a central difference, the adjoint against
the tangent by the dot-product identity, and the adjoint with the structure of its primal.
"""

import builtins
import inspect
import logging
import operator
import warnings
from collections import namedtuple
from dataclasses import dataclass

import numpy as np
import pytest

import s2sad
from s2sad import runtime
from s2sad.rules.registry import lookup
from s2sad.runtime import map_structure
from s2sad.testing import check_grads, make_function, rule_adjoint, rule_tangent
from tests.rules.family import Nondiff, test_nondiff_gives_zero_derivatives, test_pipeline, test_rule, test_taylor  # noqa: F401
from tests.rules.specs import Spec

Point = namedtuple("Point", "x y")


@dataclass
class Box:
    w: np.ndarray
    b: float


TABLE = [
    Spec(operator.getitem, shapes=[((4,),)], extra=(1,)),
    Spec(operator.getitem, shapes=[((3, 4),)], extra=((1, slice(None, 2)),)),
    Spec(operator.getitem, shapes=[((5,),)], extra=([0, 3, 3],)),
    Spec(runtime.item_or_missing, shapes=[((3, 4),)], extra=((1, slice(None, 2)),)),
    Spec(runtime.item_to_write, shapes=[((3, 4),)], extra=((1, slice(None, 2)),)),
    Spec(runtime.as_sequence, shapes=[((3,),), ((2, 3),)]),
    Spec(runtime.copy_value),
    Spec(runtime.add, ("a", "b"), shapes=[((), ()), ((3,), (3,)), ((2, 3), (2, 3))]),
    Spec(runtime.sequence_adjoint, ("g",), shapes=[((3,),)], extra=([0.0, 0.0, 0.0],)),
]

CUSTOM_TESTED = (builtins.getattr, builtins.sum, builtins.reversed, builtins.list, builtins.tuple,
                 runtime.items_tangent, runtime.items_adjoint, runtime.items_adjoint_transpose, runtime.copy_list,
                 runtime.reverse_items, runtime.not_an_item, runtime.without, runtime.without_adjoint,
                 runtime.reversed_adjoint, runtime.reversed_adjoint_transpose, runtime.not_a_view,
                 runtime.attribute_adjoint, runtime.attribute_of, runtime.getitem_adjoint, runtime.sum_adjoint,
                 runtime.like_structure,
                 runtime.concat, runtime.repeat_items, runtime.head, runtime.tail, runtime.pad_head, runtime.pad_tail,
                 runtime.fold_repeats, runtime.unfold_repeats, runtime.sequence_tangent, runtime.rebindable,
                 runtime.sequence_adjoint_transpose, runtime.unwritten_sequence, runtime.zero_item,
                 runtime.transposed, runtime.untransposed, runtime.stored_value)
"""Ops whose arguments or results are containers: checked below with pytrees."""

SPECS = TABLE + [Spec(op) for op in CUSTOM_TESTED]
RULE_SPECS = TABLE
"""The shared tests run TABLE; the ops of CUSTOM_TESTED have tests of their own below."""

NONDIFF = [
    *[Nondiff(op, "op(x > 0.0, x < 2.0) * 1.0") for op in (operator.and_, operator.or_, operator.xor)],
    Nondiff(operator.invert, "op(x > 0.0) * 1.0"),
    Nondiff(builtins.len, "op(x) + 0.5"),
    Nondiff(builtins.range, "op(int(x[2]))[-1] + 0.5"),
    Nondiff(builtins.isinstance, "op(x, np.ndarray) * 1.0"),
    Nondiff(builtins.print, "(op(x) is None) + 0.5"),
    Nondiff(builtins.bool, "op(x[0]) * 1.0"),
    Nondiff(runtime.zeros_like, "op(x) + 0.5"),
    Nondiff(runtime.seed, "op(x[0]) + 0.5"),
    Nondiff(runtime.keys_of, "op({2.0: x})[0] * 1.0"),
    Nondiff(runtime.is_count, "op(len(x)) * 1.0 + op(x[0]) * 1.0"),
    Nondiff(runtime.shape_of, "(op([x, x[1:]]) is None) + 0.5"),
    Nondiff(runtime.value_derivative, "(op(np.sin, 'jvp', (0,), 1, (), 'fun', 'f.py', 1) is None) + x[0] * 0.0 + 0.5"),
    Nondiff(operator.contains, "op(x, x[0]) * 1.0"),
    Nondiff(runtime.global_value, "op({'k': 0.5}, 'k') + x[0] * 0.0"),
    Nondiff(runtime.not_shared, "(op(x, x[0], ('f.py', 1, 0, '', 'a', 'b')) is None) + 0.5"),
    Nondiff(runtime.set_global, "(op({}, 'k', x) is None) + 0.5"),
    Nondiff(runtime.method_value, "(x[0] > 1e9 and op(x, 'sum', False, 'f.py', 1)) * 1.0 + 0.5"),  # refuses numpy's
    *[Nondiff(op, "(op('%s', x) is None) + 0.5") for op in (logging.debug, logging.info)],
    *[Nondiff(op, "(x[0] > 1e9 and op('never')) * 1.0 + 0.5")  # they warn or raise: not taken
      for op in (logging.warning, logging.error, logging.critical, logging.exception, warnings.warn,
                 runtime.assertion_failed)],
    Nondiff(logging.log, "(x[0] > 1e9 and op(50, 'never')) * 1.0 + 0.5"),
    Nondiff(runtime.raise_error, "(x[0] > 1e9 and op(ValueError('never'))) * 1.0 + 0.5"),
    Nondiff(runtime.check_pair, "(op((x, x[0]), ('f.py', 1, '    return f(x)', 'f')) is None) + 0.5"),
    Nondiff(runtime.enter_context, "(op(__import__('contextlib').nullcontext()) is None) + 0.5"),
    Nondiff(runtime.exit_context, "(op(__import__('contextlib').nullcontext()) is None) + 0.5"),
    Nondiff(runtime.try_block, "(op(('f.py', 1, 0, ''), ((KeyError,),)).handlers == ((KeyError,),)) + x * 0.0"),
    Nondiff(runtime.try_outcome, "op(__import__('s2sad').runtime.try_block(('f.py', 1, 0, '')), 2) + x * 0.0"),
    Nondiff(runtime.caught_error, "(op(__import__('s2sad').runtime.try_block(('f.py', 1, 0, ''))) is None) + x * 0.0"),
]


# ---------------------------------------------------------------------------- rules on pytrees


def random_like(tree, rng: np.random.Generator):
    """A random direction with the structure of `tree` (None where a leaf carries no derivative)."""
    def leaf(v):
        if isinstance(v, (bool, str)) or v is None:
            return None
        return float(rng.standard_normal()) if np.ndim(v) == 0 else rng.standard_normal(np.shape(v))

    return map_structure(leaf, tree)


def flat(tree) -> np.ndarray:
    leaves: list = []
    map_structure(lambda v: leaves.append(np.ravel(np.asarray(v, np.float64))) if v is not None else None, tree)
    return np.concatenate(leaves) if leaves else np.zeros(0)


def same_structure(actual, expected) -> None:
    if isinstance(expected, (list, tuple, dict)) or hasattr(expected, "__dataclass_fields__"):
        assert type(actual) is type(expected), (actual, expected)
        map_structure(same_structure, actual, expected)
    else:
        assert np.shape(actual) == np.shape(expected), (actual, expected)


def check_tree_rule(op, args: dict, kwargs: dict | None = None, eps: float = 1e-6) -> None:
    """check_rule for arguments and results that are pytrees."""
    rule = lookup(op)
    rng = np.random.default_rng(0)
    defaults = {n: p.default for n, p in rule.signature.parameters.items() if p.default is not inspect.Parameter.empty}
    values = {**defaults, **args, **(kwargs or {})}
    out = call(rule, values)
    for param in (p for p in rule.diff_params if p in args):
        d = random_like(args[param], rng)
        moved = [call(rule, {**values, param: map_structure(step, values[param], d)}) for step in (
            lambda v, dv: v + eps * dv, lambda v, dv: v - eps * dv)]
        numeric = (flat(moved[0]) - flat(moved[1])) / (2 * eps)
        tangent = rule_tangent(rule, param, values, d, out)
        np.testing.assert_allclose(flat(tangent), numeric, rtol=1e-6, atol=1e-8, err_msg=f"tangent of {param}")
        g = random_like(out, rng)
        adjoint = rule_adjoint(rule, param, values, g, out)
        same_structure(adjoint, args[param])
        np.testing.assert_allclose(flat(adjoint) @ flat(d), flat(tangent) @ flat(g), rtol=1e-12,
                                   err_msg=f"adjoint of {param} vs tangent")


def call(rule, values: dict):
    positional = [values[n] for n, p in rule.signature.parameters.items() if p.default is inspect.Parameter.empty]
    return rule.op(*positional, **{n: values[n] for n, p in rule.signature.parameters.items()
                                   if p.default is not inspect.Parameter.empty and n in values})


TREE_CASES = [
    pytest.param(operator.getitem, {"x": [1.5, np.array([1.0, 2.0]), -0.5]}, {"index": 1}, id="getitem-list"),
    pytest.param(operator.getitem, {"x": (1.5, np.array([1.0, 2.0]))}, {"index": -1}, id="getitem-tuple"),
    pytest.param(operator.getitem, {"x": {"a": 1.5, "b": np.array([1.0, 2.0])}}, {"index": "b"}, id="getitem-dict"),
    pytest.param(runtime.item_or_missing, {"x": {"a": 1.5, "b": np.array([1.0, 2.0])}}, {"index": "b"},
                 id="item_or_missing-dict"),
    pytest.param(operator.getitem, {"x": Point(1.5, np.array([1.0, 2.0]))}, {"index": 0}, id="getitem-namedtuple"),
    pytest.param(builtins.getattr, {"x": Point(1.5, np.array([1.0, 2.0]))}, {"name": "y"}, id="getattr-namedtuple"),
    pytest.param(builtins.getattr, {"x": Box(np.array([1.0, 2.0]), 0.5)}, {"name": "b"}, id="getattr-dataclass"),
    pytest.param(builtins.sum, {"x": [1.5, 0.5, -2.0]}, {}, id="sum-floats"),
    pytest.param(builtins.sum, {"x": [np.array([1.0, 2.0]), 0.5, np.array([3.0, -1.0])]}, {}, id="sum-broadcast"),
    pytest.param(builtins.sum, {"x": (np.ones((2, 3)), np.full(3, 2.0))}, {}, id="sum-tuple"),
    pytest.param(runtime.as_sequence, {"x": [1.5, np.array([1.0, 2.0])]}, {}, id="as_sequence-list"),
    pytest.param(runtime.copy_value, {"x": {"a": [1.5, np.array([1.0, 2.0])], "b": 2.0}}, {}, id="copy_value-tree"),
    pytest.param(runtime.copy_list, {"x": [1.5, np.array([1.0, 2.0])]}, {}, id="copy_list"),
    pytest.param(runtime.reverse_items, {"x": [1.5, np.array([1.0, 2.0]), 3.0]}, {}, id="reverse_items"),
    pytest.param(runtime.add, {"a": [1.5, {"k": np.array([1.0, 2.0])}], "b": [0.5, {"k": np.array([3.0, 4.0])}]}, {},
                 id="add-tree"),
    pytest.param(runtime.getitem_adjoint, {"g": np.array([1.0, 2.0])}, {"x": np.zeros((3, 4)),
                                                                         "index": (1, slice(None, 2))},
                 id="getitem_adjoint-array"),
    pytest.param(runtime.getitem_adjoint, {"g": np.array([1.0, 2.0, 3.0])}, {"x": np.zeros(5), "index": [1, 3, 1]},
                 id="getitem_adjoint-repeats"),
    pytest.param(runtime.getitem_adjoint, {"g": 2.0}, {"x": [0.0, 0.0, 0.0], "index": 2}, id="getitem_adjoint-list"),
    pytest.param(runtime.getitem_adjoint, {"g": np.array([1.0, 2.0])}, {"x": {"a": 0.0, "b": np.zeros(2)},
                                                                         "index": "b"}, id="getitem_adjoint-dict"),
    pytest.param(runtime.sum_adjoint, {"g": np.array([1.0, 2.0])}, {"items": [0.0, np.zeros(2)]},
                 id="sum_adjoint-broadcast"),
    pytest.param(runtime.sum_adjoint, {"g": 1.5}, {"items": [0.0, 0.0, 0.0]}, id="sum_adjoint-floats"),
    pytest.param(runtime.zero_item, {"adjoint": {"a": [1.0, np.array([1.0, 2.0])], "b": 1.5}},
                 {"index": "a", "x": {"a": [0.5, np.ones(2)], "b": 2.0}}, id="zero_item-dict"),
    pytest.param(runtime.zero_item, {"adjoint": [(1.0, -2.0), 1.5]}, {"index": 0, "x": [(0.5, 1.0), 2.0]},
                 id="zero_item-list"),
    pytest.param(runtime.zero_item, {"adjoint": [np.array([1.0, 2.0]), 1.5]}, {"index": 0, "x": [np.ones(2), 2.0]},
                 id="zero_item-array-slot-kept"),
    pytest.param(runtime.sequence_adjoint, {"g": [1.0, 2.0]}, {"items": [0.0, 0.0]}, id="sequence_adjoint"),
    pytest.param(runtime.attribute_adjoint, {"g": np.array([1.0, 2.0])},
                 {"obj": Point(0.0, np.zeros(2)), "name": "y"}, id="attribute_adjoint-namedtuple"),
    pytest.param(runtime.attribute_adjoint, {"g": 1.5}, {"obj": Box(np.zeros(2), 0.0), "name": "b"},
                 id="attribute_adjoint-dataclass"),
    pytest.param(runtime.attribute_of, {"g": Point(1.5, np.array([1.0, 2.0]))}, {"name": "x"}, id="attribute_of"),
    pytest.param(runtime.reversed_adjoint, {"g": np.array([1.0, 2.0, 3.0])}, {"items": np.zeros(3)},
                 id="reversed_adjoint-array"),
    pytest.param(runtime.reversed_adjoint, {"g": [1.0, np.array([2.0, 3.0])]}, {"items": (0.0, np.zeros(2))},
                 id="reversed_adjoint-tuple"),
    pytest.param(runtime.not_a_view, {"x": np.array([1.0, 2.0])}, {}, id="not_a_view"),
    pytest.param(runtime.not_an_item, {"x": 1.5}, {"like": [1.5, [2.0]]}, id="not_an_item"),
    pytest.param(runtime.without, {"x": {"a": 1.5, "b": np.array([2.0, 3.0]), "c": -1.0}}, {"index": "b"},
                 id="without-dict"),
    pytest.param(runtime.without, {"x": [1.5, np.array([2.0, 3.0]), -1.0, 4.0]}, {"index": slice(1, 3)},
                 id="without-list-slice"),
    pytest.param(runtime.without_adjoint, {"g": [1.5, -1.0]}, {"x": [0.0, np.zeros(2), 0.0], "index": 1},
                 id="without_adjoint-list"),
    pytest.param(runtime.not_an_item, {"x": np.array([1.5, 2.0])}, {"like": np.zeros((2, 2))},
                 id="not_an_item-array-copy"),
    pytest.param(runtime.item_to_write, {"x": [[1.0, 2.0], np.array([3.0, 4.0])]}, {"index": 1},
                 id="item_to_write-list"),
    pytest.param(builtins.list, {"x": np.array([[1.0, 2.0], [3.0, 4.0]])}, {}, id="list-of-rows"),
    pytest.param(builtins.list, {"x": (1.5, np.array([2.0, 3.0]))}, {}, id="list-of-tuple"),
    pytest.param(builtins.tuple, {"x": [1.5, np.array([2.0, 3.0])]}, {}, id="tuple-of-list"),
    pytest.param(builtins.tuple, {"x": np.array([1.0, 2.0, 3.0])}, {}, id="tuple-of-array"),
    pytest.param(runtime.items_tangent, {"dx": np.array([1.0, 2.0])}, {"x": np.zeros(2), "kind": "list"},
                 id="items_tangent-array"),
    pytest.param(runtime.items_adjoint, {"g": [1.0, np.array([2.0, 3.0])]}, {"items": (0.0, np.zeros(2))},
                 id="items_adjoint-tuple"),
    pytest.param(runtime.items_adjoint, {"g": [1.0, 2.0, 3.0]}, {"items": np.zeros(3)}, id="items_adjoint-array"),
    pytest.param(runtime.items_adjoint_transpose, {"c": np.array([1.0, 2.0])},
                 {"g": (0.0, 0.0), "items": np.zeros(2)}, id="items_adjoint_transpose"),
    pytest.param(runtime.like_structure, {"g": np.array([1.0, 2.0])}, {"x": [0.0, 0.0]}, id="like_structure-list"),
    pytest.param(runtime.like_structure, {"g": np.array([[1.0, 2.0], [3.0, 4.0]])},
                 {"x": (np.zeros(2), [0.0, 0.0])}, id="like_structure-nested"),
    pytest.param(runtime.like_structure, {"g": [1.5, np.array([1.0, 2.0])]}, {"x": [0.0, np.zeros(2)]},
                 id="like_structure-already"),
    pytest.param(runtime.like_structure, {"g": {"a": np.array([1.0, 2.0])}}, {"x": {"a": [0.0, 0.0]}},
                 id="like_structure-dict"),
    pytest.param(runtime.concat, {"x": [1.5, np.array([1.0, 2.0])], "y": [0.5]}, {}, id="concat-list"),
    pytest.param(runtime.concat, {"x": (1.5,), "y": (np.array([1.0, 2.0]), -0.5)}, {}, id="concat-tuple"),
    pytest.param(runtime.repeat_items, {"x": (1.5, np.array([1.0, 2.0]))}, {"count": 3}, id="repeat_items"),
    pytest.param(runtime.head, {"g": [1.0, np.array([2.0, 3.0]), 4.0]}, {"x": [0.0, np.zeros(2)]}, id="head"),
    pytest.param(runtime.tail, {"g": (1.0, np.array([2.0, 3.0]), 4.0)}, {"y": (0.0,)}, id="tail"),
    pytest.param(runtime.pad_tail, {"c": [1.0]}, {"g": [0.0, np.zeros(2)]}, id="pad_tail"),
    pytest.param(runtime.pad_head, {"c": [np.array([1.0, 2.0])]}, {"g": [0.0, np.zeros(2)]}, id="pad_head"),
    pytest.param(runtime.fold_repeats, {"g": [1.0, np.array([2.0, 3.0]), 4.0, np.array([5.0, 6.0])]},
                 {"x": [0.0, np.zeros(2)]}, id="fold_repeats"),
    pytest.param(runtime.unfold_repeats, {"c": [1.0, np.array([2.0, 3.0])]},
                 {"g": [0.0, np.zeros(2), 0.0, np.zeros(2)]}, id="unfold_repeats"),
    pytest.param(runtime.transposed, {"rows": [[1.5, np.array([1.0, 2.0]), 3.0], (0.5, np.array([2.0, 4.0]))]},
                 {}, id="transposed-ragged"),
    pytest.param(runtime.transposed, {"rows": np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])}, {}, id="transposed-array"),
    pytest.param(runtime.untransposed, {"g": [(1.5, 2.0), (np.array([1.0, 2.0]), np.array([3.0, 4.0]))]},
                 {"rows": [[0.0, np.zeros(2), 0.0], (0.0, np.zeros(2))]}, id="untransposed-ragged"),
    pytest.param(runtime.untransposed, {"g": [(1.0, 2.0), (3.0, 4.0), (5.0, 6.0)]}, {"rows": np.zeros((2, 3))},
                 id="untransposed-array"),
    pytest.param(runtime.sequence_tangent, {"dx": [1.5, np.array([1.0, 2.0])]}, {"x": [0.0, np.zeros(2)]},
                 id="sequence_tangent-list"),
    pytest.param(runtime.sequence_tangent, {"dx": {2.0: 1.5, 3.0: np.array([1.0, 2.0])}},
                 {"x": {2.0: 0.0, 3.0: np.zeros(2)}}, id="sequence_tangent-dict-keys"),
    pytest.param(runtime.sequence_adjoint_transpose, {"c": [1.0, np.array([2.0, 3.0])]},
                 {"g": [0.0, np.zeros(2)], "items": [0.0, np.zeros(2)]}, id="sequence_adjoint_transpose"),
    pytest.param(runtime.sequence_adjoint_transpose, {"c": {"a": 1.0, "b": np.array([2.0, 3.0])}},
                 {"g": [0.0, 0.0], "items": {"a": 0.0, "b": np.zeros(2)}}, id="sequence_adjoint_transpose-dict"),
    pytest.param(runtime.rebindable, {"x": (1.5, 2.5)}, {"where": ("f.py", 1, 0, "")}, id="rebindable-tuple"),
    pytest.param(runtime.stored_value, {"x": np.array([1.5, 2.5])}, {"like": np.zeros((2, 2)), "where": None},
                 id="stored_value-into-array"),
    pytest.param(runtime.stored_value, {"x": [1.5, np.array([2.5, 3.0])]}, {"like": [0.0, 0.0], "where": None},
                 id="stored_value-copy-into-list"),
    pytest.param(runtime.unwritten_sequence, {"x": (1.5, np.array([2.5, 3.0]))}, {"where": ("f.py", 1, 0, "")},
                 id="unwritten_sequence-tuple"),
    pytest.param(runtime.unwritten_sequence, {"x": {"a": 1.5, "b": np.array([2.5, 3.0])}},
                 {"where": ("f.py", 1, 0, "")}, id="unwritten_sequence-dict"),
    pytest.param(runtime.reversed_adjoint_transpose, {"c": (1.0, np.array([2.0, 3.0]))},
                 {"g": [0.0, np.zeros(2)]}, id="reversed_adjoint_transpose"),
]


@pytest.mark.parametrize(("op", "args", "kwargs"), TREE_CASES)
def test_rule_on_pytrees(op, args, kwargs):
    check_tree_rule(op, args, kwargs)


def test_getitem_repeated_indices_add_up():
    adjoint = rule_adjoint(lookup(operator.getitem), "x", {"x": np.zeros(4), "index": [1, 1, 3]},
                           np.array([1.0, 2.0, 3.0]), None)
    np.testing.assert_array_equal(adjoint, [0.0, 3.0, 0.0, 3.0])


def test_a_dicts_keys_carry_no_derivative():
    items = {"a": 1.5, "b": np.array([1.0, 2.0])}
    zero = runtime.sequence_adjoint(["ignored", "keys"], items)
    assert zero.keys() == items.keys() and zero["a"] == 0.0
    np.testing.assert_array_equal(zero["b"], [0.0, 0.0])


def test_add_treats_none_as_zero():
    assert runtime.add(None, 2.0) == 2.0 and runtime.add(2.0, None) == 2.0
    assert runtime.add([1.0, None], [None, 2.0]) == [1.0, 2.0]


def test_attribute_of_no_cotangent_is_none():
    assert runtime.attribute_of(None, "x") is None


def test_copy_value_copies_arrays_and_containers():
    tree = {"a": [np.ones(2)], "b": 1.0}
    copied = runtime.copy_value(tree)
    copied["a"][0][0] = 5.0
    assert tree["a"][0][0] == 1.0


# ---------------------------------------------------------------------------- through the pipeline


def items_of_a_list(xs):
    return xs[0] * xs[2] + xs[-1]


def items_of_a_dict(d):
    return d["a"] * np.sum(d["b"])


def fields(p, box):
    return p.x * np.sum(p.y * box.w) + box.b


def sum_of_a_list(xs):
    return sum([v * v for v in xs])


def reversed_list(x):
    s = 0.0
    for v in reversed([x, x * x, np.sin(x)]):
        s = s * 2.0 + v
    return s


@pytest.mark.parametrize(("fun", "args"), [
    (items_of_a_list, [[1.5, -0.5, 2.0]]),
    (items_of_a_dict, [{"a": 1.5, "b": np.array([1.0, 2.0])}]),
    (fields, [Point(1.5, np.array([1.0, 2.0])), Box(np.array([0.5, -1.0]), 0.25)]),
    (sum_of_a_list, [[1.5, np.array([1.0, 2.0])]]),
    (reversed_list, [0.7]),
], ids=lambda v: getattr(v, "__name__", ""))
def test_pipeline_on_containers(fun, args):
    check_grads(fun, args)


def test_pipeline_gradients_keep_the_container_type():
    grad = s2sad.grad(fields, argnums=(0, 1))(Point(1.5, np.array([1.0, 2.0])), Box(np.array([0.5, -1.0]), 0.25))
    assert type(grad[0]) is Point and type(grad[1]) is Box
    assert s2sad.grad(items_of_a_list)([1.5, -0.5, 2.0]) == pytest.approx([2.0, 0.0, 2.5])
    assert s2sad.grad(reversed_list)(0.7) == pytest.approx(1.0 + 2 * 2 * 0.7 + 4 * np.cos(0.7))


def sum_of_rows(x):
    return np.sum(sum(x) ** 2)


def reversed_array(x):
    s = 0.0
    for v in reversed(x):
        s = s * 2.0 + v
    return s


def sum_of_a_tuple(t):
    return np.sum(sum(t) ** 2)


@pytest.mark.parametrize(("fun", "x"), [(sum_of_rows, np.arange(6.0).reshape(2, 3)),
                                        (reversed_array, np.array([1.0, 2.0, 4.0])),
                                        (sum_of_a_tuple, (np.ones(2), np.ones(2)))],
                         ids=["sum-rows", "reversed-array", "sum-tuple"])
def test_gradient_of_a_sequence_has_its_type(fun, x):
    assert type(s2sad.grad(fun)(x)) is type(x)


def sum_with_start(xs, start):
    return sum(xs, start)


def test_sum_with_a_start_value():
    assert s2sad.jvp(sum_with_start, ([1.0, 2.0], 1.0), ([0.0, 0.0], 0.0)) == pytest.approx((4.0, 0.0))
    items, start = s2sad.grad(sum_with_start, argnums=(0, 1))([1.0, 2.0], 3.0)
    assert items == pytest.approx([1.0, 1.0]) and start == pytest.approx(1.0)


def test_second_order_through_item_reads():
    fun = make_function("def f(xs):\n    return xs[0] ** 3 * xs[1]\n")
    hessian_row = s2sad.grad(make_function("def g(a, b):\n    return f([a, b])\n", {"f": fun}))
    assert s2sad.grad(hessian_row)(1.5, 2.0) == pytest.approx(6 * 1.5 * 2.0)
