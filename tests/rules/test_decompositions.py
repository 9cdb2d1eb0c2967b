"""Decompositions and matrix functions: spec table (rule alone and through the pipeline, both
modes), the rules with tuple results checked with numbers, closed forms, special points (tied
eigenvalues, rank deficiency), refusals, second order, and one small program per op through
grad, value_and_grad, jvp, vjp, jacobian (jacrev against jacfwd) and hessian."""

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg

import s2sad
from s2sad import runtime
from s2sad.errors import UnsupportedValue
from s2sad.rules.registry import lookup
from s2sad.testing import check_grads, check_rule, make_function, rule_adjoint, rule_tangent
from tests.rules.family import Nondiff, test_nondiff_gives_zero_derivatives, test_pipeline, test_rule, test_taylor  # noqa: F401
from tests.rules.specs import Spec

ROOT = Path(__file__).resolve().parents[2]

TABLE = [
    Spec(np.linalg.eigvalsh, ("a",), shapes=[((3, 3),), ((2, 4, 4),)]),
    Spec(np.linalg.eigvalsh, ("a",), shapes=[((3, 3),)], kwargs=dict(UPLO="U")),
    Spec(np.linalg.svd, ("a",), shapes=[((4, 3),), ((3, 5),), ((2, 3, 3),)], kwargs=dict(compute_uv=False)),
    Spec(np.linalg.pinv, ("a",), shapes=[((4, 2),), ((2, 5),), ((2, 4, 3),)]),
    Spec(np.linalg.matrix_power, ("a",), shapes=[((3, 3),), ((2, 3, 3),)], kwargs=dict(n=3)),
    Spec(np.linalg.matrix_power, ("a",), shapes=[((3, 3),)], kwargs=dict(n=1)),
    Spec(np.kron, ("a", "b"), shapes=[((2, 3), (3, 2)), ((3,), (2,)), ((2,), (2, 3)), ((2, 1, 3), (2, 2))]),
    # `extra` (axisa=-1) keeps the vectors' 3 components as written when hypothesis renames sides
    Spec(np.cross, ("a", "b"), shapes=[((3,), (3,)), ((4, 3), (3,)), ((2, 1, 3), (4, 3))], extra=(-1,)),
    Spec(np.cross, ("a", "b"), shapes=[((3, 4), (3, 4))], extra=(0,), kwargs=dict(axis=0)),
    Spec(scipy.linalg.expm, ("A",), shapes=[((3, 3),), ((2, 3, 3),)], domain=(-0.7, 0.7)),
    # the runtime helpers the rules call (their rules serve higher derivatives)
    Spec(runtime.mirror_triangle, ("d",), shapes=[((3, 3),), ((2, 3, 3),)], extra=("L",)),
    Spec(runtime.mirror_triangle, ("d",), shapes=[((3, 3),)], extra=("U",)),
    Spec(runtime.fold_triangle, ("c",), shapes=[((3, 3),), ((2, 3, 3),)], extra=("L",)),
    Spec(runtime.fold_triangle, ("c",), shapes=[((3, 3),)], extra=("U",)),
    *[Spec(op, (p,), shapes=[((3, 3),), ((2, 3, 3),)], extra=(hermitian,))
      for op, p in ((runtime.mirror_triangle, "d"), (runtime.fold_triangle, "c")) for hermitian in (True, False)],
    Spec(runtime.frechet_block, ("x", "e"), shapes=[((3, 3), (3, 3)), ((2, 3, 3), (2, 3, 3))]),
    Spec(runtime.fit_to, ("t",), shapes=[((3,),)], extra=([0.0, 0.0, 0.0],)),
    Spec(runtime.fit_to, ("t",), shapes=[((3,),)], extra=([],)),
    Spec(runtime.qr_r, ("r",), shapes=[((3, 3),), ((2, 3, 3),), ((2, 4),)], extra=("reduced",)),
]
"""Ops whose spec hypothesis can draw on renamed sides (tests/rules/test_hypothesis.py)."""

