"""Derivatives that used to be dropped or wrong without a word: copysign's sign, active values
in parameters a rule does not differentiate, the indexing helpers np.r_ and np.c_, einsum's
sublist form, the creation ops linear in their values, and joins of a single array.

Each is checked in every mode: grad and value_and_grad against a closed form, jvp against
central differences in a random direction, vjp against jvp by the dot-product identity
(`check_grads`), and second order where the derivative is not constant."""

import math

import numpy as np
import pytest

import s2sad
from s2sad import runtime
from s2sad.testing import check_grads, make_function
from tests.rules.specs import Spec, uniform

SPECS = [Spec(runtime.index_concat), Spec(runtime.index_concat_tangent), Spec(runtime.index_concat_adjoint)]
"""The helpers np.r_[...] and np.c_[...] are lowered to: tested below (their items are tuples)."""

# ---------------------------------------------------------------- copysign


@pytest.mark.parametrize("x, y, slope", [(-2.0, 1.0, -1.0), (2.0, 1.0, 1.0), (-2.0, -1.0, 1.0),
                                         (2.0, -3.0, -1.0), (-0.5, -0.0, 1.0), (0.5, 0.0, 1.0),
                                         (0.0, 1.0, 0.0)])
@pytest.mark.parametrize("module", [math, np], ids=["math", "np"])
def test_copysign_slope_is_sign_x_times_sign_y(module, x, y, slope):
    fun = make_function("def f(x, y):\n    return m.copysign(x, y) * 3.0\n", {"m": module})
    value, grad = s2sad.value_and_grad(fun)(x, y)
    assert value == module.copysign(x, y) * 3.0
    assert grad == 3.0 * slope
    assert s2sad.jvp(fun, (x, y), (1.0, 0.0))[1] == 3.0 * slope
    assert s2sad.vjp(fun, x, y)[1](1.0) == (3.0 * slope, 0.0)


def test_copysign_in_arrays_and_second_order():
    fun = make_function("def f(x, y):\n    return np.sum(np.copysign(x, y) ** 3)\n")
    x, y = np.array([-1.5, 0.7, -0.3, 1.2]), np.array([1.0, -2.0, -0.0, 0.5])
    sign_y = np.where(np.signbit(y), -1.0, 1.0)
    np.testing.assert_allclose(s2sad.grad(fun)(x, y), 3 * x ** 2 * np.sign(x) * sign_y, rtol=1e-15)
    check_grads(fun, [x, np.array([1.0, -2.0, -0.4, 0.5])], order=2)  # y away from its jump at 0
    scalar = make_function("def f(x):\n    return math.copysign(x, -1.0) ** 2\n", {"math": math})
    assert s2sad.grad(s2sad.grad(scalar))(-1.3) == 2.0
    assert s2sad.grad(scalar)(-1.3) == pytest.approx(-2.6)


# ---------------------------------------------------------------- np.r_ and np.c_


@pytest.mark.parametrize("body, shape", [
    ("np.r_[x, x] ** 2", (2,)),
    ("np.sin(np.r_[x, 2.0 * x, 0:3])", (2,)),
    ("np.sin(np.r_[x[0], x, 3.0, -1])", (3,)),
    ("np.sin(np.r_[x, x * x]) * np.arange(4.0).reshape(4, 1)", (2, 3)),
    ("np.sin(np.r_['0,2', x, x[::-1]]) * np.arange(4.0).reshape(2, 2)", (2,)),
    ("np.sin(np.r_['-1', x, x])", (2, 3)),
    ("np.sin(np.c_[x, np.ones(2)])", (2,)),
    ("np.sin(np.c_[x, x * x, 0:2])", (2,)),
    ("np.sin(np.c_[x, x[:, :1]]) * np.arange(8.0).reshape(2, 4)", (2, 3)),
])
def test_index_concat_is_differentiated(body, shape):
    fun = make_function(f"def f(x):\n    return np.sum({body})\n")
    check_grads(fun, uniform(shape), order=2)


def test_index_concat_closed_form():
    fun = make_function("def f(x, c):\n    return np.sum(np.r_[x, 3.0 * x] * np.c_[c, x][:, 1].sum())\n")
    x, c = np.array([0.5, -1.0]), np.array([2.0, 4.0])
    gx, gc = s2sad.grad(fun, argnums=(0, 1))(x, c)
    np.testing.assert_allclose(gx, 4 * np.sum(x) + 4 * np.sum(x), rtol=1e-15)
    np.testing.assert_array_equal(gc, [0.0, 0.0])
    scalar = make_function("def f(a):\n    return np.sum(np.r_[a, 2.0 * a, 0:2] ** 2)\n")
    value, grad = s2sad.value_and_grad(scalar)(1.5)
    assert value == pytest.approx(5 * 1.5 ** 2 + 1) and grad == pytest.approx(10 * 1.5)
    assert type(grad) is float
    assert s2sad.jvp(scalar, (1.5,), (1.0,))[1] == pytest.approx(15.0)


