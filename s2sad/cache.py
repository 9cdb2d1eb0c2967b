"""Stage 8, cache: transform once, call many times.

The key covers what can change the generated code: the function's code object, the request
(mode, arguments differentiated, options). Each entry also remembers the global names it
resolved and the objects they were bound to; an entry whose globals were rebound is rebuilt.
The cache is safe under threads: a lock guards building and storing.
"""

from __future__ import annotations

import threading

from s2sad.parse import self_class, unwrap
from s2sad.pipeline import Built, Request, build
from s2sad.rules.registry import GENERATION

_LOCK = threading.RLock()
_ENTRIES: dict[tuple, Built] = {}


def key(fun: object, request: Request) -> tuple:
    plain = unwrap(fun)
    cells = tuple(id(cell) for cell in plain.__closure__ or ())  # kept alive by the entry's deps
    return (plain.__code__, id(plain.__globals__), cells, request, GENERATION[0], self_class(fun))


def get(fun: object, request: Request) -> Built:
    k = key(fun, request)
    built = _ENTRIES.get(k)
    if built is not None and built.still_valid():
        return built
    with _LOCK:
        built = _ENTRIES.get(k)
        if built is None or not built.still_valid():
            built = build(fun, request)
            _ENTRIES[k] = built
        return built


def clear() -> None:
    with _LOCK:
        _ENTRIES.clear()
