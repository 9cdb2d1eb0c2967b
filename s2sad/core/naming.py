"""Deterministic, readable names: `t1` for temporaries, `dx`/`bx` for derivatives.

No random or uuid parts, so the same input always gives byte-identical source. A name is
never one the user's function already uses.
"""

from __future__ import annotations

import builtins
import keyword
from collections.abc import Iterable

import numpy as np

from s2sad import runtime
from s2sad.core.ir import Ref


class Namer:
    def __init__(self, taken: Iterable[str] = ()) -> None:
        self.taken: set[str] = set(taken)
        self.given: frozenset[str] = frozenset(self.taken)
        """The names taken before any was made: the user's (a name not in it is s2sad's own)."""
        self.counters: dict[str, int] = {}
        self.temps: set[str] = set()
        """Names made by `temp`: emission may fold them into the expression that reads them."""

    def reserve(self, name: str) -> str:
        self.taken.add(name)
        return name

    def fresh(self, base: str) -> str:
        """`base` itself when free, else `base_1`, `base_2`, ..."""
        if base not in self.taken and not keyword.iskeyword(base):
            return self.reserve(base)
        n = self.counters.get(base, 0)
        while True:
            n += 1
            candidate = f"{base}_{n}"
            if candidate not in self.taken:
                self.counters[base] = n
                return self.reserve(candidate)

    def temp(self, prefix: str = "t") -> str:
        """A numbered temporary: t1, t2, ..."""
        n = self.counters.get("#" + prefix, 0)
        while True:
            n += 1
            candidate = f"{prefix}{n}"
            if candidate not in self.taken:
                self.counters["#" + prefix] = n
                self.temps.add(candidate)
                return self.reserve(candidate)

    def derived(self, prefix: str, name: str, suffix: str = "") -> str:
        """`dx` for the tangent of `x`, `bx` for its adjoint, `x_c` for its Taylor coefficients."""
        return self.fresh(prefix + name + suffix)


def numpy_ref(name: str) -> Ref:
    """A reference to `numpy.<name>` spelled `np.<name>`."""
    obj = np
    for part in name.split("."):
        obj = getattr(obj, part)
    return Ref(obj, ("np", *name.split(".")), np)


def runtime_ref(name: str) -> Ref:
    """A reference to a helper in `s2sad.runtime`, spelled by its bare name."""
    return Ref(getattr(runtime, name), (name,))


def builtin_ref(name: str) -> Ref:
    """A reference to a builtin (`len`, `range`), spelled by its name."""
    return Ref(getattr(builtins, name), (name,))


def spelled_name(obj: object) -> str:
    """A function's `__name__` where it is an identifier (`<lambda>` is spelled `lambda_`)."""
    name = getattr(obj, "__name__", "f")
    if not isinstance(name, str) or not name.isidentifier():
        return "lambda_" if name == "<lambda>" else "f"
    return name
