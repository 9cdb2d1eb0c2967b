"""The check a cached derivative makes on every call, compiled to one Python expression.

Generated code bakes in what it read when it was built: the rule registry's generation, the
globals, class attributes and closure variables it resolved (`Built.deps`), its function's
default values and its callees' entries. A call may use the code only while all of them are
the same objects. Checked in a loop, that costs a few hundred nanoseconds a call, a tenth of a
small scalar derivative; written out as one boolean expression over constants
(`G[0] == 3 and s0.get('math', M) is o0 and ...`) and compiled, about a hundred.
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable

from s2sad.core.targets import defaults_of
from s2sad.rules.registry import GENERATION

MISSING = object()
"""What a scope holds for a name it does not have."""

Guard = Callable[[], bool]


def current(scope: object, name: str) -> object:
    """What a global (scope a dict), a class attribute (scope a class) or a closure variable
    (scope a cell) holds now."""
    if isinstance(scope, dict):
        return scope.get(name, MISSING)
    if isinstance(scope, type):
        return inspect.getattr_static(scope, name, MISSING)
    try:
        return scope.cell_contents
    except ValueError:
        return MISSING


def same(now: tuple, then: tuple) -> bool:
    """The two tuples hold the same objects."""
    return len(now) == len(then) and all(a is b for a, b in zip(now, then))


def compile_guard(generation: int, deps: tuple[tuple[object, str, object], ...],
                  origin: types.FunctionType | None, defaults: tuple,
                  callees: tuple[tuple[object, types.FunctionType], ...]) -> Guard:
    """A function of no arguments that is true while `generation` is the registry's, every
    (scope, name, object) of `deps` still holds, `origin` has the `defaults` (compared by
    identity) and each (entry, function) of `callees` has `entry.valid_for(function)`."""
    env: dict[str, object] = {"G": GENERATION, "M": MISSING, "current": current, "same": same,
                              "defaults_of": defaults_of}
    terms = [f"G[0] == {generation!r}"]
    for i, (scope, name, obj) in enumerate(deps):
        env[f"s{i}"], env[f"o{i}"] = scope, obj
        read = f"s{i}.get({name!r}, M)" if type(scope) is dict else f"current(s{i}, {name!r})"
        terms.append(f"{read} is o{i}")
    if origin is not None:
        env["origin"], env["D"] = origin, defaults
        check = "same(defaults_of(origin), D)"
        terms.append(check if defaults else
                     f"(origin.__defaults__ is None and origin.__kwdefaults__ is None or {check})")
    for i, (entry, fun) in enumerate(callees):
        env[f"c{i}"], env[f"f{i}"] = entry, fun
        terms.append(f"c{i}.valid_for(f{i})")
    exec(f"def guard():\n    return {' and '.join(terms)}\n", env)  # noqa: S102 - our own expression
    return env["guard"]
