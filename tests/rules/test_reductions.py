"""Reductions: spec table (rule alone and through the pipeline, both modes) and the special
points: products with zeros, ties in max/min, std of equal values, second derivatives."""

import numpy as np
import pytest

import s2sad
from s2sad import runtime
from s2sad.testing import check_grads, check_rule, make_function
from tests.rules.endtoend import check_every_mode
from tests.rules.family import Nondiff, test_nondiff_gives_zero_derivatives, test_pipeline, test_rule, test_taylor  # noqa: F401
from tests.rules.specs import Spec
from tests.rules.test_elementwise import check_pipeline

CUBE = [((2, 3, 4),)]
MATRIX = [((3, 4),)]
AXES = [dict(axis=0), dict(axis=-1), dict(axis=(0, 2)), dict(axis=1, keepdims=True), dict(axis=None, keepdims=True)]


CUBE_LIKE = np.zeros((2, 3, 4)).tolist()
"""A literal shaped (2, 3, 4), for helpers that read only the shape of an argument."""


def _axis_specs(op, **options) -> list[Spec]:
    """The op on scalars and arrays (all axes), then over each kind of axis on a 3-d array."""
    return [Spec(op, **options)] + [Spec(op, shapes=CUBE, kwargs=kw, **options) for kw in AXES]


XP = np.array([-1.5, -0.5, 0.2, 1.0, 1.6])
"""Sample points for np.interp: some query points on (-2, 2) fall outside them."""
VECTOR = np.array([0.3, -1.2, 0.8, 1.9, -0.4])
"""Constant values for the helpers' other arguments."""
PAIRS_1D = [((5,), (3,)), ((2,), (4,)), ((1,), (3,)), ((4,), (4,))]

