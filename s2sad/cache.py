"""Stage 8, cache: transform once, call many times.

The key covers what can change the generated code: the function's code object, its globals,
closure cells and default values, the class of a bound `self`, and the request (mode,
arguments differentiated, kinds, options). A function with default values is keyed by its own
identity (the entry keeps it alive): its defaults are baked into the generated code, and may
be arrays, which have no value to hash. Each entry also remembers the global and closure names
it resolved and the objects they were bound to, the defaults it was built with and the entries
of the callees (and inner derivatives) it was built from; an entry any of those changed under
is rebuilt. The cache is safe under threads: a lock guards building and storing.
"""

from __future__ import annotations

import threading
import types

from s2sad.front.parse import self_class, unwrap
from s2sad.pipeline import Built, Request, build
from s2sad.rules.registry import GENERATION

_LOCK = threading.RLock()
_ENTRIES: dict[tuple, Built] = {}
_USED = threading.local()
"""Per thread, a stack of lists: the entries (with the functions they were looked up for) each
build in progress has used."""


def key(fun: object, request: Request) -> tuple:
    return _key(unwrap(fun), fun, request)


def _key(plain: types.FunctionType, fun: object, request: Request) -> tuple:
    cells = tuple(id(cell) for cell in plain.__closure__ or ())  # kept alive by the entry's deps
    own = id(plain) if plain.__defaults__ or plain.__kwdefaults__ else None  # kept alive by `Built.origin`
    return (plain.__code__, id(plain.__globals__), cells, own, request, GENERATION[0], self_class(fun))


def note(built: Built, plain: types.FunctionType) -> None:
    """Record that the build in progress on this thread (if any) uses `built`, made for the
    function `plain`: it is valid only while `built` is valid for `plain` (see `Built.valid_for`)."""
    stack = getattr(_USED, "stack", None)
    if stack:
        stack[-1].append((built, plain))


class collecting:
    """Context manager collecting the entries a build uses (see `note`)."""

    def __enter__(self) -> list[tuple[Built, types.FunctionType]]:
        if not hasattr(_USED, "stack"):
            _USED.stack = []
        _USED.stack.append([])
        return _USED.stack[-1]

    def __exit__(self, *exc) -> None:
        _USED.stack.pop()


def get(fun: object, request: Request) -> Built:
    plain = unwrap(fun)
    k = _key(plain, fun, request)
    built = _ENTRIES.get(k)
    if built is None or not built.still_valid():
        with _LOCK:
            built = _ENTRIES.get(k)
            if built is None or not built.still_valid():
                with collecting() as used:
                    built = build(fun, request)
                built.callees = tuple({(id(b), id(f)): (b, f) for b, f in used if b is not built}.values())
                _ENTRIES[k] = built
    note(built, plain)
    return built


def clear() -> None:
    with _LOCK:
        _ENTRIES.clear()
