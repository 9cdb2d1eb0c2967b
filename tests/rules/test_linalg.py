"""Linear algebra: spec table (rule alone and through the pipeline, both modes), einsum over a
table of subscripts, np.linalg special points (norm at zero, ties), closed forms, second order."""

import operator

import numpy as np
import pytest

import s2sad
from s2sad import runtime
from s2sad.rules.registry import lookup
from s2sad.testing import check_grads, check_rule, make_function, rule_adjoint, rule_tangent
from tests.rules.family import Nondiff, test_nondiff_gives_zero_derivatives, test_pipeline, test_rule, test_taylor  # noqa: F401
from tests.rules.specs import Spec, uniform

PRODUCT_SHAPES = [((3, 4), (4, 2)), ((4,), (4, 2)), ((3, 4), (4,)), ((4,), (4,)), ((2, 3, 4), (4, 5)),
                  ((2, 3, 4), (1, 4, 2)), ((4,), (2, 4, 3))]
MATRIX_NORMS = ["fro", "nuc", 1, -1, 2, -2]
MATMUL_SHAPES = [((3, 2), (3, 4), (4, 2)), ((2,), (4,), (4, 2)), ((3,), (3, 4), (4,)), ((), (4,), (4,)),
                 ((2, 3, 2), (2, 3, 4), (4, 2)), ((2, 3, 2), (3, 4), (2, 4, 2))]
"""(g, x, y): the cotangent of x @ y, then x and y."""
DOT_SHAPES = [((3, 2), (3, 4), (4, 2)), ((3,), (3, 4), (4,)), ((2,), (4,), (4, 2)),
              ((2, 3, 5, 2), (2, 3, 4), (5, 4, 2))]


def _like(*shape):
    """A literal of zeros with this shape, for helpers that read only the shape of an argument."""
    return np.zeros(shape).tolist()