SAMPLES = [
    Spec(np.diff, shapes=[((5,),)] + MATRIX),
    Spec(np.diff, shapes=MATRIX, kwargs=dict(axis=0)),
    Spec(np.diff, shapes=CUBE, kwargs=dict(n=2, axis=-1)),
    Spec(np.diff, shapes=CUBE, kwargs=dict(n=2, axis=1)),
    Spec(np.diff, shapes=[((2,),)], kwargs=dict(n=3), name="diff(n above the length)"),
    Spec(np.trapezoid, ("y",), shapes=[((5,),)] + MATRIX),
    Spec(np.trapezoid, ("y",), shapes=CUBE, kwargs=dict(dx=0.5, axis=0)),
    Spec(np.trapezoid, ("y", "x"), shapes=[((5,), (5,)), ((3, 4), (4,)), ((3, 4), (3, 4))]),
    Spec(np.trapezoid, ("y", "x"), shapes=[((4, 3), (4,)), ((2, 4, 3), (2, 4, 3))], kwargs=dict(axis=-2)),
    *[Spec(np.convolve, ("a", "v"), shapes=PAIRS_1D, kwargs=dict(mode=m)) for m in ("full", "same", "valid")],
    *[Spec(np.correlate, ("a", "v"), shapes=PAIRS_1D, kwargs=dict(mode=m)) for m in ("full", "same", "valid")],
    Spec(np.interp, ("x", "fp"), shapes=[((), (5,)), ((7,), (5,)), ((2, 3), (5,))], extra=(XP,)),
    Spec(np.interp, ("x", "fp"), shapes=[((7,), (5,))], extra=(XP,), kwargs=dict(left=-3.0, right=3.0)),
    Spec(np.interp, ("x",), shapes=[((7,),)], extra=(XP, VECTOR), kwargs=dict(left=-3.0)),
    Spec(np.gradient, ("f",), shapes=[((5,),)]),
    # (np.gradient's spacings and edge_order=2: in SAMPLE_PROGRAMS; the harness calls an op by its rule's
    # parameter names, and np.gradient takes its spacings as *varargs)
    Spec(np.gradient, ("f",), shapes=CUBE, kwargs=dict(axis=1)),
    Spec(np.gradient, ("f",), shapes=CUBE, kwargs=dict(axis=-1)),
    # the runtime helpers the rules above call (their own rules serve higher derivatives)
    Spec(runtime.gradient_along, ("f",), shapes=[((5,),)]),
    Spec(runtime.gradient_along, ("f",), shapes=CUBE, extra=(0.5, -1, 2)),
    Spec(runtime.gradient_adjoint, ("g",), shapes=[((5,),)], extra=(np.zeros(5),)),
    Spec(runtime.gradient_adjoint, ("g",), shapes=[((3, 4),)], extra=(np.zeros((3, 4)), 0.5, 1, 2)),
    Spec(runtime.diff_adjoint, ("g",), shapes=[((4,),), ((3, 2),)]),
    Spec(runtime.diff_adjoint, ("g",), shapes=CUBE, kwargs=dict(n=2, axis=0)),
    Spec(runtime.trapezoid_weights, ("x",), shapes=[((5,),)], extra=(VECTOR,)),
    Spec(runtime.trapezoid_weights, ("x",), shapes=[((5,),)], extra=(np.zeros((3, 5)),)),
    Spec(runtime.trapezoid_weights, ("x",), shapes=[((5, 3),)], extra=(np.zeros((5, 3)),), kwargs=dict(axis=0)),
    Spec(runtime.trapezoid_weights_adjoint, ("c",), shapes=[((3, 5),)], extra=(np.zeros((3, 5)), VECTOR)),
    Spec(runtime.trapezoid_weights_adjoint, ("c",), shapes=[((1, 5),)], extra=(np.zeros((3, 5)), VECTOR)),
    Spec(runtime.trapezoid_weights_adjoint, ("c",), shapes=[((5, 3),)], extra=(np.zeros((5, 3)), np.zeros((5, 3))),
         kwargs=dict(axis=0)),
    *[Spec(runtime.conv_embed, ("g",), shapes=[((n,),)], extra=(np.zeros(5), np.zeros(3), m, how))
      for how in ("convolve", "correlate") for m, n in (("full", 7), ("same", 5), ("valid", 3))],
    Spec(runtime.conv_embed, ("g",), shapes=[((4,),)], extra=(np.zeros(2), np.zeros(4), "same", "correlate")),
    *[Spec(runtime.conv_cut, ("c",), shapes=[((7,),)], extra=(np.zeros(5), np.zeros(3), m, how))
      for how in ("convolve", "correlate") for m in ("full", "same", "valid")],
    Spec(runtime.interp_values, ("dfp",), shapes=[((5,),)], extra=(VECTOR * 1.5, XP)),
    Spec(runtime.interp_values, ("dfp",), shapes=[((5,),)], extra=(VECTOR * 1.5, XP, 1.0, 2.0)),
    Spec(runtime.interp_values_adjoint, ("g",), shapes=[((5,),)], extra=(VECTOR * 1.5, XP, np.zeros(5))),
    Spec(runtime.interp_values_adjoint, ("g",), shapes=[((5,),)], extra=(VECTOR * 1.5, XP, np.zeros(5), None, 2.0)),
    Spec(runtime.interp_slope, ("fp",), shapes=[((5,),)], extra=(VECTOR * 1.5, XP)),
    Spec(runtime.interp_slope_adjoint, ("c",), shapes=[((5,),)], extra=(VECTOR * 1.5, XP, np.zeros(5))),
]
"""Calculus on samples: differences, the trapezoid rule, filters, interpolation."""

