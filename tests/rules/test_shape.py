"""Shape and layout: spec table (rule alone and through the pipeline, both modes), joining and
splitting sequences, `np.array` of active values, conversions, sort, second order."""

import numpy as np
import pytest

import s2sad
from s2sad import runtime
from s2sad.testing import check_grads, make_function
from tests.rules.endtoend import check_every_mode
from tests.rules.family import Nondiff, test_nondiff_gives_zero_derivatives, test_pipeline, test_rule, test_taylor  # noqa: F401
from tests.rules.specs import Spec, uniform

MATRIX = [((3, 4),)]
CUBE = [((2, 3, 4),)]


def _like(*shape):
    """A literal of zeros with this shape, for helpers that read only the shape of an argument."""
    return np.zeros(shape).tolist()


TABLE = [
    Spec(np.reshape, shapes=MATRIX, extra=((2, 6),)),
    Spec(np.reshape, shapes=CUBE, extra=((4, -1),)),
    Spec(np.ravel, shapes=[((),), ((3,),), ((3, 4),)]),
    Spec(np.ndarray.flatten, shapes=MATRIX),
    Spec(np.transpose, shapes=MATRIX + CUBE),
    Spec(np.transpose, shapes=CUBE, kwargs=dict(axes=(2, 0, 1))),
    Spec(np.squeeze, shapes=[((1, 3, 1),)]),
    Spec(np.squeeze, shapes=[((1, 3, 1),)], kwargs=dict(axis=-1)),
    Spec(np.expand_dims, shapes=MATRIX, extra=(1,)),
    Spec(np.expand_dims, shapes=MATRIX, kwargs=dict(axis=(0, -1))),
    Spec(np.swapaxes, shapes=CUBE, extra=(0, 2)),
    Spec(np.moveaxis, shapes=CUBE, extra=(0, -1)),
    Spec(np.moveaxis, shapes=CUBE, extra=((0, 1), (2, 0))),
    Spec(np.broadcast_to, shapes=[((3, 1),)], extra=((2, 3, 4),)),
    Spec(np.broadcast_to, shapes=[((),)], extra=((2,),)),
    Spec(np.flip, shapes=MATRIX + CUBE),
    Spec(np.flip, shapes=CUBE, kwargs=dict(axis=(0, 2))),
    Spec(np.roll, shapes=[((5,),)], extra=(2,)),
    Spec(np.roll, shapes=MATRIX, extra=(-1,), kwargs=dict(axis=1)),
    Spec(np.roll, shapes=MATRIX, extra=((1, 2), (0, 1))),
    Spec(np.tile, shapes=[((3,),)] + MATRIX, extra=(2,)),
    Spec(np.tile, shapes=MATRIX, extra=((2, 1, 3),)),
    Spec(np.tile, shapes=CUBE, extra=((2, 1),)),
    Spec(np.repeat, shapes=[((),), ((3,),)] + MATRIX, extra=(2,)),
    Spec(np.repeat, shapes=MATRIX, extra=(2,), kwargs=dict(axis=0)),
    Spec(np.repeat, shapes=MATRIX, extra=([1, 0, 3, 2],), kwargs=dict(axis=-1)),
    Spec(np.pad, shapes=MATRIX, extra=(1,)),
    Spec(np.pad, shapes=MATRIX, extra=(((1, 2), (0, 3)),), kwargs=dict(constant_values=5.0)),
    *[Spec(np.pad, shapes=MATRIX, extra=(((2, 1), (3, 2)),), kwargs=dict(mode=m))
      for m in ("edge", "reflect", "symmetric", "wrap")],
    Spec(np.pad, shapes=[((3,),)], extra=(7,), kwargs=dict(mode="reflect"), name="pad(wider than x)"),
    Spec(np.sort, shapes=[((5,),)] + MATRIX),
    Spec(np.sort, shapes=CUBE, kwargs=dict(axis=0)),
    Spec(np.sort, shapes=MATRIX, kwargs=dict(axis=None)),
    Spec(np.atleast_1d, shapes=[((),), ((3,),), ((3, 4),)]),
    Spec(np.atleast_2d, shapes=[((),), ((3,),), ((3, 4),)]),
    Spec(np.atleast_3d, shapes=[((),), ((3,),), ((3, 4),), ((2, 3, 4),)]),
    Spec(np.flipud, shapes=[((3,),)] + MATRIX + CUBE),
    Spec(np.fliplr, shapes=MATRIX + CUBE),
    Spec(np.rot90, shapes=MATRIX + CUBE),
    Spec(np.rot90, shapes=CUBE, extra=(3, (2, 0))),
    Spec(np.rot90, shapes=MATRIX, kwargs=dict(k=-2)),
    Spec(np.rollaxis, shapes=CUBE, extra=(2,)),
    Spec(np.rollaxis, shapes=CUBE, extra=(0, 3)),
    Spec(np.rollaxis, shapes=CUBE, extra=(-1, -2)),
    Spec(np.partition, shapes=[((5,),)] + MATRIX, extra=(2,)),
    Spec(np.partition, shapes=CUBE, extra=((0, 1),), kwargs=dict(axis=0)),
    Spec(np.partition, shapes=MATRIX, extra=(5,), kwargs=dict(axis=None)),
    Spec(np.nan_to_num, shapes=[((),), ((3,),), ((3, 4),)]),
    Spec(np.copy, shapes=[((),), ((3,),), ((3, 4),)]),
    # the array methods x.copy(), x.flatten(), x.astype(t) (front.methods)
    Spec(runtime.array_copy, shapes=[((),), ((3,),), ((3, 4),)]),
    Spec(runtime.flatten, shapes=[((),), ((3,),)] + MATRIX + CUBE),
    Spec(runtime.astype, shapes=[((),), ((3, 4),)], extra=("float64",)),
    Spec(runtime.astype, shapes=MATRIX, extra=("int64",)),
    Spec(runtime.astype, shapes=MATRIX, extra=("complex128",)),
    Spec(runtime.astype_tangent, ("dx",), shapes=MATRIX, extra=("float64",)),
    Spec(runtime.astype_tangent, ("dx",), shapes=MATRIX, extra=("int64",)),
    Spec(np.asarray, shapes=[((),), ((3, 4),)]),
    Spec(np.array, shapes=[((),), ((3, 4),)]),
    Spec(np.real, shapes=MATRIX),
    Spec(np.conj, shapes=MATRIX),
    Spec(np.conjugate, shapes=MATRIX),
    # the runtime helpers the rules above call (their own rules serve higher derivatives)
    Spec(runtime.untile, ("g",), shapes=[((6, 4),)], extra=(_like(3, 2), (2, 2))),
    Spec(runtime.untile, ("g",), shapes=[((2, 3, 4),)], extra=(_like(3, 2), (2, 1, 2))),
    Spec(runtime.unrepeat, ("g",), shapes=[((6,),)], extra=(_like(3), 2)),
    Spec(runtime.unrepeat, ("g",), shapes=[((3, 6),)], extra=(_like(3, 4), [1, 0, 3, 2], 1)),
    Spec(runtime.unpad, ("g",), shapes=[((5, 6),)], extra=(_like(3, 4), 1)),
    Spec(runtime.unpad, ("g",), shapes=[((6, 9),)], extra=(_like(3, 4), ((1, 2), (3, 2)), "reflect")),
    Spec(runtime.convert, shapes=[((),), ((3,),)]),
    Spec(runtime.convert, shapes=[((3,),)], extra=("float64",)),
    Spec(runtime.convert_back, ("g",), shapes=[((),)], extra=(0.0,)),
    Spec(runtime.convert_back, ("g",), shapes=[((),)], extra=(0.0, "int64"), name="convert_back(to int)"),
]

