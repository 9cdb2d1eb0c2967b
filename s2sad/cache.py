"""Stage 8, cache: transform once, call many times; and the lookup of callees' derivatives.

The key covers what can change the generated code: the function's code object, its globals,
closure cells and default values, the class of a bound `self`, the call shape of a function
with `*args`, and the request (mode,
arguments differentiated, kinds, options). A function with default values is keyed by its own
identity (the entry keeps it alive): its defaults are baked into the generated code, and may
be arrays, which have no value to hash. Each entry also remembers the global and closure names
it resolved and the objects they were bound to, the defaults it was built with and the entries
of the callees (and inner derivatives) it was built from; an entry any of those changed under
is rebuilt. The cache is safe under threads: a lock guards building and storing.

`derive` is what the cache hands the pipeline for calls to user functions: it looks up (or
builds) a callee's derivative, and while a derivative is being built on this thread, a call
to it (recursion) gets a `Deferred` stub that looks it up when first called.
"""

from __future__ import annotations

import gc
import threading
import types

from s2sad.core.modes import FUN
from s2sad.core.targets import Target, target_of
from s2sad.pipeline import Built, Request, build
from s2sad.rules.registry import GENERATION

_LOCK = threading.RLock()
_ENTRIES: dict[tuple, Built] = {}
_USED = threading.local()
"""Per thread, a stack of lists: the entries (with the functions they were looked up for) each
build in progress has used."""
_BUILDING = threading.local()
"""Per thread, the keys of the entries being built (a call to one of them is recursion)."""


def key(fun: Target | object, request: Request) -> tuple:
    target = target_of(fun)
    return _key(target, target.plain, request)


def _key(target: Target, plain: types.FunctionType, request: Request) -> tuple:
    cells = tuple(id(cell) for cell in plain.__closure__ or ())  # kept alive by the entry's deps
    own = id(plain) if plain.__defaults__ or plain.__kwdefaults__ else None  # kept alive by `Built.origin`
    return (plain.__code__, id(plain.__globals__), cells, own, request, GENERATION[0], target.self_class,
            target.known, target.shape)


def note(built: Built, plain: types.FunctionType) -> None:
    """Record that the build in progress on this thread (if any) uses `built`, made for the
    function `plain`: it is valid only while `built` is valid for `plain` (see `Built.valid_for`)."""
    stack = getattr(_USED, "stack", None)
    if stack:
        stack[-1].append((built, plain))


class collecting:  # noqa: N801 - a context manager, used like a function
    """Context manager collecting the entries a build uses (see `note`)."""

    def __enter__(self) -> list[tuple[Built, types.FunctionType]]:
        if not hasattr(_USED, "stack"):
            _USED.stack = []
        _USED.stack.append([])
        return _USED.stack[-1]

    def __exit__(self, *exc) -> None:
        _USED.stack.pop()


class building:  # noqa: N801
    """Context manager: marks a cache key as being built on this thread."""

    def __init__(self, key: tuple) -> None:
        self.key = key

    def __enter__(self) -> None:
        if not hasattr(_BUILDING, "keys"):
            _BUILDING.keys = set()
        _BUILDING.keys.add(self.key)

    def __exit__(self, *exc) -> None:
        _BUILDING.keys.discard(self.key)


def get(fun: Target | object, request: Request) -> Built:
    target = target_of(fun)
    plain = target.plain
    return _get(target, plain, _key(target, plain, request), request)


class _no_collection:  # noqa: N801 - a context manager, used like a function
    """The cyclic garbage collector paused while a derivative is built: a build makes many
    small objects that live until it ends, and collecting them on the way costs a fifth of a
    long function's build. Nested builds (callees) leave it to the outermost."""

    def __enter__(self) -> None:
        self.was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc) -> None:
        if self.was_enabled:
            gc.enable()


def _get(target: Target, plain: types.FunctionType, k: tuple, request: Request) -> Built:
    built = _ENTRIES.get(k)
    if built is None or not built.still_valid():
        with _LOCK:
            built = _ENTRIES.get(k)
            if built is None or not built.still_valid():
                with collecting() as used, building(k), _no_collection():
                    built = build(target, request, derive)
                built.depends_on(tuple({(id(b), id(f)): (b, f) for b, f in used if b is not built}.values()))
                _ENTRIES[k] = built
    note(built, plain)
    return built


def derive(fun: object, mode: str, wrt: tuple[str, ...], part: str = FUN,
           backend: str = "python") -> tuple[object, Built | None]:
    """The compiled derivative of callee `fun` (its `part`: "fun", or "bwd" for a vjp's adjoint
    sweep) and its entry; a `Deferred` stub and None while it is being built on this thread.
    `backend`: the caller's (a Numba-compiled derivative calls callees' compiled derivatives)."""
    target = target_of(fun)
    plain = target.plain
    request = Request(mode, wrt, single=False, backend=backend)
    k = _key(target, plain, request)
    if k in getattr(_BUILDING, "keys", set()):
        return Deferred(target, request, part), None
    built = _get(target, plain, k, request)
    return (built.fun if part == FUN else built.bwd), built


class Deferred:
    """Stands for a derivative that is being built (a recursive call): built on first call."""

    def __init__(self, target: Target, request: Request, part: str) -> None:
        self.target, self.request, self.part = target, request, part

    @property
    def __s2sad_source_function__(self):
        """The derivative it stands for (built by now), so generated code can be differentiated."""
        built = get(self.target, self.request)
        return built.fun if self.part == FUN else built.bwd

    def __call__(self, *args, **kwargs):
        return self.__s2sad_source_function__(*args, **kwargs)


def clear() -> None:
    with _LOCK:
        _ENTRIES.clear()
