"""Stage 2, lower (a helper): nested `def` and `lambda`, `map` and `functools.reduce`.

A function defined inside the differentiated function is inlined where it is called: its
parameters become fresh locals bound to the arguments, its own locals get fresh names, and its
body is lowered in place. Its free names read the enclosing function's locals as they are at the
call, which is what Python's closures do (late binding), so a closure over a differentiated
local is differentiated through. Such a function may be called, mapped (`map(f, xs)` is
`[f(v) for v in xs]`) and folded (`functools.reduce(f, xs[, start])` is a loop); used as a value
any other way (returned, stored, passed to another function) it is refused at its line.
"""

from __future__ import annotations

import builtins
import copy
import functools
import types

import gast

from s2sad.core.ir import Call, Const, Expr, Ref, Var
from s2sad.core.naming import numpy_ref
from s2sad.front.parse import parse

Local = gast.FunctionDef | gast.Lambda

TAKERS = (builtins.map, functools.reduce, builtins.sorted)
"""Calls that may be given a nested function (it is inlined in their lowering)."""


def _name(name: str, ctx: type = gast.Load) -> gast.Name:
    return gast.Name(name, ctx(), None, None)


def _call(func: gast.expr, args: list[gast.expr]) -> gast.Call:
    return gast.Call(func, args, [])


def located(node: gast.AST, line: int) -> gast.AST:
    """A copy of `node` whose nodes without a line get `line` (for code written by the lowering)."""
    node = copy.copy(node)
    for child in gast.walk(node):
        if "lineno" in child._attributes and getattr(child, "lineno", None) is None:
            child.lineno, child.col_offset = line, 0
    return node


