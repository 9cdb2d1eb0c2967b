"""Every rule of the spec tables on random shapes and random points of its domain (hypothesis).

Driven by the `SPECS` / `TABLE` of each tests/rules/test_<family>.py module (op, differentiable
parameters, domain, constants, tolerances); `tests/rules/strategies.py` draws the shapes
(broadcasting ones for the elementwise ops) and the points (away from kinks and poles).

- `test_rule`: the rule alone, called with numbers: each tangent against a central difference
  in a random direction, each adjoint against the tangent by <J u, v> = <u, J^T v>.
- `test_pipeline`: a one-op function through s2sad: jvp against a central difference, and grad of
  <w, f> against the jvp by the same identity.
- `test_broadcasting_pair`: the binary elementwise rules on named pairs ((3, 1) with (1, 4), ...).
- `test_joins`, `test_splits`, `test_einsum`, `test_take_along_axis`, `test_slogdet`,
  `test_cholesky`: the ops a spec table cannot draw (sequences, subscripts, indices, structure).
- `test_any_axis`: reductions and their kin with any axis argument and keepdims.
- `test_every_rule_is_drawn`: each registered rule is drawn here or listed in `EXCLUDED`, with
  its reason.

Derandomized (the same examples on every run) and without an example database.
"""

from __future__ import annotations

import importlib
from types import ModuleType

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy import special

import s2sad
from s2sad import runtime
from s2sad.rules.registry import lookup
from s2sad.testing import check_rule, make_function, numerical_jvp
from tests.rules import strategies
from tests.rules.specs import Spec
from tests.rules.strategies import DrawnCase, cases_of
from tests.rules.test_coverage import registered
from tests.rules.test_decompositions import check_tuple_rule
from tests.rules.test_elementwise import call_source
from tests.rules.test_linalg import EINSUMS

FAMILIES = ("arith", "containers", "creation", "decompositions", "elementwise", "fft", "indexing", "linalg",
            "math_module", "reductions", "scipy_special", "scipy_stats", "shape", "special_values")
POSITIONAL = ("math_module",)
"""Families whose ops take no keywords (math.log, builtin max): their rules are called positionally."""


def _module(family: str) -> ModuleType:
    return importlib.import_module(f"tests.rules.test_{family}")


def _harness(module: ModuleType) -> list[Spec]:
    """The specs a module runs through the shared harness (TABLE where it also has custom tests)."""
    if module.__name__.endswith("creation"):
        return list(module.SPECS)  # its TABLE is the part of SPECS that also runs end to end
    return list(getattr(module, "TABLE", None) or getattr(module, "SPECS", []))


DRAWN = [(family, spec) for family in FAMILIES for spec in _harness(_module(family))]


def _label(item: tuple[str, Spec]) -> str:
    family, spec = item
    kw = ",".join(f"{k}={v!r}" for k, v in spec.kwargs.items())
    shapes = "default" if spec.shapes is None else ",".join(map(str, spec.shapes))
    return f"{family}:{spec.label()}[{shapes}]{kw}"


def _params(items: list[tuple[str, Spec]]) -> list:
    return [pytest.param(item, id=_label(item)) for item in items]


