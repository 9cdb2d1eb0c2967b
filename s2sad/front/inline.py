"""Stage 1 (a helper) for the Numba backend: the user's helper functions inlined.

Code that Numba compiles calls compiled code only, and a helper's own derivative, built once for
any kinds of arguments, calls runtime helpers whose types Numba cannot decide. So for this
backend a call `g(x)` of a function of the user's is inlined: `g`'s definition is copied into
the function as a nested `def`, which the lowering inlines where it is called
(`front.local_functions`), and the derivative is one function, specialised with everything it
calls to the arguments' kinds and shapes.

A helper of the same module and file keeps its own lines. A helper of another module
(`from lib import g`, or `lib.g(x)`) is copied once per call site (`_Foreign`): its nodes are
located at the call's line (an error points into the user's file), and the globals it reads are
read through aliases (`Parsed.aliases`) where the caller's module does not bind the same name to
the same object, so that no local of the caller can stand for them.

A helper is inlined only where that is exactly what calling it does: a plain function of the
user's (no closure, no decorator's wrapper, no custom rule, not an installed library's), with
positional or keyword parameters whose defaults are constants, not a generator, writing no
`global`, calling none of its parameters, not recursive, only called (never passed on as a
value), and reading no global whose name the caller (or another inlined helper) binds as a
local. Any other call stays a call. A helper that returns early (`if x < 0: return 0.0`) is
first written with one `return`, at its end (`single_exit`), where its returns are in `if`s,
not in loops.
"""

from __future__ import annotations

import builtins
import copy
import inspect
import types
from dataclasses import replace

import gast

from s2sad.core.targets import rule_kind
from s2sad.errors import NoSource, UnsupportedSyntax
from s2sad.front.parse import Parsed, is_user_function, parse

_FLAGS = inspect.CO_VARARGS | inspect.CO_VARKEYWORDS | inspect.CO_GENERATOR | inspect.CO_COROUTINE | \
    inspect.CO_ASYNC_GENERATOR


def inline_module_calls(parsed: Parsed) -> Parsed:
    """`parsed` with the helpers it calls (and those they call) as nested functions."""
    found = _helpers(parsed)
    trees = [parsed.tree, *(helper.tree for helper in found.values())]
    foreign = _Foreign(parsed, set(parsed.closure).union(*(_bound(t) for t in trees)),
                       {n.id for t in trees for n in gast.walk(t) if isinstance(n, gast.Name)} | set(found))
    for tree in trees:
        foreign.rewrite_calls(tree, foreign.from_caller, parsed.globals, None, frozenset())
    if not found and not foreign.defs:
        return parsed
    tree = copy.copy(parsed.tree)
    tree.body = [*(helper.tree for helper in found.values()), *foreign.defs, *parsed.tree.body]
    lines = dict(parsed.lines)
    for helper in found.values():
        lines.update({n: text for n, text in helper.lines.items() if n not in lines})
    deps = [*parsed.static_deps, *((parsed.globals, name, parsed.globals[name]) for name in found), *foreign.deps]
    return replace(parsed, tree=tree, lines=lines, static_deps=deps, aliases={**parsed.aliases, **foreign.aliases})


def _helpers(parsed: Parsed) -> dict[str, Parsed]:
    """The helpers to inline, by name: every one reached by calls, less those that may not be."""
    found: dict[str, Parsed] = {}
    todo = [parsed.tree]
    while todo:
        for name in _called_names(todo.pop()):
            if name not in found and name != parsed.tree.name:
                helper = _inlinable(parsed, name)
                if helper is not None:
                    found[name] = helper
                    todo.append(helper.tree)
    return _consistent(parsed, found)


def _consistent(parsed: Parsed, found: dict[str, Parsed]) -> dict[str, Parsed]:
    """`found` less the helpers that inlining would change: recursive ones, those used other
    than called, and those whose free names a local of the caller or of a helper would capture."""
    trees = [parsed.tree, *(helper.tree for helper in found.values())]
    bound = set(parsed.closure).union(*(_bound(t) for t in trees))
    calls = {id(c.func) for t in trees for c in gast.walk(t) if isinstance(c, gast.Call)}
    used_otherwise = {n.id for t in trees for n in gast.walk(t)
                      if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load) and id(n) not in calls}
    graph = {name: set(_called_names(helper.tree)) & set(found) for name, helper in found.items()}
    return {name: helper for name, helper in found.items()
            if name not in bound and name not in used_otherwise and not _free(helper.tree) & bound
            and not _reaches(graph, name, name)}


def _called_names(tree: gast.AST) -> list[str]:
    return [c.func.id for c in gast.walk(tree) if isinstance(c, gast.Call) and isinstance(c.func, gast.Name)]


def _inlinable(parsed: Parsed, name: str) -> Parsed | None:
    """The parsed definition of global `name` (returning once, at its end), where inlining a
    call of it is what the call does."""
    if name in parsed.closure or name not in parsed.globals:
        return None
    fun = parsed.globals[name]
    if not _plain(fun) or fun.__globals__ is not parsed.globals or fun.__code__.co_filename != parsed.filename:
        return None
    return _one_return(fun, name)