class LocalFunctions:
    """Needs from the host: parsed, locals, renames, namer, line, emit(), expr(), to_atom(),
    stmts(), fresh_local(), unsupported(), resolve(), written()."""

    def local_function(self, node: gast.expr) -> Local | None:
        """The nested function a callee expression denotes: a lambda written there, a name
        given to one inside the function (`def g` or `g = lambda ...`, its only binding)."""
        if isinstance(node, gast.Lambda):
            return node
        if isinstance(node, gast.Name) and node.id in getattr(self, "factories", {}):
            return self.factories[node.id]
        if not isinstance(node, gast.Name) or node.id in self.renames:
            return None
        made = getattr(self, "made_functions", {})
        if node.id in made:
            return made[node.id]
        writes = self.written().get(node.id, [])
        if len(writes) != 1:
            return None
        write = writes[0]
        if isinstance(write, gast.FunctionDef):
            return write
        return write.value if isinstance(write, gast.Assign) and isinstance(write.value, gast.Lambda) else None

    def stmt_FunctionDef(self, node: gast.FunctionDef) -> None:
        """A nested `def`: nothing runs here; it is inlined where it is called."""
        self.check_only_called(node.name, node)

    def expr_Lambda(self, node: gast.Lambda) -> Expr:
        """`g = lambda ...`: nothing to compute (calls of `g` are inlined); elsewhere refused."""
        for name, writes in self.written().items():
            if len(writes) == 1 and isinstance(writes[0], gast.Assign) and writes[0].value is node:
                self.check_only_called(name, node)
                return Const(None)
        made = self.lambda_value(node)
        if made is not None:
            return made
        raise self.unsupported(node, "a lambda that reads the function's local names used as a value here",
                               "call it, map it, give it a name with `g = lambda ...` and call g, or pass what it "
                               "reads as arguments (a lambda that reads only its parameters and globals may be "
                               "passed to a function)")

    def lambda_value(self, node: gast.Lambda) -> Ref | None:
        """`apply(lambda v: v * v, x)`: a lambda that reads only its parameters and the module's
        globals is a function value known where the code is built (made here, at the user's
        line, so its source is found): the callee is specialised to it like to a global
        function. None for a lambda that reads the function's locals."""
        params = {a.id for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs}
        loaded = {n.id for n in gast.walk(node.body) if isinstance(n, gast.Name)}
        if node.args.vararg or node.args.kwarg or (loaded - params) & (self.locals | set(self.parsed.closure)):
            return None
        tree = gast.gast_to_ast(gast.Expression(body=node))
        fun = eval(compile(tree, self.parsed.filename, "eval"), self.parsed.globals)  # noqa: S307 - the user's lambda
        return Ref(fun, (self.namer.temp("lambda"),))

    def check_only_called(self, name: str, node: gast.AST) -> None:
        """Refuse a nested function used other than called (or given to map/reduce)."""
        allowed = set()
        for call in gast.walk(self.parsed.tree):
            if isinstance(call, gast.Call):
                allowed.add(id(call.func))
                if call.args and self.is_taker(call.func):
                    allowed |= {id(call.args[0])} | {id(k.value) for k in call.keywords if k.arg == "key"}
                allowed |= self.piece_functions(call)
        for use in gast.walk(self.parsed.tree):
            loaded = isinstance(use, gast.Name) and use.id == name and isinstance(use.ctx, gast.Load)
            if loaded and id(use) not in allowed:
                raise self.unsupported(use, f"the nested function {name!r} used as a value (returned, stored or "
                                       "passed on)", "call it where it is defined, define it at module level "
                                       "and pass it (functions passed as arguments are supported), or, for a "
                                       "factory that returns it, define the factory in the module of its caller "
                                       "(there it is inlined)")

    def is_taker(self, func: gast.expr) -> bool:
        try:
            ref = self.resolve(func) if isinstance(func, (gast.Name, gast.Attribute)) else None
        except SyntaxError:
            return False
        return ref is not None and any(ref.value is t for t in TAKERS)

    def is_map_into_list(self, node: gast.Call) -> bool:
        if len(node.args) != 1 or node.keywords or not isinstance(node.args[0], gast.Call):
            return False
        ref = self.resolve(node.func) if isinstance(node.func, gast.Name) else None
        inner = node.args[0].func
        return ref is not None and ref.value is builtins.list and self.is_taker(inner) and \
            self.resolve(inner).value is builtins.map

    # ------------------------------------------------------------ inlining

    def inline_call(self, fun: Local, node: gast.Call) -> Expr:
        """The value of calling the nested function `fun` (see the module docstring)."""
        args = fun.args
        if args.vararg or args.kwarg or args.kwonlyargs or any(isinstance(a, gast.Starred) for a in node.args):
            raise self.unsupported(node, "*args, **kwargs or keyword-only parameters in a nested function")
        inlining = self.__dict__.setdefault("inlining", set())
        if id(fun) in inlining:
            raise self.unsupported(node, "a recursive nested function", "define it at module level")
        params = [a.id for a in args.posonlyargs + args.args]
        bound = self.bind_arguments(fun, params, node)
        body = [gast.Return(fun.body)] if isinstance(fun, gast.Lambda) else list(fun.body)
        if any(isinstance(n, gast.Return) for s in body[:-1] for n in gast.walk(s)) or \
                any(isinstance(n, (gast.Yield, gast.YieldFrom, gast.Nonlocal, gast.Global)) for n in gast.walk(fun)):
            raise self.unsupported(node, "a nested function that returns before its last statement, yields, or "
                                   "writes `nonlocal`/`global` names", "define it at module level")
        saved = dict(self.renames)
        inlining.add(id(fun))
        if id(fun) in getattr(self, "scopes", {}):
            self.renames = dict(self.scopes[id(fun)])  # a factory's function: its names as the factory left them
        try:
            self.bind_locals(bound, body)
            return self.inline_body(body)
        finally:
            self.renames = saved
            inlining.discard(id(fun))

    def bind_arguments(self, fun: Local, params: list[str], node: gast.Call) -> dict:
        defaults = dict(zip(params[len(params) - len(fun.args.defaults):], fun.args.defaults))
        given = dict(zip(params, node.args)) | {k.arg: k.value for k in node.keywords}
        if len(node.args) > len(params) or set(given) - set(params) or set(params) - set(given) - set(defaults):
            raise self.unsupported(node, "this call of a nested function (its arguments do not match its parameters)")
        return {p: self.to_atom(given[p] if p in given else defaults[p]) for p in params}

    def bind_locals(self, bound: dict, body: list[gast.stmt]) -> None:
        """Fresh names for an inlined body's parameters and locals. A parameter the body never
        rebinds, passed a variable, reads that variable (the same object, as a call would pass
        it); any other gets a local holding the argument."""
        stored = _stored(body)
        for name, atom in bound.items():
            if isinstance(atom, Var) and name not in stored:
                self.renames[name] = atom.name
            else:
                self.renames[name] = self.emit(self.fresh_local(name), atom).name
        for name in stored:
            if name not in bound:
                self.renames[name] = self.fresh_local(name)

    def inline_body(self, body: list[gast.stmt]) -> Expr:
        last = body[-1]
        if isinstance(last, gast.Return):
            self.stmts(body[:-1])
            return self.expr(last.value) if last.value is not None else Const(None)
        self.stmts(body)
        return Const(None)

    # ------------------------------------------------------------ factories

    def factory_call(self, node: gast.Call) -> Expr | None:
        """`rhs = make_rhs(k)`, where `make_rhs` is a function of the same module that returns a
        function it defines (`def rhs(y): ... return rhs`, or `return lambda y: ...`) and `rhs`
        is bound once and only called: the factory's body runs here (its parameters and locals
        get fresh names) and each call of `rhs` is inlined with the names as the factory left
        them, so a closure over a differentiated value is differentiated through. None when
        that does not apply (the call is then an ordinary one; see `runtime.dispatch`)."""
        name = self.bound_name(node)
        ref = self.resolve(node.func) if name is not None and isinstance(node.func, gast.Name) else None
        fac = ref.value if ref is not None else None
        if not isinstance(fac, types.FunctionType) or fac.__globals__ is not self.parsed.globals or \
                fac.__closure__ or fac.__code__.co_filename != self.parsed.filename or \
                not any(isinstance(c, types.CodeType) for c in fac.__code__.co_consts):
            return None
        try:
            tree = parse(fac).tree
        except SyntaxError:  # NoSource is not one: let it through as the ordinary call would
            return None
        made = _returned_function(tree)
        if made is None or self.free_caller_names(made, tree):
            return None
        self.__dict__.setdefault("scopes", {})[id(made)] = self.run_factory(tree, node)
        self.__dict__.setdefault("factories", {})[name] = made
        return Const(None)

    def bound_name(self, node: gast.Call) -> str | None:
        """The name `node` is bound to by the function's only assignment of it, when every other
        use of the name calls it, after that assignment in the source."""
        name = self.assigned_once().get(id(node))
        if name is None:
            return None
        calls, loads = self.calls_and_loads()
        uses = loads.get(name, [])
        after = all((u.lineno, u.col_offset) > (node.lineno, node.col_offset) for u in uses)
        return name if after and all(id(u) in calls for u in uses) and name not in self.renames else None

    def calls_and_loads(self) -> tuple[set[int], dict[str, list[gast.Name]]]:
        """The `id`s of the function's callee expressions, and its reads of each name (one walk)."""
        if "_calls_and_loads" not in self.__dict__:
            calls: set[int] = set()
            loads: dict[str, list[gast.Name]] = {}
            for n in gast.walk(self.parsed.tree):
                if isinstance(n, gast.Call):
                    calls.add(id(n.func))
                elif isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load):
                    loads.setdefault(n.id, []).append(n)
            self._calls_and_loads = (calls, loads)
        return self._calls_and_loads

    def assigned_once(self) -> dict[int, str]:
        """`id` of the value of each name's only assignment (`name = value`) -> the name."""
        if "_assigned_once" not in self.__dict__:
            self._assigned_once: dict[int, str] = {}
            for name, writes in self.written().items():
                if len(writes) == 1 and isinstance(writes[0], gast.Assign):
                    self._assigned_once.setdefault(id(writes[0].value), name)
        return self._assigned_once

    def free_caller_names(self, made: Local, tree: gast.FunctionDef) -> set[str]:
        """Names the factory (its function included) reads that are the caller's locals but not
        its own (inlined here, they would be read in the caller's scope)."""
        own = {a.id for a in tree.args.posonlyargs + tree.args.args + made.args.posonlyargs + made.args.args}
        body = [gast.Return(made.body)] if isinstance(made, gast.Lambda) else made.body
        own |= set(_stored(tree.body)) | set(_stored(body))
        loaded = {n.id for n in gast.walk(tree) if isinstance(n, gast.Name)}
        return (loaded & self.locals) - own

    def run_factory(self, tree: gast.FunctionDef, node: gast.Call) -> dict[str, str]:
        """Lower the factory's body up to its `return`; the renames its function reads."""
        params = [a.id for a in tree.args.posonlyargs + tree.args.args]
        bound = self.bind_arguments(tree, params, node)
        saved = dict(self.renames)
        try:
            self.bind_locals(bound, tree.body)
            self.stmts([s for s in tree.body[:-1] if not isinstance(s, gast.FunctionDef)])
            return dict(self.renames)
        finally:
            self.renames = saved

    # ------------------------------------------------------------ map and reduce

    def callee_name(self, func: gast.expr) -> gast.expr:
        """A name to call `func` by in rewritten code (a lambda written in place gets one)."""
        if isinstance(func, gast.Lambda):
            name = self.namer.temp("fn")
            self.__dict__.setdefault("made_functions", {})[name] = func
            return _name(name)
        return func

    def lower_map(self, node: gast.Call) -> Expr:
        """`map(f, xs, ys)` as `[f(a, b) for a, b in zip(xs, ys)]` (a list where Python gives an
        iterator: every use s2sad supports, `list(...)`, `sum(...)`, a `for`, reads it once)."""
        if len(node.args) < 2 or node.keywords:
            raise self.unsupported(node, "map without a function and an iterable")
        func, iters = self.callee_name(node.args[0]), node.args[1:]
        names = [self.namer.temp("item") for _ in iters]
        target = _name(names[0], gast.Store) if len(iters) == 1 else \
            gast.Tuple([_name(n, gast.Store) for n in names], gast.Store())
        source = iters[0] if len(iters) == 1 else _call(_name("zip"), list(iters))
        elt = _call(func, [_name(n) for n in names])
        comp = gast.ListComp(elt, [gast.comprehension(target, source, [], 0)])
        return self.expr(located(comp, self.line))

    def lower_sorted(self, node: gast.Call) -> Expr:
        """`sorted(xs, key=f, reverse=r)` as `[xs[i] for i in np.argsort(keys, kind="stable")]`
        with `keys = [f(v) for v in xs]` (negated for `reverse=True`): the order is a constant
        of the values, the items keep their derivatives."""
        options = {k.arg: k.value for k in node.keywords}
        if len(node.args) != 1 or set(options) - {"key", "reverse"}:
            raise self.unsupported(node, "sorted with more than an iterable, key= and reverse=")
        seq, item, index = (self.fresh_local(n) for n in ("seq", "item", "i"))
        self.stmts([located(gast.Assign([_name(seq, gast.Store)], node.args[0], None), self.line)])
        keys: gast.expr = _name(seq)
        if "key" in options:
            elt = _call(self.callee_name(options["key"]), [_name(item)])
            keys = gast.ListComp(elt, [gast.comprehension(_name(item, gast.Store), _name(seq), [], 0)])
        reverse = options.get("reverse", gast.Constant(False, None))
        if not isinstance(reverse, gast.Constant):
            raise self.unsupported(reverse, "sorted with a computed reverse=", "write reverse=True or reverse=False")
        key_atom = self.to_atom(located(keys, self.line))
        if reverse.value:
            key_atom = self.emit(self.namer.temp(), Call(numpy_ref("negative"), (key_atom,)))
        argsort = Call(numpy_ref("argsort"), (key_atom,), (("kind", Const("stable")),))
        order = self.emit(self.fresh_local("order"), argsort)
        pick = gast.Subscript(_name(seq), _name(index), gast.Load())
        comp = gast.ListComp(pick, [gast.comprehension(_name(index, gast.Store), _name(order.name), [], 0)])
        return self.expr(located(comp, self.line))

    def lower_reduce(self, node: gast.Call) -> Expr:
        """`functools.reduce(f, xs[, start])` as `acc = start; for v in xs: acc = f(acc, v)`
        (without a start, from `xs[0]` over `xs[1:]`)."""
        if len(node.args) not in (2, 3) or node.keywords:
            raise self.unsupported(node, "functools.reduce without a function and an iterable")
        func = self.callee_name(node.args[0])
        acc, item, seq = (self.fresh_local(n) for n in ("acc", "item", "seq"))
        stmts = [gast.Assign([_name(seq, gast.Store)], node.args[1], None)]
        source: gast.expr = _name(seq)
        if len(node.args) == 3:
            stmts.append(gast.Assign([_name(acc, gast.Store)], node.args[2], None))
        else:
            stmts.append(gast.Assign([_name(acc, gast.Store)], gast.Subscript(_name(seq), gast.Constant(0, None),
                                                                              gast.Load()), None))
            source = gast.Subscript(_name(seq), gast.Slice(gast.Constant(1, None), None, None), gast.Load())
        step = gast.Assign([_name(acc, gast.Store)], _call(func, [_name(acc), _name(item)]), None)
        stmts.append(gast.For(_name(item, gast.Store), source, [step], [], None))
        self.stmts([located(s, self.line) for s in stmts])
        return self.expr(_name(acc))


