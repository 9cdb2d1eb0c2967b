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
    """The manager the lowering puts around the block of a `try` (see `s2sad.front.lower_stmts`):
    the derivative code follows the path on which the block raises nothing. An error raised in
    it propagates, as Python's would when no `except` matches it; where one matches, or a
    `finally` block was skipped, the error gets a note naming the `try` line."""

    def __init__(self, where: tuple, handled: tuple = (), final: bool = False):
        self.where, self.handled, self.final = where, handled, final

    def __enter__(self):
        return self

    def __exit__(self, kind, err, traceback) -> bool:
        filename, line = self.where[:2]
        if err is not None and isinstance(err, self.handled):
            err.add_note(f"s2sad: Python would handle this error in an `except` of the `try` at {filename}:{line}; "
                         "s2sad differentiates a `try` whose block raises nothing (check before the call "
                         "that could raise, with an `if`)")
        elif err is not None and self.final:
            err.add_note(f"s2sad: the `finally` block of the `try` at {filename}:{line} did not run in the "
                         "derivative code")
        return False


def try_block(where: tuple, handled: tuple = (), final: bool = False) -> TryBlock:
    return TryBlock(where, handled, final)


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


__all__ = ["call_unpacking", "TryBlock", "enter_context", "exit_context", "raise_error", "try_block", "unwind_contexts"]
