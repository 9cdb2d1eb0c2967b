"""Derivative rules, one module per family. Importing this package registers them all."""

from s2sad.rules import arith, containers, creation, elementwise, indexing, linalg, nondiff, reductions, runtime_rules, shape  # noqa: F401,E501
from s2sad.rules.registry import RULES, Rule, define, linear, lookup  # noqa: F401