def _returned_function(tree: gast.FunctionDef) -> Local | None:
    """The nested function a factory returns: its last statement returns a lambda or a nested
    `def` of its body (the only one), and nothing else in it returns, yields or writes
    `nonlocal`/`global` names. None for any other function."""
    *body, last = tree.body
    if tree.args.vararg or tree.args.kwarg or tree.args.kwonlyargs or not isinstance(last, gast.Return):
        return None
    if any(isinstance(n, (gast.Return, gast.Yield, gast.YieldFrom, gast.Nonlocal, gast.Global, gast.Lambda))
           for s in body if not isinstance(s, gast.FunctionDef) for n in gast.walk(s)):
        return None
    defs = [s for s in body if isinstance(s, gast.FunctionDef)]
    if isinstance(last.value, gast.Lambda) and not defs:
        return last.value
    named = isinstance(last.value, gast.Name) and len(defs) == 1 and defs[0].name == last.value.id
    return defs[0] if named else None


def _stored(body: list[gast.stmt]) -> list[str]:
    """The names a nested function's body binds (not those of functions nested in it)."""
    out: list[str] = []
    todo: list[gast.AST] = list(body)
    while todo:
        node = todo.pop()
        if isinstance(node, (gast.FunctionDef, gast.Lambda)):
            if isinstance(node, gast.FunctionDef):
                out.append(node.name)
            continue
        if isinstance(node, gast.Name) and isinstance(node.ctx, (gast.Store, gast.Del)) and node.id not in out:
            out.append(node.id)
        todo.extend(gast.iter_child_nodes(node))
    return out