TABLE = [
    Spec(operator.matmul, ("x", "y"), shapes=PRODUCT_SHAPES),
    Spec(np.matmul, ("x", "y"), shapes=PRODUCT_SHAPES),
    Spec(np.dot, ("x", "y"), shapes=[((), (3,)), ((3,), (3,)), ((2, 3), (3,)), ((2, 3), (3, 4)), ((3,), (3, 4)),
                                     ((2, 3, 4), (4,)), ((2, 3, 4), (5, 4, 2))]),
    Spec(np.vdot, ("x", "y"), shapes=[((5,), (5,)), ((3, 4), (4, 3))]),
    Spec(np.outer, ("x", "y"), shapes=[((3,), (4,)), ((2, 2), (3,))]),
    Spec(np.inner, ("x", "y"), shapes=[((3,), (3,)), ((2, 3), (4, 3)), ((), (2, 3)), ((2, 2, 3), (3,))]),
    Spec(np.tensordot, ("x", "y"), shapes=[((2, 3, 4), (3, 4, 5))]),
    Spec(np.tensordot, ("x", "y"), shapes=[((3, 4), (4, 5))], kwargs=dict(axes=1)),
    Spec(np.tensordot, ("x", "y"), shapes=[((3,), (2,))], kwargs=dict(axes=0)),
    Spec(np.tensordot, ("x", "y"), shapes=[((2, 3, 4), (4, 2))], kwargs=dict(axes=([0, 2], [1, 0]))),
    Spec(np.trace, shapes=[((3, 3),), ((3, 4),)]),
    Spec(np.trace, shapes=[((2, 3, 4),)], kwargs=dict(offset=1, axis1=1, axis2=2)),
    Spec(np.diagonal, shapes=[((3, 3),), ((3, 4),)]),
    Spec(np.diagonal, shapes=[((3, 4, 5),)], kwargs=dict(offset=-1, axis1=2, axis2=0)),
    Spec(np.diag, ("v",), shapes=[((3,),), ((3, 4),)]),
    Spec(np.diag, ("v",), shapes=[((3,),), ((4, 3),)], kwargs=dict(k=-1)),
    Spec(np.diag, ("v",), shapes=[((2,),), ((3, 4),)], kwargs=dict(k=2)),
    Spec(np.tril, shapes=[((3, 4),), ((2, 3, 3),)]),
    Spec(np.tril, shapes=[((3, 4),)], kwargs=dict(k=-1)),
    Spec(np.triu, shapes=[((3, 4),), ((2, 3, 3),)]),
    Spec(np.triu, shapes=[((3, 4),)], kwargs=dict(k=1)),
    Spec(np.linalg.norm, shapes=[((),), ((3,),), ((3, 4),), ((2, 3, 4),)]),
    *[Spec(np.linalg.norm, shapes=[((3,),)], kwargs=dict(ord=p)) for p in (1, 2, 3, 0.5, -1)],
    *[Spec(np.linalg.norm, shapes=[((3, 4),)], kwargs=dict(ord=p)) for p in MATRIX_NORMS],
    Spec(np.linalg.norm, shapes=[((3, 4),)], kwargs=dict(axis=1)),
    Spec(np.linalg.norm, shapes=[((2, 3, 4),)], kwargs=dict(axis=-1, ord=3, keepdims=True)),
    Spec(np.linalg.norm, shapes=[((2, 3, 4),)], kwargs=dict(axis=(0, 2))),
    Spec(np.linalg.norm, shapes=[((2, 3, 4),)], kwargs=dict(axis=(2, 0), ord="nuc", keepdims=True)),
    Spec(np.linalg.norm, shapes=[((2, 3, 4),)], kwargs=dict(axis=(1, 2), ord=1)),
    Spec(np.linalg.det, shapes=[((3, 3),), ((2, 3, 3),), ((1, 1),)]),
    Spec(np.linalg.inv, shapes=[((3, 3),), ((2, 3, 3),)]),
    Spec(np.linalg.solve, ("a", "b"), shapes=[((3, 3), (3,)), ((3, 3), (3, 2)), ((2, 3, 3), (3,)),
                                              ((2, 3, 3), (2, 3, 2)), ((3, 3), (2, 3, 2))]),
    # the runtime helpers the rules above call (their own rules serve higher derivatives)
    Spec(runtime.as_columns, ("v",), shapes=[((3,),), ((2, 3),)], extra=(_like(3),)),
    Spec(runtime.as_columns, ("v",), shapes=[((3, 2),)], extra=(_like(3, 2),)),
    Spec(runtime.from_columns, ("m",), shapes=[((3, 1),), ((2, 3, 1),)], extra=(_like(3),)),
    Spec(runtime.from_columns, ("m",), shapes=[((3, 2),)], extra=(_like(3, 2),)),
    Spec(runtime.matmul_adjoint_x, ("g", "x", "y"), shapes=MATMUL_SHAPES),
    Spec(runtime.matmul_adjoint_y, ("g", "x", "y"), shapes=MATMUL_SHAPES),
    Spec(runtime.dot_adjoint_x, ("g", "x", "y"), shapes=DOT_SHAPES),
    Spec(runtime.dot_adjoint_y, ("g", "x", "y"), shapes=DOT_SHAPES),
    Spec(runtime.diag_adjoint, ("g",), shapes=[((4, 4),)], extra=(_like(3), 1)),
    Spec(runtime.diag_adjoint, ("g",), shapes=[((3,),)], extra=(_like(3, 4),)),
    Spec(runtime.diagonal_adjoint, ("g",), shapes=[((3,),)], extra=(_like(3, 4),)),
    Spec(runtime.diagonal_adjoint, ("g",), shapes=[((4, 3),)], extra=(_like(3, 4, 5), -1, 2, 0)),
    Spec(runtime.einsum_place, ("r",), shapes=[((3,),)], extra=(("i", "ii", "ii->i"), _like(3, 3))),
    Spec(runtime.einsum_place, ("r",), shapes=[((3,),)], extra=(("i", "ij", "ij->i"), _like(3, 4))),
    Spec(runtime.einsum_place, ("r",), shapes=[((4, 3),)], extra=(("ji", "ij", "ij->ji"), _like(3, 4))),
    Spec(runtime.einsum_place, ("r",), shapes=[((2, 3),)], extra=(("ji", "iij", "iij->ji"), _like(3, 3, 2))),
]

CUSTOM_TESTED = (np.einsum, runtime.contract, np.linalg.cholesky, np.linalg.slogdet, runtime.norm_partial,
                 runtime.norm_hvp)
"""Rules with their own tests below (subscripts first, tuple results, positive definite input,
an argument that must be the norm of another)."""

SPECS = TABLE + [Spec(op) for op in CUSTOM_TESTED]
"""Everything this module tests: TABLE through the shared harness, CUSTOM_TESTED below."""
RULE_SPECS = TABLE
"""The shared tests run TABLE; the ops of CUSTOM_TESTED have tests of their own below."""

TAYLOR_XFAIL = {
    "numpy_linalg.norm": "a norm's third derivative is not implemented (norm_hvp has no derivative in x), so Taylor "
                         "mode to order 3 raises MissingRule, as nested forward mode raises NotImplementedError",
}

