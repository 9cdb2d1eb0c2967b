"""Derivative rules, one module per family. Importing this package registers them all, but
for scipy.special's, which are registered when scipy.special is first looked up (importing
scipy takes longer than everything else here; see `registry.lookup`)."""

from s2sad.rules import (  # noqa: F401,E501
    arith,
    containers,
    creation,
    decompositions,
    dispatch,
    elementwise,
    fft,
    indexing,
    linalg,
    math_module,
    nondiff,
    random,
    reductions,
    runtime_rules,
    shape,
)
from s2sad.rules.registry import RULES, Facts, Rule, declare, define, facts, linear, lookup  # noqa: F401
