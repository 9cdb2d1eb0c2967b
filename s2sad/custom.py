"""Rules the user writes: custom_jvp / custom_vjp for their functions, defjvp / defvjp for
library callables, stop_gradient, and checkpoint.

- `@custom_jvp` + `@f.defjvp`: `jvp(primals, tangents) -> (out, tangent_out)` (nondiff
  arguments first). Forward mode calls it; reverse mode transposes it by running reverse mode
  on its tangent output, which is linear in the tangents.
- `@custom_vjp` + `f.defvjp(fwd, bwd)`: `fwd(*args) -> (out, residuals)`,
  `bwd(*nondiff_args, residuals, g) -> one cotangent per differentiable argument`. Reverse mode
  calls them; forward mode differentiates the function's own source.
- `defjvp(op, *jvps)` / `defvjp(op, *vjps)`: rules for a library callable (a SciPy routine,
  say), registered in the same registry as the built-in rules. `jvps[i](t, out, *args)` is the
  tangent contribution of argument i, `vjps[i](g, out, *args)` its cotangent; None for an
  argument with no derivative. Each is a `def` in a file, so it can be differentiated again.
- `checkpoint(fun)`: calls to it keep only their arguments for the adjoint sweep and run the
  callee again there (memory for time).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from s2sad.core.source import define
from s2sad.core.targets import as_function
from s2sad.errors import MissingRule, S2SADError
from s2sad.rules.registry import GENERATION, _register, lookup, nondiff

__all__ = ["as_function", "checkpoint", "custom_jvp", "custom_vjp", "defjvp", "defvjp", "stop_gradient"]


class custom_jvp:  # noqa: N801 - a decorator, spelled like the function it makes
    __s2sad_rule__ = "custom_jvp"
    __name__: str  # the function's, set by `functools.update_wrapper`

    def __init__(self, fun: Callable, nondiff_argnums: tuple[int, ...] = ()) -> None:
        self.fun = fun
        self.nondiff_argnums = tuple(nondiff_argnums)
        self.jvp: Callable | None = None
        functools.update_wrapper(self, fun)

    def defjvp(self, jvp: Callable) -> Callable:
        self.jvp = jvp
        self.__dict__.pop("_s2sad_linear", None)  # the linearizations reverse mode made of an earlier rule
        GENERATION[0] += 1  # derivatives that called an earlier rule are rebuilt
        return jvp

    def require_rule(self) -> None:
        if self.jvp is None:
            raise MissingRule(f"custom_jvp function {self.__name__!r} has no rule",
                              hint=f"decorate its jvp with @{self.__name__}.defjvp")

    def __call__(self, *args, **kwargs):
        return self.fun(*args, **kwargs)


class custom_vjp:  # noqa: N801
    __s2sad_rule__ = "custom_vjp"
    __name__: str  # the function's, set by `functools.update_wrapper`

    def __init__(self, fun: Callable, nondiff_argnums: tuple[int, ...] = ()) -> None:
        self.fun = fun
        self.nondiff_argnums = tuple(nondiff_argnums)
        self.fwd: Callable | None = None
        self.bwd: Callable | None = None
        functools.update_wrapper(self, fun)

    def defvjp(self, fwd: Callable, bwd: Callable) -> None:
        self.fwd, self.bwd = fwd, bwd
        GENERATION[0] += 1  # derivatives that called an earlier rule are rebuilt

    def require_rule(self) -> None:
        if self.fwd is None:
            raise MissingRule(f"custom_vjp function {self.__name__!r} has no rule",
                              hint=f"call {self.__name__}.defvjp(fwd, bwd)")

    def __call__(self, *args, **kwargs):
        return self.fun(*args, **kwargs)


class checkpoint:  # noqa: N801
    """A function whose calls, in reverse mode, are run again in the adjoint sweep instead of recorded.

    `checkpoint(fun)` (or `@checkpoint`) is called like `fun` and gives the same values and
    gradients; in reverse mode a call keeps only its arguments for the adjoint sweep, which
    runs `fun` again: memory for time.

    Args:
        fun: The function, as for `grad`.

    Examples:
        >>> import numpy as np
        >>> import s2sad
        >>> @s2sad.checkpoint
        ... def layer(x):
        ...     return np.tanh(x) * 2.0
        >>> def net(x):
        ...     return layer(layer(x))
        >>> round(float(s2sad.grad(net)(0.5)), 6)
        1.479056
    """

    __s2sad_rule__ = "checkpoint"

    def __init__(self, fun: Callable) -> None:
        self.fun = fun
        functools.update_wrapper(self, fun)

    def __call__(self, *args, **kwargs):
        return self.fun(*args, **kwargs)


def custom_jvp_decorator(fun: Callable | None = None, *,
                         nondiff_argnums: tuple[int, ...] = ()) -> custom_jvp | Callable[[Callable], custom_jvp]:
    """Give a function of yours its own forward-mode rule (a decorator, `s2sad.custom_jvp`).

    `@f.defjvp` then registers the rule `jvp(*nondiff_args, primals, tangents) ->
    (output, output_tangent)`, `primals` and `tangents` being tuples of the other arguments.
    Forward mode calls the rule; reverse mode transposes it (its tangent output is linear in
    the tangents). Calling `f` runs the function.

    Args:
        fun: The function. Left out, `custom_jvp(nondiff_argnums=...)` returns a decorator.
        nondiff_argnums: Positions of arguments that are not differentiated; the rule takes
            them first.

    Returns:
        A callable like `fun`, with the method `defjvp`. Without `fun`, a decorator making one.

    Raises:
        MissingRule: (when differentiated) no rule was given with `defjvp`.

    Examples:
        >>> import numpy as np
        >>> import s2sad
        >>> @s2sad.custom_jvp
        ... def round_through(x):
        ...     return np.round(x)
        >>> @round_through.defjvp
        ... def round_through_jvp(primals, tangents):  # "straight through": as the identity
        ...     (x,), (dx,) = primals, tangents
        ...     return np.round(x), dx
        >>> def f(x):
        ...     return round_through(x) * x
        >>> value, tangent = s2sad.jvp(f, (1.4,), (1.0,))
        >>> float(value), float(tangent)  # round(1.4) * 1.4, round(1.4) + 1.4
        (1.4, 2.4)
    """
    if fun is None:
        return lambda f: custom_jvp(f, nondiff_argnums)
    return custom_jvp(fun, nondiff_argnums)


def custom_vjp_decorator(fun: Callable | None = None, *,
                         nondiff_argnums: tuple[int, ...] = ()) -> custom_vjp | Callable[[Callable], custom_vjp]:
    """Give a function of yours its own reverse-mode rule (a decorator, `s2sad.custom_vjp`).

    `f.defvjp(fwd, bwd)` then registers the rule: `fwd(*args) -> (output, residuals)` runs in
    the primal sweep, `bwd(*nondiff_args, residuals, g)` in the adjoint sweep and returns a
    tuple with one cotangent per differentiable argument. Forward mode differentiates `f`'s
    own source. Calling `f` runs the function.

    Args:
        fun: The function. Left out, `custom_vjp(nondiff_argnums=...)` returns a decorator.
        nondiff_argnums: Positions of arguments that are not differentiated; `bwd` takes
            them first.

    Returns:
        A callable like `fun`, with the method `defvjp`. Without `fun`, a decorator making one.

    Raises:
        MissingRule: (when differentiated) no rule was given with `defvjp`.

    Examples:
        >>> import numpy as np
        >>> import s2sad
        >>> @s2sad.custom_vjp
        ... def clipped(x):
        ...     return x
        >>> def clipped_fwd(x):
        ...     return x, None
        >>> def clipped_bwd(residuals, g):  # the identity, its gradient clipped to [-1, 1]
        ...     return (np.clip(g, -1.0, 1.0),)
        >>> clipped.defvjp(clipped_fwd, clipped_bwd)
        >>> def f(x):
        ...     return 5.0 * clipped(x)
        >>> float(s2sad.grad(f)(2.0))
        1.0
    """
    if fun is None:
        return lambda f: custom_vjp(f, nondiff_argnums)
    return custom_vjp(fun, nondiff_argnums)


def stop_gradient(x: Any) -> Any:
    """`x`, with no derivative flowing through it, in either mode and at any order.

    Args:
        x: A value (a number, an array, a pytree).

    Returns:
        `x` itself; to s2sad, a constant.

    Examples:
        >>> import s2sad
        >>> def f(x):
        ...     return x * s2sad.stop_gradient(x)
        >>> s2sad.grad(f)(3.0)
        3.0
    """
    return x


nondiff(stop_gradient)


# ------------------------------------------------------------------ rules for library callables

_ADAPTERS = 0


def _adapter(kind: str, index: int, fn: Callable, params: list[str], op_name: str) -> Callable:
    """A template `d<p>`/`b<p>` whose body calls the user's function (so it reads as a rule)."""
    global _ADAPTERS
    _ADAPTERS += 1
    first = "d" + params[index] if kind == "d" else "g"
    args = ", ".join(params)
    callee = fn.__name__ if getattr(fn, "__name__", "").isidentifier() and fn.__name__ not in params else "rule"
    name = f"{op_name}_{'tangent' if kind == 'd' else 'adjoint'}_{params[index]}"
    source = f"def {name}({first}, out, {args}):\n    return {callee}({first}, out, {args})\n"
    return define(source, f"<s2sad custom rule {_ADAPTERS}>", {callee: fn}, [name])[0]


