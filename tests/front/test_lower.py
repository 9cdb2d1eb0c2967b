"""Stage front/lower: a snippet in, its IR printed out (golden text in tests/golden/stages/lower/).

The IR is a Wengert list: one operation per assignment, no name both read and written (except
in-place writes such as `v = setitem(v, 0, t1)`), control flow kept structured. Every case is
also checked by `ir.verify`.
"""

import pytest

from tests import stages
from tests.stages import SNIPPETS

CASES = {
    **SNIPPETS,
    "augmented": """
        def f(x):
            y = x
            y += x * 3.0
            return y
    """,
    "unpack_and_conditional": """
        def f(x, y):
            a, b = x + y, x - y
            return a if a > b else b * 2.0
    """,
    "early_return": """
        def f(x):
            if x > 1.0:
                return x
            return -x
    """,
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_lowered_ir(name, golden):
    golden(f"stages/lower/{name}.txt", stages.lowered_text(CASES[name]))


def test_one_operation_per_assignment():
    fn = stages.lowered(SNIPPETS["arith"])
    calls = [s for s in fn.body if hasattr(s, "value") and type(s.value).__name__ == "Call"]
    assert len(calls) == 3  # x * y, np.sin(z), + 1.0
