"""Stage 7, compile: generated source in, a function object out.

The source is compiled under a pseudo-filename registered in `linecache`, so tracebacks,
`inspect.getsource` and debuggers show the generated lines, and the pipeline can read the
generated code back in to differentiate it again.
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


def compile_functions(source: str, namespace: dict, names: list[str], filename: str) -> list[types.FunctionType]:
    """Compile generated source defining `names`, in `namespace`; the functions, in order."""
    filename = register_source(filename, source)
    code = compile(source, filename, "exec")
    scope = dict(namespace)
    exec(code, scope)  # noqa: S102 - our own generated code
    funs = [scope[name] for name in names]
    for fun in funs:
        fun.__s2sad_generated__ = True
    return funs


def compile_function(source: str, namespace: dict, name: str, filename: str) -> types.FunctionType:
    return compile_functions(source, namespace, [name], filename)[0]