RULE_SETTINGS = settings(derandomize=True, database=None, max_examples=25, deadline=None,
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
PIPELINE_SETTINGS = settings(derandomize=True, database=None, max_examples=2, deadline=None,
                             suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def _constants(spec: Spec) -> dict[str, object]:
    """The constant arguments by parameter name: spec.extra fills the parameters after the
    differentiable ones, in signature order; then spec.kwargs."""
    rule = lookup(spec.op)
    names = [n for n in rule.signature.parameters if n not in spec.params][: len(spec.extra)]
    return {**dict(zip(names, spec.extra)), **spec.kwargs}


def check_drawn_rule(family: str, case: DrawnCase) -> None:
    spec = case.spec
    if family in POSITIONAL and not lookup(spec.op).linear:
        _module(family).check_rule_positionally(case)
        return
    check_rule(spec.op, case.values(), _constants(spec), rtol=spec.rtol, atol=spec.atol, seed=case.seed)


@pytest.mark.parametrize("item", _params(DRAWN))
@RULE_SETTINGS
@given(data=st.data())
def test_rule(item, data):
    family, spec = item
    check_drawn_rule(family, data.draw(cases_of(spec), label="case"))


def _pieces(value) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def check_function(fun, args: list, seed: int, rtol: float = 1e-5, atol: float = 1e-7) -> None:
    """Through s2sad: jvp of `fun` (an array or a list of arrays) against central differences in
    a random direction; grad of <w, fun> against the jvp by <w, J u> = <J^T w, u>."""
    rng = np.random.default_rng(seed)
    directions = [float(rng.standard_normal()) if np.ndim(a) == 0 else rng.standard_normal(np.shape(a))
                  for a in args]
    out, tangent = s2sad.jvp(fun, args, directions)
    numeric = numerical_jvp(fun, args, dict(enumerate(directions)))
    for t, n in zip(_pieces(tangent), _pieces(numeric), strict=True):
        np.testing.assert_allclose(t, n, rtol=rtol, atol=atol, err_msg="jvp vs finite differences")
    weights = {f"w{i}_": rng.standard_normal(np.shape(piece)) for i, piece in enumerate(_pieces(out))}
    params = ", ".join(f"p{i}_" for i in range(len(args)))
    index = "[{}]" if isinstance(out, (list, tuple)) else ""
    terms = " + ".join(f"np.sum({w} * out_{index.format(i)})" for i, w in enumerate(weights))
    weighted = make_function(f"def g({params}):\n    out_ = op_({params})\n    return {terms}\n",
                             {**weights, "op_": fun})
    grads = s2sad.grad(weighted, argnums=tuple(range(len(args))))(*args)
    for g, a in zip(grads, args, strict=True):
        assert np.shape(g) == np.shape(a), f"gradient shape {np.shape(g)} for an argument shaped {np.shape(a)}"
    lhs = sum(float(np.sum(g * d)) for g, d in zip(grads, directions))
    rhs = sum(float(np.real(np.sum(w * t))) for w, t in zip(weights.values(), _pieces(tangent)))  # Re: complex
    np.testing.assert_allclose(lhs, rhs, rtol=1e-9, atol=1e-11, err_msg="grad vs jvp (dot-product identity)")


def check_drawn_pipeline(case: DrawnCase) -> None:
    """`check_function` on a one-line function calling the op."""
    spec = case.spec
    call, namespace = call_source(spec)
    fun = make_function(f"def f({', '.join(spec.params)}):\n    return {call}\n", namespace)
    values = case.values()
    check_function(fun, [values[p] for p in spec.params], case.seed, spec.rtol, spec.atol)


@pytest.mark.parametrize("item", _params(DRAWN))
@PIPELINE_SETTINGS
@given(data=st.data())
def test_pipeline(item, data):
    _, spec = item
    check_drawn_pipeline(data.draw(cases_of(spec), label="case"))


# ---------------------------------------------------------------- every rule is drawn or excluded

INDEX_CONCAT = ("np.r_ / np.c_ lowered: takes a layout of items, slices and directive strings, not free points; "
                "tested in test_dropped.py (finite differences, closed form, tangent/adjoint transposes)")
SPLITS = ("np.split along a fixed axis (np.split is drawn below); returns a list of pieces: "
          "test_split_along_a_fixed_axis in test_shape.py")
DRAWS = ("a random draw: no two calls alike, so no finite differences on free points; exact pathwise "
         "identities and seeded programs in test_random.py")
SELECTS = ("takes a list of conditions and a list of choices (sequences of arrays): test_select_in_every_mode "
           "and test_select_helpers_are_adjoint in test_shape.py")
CONTAINERS = "takes or returns a container (list, tuple, dict, object): pytree tests in test_containers.py"
EXCLUDED = {
    "getattr": CONTAINERS,
    "sum": CONTAINERS,
    "reversed": CONTAINERS,
    "list": CONTAINERS,
    "tuple": CONTAINERS,
    "items_tangent": CONTAINERS,
    "items_adjoint": CONTAINERS,
    "items_adjoint_transpose": CONTAINERS,
    "getitem_adjoint": CONTAINERS,
    "sum_adjoint": CONTAINERS,
    "zero_item": CONTAINERS,
    "copy_list": CONTAINERS,
    "reverse_items": CONTAINERS,
    "attribute_adjoint": CONTAINERS,
    "attribute_of": CONTAINERS,
    "reversed_adjoint": CONTAINERS,
    "reversed_adjoint_transpose": CONTAINERS,
    "not_a_view": CONTAINERS,
    "not_an_item": CONTAINERS,
    "without": CONTAINERS,
    "without_adjoint": CONTAINERS,
    "like_structure": CONTAINERS,
    "concat": CONTAINERS,
    "fold_repeats": CONTAINERS,
    "head": CONTAINERS,
    "pad_head": CONTAINERS,
    "pad_tail": CONTAINERS,
    "rebindable": CONTAINERS,
    "stored_value": CONTAINERS,
    "unwritten_sequence": CONTAINERS,
    "repeat_items": CONTAINERS,
    "sequence_adjoint_transpose": CONTAINERS,
    "sequence_tangent": CONTAINERS,
    "tail": CONTAINERS,
    "unfold_repeats": CONTAINERS,
    "transposed": CONTAINERS,
    "untransposed": CONTAINERS,
    "join": "runtime helper taking a sequence of arrays and of their shapes; its rule only serves second "
            "derivatives of the joins drawn below; adjoint pair with unjoin in test_shape.py",
    "unjoin": "runtime helper returning a tuple of pieces; drawn indirectly as the adjoint of the joins "
              "below; adjoint pair with join in test_shape.py",
    "index_concat": INDEX_CONCAT,
    "index_concat_tangent": INDEX_CONCAT,
    "index_concat_adjoint": INDEX_CONCAT,
    "np.vsplit": SPLITS,
    "np.hsplit": SPLITS,
    "np.dsplit": SPLITS,
    "np.append": "joins two arrays as np.concatenate does (drawn below); test_append in test_shape.py",
    **({"np.row_stack": "np.vstack's deprecated name (np.vstack is drawn below); test_row_stack in test_shape.py"}
       if hasattr(np, "row_stack") else {}),
    **{f"np.random.{owner}.{name}": DRAWS for owner in ("Generator", "RandomState")
       for name in ("normal", "laplace", "logistic", "gumbel", "uniform", "exponential", "lognormal")},
    "np.select": SELECTS,
    "select_tangent": SELECTS,
    "select_adjoint": SELECTS,
    "norm_partial": "its argument must be the norm of the other (not a free point); drawn indirectly by "
                    "np.linalg.norm, second order in test_linalg.py",
    "norm_hvp": "its arguments must be a norm and its partial (not free points); second order of "
                "np.linalg.norm in test_linalg.py",
    "scipy_stats.multivariate_normal.logpdf": "its cov must be symmetric positive definite (not a free point): "
                                              "test_scipy_stats.py draws one per case, to second order",
}
"""Differentiable rules not drawn here, each with the reason and where it is tested instead.
Rules without a derivative are tested by the NONDIFF lists of the family modules."""


def drawn_ops() -> set[str]:
    custom = CUSTOM_DRAWN + DECOMPOSITIONS_DRAWN
    return {lookup(spec.op).name for _, spec in DRAWN} | {lookup(op).name for op in custom}


def test_every_rule_is_drawn():
    differentiable = {op["name"] for op in registered() if not op["nondiff"]}
    missing = sorted(differentiable - drawn_ops() - set(EXCLUDED))
    assert not missing, f"rules neither drawn by tests/rules/test_hypothesis.py nor in its EXCLUDED: {missing}"


def test_exclusions_are_current():
    differentiable = {op["name"] for op in registered() if not op["nondiff"]}
    stale = sorted(set(EXCLUDED) - (differentiable - drawn_ops()))
    assert not stale, f"EXCLUDED lists rules that are drawn or no longer registered: {stale}"


# ---------------------------------------------------------------- ops the spec tables cannot draw

CUSTOM_DRAWN = (np.concatenate, np.stack, np.hstack, np.vstack, np.column_stack, np.dstack, np.split,
                np.array_split, np.einsum,
                runtime.contract, np.take_along_axis, runtime.take_along_axis_adjoint, np.linalg.slogdet,
                np.linalg.cholesky)
"""Ops taking or returning sequences, subscripts or integer indices, or needing structured points:
drawn by the tests below."""

AXIS_OPS = [(np.sum, True, True), (np.mean, True, True), (np.prod, True, True), (np.max, True, True),
            (np.amax, True, True), (np.min, True, True), (np.amin, True, True), (np.var, True, True),
            (np.std, True, True), (np.average, True, True), (np.cumsum, False, False), (np.cumprod, False, False),
            (np.sort, False, False), (np.flip, True, False), (np.linalg.norm, False, True),
            (special.logsumexp, True, True), (special.softmax, True, False), (special.log_softmax, True, False)]
"""(op, takes a tuple of axes, takes keepdims): drawn with any axis argument on any shape."""

SEEDS = st.integers(0, 2**32 - 1)
AXIS_SETTINGS = settings(derandomize=True, database=None, max_examples=20, deadline=None,
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
CUSTOM_SETTINGS = settings(derandomize=True, database=None, max_examples=50, deadline=None,
                           suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@CUSTOM_SETTINGS
@given(join=strategies.joins(), seed=SEEDS)
def test_joins(join, seed):
    call, shapes = join
    names = ", ".join("abc"[: len(shapes)])
    check_function(make_function(f"def f({names}):\n    return {call}\n"), strategies.points(seed, *shapes), seed)


@CUSTOM_SETTINGS
@given(split=strategies.splits(), seed=SEEDS)
def test_splits(split, seed):
    call, shape = split
    check_function(make_function(f"def f(x):\n    return {call}\n"), strategies.points(seed, shape), seed)


@CUSTOM_SETTINGS
@given(data=st.data(), seed=SEEDS)
def test_einsum(data, seed):
    subscripts, *shapes = data.draw(st.sampled_from(EINSUMS), label="einsum")
    shapes = data.draw(strategies.renamed(tuple(shapes)), label="shapes")
    values = strategies.points(seed, *shapes)
    names = ["x", "y", "z"][: len(values)]
    check_rule(runtime.contract, dict(zip(names, values)), {"subscripts": subscripts}, seed=seed)
    fun = make_function(f"def f({', '.join(names)}):\n    return np.einsum({subscripts!r}, {', '.join(names)})\n")
    check_function(fun, values, seed)


@CUSTOM_SETTINGS
@given(take=strategies.take_along(), seed=SEEDS)
def test_take_along_axis(take, seed):
    shape, indices, axis = take
    (x,) = strategies.points(seed, shape)
    x = np.asarray(x)
    check_rule(np.take_along_axis, {"x": x}, {"indices": indices, "axis": axis}, seed=seed)
    g = np.random.default_rng(seed).standard_normal(np.shape(np.take_along_axis(x, indices, axis)))
    check_rule(runtime.take_along_axis_adjoint, {"g": g}, {"x": x, "indices": indices, "axis": axis}, seed=seed)
    fun = make_function("def f(x):\n    return np.take_along_axis(x, indices, axis)\n",
                        {"indices": indices, "axis": axis})
    check_function(fun, [x], seed)


@CUSTOM_SETTINGS
@given(shape=strategies.square_stacks(), seed=SEEDS)
def test_slogdet(shape, seed):
    (x,) = strategies.points(seed, shape)
    assume(np.all(np.linalg.cond(x) < strategies.MAX_CONDITION))
    logdet = make_function("def f(x):\n    sign, logdet = np.linalg.slogdet(x)\n    return logdet\n")
    check_function(logdet, [x], seed)
    det = make_function("def f(x):\n    sign, logdet = np.linalg.slogdet(x)\n    return sign * np.exp(logdet)\n")
    check_function(det, [x], seed)


@CUSTOM_SETTINGS
@given(shape=strategies.square_stacks(), seed=SEEDS)
def test_cholesky(shape, seed):
    """On a positive definite x; the direction is any matrix (the rule reads the lower triangle)."""
    (m,) = strategies.points(seed, shape)
    x = m @ np.swapaxes(m, -1, -2) + shape[-1] * np.eye(shape[-1])
    check_rule(np.linalg.cholesky, {"x": x}, seed=seed)
    check_function(make_function("def f(x):\n    return np.linalg.cholesky(x)\n"), [x], seed)


# ---------------------------------------------------------------- named broadcasting pairs

PAIRS = [((3, 1), (1, 4)), ((), (2, 3)), ((2, 3), ()), ((4, 1), (3,)), ((2, 1, 3), (4, 1))]
"""Broadcasting pairs every binary elementwise op meets, whatever the draws above were."""


def _broadcasts(spec: Spec, shapes: tuple) -> bool:
    constants = [np.shape(c) for c in spec.extra if isinstance(c, np.ndarray)]
    try:
        np.broadcast_shapes(*shapes, *constants)
    except ValueError:
        return False
    return True


BINARY = [pytest.param(item, pair, id=f"{_label(item)}{pair}")
          for item in DRAWN if item[1].shapes is None and len(item[1].params) == 2
          for pair in PAIRS if _broadcasts(item[1], pair)]


def first_case_in_domain(spec: Spec, shapes: tuple) -> DrawnCase:
    for seed in range(100):
        case = DrawnCase(spec, shapes, seed)
        if strategies.in_domain(spec, case.values()):
            return case
    raise AssertionError(f"no point of {spec.label()} on {shapes} inside the domain in 100 seeds")


@pytest.mark.parametrize("item, shapes", BINARY)
def test_broadcasting_pair(item, shapes):
    family, spec = item
    case = first_case_in_domain(spec, shapes)
    check_drawn_rule(family, case)
    check_drawn_pipeline(case)


@pytest.mark.parametrize("op, tuples, keepdims", AXIS_OPS, ids=lambda v: getattr(v, "__name__", ""))
@AXIS_SETTINGS
@given(data=st.data(), seed=SEEDS)
def test_any_axis(op, tuples, keepdims, data, seed):
    """Reductions and their kin on 1- to 3-d shapes with any axis argument (None, negative, tuples
    in any order) and keepdims either way."""
    shape = tuple(data.draw(st.lists(strategies.sides, min_size=1, max_size=3), label="shape"))
    kwargs = {"axis": data.draw(strategies.axes(len(shape), tuples), label="axis")}
    if keepdims:
        kwargs["keepdims"] = data.draw(st.booleans(), label="keepdims")
    (x,) = strategies.points(seed, shape)
    assume(strategies.in_domain(Spec(op), {"x": x}))
    name = next(iter(lookup(op).signature.parameters))
    check_rule(op, {name: np.asarray(x)}, kwargs, seed=seed)
    literals = "".join(f", {k}={v!r}" for k, v in kwargs.items())
    check_function(make_function(f"def f(x):\n    return op(x{literals})\n", {"op": op}), [x], seed)


# ---------------------------------------------------------------- decompositions: tuple results, structured points

DECOMPOSITIONS_DRAWN = (np.linalg.eigh, np.linalg.eig, np.linalg.svd, np.linalg.qr, np.linalg.lstsq,
                        runtime.upper_right, runtime.diagonal_blocks)
"""Decompositions (tuple results, points away from tied eigenvalues) and the block helpers (even
sides): drawn by the tests below."""
EXCLUDED.update({
    "uv_or_s": CONTAINERS + "; drawn as part of np.linalg.svd below, adjoint pair in test_decompositions.py",
    "svd_cotangent": CONTAINERS + "; drawn as part of np.linalg.svd below, adjoint pair in test_decompositions.py",
    "at_rank": "its argument must be a pseudo-inverse of the other (not a free point); drawn as part of "
               "np.linalg.pinv and lstsq, tested in test_decompositions.py",
    **{name: "np.cross's helper: reads the shapes of its other arguments, which must match its vectors (not "
             "free points); drawn as part of np.cross, spec table (CROSS_HELPERS) in test_decompositions.py"
       for name in ("cross_pad", "cross_unpad", "cross_lift", "cross_drop")},
})
MIN_GAP = 1e-2
"""Least gap between eigenvalues (singular values) of a drawn point: eigenvector derivatives divide by it."""


def _apart(values) -> bool:
    values = np.sort(np.asarray(values), axis=-1)
    return bool(np.all(np.diff(values, axis=-1) > MIN_GAP)) if values.shape[-1] > 1 else True


@st.composite
def rectangles(draw, tall: bool = False) -> tuple[int, ...]:
    """The shape of a matrix (at least as tall as wide with `tall`) or of a stack of them."""
    m, n = draw(strategies.sides), draw(strategies.sides)
    m, n = (max(m, n), min(m, n)) if tall else (m, n)
    return (*draw(st.lists(st.integers(1, 3), max_size=1)), m, n)


@CUSTOM_SETTINGS
@given(shape=strategies.square_stacks(), uplo=st.sampled_from("LU"), seed=SEEDS)
def test_eigh(shape, uplo, seed):
    """Any matrix: eigh reads one triangle of it."""
    x = np.asarray(strategies.points(seed, shape)[0])
    assume(_apart(np.linalg.eigvalsh(x, uplo)))
    check_tuple_rule(np.linalg.eigh, {"a": x}, {"UPLO": uplo}, seed=seed)
    check_function(make_function(f"def f(x):\n    return np.linalg.eigh(x, {uplo!r})\n"), [x], seed)


@CUSTOM_SETTINGS
@given(shape=strategies.square_stacks(), seed=SEEDS)
def test_eig(shape, seed):
    """On symmetric matrices (real eigenvalues)."""
    m = np.asarray(strategies.points(seed, shape)[0])
    x = m + np.swapaxes(m, -1, -2)
    assume(_apart(np.linalg.eigvalsh(x)))
    check_tuple_rule(np.linalg.eig, {"a": x}, seed=seed)
    check_function(make_function("def f(x):\n    return np.linalg.eig(x)\n"), [x], seed)


@CUSTOM_SETTINGS
@given(shape=rectangles(), compute_uv=st.booleans(), seed=SEEDS)
def test_svd(shape, compute_uv, seed):
    x = np.asarray(strategies.points(seed, shape)[0])
    s = np.linalg.svd(x, compute_uv=False)
    assume(_apart(s) and np.all(s > MIN_GAP))
    kwargs = {"full_matrices": False, "compute_uv": compute_uv}
    check_tuple_rule(np.linalg.svd, {"a": x}, kwargs, seed=seed)
    call = f"np.linalg.svd(x, full_matrices=False, compute_uv={compute_uv})"
    check_function(make_function(f"def f(x):\n    return {call}\n"), [x], seed)


@CUSTOM_SETTINGS
@given(shape=rectangles(), seed=SEEDS)
def test_qr(shape, seed):
    """Any matrix: a wide one's derivative divides by its leading square block's R."""
    x = np.asarray(strategies.points(seed, shape)[0])
    assume(np.all(np.linalg.cond(x[..., :, : min(shape[-2:])]) < strategies.MAX_CONDITION))
    check_tuple_rule(np.linalg.qr, {"a": x}, seed=seed)
    check_function(make_function("def f(x):\n    return np.linalg.qr(x)\n"), [x], seed)


@CUSTOM_SETTINGS
@given(shape=rectangles(), columns=st.integers(0, 2), seed=SEEDS)
def test_lstsq(shape, columns, seed):
    """One matrix (no stack) and a right-hand side of one (a vector) or more columns."""
    m, n = shape[-2:]
    a, b = strategies.points(seed, (m, n), (m,) if columns == 0 else (m, columns))
    a = np.asarray(a)
    assume(np.linalg.cond(a) < strategies.MAX_CONDITION and _apart(np.linalg.svd(a, compute_uv=False)))
    check_tuple_rule(np.linalg.lstsq, {"a": a, "b": b}, seed=seed)
    check_function(make_function("def f(a, b):\n    return np.linalg.lstsq(a, b)\n"), [a, b], seed)


@CUSTOM_SETTINGS
@given(op=st.sampled_from([runtime.upper_right, runtime.diagonal_blocks]), shape=strategies.square_stacks(), seed=SEEDS)
def test_blocks(op, shape, seed):
    """The blocks of a matrix of even side."""
    doubled = (*shape[:-2], 2 * shape[-1], 2 * shape[-1])
    m = np.asarray(strategies.points(seed, doubled)[0])
    check_rule(op, {"m": m}, seed=seed)
    check_function(make_function("def f(m):\n    return op(m)\n", {"op": op}), [m], seed)
