"""Stage 2, lower (a helper): callees known where the code is built.

A function is a value like any other in Python: held in a local, passed as an argument, picked
from a dict or a list, returned by `s2sad.grad`. The lowering calls what such an expression
denotes when that is fixed where the code is built, the way a global function's name is
resolved: a parameter the code is specialised to (`Target.known`, from the arguments' kinds), a
local assigned once from such an expression (`act = ACTIVATIONS[name]`, `dres = s2sad.grad(res)`),
an item of a global container at a known key, an attribute of a known object. `static_value`
evaluates those expressions (and nothing with a side effect but the face's transforms), and
records in `Parsed.static_deps` the dict items, cells and attributes it read, so the cache
rebuilds the code when one of them is rebound (an item of a list is not followed).
A `for` loop over a known list of functions or of the user's objects is unrolled
(`Unrolling`), each step with its item known.
"""

from __future__ import annotations

import types

import gast

from s2sad.core.ir import Ref
from s2sad.core.targets import face_mode, is_function_value

NOT_STATIC = object()
"""What `static_value` returns for an expression not fixed where the code is built."""


def stores(tree: gast.FunctionDef) -> dict[str, list[gast.AST]]:
    """Each name written in `tree`'s own body (not in nested functions), with the statements
    or targets that write it: an `Assign` for `name = value`, the target node otherwise."""
    out: dict[str, list[gast.AST]] = {}

    def visit(node: gast.AST) -> None:
        for child in child_nodes(node):
            if isinstance(child, (gast.FunctionDef, gast.Lambda, gast.ClassDef)):
                if isinstance(child, gast.FunctionDef):
                    out.setdefault(child.name, []).append(child)
                continue
            if isinstance(child, gast.Assign) and len(child.targets) == 1 and isinstance(child.targets[0], gast.Name):
                out.setdefault(child.targets[0].id, []).append(child)
                visit(child.value)
                continue
            if isinstance(child, gast.Name) and isinstance(child.ctx, (gast.Store, gast.Del)):
                out.setdefault(child.id, []).append(child)
            visit(child)

    visit(tree)
    return out


def child_nodes(node: gast.AST) -> list[gast.AST]:
    """The nodes `gast.iter_child_nodes` gives, in its order, as a list (in half its time)."""
    out: list[gast.AST] = []
    for name in node._fields:
        value = getattr(node, name, None)
        if isinstance(value, list):
            out += [item for item in value if isinstance(item, gast.AST)]
        elif isinstance(value, gast.AST):
            out.append(value)
    return out


