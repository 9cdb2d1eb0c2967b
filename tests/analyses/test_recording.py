"""Stage analyses/recording: a snippet in, what reverse mode records out (golden text in
tests/golden/stages/recording/).

The text is the primal sweep with the recorder's marks: `save NAME (kind)` before each
statement that overwrites NAME, with where a kept save goes (`-> slot`: a local outside loops,
the tape inside them) or `dropped` where the adjoint sweep never reads the old value; then the
trip counters of `while` loops. A branch's decision is its test variable, saved like any other.
"""

import pytest

from tests import stages
from tests.stages import SNIPPETS

CASES = {
    "arith": SNIPPETS["arith"],
    "branch": SNIPPETS["branch"],
    "loop_overwrite": SNIPPETS["loop_overwrite"],
    "item_write": SNIPPETS["item_write"],
    "container": SNIPPETS["container"],
    "while_loop": SNIPPETS["while_loop"],
    "rebinding": """
        def f(x):
            y = x * x
            y = np.sin(y)
            return y * x
    """,
    "branch_in_loop": """
        def f(x):
            s = x
            for i in range(4):
                if s > 1.0:
                    s = s * 0.5
                s = s * x
            return s
    """,
    "item_write_in_loop": """
        def f(x):
            v = np.ones(3)
            for i in range(3):
                v[i] = v[i] * x
            return np.sum(v)
    """,
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_recorded(name, golden):
    golden(f"stages/recording/{name}.txt", stages.recorded_text(CASES[name]))


def test_straight_line_code_saves_nothing():
    assert "save" not in stages.recorded_text(SNIPPETS["arith"])