NONDIFF = [
    Nondiff(runtime.einsum_plan, "len(op('i,i->', 0, x, x)[0]) + 0.5"),
    Nondiff(runtime.tensordot_subscripts, "len(op(x, x, 1)) + 0.5"),
    Nondiff(runtime.inner_subscripts, "len(op(x, x)) + 0.5"),
    Nondiff(runtime.dot_subscripts, "len(op(x, x)) + 0.5"),
    Nondiff(runtime.norm_axes, "len(op(x, None, None)) + 0.5"),
]


# ---------------------------------------------------------------- einsum

EINSUMS = [
    ("ij,jk->ik", (3, 4), (4, 2)),
    ("ij,jk", (3, 4), (4, 2)),
    ("ij,ij->", (3, 4), (3, 4)),
    ("i,j->ij", (3,), (4,)),
    ("ii->", (3, 3)),
    ("ii->i", (3, 3)),
    ("ii", (3, 3)),
    ("ij->", (3, 4)),
    ("ij->j", (3, 4)),
    ("ji", (3, 4)),
    ("iij->ji", (3, 3, 2)),
    ("...ij,...jk->...ik", (2, 3, 4), (2, 4, 5)),
    ("...ij,jk->...ik", (2, 3, 4), (4, 5)),
    ("...i,...i", (2, 3), (3,)),
    ("bij,bj->bi", (2, 3, 4), (1, 4)),
    ("ij,j,i->", (3, 4), (4,), (3,)),
    ("ab,bc,cd->ad", (2, 3), (3, 4), (4, 2)),
    ("i,i,i", (3,), (3,), (3,)),
    (",ij->ij", (), (2, 3)),
]


@pytest.mark.parametrize("spec", EINSUMS, ids=lambda spec: spec[0] or "scalar")
def test_einsum(spec):
    subscripts, *shapes = spec
    values = uniform(*shapes)
    names = ["x", "y", "z"][: len(values)]
    check_rule(runtime.contract, dict(zip(names, values)), {"subscripts": subscripts})
    for op in ("np.einsum", "contract"):
        source = f"def f({', '.join(names)}):\n    return {op}({subscripts!r}, {', '.join(names)})\n"
        check_grads(make_function(source, {"contract": runtime.contract}), values)


def test_einsum_matches_matmul_gradient():
    x, y = uniform((3, 4), (4, 2))
    by_einsum = s2sad.grad(make_function("def f(x, y):\n    return np.sum(np.einsum('ij,jk->ik', x, y) ** 2)\n"))
    by_matmul = s2sad.grad(make_function("def f(x, y):\n    return np.sum((x @ y) ** 2)\n"))
    np.testing.assert_allclose(by_einsum(x, y), by_matmul(x, y), rtol=1e-12)


# ---------------------------------------------------------------- norms at special points


@pytest.mark.parametrize("ord", [None, 2, 3, 1.5, "fro"])
def test_norm_at_zero_has_zero_derivative(ord):
    shape = (3, 4) if ord == "fro" else (3,)
    fun = make_function(f"def f(x):\n    return np.linalg.norm(x, {ord!r})\n")
    np.testing.assert_array_equal(s2sad.grad(fun)(np.zeros(shape)), np.zeros(shape))
    np.testing.assert_array_equal(s2sad.jvp(fun, (np.zeros(shape),), (np.ones(shape),))[1], 0.0)


def test_norm_rows_with_a_zero_row():
    x = np.array([[0.0, 0.0], [3.0, 4.0]])
    grad = s2sad.grad(make_function("def f(x):\n    return np.sum(np.linalg.norm(x, axis=1))\n"))(x)
    np.testing.assert_allclose(grad, [[0.0, 0.0], [0.6, 0.8]])


@pytest.mark.parametrize("ord, axis", [("np.inf", "None"), ("-np.inf", "None"), ("np.inf", "0"),
                                       ("np.inf", "(0, 1)"), ("-np.inf", "(1, 0)")])
def test_norm_inf(ord, axis):
    x = uniform((3, 4))[0]
    check_grads(make_function(f"def f(x):\n    return np.linalg.norm(x, {ord}, {axis})\n"), [x])
    check_rule(np.linalg.norm, {"x": x}, {"ord": eval(ord), "axis": eval(axis)})  # noqa: S307 - literals


def test_norm_inf_ties_split_evenly():
    fun = make_function("def f(x):\n    return np.linalg.norm(x, np.inf)\n")
    np.testing.assert_allclose(s2sad.grad(fun)(np.array([1.0, -3.0, 3.0])), [0.0, -0.5, 0.5])
    matrix = make_function("def f(x):\n    return np.linalg.norm(x, 1)\n")
    # columns 0 and 1 both have absolute sum 3
    np.testing.assert_allclose(s2sad.grad(matrix)(np.array([[1.0, -2.0], [2.0, 1.0]])), [[0.5, -0.5], [0.5, 0.5]])


