"""Errors users meet: each is a typed `S2SADError` that names the user's file and line and says
what to do next. Raised when the transform is built or called, never from generated code."""

import inspect
import linecache
import math
import os
import subprocess
import sys
import traceback
from pathlib import Path

import numpy as np
import pytest

import s2sad
from s2sad import errors

OPAQUE = np.vectorize(math.erf)
"""A callable with no derivative rule and no Python source."""


def line_of(fun, text: str) -> int:
    """The file line number of the first line of `fun`'s source containing `text`."""
    lines, first = inspect.getsourcelines(fun)
    return first + next(i for i, line in enumerate(lines) if text in line)


def where(fun, text: str) -> str:
    return f"{__file__}:{line_of(fun, text)}:"


def test_every_error_is_an_s2sad_error():
    for cls in (errors.UnsupportedSyntax, errors.NoSource, errors.MissingRule, errors.NonScalarOutput,
                errors.IntegerArgument, errors.ArgnumsError, errors.TargetError):
        assert issubclass(cls, s2sad.S2SADError)
    assert issubclass(s2sad.UnsupportedSyntax, SyntaxError)
    assert issubclass(s2sad.IntegerArgument, TypeError)
    assert issubclass(s2sad.ArgnumsError, ValueError)


# ------------------------------------------------------------------ no source


def test_builtin_has_no_source():
    with pytest.raises(s2sad.NoSource) as info:
        s2sad.grad(len)(2.0)
    assert "'len'" in str(info.value)
    assert "def" in info.value.hint


def test_function_made_by_exec_has_no_source():
    scope = {}
    exec("def made(x):\n    return x * x\n", scope)  # noqa: S102 - the point of the test
    with pytest.raises(s2sad.NoSource) as info:
        s2sad.grad(scope["made"])(2.0)
    message = str(info.value)
    assert "'made'" in message and "<string>:1" in message
    assert "exec" in info.value.hint


def test_function_made_by_exec_with_linecache_works():
    """The contrast: registering the source in linecache is all s2sad needs."""
    source = "def made(x):\n    return x * x * x\n"
    linecache.cache["<made-in-test>"] = (len(source), None, source.splitlines(True), "<made-in-test>")
    scope = {}
    exec(compile(source, "<made-in-test>", "exec"), scope)  # noqa: S102
    assert s2sad.grad(scope["made"])(2.0) == pytest.approx(12.0)


# ------------------------------------------------------------------ non-scalar output


def elementwise_square(x):
    return x * x


def test_grad_of_a_non_scalar_output():
    with pytest.raises(s2sad.NonScalarOutput) as info:
        s2sad.grad(elementwise_square)(np.ones(3))
    message = str(info.value)
    assert message.startswith(where(elementwise_square, "def elementwise_square"))
    assert "(3,)" in message
    assert "jacrev" in info.value.hint and "vjp" in info.value.hint


def test_vjp_of_a_non_scalar_output_is_fine():
    out, pullback = s2sad.vjp(elementwise_square, np.arange(3.0))
    np.testing.assert_allclose(pullback(np.ones(3))[0], 2 * np.arange(3.0))


# ------------------------------------------------------------------ integer arguments


def scale(x, n):
    return x * n


@pytest.mark.parametrize("args, argnums, name", [((2.0, 3), 1, "n"), ((2, 3.0), 0, "x"),
                                                 ((np.arange(3), 2.0), "x", "x"), ((True, 1.0), 0, "x")])
def test_integer_argument_in_argnums(args, argnums, name):
    with pytest.raises(s2sad.IntegerArgument) as info:
        s2sad.grad(scale, argnums=argnums)(*args)
    message = str(info.value)
    assert message.startswith(where(scale, "def scale"))
    assert f"{name!r}" in message
    assert "float" in info.value.hint


def test_integer_argument_passed_by_keyword():
    with pytest.raises(s2sad.IntegerArgument, match="'n'"):
        s2sad.grad(scale, argnums="n")(2.0, n=3)


def test_jvp_and_vjp_with_only_integers():
    with pytest.raises(s2sad.IntegerArgument):
        s2sad.vjp(scale, 2, 3)
    with pytest.raises(s2sad.IntegerArgument):
        s2sad.jvp(scale, (2, 3), (0, 0))


# ------------------------------------------------------------------ missing rule


def calls_opaque(x):
    y = x * 2.0
    return np.sum(OPAQUE(y))


