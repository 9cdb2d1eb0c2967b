"""Spec table for NumPy's elementwise functions, and their float32 behaviour.

`check_pipeline` extends the shared harness to ops whose constant arguments come first
(`np.where(condition, x, y)`, `zeta(s, q)`): the constants reach the function through its
namespace, in signature order.
"""

import numpy as np
import pytest

from s2sad import api, runtime
from s2sad.rules.registry import lookup
from s2sad.testing import check_grads, make_function
from tests.rules.family import test_pipeline, test_rule, test_taylor  # noqa: F401
from tests.rules.specs import Case, Spec

POSITIVE = (0.5, 2.0)
UNIT = (-0.9, 0.9)
COND = np.array([True, False, True])
"""A mask for np.where that broadcasts against every default shape."""

SPECS = [
    Spec(np.exp),
    Spec(np.exp2),
    Spec(np.expm1),
    Spec(np.log, domain=POSITIVE),
    Spec(np.log2, domain=POSITIVE),
    Spec(np.log10, domain=POSITIVE),
    Spec(np.log1p, domain=(-0.5, 2.0)),
    Spec(np.logaddexp, ("x", "y")),
    Spec(np.logaddexp2, ("x", "y")),
    Spec(runtime.sigmoid, domain=(-40.0, 40.0)),
    Spec(np.sqrt, domain=POSITIVE),
    Spec(np.cbrt, domain=POSITIVE),
    Spec(np.cbrt, domain=(-2.0, -0.5), name="cbrt of negatives"),
    Spec(np.sin),
    Spec(np.cos),
    Spec(np.tan, domain=(-1.2, 1.2)),
    Spec(np.arcsin, domain=UNIT),
    Spec(np.arccos, domain=UNIT),
    Spec(np.arctan),
    Spec(np.arctan2, ("x", "y")),
    Spec(np.sinh),
    Spec(np.cosh),
    Spec(np.tanh),
    Spec(np.arcsinh),
    Spec(np.arccosh, domain=(1.2, 3.0)),
    Spec(np.arctanh, domain=UNIT),
    Spec(np.hypot, ("x", "y")),
    Spec(np.sinc),
    Spec(np.deg2rad),
    Spec(np.radians),
    Spec(np.rad2deg),
    Spec(np.degrees),
    Spec(np.absolute),
    Spec(np.fabs),
    Spec(np.maximum, ("x", "y")),
    Spec(np.minimum, ("x", "y")),
    Spec(np.fmax, ("x", "y")),
    Spec(np.copysign, ("x",), extra=(-1.5,)),
    Spec(np.copysign, ("x",), extra=(1.0,), domain=(-2.0, -0.5), name="np.copysign of a negative x"),
    Spec(np.fmin, ("x", "y")),
    Spec(np.clip, ("x", "a_min", "a_max")),
    Spec(np.clip, ("x",), extra=(-0.5, 0.7), name="clip by constants"),
    Spec(np.where, ("x", "y"), extra=(COND,)),
]

FLOAT64_ONLY = {np.float_power}
"""Ops that compute in float64 whatever their inputs (their derivatives follow)."""


def call_source(spec: Spec) -> tuple[str, dict]:
    """`op(...)` with the differentiable parameters by name and the constants (`spec.extra`,
    filling the other positional parameters in signature order) bound in a namespace."""
    rule = lookup(spec.op)
    extra = list(spec.extra)
    namespace: dict = {"op": spec.op}
    args = []
    for name in rule.signature.parameters:
        if name in spec.params:
            args.append(name)
        elif extra and name not in spec.kwargs:
            namespace[f"c_{name}"] = extra.pop(0)
            args.append(f"c_{name}")
        else:
            break
    for key, value in spec.kwargs.items():
        namespace[f"k_{key}"] = value
        args.append(f"{key}=k_{key}")
    return f"op({', '.join(args)})", namespace


def check_pipeline(case: Case) -> None:
    """Both modes through s2sad on a one-line function calling the op."""
    spec = case.spec
    call, namespace = call_source(spec)
    fun = make_function(f"def f({', '.join(spec.params)}):\n    return {call}\n", namespace)
    values = case.values()
    check_grads(fun, [values[p] for p in spec.params], rtol=spec.rtol, atol=spec.atol)


CHECK_PIPELINE = check_pipeline


def float32_case(spec: Spec) -> tuple[object, list[np.ndarray]]:
    call, namespace = call_source(spec)
    fun = make_function(f"def f({', '.join(spec.params)}):\n    return {call}\n", namespace)
    lo, hi = spec.domain
    rng = np.random.default_rng(1)
    return fun, [rng.uniform(lo, hi, 3).astype(np.float32) for _ in spec.params]


