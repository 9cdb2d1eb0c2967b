"""Stage 1, parse: a target (`core.targets.Target`) in, its gast tree and the names it can see out.

The source comes from the code object's file and first line, read as `inspect.getsource`
reads them (`core.source.source_lines`; it also finds s2sad's own generated code, registered in
`linecache`), is dedented, loses its decorators and keeps the real file name and line numbers,
so every later error can point at the user's line. The code object, not the function:
`inspect` follows a decorator's `__wrapped__` to the undecorated source, but
what is called, and so what is differentiated, is the wrapper (which calls the wrapped function
from its closure, a callee like any other).

A target specialised to a call shape (`Target.shape`, a function with `*args` or `**kwargs`)
is read as the function of that shape: `def f(x, *args, **kwargs)` called `f(x, a, b, w=c)`
becomes `def f(x, args_0, args_1, *, kwargs_w=None)` whose body opens with
`args = (args_0, args_1)` and `kwargs = {"w": kwargs_w}`, at the line of the `def`.

`is_user_function` says which callees are differentiated from their own source (a function
with no rule), so the lowering's fence and the transforms agree on them.
"""

from __future__ import annotations

import builtins
import functools
import inspect
import linecache
import os
import sysconfig
import textwrap
import types
from dataclasses import dataclass, field

import gast

from s2sad.core.source import source_lines as read_source
from s2sad.core.targets import (
    MethodOf,
    Shaped,
    Specialised,
    Target,
    defaults_of,
    rule_kind,
    self_class,
    shape_params,
    target_of,
)
from s2sad.errors import Location, NoSource, UnsupportedSyntax
from s2sad.front.generators import as_list_builder
from s2sad.front.lambdas import is_lambda, lambda_def
from s2sad.rules.registry import is_internal, lookup

__all__ = ["MethodOf", "Parsed", "defaults_of", "in_library", "is_user_function", "parse", "self_class"]


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
    known: dict = field(default_factory=dict)
    """Parameters whose value the code is specialised to (see `Target.known`)."""
    static_deps: list = field(default_factory=list)
    """(scope, key, value) for each item the lowering read where it resolved a callee (see
    `front.callees`); the cache rebuilds the code when one is rebound."""
    defaults: dict | None = None
    """The parameters' default values, where the tree's parameters are not the function's (a
    call shape's, see `at_shape`); None: the function's own."""
    spreads: dict = field(default_factory=dict)
    """At a call shape: `*args` and `**kwargs` never rebound in the body, by name, and what they
    hold: the names of the extra parameters (a list), or of the keywords' (a dict). A call that
    spreads them (`g(*args, **kwargs)`) passes those parameters."""

    aliases: dict = field(default_factory=dict)
    """Names given to the globals of helpers of other modules inlined here (see `front.inline`),
    and what they are bound to."""

    def lookup(self, name: str) -> tuple[bool, object]:
        """Resolve a free name the way Python would: closure, globals, builtins (and the aliases
        of inlined helpers' globals)."""
        for scope in (self.aliases, self.closure, self.globals, vars(builtins)):
            if name in scope:
                return True, scope[name]
        return False, None

    def where(self, node: object) -> Location:
        line = getattr(node, "lineno", 0) or 0
        col = getattr(node, "col_offset", 0) or 0
        return Location(self.filename, line, col, self.lines.get(line, ""))


def is_user_function(op: object) -> bool:
    """A Python function (or transformed s2sad object) with no rule: its source is differentiated."""
    if lookup(op) is not None:
        return False
    if hasattr(op, "nondiff_argnums") or rule_kind(op) == "checkpoint":
        return False
    internal = isinstance(op, types.FunctionType) and is_internal(op)
    if internal and not getattr(op, "__s2sad_generated__", False):
        return False  # s2sad's own helpers: displays and in-place operations the transforms handle
    if in_library(op):
        return False  # an installed library's function without a rule: refused at the call (MissingRule)
    kinds = (types.FunctionType, MethodOf, Specialised, Shaped)
    return isinstance(op, kinds) or hasattr(op, "__s2sad_source_function__")


def in_library(op: object) -> bool:
    """Whether `op` (a function, or a method of a class) is defined in an installed library or
    the standard library, not in the user's project: such a callee is not followed into its
    source, so a call of it with no rule is refused at the user's line."""
    fun = op.function if isinstance(op, MethodOf) else getattr(op, "__func__", op)
    code = getattr(fun, "__code__", None)
    return code is not None and code.co_filename.startswith(_library_folders())


@functools.cache
def _library_folders() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    return tuple(os.path.join(paths[name], "") for name in ("stdlib", "platstdlib", "purelib", "platlib"))