def test_missing_rule_names_the_callable():
    with pytest.raises(s2sad.MissingRule) as info:
        s2sad.grad(calls_opaque)(np.ones(2))
    message = str(info.value)
    assert message.startswith(where(calls_opaque, "OPAQUE(y)"))
    assert "OPAQUE" in message
    assert "stop_gradient" in info.value.hint and "vjp" in info.value.hint


def opaque_on_constant(x, c):
    return x * np.sum(OPAQUE(c))


def test_no_rule_needed_when_the_value_is_inactive():
    c = np.array([0.1, 0.2])
    assert s2sad.grad(opaque_on_constant)(2.0, c) == pytest.approx(np.sum([math.erf(0.1), math.erf(0.2)]))


# ------------------------------------------------------------------ unsupported syntax


def uses_a_set(x):
    items = {x, 2.0 * x}
    return min(items)


def lambda_expression(x):
    double = lambda t: t * 2  # noqa: E731
    return double  # a value


SUM_OPTIONS = {"axis": 0}


def double_star_call(x):
    return np.sum(x, **SUM_OPTIONS)


@pytest.mark.parametrize("fun, marker, construct", [
    (uses_a_set, "{x, 2.0 * x}", "the expression `{x, 2.0 * x}`"),
    (lambda_expression, "double  # a value", "nested function"),
])
def test_unsupported_syntax(fun, marker, construct):
    with pytest.raises(s2sad.UnsupportedSyntax) as info:
        s2sad.grad(fun)(2.0)
    err = info.value
    assert isinstance(err, SyntaxError)
    assert err.filename == __file__
    assert err.lineno == line_of(fun, marker)
    source_line = linecache.getline(__file__, err.lineno)
    assert err.text.strip() == source_line.strip()
    assert source_line[err.offset - 1:].startswith(marker), "offset points at the construct"
    assert construct in str(err)
    assert str(err).startswith(where(fun, marker))


def test_keyword_unpacking_of_differentiated_values_in_a_library_call():
    with pytest.raises(s2sad.MissingRule, match=r"the call of np.sum spreads values") as info:
        s2sad.grad(double_star_call)(np.ones(2))
    assert str(info.value).startswith(where(double_star_call, "**SUM_OPTIONS"))


def test_unsupported_syntax_prints_like_a_syntax_error():
    with pytest.raises(s2sad.UnsupportedSyntax) as info:
        s2sad.grad(uses_a_set)(2.0)
    text = "".join(traceback.format_exception_only(info.value))
    assert f'File "{__file__}", line {line_of(uses_a_set, "items = {")}' in text
    assert "items = {x, 2.0 * x}" in text and "^" in text


# ------------------------------------------------------------------ bad argnums


def two(x, y):
    return x * y


@pytest.mark.parametrize("argnums, match", [
    (2, "takes 2 parameters"), (-3, "takes 2 parameters"), ("z", "'z'"), (1.0, "argnums must be"),
    (True, "got True"), ((0, 0), "'x' twice"), ((1, "y"), "'y' twice"), ((0, None), "got None"),
])
def test_bad_argnums(argnums, match):
    with pytest.raises(s2sad.ArgnumsError, match=match) as info:
        s2sad.grad(two, argnums=argnums)  # the line the error names
    assert str(info.value).startswith(where(test_bad_argnums, "the line the error names"))
    assert info.value.hint


# ------------------------------------------------------------------ mistakes in calling s2sad


def vector_valued(x):
    return np.sin(x)


def vector_valued_sum(x):
    return np.sum(np.sin(x))


def three_outputs(x):
    return x * x, x, 2.0 * x


def pair_or_number(x):
    return (x * 2.0, x) if x > 100.0 else x


def returns_a_callees_number(x):
    return pair_or_number(x)


def returns_a_callees_pair(x):
    return pair_or_number(x * 200.0)


class Model:
    def __init__(self, k):
        self.k = k

    def energy(self, x):
        return self.k * x ** 2