SPECS = [
    *_axis_specs(np.sum),
    *_axis_specs(np.mean),
    *_axis_specs(np.prod),
    *_axis_specs(np.max),
    *_axis_specs(np.amax),
    *_axis_specs(np.min),
    *_axis_specs(np.amin),
    *_axis_specs(np.var),
    Spec(np.var, shapes=CUBE, kwargs=dict(axis=(0, 1), ddof=1), name="var(ddof=1)"),
    Spec(np.std, shapes=[((3,),), ((2, 3),)]),
    *[Spec(np.std, shapes=CUBE, kwargs=kw) for kw in AXES],
    Spec(np.std, shapes=CUBE, kwargs=dict(axis=-1, ddof=1, keepdims=True), name="std(ddof=1)"),
    Spec(np.average, shapes=[((3,),), ((2, 3),)]),
    Spec(np.average, shapes=CUBE, kwargs=dict(axis=1)),
    Spec(np.cumsum, shapes=MATRIX),
    Spec(np.cumsum, shapes=CUBE, kwargs=dict(axis=1)),
    Spec(np.cumsum, shapes=CUBE, kwargs=dict(axis=-1)),
    Spec(np.cumprod, shapes=MATRIX),
    Spec(np.cumprod, shapes=CUBE, kwargs=dict(axis=0)),
    Spec(np.cumprod, shapes=CUBE, kwargs=dict(axis=-1)),
    # the runtime helpers the rules above call (their own rules serve higher derivatives)
    Spec(runtime.to_last, shapes=[((3, 4),)] + CUBE),
    Spec(runtime.to_last, shapes=CUBE, kwargs=dict(axis=(0, 2))),
    Spec(runtime.to_last, shapes=CUBE, kwargs=dict(axis=-2)),
    Spec(runtime.from_last, ("y",), shapes=[((3, 8),)], extra=(CUBE_LIKE, (0, 2))),
    Spec(runtime.from_last, ("y",), shapes=[((24,),)], extra=(CUBE_LIKE,)),
    Spec(runtime.prod_others, shapes=[((4,),), ((3, 4),)]),
    Spec(runtime.prod_others, shapes=CUBE, kwargs=dict(axis=(0, 2))),
    Spec(runtime.div_or_zero, ("num", "den"), domain=(0.5, 2.0)),
    Spec(runtime.expand_weights, ("weights",), shapes=[((3,),)], extra=(CUBE_LIKE, 1)),
    Spec(runtime.expand_weights, ("weights",), shapes=[((2, 3, 4),)], extra=(CUBE_LIKE,)),
    Spec(runtime.collapse_weights, ("c",), shapes=[((2, 3, 4),)], extra=([0.0, 0.0, 0.0], CUBE_LIKE, 1)),
    Spec(runtime.unreduce, ("g",), shapes=[((3,),)], extra=(CUBE_LIKE, (0, 2))),
    Spec(runtime.unreduce, ("g",), shapes=[((1, 3, 1),)], extra=(CUBE_LIKE, (0, -1), True)),
    Spec(runtime.unreduce, ("g",), shapes=[((),)], extra=(CUBE_LIKE,)),
    *SAMPLES,
]

CHECK_PIPELINE = check_pipeline
"""By name: np.interp's differentiable x and fp have the constant xp between them."""

NONDIFF = [
    Nondiff(runtime.tie_weights, "op(x, np.max(x))"),
    Nondiff(runtime.reduced_size, "op(x) + 0.5"),
    Nondiff(runtime.size, "op(x) * 1.0"),
    Nondiff(runtime.square_mask, "op(3, x, lower=True) * 1.0"),
    Nondiff(np.digitize, "op(x, [0.0, 1.0]) * 1.0"),
    Nondiff(np.bincount, "op(np.digitize(x, [0.0, 1.0])) * 1.0"),
    Nondiff(np.histogram, "op(x, 3, range=(-2.0, 3.0))[0] * 1.0"),
]


def test_div_or_zero_is_zero_where_the_denominator_is():
    np.testing.assert_array_equal(runtime.div_or_zero(np.array([1.0, 0.0, 2.0]), np.array([0.0, 0.0, 4.0])),
                                  [0.0, 0.0, 0.5])
    fun = make_function("def f(x, y):\n    return op(x, y)\n", {"op": runtime.div_or_zero})
    grads = s2sad.grad(make_function("def f(x, y):\n    return np.sum(op(x, y))\n", {"op": runtime.div_or_zero}),
                       argnums=(0, 1))(np.array([1.0, 2.0]), np.array([0.0, 4.0]))
    np.testing.assert_array_equal(grads[0], [0.0, 0.25])
    np.testing.assert_array_equal(grads[1], [0.0, -0.125])
    check_grads(fun, [np.array([1.0, 2.0]), np.array([0.5, 4.0])])


def _grad(source: str, *args, argnums=0):
    return s2sad.grad(make_function(source), argnums=argnums)(*args)


def _jvp(source: str, x, dx):
    return s2sad.jvp(make_function(source), (x,), (dx,))[1]


