"""Stage 4, the shape every transform has: `transform(primal, ctx) -> derivative`.

A transform is one module with one entry point, `transform(primal: ir.Function, ctx:
TransformContext) -> ir.Function`, registered by mode in `pipeline.TRANSFORMS`. It receives the
lowered primal function (sequence ops made explicit, a `has_aux` output paired) and a context:
the request it builds for, the activity table of the primal, the namer that gives every new
name, the names that may hold containers, and `derive`, through which the derivative of a
callee (a user function called from the primal) is looked up or built. It returns the
derivative as one IR function; the pipeline verifies it, splits a `vjp` into its two sweeps,
optimizes, emits and compiles it.

`derive` is the pipeline's: the cache hands it down, so no transform imports the cache or the
pipeline. While a transform runs, `deriving` makes it the one `calls.derivative` uses (rules
deep inside a transform, a tangent rule transposed for reverse mode, reach it there).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from dataclasses import dataclass

from s2sad.analyses.activity import Activity
from s2sad.core import ir
from s2sad.core.naming import Namer

Derive = Callable[[object, str, tuple, str], tuple[object, object]]
"""`derive(fun, mode, wrt, part) -> (code, built)`: the compiled derivative of callee `fun`
(its `part`, "fun" or "bwd"), or a stub standing for it while it is being built (then
`built` is None)."""


@dataclass(frozen=True)
class Request:
    """What the generated code depends on besides the function itself."""

    mode: str
    wrt: tuple[str, ...]
    single: bool = True
    optimize: bool = True
    kinds: tuple[str | None, ...] | None = None
    """Per parameter: "scalar", "array" or None (unknown); the code is specialised to them."""
    has_aux: bool = False
    """The function returns `(output, aux)`; only the output is differentiated."""
    shapes: tuple[tuple | str | None, ...] | None = None
    """Per parameter: the shape of an array argument, `shapes.NUMBER` for a Python float or int
    (None for anything else); the code is specialised to them, so broadcasting is decided when
    it is built (see `analyses.shapes`) and Python numbers need no helper (`analyses.numbers`)."""
    backend: str = "python"
    """"python" (the generated code runs as Python and NumPy) or "numba" (compiled by Numba,
    see `back.jit`)."""
    cache_dir: str | None = None
    """With the Numba backend: the folder of Numba's on-disk cache (see `back.jit_cache`)."""
    inline: bool = False
    """The user's helper functions of the function's module inlined (see `front.inline`): the
    Numba backend's code, and the gradient its Hessians and Hessian products differentiate."""


@dataclass(frozen=True)
class TransformContext:
    """What a transform receives besides the primal function."""

    request: Request
    activity: Activity
    namer: Namer
    containers: frozenset[str]
    """Names that may hold a container (a list, a tuple, a dict...), not a number or an array."""
    derive: Derive


Transform = Callable[[ir.Function, TransformContext], ir.Function]

_DERIVE: contextvars.ContextVar[Derive | None] = contextvars.ContextVar("s2sad_derive", default=None)


class deriving:  # noqa: N801 - a context manager, used like a function
    """Within it, `current_derive()` is `derive` (the pipeline runs each transform in one)."""

    def __init__(self, derive: Derive) -> None:
        self.derive = derive

    def __enter__(self) -> None:
        self.token = _DERIVE.set(self.derive)

    def __exit__(self, *exc) -> None:
        _DERIVE.reset(self.token)


def current_derive() -> Derive:
    derive = _DERIVE.get()
    if derive is None:
        raise RuntimeError("s2sad internal error: a callee's derivative was asked for outside a transform")
    return derive