def test_nuclear_norm_closed_form():
    x = uniform((3, 4))[0]
    u, _, vt = np.linalg.svd(x, full_matrices=False)
    grad = s2sad.grad(make_function("def f(x):\n    return np.linalg.norm(x, 'nuc')\n"))(x)
    np.testing.assert_allclose(grad, u @ vt, rtol=1e-12)


@pytest.mark.parametrize("ord, axis", [(None, None), (3, 1), ("fro", None), (1, 0), (np.inf, 1), (1.5, 0)])
def test_norm_helpers(ord, axis):
    """norm_partial(x, ..., norm) with norm = |x| has the Hessian as its derivative (norm_hvp)."""
    x, v = uniform((3, 4), (3, 4))
    axes = runtime.norm_axes(x, ord, axis)
    fun = make_function("def f(x):\n    return norm_partial(x, ord, axes, False, np.linalg.norm(x, ord, axis))\n",
                        {"norm_partial": runtime.norm_partial, "ord": ord, "axes": axes, "axis": axis})
    check_grads(fun, [x])
    fixed = {"x": x, "ord": ord, "axes": axes, "keepdims": False, "norm": np.linalg.norm(x, ord, axis)}
    check_rule(runtime.norm_hvp, {"v": v}, fixed)
    hvp = make_function("def f(v):\n    return norm_hvp(x, v, ord, axes, False, norm)\n",
                        {"norm_hvp": runtime.norm_hvp, **fixed})
    check_grads(hvp, [v])


def test_third_derivative_of_norm_is_not_implemented():
    x, v = uniform((3,), (3,))
    fun = make_function("def f(x):\n    return np.sum(norm_hvp(x, v, None, (0,), False, np.linalg.norm(x)))\n",
                        {"norm_hvp": runtime.norm_hvp, "v": v})
    with pytest.raises(NotImplementedError, match="third derivatives"):
        s2sad.grad(fun)(x)


# ---------------------------------------------------------------- det, slogdet, inv, cholesky


def test_det_closed_form():
    x = uniform((3, 3))[0]
    grad = s2sad.grad(make_function("def f(x):\n    return np.linalg.det(x)\n"))(x)
    np.testing.assert_allclose(grad, np.linalg.det(x) * np.linalg.inv(x).T, rtol=1e-12)


def test_slogdet_rule():
    rule = lookup(np.linalg.slogdet)
    rng = np.random.default_rng(3)
    for shape in [(3, 3), (2, 3, 3)]:
        x, dx = rng.uniform(-2, 2, shape), rng.standard_normal(shape)
        out = np.linalg.slogdet(x)
        dsign, dlogdet = rule_tangent(rule, "x", {"x": x}, dx, out)
        eps = 1e-6
        numeric = (np.linalg.slogdet(x + eps * dx)[1] - np.linalg.slogdet(x - eps * dx)[1]) / (2 * eps)
        np.testing.assert_allclose(dlogdet, numeric, rtol=1e-6)
        np.testing.assert_array_equal(dsign, 0.0)
        g = (np.zeros(shape[:-2]), rng.standard_normal(shape[:-2]))
        adjoint = rule_adjoint(rule, "x", {"x": x}, g, out)
        np.testing.assert_allclose(np.sum(adjoint * dx), np.sum(dlogdet * g[1]), rtol=1e-10)


def test_slogdet_pipeline():
    x = uniform((3, 3))[0]
    fun = make_function("def f(x):\n    sign, logdet = np.linalg.slogdet(x)\n    return logdet\n")
    np.testing.assert_allclose(s2sad.grad(fun)(x), np.linalg.inv(x).T, rtol=1e-12)
    check_grads(fun, [x])
    both = make_function("def f(x):\n    sign, logdet = np.linalg.slogdet(x)\n    return sign * np.exp(logdet)\n")
    check_grads(both, [x])
    np.testing.assert_allclose(s2sad.grad(both)(x), np.linalg.det(x) * np.linalg.inv(x).T, rtol=1e-12)


def _positive_definite(n: int, *stack: int, seed: int = 0):
    m = np.random.default_rng(seed).standard_normal((*stack, n, n))
    return m @ np.swapaxes(m, -1, -2) + n * np.eye(n)


@pytest.mark.parametrize("stack", [(), (2,)])
def test_cholesky(stack):
    x = _positive_definite(3, *stack)
    check_rule(np.linalg.cholesky, {"x": x})
    check_grads(make_function("def f(x):\n    return np.linalg.cholesky(x)\n"), [x])