# ---------------------------------------------------------------- products with zeros


@pytest.mark.parametrize("x, expected", [
    ([2.0, 0.0, 3.0], [0.0, 6.0, 0.0]),
    ([0.0, 0.0, 3.0], [0.0, 0.0, 0.0]),
    ([0.0], [1.0]),
    ([1.5, -2.0, 4.0], [-8.0, 6.0, -3.0]),
])
def test_prod_with_zeros_closed_form(x, expected):
    source = "def f(x):\n    return np.prod(x)\n"
    np.testing.assert_array_equal(_grad(source, np.array(x)), expected)
    for i, e in enumerate(expected):
        np.testing.assert_array_equal(_jvp(source, np.array(x), np.eye(len(x))[i]), e)


def test_prod_with_zeros_along_axes():
    x = np.array([[[1.0, 0.0], [2.0, 3.0]], [[0.0, 0.0], [4.0, -1.0]]])
    for axis in (None, 0, -1, (0, 2)):
        check_grads(make_function(f"def f(x):\n    return np.prod(x, axis={axis!r})\n"), [x])
        check_rule(np.prod, {"x": x}, {"axis": axis})


def test_cumprod_with_zeros():
    x = np.array([[2.0, 0.0, 3.0, -1.0], [0.0, 0.0, 1.5, 2.0]])
    check_grads(make_function("def f(x):\n    return np.cumprod(x, axis=1)\n"), [x])
    check_grads(make_function("def f(x):\n    return np.cumprod(x)\n"), [x])
    # d cumprod([2, 0, 3])[2] / dx[1] = 2 * 3, although the result is 0
    np.testing.assert_array_equal(_jvp("def f(x):\n    return np.cumprod(x)\n", np.array([2.0, 0.0, 3.0]),
                                       np.array([0.0, 1.0, 0.0])), [0.0, 2.0, 6.0])


# ---------------------------------------------------------------- ties and kinks


@pytest.mark.parametrize("op", ["max", "amax", "min", "amin"])
def test_ties_split_evenly(op):
    x = np.array([1.0, 3.0, 3.0, -2.0]) * (1 if "max" in op else -1)
    source = f"def f(x):\n    return np.{op}(x)\n"
    np.testing.assert_allclose(_grad(source, x), [0.0, 0.5, 0.5, 0.0])
    np.testing.assert_allclose(_jvp(source, x, np.array([0.0, 1.0, 0.0, 0.0])), 0.5)
    np.testing.assert_allclose(_jvp(source, x, np.array([0.0, 1.0, 1.0, 0.0])), 1.0)


def test_ties_per_axis():
    x = np.array([[1.0, 1.0, 1.0], [0.0, 2.0, -1.0]])
    grad = _grad("def f(x):\n    return np.sum(np.max(x, axis=1))\n", x)
    np.testing.assert_allclose(grad, [[1 / 3, 1 / 3, 1 / 3], [0.0, 1.0, 0.0]])


def test_std_of_equal_values_has_zero_derivative():
    x = np.full((2, 3), 1.5)
    np.testing.assert_array_equal(_grad("def f(x):\n    return np.std(x)\n", x), np.zeros((2, 3)))
    np.testing.assert_array_equal(_jvp("def f(x):\n    return np.std(x, axis=0)\n", x, np.ones((2, 3))), np.zeros(3))


def test_var_closed_form():
    x = np.array([1.0, 2.0, 4.0])
    np.testing.assert_allclose(_grad("def f(x):\n    return np.var(x, ddof=1)\n", x), (x - x.mean()) * 2 / 2)


@pytest.mark.parametrize("wshape, kwargs", [
    ((2, 3, 4), {}),
    ((3,), {"axis": 1}),
    ((2, 3, 4), {"axis": (0, 2), "keepdims": True}),
    ((4,), {"axis": -1, "keepdims": True}),
])
def test_average_with_weights(wshape, kwargs):
    rng = np.random.default_rng(2)
    x, w = rng.uniform(-2, 2, (2, 3, 4)), rng.uniform(0.5, 2, wshape)
    check_rule(np.average, {"x": x, "weights": w}, kwargs)
    literals = "".join(f", {k}={v!r}" for k, v in kwargs.items())
    check_grads(make_function(f"def f(x, w):\n    return np.average(x, weights=w{literals})\n"), [x, w])


