"""Realistic programs s2sad differentiates, one module each (tests/test_programs.py checks them),
and `slopes`, the derivative of a function by both modes, for tests against closed forms."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

import s2sad


def slopes(fun: Callable, args: Sequence, argnum: int = 0) -> tuple[object, object]:
    """d fun / d args[argnum] (a float) by reverse mode (`grad`) and by forward mode (`jvp` with
    a unit tangent); the other arguments are held constant."""
    reverse = s2sad.grad(fun, argnums=argnum)(*args)
    tangents = [1.0 if i == argnum else np.zeros_like(a) if isinstance(a, np.ndarray) else 0.0 * a
                for i, a in enumerate(args)]
    _, forward = s2sad.jvp(fun, tuple(args), tuple(tangents))
    return reverse, forward