CUSTOM_TESTED = (np.select, runtime.select_tangent, runtime.select_adjoint,
                 np.concatenate, np.stack, np.hstack, np.vstack, np.column_stack, np.dstack, np.split,
                 np.array_split, np.vsplit, np.hsplit, np.dsplit, np.append, runtime.join, runtime.unjoin,
                 *((np.row_stack,) if hasattr(np, "row_stack") else ()))
"""Rules of ops taking or returning a sequence of arrays, tested below."""

SPECS = TABLE + [Spec(op) for op in CUSTOM_TESTED]
"""Everything this module tests: TABLE through the shared harness, CUSTOM_TESTED below."""
RULE_SPECS = TABLE
"""The shared tests run TABLE; the ops of CUSTOM_TESTED have tests of their own below."""

NONDIFF = [
    Nondiff(runtime.sort_order, "op(x) * 1.0"),
    Nondiff(runtime.inverse_axes, "op((1, 0))[0] + 0.5"),
    Nondiff(runtime.negated_shift, "op((1, 2))[0] + 0.5"),
    Nondiff(np.argpartition, "op(x, 1) * 1.0"),
    Nondiff(runtime.rolled_to, "op(np.ones((2, 2)) * x[0], 1) * 1.0"),
    Nondiff(runtime.split_axis, "op(x, 1) * 1.0"),
    Nondiff(runtime.select_none, "op([x < 0.0, x > 2.0], [x, x]) * 1.0"),
]


