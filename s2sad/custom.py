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
    """Calls to `checkpoint(fun)` are recomputed in the adjoint sweep instead of recorded."""

    __s2sad_rule__ = "checkpoint"

    def __init__(self, fun: Callable) -> None:
        self.fun = fun
        functools.update_wrapper(self, fun)

    def __call__(self, *args, **kwargs):
        return self.fun(*args, **kwargs)


def custom_jvp_decorator(fun: Callable | None = None, *,
                         nondiff_argnums: tuple[int, ...] = ()) -> custom_jvp | Callable[[Callable], custom_jvp]:
    if fun is None:
        return lambda f: custom_jvp(f, nondiff_argnums)
    return custom_jvp(fun, nondiff_argnums)


def custom_vjp_decorator(fun: Callable | None = None, *,
                         nondiff_argnums: tuple[int, ...] = ()) -> custom_vjp | Callable[[Callable], custom_vjp]:
    if fun is None:
        return lambda f: custom_vjp(f, nondiff_argnums)
    return custom_vjp(fun, nondiff_argnums)


def stop_gradient(x: Any) -> Any:
    """`x`, with no derivative flowing through it."""
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
    """Register forward-mode rules for `op`: `jvps[i](t_i, out, *args)` per argument."""
    _define(op, "d", jvps, params)


def defvjp(op: Callable, *vjps: Callable | None, params: str | None = None) -> None:
    """Register reverse-mode rules for `op`: `vjps[i](g, out, *args)` per argument."""
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
