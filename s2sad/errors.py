"""Errors s2sad raises. Every one names the user's file and line and suggests a next step."""

from __future__ import annotations

import functools
import linecache
import os
import re
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import ParamSpec, TypeVar


@dataclass(frozen=True)
class Location:
    """A place in the user's source."""

    filename: str
    line: int
    col: int = 0
    text: str = ""

    def __str__(self) -> str:
        return f"{self.filename}:{self.line}:{self.col + 1}"

    @classmethod
    def of(cls, filename: str, line: int, text: str, *names: str) -> Location:
        """The place of a statement at `line` whose source is `text`: at the first of `names`
        found in it (a callee's spelling, a variable), else where the statement starts."""
        for name in names:
            col = _column(text, name)
            if col is not None:
                return cls(filename, line, col, text)
        return cls(filename, line, len(text) - len(text.lstrip()), text)


def _column(text: str, name: str) -> int | None:
    """Where `name` first stands as a whole word (dotted names included) in `text`."""
    match = re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", text) if name else None
    return match.start() if match else None


class S2SADError(Exception):
    """Base class of every error s2sad raises on purpose: `except s2sad.S2SADError` catches them all.

    Each subclass is also the built-in exception it resembles (`TypeError`, `ValueError`,
    `SyntaxError`, `LookupError`), so handlers written for those still catch it. The message
    starts with the place in the user's source it is about (`file:line:column`), where there
    is one, and ends with a hint on what to do next.

    Args:
        message: What went wrong.
        where: The place in the user's source it refers to, if any.
        hint: What to do about it.

    Attributes:
        message: What went wrong, without the place and the hint.
        where: The place in the user's source (`filename`, `line`, `col`, `text`), or None.
        hint: What to do about it, or "".

    Examples:
        >>> import s2sad
        >>> try:
        ...     s2sad.grad(len)
        ... except s2sad.S2SADError as err:
        ...     print(type(err).__name__, "|", err.hint)
        NoSource | pass a function defined with `def` in a file, or register a rule with s2sad.defvjp
    """

    def __init__(self, message: str, where: Location | None = None, hint: str = "") -> None:
        self.message = message
        self.where = where
        self.hint = hint
        super().__init__(self._render())

    def _render(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.where and self.where.text:
            text += f"\n    {self.where.text.strip()}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class UnsupportedSyntax(S2SADError, SyntaxError):
    """A construct s2sad does not differentiate yet, raised when the derivative is built.

    A `SyntaxError` too, so Python shows the line with a caret. docs/programs.md lists the
    constructs, each with its way around.

    Examples:
        >>> import numpy as np
        >>> import s2sad
        >>> def f(x):
        ...     np.sin(x)  # a call for its side effect
        ...     return x
        >>> s2sad.grad(f)(1.0)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        s2sad.errors.UnsupportedSyntax: ...s2sad does not support an expression statement...
    """

    def __init__(self, message: str, where: Location, hint: str = "") -> None:
        S2SADError.__init__(self, message, where, hint)
        self.filename = where.filename
        self.lineno = where.line
        self.offset = where.col + 1
        self.text = where.text
        self.msg = self.args[0]

    def __str__(self) -> str:
        return self.args[0]


class NoSource(S2SADError, TypeError):
    """The function has no Python source s2sad can read (a builtin, a compiled function).

    Define it with `def` in a file, or give it rules with `defjvp`/`defvjp`.

    Examples:
        >>> import s2sad
        >>> s2sad.grad(len)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        s2sad.errors.NoSource: 'len' is not a Python function s2sad can read the source of...
    """


class MissingRule(S2SADError, TypeError):
    """A differentiated value reaches a callable that has no derivative rule and no source.

    Give it rules (`defjvp`, `defvjp`, `custom_jvp`, `custom_vjp`), or wrap the value in
    `stop_gradient` if no derivative should flow through it.

    Examples:
        >>> import math
        >>> import numpy as np
        >>> import s2sad
        >>> erf = np.vectorize(math.erf, otypes=[float])
        >>> def f(x):
        ...     return erf(x)
        >>> s2sad.grad(f)(1.0)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        s2sad.errors.MissingRule: ...no derivative rule for erf (called with active arguments)...
    """


class NonScalarOutput(S2SADError, TypeError):
    """`grad` (or `hessian`) of a function whose output is not one number.

    `jacrev` gives the Jacobian of such a function, `vjp` a vector-Jacobian product.

    Examples:
        >>> import numpy as np
        >>> import s2sad
        >>> def double(x):
        ...     return 2.0 * x
        >>> s2sad.grad(double)(np.ones(3))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        s2sad.errors.NonScalarOutput: ...grad requires a scalar output, but the function returned (3,)...
    """


class IntegerArgument(S2SADError, TypeError):
    """An integer argument in `argnums`: integers are constants, and have no gradient.

    Pass a float, or leave the argument out of `argnums`.

    Examples:
        >>> import s2sad
        >>> def square(x):
        ...     return x * x
        >>> s2sad.grad(square)(3)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        s2sad.errors.IntegerArgument: ...cannot differentiate square with respect to 'x': it is an integer (3)...
    """


class ArgnumsError(S2SADError, ValueError):
    """`argnums` names a parameter that does not exist, a position out of range, or one twice.

    Raised when the transform is made, at the line that makes it.

    Examples:
        >>> import s2sad
        >>> def f(x, y):
        ...     return x * y
        >>> s2sad.grad(f, argnums="z")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        s2sad.errors.ArgnumsError: ...argnums names 'z', which is not a parameter of f ['x', 'y']...
    """


class CotangentError(S2SADError, ValueError):
    """A pullback called with a cotangent whose structure or shape is not the output's.

    Examples:
        >>> import s2sad
        >>> def f(x, y):
        ...     return x * y
        >>> out, pullback = s2sad.vjp(f, 1.0, 2.0)
        >>> pullback((1.0, 2.0))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        s2sad.errors.CotangentError: ...the cotangent is a tuple of 2 items, but the output is a number (float)...
    """


class TargetError(S2SADError, LookupError):
    """The CLI could not find the module, file or function named by a target."""


class OutputError(S2SADError, OSError):
    """The CLI could not write what `--output` asks for (no Graphviz `dot` program, a folder that
    is not there)."""


class UnsupportedValue(S2SADError, TypeError):
    """A value s2sad cannot differentiate, seen when the derivative runs.

    A complex argument, an object whose fields s2sad does not know (not a dataclass or a
    namedtuple), or a value the derivative code was not built for.

    Examples:
        >>> import s2sad
        >>> def square(z):
        ...     return z * z
        >>> s2sad.grad(square)(1j)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        s2sad.errors.UnsupportedValue: ...square: complex argument 'z' is not supported yet...
    """


class UsageError(S2SADError, TypeError):
    """An s2sad function called with arguments it does not take, located at the call.

    Examples:
        >>> import s2sad
        >>> def square(x):
        ...     return x * x
        >>> s2sad.jvp(square, 2.0, 1.0)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        s2sad.errors.UsageError: ...jvp takes its primals as a tuple (one value per argument), not a float...
    """


class BackendError(S2SADError, TypeError):
    """The backend asked for cannot compile this derivative: Numba is not installed, or the
    derivative's code holds a construct the backend does not compile yet (named, at the user's
    line).

    Examples:
        >>> import s2sad
        >>> import numpy as np
        >>> def square_norm(a):
        ...     return np.einsum("i,i->", a, a)
        >>> s2sad.grad(square_norm, backend="numba")(np.ones(3))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        s2sad.errors.BackendError: ...the numba backend does not compile s2sad's helper einsum_plan...
    """


class ExportError(S2SADError, TypeError):
    """`s2sad.export` met code that cannot be written out as a standalone module.

    A function value whose derivative is looked up when the code runs (`checkpoint` included),
    a custom rule, a method, a closure or lambda the code calls, or a global with no literal
    form: the message names it and the line that reads it.

    Examples:
        >>> import s2sad
        >>> from s2sad.testing import make_function
        >>> f = make_function("def f(x):\\n    return s2sad.checkpoint(g)(x)\\n",
        ...                   {"s2sad": s2sad, "g": lambda x: x * x})
        >>> try:
        ...     s2sad.export(f)
        ... except s2sad.ExportError as err:
        ...     print(type(err).__name__)
        ExportError
    """


def caller() -> Location | None:
    """The user's line that called into s2sad: the first frame, walking out, whose code is not
    s2sad's own (API misuse is reported there, not at the function's `def`)."""
    frame: types.FrameType | None = sys._getframe(1)
    while frame is not None and _ours(frame.f_code.co_filename):
        frame = frame.f_back
    if frame is None:
        return None
    filename, line = frame.f_code.co_filename, frame.f_lineno
    return Location.of(filename, line, linecache.getline(filename, line).rstrip("\n"))


_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _ours(filename: str) -> bool:
    return filename.startswith(_PACKAGE) or filename.startswith("<s2sad ")


class InternalError(Exception):
    """A bug in s2sad, never a user error: a stage met IR it does not handle, or IR that breaks
    its contract (`s2sad.core.ir`). Please report it with the function that caused it."""

    def __init__(self, message: str) -> None:
        super().__init__(f"{message} (this is a bug in s2sad, please report it)")


# ---------------------------------------------------------------- tracebacks a user reads

TRACEBACK_VARIABLE = "S2SAD_TRACEBACK"
"""Set to `full` to keep s2sad's own frames in the tracebacks of user errors."""


def trimmed(err: BaseException) -> BaseException:
    """`err` with s2sad's own frames left out of its traceback, as JAX leaves out its frames: the
    user's frames and the generated code's remain (the error is about them). Kept whole when
    S2SAD_TRACEBACK=full."""
    if os.environ.get(TRACEBACK_VARIABLE, "").lower() == "full":
        return err
    kept = []
    tb = err.__traceback__
    while tb is not None:
        if not tb.tb_frame.f_code.co_filename.startswith(_PACKAGE):
            kept.append(tb)
        tb = tb.tb_next
    rebuilt = None
    for tb in reversed(kept):
        rebuilt = types.TracebackType(rebuilt, tb.tb_frame, tb.tb_lasti, tb.tb_lineno)
    return err.with_traceback(rebuilt)


USER_CODE = "__s2sad_user_code__"
"""Marks an error raised by the user's code running in a derivative (a user error, trimmed)."""

P = ParamSpec("P")
R = TypeVar("R")


def user_facing(fun: Callable[P, R]) -> Callable[P, R]:
    """A public entry point: the `S2SADError`s it raises show the user's frames, not s2sad's."""

    @functools.wraps(fun)
    def entry(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fun(*args, **kwargs)
        except Exception as err:
            if isinstance(err, S2SADError) or getattr(err, USER_CODE, False):
                raise trimmed(err)  # noqa: B904 - the same error, its cause kept
            raise

    return entry