def _params_of(op: Callable, count: int, params: str | None) -> list[str]:
    if params:
        return [p.strip() for p in params.split(",")]
    return [f"x{i}" for i in range(count)]


def defjvp(op: Callable, *jvps: Callable | None, params: str | None = None) -> None:
    """Register forward-mode rules for a callable s2sad cannot read (a SciPy or compiled function).

    The rules serve both modes: reverse mode transposes them. They are registered where the
    built-in rules are, and derivatives that call `op` are rebuilt.

    Args:
        op: The callable.
        *jvps: One rule per argument, in order: `jvps[i](t, out, *args)` is the tangent
            contribution of argument i for its tangent `t`, `out` being `op`'s output; None
            for an argument with no derivative. Each is a `def`, so it can be differentiated
            again.
        params: The names of `op`'s arguments, `"a, b"` (default `x0, x1, ...`).

    Raises:
        S2SADError: More rules than `params` names.

    Examples:
        >>> import math
        >>> import numpy as np
        >>> import s2sad
        >>> cosine = np.vectorize(math.cos, otypes=[float])
        >>> def cosine_jvp(t, out, x):
        ...     return -t * np.sin(x)
        >>> s2sad.defjvp(cosine, cosine_jvp, params="x")
        >>> def f(x):
        ...     return cosine(x) * 2.0
        >>> value, tangent = s2sad.jvp(f, (0.5,), (1.0,))
        >>> round(float(tangent), 6)  # -2 sin(0.5)
        -0.958851
    """
    _define(op, "d", jvps, params)