# ---------------------------------------------------------------- sequences of arrays

JOINS = [
    ("np.concatenate((a, b))", (2, 3), (4, 3)),
    ("np.concatenate([a, b], axis=1)", (2, 3), (2, 1)),
    ("np.concatenate((a, b), axis=-1)", (2, 3, 2), (2, 3, 4)),
    ("np.concatenate((a, b), axis=None)", (2, 3), (4,)),
    ("np.concatenate((a, a * b, b))", (3,), (3,)),
    ("np.stack((a, b))", (2, 3), (2, 3)),
    ("np.stack([a, b], axis=-1)", (2, 3), (2, 3)),
    ("np.stack((a, b), axis=-1)", (), ()),
    ("np.hstack((a, b))", (3,), (2,)),
    ("np.hstack((a, b))", (2, 3), (2, 1)),
    ("np.hstack([a, b])", (), (2,)),
    ("np.vstack((a, b))", (3,), (3,)),
    ("np.vstack((a, b))", (3,), (2, 3)),
    ("np.vstack([a, b])", (2, 3, 2), (1, 3, 2)),
    ("np.column_stack((a, b))", (3,), (3, 2)),
    ("np.column_stack([a, b])", (), ()),
    ("np.dstack((a, b))", (3,), (3,)),
    ("np.dstack((a, b))", (2, 3), (2, 3, 2)),
]


@pytest.mark.parametrize("join", JOINS, ids=lambda j: f"{j[0]}{j[1:]}")
def test_join(join):
    body, *shapes = join
    a, b = uniform(*shapes)
    args = [float(a) if a.ndim == 0 else a, float(b) if b.ndim == 0 else b]
    check_grads(make_function(f"def f(a, b):\n    return {body}\n"), args)


