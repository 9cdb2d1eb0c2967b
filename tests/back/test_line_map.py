"""Provenance as data: the emitter returns a line map (generated line -> user line) beside the
source, `Built.user_line` reads it, and errors raised in generated code name the user's line."""

import inspect

import numpy as np
import pytest

import s2sad
from s2sad.api import Transformed
from s2sad.back.emit import emit, emit_module
from s2sad.core.ir import Assign, Call, Function, Ref, Return, Var

SIN = Ref(np.sin, ("np", "sin"), np)
COS = Ref(np.cos, ("np", "cos"), np)


def hand_built(name: str) -> Function:
    body = [Assign(Var("y"), Call(SIN, (Var("x"),)), 2), Assign(Var("z"), Call(COS, (Var("y"),)), 3),
            Assign(Var("w"), Call(SIN, (Var("z"),)), 3), Return(Var("w"), 4)]
    return Function(name, ["x"], body, "user.py", 1, {2: "y = np.sin(x)", 3: "w = np.sin(np.cos(y))",
                                                      4: "return w"})


def test_the_line_map_follows_the_provenance_comments():
    emitted = emit(hand_built("f"), set())
    assert emitted.source.splitlines() == [
        "def f(x):", "    # line 2: y = np.sin(x)", "    y = np.sin(x)", "    # line 3: w = np.sin(np.cos(y))",
        "    z = np.cos(y)", "    w = np.sin(z)", "    # line 4: return w", "    return w"]
    assert emitted.lines == {2: 2, 3: 2, 4: 3, 5: 3, 6: 3, 7: 4, 8: 4}


def test_the_line_map_of_several_functions_counts_the_lines_between_them():
    emitted = emit_module([hand_built("f"), hand_built("g")], set())
    lines = emitted.source.splitlines()
    assert lines.index("def g(x):") == 10  # 0-based: generated line 11
    assert 9 not in emitted.lines and 11 not in emitted.lines  # a blank line, a def line
    assert {k - 10: v for k, v in emitted.lines.items() if k > 10} == emit(hand_built("g"), set()).lines


def test_generated_statements_without_a_user_line_belong_to_the_line_above():
    fn = hand_built("f")
    fn.body.insert(1, Assign(Var("t"), Call(COS, (Var("x"),)), 0))
    fn.body[2] = Assign(Var("z"), Call(COS, (Var("t"),)), 3)
    emitted = emit(fn, set())
    assert emitted.source.splitlines()[3] == "    t = np.cos(x)"
    assert emitted.lines[4] == 2


def user(x, y):
    a = np.sin(x) * y
    b = np.log(a)
    return np.sum(b)


@pytest.mark.parametrize("mode", ["grad", "value_and_grad", "vjp", "jvp"])
def test_user_line_names_the_users_file_and_line(mode):
    built = Transformed(user, mode, (0,)).built((None, None))
    first = inspect.getsourcelines(user)[1]
    found = 0
    for number, text in enumerate(built.source.splitlines(), 1):
        if "np.log(" in text and not text.lstrip().startswith("#"):
            assert built.user_line(number) == f"{__file__}:{first + 2}: b = np.log(a)"
            found += 1
    assert found
    assert built.user_line(1) is None  # the def line comes from no user line


def test_an_error_in_generated_code_names_the_users_line():
    def broken(x):
        y = np.sqrt(x)
        return np.sum(np.linalg.inv(y))

    first = inspect.getsourcelines(broken)[1]
    with pytest.raises(np.linalg.LinAlgError) as info:
        s2sad.grad(broken)(np.zeros((2, 2)))
    notes = getattr(info.value, "__notes__", [])
    assert any(f"{__file__}:{first + 2}:" in note for note in notes), notes