MISTAKES = [
    ("argnums past the parameters", lambda: s2sad.grad(two, argnums=2)(1.0, 2.0), s2sad.ArgnumsError,
     "argnums=2 but two takes 2 parameters", "argnums counts from 0: 0 to 1"),
    ("jvp with bare numbers", lambda: s2sad.jvp(two, 2.0, 1.0), s2sad.UsageError,
     "jvp takes its primals as a tuple", "jvp(f, (x,), (v,))"),
    ("a value instead of a function", lambda: s2sad.grad(two(2.0, 3.0)), s2sad.NoSource,
     "was given a float (6.0)", "not the value of a call"),
    ("a complex argument", lambda: s2sad.grad(vector_valued)(1.0 + 2.0j), s2sad.UnsupportedValue,
     "complex argument 'x'", "real and imaginary parts"),
    ("hessian of a vector function", lambda: s2sad.hessian(vector_valued)(np.ones(3)), s2sad.NonScalarOutput,
     "hessian requires a scalar output", "jacfwd(s2sad.jacrev(f))"),
    ("has_aux without an aux output", lambda: s2sad.grad(vector_valued_sum, has_aux=True)(np.ones(3)),
     s2sad.UsageError, "must return a pair (output, aux), but it returns a number", "return output, aux"),
    ("has_aux with three outputs", lambda: s2sad.grad(three_outputs, has_aux=True)(1.0), s2sad.UsageError,
     "but it returns 3 values", "return output, aux"),
    ("has_aux, a callee's number", lambda: s2sad.grad(returns_a_callees_number, has_aux=True)(1.0),
     s2sad.UsageError, "must return a pair (output, aux), but it returned a float", "return output, aux"),
    ("has_aux, a callee's number, value_and_grad",
     lambda: s2sad.value_and_grad(returns_a_callees_number, has_aux=True)(1.0),
     s2sad.UsageError, "must return a pair (output, aux), but it returned a float", "return output, aux"),
    ("a method through the class", lambda: s2sad.grad(Model.energy)(Model(2.0), 3.0), s2sad.UnsupportedValue,
     "a method taken from the class is a plain function", "s2sad.grad(obj.energy)(x)"),
    ("a cotangent of another shape", lambda: s2sad.vjp(vector_valued, np.ones(3))[1](np.ones(4)),
     s2sad.CotangentError, "cotangent is an array of shape (4,)", "shapes of the function's output"),
]


@pytest.mark.parametrize("call, kind, message, hint", [m[1:] for m in MISTAKES], ids=[m[0] for m in MISTAKES])
def test_a_mistake_in_calling_s2sad_is_a_typed_error_with_a_fix(call, kind, message, hint):
    with pytest.raises(kind) as info:
        call()
    assert isinstance(info.value, s2sad.S2SADError)
    assert message in info.value.message and hint in info.value.hint
    assert info.value.where.filename == __file__  # this file's line: the call, or the function's


def starred_parameters(*xs):
    return xs[0]


def test_argnums_on_starred_parameters_counts_the_arguments_of_the_call():
    assert s2sad.grad(starred_parameters)(2.0) == 1.0
    with pytest.raises(s2sad.ArgnumsError, match="takes 1 parameters") as info:
        s2sad.grad(starred_parameters, argnums=1)(2.0)
    assert "*args" in info.value.hint


def test_jvp_argument_count_and_shapes():
    with pytest.raises(TypeError, match="takes 2 arguments"):
        s2sad.jvp(two, (1.0,), (1.0,))
    with pytest.raises(ValueError, match="shape"):
        s2sad.jvp(two, (np.ones(2), 1.0), (np.ones(3), 1.0))


def log_of_shifted(x):
    y = x * 2.0
    z = math.log(y - 2.0)
    return z * x


def test_an_error_inside_generated_code_names_the_users_line():
    with pytest.raises(ValueError) as caught:
        s2sad.grad(log_of_shifted)(1.0)
    notes = "\n".join(getattr(caught.value, "__notes__", []))
    assert f"{__file__}:" in notes and "z = math.log(y - 2.0)" in notes


def test_has_aux_through_a_callee_that_returns_a_pair():
    grads, aux = s2sad.grad(returns_a_callees_pair, has_aux=True)(1.0)
    assert grads == 400.0 and aux == 200.0
    (value, aux), grads = s2sad.value_and_grad(returns_a_callees_pair, has_aux=True)(1.0)
    assert (value, aux, grads) == (400.0, 200.0, 400.0)


def test_has_aux_a_callees_number_is_reported_at_the_return():
    with pytest.raises(s2sad.UsageError) as info:
        s2sad.grad(returns_a_callees_number, has_aux=True)(1.0)
    line = line_of(returns_a_callees_number, "return pair_or_number(x)")
    assert (info.value.where.filename, info.value.where.line, info.value.where.col) == (__file__, line, 4)


