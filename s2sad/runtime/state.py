"""Runtime, names the function declares `global` and assigns: module state it keeps.

`global n; n += 1` (an evaluation counter, a cache of the last point) reads the module's `n`
where the `global` statement stands (`global_value`) and writes it back after each assignment
(`set_global`), in the function and in its derivative code alike. A global carries no
derivative: what the function computes from it, it computes from a constant.
"""

from __future__ import annotations

from s2sad.errors import UnsupportedValue
from s2sad.runtime.containers import copy_value


def global_value(scope: dict, name: str):
    """The module's `name` now (`scope` is the function's globals)."""
    try:
        return scope[name]
    except KeyError:
        raise UnsupportedValue(f"name {name!r} is not defined (global)",
                               hint=f"assign {name} at module level before the function runs") from None


def set_global(scope: dict, name: str, value) -> None:
    """`name = value` in the module (after an assignment to a name declared `global`). An array
    or container is stored as a copy: the derivative code may hand on an argument itself where
    the function made a new array (`x * 1.0`), and the module must not hold the caller's array."""
    scope[name] = copy_value(value)


__all__ = ["global_value", "set_global"]