@pytest.mark.parametrize("how, axis, shapes", [
    ("concatenate", 0, [(2, 3), (4, 3)]),
    ("concatenate", None, [(2, 3), (4,)]),
    ("stack", 1, [(2, 3), (2, 3), (2, 3)]),
    ("hstack", 0, [(), (3,)]),
    ("hstack", 0, [(2, 3), (2, 1)]),
    ("vstack", 0, [(3,), (2, 3)]),
    ("column_stack", 1, [(3,), (3, 2)]),
    ("dstack", 2, [(3,), (1, 3, 2)]),
])
def test_join_and_unjoin_are_adjoint(how, axis, shapes):
    """unjoin cuts a cotangent into pieces shaped like the arrays; join puts pieces back: each is
    linear, the other's adjoint, and has a rule (so joins can be differentiated twice)."""
    rng = np.random.default_rng(3)
    arrays = tuple(rng.standard_normal(s) for s in shapes)
    pieces = tuple(rng.standard_normal(s) for s in shapes)
    joined = runtime.join(arrays, arrays, axis, how)
    g = rng.standard_normal(np.shape(joined))
    cut = runtime.unjoin(g, arrays, axis, how)
    assert [np.shape(c) for c in cut] == list(shapes)
    np.testing.assert_allclose(np.sum(runtime.join(pieces, arrays, axis, how) * g),
                               sum(np.sum(p * c) for p, c in zip(pieces, cut)), rtol=1e-12)
    fun = make_function("def f(g):\n    return op(g, arrays, axis, how)[-1]\n",
                        {"op": runtime.unjoin, "arrays": arrays, "axis": axis, "how": how})
    check_grads(fun, [g])


@pytest.mark.parametrize("join", ["vstack", "hstack", "stack", "concatenate", "column_stack", "dstack"])
@pytest.mark.parametrize("shape", [(3,), (2, 3), (2, 3, 2)], ids=str)
def test_join_of_one_array_has_an_array_gradient(join, shape):
    """`np.vstack(x)` of one array joins its rows: the gradient is one array shaped like x (it
    was a tuple of rows)."""
    if len(shape) == 1 and join in ("stack", "concatenate"):
        shape = (2, 3)  # the rows of a 1-D array are scalars, which these do not join
    fun = make_function(f"def f(x):\n    return np.sum(np.{join}(x) * np.{join}(x))\n")
    x = uniform(shape)[0]
    grad = s2sad.grad(fun)(x)
    assert type(grad) is np.ndarray and grad.shape == shape
    np.testing.assert_allclose(grad, 2 * x, rtol=1e-15)
    value, grad2 = s2sad.value_and_grad(fun)(x)
    assert value == pytest.approx(np.sum(x * x)) and np.array_equal(grad2, grad)
    (cotangent,) = s2sad.vjp(make_function(f"def f(x):\n    return np.{join}(x)\n"), x)[1](getattr(np, join)(x))
    assert type(cotangent) is np.ndarray and cotangent.shape == shape
    check_grads(make_function(f"def f(x):\n    return np.sum(np.sin(np.{join}(x)))\n"), [x], order=2)


def test_join_with_a_constant_piece():
    fun = make_function("def f(a):\n    return np.concatenate((a, np.ones(2), a ** 2))\n")
    check_grads(fun, uniform((3,)))
    grad = s2sad.grad(make_function("def f(a):\n    return np.sum(np.stack((np.zeros(3), a)) * 2.0)\n"))
    np.testing.assert_array_equal(grad(np.ones(3)), 2.0)


@pytest.mark.parametrize("body, shape", [
    ("np.split(x, 3)", (6,)),
    ("np.split(x, [1, 3], axis=1)", (3, 4)),
    ("np.array_split(x, 3)", (7,)),
    ("np.array_split(x, 2, axis=-1)", (2, 5)),
])
def test_split(body, shape):
    x = uniform(shape)[0]
    pieces = eval(body, {"np": np, "x": x})  # noqa: S307 - literals
    v = [np.random.default_rng(1).standard_normal(p.shape) for p in pieces]
    fun = make_function(f"def f(x):\n    return {body}\n")
    dx = np.random.default_rng(2).standard_normal(shape)
    _, tangent = s2sad.jvp(fun, (x,), (dx,))
    for t, p in zip(tangent, eval(body, {"np": np, "x": dx})):  # noqa: S307 - split is linear
        np.testing.assert_allclose(t, p, rtol=1e-12)
    _, pullback = s2sad.vjp(fun, x)
    (bx,) = pullback(v)
    np.testing.assert_allclose(np.sum(bx * dx), sum(np.sum(a * b) for a, b in zip(v, tangent)), rtol=1e-12)


