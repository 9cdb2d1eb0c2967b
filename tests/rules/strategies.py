"""Hypothesis strategies over the rule spec tables: random shapes and random points per `Spec`.

Shapes. A spec on the default shapes (`spec.shapes is None`, the elementwise ops) gets shapes
drawn by `mutually_broadcastable_shapes`: 0 to 3 dimensions, sides 1 to 4, one shape per
parameter, broadcasting against each other ((3, 1) with (1, 4), () with (2, 3), ...) and
against the array constants (np.where's condition). A spec with
explicit shapes keeps their structure, with its side lengths renamed: each distinct side other
than 1 is mapped to a distinct side in 2..7, the same everywhere in the case, so that square
stays square, contracted axes keep matching and broadcast axes of 1 stay 1. Specs whose constant
arguments depend on the shapes (`spec.extra`, index lists) keep their shapes as written.

Points. Each parameter is uniform on the spec's domain from a drawn numpy seed (a continuous
draw lands on a kink with probability zero), then points near a kink or a pole are rejected
(`assume`): values closer than `MARGIN` to zero, to each other or to a numeric constant of the
call (ties of max/min/sort/clip, abs at 0), quotients near a multiple of 1/2 for the remainders,
and ill-conditioned matrices for det/inv/solve.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

from tests.rules.specs import Case, Spec

Shapes = tuple[tuple[int, ...], ...]

MARGIN = 2e-5
"""Least distance of a point from a kink: well above the step of the central differences
(1e-6 times a direction of a few units), small enough to reject few draws."""
SIDES = (2, 3, 4, 5, 6, 7)
MAX_CONDITION = 100.0

REMAINDERS = (operator.mod, np.mod, np.fmod, math.fmod, math.remainder)
"""Jumps where x / y crosses an integer (mod, fmod) or a half-integer (remainder)."""
KINKED = (abs, max, min, np.absolute, np.fabs, math.fabs, math.copysign, np.maximum, np.minimum, np.fmax, np.fmin,
          np.clip, np.max, np.amax, np.min, np.amin, np.sort, np.linalg.norm, *REMAINDERS)
"""Ops with kinks where a value is zero, two values tie or a value meets a constant bound."""
CONDITIONED = {np.linalg.det: "x", np.linalg.inv: "x", np.linalg.solve: "a"}
"""The matrix parameter of ops whose derivatives solve with it."""
FIXED_SHAPE_KWARGS = {"indices"}
"""Keyword arguments that only fit the shapes as written."""


@dataclass(repr=False)
class DrawnCase(Case):
    """A `Case` whose values come from a drawn seed."""

    seed: int = 0

    def __repr__(self) -> str:
        return f"{super().__repr__()} seed={self.seed}"

    def values(self, seed: int | None = None) -> dict[str, object]:
        return super().values(self.seed if seed is None else seed)


def resizable(spec: Spec) -> bool:
    return spec.shapes is not None and not spec.extra and not FIXED_SHAPE_KWARGS & set(spec.kwargs)


def _rename_sides(shapes: Shapes, sides: list[int]) -> Shapes:
    distinct = sorted({n for shape in shapes for n in shape if n != 1})
    mapping = dict(zip(distinct, sides))
    return tuple(tuple(mapping.get(n, n) for n in shape) for shape in shapes)


@st.composite
def case_shapes(draw, spec: Spec) -> Shapes:
    """The shapes of one case of `spec` (see the module docstring)."""
    if spec.shapes is None:
        base = np.broadcast_shapes(*(np.shape(c) for c in spec.extra if isinstance(c, np.ndarray)))
        drawn = draw(mutually_broadcastable_shapes(num_shapes=len(spec.params), base_shape=base, min_dims=0,
                                                   max_dims=3, min_side=1, max_side=4))
        return tuple(drawn.input_shapes)
    shapes = draw(st.sampled_from(spec.shapes))
    if not resizable(spec):
        return shapes
    return _rename_sides(shapes, draw(st.permutations(SIDES)))


def _constants(spec: Spec) -> list[float]:
    found = [*spec.extra, *spec.kwargs.values()]
    return [float(c) for c in found if isinstance(c, (int, float)) and not isinstance(c, bool)]


def _well_separated(values: dict[str, object], constants: list[float]) -> bool:
    points = np.concatenate([np.ravel(v) for v in values.values()] + [np.asarray(constants, float), [0.0]])
    points = np.unique(points)  # the constants may repeat (axis=0 and the zero)
    return bool(np.all(np.diff(points) > MARGIN)) if points.size > 1 else True


def _away_from_jumps(spec: Spec, values: dict[str, object]) -> bool:
    if spec.op not in REMAINDERS or len(values) < 2:
        return True
    ratio = 2 * np.asarray(values["x"]) / np.asarray(values["y"])
    return bool(np.all(np.abs(ratio - np.round(ratio)) > 1e-4))


def _well_conditioned(spec: Spec, values: dict[str, object]) -> bool:
    name = CONDITIONED.get(spec.op)
    if name is None or name not in values:
        return True
    return bool(np.all(np.linalg.cond(values[name]) < MAX_CONDITION))


def in_domain(spec: Spec, values: dict[str, object]) -> bool:
    """Whether a point is far enough from every kink, jump and pole of the op."""
    separated = spec.op not in KINKED or _well_separated(values, _constants(spec))
    return (separated and _away_from_jumps(spec, values)
            and _well_conditioned(spec, values))


@st.composite
def cases_of(draw, spec: Spec) -> DrawnCase:
    """A case of `spec`: drawn shapes, and a seed for a point inside the domain."""
    case = DrawnCase(spec, draw(case_shapes(spec)), draw(st.integers(0, 2**32 - 1)))
    assume(in_domain(spec, case.values()))
    return case


# ---------------------------------------------------------------- ops the spec tables cannot draw

sides = st.integers(1, 4)


def points(seed: int, *shapes: tuple[int, ...], lo: float = -2.0, hi: float = 2.0) -> list:
    """Uniform points of the given shapes (floats for shape ()), from one seed."""
    rng = np.random.default_rng(seed)
    return [float(v) if np.ndim(v) == 0 else v for v in (rng.uniform(lo, hi, s) for s in shapes)]


@st.composite
def joins(draw) -> tuple[str, list[tuple[int, ...]]]:
    """A call joining 2 or 3 arrays (`a`, `b`, `c`) and shapes that it accepts."""
    how = draw(st.sampled_from(["concatenate", "concatenate None", "stack", "hstack", "vstack", "column_stack",
                                "dstack"]))
    count = draw(st.integers(2, 3))
    names = ", ".join("abc"[:count])
    if how in ("column_stack", "dstack"):
        ndim, axis = (draw(st.integers(1, 2)), 1) if how == "column_stack" else (3, 2)
        base = draw(st.lists(sides, min_size=ndim, max_size=ndim))
        shapes = [tuple(draw(sides) if i == axis else n for i, n in enumerate(base)) for _ in range(count)]
        return f"np.{how}(({names}))", [tuple(base)] * count if ndim == 1 else shapes
    if how == "concatenate None":
        shapes = [tuple(draw(st.lists(sides, max_size=3))) for _ in range(count)]
        return f"np.concatenate(({names}), axis=None)", shapes
    ndim = draw(st.integers(0 if how in ("stack", "hstack") else 1, 3))
    base = draw(st.lists(sides, min_size=ndim, max_size=ndim))
    if how == "stack":
        axis = draw(st.integers(-ndim - 1, ndim))
        return f"np.stack([{names}], axis={axis})", [tuple(base)] * count
    if how == "vstack" and ndim == 1:
        return f"np.vstack(({names}))", [draw(st.sampled_from([tuple(base), (draw(sides), *base)]))
                                          for _ in range(count)]
    if ndim == 0:
        return f"np.hstack(({names}))", [draw(st.sampled_from([(), (draw(sides),)])) for _ in range(count)]
    axis = {"hstack": 0 if ndim == 1 else 1, "vstack": 0}.get(how) if how != "concatenate" else \
        draw(st.integers(-ndim, ndim - 1))
    shapes = [tuple(draw(sides) if i == axis % ndim else n for i, n in enumerate(base)) for _ in range(count)]
    call = f"np.concatenate(({names}), axis={axis})" if how == "concatenate" else f"np.{how}(({names}))"
    return call, shapes


@st.composite
def splits(draw) -> tuple[str, tuple[int, ...]]:
    """A call splitting `x` and a shape that it accepts."""
    ndim = draw(st.integers(1, 3))
    shape = draw(st.lists(sides, min_size=ndim, max_size=ndim))
    axis = draw(st.integers(-ndim, ndim - 1))
    how = draw(st.sampled_from(["sections", "indices", "array_split"]))
    if how == "sections":
        count = draw(st.integers(1, 3))
        shape[axis] = count * draw(sides)
        return f"np.split(x, {count}, axis={axis})", tuple(shape)
    if how == "indices":
        cuts = sorted(draw(st.lists(st.integers(0, shape[axis]), min_size=1, max_size=3)))
        return f"np.split(x, {cuts}, axis={axis})", tuple(shape)
    return f"np.array_split(x, {draw(st.integers(1, shape[axis] + 1))}, axis={axis})", tuple(shape)


@st.composite
def take_along(draw) -> tuple[tuple[int, ...], np.ndarray, int | None]:
    """A shape for x, integer indices fitting it (negative ones too, repeats) and the axis."""
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(sides, min_size=ndim, max_size=ndim)))
    axis = draw(st.one_of(st.none(), st.integers(-ndim, ndim - 1)))
    side = int(np.prod(shape)) if axis is None else shape[axis]
    index_shape = (draw(sides),) if axis is None else \
        tuple(draw(sides) if i == axis % ndim else n for i, n in enumerate(shape))
    seed = draw(st.integers(0, 2**32 - 1))
    indices = np.random.default_rng(seed).integers(-side, side, index_shape)
    return shape, indices, axis


@st.composite
def renamed(draw, shapes: Shapes) -> Shapes:
    """`shapes` with their sides renamed (see the module docstring)."""
    return _rename_sides(shapes, draw(st.permutations(SIDES)))


@st.composite
def square_stacks(draw, max_side: int = 4) -> tuple[int, ...]:
    """The shape of a square matrix or of a stack of them."""
    n = draw(st.integers(1, max_side))
    return (*draw(st.lists(st.integers(1, 3), max_size=1)), n, n)


@st.composite
def axes(draw, ndim: int, tuples: bool = True) -> int | tuple[int, ...] | None:
    """None, one axis or (with `tuples`) distinct axes in any order, each maybe counted from the end."""
    kinds = ["none", "int", "tuple"] if tuples else ["none", "int"]
    kind = draw(st.sampled_from(kinds))
    if kind == "none":
        return None
    chosen = draw(st.lists(st.integers(0, ndim - 1), unique=True, min_size=1, max_size=ndim if tuples else 1))
    signed = [a - ndim if draw(st.booleans()) else a for a in chosen]
    return signed[0] if kind == "int" else tuple(signed)
