"""Complex intermediates: whether a function may compute complex values from real ones.

Reverse mode asks it (`may_be_complex`) before it forms the gradient of each real argument: a
complex cotangent can reach a real variable (the adjoint of `x * 1j` is `g * 1j`), and under the
pairing <a, b> = Re(sum(a * b)) (docs/conventions.md, "Complex values") only its real part
counts, so the gradient is `real_like(g, x)`. Functions that show no sign of complex values
keep their derivative code as it was. The signs: a complex constant or global value, a complex
dtype, np.fft's transforms, the ops that take complex values apart (np.real, np.imag,
np.conj, np.angle), and the helpers of their rules (`s2sad.runtime.complexes`).
"""

from __future__ import annotations

import numpy as np

from s2sad.core import ir

COMPLEX_OPS = frozenset(map(id, (np.real, np.imag, np.conj, np.conjugate, np.angle, complex)))


def may_be_complex(fn: ir.Function) -> bool:
    """Whether `fn` shows a sign of complex values (see the module docstring)."""
    return any(_complex(value) for stmt in ir.walk(fn.body) for value in vars(stmt).values())


def _complex(node: object) -> bool:
    if isinstance(node, ir.Const):
        return _complex_value(node.value)
    if isinstance(node, ir.Ref):
        return _complex_value(node.value) or _complex_op(node.value)
    if isinstance(node, ir.Call):
        return _complex(node.op) or any(_complex(a) for a in node.args) or any(_complex(v) for _, v in node.kwargs)
    if isinstance(node, (ir.Pack, tuple, list)):
        return any(_complex(item) for item in getattr(node, "items", node))
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
    return module.startswith("numpy.fft") and not getattr(op, "__name__", "").endswith(("shift", "freq"))
