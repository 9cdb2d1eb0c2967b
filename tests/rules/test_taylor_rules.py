"""Taylor templates (`Rule.taylor`): each against nested forward mode to order 4, and closed forms.

Every op whose rule has a hand-written Taylor template (or `taylor="each"`) is run through the
pipeline check of its family's spec table (`CHECK_PIPELINE`), with the check replaced by
`check_taylor` to order 4; `test_taylor` of `tests/rules/family.py` runs the whole table to order
3. The closed forms pin the recurrences: exp, sin, cos, log, sqrt, 1/(1 − x), tanh and x^p.
"""

from __future__ import annotations

import importlib
import math
import sys
from pathlib import Path

import numpy as np
import pytest

import s2sad
from s2sad.rules.registry import RULES, lookup
from s2sad.testing import check_taylor, make_function
from tests.rules.family import pipeline_specs, taylor_cases
from tests.rules.specs import check_case_pipeline

ORDER = 4
FAMILIES = sorted(p.stem for p in Path(__file__).parent.glob("test_*.py")
                  if p.stem not in ("test_taylor_rules", "test_hypothesis", "test_coverage"))


def _templated(op) -> bool:
    rule = lookup(op)
    return rule is not None and rule.taylor is not None


def _cases() -> list:
    out = []
    for name in FAMILIES:
        module = importlib.import_module(f"tests.rules.{name}")
        if not hasattr(module, "test_taylor") or not hasattr(module, "SPECS"):
            continue
        for case in taylor_cases([s for s in pipeline_specs(module) if _templated(s.op)]):
            out.append(pytest.param(module, case, id=f"{name}:{case!r}"))
    return out


CASES = _cases()


@pytest.mark.parametrize("module, case", CASES)
def test_template_against_nested_jvp(module, case, monkeypatch):
    check = getattr(module, "CHECK_PIPELINE", check_case_pipeline)

    def taylor_instead(fun, args, rtol=1e-5, atol=1e-7, **_):
        check_taylor(fun, args, order=ORDER, rtol=max(rtol, 1e-6), atol=max(atol, 1e-8))

    monkeypatch.setattr(sys.modules[check.__module__], "check_grads", taylor_instead)
    check(case)


def test_every_template_is_tested():
    tested = {lookup(case.values[1].spec.op).name for case in CASES}
    templated = {rule.name for rule in RULES.values() if rule.taylor is not None and not rule.name.startswith("math.")}
    assert templated <= tested | {"np.true_divide"}, sorted(templated - tested)


# ------------------------------------------------------------------ closed forms

CLOSED = [
    ("exp", np.exp, 0.3, lambda x, k: math.exp(x) / math.factorial(k)),
    ("sin", np.sin, 0.7, lambda x, k: math.sin(x + k * math.pi / 2) / math.factorial(k)),
    ("cos", np.cos, 0.7, lambda x, k: math.cos(x + k * math.pi / 2) / math.factorial(k)),
    ("log", np.log, 1.5, lambda x, k: math.log(x) if k == 0 else (-1) ** (k + 1) / (k * x ** k)),
    ("1/(1-x)", lambda x: 1.0 / (1.0 - x), 0.25, lambda x, k: 1.0 / (1.0 - x) ** (k + 1)),
    ("sqrt", np.sqrt, 2.0, lambda x, k: math.comb(k, k) * _binomial(0.5, k) * x ** (0.5 - k)),
    ("x**2.5", lambda x: x ** 2.5, 1.7, lambda x, k: _binomial(2.5, k) * x ** (2.5 - k)),
    ("x**3 at 0", lambda x: x ** 3, 0.0, lambda x, k: 1.0 if k == 3 else 0.0),
]


def _binomial(p: float, k: int) -> float:
    """p choose k for a real p."""
    out = 1.0
    for i in range(k):
        out *= (p - i) / (i + 1)
    return out


@pytest.mark.parametrize("name, fun, x, coefficient", CLOSED, ids=[c[0] for c in CLOSED])
def test_closed_form(name, fun, x, coefficient):
    f = make_function("def f(x):\n    return fun(x)\n", {"fun": fun})
    order = 6
    out, coefs = s2sad.taylor(f, order=order)((x,), ([1.0] + [0.0] * (order - 1),))
    np.testing.assert_allclose([out, *coefs], [coefficient(x, k) for k in range(order + 1)], rtol=1e-12,
                               atol=1e-12)


def test_tanh_series_satisfies_its_ode():
    """y = tanh(x(t)) along x + t: y' = 1 − y², coefficient by coefficient."""
    order = 7
    f = make_function("def f(x):\n    return np.tanh(x)\n")
    out, coefs = s2sad.taylor(f, order=order)((0.4,), ([1.0] + [0.0] * (order - 1),))
    y = np.array([out, *coefs])
    square = np.convolve(y, y)[: order]
    derivative = np.arange(1, order + 1) * y[1:]
    np.testing.assert_allclose(derivative, np.eye(order)[0] - square, rtol=1e-12, atol=1e-14)
