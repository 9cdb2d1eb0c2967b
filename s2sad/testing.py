"""Check derivatives numerically: `check_grads` for functions, `check_rule` for one rule,
`check_taylor` for Taylor mode (against nested forward mode).

Forward mode is compared with a central finite difference in one random direction; reverse
mode with forward mode by the dot-product identity <J u, v> = <u, J^T v>, which holds to
rounding error, so it is checked tightly.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence

import numpy as np

from s2sad import api, runtime
from s2sad.core.modes import GRAD, VJP
from s2sad.core.source import define
from s2sad.core.targets import call_shape, is_variadic, params_of, shaped, target_of
from s2sad.rules.registry import Rule, _elementwise_params, lookup
from s2sad.runtime import map_structure

_made = 0


def make_function(source: str, namespace: dict | None = None) -> Callable:
    """Define a function from source text that s2sad can read (registered in linecache)."""
    global _made
    _made += 1
    scope = dict(namespace or {})
    scope.setdefault("np", np)
    return define(source, f"<s2sad-test-{_made}>", scope)[-1]


def _differentiable(leaf) -> bool:
    if isinstance(leaf, np.ndarray):
        return np.issubdtype(leaf.dtype, np.inexact)
    return isinstance(leaf, (float, complex, np.inexact))


def _random_like(value, rng: np.random.Generator):
    """A random direction with the structure of `value` (zero for integer leaves)."""
    def leaf(x):
        if not _differentiable(x):
            return 0.0 if isinstance(x, (int, np.integer)) else None
        v = rng.standard_normal(np.shape(x))
        if np.iscomplexobj(x):  # complex values get complex directions (docs/conventions.md)
            v = v + 1j * rng.standard_normal(np.shape(x))
            return v.astype(x.dtype) if isinstance(x, np.ndarray) else complex(v)
        return v.astype(x.dtype) if isinstance(x, np.ndarray) else float(v)

    return map_structure(leaf, value)


def _leaves(tree) -> list:
    found: list = []
    map_structure(lambda x: found.append(x), tree)
    return found


def _inner(a, b) -> float:
    """<a, b> = Re(sum(a * b)), leaf by leaf, in double precision (the pairing of complex
    (co)tangents, docs/conventions.md; the plain dot product for real ones)."""
    return float(sum(np.real(np.sum(_double(x) * _double(y)))
                     for x, y in zip(_leaves(a), _leaves(b)) if x is not None and y is not None))


def _double(x) -> np.ndarray:
    return np.asarray(x, dtype=np.complex128 if np.iscomplexobj(x) else np.float64)


def _float_positions(args: Sequence) -> list[int]:
    return api.float_positions(args)


def _step(value, direction, eps: float):
    return map_structure(lambda x, d: x + eps * d if _differentiable(x) else x, value, direction)


def numerical_jvp(fun: Callable, args: Sequence, tangents: dict[int, object], eps: float = 1e-6):
    plus = [_step(a, tangents[i], eps) if i in tangents else a for i, a in enumerate(args)]
    minus = [_step(a, tangents[i], -eps) if i in tangents else a for i, a in enumerate(args)]
    return map_structure(lambda p, m: (np.asarray(p) - np.asarray(m)) / (2 * eps), fun(*plus), fun(*minus))


def _close(actual, desired, rtol: float, atol: float, err_msg: str) -> None:
    for a, d in zip(_leaves(actual), _leaves(desired)):
        np.testing.assert_allclose(a, d, rtol=rtol, atol=atol, err_msg=err_msg)


def check_grads(fun: Callable, args: Sequence, order: int = 1, modes: Sequence[str] = ("fwd", "rev"),
                rtol: float = 1e-5, atol: float = 1e-7, eps: float = 1e-6, seed: int = 0) -> None:
    """Check s2sad's derivatives of a function at a point: raise AssertionError unless they are right.

    Forward mode is compared with a central finite difference in one random direction; reverse
    mode with forward mode by the dot-product identity <J u, v> = <u, J^T v> (tightly: it
    holds to rounding error) and with the finite difference. Use it on functions with your
    own rules (`custom_jvp`, `defvjp`, ...) as well as on plain ones.

    Args:
        fun: The function, as for `grad`; any output shape.
        args: Its arguments, a sequence; integer arguments are constants.
        order: 1 checks the first derivatives; 2 (or more) also the derivatives of the
            derivative, recursively.
        modes: Which to check: "fwd" (jvp against the finite difference), "rev" (vjp against
            jvp and the finite difference).
        rtol: Relative tolerance against the finite difference.
        atol: Absolute tolerance against the finite difference.
        eps: The step of the central difference.
        seed: Seed of the random direction and cotangent.

    Raises:
        AssertionError: A derivative differs from what it is checked against; the message
            says which check ("jvp vs finite differences", "vjp vs jvp (dot-product identity)",
            ...) and by how much.

    Examples:
        >>> import numpy as np
        >>> import s2sad
        >>> from s2sad.testing import check_grads
        >>> def f(x):
        ...     return np.sin(x) * x
        >>> check_grads(f, (np.array([0.5, 1.0]),))  # passes silently
        >>> @s2sad.custom_jvp
        ... def double(x):
        ...     return 2.0 * x
        >>> @double.defjvp
        ... def double_jvp(primals, tangents):  # wrong: the tangent is 2 dx
        ...     return 2.0 * primals[0], 3.0 * tangents[0]
        >>> def g(x):
        ...     return double(x)
        >>> check_grads(g, (1.0,), modes=("fwd",))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        AssertionError: ...jvp vs finite differences...
    """
    rng = np.random.default_rng(seed)
    args = tuple(args)
    if is_variadic(target_of(fun)):  # `def f(x, *args)`: checked at the shape of this call
        fun = shaped(fun, call_shape(target_of(fun), args, {})[0])
    positions = _float_positions(args)
    tangents = {i: _random_like(args[i], rng) for i in positions}
    numeric = numerical_jvp(fun, args, tangents, eps)
    all_tangents = [tangents.get(i, np.zeros_like(a) if isinstance(a, np.ndarray) else 0) for i, a in enumerate(args)]
    out, forward = api.jvp(fun, args, all_tangents)
    _close(out, fun(*args), 1e-12, 1e-12, "jvp value")
    if "fwd" in modes:
        _close(forward, numeric, rtol, atol, "jvp vs finite differences")
    if "rev" in modes:
        cotangent = _random_like(out, rng)
        out2, pullback = api.vjp(fun, *args)
        _close(out2, out, 1e-12, 1e-12, "vjp value")
        grads = pullback(cotangent)
        lhs = _inner(forward, cotangent)
        rhs = sum(_inner(grads[i], tangents[i]) for i in positions)
        tight = 1e-4 if any(getattr(leaf, "dtype", None) == np.float32 for leaf in _leaves(args)) else 1e-10
        np.testing.assert_allclose(rhs, lhs, rtol=tight, atol=1e-12, err_msg="vjp vs jvp (dot-product identity)")
        np.testing.assert_allclose(rhs, _inner(numeric, cotangent), rtol=rtol, atol=atol,
                                   err_msg="vjp vs finite differences")
    if order > 1:
        _check_second_order(fun, args, positions, out, rng, modes, rtol, atol, eps, seed, order)


def nested_jvps(fun: Callable, x, order: int) -> list:
    """`[f(x), f'(x), ..., f^(order)(x)]` of a function of one float, by `order` nested jvp's."""
    funs = [fun]
    for _ in range(order):
        funs.append(make_function("def derivative(t):\n    return jvp(g, (t,), (1.0,))[1]\n",
                                  {"g": funs[-1], "jvp": api.jvp}))
    return [f(x) for f in funs]


