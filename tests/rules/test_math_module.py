"""Spec table for the math module's functions and the builtins abs, max, min and float."""

import math

import numpy as np
import pytest

from s2sad import api
from s2sad.rules.registry import lookup
from s2sad.testing import check_grads, make_function, rule_adjoint, rule_tangent
from tests.rules.family import test_pipeline, test_rule, test_taylor  # noqa: F401
from tests.rules.specs import Case, Spec, check_case_rule
from tests.rules.test_elementwise import check_pipeline, check_second_order

SCALAR = [((),)]
SCALARS = [((), ())]
POSITIVE = (0.5, 2.0)
UNIT = (-0.9, 0.9)


def scalar(op, params=("x",), **options) -> Spec:
    return Spec(op, params, shapes=SCALARS if len(params) == 2 else [tuple(() for _ in params)], **options)


SPECS = [
    scalar(math.exp),
    scalar(math.exp2),
    scalar(math.expm1),
    scalar(math.log, domain=POSITIVE),
    scalar(math.log, ("x", "base"), domain=(1.5, 3.0), name="math.log with a base"),
    scalar(math.log, ("x",), extra=(10.0,), domain=POSITIVE, name="math.log base 10"),
    scalar(math.log1p, domain=(-0.5, 2.0)),
    scalar(math.log2, domain=POSITIVE),
    scalar(math.log10, domain=POSITIVE),
    scalar(math.sqrt, domain=POSITIVE),
    scalar(math.cbrt, domain=POSITIVE),
    scalar(math.pow, ("x", "y"), domain=POSITIVE),
    scalar(math.sin),
    scalar(math.cos),
    scalar(math.tan, domain=(-1.2, 1.2)),
    scalar(math.asin, domain=UNIT),
    scalar(math.acos, domain=UNIT),
    scalar(math.atan),
    scalar(math.atan2, ("y", "x")),
    scalar(math.sinh),
    scalar(math.cosh),
    scalar(math.tanh),
    scalar(math.asinh),
    scalar(math.acosh, domain=(1.2, 3.0)),
    scalar(math.atanh, domain=UNIT),
    scalar(math.hypot, ("x", "y")),
    scalar(math.degrees),
    scalar(math.radians),
    scalar(math.ldexp, ("x",), extra=(3,)),
    scalar(math.erf),
    scalar(math.erfc),
    scalar(math.fabs),
    scalar(math.copysign, ("x",), extra=(-2.0,)),
    scalar(math.copysign, ("x",), extra=(1.0,), domain=(-2.0, -0.5), name="math.copysign of a negative x"),
    scalar(math.copysign, ("x",), extra=(-0.0,), domain=(-2.0, -0.5), name="math.copysign of a negative x by -0.0"),
    scalar(math.fmod, ("x", "y"), domain=POSITIVE),
    scalar(math.remainder, ("x", "y"), domain=POSITIVE),
    Spec(abs),
    scalar(max, ("x", "y")),
    scalar(max, ("x", "y", "z"), name="max of three"),
    scalar(max, ("x", "y", "z", "w"), name="max of four"),
    scalar(min, ("x", "y")),
    scalar(min, ("x", "y", "z"), name="min of three"),
    scalar(float),
]


def check_rule_positionally(case: Case, eps: float = 1e-6) -> None:
    """The rule alone, called with numbers, the op called positionally (math.log and the builtin
    max take no keywords): each tangent against a central difference, each adjoint against the
    tangent by the dot product."""
    spec = case.spec
    rule = lookup(spec.op)
    values = {**case.values(), **dict(zip([n for n in rule.signature.parameters if n not in spec.params],
                                           spec.extra))}
    names = [n for n in rule.signature.parameters if n in values]
    call = lambda env: spec.op(*(env[n] for n in names))  # noqa: E731
    env = {n: values.get(n, p.default) for n, p in rule.signature.parameters.items()}
    out = call(values)
    for param in spec.params:
        plus, minus = call({**values, param: values[param] + eps}), call({**values, param: values[param] - eps})
        numeric = (plus - minus) / (2 * eps)
        tangent = rule_tangent(rule, param, env, 1.0, out)
        assert tangent == pytest.approx(numeric, rel=1e-5, abs=1e-7), f"{spec.label()}: tangent of {param}"
        assert rule_adjoint(rule, param, env, 0.7, out) == pytest.approx(0.7 * tangent, rel=1e-12), param


def check_math_rule(case: Case) -> None:
    if lookup(case.spec.op).linear:
        check_case_rule(case)
    else:
        check_rule_positionally(case)


CHECK_RULE = check_math_rule
CHECK_PIPELINE = check_pipeline


@pytest.mark.parametrize("spec", [s for s in SPECS if s.op is not float], ids=Spec.label)
def test_second_order(spec):
    check_second_order(spec)


def test_scalar_code_stays_on_python_floats():
    fun = make_function("def f(x):\n    return math.sin(x) * math.exp(x) + math.log(x)\n", {"math": math})
    grad = api.grad(fun)(1.3)
    assert type(grad) is float
    assert grad == pytest.approx(math.cos(1.3) * math.exp(1.3) + math.sin(1.3) * math.exp(1.3) + 1 / 1.3)
    assert "np." not in api.show(fun)


def test_builtin_max_min_of_three_with_ties():
    fun = make_function("def f(x, y, z):\n    return max(x, y, z) + 2.0 * min(x, y, z)\n")
    assert api.grad(fun, argnums=(0, 1, 2))(1.0, 1.0, 1.0) == pytest.approx((1.0, 1.0, 1.0))
    assert api.grad(fun, argnums=(0, 1, 2))(3.0, 3.0, 1.0) == pytest.approx((0.5, 0.5, 2.0))
    assert api.grad(fun, argnums=(0, 1, 2))(0.5, 3.0, 1.0) == pytest.approx((2.0, 1.0, 0.0))


def test_builtin_abs_on_arrays_and_floats():
    fun = make_function("def f(x):\n    return np.sum(abs(x))\n")
    np.testing.assert_array_equal(api.grad(fun)(np.array([-2.0, 0.0, 3.0])), [-1.0, 0.0, 1.0])
    assert api.grad(make_function("def f(x):\n    return abs(x)\n"))(-2.5) == -1.0


def test_float_of_a_zero_dimensional_array():
    fun = make_function("def f(x):\n    return float(np.sum(x * x))\n")
    check_grads(fun, [np.array([0.5, -1.5])])


def test_math_log_base_is_differentiable():
    fun = make_function("def f(x, b):\n    return math.log(x, b)\n", {"math": math})
    bx, bb = api.grad(fun, argnums=(0, 1))(8.0, 2.0)
    assert bx == pytest.approx(1 / (8.0 * math.log(2.0)))
    assert bb == pytest.approx(-math.log(8.0) / (2.0 * math.log(2.0) ** 2))
