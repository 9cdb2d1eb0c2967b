"""The compiled check a cached derivative makes on every call (`s2sad.back.guards`)."""

import math

import numpy as np
import pytest

import s2sad
from s2sad.back.guards import MISSING, compile_guard, current
from s2sad.rules.registry import GENERATION


class Holder:
    scale = 2.0


def cell_of(value):
    def inner():
        return value
    return inner.__closure__[0]


def test_a_guard_holds_while_every_global_class_attribute_and_cell_is_the_same():
    scope, cell = {"math": math}, cell_of(3.0)
    deps = ((scope, "math", math), (Holder, "scale", Holder.scale), (cell, "cell_contents", cell.cell_contents))
    guard = compile_guard(GENERATION[0], deps, None, (), ())
    assert guard()
    scope["math"] = np
    assert not guard()
    scope["math"] = math
    Holder.scale = 3.0
    try:
        assert not guard()
    finally:
        Holder.scale = 2.0
    assert guard()


def test_a_guard_fails_when_a_global_is_deleted_or_the_registry_changes():
    scope = {"math": math}
    guard = compile_guard(GENERATION[0], ((scope, "math", math),), None, (), ())
    del scope["math"]
    assert not guard()
    assert current(scope, "math") is MISSING
    scope["math"] = math
    assert compile_guard(GENERATION[0] + 1, ((scope, "math", math),), None, (), ())() is False


def with_defaults(x, k=2.0):
    return x * k


def without_defaults(x):
    return x * 2.0


def test_a_guard_compares_defaults_by_identity():
    guard = compile_guard(GENERATION[0], (), with_defaults, (float("2.0"),), ())
    assert not guard()  # another float object than the function's own default
    guard = compile_guard(GENERATION[0], (), with_defaults, with_defaults.__defaults__, ())
    assert guard()
    plain = compile_guard(GENERATION[0], (), without_defaults, (), ())
    assert plain()
    without_defaults.__defaults__ = (1.0,)
    try:
        assert not plain()
    finally:
        without_defaults.__defaults__ = None


class Entry:
    def __init__(self, ok):
        self.ok, self.asked = ok, []

    def valid_for(self, fun):
        self.asked.append(fun)
        return self.ok


def test_a_guard_asks_each_callee_entry_for_its_function():
    good, bad = Entry(True), Entry(False)
    assert compile_guard(GENERATION[0], (), None, (), ((good, without_defaults),))()
    assert good.asked == [without_defaults]
    assert not compile_guard(GENERATION[0], (), None, (), ((good, without_defaults), (bad, with_defaults)))()


def scaled(x):
    return math.sin(x) * FACTOR


FACTOR = 2.0


def test_a_changed_global_is_seen_on_the_fast_path_at_once():
    global FACTOR
    g = s2sad.grad(scaled)
    assert g(0.5) == pytest.approx(2.0 * math.cos(0.5), rel=1e-15)
    assert g(0.5) == pytest.approx(2.0 * math.cos(0.5), rel=1e-15)  # the fast path
    FACTOR = 3.0
    try:
        assert g(0.5) == pytest.approx(3.0 * math.cos(0.5), rel=1e-15)
        assert g(0.5) == pytest.approx(3.0 * math.cos(0.5), rel=1e-15)
    finally:
        FACTOR = 2.0


def log_of(x):
    return math.log(x)


def test_an_error_on_the_fast_path_is_located_at_the_users_line():
    g = s2sad.grad(log_of)
    g(2.0)
    g(2.0)
    with pytest.raises(ValueError) as info:
        g(-1.0)
    assert any("raised in the derivative code" in note and "math.log(x)" in note for note in info.value.__notes__)