def check_taylor(fun: Callable, args: Sequence, order: int = 3, rtol: float = 1e-6, atol: float = 1e-8,
                 seed: int = 0) -> None:
    """Raise AssertionError unless Taylor mode's coefficients of `fun` at `args` to `order`,
    along the line args + t·v in a random direction v (every float argument moves), match
    `order` nested jvp's of t ↦ fun(args + t·v) at 0, divided by k!."""
    rng = np.random.default_rng(seed)
    args = tuple(args)
    positions = _float_positions(args)
    directions = [_random_like(args[i], rng) for i in positions]
    series = tuple([v] + [map_structure(lambda leaf: 0.0 * leaf, v)] * (order - 1) for v in directions)
    out, coefs = api.taylor(fun, order, tuple(positions))(args, series)
    names = [f"a{i}" for i in range(len(args))]
    moved = [f"a{i} + t * v{i}" if i in positions else f"a{i}" for i in range(len(args))]
    scope = {"f": fun, **dict(zip(names, args)), **{f"v{i}": v for i, v in zip(positions, directions)}}
    line = make_function(f"def line(t):\n    return f({', '.join(moved)})\n", scope)
    expected = nested_jvps(line, 0.0, order)
    _close(out, expected[0], 1e-12, 1e-12, "taylor value")
    for k, coefficient in enumerate(coefs, 1):
        scale = 1.0 / math.factorial(k)
        _close(coefficient, map_structure(lambda leaf, scale=scale: leaf * scale, expected[k]), rtol, atol,
               f"taylor coefficient {k} vs {k} nested jvp's")


