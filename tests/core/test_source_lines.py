"""`core.source.source_lines`: a function's source lines as `inspect.getsourcelines` of its code
object gives them, without `inspect`'s search of every imported module."""

import functools
import inspect

import pytest

from s2sad.core.source import define, source_lines


def plain(x):
    return x * 2.0


def decorator(fun):
    @functools.wraps(fun)
    def wrapper(*args):
        return fun(*args)
    return wrapper


@decorator
def decorated(x):
    return x + 1.0


class Holder:
    def method(self, x):
        """A docstring."""
        return x

    @staticmethod
    def static(x):
        return x


def outer():
    def inner(y):
        return y * y
    return inner


GENERATED = define("def generated(x):\n    return x - 1.0\n", "<test generated>", {})[0]


@pytest.mark.parametrize("fun", [plain, decorated, Holder.method, Holder.static, outer(), GENERATED],
                         ids=["plain", "decorated", "method", "static", "nested", "generated"])
def test_the_lines_and_first_line_of_inspect(fun):
    assert source_lines(fun) == inspect.getsourcelines(fun.__code__)


def test_a_function_without_source_is_an_os_error():
    namespace: dict = {}
    exec(compile("def made(x):\n    return x\n", "/nonexistent/made.py", "exec"), namespace)  # noqa: S102
    with pytest.raises(OSError):
        source_lines(namespace["made"])
    exec(compile("def unnamed(x):\n    return x\n", "<unregistered>", "exec"), namespace)  # noqa: S102
    with pytest.raises(OSError):
        source_lines(namespace["unnamed"])