EVEN = [
    Spec(runtime.upper_right, ("m",), shapes=[((4, 4),), ((2, 6, 6),)]),
    Spec(runtime.diagonal_blocks, ("m",), shapes=[((4, 4),), ((2, 6, 6),)]),
]
"""Helpers that read a matrix of even side (two blocks): drawn by test_hypothesis's own block."""

def _zeros(*shape):
    return np.zeros(shape).tolist()


CROSS_HELPERS = [
    Spec(runtime.cross_pad, ("v",), shapes=[((4, 2),), ((3,),)], extra=(-1, None)),
    Spec(runtime.cross_pad, ("v",), shapes=[((2, 4),)], extra=(-1, 0)),
    Spec(runtime.cross_unpad, ("g",), shapes=[((4, 3),)], extra=(_zeros(4, 2), -1, None)),
    Spec(runtime.cross_unpad, ("g",), shapes=[((4, 3),)], extra=(_zeros(3, 4), 5, 0)),
    Spec(runtime.cross_lift, ("g",), shapes=[((4,),)], extra=(_zeros(4, 2), _zeros(2), -1, -1, -1, None)),
    Spec(runtime.cross_lift, ("g",), shapes=[((3, 4),)], extra=(_zeros(4, 2), _zeros(3), -1, -1, 0, None)),
    Spec(runtime.cross_drop, ("h",), shapes=[((4, 3),)], extra=(_zeros(4, 2), _zeros(2), -1, -1, -1, None)),
    Spec(runtime.cross_drop, ("h",), shapes=[((4, 3),)], extra=(_zeros(2, 4), _zeros(3, 4), 0, 0, 0, 0)),
]
"""np.cross's helpers read the shapes of their other arguments (lists here: the pipeline test
writes them as literals), which must match the vectors: not drawn by test_hypothesis (its
EXCLUDED says why)."""

TUPLES = [
    np.linalg.eigh,
    np.linalg.eig,
    np.linalg.svd,
    np.linalg.qr,
    np.linalg.lstsq,
    runtime.uv_or_s,
    runtime.svd_cotangent,
    runtime.at_rank,
]
"""Rules with tuple results or arguments, or an argument tied to another (at_rank's pseudo-inverse):
their own tests below."""

RULE_SPECS = TABLE + EVEN + CROSS_HELPERS
SPECS = RULE_SPECS + [Spec(op) for op in TUPLES]

NONDIFF = [
    Nondiff(runtime.equal_pairs, "np.sum(op(x)) + 0.5"),
    Nondiff(runtime.real_pairs, "np.sum(op(x)) + 0.5"),
    Nondiff(runtime.svd_pairs, "np.sum(op(x, np.eye(3), False, True)) + 0.5"),
    Nondiff(runtime.kron_plan, "len(op(x, x)[1]) + 0.5"),
    Nondiff(runtime.lstsq_cutoff, "op(np.outer(x, x), None) + op(x, 0.25)"),
]


def _rng(seed=0):
    return np.random.default_rng(seed)


def symmetric(n, *stack, seed=0):
    m = _rng(seed).standard_normal((*stack, n, n))
    return m + np.swapaxes(m, -1, -2)


def real_spectrum(n, seed=0):
    """A matrix that is not symmetric but has real, distinct eigenvalues."""
    rng = _rng(seed)
    p = rng.standard_normal((n, n)) + n * np.eye(n)
    return p @ np.diag(np.arange(1.0, n + 1) * 0.7 - 1.3) @ np.linalg.inv(p)


# ---------------------------------------------------------------- tuple results, with numbers


def _pieces(value):
    return list(value) if isinstance(value, tuple) else [value]


