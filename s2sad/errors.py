"""Errors s2sad raises. Every one names the user's file and line and suggests a next step."""

from __future__ import annotations

import linecache
import os
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """A place in the user's source."""

    filename: str
    line: int
    col: int = 0
    text: str = ""

    def __str__(self) -> str:
        return f"{self.filename}:{self.line}:{self.col + 1}"


class S2SADError(Exception):
    """Base class of every error s2sad raises on purpose."""

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
    """A construct the lowering does not handle; a SyntaxError so Python shows a caret."""

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
    """The function has no Python source s2sad can read."""


class MissingRule(S2SADError, TypeError):
    """An active call to a callable that has no derivative rule."""


class NonScalarOutput(S2SADError, TypeError):
    """`grad` of a function whose output is not a scalar."""


class IntegerArgument(S2SADError, TypeError):
    """An integer argument named in `argnums`."""


class ArgnumsError(S2SADError, ValueError):
    """`argnums` names a parameter that does not exist."""


class CotangentError(S2SADError, ValueError):
    """A pullback called with a cotangent whose structure or shape is not the output's."""


class TargetError(S2SADError, LookupError):
    """The CLI could not find the module, file or function named by a target."""


class UnsupportedValue(S2SADError, TypeError):
    """A value of a kind the derivative code was not built for (seen when the code runs)."""


class UsageError(S2SADError, TypeError):
    """An s2sad function called with arguments it does not take (located at the call)."""


class ExportError(S2SADError, TypeError):
    """`s2sad.export` met code that cannot be written out as a standalone module."""


def caller() -> Location | None:
    """The user's line that called into s2sad: the first frame, walking out, whose code is not
    s2sad's own (API misuse is reported there, not at the function's `def`)."""
    frame = sys._getframe(1)
    while frame is not None and _ours(frame.f_code.co_filename):
        frame = frame.f_back
    if frame is None:
        return None
    filename, line = frame.f_code.co_filename, frame.f_lineno
    return Location(filename, line, 0, linecache.getline(filename, line))


_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _ours(filename: str) -> bool:
    return filename.startswith(_PACKAGE) or filename.startswith("<s2sad ")


class InternalError(Exception):
    """A bug in s2sad, never a user error: a stage met IR it does not handle, or IR that breaks
    its contract (`s2sad.core.ir`). Please report it with the function that caused it."""

    def __init__(self, message: str) -> None:
        super().__init__(f"{message} (this is a bug in s2sad, please report it)")