def parse(fun: Target | object) -> Parsed:
    """Parse the target's source (a plain callable is made a target first)."""
    target = target_of(fun)
    plain = target.plain
    filename = plain.__code__.co_filename
    if is_lambda(plain):
        node = lambda_def(plain)
        lines = {n: linecache.getline(filename, n).rstrip("\n") for n in range(node.lineno, node.end_lineno + 1)}
        return Parsed(plain, node, filename, lines, plain.__globals__, _closure(plain), target.self_class,
                      dict(target.known))
    try:
        source_lines, firstline = read_source(plain)  # not `__wrapped__`'s source
    except (OSError, TypeError) as err:
        raise NoSource(
            f"cannot read the source of {plain.__qualname__!r} ({filename}): {err}",
            Location(filename, plain.__code__.co_firstlineno),
            hint="define the function in a .py file (not exec, a lambda at a prompt, or a builtin)",
        ) from None
    firstline = max(firstline, 1)
    if plain.__code__.co_flags & (inspect.CO_ASYNC_GENERATOR | inspect.CO_COROUTINE):
        raise UnsupportedSyntax(
            f"s2sad does not support an async function yet ({plain.__qualname__!r})",
            Location(filename, firstline, 0, source_lines[0].rstrip("\n")),
            hint="differentiate a plain function")
    text = textwrap.dedent("".join(source_lines))
    tree = gast.parse("\n" * (firstline - 1) + text)  # blank lines first: each node has its line in the file
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
    if plain.__code__.co_flags & inspect.CO_GENERATOR:
        node = as_list_builder(node, filename, lines)
    parsed = Parsed(plain, node, filename, lines, plain.__globals__, _closure(plain), target.self_class,
                    dict(target.known))
    if target.shape is not None:
        parsed.spreads = _spreads(node, plain, target.shape)
        parsed.defaults = at_shape(node, plain, target.shape)
    return parsed


def _spreads(node: gast.FunctionDef, plain: types.FunctionType, shape: tuple) -> dict:
    """See `Parsed.spreads` (read before `at_shape` rewrites `node`)."""
    stored = {n.id for n in gast.walk(node)
              if isinstance(n, gast.Name) and not isinstance(n.ctx, (gast.Load, gast.Param))}
    extra, keywords = shape_params(plain, shape)
    found: dict = {}
    if node.args.vararg is not None and node.args.vararg.id not in stored:
        found[node.args.vararg.id] = list(extra)
    if node.args.kwarg is not None and node.args.kwarg.id not in stored:
        found[node.args.kwarg.id] = dict(zip(shape[1], keywords))
    return found


def at_shape(node: gast.FunctionDef, plain: types.FunctionType, shape: tuple) -> dict:
    """Rewrite `node`, a function with `*args` or `**kwargs`, as the function of one call shape
    (see the module docstring); its parameters' defaults out (positional ones are all passed
    when extra positional arguments are)."""
    args, (extra, keywords) = node.args, shape_params(plain, shape)
    defaults = {n: p.default for n, p in inspect.signature(plain).parameters.items() if p.default is not p.empty}
    if extra:
        defaults = {n: v for n, v in defaults.items() if n not in {a.id for a in args.posonlyargs + args.args}}
        args.defaults = []
    prologue = []
    if args.vararg is not None:
        items = gast.Tuple([_name(p, gast.Load(), node) for p in extra], gast.Load())
        prologue.append(gast.Assign([_name(args.vararg.id, gast.Store(), node)], items, None))
    if args.kwarg is not None:
        keys = [gast.Constant(k, None) for k in shape[1]]
        items = gast.Dict(keys, [_name(p, gast.Load(), node) for p in keywords])
        prologue.append(gast.Assign([_name(args.kwarg.id, gast.Store(), node)], items, None))
    args.args = args.args + [_name(p, gast.Param(), node) for p in extra]
    args.kwonlyargs = args.kwonlyargs + [_name(p, gast.Param(), node) for p in keywords]
    args.kw_defaults = args.kw_defaults + [gast.Constant(None, None) for _ in keywords]
    args.vararg = args.kwarg = None
    for stmt in prologue:
        for child in gast.walk(stmt):
            if "lineno" in child._attributes:
                child.lineno, child.col_offset = node.lineno, node.col_offset
                child.end_lineno, child.end_col_offset = node.lineno, node.col_offset
    node.body = prologue + node.body
    return defaults | dict.fromkeys(keywords)


def _name(name: str, ctx: gast.AST, node: gast.AST) -> gast.Name:
    out = gast.Name(name, ctx, None, None)
    out.lineno, out.col_offset, out.end_lineno, out.end_col_offset = node.lineno, node.col_offset, node.lineno, 0
    return out


def _closure(fun: types.FunctionType) -> dict:
    cells = fun.__closure__ or ()
    out = {}
    for name, cell in zip(fun.__code__.co_freevars, cells):
        try:
            out[name] = cell.cell_contents
        except ValueError:
            continue
    return out