@pytest.mark.parametrize("body, shape", [
    ("np.vsplit(x, 2)", (4, 3)),
    ("np.vsplit(x, [1])", (3, 2, 2)),
    ("np.hsplit(x, 3)", (2, 6)),
    ("np.hsplit(x, [2, 3])", (5,)),
    ("np.dsplit(x, 2)", (2, 1, 4)),
])
def test_split_along_a_fixed_axis(body, shape):
    test_split(body, shape)


@pytest.mark.parametrize("body, shapes", [
    ("np.append(a, b)", ((2, 3), (4,))),
    ("np.append(a, b, axis=0)", ((2, 3), (1, 3))),
    ("np.append(a, b, axis=-1)", ((2, 3), (2, 2))),
    ("np.append(a, b)", ((), (3,))),
])
def test_append(body, shapes):
    a, b = uniform(*shapes)
    args = [float(a) if a.ndim == 0 else a, float(b) if b.ndim == 0 else b]
    check_grads(make_function(f"def f(a, b):\n    return {body}\n"), args)
    check_grads(make_function(f"def f(a, b):\n    return np.sum(np.sin({body}))\n"), args, order=2)


def test_append_a_constant():
    grad = s2sad.grad(make_function("def f(a):\n    return np.sum(np.append(a, [1.0, 2.0]) ** 2)\n"))
    np.testing.assert_array_equal(grad(np.array([3.0, -1.0])), [6.0, -2.0])


@pytest.mark.skipif(not hasattr(np, "row_stack"), reason="np.row_stack is absent from this NumPy")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_row_stack():
    a, b = uniform((3,), (2, 3))
    check_grads(make_function("def f(a, b):\n    return np.row_stack((a, b))\n"), [a, b])


def test_partition_follows_the_permutation():
    x = np.array([3.0, -1.0, 2.0, 0.5])
    grad = s2sad.grad(make_function("def f(x):\n    return np.partition(x, 1)[1] * 10.0\n"))(x)
    np.testing.assert_array_equal(grad, [0.0, 0.0, 0.0, 10.0])


def test_split_unpacked():
    x = uniform((4, 6))[0]
    check_grads(make_function("def f(x):\n    a, b, c = np.split(x, 3, axis=1)\n    return a * c\n"), [x])
    grad = s2sad.grad(make_function("def f(x):\n    a, b = np.split(x, 2)\n    return np.sum(b)\n"))(x)
    np.testing.assert_array_equal(grad, np.vstack([np.zeros((2, 6)), np.ones((2, 6))]))


def test_split_indexed():
    x = uniform((5,))[0]
    check_grads(make_function("def f(x):\n    parts = np.split(x, [1, 3])\n    return parts[1] * parts[2][0]\n"), [x])


@pytest.mark.parametrize("body, shapes", [
    ("np.array([a, b])", ((), ())),
    ("np.array([a, 2.0 * b, 1.0])", ((), ())),
    ("np.array((a, b))", ((3,), (3,))),
    ("np.array([[a, b], [b, a]])", ((), ())),
    ("np.asarray([a, b])", ((2,), (2,))),
])
def test_array_of_active_values(body, shapes):
    a, b = uniform(*shapes)
    args = [float(a) if a.ndim == 0 else a, float(b) if b.ndim == 0 else b]
    check_grads(make_function(f"def f(a, b):\n    return {body}\n"), args)


def test_array_of_scalars_gradient_is_a_float():
    grad = s2sad.grad(make_function("def f(a, b):\n    return np.sum(np.array([a, b]) ** 2)\n"), argnums=(0, 1))
    ga, gb = grad(1.5, -2.0)
    assert (ga, gb) == (3.0, -4.0)


# ---------------------------------------------------------------- conversions