def check_tuple_rule(op, args: dict, kwargs=None, seed=0, eps=1e-6, rtol=1e-5, atol=1e-7):
    """`check_rule` for an op with a tuple result: each piece's tangent against a central
    difference, each adjoint against the tangents by the dot-product identity."""
    rule, rng, kwargs = lookup(op), _rng(seed), kwargs or {}
    out = op(**args, **kwargs)
    values = {**{n: p.default for n, p in rule.signature.parameters.items()}, **args, **kwargs}
    for name, value in args.items():
        d = rng.standard_normal(np.shape(value))
        plus, minus = op(**{**args, name: value + eps * d}, **kwargs), op(**{**args, name: value - eps * d}, **kwargs)
        tangent = rule_tangent(rule, name, values, d, out)
        for t, p, m in zip(_pieces(tangent), _pieces(plus), _pieces(minus), strict=True):
            np.testing.assert_allclose(t, (np.asarray(p) - m) / (2 * eps), rtol=rtol, atol=atol)
        g = tuple(rng.standard_normal(np.shape(piece)) for piece in _pieces(out))
        g = g if isinstance(out, tuple) else g[0]
        adjoint = rule_adjoint(rule, name, values, g, out)
        assert np.shape(adjoint) == np.shape(value)
        lhs = sum(np.sum(t * c) for t, c in zip(_pieces(tangent), _pieces(g)))
        rhs = np.sum(adjoint * d)  # (NumPy 2.5's eig: complex arrays holding real values)
        np.testing.assert_allclose(np.imag([lhs, rhs]), 0.0, atol=1e-9 * (1.0 + abs(lhs)))
        np.testing.assert_allclose(np.real(rhs), np.real(lhs), rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("stack", [(), (2,)])
@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh_rule(stack, uplo):
    """Any matrix: eigh reads one triangle, so the directions need not be symmetric."""
    x = _rng(1).standard_normal((*stack, 4, 4))
    check_tuple_rule(np.linalg.eigh, {"a": x}, {"UPLO": uplo})


def test_eig_rule():
    check_tuple_rule(np.linalg.eig, {"a": symmetric(4)})
    check_tuple_rule(np.linalg.eig, {"a": real_spectrum(4)})


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 4), (2, 4, 3)])
def test_svd_rule(shape):
    x = _rng(2).standard_normal(shape)
    check_tuple_rule(np.linalg.svd, {"a": x}, {"full_matrices": False})
    check_tuple_rule(np.linalg.svd, {"a": x}, {"compute_uv": False})


@pytest.mark.parametrize("shape", [(5, 3), (3, 3), (2, 4, 3), (3, 5), (2, 2, 4), (1, 3)])
def test_qr_rule(shape):
    check_tuple_rule(np.linalg.qr, {"a": _rng(3).standard_normal(shape)})
    if shape[-2] <= shape[-1]:  # 'complete' is 'reduced' there
        check_tuple_rule(np.linalg.qr, {"a": _rng(4).standard_normal(shape)}, {"mode": "complete"})


def test_qr_of_a_wide_matrix_closed_forms():
    """a = [a1 a2] (3 x 5): q and r1 are those of the square a1, so they do not move with a2, and
    r2 = q^T a2 moves along q^T da2."""
    a = _rng(6).standard_normal((3, 5))
    fun = make_function("def f(a):\n    return np.linalg.qr(a)\n")
    da = np.zeros_like(a)
    da[:, 3:] = _rng(7).standard_normal((3, 2))
    (q, r), (dq, dr) = s2sad.jvp(fun, (a,), (da,))
    np.testing.assert_allclose(q @ r, a, atol=1e-12)
    np.testing.assert_allclose(dq, 0.0, atol=1e-12)
    np.testing.assert_allclose(dr[:, :3], 0.0, atol=1e-12)
    np.testing.assert_allclose(dr[:, 3:], q.T @ da[:, 3:], atol=1e-12)
    g = s2sad.grad(make_function("def f(a):\n    q, r = np.linalg.qr(a)\n    return np.sum(r[:, 3:] * w)\n",
                                 {"w": np.arange(6.0).reshape(3, 2)}))(a)
    np.testing.assert_allclose(g[:, 3:], q @ np.arange(6.0).reshape(3, 2), atol=1e-12)


