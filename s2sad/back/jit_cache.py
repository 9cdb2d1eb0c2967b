"""Numba's on-disk cache for the Numba backend, only where the user asks (`cache_dir=`).

Numba caches the machine code of a function defined in a file, next to it, keyed by the file
and the argument types; it bakes the values of the globals the code reads into that machine
code. So the generated source is written to `cache_dir/s2sad_<key>.py`, whose key covers all
that the machine code depends on: the source, each global it reads (a module by name, a
number or string by value, an array by its bytes, a function or class by its module and name),
the Numba implementations of s2sad's helpers (their files' bytes), and the versions of Numba
and Python. A derivative whose globals cannot be described so (an object, another
derivative it calls) is compiled in memory only: no stale machine code is ever loaded.
"""

from __future__ import annotations

import hashlib
import os
import sys
import types
from pathlib import Path

import numpy as np

from s2sad.back import jit_helpers, jit_reductions


def cached_source(cache_dir: str, source: str, namespace: dict, numba_version: str) -> Path | None:
    """The file holding `source` under `cache_dir` (written if new), or None where the code
    reads a global whose value cannot be part of the key."""
    described = _describe_namespace(namespace)
    if described is None:
        return None
    parts = [source, described, _implementations(), numba_version, sys.version]
    path = Path(cache_dir) / f"s2sad_{hashlib.sha256(chr(0).join(parts).encode()).hexdigest()[:32]}.py"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.stem}.{os.getpid()}.tmp")
        partial.write_text(source)
        os.replace(partial, path)  # whole or not at all, also beside another process
    return path


def _describe_namespace(namespace: dict) -> str | None:
    lines = []
    for name in sorted(namespace):
        if name == "__builtins__":
            continue
        described = _describe(namespace[name])
        if described is None:
            return None
        lines.append(f"{name} = {described}")
    return "\n".join(lines)


def _describe(value: object) -> str | None:
    if isinstance(value, types.ModuleType):
        return f"module {value.__name__}"
    if value is None or type(value) in (bool, int, float, complex, str):
        return f"{type(value).__name__} {value!r}"
    if type(value) is np.ndarray:
        return f"array {value.dtype} {value.shape} {hashlib.sha256(value.tobytes()).hexdigest()}"
    if type(value) is tuple:
        items = [_describe(v) for v in value]
        return None if None in items else "(" + ", ".join(items) + ")"  # type: ignore[arg-type]
    if isinstance(value, type):
        return f"class {value.__module__}.{value.__qualname__}"
    if isinstance(value, (types.FunctionType, types.BuiltinFunctionType, np.ufunc)) and not hasattr(
            value, "__s2sad_generated__"):
        return f"function {getattr(value, '__module__', None)}.{getattr(value, '__qualname__', value.__name__)}"
    return None


def as_module(path: Path, namespace: dict) -> dict:
    """The namespace the cached file's functions are defined in, as the module `s2sad_<key>`
    (in `sys.modules`: Numba imports a cached function's module by name when it loads it)."""
    module = sys.modules.get(path.stem)
    if module is None:
        module = types.ModuleType(path.stem)
        module.__file__ = str(path)
        sys.modules[path.stem] = module
    module.__dict__.update(namespace)
    return module.__dict__


_IMPLEMENTATIONS: list[str] = []


def _implementations() -> str:
    """A digest of the files that give s2sad's helpers their Numba implementations."""
    if not _IMPLEMENTATIONS:
        digest = hashlib.sha256()
        for module in (jit_helpers, jit_reductions):
            digest.update(Path(module.__file__).read_bytes())
        _IMPLEMENTATIONS.append(digest.hexdigest())
    return _IMPLEMENTATIONS[0]
