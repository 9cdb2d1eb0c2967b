"""Core, generated source: define Python functions from source text under a `linecache` name.

Every function s2sad writes (derivative code, the small callers and adapters of custom rules)
is compiled under a pseudo-filename registered in `linecache`, so tracebacks, `inspect` and
debuggers show its lines and the pipeline can read it back in to differentiate it again.
"""

from __future__ import annotations

import linecache
import types


def register_source(filename: str, source: str) -> str:
    """Register `source` under `filename` (made unique if another source holds that name, so a
    derivative read back in is always its own code); the name used."""
    lines = source.splitlines(True)
    name, n = filename, 1
    while name in linecache.cache and linecache.cache[name][2] != lines:
        n += 1
        name = f"{filename[:-1]} #{n}>" if filename.endswith(">") else f"{filename} #{n}"
    linecache.cache[name] = (len(source), None, lines, name)
    return name


def define(source: str, filename: str, scope: dict, names: list[str] | None = None) -> list[types.FunctionType]:
    """Run `source` (which defines `names`) in `scope` under `filename`; the functions, in order
    (`names` None: every function the source defines)."""
    filename = register_source(filename, source)
    exec(compile(source, filename, "exec"), scope)  # noqa: S102 - source s2sad generated itself
    if names is None:
        return [v for v in scope.values() if isinstance(v, types.FunctionType) and v.__code__.co_filename == filename]
    return [scope[name] for name in names]
