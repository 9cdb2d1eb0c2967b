"""Stage 7, compile: generated source in, a function object out.

The source is compiled under a pseudo-filename registered in `linecache` (see
`core.source.define`), so tracebacks, `inspect.getsource` and debuggers show the generated
lines, and the pipeline can read the generated code back in to differentiate it again.
"""

from __future__ import annotations

import types

from s2sad.core.source import define, register_source

__all__ = ["compile_function", "compile_functions", "register_source"]


def compile_functions(source: str, namespace: dict, names: list[str], filename: str) -> list[types.FunctionType]:
    """Compile generated source defining `names`, in `namespace`; the functions, in order."""
    funs = define(source, filename, dict(namespace), names)
    for fun in funs:
        fun.__s2sad_generated__ = True
    return funs


def compile_function(source: str, namespace: dict, name: str, filename: str) -> types.FunctionType:
    return compile_functions(source, namespace, [name], filename)[0]