def _check_second_order(fun, args, positions, out, rng, modes, rtol, atol, eps, seed, order) -> None:
    """The derivatives of the derivative: `check_grads` on the gradient of <u, fun(args)>."""
    params = ", ".join(params_of(fun))
    paths = _leaf_paths(out)
    weights = {f"u{i}": _random_like(leaf, rng) for i, (_, leaf) in enumerate(paths)}
    terms = " + ".join(f"np.sum(u{i} * out{path})" for i, (path, _) in enumerate(paths)) or "0.0"
    source = f"def inner_product({params}):\n    out = fun({params})\n    return {terms}\n"
    inner = make_function(source, {**weights, "fun": fun})
    gradient = api.Transformed(inner, GRAD, tuple(positions))
    check_grads(gradient, args, order - 1, modes, rtol, atol, eps, seed + 1)


def _leaf_paths(tree, path: str = "") -> list[tuple[str, object]]:
    """(`[0]['k']`-style path, leaf) for each differentiable leaf of an output pytree."""
    if isinstance(tree, (list, tuple)):
        return [p for i, item in enumerate(tree) for p in _leaf_paths(item, f"{path}[{i}]")]
    if isinstance(tree, dict):
        return [p for k, item in tree.items() for p in _leaf_paths(item, f"{path}[{k!r}]")]
    return [(path, tree)] if _differentiable(tree) else []


def recorded(fun: Callable, *args, argnums=0) -> dict[str, object]:
    """What reverse mode keeps from the primal sweep for the adjoint sweep, by variable name:
    the tape (a list, under its own name) and every other residual value. For tests of the
    to-be-recorded analysis: a loop of T steps should leave O(T) entries only for values the
    adjoint really reads."""
    transformed = api.Transformed(fun, VJP, argnums if isinstance(argnums, tuple) else (argnums,))
    _, residuals = transformed(*args)
    built = transformed.built_for(transformed._args(args, {}), {})
    return dict(zip(built.residuals, residuals))


# ------------------------------------------------------------------ one rule, called with numbers


def rule_tangent(rule: Rule, param: str, values: dict, dparam, out):
    """The tangent term of `param`, computed by calling the rule's own template with numbers."""
    env = {**values, "out": out}
    if param in rule.tangents:
        fn = rule.tangents[param]
        return _call_template(fn, env, dparam)
    if param in rule.linear:
        return _call_op(rule, {**values, param: dparam})
    return _times_partial(rule, dparam, _partial(rule, param, env))