def test_a_method_through_the_class_is_reported_at_the_call_and_argnums_1_works():
    with pytest.raises(s2sad.UnsupportedValue) as info:
        s2sad.grad(Model.energy)(Model(2.0), 3.0)
    assert info.value.where.line == info.traceback[0].lineno + 1  # this test's line, not the def's
    assert s2sad.grad(Model.energy, argnums=1)(Model(2.0), 3.0) == 12.0
    assert s2sad.grad(Model(2.0).energy)(3.0) == 12.0


def uses_unique(x):
    y = x * 2.0
    return np.sum(np.unique(y))


def test_a_missing_rule_points_at_the_callee_in_the_line():
    with pytest.raises(s2sad.MissingRule) as info:
        s2sad.grad(uses_unique)(np.arange(3.0))
    text = "    return np.sum(np.unique(y))"
    assert info.value.where.col == text.index("np.unique")
    assert str(info.value).startswith(f"{__file__}:{line_of(uses_unique, 'np.unique')}:{text.index('np.unique') + 1}:")


def aliased_then_written(x):
    a = np.zeros(3)
    b = a
    a[0] = x
    return np.sum(b * x)


def test_an_alias_error_points_at_the_alias():
    with pytest.raises(s2sad.UnsupportedSyntax) as info:
        s2sad.grad(aliased_then_written)(1.0)
    assert info.value.where.line == line_of(aliased_then_written, "b = a")
    assert info.value.where.col == 4


# ---------------------------------------------------------------- tracebacks

def frames_of(err: BaseException) -> list[str]:
    return [frame.filename for frame in traceback.extract_tb(err.__traceback__)]


PACKAGE = str(Path(s2sad.__file__).parent)


def test_s2sads_own_frames_are_left_out_of_a_user_errors_traceback(monkeypatch):
    monkeypatch.delenv(errors.TRACEBACK_VARIABLE, raising=False)
    with pytest.raises(s2sad.MissingRule) as info:
        s2sad.grad(uses_unique)(np.arange(3.0))
    ours = [f for f in frames_of(info.value) if f.startswith(PACKAGE)]
    assert frames_of(info.value)[0] == __file__ and len(ours) == 1  # the public call's frame alone
    monkeypatch.setenv(errors.TRACEBACK_VARIABLE, "full")
    with pytest.raises(s2sad.MissingRule) as info:
        s2sad.grad(uses_unique)(np.arange(3.5))
    assert any(f.endswith(("transforms/derivs.py", "transforms\\derivs.py")) for f in frames_of(info.value))


def test_an_error_of_the_users_code_keeps_the_generated_frame_and_drops_s2sads(monkeypatch):
    monkeypatch.delenv(errors.TRACEBACK_VARIABLE, raising=False)
    with pytest.raises(ValueError) as caught:
        s2sad.grad(log_of_shifted)(1.0)
    frames = frames_of(caught.value)
    assert any(f.startswith("<s2sad grad of log_of_shifted") for f in frames)
    assert len([f for f in frames if f.startswith(PACKAGE)]) == 1
    with pytest.raises(s2sad.NonScalarOutput) as info:  # through hessian: one frame of s2sad's again
        s2sad.hessian(vector_valued)(np.ones(3))
    assert len([f for f in frames_of(info.value) if f.startswith(PACKAGE)]) == 1


UNCAUGHT = """
import math
import s2sad

def f(x):
    y = x * 2.0
    return math.log(y - 2.0) * x

s2sad.grad(f)(1.0)
"""


def test_an_uncaught_error_prints_the_generated_line(tmp_path):
    """On every Python, 3.11 and 3.12 included (whose interpreter prints no line of code compiled
    from text): the traceback shows the generated code's line."""
    script = tmp_path / "uncaught.py"
    script.write_text(UNCAUGHT)
    env = {**os.environ, "PYTHONPATH": str(Path(s2sad.__file__).parent.parent)}
    env.pop(errors.TRACEBACK_VARIABLE, None)
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 1
    assert 'File "<s2sad grad of f wrt x' in run.stderr
    assert "= math.log(" in run.stderr.split('File "<s2sad grad of f wrt x')[1]  # the generated line, shown
    assert "ValueError: math domain error" in run.stderr and "s2sad/transforms" not in run.stderr