def test_asarray_keeps_the_gradient_dtype():
    x = np.linspace(0.5, 1.5, 4, dtype=np.float32)
    grad = s2sad.grad(make_function("def f(x):\n    return np.sum(np.asarray(x, np.float64) ** 2)\n"))(x)
    assert grad.dtype == np.float32
    np.testing.assert_allclose(grad, 2 * x, rtol=1e-6)


def test_conversion_to_integers_carries_no_derivative():
    fun = make_function("def f(x):\n    return np.sum(np.asarray(x * 10.0, int) * x)\n")
    x = np.array([0.15, 0.27, -0.33])
    np.testing.assert_allclose(s2sad.grad(fun)(x), np.trunc(x * 10.0))
    np.testing.assert_allclose(s2sad.jvp(fun, (x,), (np.ones(3),))[1], np.sum(np.trunc(x * 10.0)))


# ---------------------------------------------------------------- sort and repeats


def test_sort_follows_the_permutation():
    x = np.array([3.0, -1.0, 2.0])
    grad = s2sad.grad(make_function("def f(x):\n    return np.sort(x)[0] * 10.0 + np.sort(x)[2]\n"))(x)
    np.testing.assert_array_equal(grad, [1.0, 10.0, 0.0])


def test_tile_and_repeat_add_up_copies():
    x = np.array([1.0, 2.0])
    tiled = s2sad.grad(make_function("def f(x):\n    return np.sum(np.tile(x, 3) * np.arange(6.0))\n"))(x)
    np.testing.assert_array_equal(tiled, [0 + 2 + 4, 1 + 3 + 5])
    repeated = s2sad.grad(make_function("def f(x):\n    return np.sum(np.repeat(x, [2, 3]) * np.arange(5.0))\n"))(x)
    np.testing.assert_array_equal(repeated, [0 + 1, 2 + 3 + 4])


@pytest.mark.parametrize("call, count", [
    ("np.pad(x, 1, constant_values=v)", 4 * 5 - 6),
    ("np.pad(x, ((1, 0), (2, 1)), constant_values=v)", 3 * 6 - 6),
    ("np.pad(x, 1, constant_values=(v, 2.0 * v))", (3 + 4) + 2.0 * (3 + 4)),  # rows of 3, then columns of 4
    ("np.pad(x, 1, mode='edge') + 0.0 * v", 0),
])
def test_pad_value_is_differentiated(call, count):
    """Each padded cell holds the padding value: its derivative counts the cells (an entry of a
    (before, after) value the cells it fills; corners belong to the last axis)."""
    fun = make_function(f"def f(x, v):\n    return np.sum({call})\n")
    x = np.arange(6.0).reshape(2, 3)
    assert s2sad.grad(fun, argnums=1)(x, 1.5) == count
    assert s2sad.jvp(fun, (x, 1.5), (np.zeros_like(x), 1.0))[1] == count
    check_grads(make_function(f"def f(x, v):\n    return np.sum(np.sin({call}))\n"), [x, 1.5], order=2)


def test_pad_value_per_axis():
    fun = make_function("def f(x, v):\n    return np.sum(np.cos(np.pad(x, ((1, 2), (0, 1)), constant_values=v)))\n")
    x = np.arange(6.0).reshape(2, 3)
    check_grads(fun, [x, np.array([[0.5, -1.0], [2.0, 0.3]])], order=2)


# ---------------------------------------------------------------- second order