def test_cholesky_reads_the_lower_triangle_only():
    x = _positive_definite(3)
    grad = s2sad.grad(make_function("def f(x):\n    return np.sum(np.linalg.cholesky(x) ** 2)\n"))(x)
    np.testing.assert_array_equal(np.triu(grad, 1), 0.0)
    # L L^T = x, so sum(L**2) = trace(x): the gradient is the identity
    np.testing.assert_allclose(grad, np.eye(3), atol=1e-12)


# ---------------------------------------------------------------- second order


def _hessian_vector_check(source: str, x, seed: int = 0) -> None:
    """jvp of grad (forward over reverse) against central differences of grad."""
    g = s2sad.grad(make_function(source))
    v = np.random.default_rng(seed).standard_normal(np.shape(x))
    _, hv = s2sad.jvp(g, (x,), (v,))
    eps = 1e-6
    np.testing.assert_allclose(hv, (g(x + eps * v) - g(x - eps * v)) / (2 * eps), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("body", [
    "np.linalg.norm(x) ** 3",
    "np.sum(np.linalg.norm(x, ord=3, axis=1) ** 2)",
    "np.linalg.norm(x, 'fro') * np.sum(x)",
    "np.sum(np.linalg.norm(x, np.inf, axis=0) ** 2)",
    "np.einsum('ij,ij->', x, x) ** 2",
    "np.sum(np.tensordot(x, x, axes=([1], [1])) ** 2)",
    "np.sum(np.inner(x, x) ** 2)",
    "np.sum(np.outer(x, x) ** 2)",
    "np.vdot(x, x) ** 2",
    "np.sum(np.dot(x, x.T) ** 2)",
    "np.sum(np.dot(x.reshape(3, 2, 2), x.reshape(2, 2, 3)) ** 2)",
    "np.trace(x @ x.T) ** 2",
    "np.sum(np.diag(np.diag(x @ x.T)) ** 3)",
])
def test_second_order(body):
    x = np.random.default_rng(1).uniform(-2, 2, (3, 4)) + np.eye(3, 4) * 3
    _hessian_vector_check(f"def f(x):\n    return {body}\n", x)


@pytest.mark.parametrize("body", [
    "np.linalg.det(x) ** 2",
    "np.sum(np.linalg.inv(x) ** 2)",
    "np.sum(np.linalg.solve(x, np.sum(x, axis=0)) ** 2)",
    "np.sum(np.linalg.solve(np.stack([x, x.T]), np.sin(x)) ** 2)",
])
def test_second_order_square(body):
    x = np.random.default_rng(1).uniform(-2, 2, (3, 3)) + np.eye(3) * 3
    _hessian_vector_check(f"def f(x):\n    return {body}\n", x)


def test_second_order_cholesky():
    _hessian_vector_check("def f(x):\n    return np.sum(np.linalg.cholesky(x @ x.T + np.eye(3)) ** 3)\n",
                          np.random.default_rng(4).standard_normal((3, 3)))


@pytest.mark.parametrize("ord", ["nuc", 2, -2])
def test_second_order_of_spectral_norms_is_not_implemented(ord):
    g = s2sad.grad(make_function(f"def f(x):\n    return np.linalg.norm(x, {ord!r})\n"))
    x = uniform((3, 4))[0]
    with pytest.raises(NotImplementedError, match="second derivatives"):
        s2sad.jvp(g, (x,), (np.ones((3, 4)),))


@pytest.mark.parametrize("body", [
    'x @ x',
    'np.dot(x, x)',
    "np.einsum('ij,jk', x, x)",
    'np.tensordot(x, x)',
    'np.inner(x, x)',
    'np.outer(x, x)',
    'np.vdot(x, x)',
    'np.trace(x)',
    'np.diag(x)',
    'np.linalg.norm(x)',
    'np.linalg.norm(x, 3, 1)',
    'np.linalg.det(x)',
    'np.linalg.inv(x)',
    'np.linalg.solve(x, np.sum(x, 0))',
    'np.linalg.cholesky(x @ x.T)',
])
def test_float32_stays_float32(body):
    """A float32 argument gets a float32 gradient and tangent, also from the second derivative."""
    x = np.random.default_rng(5).uniform(0.5, 2.0, (3, 3)).astype(np.float32)
    g = s2sad.grad(make_function(f"def f(x):\n    return np.sum({body})\n"))
    assert g(x).dtype == np.float32
    assert s2sad.jvp(g, (x,), (np.ones_like(x),))[1].dtype == np.float32
