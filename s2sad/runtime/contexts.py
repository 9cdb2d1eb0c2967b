"""`with` blocks in generated code: the manager's enter and exit, run in the primal sweep.

The lowering writes `with m as v: body` as `v = enter_context(m)`, the body, `exit_context(m)`.
Generated code has no `try`, so a manager whose body raises is left open there; the face calls
`unwind_contexts` with the error before passing it on, which exits each open manager with it
(innermost first), as Python's `with` would. A manager that would swallow the error
(`contextlib.suppress`) cannot make the derivative code go on after the block: the error keeps
propagating, with a note that says so.
"""

from __future__ import annotations

import threading

from s2sad.errors import UnsupportedValue

_open = threading.local()


def _stack() -> list:
    stack = getattr(_open, "stack", None)
    if stack is None:
        stack = _open.stack = []
    return stack


def enter_context(manager):
    """`manager.__enter__()`, remembering the manager until `exit_context`."""
    value = type(manager).__enter__(manager)
    _stack().append(manager)
    return value


def exit_context(manager):
    """`manager.__exit__(None, None, None)` at the end of the block."""
    stack = _stack()
    if stack and stack[-1] is manager:
        stack.pop()
    type(manager).__exit__(manager, None, None, None)


def unwind_contexts(err: BaseException) -> None:
    """Exit every manager still open (the block raised `err`), innermost first."""
    stack = _stack()
    while stack:
        manager = stack.pop()
        if type(manager).__exit__(manager, type(err), err, err.__traceback__):
            err.add_note(f"s2sad: the `with` block's manager {type(manager).__name__} would suppress this error "
                         "in Python; the derivative code cannot go on after the block, so it is raised")


class TryBlock:
    """The manager of a `try` block in generated code (`with attempt:`, see
    `s2sad.front.lower_stmts`). An error that an `except` clause catches is swallowed, as Python
    would, and remembered: `caught` is the number of the clause (1 for the first; 0 when the
    block raised nothing) and `error` the error. Any other error propagates, with a note where a
    `finally` block is skipped by it."""

    def __init__(self, where: tuple, handlers: tuple = (), final: bool = False):
        self.where, self.handlers, self.final = where, handlers, final
        self.caught, self.error = 0, None

    def __enter__(self):
        return self

    def __exit__(self, kind, err, traceback) -> bool:
        if err is None:
            return False
        for number, types in enumerate(self.handlers, 1):
            if isinstance(err, types):
                self.caught, self.error = number, err
                return True
        if self.final:
            filename, line = self.where[:2]
            err.add_note(f"s2sad: the `finally` block of the `try` at {filename}:{line} did not run in the "
                         "derivative code")
        return False


def try_block(where: tuple, handlers: tuple = (), final: bool = False) -> TryBlock:
    """The manager for one run of a `try` statement: `handlers` holds, for each `except`
    clause, the tuple of exception classes it names."""
    return TryBlock(where, handlers, final)


def try_outcome(attempt: TryBlock, done: int) -> int:
    """Which `except` clause caught an error in the block (0: none). An error raised inside a
    loop of the block (`done` < 0: the loop started and did not finish) left part of it run,
    which the derivative cannot follow: refused."""
    if attempt.caught and done < 0:
        filename, line = attempt.where[:2]
        raise UnsupportedValue(
            f"an error that an `except` catches was raised inside a loop in the block of the `try` at "
            f"{filename}:{line}: s2sad follows a `try` block that stops outside loops (put the `try` inside the "
            "loop, around the statement that raises)")
    return attempt.caught


def caught_error(attempt: TryBlock) -> BaseException:
    """The error the `except` block handles (`except E as err`; a bare `raise` raises it again)."""
    return attempt.error


def raise_error(error, *cause):
    """`raise error` (`raise error from cause`, the cause given) in generated code."""
    if cause:
        raise error from cause[0]
    raise error


def call_unpacking(fn, spec, *values):
    """`fn(a, *xs, k=v, **opts)`: `spec` says what each value is: "" a positional argument, "*"
    items to spread, "**" a mapping to spread, else a keyword's name."""
    args, kwargs = [], {}
    for kind, value in zip(spec, values):
        if kind == "":
            args.append(value)
        elif kind == "*":
            args.extend(value)
        elif kind == "**":
            kwargs.update(value)
        else:
            kwargs[kind] = value
    return fn(*args, **kwargs)


__all__ = ["call_unpacking", "TryBlock", "caught_error", "enter_context", "exit_context", "raise_error", "try_block",
           "try_outcome", "unwind_contexts"]