def rule_adjoint(rule: Rule, param: str, values: dict, g, out):
    """The adjoint term of `param` for the cotangent `g`, from the rule's own template."""
    from s2sad.runtime import unbroadcast

    env = {**values, "out": out}
    if param in rule.adjoints:
        return _call_template(rule.adjoints[param], env, g)
    term = _times_partial(rule, g, _partial(rule, param, env))
    return unbroadcast(term, values[param])


def _times_partial(rule: Rule, d, partial):
    """`d` times the partial, the way the rule's elementwise shorthand says (`Rule.strong`)."""
    return getattr(runtime, "strong_" + rule.strong)(d, partial) if rule.strong else d * partial


def _call_template(fn: Callable, env: dict, first):
    names = list(inspect.signature(fn).parameters)
    return fn(first, *(env[n] for n in names[1:]))


def _partial(rule: Rule, param: str, env: dict):
    # (called for elementwise rules only, whose `partials` is a function)
    names = list(inspect.signature(rule.partials).parameters)  # type: ignore[arg-type]
    result = rule.partials(*(env[n] for n in names))  # type: ignore[misc]
    if isinstance(result, tuple):
        return result[_elementwise_params(rule).index(param)]
    return result


def _call_op(rule: Rule, values: dict):
    sig = rule.signature
    args = [values[n] for n, p in sig.parameters.items() if p.default is inspect.Parameter.empty]
    kwargs = {n: values[n] for n, p in sig.parameters.items()
              if p.default is not inspect.Parameter.empty and n in values
              and (values[n] is not p.default or _required_by(rule.op, n))}
    return rule.op(*args, **kwargs)  # type: ignore[operator]  # `Rule.op`, a callable, is typed object


def _required_by(op: object, name: str) -> bool:
    """Whether `op` itself has no default for `name` (NumPy before 2.3 requires take_along_axis's
    `axis`, which the rule's signature gives as -1, its default since)."""
    try:
        param = inspect.signature(op).parameters.get(name)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return param is not None and param.default is inspect.Parameter.empty


def check_rule(op: Callable, args: dict, kwargs: dict | None = None, rtol: float = 1e-5, atol: float = 1e-7,
               eps: float = 1e-6, seed: int = 0) -> None:
    """Check one rule with numbers, no transform involved: each differentiable parameter's
    tangent against a central difference, its adjoint against the tangent by the dot product."""
    rule = lookup(op)
    if rule is None:
        raise LookupError(f"no rule registered for {op!r}")
    rng = np.random.default_rng(seed)
    defaults = {n: p.default for n, p in rule.signature.parameters.items() if p.default is not inspect.Parameter.empty}
    values = {**defaults, **args, **(kwargs or {})}
    out = _call_op(rule, values)
    for param in rule.diff_params:
        if param not in args:
            continue
        d = _random_like(args[param], rng)
        plus = _call_op(rule, {**values, param: values[param] + eps * d})
        minus = _call_op(rule, {**values, param: values[param] - eps * d})
        numeric = (np.asarray(plus) - np.asarray(minus)) / (2 * eps)
        tangent = np.broadcast_to(rule_tangent(rule, param, values, d, out), np.shape(out))
        np.testing.assert_allclose(tangent, numeric, rtol=rtol, atol=atol, err_msg=f"{rule.name}: tangent of {param}")
        g = _random_like(out, rng)
        adjoint = rule_adjoint(rule, param, values, g, out)
        assert np.shape(adjoint) == np.shape(args[param]), f"{rule.name}: adjoint of {param} has the wrong shape"
        np.testing.assert_allclose(_inner(adjoint, d), _inner(tangent, g), rtol=1e-10, atol=1e-12,
                                   err_msg=f"{rule.name}: adjoint of {param} vs tangent (dot product)")


__all__ = ["check_grads", "check_rule", "make_function", "numerical_jvp", "recorded"]
