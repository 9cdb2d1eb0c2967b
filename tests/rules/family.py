"""The three tests every rule family runs, written once.

A family module (tests/rules/test_<family>.py) declares its tables and imports the tests it
runs from here (`from tests.rules.family import test_pipeline, test_rule  # noqa: F401`);
`tests/rules/conftest.py` parametrizes each over the tables of the module that imports it, so the
test ids stay `test_<family>.py::test_rule[...]`:

- `test_rule` over `cases(RULE_SPECS)` (default `SPECS`): the rule alone, called with numbers,
  by `CHECK_RULE` (default `specs.check_case_rule`);
- `test_pipeline` over `cases(PIPELINE_SPECS)` (default the rule specs): a one-line function
  calling the op, through s2sad in both modes, by `CHECK_PIPELINE` (default
  `specs.check_case_pipeline`);
- `test_nondiff_gives_zero_derivatives` over `NONDIFF`, a list of `Nondiff`: an op whose result
  carries no derivative gives exactly zero in both modes;
- `test_taylor` over one case of each pipeline spec (its last, the most general shapes): the same
  one-line function through Taylor mode to order 3, along a random line, against three nested
  jvp's (`s2sad.testing.check_taylor`); `TAYLOR_XFAIL` maps a spec's label to the reason it is
  expected to fail.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import numpy as np
import pytest

import s2sad
from s2sad.testing import check_taylor, make_function
from tests.rules.specs import Spec, cases, check_case_pipeline, check_case_rule


@dataclass
class Nondiff:
    op: object
    source: str
    """An expression of x calling the op as `op`; its value is a float or an array of floats."""
    x: object = field(default_factory=lambda: np.array([0.3, -1.2, 2.5]))


def check_nondiff(item: Nondiff) -> None:
    """The expression's derivative is exactly zero, in both modes."""
    fun = make_function(f"def f(x):\n    return {item.source}\n", {"op": item.op})
    out, tangent = s2sad.jvp(fun, (item.x,), (np.ones_like(item.x),))
    np.testing.assert_array_equal(tangent, np.zeros_like(out))
    _, pullback = s2sad.vjp(fun, item.x)
    (cotangent,) = pullback(np.ones_like(out))
    np.testing.assert_array_equal(cotangent, np.zeros_like(item.x))


def test_rule(case, request):
    getattr(request.module, "CHECK_RULE", check_case_rule)(case)


def test_pipeline(case, request):
    getattr(request.module, "CHECK_PIPELINE", check_case_pipeline)(case)


def test_nondiff_gives_zero_derivatives(item):
    check_nondiff(item)


def test_taylor(case, request, monkeypatch):
    """The module's pipeline check with `check_grads` replaced by `check_taylor` to order 3."""
    reason = getattr(request.module, "TAYLOR_XFAIL", {}).get(case.spec.label())
    if reason:
        request.applymarker(pytest.mark.xfail(reason=reason, strict=True))
    check = getattr(request.module, "CHECK_PIPELINE", check_case_pipeline)
    monkeypatch.setattr(sys.modules[check.__module__], "check_grads", _taylor_instead)
    check(case)


def _taylor_instead(fun, args, rtol: float = 1e-5, atol: float = 1e-7, **_) -> None:
    check_taylor(fun, args, order=3, rtol=max(rtol, 1e-6), atol=max(atol, 1e-8))


def taylor_cases(specs: list[Spec]) -> list:
    """One case of each spec, its last (the most general shapes)."""
    return [cases([spec])[-1] for spec in specs]


def rule_specs(module) -> list[Spec]:
    return getattr(module, "RULE_SPECS", None) or module.SPECS


def pipeline_specs(module) -> list[Spec]:
    return getattr(module, "PIPELINE_SPECS", None) or rule_specs(module)


def parametrize(metafunc: pytest.Metafunc) -> None:
    """Parametrize the shared tests over the tables of the module being collected."""
    module, function = metafunc.module, metafunc.function
    if function is test_rule:
        metafunc.parametrize("case", cases(rule_specs(module)), ids=repr)
    elif function is test_pipeline:
        metafunc.parametrize("case", cases(pipeline_specs(module)), ids=repr)
    elif function is test_taylor:
        metafunc.parametrize("case", taylor_cases(pipeline_specs(module)), ids=repr)
    elif function is test_nondiff_gives_zero_derivatives:
        metafunc.parametrize("item", module.NONDIFF, ids=lambda item: f"{getattr(item.op, '__name__', item.op)}")
