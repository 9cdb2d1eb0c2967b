"""Spec tables for rule tests: one `Spec` per op drives every test of that op.

Each rule family's test module (tests/rules/test_<family>.py) defines `SPECS`, a list of
`Spec`, and imports the shared tests of `tests/rules/family.py`, which run over `cases(SPECS)`:

- `check_case_rule(case)`: the rule alone, called with numbers (no transform): each
  differentiable parameter's tangent against a central difference in a random direction and
  its adjoint against the tangent by the dot-product identity.
- `check_case_pipeline(case)`: a one-line function calling the op, transformed by s2sad in
  both modes (jvp against finite differences, vjp against jvp).

`tests/rules/test_coverage.py` fails when a registered differentiable op has no spec.
`tests/rules/test_hypothesis.py` draws every spec again on random shapes (broadcasting ones for
the elementwise ops) and random points of its domain (strategies in `tests/rules/strategies.py`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from s2sad.rules.registry import lookup
from s2sad.testing import check_grads, check_rule, make_function

SCALAR_AND_ARRAYS = [(), (3,), (2, 3)]
"""The shapes every elementwise op is tested on, plus a broadcasting pair for binary ops."""
BROADCAST_PAIRS = [((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 3))]


@dataclass
class Spec:
    op: Callable
    params: tuple[str, ...] = ("x",)
    """The differentiable parameters, in call order (positional)."""
    shapes: list[tuple[tuple[int, ...], ...]] | None = None
    """Shape of each parameter per case; default: each of SCALAR_AND_ARRAYS (+ broadcasting)."""
    domain: tuple[float, float] = (-2.0, 2.0)
    kwargs: dict = field(default_factory=dict)
    """Non-differentiable keyword arguments passed as literals (axis=0, keepdims=True...)."""
    extra: tuple = ()
    """Non-differentiable positional arguments after the differentiable ones, as literals."""
    rtol: float = 1e-5
    atol: float = 1e-7
    name: str = ""

    def label(self) -> str:
        return self.name or lookup(self.op).name if lookup(self.op) else repr(self.op)


@dataclass
class Case:
    spec: Spec
    shapes: tuple[tuple[int, ...], ...]

    def __repr__(self) -> str:
        kw = ",".join(f"{k}={v}" for k, v in self.spec.kwargs.items())
        return f"{self.spec.label()}{list(self.shapes)}{kw}"

    def values(self, seed: int = 0) -> dict[str, object]:
        rng = np.random.default_rng(seed)
        lo, hi = self.spec.domain
        out = {}
        for name, shape in zip(self.spec.params, self.shapes):
            value = rng.uniform(lo, hi, shape)
            out[name] = float(value) if shape == () else value
        return out


def _default_shapes(spec: Spec) -> list[tuple[tuple[int, ...], ...]]:
    n = len(spec.params)
    same = [tuple([s] * n) for s in SCALAR_AND_ARRAYS]
    return same + (BROADCAST_PAIRS if n == 2 else [])


def cases(specs: list[Spec]) -> list[Case]:
    return list(itertools.chain.from_iterable(
        [Case(spec, shapes) for shapes in (spec.shapes or _default_shapes(spec))] for spec in specs))


def check_case_rule(case: Case) -> None:
    spec = case.spec
    values = case.values()
    positional = dict(values)
    rule = lookup(spec.op)
    extra_names = [n for n in rule.signature.parameters if n not in spec.params][: len(spec.extra)]
    kwargs = {**dict(zip(extra_names, spec.extra)), **spec.kwargs}
    check_rule(spec.op, positional, kwargs, rtol=spec.rtol, atol=spec.atol)


def check_case_pipeline(case: Case) -> None:
    spec = case.spec
    params = ", ".join(spec.params)
    literals = [repr(v) for v in spec.extra] + [f"{k}={v!r}" for k, v in spec.kwargs.items()]
    call = ", ".join([params, *literals])
    fun = make_function(f"def f({params}):\n    return op({call})\n", {"op": spec.op})
    values = case.values()
    check_grads(fun, [values[p] for p in spec.params], rtol=spec.rtol, atol=spec.atol)


def uniform(*shapes, seed: int = 0) -> list[np.ndarray]:
    """Arrays of the given shapes, uniform on [-2, 2), from a fixed seed."""
    rng = np.random.default_rng(seed)
    return [rng.uniform(-2, 2, s) for s in shapes]