def test_index_concat_tangent_and_adjoint_are_transposes():
    rng = np.random.default_rng(5)
    cases = [("c_", (rng.standard_normal((2, 3)), slice(0, 2), rng.standard_normal((2, 1)))),
             ("r_", ("0,2", rng.standard_normal(3), rng.standard_normal((2, 3)))),
             ("r_", (1.5, slice(0, 3), rng.standard_normal(2)))]
    for how, items_here in cases:
        out = runtime.index_concat(how, items_here)
        tangents = tuple(rng.standard_normal(np.shape(i)) if runtime.creation._numeric(i) else None
                         for i in items_here)
        g = rng.standard_normal(np.shape(out))
        forward = runtime.index_concat_tangent(tangents, how, items_here)
        back = runtime.index_concat_adjoint(g, how, items_here)
        lhs = np.sum(forward * g)
        rhs = sum(np.sum(t * b) for t, b in zip(tangents, back) if t is not None)
        assert lhs == pytest.approx(rhs, rel=1e-12)


# ---------------------------------------------------------------- einsum's sublist form


@pytest.mark.parametrize("call, shapes", [
    ("np.einsum(a, [0, 1], [1, 0]) * np.arange(6.0).reshape(3, 2)", [(2, 3)]),
    ("np.einsum(a, [0, 1], b, [1, 2], [0, 2])", [(2, 3), (3, 4)]),
    ("np.einsum(a, [0, 1], b, [1, 2])", [(2, 3), (3, 4)]),
    ("np.einsum(a, [0, 0])", [(3, 3)]),
    ("np.einsum(a, [Ellipsis, 1], b, [1, 2], [Ellipsis, 2])", [(2, 3), (3, 4)]),
    ("np.einsum(a, [27, 0], b, [0, 27, 30])", [(2, 3), (3, 2, 2)]),
])
def test_einsum_sublist_form(call, shapes):
    """Sublists are rewritten to the subscripts string (0 is 'A', 26 is 'a', as in NumPy), so
    every operand is differentiated: both modes, second order, and the same value as NumPy."""
    names = "ab"[: len(shapes)]
    fun = make_function(f"def f({', '.join(names)}):\n    return np.sum(np.sin({call}))\n")
    args = uniform(*shapes)
    assert s2sad.value_and_grad(fun, argnums=tuple(range(len(args))))(*args)[0] == pytest.approx(fun(*args))
    check_grads(fun, args, order=2)


def test_einsum_sublist_closed_form():
    fun = make_function("def f(a, b):\n    return np.einsum(a, [0, 1], b, [1, 0], [])\n")
    a, b = uniform((2, 3), (3, 2))
    ga, gb = s2sad.grad(fun, argnums=(0, 1))(a, b)
    np.testing.assert_allclose(ga, b.T, rtol=1e-15)
    np.testing.assert_allclose(gb, a.T, rtol=1e-15)
    _, pullback = s2sad.vjp(fun, a, b)
    np.testing.assert_allclose(pullback(2.0)[1], 2.0 * a.T, rtol=1e-15)


def test_einsum_sublists_that_are_not_literals_are_refused():
    fun = make_function("def f(a):\n    s = [0, 1]\n    return np.sum(np.einsum(a, s, [1, 0]))\n")
    with pytest.raises(s2sad.UnsupportedSyntax, match="sublist form") as info:
        s2sad.grad(fun)(np.ones((2, 2)))
    assert info.value.lineno == 3 and "np.einsum('ij,jk->ik'" in str(info.value)


# ---------------------------------------------------------------- every rule's other parameters


def _registered_rules():
    import s2sad.rules.scipy_special  # noqa: F401 - registered on first use otherwise
    import s2sad.rules.scipy_stats  # noqa: F401
    from s2sad.rules.registry import RULES, is_internal

    return [r for r in RULES.values() if not is_internal(r.op)]


def _undifferentiated_params() -> list[tuple[object, str]]:
    """(rule, parameter) for every parameter of a differentiable rule that is neither
    differentiated, nor a setting (axis, shape, dtype, index...), nor declared piecewise constant."""
    found = []
    for rule in _registered_rules():
        if rule.nondiff:
            continue
        for name, param in rule.signature.parameters.items():
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                continue
            if name not in rule.diff_params and name not in rule.settings and name not in rule.constant:
                found.append((rule, name))
    return found


