"""s2sad: source-to-source automatic differentiation for Python and NumPy."""

from s2sad import rules as _rules  # noqa: F401  (registers the derivative rules)
from s2sad.api import derivatives, grad, jvp, show, taylor, value_and_grad, vjp
from s2sad.cache import derive as _derive
from s2sad.core.source import print_generated_lines as _print_generated_lines
from s2sad.custom import checkpoint, defjvp, defvjp, stop_gradient
from s2sad.custom import custom_jvp_decorator as custom_jvp
from s2sad.custom import custom_vjp_decorator as custom_vjp
from s2sad.errors import (
    ArgnumsError,
    BackendError,
    CotangentError,
    ExportError,
    IntegerArgument,
    MissingRule,
    NonScalarOutput,
    NoSource,
    S2SADError,
    UnsupportedSyntax,
    UnsupportedValue,
    UsageError,
)
from s2sad.export import export
from s2sad.higher import elementwise_grad, hessian, hessp, hvp, jacfwd, jacobian, jacrev
from s2sad.runtime.dispatch import register_derive as _register_derive
from s2sad.version import __version__ as __version__

_register_derive(_derive)  # calls of function values look their derivative up when they run
_print_generated_lines()  # (Python 3.11 and 3.12) uncaught errors show the generated code's lines


__all__ = [
    "grad", "value_and_grad", "jvp", "vjp", "taylor", "derivatives", "show", "export",
    "jacfwd", "jacrev", "jacobian", "hessian", "hvp", "hessp", "elementwise_grad",
    "custom_jvp", "custom_vjp", "defjvp", "defvjp", "stop_gradient", "checkpoint",
    "S2SADError", "UnsupportedSyntax", "NoSource", "MissingRule", "NonScalarOutput",
    "IntegerArgument", "ArgnumsError", "CotangentError", "UnsupportedValue", "UsageError",
    "ExportError", "BackendError",
]
