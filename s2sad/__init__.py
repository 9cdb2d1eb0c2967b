"""s2sad: source-to-source automatic differentiation for Python and NumPy."""

from s2sad import rules as _rules  # noqa: F401  (registers the derivative rules)
from s2sad.api import grad, jvp, show, value_and_grad, vjp
from s2sad.higher import elementwise_grad, hessian, hvp, jacfwd, jacobian, jacrev
from s2sad.errors import (
    ArgnumsError,
    IntegerArgument,
    MissingRule,
    NonScalarOutput,
    NoSource,
    S2SADError,
    UnsupportedSyntax,
)

__version__ = "0.1.0"

__all__ = [
    "grad", "value_and_grad", "jvp", "vjp", "show",
    "jacfwd", "jacrev", "jacobian", "hessian", "hvp", "elementwise_grad",
    "S2SADError", "UnsupportedSyntax", "NoSource", "MissingRule", "NonScalarOutput",
    "IntegerArgument", "ArgnumsError",
]