def check_float32(spec: Spec) -> None:
    """float32 arguments give float32 tangents and cotangents, close to the float64 ones."""
    fun, args = float32_case(spec)
    tangents = [np.ones(3, np.float32) for _ in args]
    out, tangent = api.jvp(fun, args, tangents)
    _, pullback = api.vjp(fun, *args)
    cotangents = pullback(np.ones_like(out))
    assert np.asarray(out).dtype == np.float32, f"{spec.label()}: value"
    assert np.asarray(tangent).dtype == np.float32, f"{spec.label()}: tangent"
    for c in cotangents:
        assert np.asarray(c).dtype == np.float32, f"{spec.label()}: cotangent"
    _, tangent64 = api.jvp(fun, [a.astype(np.float64) for a in args], [t.astype(np.float64) for t in tangents])
    np.testing.assert_allclose(tangent, tangent64, rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize("spec", SPECS, ids=Spec.label)
def test_float32_stays_float32(spec):
    check_float32(spec)


# ---------------------------------------------------------------- selections with real masks


def test_where_routes_each_branch_its_own_derivative():
    fun = make_function("def f(x, y):\n    return np.where(x > 0.2, x * x, np.sin(y))\n")
    x = np.array([-1.0, 0.5, 0.1, 2.0])
    y = np.array([0.3, -0.4, 1.1, 0.0])
    check_grads(fun, [x, y])
    bx, by = api.grad(make_function("def f(x, y):\n    return np.sum(np.where(x > 0.2, x * x, np.sin(y)))\n"),
                      argnums=(0, 1))(x, y)
    np.testing.assert_allclose(bx, [0.0, 1.0, 0.0, 4.0])
    np.testing.assert_allclose(by, [np.cos(0.3), 0.0, np.cos(1.1), 0.0])


def test_where_broadcasts_a_scalar_branch():
    fun = make_function("def f(x, y):\n    return np.where(x > 0.0, x, y)\n")
    check_grads(fun, [np.array([[-1.0, 2.0], [3.0, -4.0]]), 0.5])
    _, pullback = api.vjp(fun, np.array([[-1.0, 2.0], [3.0, -4.0]]), 0.5)
    bx, by = pullback(np.ones((2, 2)))
    np.testing.assert_array_equal(bx, [[0.0, 1.0], [1.0, 0.0]])
    assert by == 2.0


def test_clip_by_constants_values():
    fun = make_function("def f(x):\n    return np.sum(np.clip(x, -1.0, 1.0))\n")
    x = np.array([-2.0, -1.0, 0.0, 1.0, 3.0])
    np.testing.assert_array_equal(api.grad(fun)(x), [0.0, 0.5, 1.0, 0.5, 0.0])


def test_clip_with_one_bound():
    fun = make_function("def f(x, hi):\n    return np.clip(x, None, hi)\n")
    x = np.array([-2.0, 0.5, 1.0, 3.0])
    check_grads(fun, [x, 0.7])
    bx, bhi = api.grad(make_function("def f(x, hi):\n    return np.sum(np.clip(x, None, hi))\n"),
                       argnums=(0, 1))(x, 1.0)
    np.testing.assert_array_equal(bx, [1.0, 1.0, 0.5, 0.0])
    assert bhi == 1.5
    below = make_function("def f(x):\n    return np.sum(np.clip(x, 0.0, None))\n")
    np.testing.assert_array_equal(api.grad(below)(x), [0.0, 1.0, 1.0, 1.0])


def test_maximum_ties_in_arrays():
    fun = make_function("def f(x, y):\n    return np.sum(np.maximum(x, y) + np.minimum(x, y))\n")
    bx, by = api.grad(fun, argnums=(0, 1))(np.array([1.0, 2.0, 3.0]), np.array([0.0, 2.0, 4.0]))
    np.testing.assert_array_equal(bx, [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(by, [1.0, 1.0, 1.0])
    fun = make_function("def f(x, y):\n    return np.sum(np.maximum(x, y))\n")
    bx, by = api.grad(fun, argnums=(0, 1))(np.array([1.0, 2.0, 3.0]), np.array([0.0, 2.0, 4.0]))
    np.testing.assert_array_equal(bx, [1.0, 0.5, 0.0])
    np.testing.assert_array_equal(by, [0.0, 0.5, 1.0])


def check_second_order(spec: Spec) -> None:
    """grad of the op, itself checked in both modes (so each rule's template has rules)."""
    call, namespace = call_source(spec)
    fun = make_function(f"def f({', '.join(spec.params)}):\n    return np.sum({call})\n", namespace)
    values = Case(spec, tuple(() for _ in spec.params)).values(seed=3)
    for argnum in range(len(spec.params)):
        check_grads(api.grad(fun, argnums=argnum), [values[p] for p in spec.params], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("spec", SPECS, ids=Spec.label)
def test_second_order(spec):
    check_second_order(spec)


@pytest.mark.parametrize("source", [
    "np.sqrt(x) * np.log(x)", "np.arcsin(x / 3.0) + np.arccos(x / 4.0)", "np.hypot(x, 2.0) * np.cbrt(x)",
    "np.sinc(x) + np.arctan2(x, 1.5)", "np.tanh(x) * np.exp2(x)", "np.logaddexp(x, 0.3 * x)",
    "np.arccosh(x + 1.5) + np.arctanh(x / 3.0)",
])
def test_second_order_of_compositions(source):
    fun = make_function(f"def f(x):\n    return {source}\n")
    check_grads(api.grad(fun), [1.3])


def test_every_spec_parameter_is_differentiable():
    for spec in SPECS:
        rule = lookup(spec.op)
        assert rule is not None and not rule.nondiff, spec.label()
        assert set(spec.params) <= set(rule.diff_params), spec.label()