def _plain(fun: object) -> bool:
    """A plain function of the user's, with no closure, custom rule or decorator's wrapper, and
    only positional or keyword parameters: what a call of it does, its body does."""
    if not isinstance(fun, types.FunctionType) or not is_user_function(fun) or rule_kind(fun) is not None:
        return False
    code = fun.__code__
    return not (fun.__closure__ or code.co_flags & _FLAGS or code.co_kwonlyargcount or
                getattr(fun, "__wrapped__", None) is not None)


def _one_return(fun: types.FunctionType, name: str) -> Parsed | None:
    """`fun` parsed and written with one return, at its end, named `name`; None where it is not
    inlined (see the module docstring)."""
    try:
        helper = parse(fun)
    except (NoSource, UnsupportedSyntax, SyntaxError):
        return None
    tree = helper.tree
    if any(isinstance(n, (gast.Yield, gast.YieldFrom, gast.Nonlocal, gast.Global)) for n in gast.walk(tree)) or \
            not all(isinstance(d, gast.Constant) for d in tree.args.defaults) or \
            set(_called_names(tree)) & {a.id for a in tree.args.posonlyargs + tree.args.args}:
        return None  # a function passed in is called as a value where inlined: the call is specialised
    body = single_exit(tree.body, _fresh(f"{name}_result", tree))
    if body is None:
        return None
    tree.body, tree.name = body, name  # the name it is called by (a function may be bound to another)
    return helper


# ------------------------------------------------------------------ helpers of other modules


class _Foreign:
    """Helpers defined in another module (or file), called from the function or its inlined
    helpers, as `g(x)` (imported) or `mod.g(x)`: a copy per call site, renamed, its nodes located
    at the call's line (the user's file is the caller's), its globals read through aliases that
    the lowering resolves (`Parsed.aliases`; a global the caller's module binds to the same
    object keeps its name), and its own calls of helpers copied the same way."""

    def __init__(self, parsed: Parsed, bound: set[str], taken: set[str]) -> None:
        self.parsed, self.bound, self.taken = parsed, bound, set(taken)
        self.defs: list[gast.FunctionDef] = []
        self.aliases: dict[str, object] = {}
        self.deps: list[tuple[dict, str, object]] = []

    def fresh(self, base: str) -> str:
        name, n = base, 0
        while name in self.taken:
            n += 1
            name = f"{base}_{n}"
        self.taken.add(name)
        return name

    def from_caller(self, func: gast.expr, scope: dict, bound: set[str]) -> types.FunctionType | None:
        """The helper of another module a callee expression of the caller (or of a helper of its
        module) names."""
        fun = _named(func, scope, self.bound | set(self.parsed.closure))
        if fun is None or fun.__globals__ is self.parsed.globals and fun.__code__.co_filename == self.parsed.filename:
            return None  # the module's own: inlined by name (`_helpers`) or called
        return fun

    def rewrite_calls(self, tree: gast.AST, resolve, scope: dict, at: gast.AST | None, chain: frozenset) -> bool:
        """Each call in `tree` of a helper `resolve` finds made a call of its copy (located at
        `at`, or at the call); False where a copy could not be made (`tree` is then not inlined)."""
        bound = _bound(tree) if isinstance(tree, gast.FunctionDef) else set()
        for call in [c for c in gast.walk(tree) if isinstance(c, gast.Call)]:
            fun = resolve(call.func, scope, bound)
            if fun is None:
                continue
            if fun in chain:
                return False  # recursive
            name = self.copy(fun, at or call, chain | {fun})
            if name is None:
                if at is not None:
                    return False
                continue
            call.func = _located(gast.Name(name, gast.Load(), None, None), call.func)
        return True

    def within(self, fun: types.FunctionType):
        def resolve(func: gast.expr, scope: dict, bound: set[str]) -> types.FunctionType | None:
            return _named(func, fun.__globals__, bound)
        return resolve

    def copy(self, fun: types.FunctionType, at: gast.AST, chain: frozenset) -> str | None:
        """The name of a copy of `fun` located at `at`, or None where it is not inlined."""
        helper = _one_return(fun, fun.__name__) if _plain(fun) else None
        if helper is None:
            return None
        tree = helper.tree
        self.taken |= {n.id for n in gast.walk(tree) if isinstance(n, gast.Name)}
        if not self.rewrite_calls(tree, self.within(fun), fun.__globals__, at, chain):
            return None
        renames = self.globals_of(tree, fun)
        if renames is None:
            return None
        for node in gast.walk(tree):
            if isinstance(node, gast.Name) and node.id in renames:
                node.id = renames[node.id]
            if "lineno" in node._attributes:
                gast.copy_location(node, at)
        tree.name = self.fresh(fun.__name__)
        self.defs.append(tree)
        return tree.name

    def globals_of(self, tree: gast.FunctionDef, fun: types.FunctionType) -> dict[str, str] | None:
        """Names for the globals `tree` reads: the same where the caller's module binds that
        name to the same object (and nothing binds it locally), an alias otherwise; None where
        a name it reads is not defined."""
        renames: dict[str, str] = {}
        copies = {d.name for d in self.defs}
        for name in sorted(_free(tree) - copies):
            if name in fun.__globals__:
                value = fun.__globals__[name]
                self.deps.append((fun.__globals__, name, value))
                same = self.parsed.globals.get(name, _MISSING) is value and name not in self.parsed.closure
                if not same or name in self.bound:
                    renames[name] = self.fresh(name)
                    self.aliases[renames[name]] = value
            elif name not in vars(builtins) or name in self.parsed.globals or name in self.parsed.closure or \
                    name in self.bound:
                return None
        return renames


