"""Derivative rules, one module per family. Importing this package registers them all."""

from s2sad.rules import (  # noqa: F401,E501
    arith,
    containers,
    creation,
    elementwise,
    indexing,
    linalg,
    math_module,
    nondiff,
    reductions,
    runtime_rules,
    scipy_special,
    shape,
)
from s2sad.rules.registry import RULES, Rule, define, linear, lookup  # noqa: F401