def defvjp(op: Callable, *vjps: Callable | None, params: str | None = None) -> None:
    """Register reverse-mode rules for a callable s2sad cannot read (a SciPy or compiled function).

    An op with rules from `defvjp` alone cannot be used in forward mode (a `MissingRule`);
    `defjvp` serves both modes.

    Args:
        op: The callable.
        *vjps: One rule per argument, in order: `vjps[i](g, out, *args)` is the cotangent of
            argument i for the output's cotangent `g`, `out` being `op`'s output; None for an
            argument with no derivative.
        params: The names of `op`'s arguments, `"a, b"` (default `x0, x1, ...`).

    Raises:
        S2SADError: More rules than `params` names.

    Examples:
        >>> import math
        >>> import numpy as np
        >>> import s2sad
        >>> sine = np.vectorize(math.sin, otypes=[float])
        >>> def sine_vjp(g, out, x):
        ...     return g * np.cos(x)
        >>> s2sad.defvjp(sine, sine_vjp, params="x")
        >>> def f(x):
        ...     return np.sum(sine(x))
        >>> s2sad.grad(f)(np.array([0.0, np.pi]))
        array([ 1., -1.])
    """
    _define(op, "b", vjps, params)


def _define(op: Callable, kind: str, fns: tuple, params: str | None) -> None:
    names = _params_of(op, len(fns), params)
    if len(names) < len(fns):
        raise S2SADError(f"{getattr(op, '__name__', op)!r}: {len(fns)} rules for {len(names)} parameters {names}")
    op_name = getattr(op, "__name__", "op")
    templates = {names[i]: _adapter(kind, i, fn, names, op_name) for i, fn in enumerate(fns) if fn is not None}
    rule = lookup(op)
    if rule is None or rule.family != "custom":
        rule = _register(op, ", ".join(names), None, "custom")
    (rule.tangents if kind == "d" else rule.adjoints).update(templates)
    GENERATION[0] += 1