def _cross_of_2_vectors() -> bool:
    """Whether this NumPy's np.cross takes 2-vectors (deprecated in 2.0, an error from 2.5)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            np.cross(np.ones(2), np.ones(2))
        except ValueError:
            return False
    return True


CROSS_OF_2_VECTORS = _cross_of_2_vectors()


@pytest.mark.filterwarnings("ignore:Arrays of 2-dimensional vectors:DeprecationWarning")
def test_cross_of_2_vectors():
    """Of 2-vectors np.cross is the scalar a0 b1 - a1 b0 (an array of them for stacks): its
    gradient is (b1, -b0) in a and (-a1, a0) in b; a 2-vector with a 3-vector is a 3-vector
    with a zero third component."""
    a, b = _rng(8).standard_normal((4, 2)), _rng(9).standard_normal((4, 2))
    fun = make_function("def f(a, b):\n    return np.sum(np.cross(a, b) * w)\n", {"w": np.arange(1.0, 5.0)})
    if not CROSS_OF_2_VECTORS:  # NumPy 2.5 and later: an error, in the derivative as in the function
        with pytest.raises(ValueError, match="3-dimensional"):
            s2sad.grad(fun, argnums=(0, 1))(a, b)
    else:
        ga, gb = s2sad.grad(fun, argnums=(0, 1))(a, b)
        w = np.arange(1.0, 5.0)[:, None]
        np.testing.assert_allclose(ga, w * np.stack([b[:, 1], -b[:, 0]], -1), rtol=1e-12)
        np.testing.assert_allclose(gb, w * np.stack([-a[:, 1], a[:, 0]], -1), rtol=1e-12)
        for source, shapes in [("np.cross(a, b)", ((2,), (2,))), ("np.cross(a, b)", ((4, 2), (2,))),
                               ("np.cross(a, b)", ((3, 2), (3, 3))), ("np.cross(a, b, axis=0)", ((2, 3), (2, 3))),
                               ("np.cross(a, b, axisa=0, axisc=0)", ((2, 3), (3, 3)))]:
            program = make_function(f"def f(a, b):\n    return np.sin({source})\n")
            args = [_rng(10).standard_normal(shapes[0]), _rng(11).standard_normal(shapes[1])]
            check_grads(program, args, order=2)
            kwargs = {"axis": 0} if "axis=0" in source else {"axisa": 0, "axisc": 0} if "axisa" in source else {}
            check_rule(np.cross, dict(zip("ab", args)), kwargs)


@pytest.mark.parametrize("a, b", [((5, 3), (5,)), ((5, 3), (5, 2)), ((3, 5), (3,)), ((3, 5), (3, 2)), ((4, 4), (4,))])
def test_lstsq_rule(a, b):
    rng = _rng(4)
    check_tuple_rule(np.linalg.lstsq, {"a": rng.standard_normal(a), "b": rng.standard_normal(b)})


def test_hermitian_svd_and_pinv_read_the_lower_triangle():
    """hermitian=True: NumPy factors the symmetric matrix the lower triangle stands for."""
    x = _rng(16).standard_normal((4, 4))
    check_tuple_rule(np.linalg.svd, {"a": x}, {"hermitian": True})
    check_tuple_rule(np.linalg.svd, {"a": x}, {"hermitian": True, "compute_uv": False})
    check_rule(np.linalg.pinv, {"a": x}, {"hermitian": True})
    for body in ["u, s, vh = np.linalg.svd(x, hermitian=True)\n    return np.sum(s ** 3) + np.sum(u[0] * vh[:, 0])",
                 "return np.sum(np.sin(np.linalg.pinv(x, hermitian=True)))"]:
        fun = make_function(f"def f(x):\n    {body}\n")
        check_grads(fun, [x], order=2)
        np.testing.assert_array_equal(np.triu(s2sad.grad(fun)(x), 1), 0.0)


def test_at_rank_rule():
    """The identity in `a` (its `like` must be a pseudo-inverse of `a`)."""
    a, d = _rng(19).standard_normal((4, 3)), _rng(20).standard_normal((4, 3))
    values = {"a": a, "like": np.linalg.pinv(a), "name": "np.linalg.pinv"}
    rule = lookup(runtime.at_rank)
    np.testing.assert_array_equal(rule_tangent(rule, "a", values, d, a), d)
    np.testing.assert_array_equal(rule_adjoint(rule, "a", values, d, a), d)
    fun = make_function("def f(a):\n    return at_rank(a, np.linalg.pinv(a), 'np.linalg.pinv') ** 2\n",
                        {"at_rank": runtime.at_rank})
    check_grads(fun, [a], order=2)


def test_svd_helpers_are_each_others_adjoint():
    usv = np.linalg.svd(_rng(5).standard_normal((4, 3)), full_matrices=False)
    c = _rng(6).standard_normal(3)
    assert runtime.uv_or_s(usv, True) is usv
    np.testing.assert_array_equal(runtime.uv_or_s(usv, False), usv[1])
    spread = runtime.svd_cotangent(c, usv, False)
    assert [np.shape(p) for p in spread] == [np.shape(p) for p in usv]
    assert np.sum(spread[1] * usv[1]) == np.sum(c * runtime.uv_or_s(usv, False))
    assert runtime.svd_cotangent(usv, usv, True) is usv


# ---------------------------------------------------------------- closed forms


def test_eigvalsh_closed_forms():
    x = symmetric(4)
    trace = s2sad.grad(make_function("def f(x):\n    return np.sum(np.linalg.eigvalsh(x))\n"))(x)
    np.testing.assert_allclose(trace, np.eye(4), atol=1e-12)  # the sum of eigenvalues is the trace
    w, v = np.linalg.eigh(x)
    top = s2sad.grad(make_function("def f(x):\n    return np.linalg.eigvalsh(x)[-1]\n"))(x)
    # d w = v^T dx v on the symmetric matrix the lower triangle stands for: entries below the
    # diagonal count twice, the upper triangle not at all
    projector = np.outer(v[:, -1], v[:, -1])
    np.testing.assert_allclose(top, 2 * np.tril(projector, -1) + np.diag(np.diag(projector)), atol=1e-12)


def test_svd_closed_forms():
    x = _rng(7).standard_normal((5, 3))
    u, s, vh = np.linalg.svd(x, full_matrices=False)
    nuclear = s2sad.grad(make_function("def f(x):\n    return np.sum(np.linalg.svd(x, compute_uv=False))\n"))(x)
    np.testing.assert_allclose(nuclear, u @ vh, rtol=1e-12)
    frobenius = s2sad.grad(make_function(
        "def f(x):\n    u, s, vh = np.linalg.svd(x, full_matrices=False)\n    return np.sum(s ** 2)\n"))(x)
    np.testing.assert_allclose(frobenius, 2 * x, rtol=1e-12)


def test_pinv_of_an_invertible_matrix_is_the_inverse():
    x = _rng(8).standard_normal((3, 3)) + 3 * np.eye(3)
    by_pinv = s2sad.grad(make_function("def f(x):\n    return np.sum(np.sin(np.linalg.pinv(x)))\n"))(x)
    by_inv = s2sad.grad(make_function("def f(x):\n    return np.sum(np.sin(np.linalg.inv(x)))\n"))(x)
    np.testing.assert_allclose(by_pinv, by_inv, rtol=1e-9)


def test_lstsq_of_a_rank_deficient_matrix_keeps_its_cutoff():
    """The derivative at constant rank: of a matrix of rank 2 (columns 0 and 2 equal) along
    directions that keep it so; a cutoff (rcond=0.5) that drops a nonzero singular value is refused."""
    rng = _rng(17)
    a, b = rng.standard_normal((5, 3)), rng.standard_normal(5)
    a[:, 2] = a[:, 0]
    d = rng.standard_normal((5, 3))
    d[:, 2] = d[:, 0]
    fun = make_function("def f(a, b):\n    return np.sin(np.linalg.lstsq(a, b)[0])\n")
    _, tangent = s2sad.jvp(fun, (a, b), (d, np.zeros(5)))
    eps = 1e-6
    np.testing.assert_allclose(tangent, (fun(a + eps * d, b) - fun(a - eps * d, b)) / (2 * eps), rtol=1e-6)
    _, pullback = s2sad.vjp(fun, a, b)
    w = rng.standard_normal(3)
    np.testing.assert_allclose(np.sum(pullback(w)[0] * d), np.sum(w * tangent), rtol=1e-10)
    q1, _ = np.linalg.qr(rng.standard_normal((5, 3)))
    q2, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    spread = q1 @ np.diag([3.0, 2.0, 0.5]) @ q2  # a cutoff of 0.5 * 3 drops the singular value 0.5
    for call in ("np.linalg.lstsq(a, b, 0.5)[0]", "np.linalg.pinv(a, 0.5) @ b"):
        truncated = make_function(f"def f(a, b):\n    return np.sum(np.sin({call}))\n")
        with pytest.raises(UnsupportedValue, match="dropped singular values that are not zero"):
            s2sad.grad(truncated)(spread, b)


def test_lstsq_matches_the_normal_equations():
    a, b = _rng(9).standard_normal((6, 3)), _rng(10).standard_normal(6)
    fit = make_function("def f(a, b):\n    return np.sum(np.linalg.lstsq(a, b)[0] ** 2)\n")
    normal = make_function("def f(a, b):\n    return np.sum(np.linalg.solve(a.T @ a, a.T @ b) ** 2)\n")
    for argnums in (0, 1):
        np.testing.assert_allclose(s2sad.grad(fit, argnums=argnums)(a, b), s2sad.grad(normal, argnums=argnums)(a, b),
                                   rtol=1e-9)


def test_qr_of_a_square_matrix_against_its_definition():
    x = _rng(11).standard_normal((4, 4))
    fun = make_function("def f(x):\n    q, r = np.linalg.qr(x)\n    return q @ r\n")
    _, tangent = s2sad.jvp(fun, (x,), (np.eye(4),))
    np.testing.assert_allclose(tangent, np.eye(4), atol=1e-12)


def test_expm_and_matrix_power_of_diagonal_matrices():
    d = np.diag([0.3, -0.5, 1.1])
    expm = s2sad.grad(make_function("def f(x):\n    return np.trace(expm(x))\n", {"expm": scipy.linalg.expm}))(d)
    np.testing.assert_allclose(expm, np.diag(np.exp([0.3, -0.5, 1.1])), atol=1e-12)
    power = s2sad.grad(make_function("def f(x):\n    return np.trace(np.linalg.matrix_power(x, 4))\n"))(d)
    np.testing.assert_allclose(power, np.diag(4 * np.array([0.3, -0.5, 1.1]) ** 3), atol=1e-12)
    inverse = s2sad.grad(make_function("def f(x):\n    return np.trace(np.linalg.matrix_power(x, -1))\n"))(d)
    np.testing.assert_allclose(inverse, -np.linalg.inv(d).T @ np.linalg.inv(d).T, atol=1e-12)


def test_kron_and_cross_closed_forms():
    a, b = _rng(12).standard_normal((2, 3)), _rng(13).standard_normal((3, 2))
    grad = s2sad.grad(make_function("def f(a, b):\n    return np.sum(np.kron(a, b))\n"))(a, b)
    np.testing.assert_allclose(grad, np.full((2, 3), np.sum(b)), rtol=1e-12)
    u, v = _rng(14).standard_normal(3), _rng(15).standard_normal(3)
    triple = make_function("def f(u, v):\n    return np.dot(np.cross(u, v), w)\n", {"w": np.array([1.0, 2.0, 3.0])})
    np.testing.assert_allclose(s2sad.grad(triple)(u, v), np.cross(v, [1.0, 2.0, 3.0]), rtol=1e-12)


# ---------------------------------------------------------------- special points and refusals


def test_eigh_at_repeated_eigenvalues():
    """Eigenvalue sums stay exact; eigenvectors of a tied pair do not change within their plane
    (F is 0 there), so the derivative stays finite."""
    x = np.diag([1.0, 1.0, 2.0])
    total = s2sad.grad(make_function("def f(x):\n    w, v = np.linalg.eigh(x)\n    return np.sum(w ** 2)\n"))(x)
    np.testing.assert_allclose(total, np.tril(2 * x), atol=1e-12)
    vectors = make_function("def f(x):\n    w, v = np.linalg.eigh(x)\n    return v\n")
    _, tangent = s2sad.jvp(vectors, (x,), (np.ones((3, 3)),))
    np.testing.assert_allclose(tangent[:2, :2], 0.0, atol=1e-12)
    assert np.all(np.isfinite(tangent))
    grad = s2sad.grad(make_function("def f(x):\n    w, v = np.linalg.eigh(x)\n    return np.sum(v * x)\n"))(x)
    assert np.all(np.isfinite(grad))


def test_svd_of_a_rank_deficient_matrix_is_finite():
    x = np.outer([1.0, 2.0, 3.0], [1.0, -1.0])
    grad = s2sad.grad(make_function(
        "def f(x):\n    u, s, vh = np.linalg.svd(x, full_matrices=False)\n    return np.sum(u) + np.sum(s)\n"))(x)
    assert np.all(np.isfinite(grad))


@pytest.mark.parametrize("body, x, match", [
    ("w, v = np.linalg.eig(x)\n    return np.sum(w.real)", np.array([[0.0, 1.0], [-1.0, 0.0]]), "complex eigenvalues"),
    ("u, s, vh = np.linalg.svd(x)\n    return np.sum(s)", np.ones((3, 2)), "full_matrices=False"),
    ("q, r = np.linalg.qr(x, mode='complete')\n    return np.sum(r)", np.ones((3, 2)), "mode 'reduced'"),
    ("r = np.linalg.qr(x, mode='r')\n    return np.sum(r)", np.ones((3, 2)), "mode 'reduced'"),
])
def test_refusals_name_the_construct_and_the_line(body, x, match):
    fun = make_function(f"def f(x):\n    {body}\n")
    for run in (lambda: s2sad.grad(fun)(x), lambda: s2sad.jvp(fun, (x,), (np.ones_like(x),))):
        with pytest.raises(UnsupportedValue, match=match) as error:
            run()
        notes = getattr(error.value, "__notes__", ())
        assert any(":2: " + body.split("\n")[0] in note for note in notes), notes


# ---------------------------------------------------------------- one small program per op, every mode

PROGRAMS = {
    "eigh": ("def f(x):\n    w, v = np.linalg.eigh(x @ x.T + np.eye(3))\n"
             "    return np.sum(np.log(w)) + np.sum(v[:, -1] ** 2 * np.arange(3.0))\n", (3, 3)),
    "eigvalsh": ("def f(x):\n    return np.sum(np.linalg.eigvalsh(x + x.T) ** 3)\n", (3, 3)),
    "eig": ("def f(x):\n    w, v = np.linalg.eig(x + x.T)\n    return np.sum(w ** 2) + np.sum(v[0] * v[1])\n", (3, 3)),
    "svd": ("def f(x):\n    u, s, vh = np.linalg.svd(x, full_matrices=False)\n"
            "    return np.sum(s ** 3) + np.sum(u[0] * vh[:, 0])\n", (4, 3)),
    "svdvals": ("def f(x):\n    return np.sum(np.linalg.svd(x, compute_uv=False) ** 2"
                " * np.arange(1.0, 4.0))\n", (3, 4)),
    "pinv": ("def f(x):\n    return np.sum(np.sin(np.linalg.pinv(x)))\n", (4, 3)),
    "lstsq": ("def f(x):\n    sol, res, rank, sv = np.linalg.lstsq(x, np.arange(5.0))\n"
              "    return np.sum(np.sin(sol)) + np.sum(res) + np.sum(sv ** 2)\n", (5, 3)),
    "qr": ("def f(x):\n    q, r = np.linalg.qr(x)\n    return np.sum(np.sin(q)) + np.sum(np.diag(r) ** 2)\n", (4, 3)),
    "qr_wide": ("def f(x):\n    q, r = np.linalg.qr(x + 2.0 * np.eye(3, 5))\n"
                "    return np.sum(np.sin(q)) + np.sum(np.tanh(r))\n", (3, 5)),
    "matrix_power": ("def f(x):\n    return np.sum(np.linalg.matrix_power(x, 3)"
                     " - np.linalg.matrix_power(x + 3 * np.eye(3), -2))\n", (3, 3)),
    "expm": ("def f(x):\n    return np.sum(np.sin(expm(0.5 * x)))\n", (3, 3)),
    "kron": ("def f(x):\n    return np.sum(np.kron(x, x[:2]) ** 2)\n", (3, 2)),
    "cross": ("def f(x):\n    return np.sum(np.cross(x, x[::-1] ** 2) ** 2)\n", (4, 3)),
    **({"cross_2d": ("def f(x):\n    return np.sum(np.sin(np.cross(x, x[::-1] ** 2)))\n", (4, 2))}
       if CROSS_OF_2_VECTORS else {}),  # (NumPy 2.5 refuses 2-vectors: test_cross_of_2_vectors)
}


@pytest.mark.filterwarnings("ignore:Arrays of 2-dimensional vectors:DeprecationWarning")  # NumPy's, on cross_2d
@pytest.mark.parametrize("name", PROGRAMS)
def test_program_in_every_mode(name):
    source, shape = PROGRAMS[name]
    fun = make_function(source, {"expm": scipy.linalg.expm})
    x = _rng(20).uniform(-1, 1, shape) + np.eye(*shape)
    check_grads(fun, [x], order=2)
    value, grad = s2sad.value_and_grad(fun)(x)
    assert value == pytest.approx(fun(x), rel=1e-12)
    np.testing.assert_allclose(grad, s2sad.grad(fun)(x), rtol=1e-12)
    vector = make_function(source.replace("return np.sum(", "return (", 1), {"expm": scipy.linalg.expm})
    np.testing.assert_allclose(s2sad.jacrev(vector)(x), s2sad.jacfwd(vector)(x), rtol=1e-8, atol=1e-10)
    hessian = s2sad.hessian(fun)(x)
    v = _rng(21).standard_normal(shape)
    eps = 1e-6
    numeric = (s2sad.grad(fun)(x + eps * v) - s2sad.grad(fun)(x - eps * v)) / (2 * eps)
    np.testing.assert_allclose(np.tensordot(hessian, v, axes=v.ndim), numeric, rtol=1e-5, atol=1e-6)


def test_expm_rule_is_registered_on_first_use(tmp_path):
    """Importing s2sad imports no scipy; a program calling scipy.linalg.expm finds its rule."""
    code = ("import sys, numpy as np, s2sad\n"
            "assert 'scipy' not in sys.modules and 's2sad.rules.scipy_linalg' not in sys.modules\n"
            "from scipy.linalg import expm\n"
            "def f(x):\n    return np.trace(expm(x))\n"
            "print(s2sad.grad(f)(np.diag([0.0, 1.0]))[1, 1])\n")
    program = tmp_path / "program.py"
    program.write_text(code)
    result = subprocess.run([sys.executable, str(program)], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    assert float(result.stdout) == pytest.approx(np.e, rel=1e-12)


@pytest.mark.parametrize("body", [
    "np.linalg.eigvalsh(x)",
    "np.linalg.eigh(x)[1]",
    "np.real(np.linalg.eig(x + x.T)[1])",
    "np.linalg.svd(x, full_matrices=False)[0]",
    "np.linalg.svd(x, compute_uv=False)",
    "np.linalg.pinv(x)",
    "np.linalg.qr(x)[0]",
    "np.linalg.lstsq(x, x[0])[0]",
    "np.linalg.matrix_power(x, 3)",
    "expm(x * 0.1)",
    "np.kron(x, x)",
    "np.cross(x, x[0] ** 2)",
])
def test_float32_stays_float32(body):
    """A float32 argument gets a float32 gradient and tangent, also from the second derivative."""
    x = (_rng(5).uniform(0.5, 2.0, (3, 3)) + 2 * np.eye(3)).astype(np.float32)
    g = s2sad.grad(make_function(f"def f(x):\n    return np.sum({body})\n", {"expm": scipy.linalg.expm}))
    assert g(x).dtype == np.float32
    assert s2sad.jvp(g, (x,), (np.ones_like(x),))[1].dtype == np.float32