class StaticValues:
    """Needs from the host: parsed (with `known`), locals."""

    def written(self) -> dict[str, list[gast.AST]]:
        if not hasattr(self, "_written"):
            self._written = stores(self.parsed.tree)
            self._evaluating: set[str] = set()
        return self._written

    def known_param(self, name: str) -> object:
        """The value a parameter is specialised to, if it is never written in the body."""
        if name in self.parsed.known and name not in self.written():
            return self.parsed.known[name]
        return NOT_STATIC

    def depends(self, scope: object, name: object, value: object) -> object:
        """Record that the code depends on `scope[name]` (a dict's item, a cell, an object's
        attribute) being `value`: the cache rebuilds it when that changes. Returns `value`."""
        if scope is not None:
            self.parsed.static_deps.append((scope, name, value))
        return value

    def static_value(self, node: gast.expr) -> object:
        """The value `node` denotes where the code is built, or NOT_STATIC (see the module)."""
        handler = getattr(self, "static_" + type(node).__name__, None)
        try:
            return NOT_STATIC if handler is None else handler(node)
        except (LookupError, AttributeError, TypeError):
            return NOT_STATIC

    def static_Constant(self, node: gast.Constant) -> object:
        return node.value

    def static_Name(self, node: gast.Name) -> object:
        name = node.id
        if name in getattr(self, "unrolled", {}):
            return self.unrolled[name]
        if name not in self.locals:
            found, value = self.parsed.lookup(name)
            cell = dict(zip(self.parsed.fun.__code__.co_freevars, self.parsed.fun.__closure__ or ())).get(name)
            scope = cell if cell is not None else self.parsed.globals if name in self.parsed.globals else None
            return self.depends(scope, name, value) if found else NOT_STATIC
        value = self.known_param(name)
        if value is not NOT_STATIC or name in self.parsed.known:
            return value
        writes = self.written().get(name, [])
        if len(writes) != 1 or not isinstance(writes[0], gast.Assign) or name in self._evaluating:
            return NOT_STATIC
        self._evaluating.add(name)
        try:
            value = self.static_value(writes[0].value)
        finally:
            self._evaluating.discard(name)
        return value if is_function_value(value) or isinstance(value, (tuple, types.ModuleType)) else NOT_STATIC

    def static_Attribute(self, node: gast.Attribute) -> object:
        owner = self.static_value(node.value)
        if owner is NOT_STATIC or hasattr(owner, "__array__") or isinstance(owner, (int, float, complex)):
            return NOT_STATIC
        value = getattr(owner, node.attr)
        own = getattr(owner, "__dict__", None)
        if isinstance(own, dict) and node.attr in own and not isinstance(owner, type):
            self.depends(own, node.attr, value)  # an object's attribute: `layer.act`
        return value

    def static_Subscript(self, node: gast.Subscript) -> object:
        owner = self.static_value(node.value)
        key = self.static_value(node.slice)
        if owner is NOT_STATIC or key is NOT_STATIC or not isinstance(owner, (dict, list, tuple)):
            return NOT_STATIC
        if not isinstance(key, (str, int)) or isinstance(key, bool):
            return NOT_STATIC
        return self.depends(owner, key, owner[key]) if isinstance(owner, dict) else owner[key]

    def static_Call(self, node: gast.Call) -> object:
        """`s2sad.grad(f, ...)` of a known `f` (the face's transforms only: nothing else is run)."""
        maker = self.static_value(node.func)
        if maker is NOT_STATIC or face_mode(maker) is None or not node.args:
            return NOT_STATIC
        args = [self.static_value(a) for a in node.args]
        options = {k.arg: self.static_value(k.value) for k in node.keywords}
        if any(v is NOT_STATIC for v in [*args, *options.values()]):
            return NOT_STATIC
        return maker(*args, **options)


def _object_item(value: object) -> bool:
    """A function value (not a string) or an instance of the user's own class."""
    if isinstance(value, str):
        return False
    if is_function_value(value):
        return True
    module = type(value).__module__ or ""
    return hasattr(value, "__dict__") and not isinstance(value, (type, types.ModuleType)) and \
        module.split(".")[0] not in ("builtins", "numpy", "scipy")


class Unrolling:
    """Needs from the host: StaticValues, stmts(), emit(), unsupported(), loops."""

    def unroll_for(self, node: gast.For) -> bool:
        """`for layer in LAYERS: x = layer.forward(x)` over a known list or tuple of functions or
        objects of the user's classes: the body once per item, each with the item known (so its
        methods and the functions it holds are known callees). False when it does not apply."""
        if not isinstance(node.target, gast.Name) or node.orelse:
            return False
        items = self.static_value(node.iter)
        if not isinstance(items, (list, tuple)) or not items or not all(_object_item(v) for v in items):
            return False
        exits = (gast.Break, gast.Continue, gast.Return, gast.Yield)
        if any(isinstance(n, exits) for s in node.body for n in gast.walk(s)):
            return False
        unrolled = self.__dict__.setdefault("unrolled", {})
        name = node.target.id
        saved = unrolled.get(name, NOT_STATIC)
        try:
            for item in items:
                unrolled[name] = item
                self.emit(self.renames.get(name, name), Ref(item, (name,)))
                self.stmts(node.body)
        finally:
            unrolled.pop(name, None)
            if saved is not NOT_STATIC:
                unrolled[name] = saved
        return True
