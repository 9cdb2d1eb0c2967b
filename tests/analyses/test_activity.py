"""Stage analyses/activity: a snippet and the names differentiated in, the activity table out
(golden text in tests/golden/stages/activity/: the IR the analysis read, then the varied, useful
and active names).

A name is varied when it depends on a differentiated parameter, useful when the output depends
on it, active when both.
"""

import pytest

from tests import stages
from tests.stages import SNIPPETS

CASES = {
    # name: (snippet, names differentiated)
    "arith_wrt_x": (SNIPPETS["arith"], "x"),
    "arith_wrt_both": (SNIPPETS["arith"], "x,y"),
    "branch": (SNIPPETS["branch"], "x"),
    "loop_overwrite": (SNIPPETS["loop_overwrite"], "x"),
    "item_write": (SNIPPETS["item_write"], "x"),
    "helper_call": (SNIPPETS["helper_call"], "x"),
    "inactive": (SNIPPETS["inactive"], "x"),
    "container": (SNIPPETS["container"], "x"),
    "unused_value": ("""
        def f(x, y):
            wasted = np.exp(x)
            return y * 2.0
    """, "x"),
    "index_is_not_differentiated": ("""
        def f(x, i):
            j = i + 1
            return x[j] * 2.0
    """, "x"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_activity_table(name, golden):
    src, wrt = CASES[name]
    golden(f"stages/activity/{name}.txt", stages.activity_text(src, wrt))


def test_a_parameter_not_differentiated_makes_nothing_active():
    table = stages.activity(SNIPPETS["inactive"], "x")
    assert {"n", "k", "c"}.isdisjoint(table.active)
    assert "x" in table.active


def test_a_value_the_output_does_not_read_is_not_useful():
    table = stages.activity(CASES["unused_value"][0], "x")
    assert "wasted" in table.varied and "wasted" not in table.useful
    assert table.active == frozenset()
