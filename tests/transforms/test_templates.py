"""Stage transforms/templates: one term of one rule, instantiated for a statement (golden text
in tests/golden/stages/templates/).

Each case binds the op's parameters to variables of their own names and its result to `out`,
and prints the statements `templates` makes for the tangent contribution of one parameter
(incoming tangent `dP`) or its adjoint contribution (incoming cotangent `g`), then `-> ATOM`,
the atom holding the term.
"""

import operator

import numpy as np
import pytest

from tests import stages

CASES = {
    # name: (op, "tangent" | "adjoint", parameter)
    "sin_tangent": (np.sin, "tangent", "x"),
    "sin_adjoint": (np.sin, "adjoint", "x"),
    "exp_tangent": (np.exp, "tangent", "x"),
    "tanh_adjoint": (np.tanh, "adjoint", "x"),
    "mul_tangent_x": (operator.mul, "tangent", "x"),
    "mul_adjoint_y": (operator.mul, "adjoint", "y"),
    "divide_tangent_y": (np.divide, "tangent", "y"),
    "divide_adjoint_x": (np.divide, "adjoint", "x"),
    "sum_tangent": (np.sum, "tangent", "x"),
    "sum_adjoint": (np.sum, "adjoint", "x"),
    "dot_adjoint_x": (np.dot, "adjoint", "x"),
    "getitem_adjoint": (operator.getitem, "adjoint", "x"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_instantiated_term(name, golden):
    op, direction, param = CASES[name]
    golden(f"stages/templates/{name}.txt", stages.template_text(op, direction, param))


def test_bound_names_replace_the_template_parameters():
    text = stages.template_text(np.sin, "adjoint", "x", names={"x": "theta"})
    assert "np.cos(theta)" in text and "(x)" not in text