_MISSING = object()


def _named(func: gast.expr, scope: dict, bound: set[str]) -> types.FunctionType | None:
    """The function a callee expression names in `scope`: `g` or `mod.g` (a module's)."""
    if isinstance(func, gast.Name) and func.id not in bound:
        fun = scope.get(func.id)
    elif isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) and func.value.id not in bound and \
            isinstance(scope.get(func.value.id), types.ModuleType):
        fun = getattr(scope[func.value.id], func.attr, None)
    else:
        return None
    return fun if _plain(fun) else None


# ------------------------------------------------------------------ one return, at the end

MAX_GROWTH = 4
"""A helper whose one-return form is more than this many times its size is not inlined (each
early return copies the statements after its `if` into the branch that does not return)."""


def single_exit(body: list[gast.stmt], result: str) -> list[gast.stmt] | None:
    """`body` with one `return`, its last statement: `if c: return a` followed by `rest` becomes
    `if c: result = a else: rest`, each path assigning `result` (None where it ends without a
    return). None where a `return` is inside a loop, `try` or `with`, or the copies grow too big."""
    if not any(isinstance(n, gast.Return) for s in body[:-1] for n in gast.walk(s)):
        return body  # already so (also a body without a return)
    out = _assigning(body, result)
    if out is None or _size(out) > MAX_GROWTH * _size(body):
        return None
    return [*out, gast.Return(_name(result, gast.Load(), body[-1]))]


def _assigning(stmts: list[gast.stmt], result: str) -> list[gast.stmt] | None:
    for i, stmt in enumerate(stmts):
        if isinstance(stmt, gast.Return):
            value = stmt.value if stmt.value is not None else gast.Constant(None, None)
            return [*stmts[:i], _located(gast.Assign([_name(result, gast.Store(), stmt)], value, None), stmt)]
        if not any(isinstance(n, gast.Return) for n in gast.walk(stmt)):
            continue
        if not isinstance(stmt, gast.If):
            return None  # a return inside a loop, `try` or `with`
        rest = stmts[i + 1:]
        then = _assigning([*stmt.body, *rest], result)
        orelse = _assigning([*stmt.orelse, *copy.deepcopy(rest)], result)
        if then is None or orelse is None:
            return None
        return [*stmts[:i], _located(gast.If(stmt.test, then, orelse), stmt)]
    end = stmts[-1] if stmts else None
    none = gast.Assign([_name(result, gast.Store(), end)], gast.Constant(None, None), None)
    return [*stmts, _located(none, end) if end is not None else none]


def _name(name: str, ctx: gast.AST, at: gast.AST | None) -> gast.Name:
    return _located(gast.Name(name, ctx, None, None), at)


def _located(node: gast.AST, at: gast.AST | None) -> gast.AST:
    if at is not None:
        gast.copy_location(node, at)
        for child in gast.walk(node):
            if "lineno" in child._attributes and getattr(child, "lineno", None) is None:
                gast.copy_location(child, at)
    return node


def _size(stmts: list[gast.stmt]) -> int:
    return sum(1 for s in stmts for _ in gast.walk(s))


def _fresh(base: str, tree: gast.FunctionDef) -> str:
    names = {n.id for n in gast.walk(tree) if isinstance(n, gast.Name)}
    name, n = base, 0
    while name in names:
        n += 1
        name = f"{base}_{n}"
    return name


def _bound(tree: gast.FunctionDef) -> set[str]:
    """The names a function binds: its parameters, and every name stored or deleted in it."""
    args = tree.args
    names = {a.id for a in args.posonlyargs + args.args + args.kwonlyargs}
    kinds = (gast.Store, gast.Del, gast.Param)
    names |= {n.id for n in gast.walk(tree) if isinstance(n, gast.Name) and isinstance(n.ctx, kinds)}
    return names | {n.name for n in gast.walk(tree) if isinstance(n, gast.FunctionDef) and n is not tree}


def _free(tree: gast.FunctionDef) -> set[str]:
    """The names a function reads and does not bind: the globals (and builtins) it reads."""
    loaded = {n.id for n in gast.walk(tree) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}
    return loaded - _bound(tree)


def _reaches(graph: dict[str, set[str]], start: str, goal: str) -> bool:
    seen: set[str] = set()
    todo = list(graph[start])
    while todo:
        name = todo.pop()
        if name == goal:
            return True
        if name not in seen:
            seen.add(name)
            todo += graph.get(name, ())
    return False