def _hessian_vector_check(source: str, x, seed: int = 0) -> None:
    g = s2sad.grad(make_function(source))
    v = np.random.default_rng(seed).standard_normal(np.shape(x))
    _, hv = s2sad.jvp(g, (x,), (v,))
    eps = 1e-6
    np.testing.assert_allclose(hv, (g(x + eps * v) - g(x - eps * v)) / (2 * eps), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("body", [
    "np.sum(np.concatenate([x, x ** 2], axis=1) ** 2)",
    "np.sum(np.stack([x, np.sin(x)]) ** 3)",
    "np.sum(np.vstack((x, x ** 2)) ** 3)",
    "np.sum(np.sort(x ** 2, axis=1) * np.arange(4.0))",
    "np.sum(np.tile(x, (2, 1)) ** 3)",
    "np.sum(np.repeat(x, 2, axis=0) ** 3)",
    "np.sum(np.pad(x, 1, mode='wrap') ** 3)",
    "np.sum(np.roll(np.flip(x, 0), 1, axis=1) * x ** 2)",
    "np.sum(np.moveaxis(np.expand_dims(x, 0), 0, -1) ** 3)",
    "np.sum(np.broadcast_to(x, (2, 3, 4)) ** 3)",
    "np.sum(np.array([x[0], x[1] ** 2]) ** 2)",
    "np.sum(np.asarray(x, np.float64) ** 3)",
    "np.sum(np.rot90(x) * np.fliplr(x).T ** 2)",
    "np.sum(np.flipud(x) * np.atleast_3d(x)[:, :, 0] ** 2)",
    "np.sum(np.rollaxis(np.atleast_3d(x), 2) ** 3)",
    "np.sum(np.partition(x ** 2, 2, axis=1) * np.arange(4.0))",
    "np.sum(np.vstack(np.hsplit(x, 2)) ** 3)",
])
def test_second_order(body):
    x = np.random.default_rng(1).uniform(-2, 2, (3, 4))
    _hessian_vector_check(f"def f(x):\n    return {body}\n", x)


def test_second_order_split():
    x = np.random.default_rng(1).uniform(-2, 2, (3, 4))
    _hessian_vector_check("def f(x):\n    a, b = np.split(x, 2, axis=1)\n    return np.sum((a * b) ** 2)\n", x)


@pytest.mark.parametrize("body", [
    'np.sort(x, 0) ** 2',
    'np.tile(x, 2) ** 2',
    'np.repeat(x, 2) ** 2',
    "np.pad(x, 1, mode='reflect') ** 2",
    'np.concatenate((x, x ** 2))',
    'np.stack((x, x ** 2))',
    'np.roll(x, 1) * x',
    'np.moveaxis(x, 0, 1) * x',
    'np.array(x, np.float32) ** 2',
    'np.ndarray.flatten(x) ** 2',
])
def test_float32_stays_float32(body):
    """A float32 argument gets a float32 gradient and tangent, also from the second derivative."""
    x = np.random.default_rng(5).uniform(0.5, 2.0, (3, 3)).astype(np.float32)
    g = s2sad.grad(make_function(f"def f(x):\n    return np.sum({body})\n"))
    assert g(x).dtype == np.float32
    assert s2sad.jvp(g, (x,), (np.ones_like(x),))[1].dtype == np.float32


# ---------------------------------------------------------------- selections and replacements

SELECTS = [
    "np.select([x < 0, x < 1], [x ** 2, np.sin(x)], default=x * 3.0)",
    "np.select([x < 0, x > 1.5], [x ** 2, 2.0], 0.5)",
    "np.select([x < 0], [np.cos(x)], default=y)",
    "np.select([x < 0, x < 1], [y * x, y], default=np.exp(y))",
]


@pytest.mark.parametrize("body", SELECTS)
def test_select_in_every_mode(body):
    x = np.array([-1.5, -0.3, 0.4, 1.2, 2.0])
    y = np.array([0.7, -0.2, 1.1, 0.4, -0.9])
    check_every_mode(f"def f(x, y):\n    return {body} + 0.0 * y\n", [x, y])


def test_select_closed_form():
    """The first condition that holds picks; a constant choice and the default get nothing."""
    fun = make_function("def f(x):\n    return np.sum(np.select([x > 0, x > -1], [2.0 * x, x ** 2], 0.0))\n")
    np.testing.assert_array_equal(s2sad.grad(fun)(np.array([1.0, -0.5, -2.0])), [2.0, -1.0, 0.0])


def test_select_helpers_are_adjoint():
    rng = np.random.default_rng(3)
    cond = [rng.uniform(size=(2, 3)) < 0.4, rng.uniform(size=(3,)) < 0.5]
    choices = [rng.standard_normal((2, 3)), rng.standard_normal((3,))]
    d = [rng.standard_normal((2, 3)), rng.standard_normal((3,))]
    g = rng.standard_normal((2, 3))
    back = runtime.select_adjoint(g, cond, choices)
    np.testing.assert_allclose(np.sum(runtime.select_tangent(d, cond, choices) * g),
                               sum(np.sum(a * b) for a, b in zip(d, back)), rtol=1e-12)


def test_nan_to_num_in_every_mode_and_at_replaced_values():
    check_every_mode("def f(x):\n    return np.nan_to_num(np.sin(x) * x)\n", [np.array([0.3, -1.2, 2.5])])
    fun = make_function("def f(x):\n    return np.sum(np.nan_to_num(np.log(x), neginf=-50.0) * 2.0)\n")
    with np.errstate(divide="ignore", invalid="ignore"):
        np.testing.assert_array_equal(s2sad.grad(fun)(np.array([0.5, 0.0, -1.0, 2.0])), [4.0, 0.0, -0.0, 1.0])


def test_piecewise_is_refused_with_the_fix():
    """Where its function list is not known when the code is built (written in the call, it is
    lowered: tests/test_piecewise.py)."""
    fun = make_function("def f(x):\n    funcs = [neg, pos]\n    return np.piecewise(x, [x < 0, x >= 0], funcs)\n",
                        {"neg": np.negative, "pos": np.positive})
    with pytest.raises(s2sad.MissingRule, match="np.piecewise cannot be differentiated") as info:
        s2sad.grad(make_function("def g(x):\n    return np.sum(f(x))\n", {"f": fun}))(np.ones(3))
    assert "np.select" in str(info.value) and "np.where" in str(info.value)


# ---------------------------------------------------------------- small programs, every transform

LAYOUT_PROGRAMS = [
    "np.atleast_2d(np.sum(x * x)) * np.atleast_3d(x)[..., 0]",
    "np.atleast_1d(x[0, 0] ** 2) + np.ravel(np.flipud(np.sin(x)))[:1]",
    "np.rot90(np.fliplr(x) ** 2, 3) @ np.ones(2)",
    "np.rollaxis(np.atleast_3d(x ** 3), 2, 1)",
    "np.concatenate((np.vsplit(np.sin(x), 2)[1], np.hsplit(x ** 2, 3)[2], np.dsplit(np.atleast_3d(x), 1)[0]), "
    "axis=None)",
    "np.append(x ** 2, np.cos(x[0]), axis=None)",
    "np.partition(np.sin(x).ravel(), 3)[3:] * x[1, 1]",
]


@pytest.mark.parametrize("body", LAYOUT_PROGRAMS)
def test_layout_programs_in_every_mode(body):
    x = np.random.default_rng(2).uniform(-1.5, 1.5, (2, 3))
    check_every_mode(f"def f(x):\n    return {body}\n", [x])


@pytest.mark.skipif(not hasattr(np, "row_stack"), reason="np.row_stack is absent from this NumPy")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_row_stack_in_every_mode():
    x = np.random.default_rng(2).uniform(-1.5, 1.5, (2, 3))
    check_every_mode("def f(x):\n    return np.row_stack((x ** 2, np.sin(x[0])))\n", [x])


@pytest.mark.parametrize("op", ["atleast_1d", "atleast_2d", "atleast_3d", "flipud", "fliplr", "rot90", "rollaxis"])
def test_views_keep_the_view_fact(op):
    from s2sad.rules.registry import facts

    assert facts(getattr(np, op)).view