UNDIFFERENTIATED = _undifferentiated_params()


def test_the_audit_finds_the_parameters_it_should():
    names = {(rule.name, param) for rule, param in UNDIFFERENTIATED}
    assert {("np.pad", "pad_width"), ("math.ldexp", "i"), ("np.trace", "offset"), ("np.var", "ddof"),
            ("numpy_linalg.norm", "ord")} <= names
    assert ("np.pad", "constant_values") not in names and ("np.full", "fill_value") not in names


@pytest.mark.parametrize("rule, param", UNDIFFERENTIATED, ids=lambda v: getattr(v, "name", v))
def test_an_active_value_in_an_undifferentiated_parameter_is_refused(rule, param):
    """Walk the registry: an active float passed to a parameter the rule does not differentiate
    is a MissingRule at transform time, naming the line (it was a silent zero when no other
    argument was active). The other arguments are placeholders: the call never runs."""
    required = [n for n, p in rule.signature.parameters.items()
                if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and n != param]
    args = ", ".join([f"{n}=1.0" for n in required] + [f"{param}=v * 2.0"])
    fun = make_function(f"def f(v):\n    return op({args})\n", {"op": rule.op})
    with pytest.raises(s2sad.MissingRule, match=f"no derivative with respect to its argument '{param}'") as info:
        s2sad.vjp(fun, 1.5)
    assert info.value.where.line == 2
    with pytest.raises(s2sad.MissingRule):
        s2sad.jvp(fun, (1.5,), (1.0,))


def test_ops_without_derivative_are_piecewise_constant():
    """Ops registered without a derivative are comparisons, rounding, sizes, index searches and
    constant-making creation ops; none of the ops that put float values into their result."""
    nondiff = {rule.op for rule in _registered_rules() if rule.nondiff}
    for op in (np.full, np.full_like, np.linspace, np.arange, np.pad, np.r_, np.c_, np.copysign, math.copysign):
        assert op not in nondiff
    assert {np.zeros_like, np.ones, np.eye, np.sign, np.floor, np.argmax, np.greater} <= nondiff


@pytest.mark.parametrize("call, param", [("np.linalg.norm(x, ord=p)", "ord"), ("np.var(x, ddof=p - 1.5)", "ddof"),
                                         ("np.std(x, ddof=p - 1.5)", "ddof")])
def test_norm_ord_and_var_ddof_are_refused_when_active(call, param):
    """The result depends smoothly on a float ord or ddof: not a setting, so an active one is
    refused (a constant one is fine)."""
    fun = make_function(f"def f(x, p):\n    return {call}\n")
    x = np.array([1.0, 2.0, 3.0])
    with pytest.raises(s2sad.MissingRule, match=f"'{param}'"):
        s2sad.grad(fun, argnums=(0, 1))(x, 2.0)
    check_grads(make_function(f"def f(x):\n    p = 2.0\n    return {call}\n"), [x])


@pytest.mark.parametrize("body, expected", [
    ("np.sum(np.r_[x, 0.0:x:4j])", lambda x: 1.0 + 0 + 1 / 3 + 2 / 3 + 1),
    ("np.sum(np.r_[1.0, x:4.0])", lambda x: 3.0),
    ("np.sum(np.r_[0.5:4.0:x] ** 2)", lambda x: np.sum(2 * np.arange(0.5, 4.0, x) * np.arange(3))),
])
def test_index_concat_slice_with_computed_bounds(body, expected):
    """A slice item with computed bounds is the np.linspace (complex step) or np.arange it
    makes, differentiated in its bounds."""
    fun = make_function(f"def f(x):\n    return {body}\n")
    x = 1.25
    value, grad = s2sad.value_and_grad(fun)(x)
    assert value == pytest.approx(fun(x)) and grad == pytest.approx(expected(x), rel=1e-12)
    assert s2sad.jvp(fun, (x,), (1.0,))[1] == pytest.approx(grad, rel=1e-12)
    check_grads(fun, [x], order=2)


def test_mgrid_with_computed_bounds_is_refused():
    fun = make_function("def f(x):\n    return np.sum(np.mgrid[0.0:x:3j, 0:2])\n")
    with pytest.raises(s2sad.UnsupportedSyntax, match="np.mgrid") as info:
        s2sad.grad(fun)(1.0)
    assert info.value.lineno == 2
    constant = make_function("def f(x):\n    return np.sum(np.mgrid[0:2, 0:3] * x)\n")
    assert s2sad.grad(constant)(1.0) == np.sum(np.mgrid[0:2, 0:3])
