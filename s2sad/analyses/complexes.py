"""Complex intermediates: whether a function may compute complex values from real ones.

Reverse mode asks it (`may_be_complex`) before it forms the gradient of each real argument: a
complex cotangent can reach a real variable (the adjoint of `x * 1j` is `g * 1j`), and under the
pairing <a, b> = Re(sum(a * b)) (docs/conventions.md, "Complex values") only its real part
counts, so the gradient is `real_like(g, x)`. Functions that show no sign of complex values
keep their derivative code as it was. The signs: a complex constant or global value, a complex
dtype, np.fft's transforms, the ops that take complex values apart (np.real, np.imag,
np.conj, np.angle), the helpers of their rules (`s2sad.runtime.complexes`), and a call of a
function of the user's (or of derivative code s2sad made) whose code shows one of these signs,
or calls one that does (read from its code object: its constants, the names it reads, the
globals and closure cells they hold), or of a function value known only when the code runs
(which may return anything): a complex value made in a helper reaches the caller's reals.
"""

from __future__ import annotations

import types

import numpy as np

from s2sad.core import ir

COMPLEX_OPS = frozenset(map(id, (np.real, np.imag, np.conj, np.conjugate, np.angle, complex)))


def may_be_complex(fn: ir.Function) -> bool:
    """Whether `fn` shows a sign of complex values (see the module docstring)."""
    refs: dict[int, bool] = {}  # by the id of a value the IR holds (alive while this runs)
    return any(_complex(_value_of(stmt), refs) for stmt in ir.walk(fn.body))


def _value_of(stmt: ir.Stmt) -> object:
    """The expression a statement holds (the others hold names, statements and settings)."""
    kind = type(stmt)
    if kind is ir.Assign or kind is ir.Return:
        return stmt.value
    if kind is ir.If or kind is ir.While:
        return stmt.test
    return stmt.iter if kind is ir.For else None


def _complex(node: object, refs: dict[int, bool]) -> bool:
    kind = type(node)
    if kind is ir.Var:
        return False
    if kind is ir.Const:
        return _complex_value(node.value)
    if kind is ir.Ref:
        key = id(node.value)
        if key not in refs:
            refs[key] = _complex_value(node.value) or _complex_op(node.value)
        return refs[key]
    if kind is ir.Call:
        return (_complex(node.op, refs) or any(type(a) is not ir.Var and _complex(a, refs) for a in node.args)
                or any(_complex(v, refs) for _, v in node.kwargs))
    if kind is ir.Pack or kind is tuple or kind is list:
        return any(_complex(item, refs) for item in getattr(node, "items", node))
    return False


def _complex_value(value: object) -> bool:
    if isinstance(value, (complex, np.complexfloating)):
        return True
    if isinstance(value, np.ndarray):
        return value.dtype.kind == "c"
    return isinstance(value, type) and issubclass(value, (complex, np.complexfloating))


def _complex_op(op: object) -> bool:
    if id(op) in COMPLEX_OPS:
        return True
    module = getattr(op, "__module__", None) or ""
    if module == "s2sad.runtime.complexes":  # the helpers of the rules below, in derivative code
        return True
    if module == "s2sad.runtime.dispatch" and getattr(op, "__name__", "") == "call_value":
        return True  # a function value: what it returns is known only when it runs
    if module.startswith("numpy.fft"):
        return not getattr(op, "__name__", "").endswith(("shift", "freq"))
    return _code_shows_complex(getattr(op, "__func__", op), {})


COMPLEX_NAMES = frozenset({"fft", "real", "imag", "conj", "conjugate", "angle", "complex", "complex64",
                           "complex128", "csingle", "cdouble", "clongdouble", "complexfloating", "call_value",
                           "real_like", "abs_unit", "angle_unit"})
"""Names whose reading in a function's code is a sign of complex values."""

_SHOWN: dict[types.CodeType, bool] = {}


def _code_shows_complex(fun: object, seen: dict) -> bool:
    """Whether the code of a Python function (not a library's or s2sad's own) shows a sign."""
    code = getattr(fun, "__code__", None)
    module = getattr(fun, "__module__", None) or ""
    if not isinstance(code, types.CodeType) or module.partition(".")[0] in ("numpy", "scipy", "s2sad"):
        return False
    if code in _SHOWN:
        return _SHOWN[code]
    if code in seen:
        return False  # recursion: what it shows, the first visit finds
    seen[code] = True
    consts, names = _code_parts(code)
    cells = [c.cell_contents for c in getattr(fun, "__closure__", None) or () if _filled(c)]
    held = [getattr(fun, "__globals__", {}).get(n) for n in names] + cells
    shown = (any(isinstance(c, complex) for c in consts) or bool(names & COMPLEX_NAMES)
             or any(_complex_value(v) or _code_shows_complex(v, seen) for v in held))
    _SHOWN[code] = shown
    return shown


def _code_parts(code: types.CodeType) -> tuple[list, set[str]]:
    """The constants and names of a code object and of the code objects nested in it."""
    consts, names = list(code.co_consts), set(code.co_names)
    for inner in code.co_consts:
        if isinstance(inner, types.CodeType):
            more, more_names = _code_parts(inner)
            consts += more
            names |= more_names
    return consts, names


def _filled(cell) -> bool:
    try:
        _ = cell.cell_contents
    except ValueError:
        return False
    return True
