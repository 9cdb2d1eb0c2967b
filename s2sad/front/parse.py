"""Stage 1, parse: a Python function in, its gast tree and the names it can see out.

The source comes from `inspect.getsource` of the code object (which also finds s2sad's own
generated code, registered in `linecache`), is dedented, loses its decorators and keeps the real
file name and line numbers, so every later error can point at the user's line. The code object,
not the function: `inspect` follows a decorator's `__wrapped__` to the undecorated source, but
what is called, and so what is differentiated, is the wrapper (which calls the wrapped function
from its closure, a callee like any other).
"""

from __future__ import annotations

import builtins
import inspect
import textwrap
import types
from dataclasses import dataclass

import gast

from s2sad.errors import Location, NoSource


@dataclass
class Parsed:
    fun: types.FunctionType
    tree: gast.FunctionDef
    filename: str
    lines: dict[int, str]
    """The user's source lines by their real line number."""
    globals: dict
    closure: dict
    self_class: type | None = None
    """For a method: the class of `self`, so `self.other(...)` calls can be followed."""

    def lookup(self, name: str) -> tuple[bool, object]:
        """Resolve a free name the way Python would: closure, globals, builtins."""
        for scope in (self.closure, self.globals, vars(builtins)):
            if name in scope:
                return True, scope[name]
        return False, None

    def where(self, node: object) -> Location:
        line = getattr(node, "lineno", 0) or 0
        col = getattr(node, "col_offset", 0) or 0
        return Location(self.filename, line, col, self.lines.get(line, ""))


class MethodOf:
    """A method of a user class, called with `self` as its first argument: `Cls.method(self, x)`.

    Keeps the class so that the method's own `self.other(...)` calls can be followed too."""

    def __init__(self, function: types.FunctionType, cls: type) -> None:
        self.function, self.cls = function, cls
        self.__name__ = function.__name__
        self.__qualname__ = function.__qualname__

    def __call__(self, *args, **kwargs):
        return self.function(*args, **kwargs)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MethodOf) and (self.function, self.cls) == (other.function, other.cls)

    def __hash__(self) -> int:
        return hash((self.function, self.cls))


def self_class(fun: object) -> type | None:
    if isinstance(fun, MethodOf):
        return fun.cls
    if isinstance(fun, types.MethodType) and not isinstance(fun.__self__, type):
        return type(fun.__self__)
    return None


def defaults_of(plain: types.FunctionType) -> tuple:
    """The default values generated code bakes in: positional, then keyword-only by name."""
    keyword = plain.__kwdefaults__ or {}
    return tuple(plain.__defaults__ or ()) + tuple(keyword[name] for name in sorted(keyword))


def unwrap(fun: object) -> types.FunctionType:
    """The plain function behind a decorated, bound or s2sad-transformed callable."""
    from s2sad.custom import as_function

    fun = as_function(fun)
    if getattr(fun, "__s2sad_jacobian__", False):
        raise NoSource(
            "a Jacobian function (jacfwd/jacrev/hessian/hvp/elementwise_grad) cannot be differentiated again: "
            "it builds its result in Python loops, not in generated code",
            hint="for second derivatives use s2sad.hessian(f), s2sad.hvp(f) or s2sad.jacfwd(s2sad.grad(f))")
    inner = getattr(fun, "__s2sad_source_function__", None)
    if inner is not None:
        return inner
    if isinstance(fun, MethodOf):
        return fun.function
    if isinstance(fun, types.MethodType):
        return unwrap(fun.__func__)
    if isinstance(fun, types.FunctionType):
        return fun
    what = getattr(fun, "__name__", type(fun).__name__)
    raise NoSource(
        f"{what!r} is not a Python function s2sad can read the source of",
        hint="pass a function defined with `def` in a file, or register a rule with s2sad.defvjp",
    )


def parse(fun: object) -> Parsed:
    plain = unwrap(fun)
    filename = plain.__code__.co_filename
    try:
        source_lines, firstline = inspect.getsourcelines(plain.__code__)  # not `__wrapped__`'s source
    except (OSError, TypeError) as err:
        raise NoSource(
            f"cannot read the source of {plain.__qualname__!r} ({filename}): {err}",
            Location(filename, plain.__code__.co_firstlineno),
            hint="define the function in a .py file (not exec, a lambda at a prompt, or a builtin)",
        ) from None
    firstline = max(firstline, 1)
    text = textwrap.dedent("".join(source_lines))
    tree = gast.parse(text)
    gast.increment_lineno(tree, firstline - 1)
    node = tree.body[0]
    if isinstance(node, gast.Assign) and isinstance(node.value, gast.Lambda):
        raise NoSource(
            f"{plain.__qualname__!r} is a lambda; s2sad reads `def` functions",
            Location(filename, firstline),
            hint="rewrite it as a def",
        )
    if not isinstance(node, gast.FunctionDef):
        raise NoSource(f"source of {plain.__qualname__!r} is not a function definition", Location(filename, firstline))
    node.decorator_list = []
    lines = {firstline + i: line.rstrip("\n") for i, line in enumerate(source_lines)}
    return Parsed(plain, node, filename, lines, plain.__globals__, _closure(plain), self_class(fun))


def _closure(fun: types.FunctionType) -> dict:
    cells = fun.__closure__ or ()
    out = {}
    for name, cell in zip(fun.__code__.co_freevars, cells):
        try:
            out[name] = cell.cell_contents
        except ValueError:
            continue
    return out
