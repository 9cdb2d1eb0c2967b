"""Core, generated source: define Python functions from source text under a `linecache` name.

Every function s2sad writes (derivative code, the small callers and adapters of custom rules)
is compiled under a pseudo-filename registered in `linecache`, so tracebacks, `inspect` and
debuggers show its lines and the pipeline can read it back in to differentiate it again.
"""

from __future__ import annotations

import inspect
import linecache
import os
import sys
import traceback
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


def source_lines(fun: types.FunctionType) -> tuple[list[str], int]:
    """The lines of `fun`'s definition and the number of its first line, as
    `inspect.getsourcelines(fun.__code__)` gives them (not a decorator's `__wrapped__`), found
    from the code's own file and line. `inspect` first looks for the module a code object
    belongs to by going through every module imported, a few milliseconds a call where many
    are (SciPy, Numba, Dask): most of a small derivative's build. OSError where there is no
    source."""
    code = fun.__code__
    filename = code.co_filename
    if not (filename.startswith("<") and filename.endswith(">")) and not os.path.exists(filename) and \
            filename not in linecache.cache:
        raise OSError("source code not available")
    linecache.checkcache(filename)
    lines = linecache.getlines(filename, fun.__globals__)
    first = code.co_firstlineno - 1
    if not lines:
        raise OSError("could not get source code")
    if first >= len(lines):
        raise OSError("lineno is out of bounds")
    return inspect.getblock(lines[first:]), first + 1


def define(source: str, filename: str, scope: dict, names: list[str] | None = None) -> list[types.FunctionType]:
    """Run `source` (which defines `names`) in `scope` under `filename`; the functions, in order
    (`names` None: every function the source defines)."""
    filename = register_source(filename, source)
    exec(compile(source, filename, "exec"), scope)  # noqa: S102 - source s2sad generated itself
    if names is None:
        return [v for v in scope.values() if isinstance(v, types.FunctionType) and v.__code__.co_filename == filename]
    return [scope[name] for name in names]


def print_generated_lines() -> None:
    """Before Python 3.13 the interpreter prints an uncaught error's traceback without the lines
    of code compiled from text, although `linecache` holds them (3.13 prints them). Where the
    default hook is in place, an error whose traceback passes through s2sad's generated code is
    printed by the `traceback` module, which reads `linecache`, so its generated lines show."""
    if sys.version_info < (3, 13) and sys.excepthook is sys.__excepthook__:
        sys.excepthook = _excepthook


def _excepthook(kind: type[BaseException], err: BaseException, tb: types.TracebackType | None) -> None:
    if _through_generated(err, set()):
        traceback.print_exception(kind, err, tb)
    else:
        sys.__excepthook__(kind, err, tb)


def _through_generated(err: BaseException | None, seen: set[int]) -> bool:
    """Whether `err`'s traceback, or one of the errors chained to it, runs through code s2sad
    compiled (a `<s2sad ...>` pseudo-filename)."""
    if err is None or id(err) in seen:
        return False
    seen.add(id(err))
    tb = err.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.startswith("<s2sad"):
            return True
        tb = tb.tb_next
    return _through_generated(err.__cause__, seen) or _through_generated(err.__context__, seen)