def test_average_gradient_of_weights_closed_form():
    x, w = np.array([1.0, 2.0, 4.0]), np.array([1.0, 1.0, 2.0])
    grad = _grad("def f(x, w):\n    return np.average(x, weights=w)\n", x, w, argnums=1)
    np.testing.assert_allclose(grad, (x - np.average(x, weights=w)) / w.sum())


# ---------------------------------------------------------------- second order


def _hessian_vector_check(source: str, x, seed: int = 0) -> None:
    """jvp of grad (forward over reverse) against central differences of grad."""
    g = s2sad.grad(make_function(source))
    v = np.random.default_rng(seed).standard_normal(np.shape(x))
    _, hv = s2sad.jvp(g, (x,), (v,))
    eps = 1e-6
    np.testing.assert_allclose(hv, (g(x + eps * v) - g(x - eps * v)) / (2 * eps), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("body", [
    "np.sum(np.prod(x, axis=1) ** 2)",
    "np.prod(x)",
    "np.sum(np.cumprod(x, axis=1) * np.cos(x))",
    "np.sum(np.cumsum(x, axis=0) ** 3)",
    "np.sum(np.max(x, axis=0) ** 2)",
    "np.var(x, axis=0).sum() * np.mean(x)",
    "np.std(x) ** 3",
    "np.sum(np.average(x ** 2, axis=1, weights=np.arange(1.0, 5.0)) ** 2)",
])
def test_second_order(body):
    x = np.random.default_rng(1).uniform(-2, 2, (3, 4))
    _hessian_vector_check(f"def f(x):\n    return {body}\n", x)


def test_second_order_prod_with_zeros():
    _hessian_vector_check("def f(x):\n    return np.prod(x)\n", np.array([2.0, 0.0, 3.0, 0.0]))


@pytest.mark.parametrize("body", [
    'np.prod(x, 0)',
    'np.max(x, axis=1)',
    'np.std(x)',
    'np.var(x, 0, ddof=1)',
    'np.cumsum(x, 1)',
    'np.cumprod(x, 1)',
    'np.mean(x, (0, 1))',
])
def test_float32_stays_float32(body):
    """A float32 argument gets a float32 gradient and tangent, also from the second derivative."""
    x = np.random.default_rng(5).uniform(0.5, 2.0, (3, 3)).astype(np.float32)
    g = s2sad.grad(make_function(f"def f(x):\n    return np.sum({body})\n"))
    assert g(x).dtype == np.float32
    assert s2sad.jvp(g, (x,), (np.ones_like(x),))[1].dtype == np.float32


# ---------------------------------------------------------------- calculus on samples


SAMPLE_PROGRAMS = [
    ("def f(x):\n    return np.diff(np.sin(x), 2) * np.diff(x ** 2)[1:]\n", [(6,)], True),
    ("def f(x):\n    return np.diff(x, axis=0) ** 2\n", [(3, 4)], True),
    ("def f(y, t):\n    return np.trapezoid(np.exp(-y * t), t, axis=-1)\n", [(2, 5), (5,)], True),
    ("def f(y):\n    return np.trapezoid(y ** 3, dx=0.25, axis=0)\n", [(4, 3)], True),
    ("def f(signal, kernel):\n    return np.convolve(np.tanh(signal), kernel, 'same') ** 2\n", [(7,), (3,)], True),
    ("def f(a, v):\n    return np.correlate(a, v * a[:3], 'full')\n", [(5,), (3,)], True),
    ("def f(a, v):\n    return np.correlate(a ** 2, v, 'valid') + np.convolve(v, a, 'valid')[0]\n", [(6,), (2,)], True),
    ("def f(x):\n    return np.gradient(np.sin(x), 0.5, edge_order=2) * np.gradient(x ** 2, axis=0)\n", [(6,)], True),
    ("def f(x):\n    return np.gradient(x ** 3, np.cumsum(np.arange(1.0, 7.0)))\n", [(6,)], True),
    ("def f(x):\n    gy, gx = np.gradient(x ** 3)\n    return gy * np.cos(gx)\n", [(3, 4)], True),
    ("def f(x, fp):\n    return np.interp(x, XP, fp) * np.interp(x ** 2, XP, fp ** 2, left=0.0)\n",
     [(6,), (5,)], False),
]


def _body(value) -> str:
    return str(value).split("\n")[1].strip() if "\n" in str(value) else ""


@pytest.mark.parametrize("source, shapes, smooth", SAMPLE_PROGRAMS, ids=_body)
def test_sample_programs_in_every_mode(source, shapes, smooth):
    rng = np.random.default_rng(4)
    args = [rng.uniform(-1.2, 1.2, s) for s in shapes]
    check_every_mode(source, args, smooth=smooth, namespace={"XP": XP})


def test_diff_and_trapezoid_closed_forms():
    x = np.array([1.0, 4.0, 2.0, 7.0])
    np.testing.assert_array_equal(_grad("def f(x):\n    return np.sum(np.diff(x) * np.arange(3.0))\n", x),
                                  [0.0, -1.0, -1.0, 2.0])
    t = np.array([0.0, 0.5, 2.0])
    y = np.array([1.0, 3.0, -1.0])
    np.testing.assert_allclose(_grad("def f(y, t):\n    return np.trapezoid(y, t)\n", y, t), [0.25, 1.0, 0.75])
    # d/dt of sum of (t[i+1] - t[i]) (y[i] + y[i+1]) / 2
    np.testing.assert_allclose(_grad("def f(y, t):\n    return np.trapezoid(y, t)\n", y, t, argnums=1),
                               [-2.0, 1.0, 1.0])


def test_interp_closed_form_and_kinks():
    xp, fp = np.array([0.0, 1.0, 3.0]), np.array([0.0, 2.0, 1.0])
    source = "def f(x, fp):\n    return np.sum(np.interp(x, xp, fp))\n"
    fun = make_function(source, {"xp": xp})
    x = np.array([0.5, 2.0, -1.0, 4.0, 1.0])
    gx, gfp = s2sad.grad(fun, argnums=(0, 1))(x, fp)
    # slopes 2 and -1/2 inside, 0 outside; at the sample 1.0 the slopes have opposite signs: 0
    np.testing.assert_array_equal(gx, [2.0, -0.5, 0.0, 0.0, 0.0])
    np.testing.assert_allclose(gfp, [0.5 + 1.0, 0.5 + 0.5 + 1.0, 0.5 + 1.0])
    same_sign = make_function(source, {"xp": xp})
    assert s2sad.grad(same_sign)(np.array([1.0]), np.array([0.0, 2.0, 3.0]))[0] == 0.5


def test_interp_with_a_period_is_refused():
    fun = make_function("def f(x):\n    return np.sum(np.interp(x, [0.0, 1.0], [1.0, 2.0], period=2.0))\n")
    with pytest.raises(s2sad.S2SADError, match="period"):
        s2sad.grad(fun)(np.array([0.5]))


def test_gradient_of_several_axes():
    """A tuple of one array per axis (the spec table checks one axis at a time)."""
    rng = np.random.default_rng(0)
    f, d = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    g = (rng.standard_normal((3, 4)), rng.standard_normal((3, 4)))
    tangent = runtime.gradient_along(d, None, (0, 1))
    np.testing.assert_allclose(sum(np.sum(a * b) for a, b in zip(tangent, g)),
                               np.sum(runtime.gradient_adjoint(g, f, None, (0, 1)) * d), rtol=1e-12)
    check_every_mode("def f(x):\n    gy, gx = np.gradient(x ** 2, 0.5, axis=(0, 1))\n    return gy - gx\n",
                     [rng.standard_normal((3, 4))])


def test_gradient_with_a_spacing_per_axis_is_refused():
    fun = make_function("def f(x):\n    return np.sum(np.gradient(x, 0.5, 2.0)[0])\n")
    with pytest.raises(s2sad.MissingRule, match="np.gradient"):
        s2sad.grad(fun)(np.ones((3, 4)))
