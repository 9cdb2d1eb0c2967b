"""Lowering of expressions: flatten nested expressions into one operation per statement.

A mixin of `lower.Lowerer`; each `expr_<Node>` returns an IR expression whose operands are
atoms, emitting the statements that compute those atoms first.
"""

from __future__ import annotations

import builtins
import dataclasses
import functools
import inspect
import operator
import types

import gast

from s2sad.core.ir import Assign, Atom, Call, Const, Expr, For, If, Pack, Ref, Var
from s2sad.core.modes import GRADIENTS, JVP
from s2sad.core.naming import numpy_ref, runtime_ref, spelled_name
from s2sad.core.syntax import BINARY, COMPARE, UNARY, operator_ref
from s2sad.core.targets import (
    Shaped,
    Specialised,
    as_function,
    call_shape,
    callable_object,
    face_mode,
    is_function_value,
    is_variadic,
    make_derivative,
    params_of,
    rule_kind,
    shaped,
    target_of,
)
from s2sad.errors import UnsupportedSyntax
from s2sad.front.callees import NOT_STATIC, StaticValues, Unrolling
from s2sad.front.distributions import FrozenDistributions
from s2sad.front.local_functions import LocalFunctions, located
from s2sad.front.methods import ARRAY_ATTRIBUTES, ARRAY_METHODS, target_ref
from s2sad.front.parse import MethodOf, in_library, is_user_function
from s2sad.front.piecewise import Piecewise
from s2sad.rules.registry import lookup


def getitem_ref() -> Ref:
    return Ref(operator.getitem, ("operator", "getitem"), operator)


def getattr_ref() -> Ref:
    return Ref(builtins.getattr, ("getattr",))


class ExprLowering(StaticValues, Unrolling, LocalFunctions, FrozenDistributions, Piecewise):
    """Needs from the host: parsed, locals, namer, renames, emit(), unsupported(), sub_block()."""

    def to_atom(self, node: gast.expr) -> Atom:
        expr = self.expr(node)
        if isinstance(expr, (Var, Const, Ref)):
            return expr
        return self.emit(self.namer.temp(), expr)

    def expr(self, node: gast.expr) -> Expr:
        handler = getattr(self, "expr_" + type(node).__name__, None)
        if handler is None:
            raise self.unsupported(node, f"the expression `{describe(node)}`", UNSUPPORTED_HINTS.get(
                type(node).__name__, "compute the value another way (see docs/programs.md)"))
        return handler(node)

    def expr_Constant(self, node: gast.Constant) -> Expr:
        return Const(node.value)

    def expr_Name(self, node: gast.Name) -> Expr:
        if node.id in self.renames:
            return Var(self.renames[node.id])
        if node.id in self.locals:
            value = self.static_value(node)
            if isinstance(value, str) and self.known_param(node.id) is value:
                return Const(value)
            if value is not NOT_STATIC and is_function_value(value) and not isinstance(value, str):
                return Ref(value, (node.id,))
            return Var(node.id)
        found, value = self.parsed.lookup(node.id)
        if not found:
            raise UnsupportedSyntax(f"name {node.id!r} is not defined", self.parsed.where(node),
                                    "define it before calling the transformed function")
        return global_atom(node.id, value)

    def expr_BinOp(self, node: gast.BinOp) -> Expr:
        op = BINARY[type(node.op).__name__]
        return Call(operator_ref(op), (self.to_atom(node.left), self.to_atom(node.right)))

    def expr_UnaryOp(self, node: gast.UnaryOp) -> Expr:
        operand = self.to_atom(node.operand)
        if isinstance(node.op, gast.USub) and isinstance(operand, Const) and type(operand.value) in (int, float):
            return Const(-operand.value)
        return Call(operator_ref(UNARY[type(node.op).__name__]), (operand,))

    def expr_Compare(self, node: gast.Compare) -> Expr:
        if len(node.ops) > 1:
            return self.chained_compare(node)
        op = COMPARE.get(type(node.ops[0]).__name__)
        if op is None:
            raise self.unsupported(node, f"the comparison `{type(node.ops[0]).__name__}`")
        return Call(operator_ref(op), (self.to_atom(node.left), self.to_atom(node.comparators[0])))

    def expr_Tuple(self, node: gast.Tuple) -> Expr:
        atoms = tuple(self.to_atom(e) for e in node.elts)
        if all(isinstance(a, Const) for a in atoms):
            return Const(tuple(a.value for a in atoms))
        return Pack(atoms)

    def expr_List(self, node: gast.List) -> Expr:
        return Call(runtime_ref("make_list"), tuple(self.to_atom(e) for e in node.elts))

    def expr_Dict(self, node: gast.Dict) -> Expr:
        if not all(isinstance(k, gast.Constant) for k in node.keys):
            return self.built_dict(node)
        keys = [self.to_atom(k) for k in node.keys]
        values = tuple(self.to_atom(v) for v in node.values)
        return Call(runtime_ref("make_dict"), (Const(tuple(k.value for k in keys)), *values))

    def built_dict(self, node: gast.Dict) -> Expr:
        """`{k: v, **other}` with a computed key or `**`: a new dict written item by item, keys
        and values evaluated in the order Python evaluates them."""
        out = Var(self.fresh_local("d"))
        self.emit(out.name, Call(runtime_ref("make_dict"), (Const(()),)))
        for key, value in zip(node.keys, node.values):
            if key is None:
                self.merge_into(out, self.to_atom(value))
                continue
            pair = (self.to_atom(key), self.to_atom(value))
            self.body.append(Assign(out, Call(runtime_ref("setitem"), (out, *pair)), self.line))
        return out

    def merge_into(self, out: Var, other: Atom) -> None:
        """`**other` in a dict display: each of its items in turn."""
        other = self.emit(self.fresh_local("other"), other)
        keys = self.emit(self.namer.temp(), Call(runtime_ref("keys_of"), (other,)))
        count = self.emit(self.namer.temp(), Call(Ref(builtins.len, ("len",)), (keys,)))
        span = self.emit(self.namer.temp(), Call(Ref(builtins.range, ("range",)), (count,)))
        k = Var(self.fresh_local("k"))

        def body() -> None:
            key = self.emit(self.namer.temp(), Call(getitem_ref(), (keys, k)))
            value = self.emit(self.namer.temp(), Call(getitem_ref(), (other, key)))
            self.body.append(Assign(out, Call(runtime_ref("setitem"), (out, key, value)), self.line))

        self.body.append(For(k, span, self.sub_block(body), self.line))

    def dict_get(self, owner: gast.expr, key: Atom, default: Atom | None = None) -> Expr:
        """`d.get(k, default)`: `d[k] if k in d else default` (the default computed first, as an
        argument is)."""
        mapping = self.to_atom(owner)
        found = self.emit(self.namer.temp(), Call(Ref(operator.contains, ("operator", "contains"), operator),
                                                  (mapping, key)))
        out = self.fresh_local()
        read = self.sub_block(lambda: self.emit(out, Call(getitem_ref(), (mapping, key))))
        missing = self.sub_block(lambda: self.emit(out, Const(None) if default is None else default))
        self.body.append(If(found, read, missing, self.line))
        return Var(out)

    def expr_Subscript(self, node: gast.Subscript) -> Expr:
        joined = self.index_concat(node)
        if joined is not None:
            return joined
        return Call(getitem_ref(), (self.to_atom(node.value), self.index(node.slice)))

    def index_concat(self, node: gast.Subscript) -> Expr | None:
        """`np.r_[a, 0:3, b]` and `np.c_[a, b]`: a call of `index_concat`, which has a rule (a
        subscript of the np.r_ object would take the items for an index and drop them). A slice
        item with computed bounds is an `np.arange` (`np.linspace` for a literal complex step),
        differentiated in its bounds. `np.mgrid`/`np.ogrid` with computed bounds are refused."""
        import numpy as np

        ref = self.resolve(node.value) if isinstance(node.value, (gast.Name, gast.Attribute)) else None
        if ref is None or not any(ref.value is helper for helper in (np.r_, np.c_, np.mgrid, np.ogrid)):
            return None
        parts = node.slice.elts if isinstance(node.slice, gast.Tuple) else [node.slice]
        if ref.value is np.mgrid or ref.value is np.ogrid:
            if not all(isinstance(self.index(p), Const) for p in parts):
                raise self.unsupported(node, "np.mgrid or np.ogrid with computed bounds",
                                       "build the grid from np.linspace or np.arange and broadcasting")
            return None
        items = tuple(self.concat_item(p) for p in parts)
        packed = Const(tuple(a.value for a in items)) if all(isinstance(a, Const) for a in items) else \
            self.emit(self.namer.temp(), Pack(items))
        return Call(runtime_ref("index_concat"), (Const("r_" if ref.value is np.r_ else "c_"), packed))

    def concat_item(self, node: gast.expr) -> Atom:
        """One item of np.r_[...]: a constant slice stays a slice, a computed one becomes the
        np.arange or np.linspace it stands for."""
        if not isinstance(node, gast.Slice):
            return self.index(node)
        start, stop, step = (Const(None) if p is None else self.to_atom(p) for p in (node.lower, node.upper, node.step))
        if all(isinstance(p, Const) for p in (start, stop, step)):
            return Const(slice(start.value, stop.value, step.value))
        start = Const(0) if start == Const(None) else start
        if isinstance(step, Const) and isinstance(step.value, complex):
            call = Call(numpy_ref("linspace"), (start, stop, Const(int(abs(step.value)))))
        else:
            call = Call(numpy_ref("arange"), (start, stop, Const(1) if step == Const(None) else step))
        return self.emit(self.namer.temp(), call)

    def index(self, node: gast.expr) -> Atom:
        if isinstance(node, gast.Slice):
            parts = [None if p is None else self.to_atom(p) for p in (node.lower, node.upper, node.step)]
            if all(p is None or isinstance(p, Const) for p in parts):
                return Const(slice(*(None if p is None else p.value for p in parts)))
            atoms = tuple(Const(None) if p is None else p for p in parts)
            return self.emit(self.namer.temp(), Call(Ref(slice, ("slice",)), atoms))
        if isinstance(node, gast.Tuple):
            items = tuple(self.index(e) for e in node.elts)
            if all(isinstance(a, Const) for a in items):
                return Const(tuple(a.value for a in items))
            return self.emit(self.namer.temp(), Pack(items))
        return self.to_atom(node)

    def expr_Attribute(self, node: gast.Attribute) -> Expr:
        ref = self.resolve(node)
        if ref is not None:
            return ref
        if node.attr in ARRAY_ATTRIBUTES:
            return Call(target_ref(ARRAY_ATTRIBUTES[node.attr]), (self.to_atom(node.value),))
        return Call(getattr_ref(), (self.to_atom(node.value), Const(node.attr)))

    def expr_Call(self, node: gast.Call) -> Expr:
        local = self.local_function(node.func)
        if local is not None:
            return self.inline_call(local, node)
        made = self.factory_call(node)
        if made is not None:
            return made
        inline = self.inline_transform(node)
        if inline is not None:
            return inline
        frozen = self.frozen_call(node)
        if frozen is not None:
            return frozen
        pieces = self.lower_piecewise(node) if self.is_piecewise(node) else None
        if pieces is not None:
            return pieces
        func = node.func
        if self.is_map_into_list(node):
            return self.lower_map(node.args[0])  # `list(map(f, xs))`: the map is a list already
        if self.is_taker(func):
            taker = self.resolve(func).value
            lowering = {builtins.map: self.lower_map, builtins.sorted: self.lower_sorted}.get(taker, self.lower_reduce)
            return lowering(node)
        if self.is_iteration(node) and isinstance(func, gast.Attribute):
            return self.dict_view_value(node)
        if len(node.args) == 1 and isinstance(node.args[0], gast.GeneratorExp):
            node.args = [gast.ListComp(node.args[0].elt, node.args[0].generators)]
        ref = self.resolve(func)
        if ref is not None and ref.value is builtins.zip and spreads_rows(node):
            return Call(runtime_ref("transposed"), (self.to_atom(node.args[0].value),))
        made = self.iteration_value(node, ref.value) if ref is not None else None
        if made is not None:
            return made
        if ref is not None and (ref.value is builtins.max or ref.value is builtins.min) and self.one_iterable(node):
            items = self.emit(self.namer.temp(), Call(numpy_ref("array"), (self.to_atom(node.args[0]),)))
            return Call(numpy_ref("max" if ref.value is builtins.max else "min"), (items,))
        if ref is not None and ref.value is _numpy().einsum:
            node.args = self.einsum_subscripts(node)
        node.args, node.keywords = _spread_displays(*self.spread_known(node.args, node.keywords))
        if ref is None:
            ref = self.static_callee(func)
        if any(isinstance(a, gast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            return self.unpacking_call(node, ref)
        args = tuple(self.call_arg(a) for a in node.args)
        kwargs = tuple((k.arg, self.call_arg(k.value)) for k in node.keywords if self.check_keyword(k))
        if ref is not None:
            ref, kwargs = at_call_shape(called(ref), args, kwargs)
            ref = specialised(ref, args, kwargs)
        if ref is not None and _user_bound_method(ref.value):  # `obj.method(x)` on a global object
            method, owner = ref.value.__func__, ref.value.__self__
            cls = type(owner)
            target = Ref(MethodOf(method, cls), (cls.__name__, method.__name__), cls)
            args = (Ref(owner, (*ref.path, "__self__"), ref.root), *args)
            target, kwargs = at_call_shape(target, args, kwargs)
            return Call(specialised(target, args, kwargs), args, kwargs)
        if ref is None and isinstance(func, gast.Attribute):
            return self.method_call(func, args, kwargs)
        if ref is None:  # a function value known only when the code runs (see `runtime.dispatch`)
            return Call(runtime_ref("call_value"), (self.to_atom(func), *args), kwargs)
        fields = record_fields(ref.value, len(args), tuple(k for k, _ in kwargs))
        if fields is not None:  # `Dense(w, b)`: a structure whose fields carry derivatives
            return Call(runtime_ref("make_record"), (ref, Const(fields), *args, *(a for _, a in kwargs)))
        return Call(ref, args, kwargs)

    def spread_known(self, args: list, keywords: list) -> tuple[list, list]:
        """`g(*args, **kwargs)` of the function's own `*args` and `**kwargs` at a call shape
        (`Parsed.spreads`): their items written out, `g(args_0, args_1, w=kwargs_w)`."""
        spreads = self.parsed.spreads

        def known(node: gast.expr, kind: type) -> object:
            name = node.id if isinstance(node, gast.Name) and node.id not in self.renames else None
            return spreads.get(name) if isinstance(spreads.get(name), kind) else None

        out: list = []
        for arg in args:
            items = known(arg.value, list) if isinstance(arg, gast.Starred) else None
            out += [located(gast.Name(p, gast.Load(), None, None), arg.lineno) for p in items] \
                if items is not None else [arg]
        named: list = []
        for k in keywords:
            items = known(k.value, dict) if k.arg is None else None
            named += [gast.keyword(key, located(gast.Name(p, gast.Load(), None, None), k.value.lineno))
                      for key, p in items.items()] \
                if items is not None else [k]
        return out, named

    def unpacking_call(self, node: gast.Call, ref: Ref | None) -> Expr:
        """`f(*xs)` or `f(**opts)` with items not written out: a user function whose parameters
        are all positional gets `xs[0], xs[1], ...` (their number checked when it runs); any
        other call goes through `call_unpacking`, which runs on constants only."""
        fixed = _positional_count(ref.value) if ref is not None and is_user_function(ref.value) else None
        starred = [a for a in node.args if isinstance(a, gast.Starred)]
        if fixed is not None and len(starred) == 1 and node.args[-1] is starred[0] and not node.keywords:
            args = [self.to_atom(a) for a in node.args[:-1]]
            items = self.to_atom(starred[0].value)
            count = fixed - len(args)
            self.check_count(items, count, ref)
            args += [self.emit(self.namer.temp(), Call(getitem_ref(), (items, Const(i)))) for i in range(count)]
            return Call(ref, tuple(args))
        spec, values = [], []
        for arg in node.args:
            spec.append("*" if isinstance(arg, gast.Starred) else "")
            values.append(self.to_atom(arg.value if isinstance(arg, gast.Starred) else arg))
        for k in node.keywords:
            spec.append("**" if k.arg is None else k.arg)
            values.append(self.to_atom(k.value))
        return Call(runtime_ref("call_unpacking"), (self.to_atom(node.func), Const(tuple(spec)), *values))

    def check_count(self, items: Atom, count: int, ref: Ref) -> None:
        """`if len(items) != count: raise TypeError(...)`, what Python's call would raise."""
        length = self.emit(self.namer.temp(), Call(Ref(builtins.len, ("len",)), (items,)))
        wrong = self.emit(self.namer.temp(), Call(operator_ref(operator.ne), (length, Const(count))))
        name = getattr(ref.value, "__name__", "the function")
        message = f"{name}() needs {count} items from `*` (a different number came)"
        error = Call(Ref(TypeError, ("TypeError",)), (Const(message),))

        def fail() -> None:
            self.emit(self.namer.temp(), Call(runtime_ref("raise_error"), (self.emit(self.namer.temp(), error),)))

        self.body.append(If(wrong, self.sub_block(fail), [], self.line))

    def one_iterable(self, node: gast.Call) -> bool:
        """`max(xi ** 2 for xi in x)`: one iterable, no `key=` or `default=` (then `np.max` of it)."""
        return len(node.args) == 1 and not node.keywords and not isinstance(node.args[0], gast.Starred)

    def static_callee(self, func: gast.expr) -> Ref | None:
        """What a callee expression that is no global name denotes, when that is known where the
        code is built (see `front.callees`)."""
        value = self.static_value(func)
        if value is NOT_STATIC or not callable(value) or isinstance(value, str):
            return None
        return Ref(value, (_spelling(func),))

    def einsum_subscripts(self, node: gast.Call) -> list[gast.expr]:
        """`np.einsum(a, [0, 1], b, [1, 2], [0, 2])`, the sublist form, as the subscripts form
        `np.einsum('ab,bc->ac', a, b)` (whose rule differentiates every operand)."""
        args = list(node.args)
        if not args or (isinstance(args[0], gast.Constant) and isinstance(args[0].value, str)):
            return args
        if any(isinstance(a, gast.Starred) for a in args):
            return args
        pairs, output = args[: len(args) // 2 * 2], args[len(args) // 2 * 2:]
        operands = pairs[0::2]
        labels = [self.einsum_labels(sub) for sub in pairs[1::2]]
        text = ",".join(labels) + ("->" + self.einsum_labels(output[0]) if output else "")
        return [gast.Constant(value=text, kind=None), *operands]

    def einsum_labels(self, node: gast.expr) -> str:
        letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"  # NumPy's order: 0 is A, 26 is a
        items = node.elts if isinstance(node, (gast.List, gast.Tuple)) else None
        out = []
        for item in items or ():
            value = item.value if isinstance(item, gast.Constant) else None
            if value is Ellipsis or (isinstance(item, gast.Name) and item.id == "Ellipsis"):
                out.append("...")
            elif type(value) is int and 0 <= value < len(letters):
                out.append(letters[value])
            else:
                items = None
                break
        if items is None:
            raise self.unsupported(node, "np.einsum's sublist form with subscripts that are not a literal list of "
                                   "integers", "write the subscripts as a string: np.einsum('ij,jk->ik', a, b)")
        return "".join(out)

    def method_call(self, func: gast.Attribute, args: tuple, kwargs: tuple) -> Expr:
        """`x.sum(0)` is `np.sum(x, 0)`; `items.append(v)` / `items.pop()` are list operations."""
        if func.attr in ("append", "pop") and not kwargs and len(args) == (func.attr == "append"):
            owner = self.to_atom(func.value)
            name = "list_append" if func.attr == "append" else "list_pop"
            return Call(runtime_ref(name), (owner, *args))
        method = self.user_method(func)
        if method is not None:
            args = (self.to_atom(func.value), *args)
            method, kwargs = at_call_shape(method, args, kwargs)
            return Call(method, args, kwargs)
        if func.attr == "get" and len(args) in (1, 2) and not kwargs:
            return self.dict_get(func.value, *args)
        if func.attr not in ARRAY_METHODS:  # any other object's method: fine while nothing active flows in
            return Call(runtime_ref("call_method"), (self.to_atom(func.value), Const(func.attr), *args), kwargs)
        ref = target_ref(ARRAY_METHODS[func.attr])
        if func.attr in ("reshape", "transpose") and len(args) > 1:
            args = (self.emit(self.namer.temp(), Pack(args)),)
        return Call(ref, (self.to_atom(func.value), *args), kwargs)

    def inline_transform(self, node: gast.Call) -> Expr | None:
        """`s2sad.grad(f, ...)(x)` and `s2sad.jvp(f, (x,), (v,))` inside a differentiated function:
        the transformed function is made now (its arguments are constants) and called like any
        user function, so derivatives of derivatives nest."""
        func = node.func
        if isinstance(func, gast.Call) and not func.args[1:] and func.args:
            maker = self.resolve(func.func) if isinstance(func.func, (gast.Name, gast.Attribute)) else None
            if maker is not None and face_mode(maker.value) in GRADIENTS:
                target = self.constant(func.args[0])
                options = {k.arg: self.constant(k.value) for k in func.keywords}
                made = maker.value(target, **options)
                args = tuple(self.call_arg(a) for a in node.args)
                return Call(Ref(made, (f"{made.mode}_of_{spelled_name(target)}",)), args)
        maker = self.resolve(func) if isinstance(func, (gast.Name, gast.Attribute)) else None
        if maker is None or face_mode(maker.value) != JVP or len(node.args) != 3:
            return None
        target = self.constant(node.args[0])
        primals, tangents = node.args[1], node.args[2]
        if not (isinstance(primals, gast.Tuple) and isinstance(tangents, gast.Tuple)):
            raise self.unsupported(node, "s2sad.jvp with primals or tangents not written as tuples",
                                   "write s2sad.jvp(f, (x, y), (dx, dy))")
        made = make_derivative(target, JVP, tuple(range(len(primals.elts))))
        atoms = tuple(self.to_atom(e) for e in primals.elts + tangents.elts)
        return Call(Ref(made, (f"jvp_of_{spelled_name(target)}",)), atoms)

    def constant(self, node: gast.expr) -> object:
        """The value of an argument that must be known when the derivative is built."""
        atom = self.to_atom(node)
        if isinstance(atom, Var):
            raise self.unsupported(node, "a transform of a function held in a local variable",
                                   "refer to the function by its global name")
        return atom.value

    def user_method(self, func: gast.Attribute) -> Ref | None:
        """`self.other(x)` in a method (or `obj.method(x)` on a global object) whose class defines
        `other` as a plain function: the function itself, called with the object first."""
        owner = func.value
        cls = None
        if isinstance(owner, gast.Name) and owner.id == self.self_name and self.parsed.self_class is not None:
            cls = self.parsed.self_class
        elif isinstance(owner, gast.Name) and owner.id not in self.locals:
            found, obj = self.parsed.lookup(owner.id)
            cls = type(obj) if found and not isinstance(obj, (types.ModuleType, type)) else None
        if cls is None or cls.__module__ in ("builtins", "numpy") or cls.__module__.startswith("numpy."):
            return None
        function = inspect.getattr_static(cls, func.attr, None)
        if not isinstance(function, types.FunctionType):
            return None
        return Ref(MethodOf(function, cls), (cls.__name__, func.attr), cls)

    def call_arg(self, node: gast.expr) -> Atom:
        if isinstance(node, gast.Starred):
            raise self.unsupported(node, "`*args` in a call")
        return self.to_atom(node)

    def check_keyword(self, k: gast.keyword) -> bool:
        if k.arg is None:
            raise self.unsupported(k.value, "`**kwargs` in a call")
        return True

    def resolve(self, node: gast.expr) -> Ref | None:
        """The object a global name or a dotted module path denotes, or None for a local value."""
        parts: list[str] = []
        while isinstance(node, gast.Attribute):
            parts.insert(0, node.attr)
            node = node.value
        if not isinstance(node, gast.Name) or node.id in self.locals or node.id in self.renames:
            return None
        found, root = self.parsed.lookup(node.id)
        if not found:
            raise UnsupportedSyntax(f"name {node.id!r} is not defined", self.parsed.where(node))
        value = root
        for i, part in enumerate(parts):
            if not hasattr(value, part):
                if i == len(parts) - 1 and not isinstance(value, types.ModuleType):
                    return None  # a method of a global object; handled by the caller
                raise UnsupportedSyntax(f"{'.'.join([node.id, *parts[:i + 1]])!r} does not exist",
                                        self.parsed.where(node))
            value = getattr(value, part)
        return Ref(value, (node.id, *parts), root)


def spreads_rows(node: gast.Call) -> bool:
    """`zip(*rows)` (one spread argument that is not a display): the transpose of `rows`, a new
    list of tuples (`runtime.transposed`)."""
    return (len(node.args) == 1 and not node.keywords and isinstance(node.args[0], gast.Starred)
            and not isinstance(node.args[0].value, (gast.Tuple, gast.List)))


def _spread_displays(args: list, keywords: list) -> tuple[list, list]:
    """`f(*(a, b), **{"k": v})` as `f(a, b, k=v)`."""
    out = []
    for arg in args:
        if isinstance(arg, gast.Starred) and isinstance(arg.value, (gast.Tuple, gast.List)):
            out.extend(arg.value.elts)
        else:
            out.append(arg)
    named = []
    for k in keywords:
        value = k.value
        if k.arg is None and isinstance(value, gast.Dict) and all(
                isinstance(key, gast.Constant) and isinstance(key.value, str) for key in value.keys):
            named.extend(gast.keyword(key.value, v) for key, v in zip(value.keys, value.values))
        else:
            named.append(k)
    return out, named


def _positional_count(fun: object) -> int | None:
    """How many parameters a user function takes, when all are plain positional ones."""
    try:
        params = inspect.signature(fun).parameters.values()
    except (TypeError, ValueError):
        return None
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if not all(p.kind in kinds and p.default is inspect.Parameter.empty for p in params):
        return None
    return len(params)


def called(ref: Ref) -> Ref:
    """A partial or an object with `__call__` is called through the function `as_function`
    makes of it (a bound `__call__` is then a method call on the object)."""
    if lookup(ref.value) is None and (isinstance(ref.value, functools.partial) or callable_object(ref.value)):
        return Ref(as_function(ref.value), (f"{ref.path[-1]}_call",))
    return ref


def at_call_shape(ref: Ref, args: tuple, kwargs: tuple) -> tuple[Ref, tuple]:
    """A user function with `*args` or `**kwargs` is called through its variant at the shape of
    this call (`core.targets.Shaped`), which takes the extra keywords under their parameter
    names (`kwargs_w=v`): the call's keywords renamed so."""
    fun = ref.value
    if (isinstance(fun, (Shaped, Specialised, types.MethodType)) or not is_user_function(fun)
            or rule_kind(fun) is not None or getattr(fun, "__wrapped__", None) is not None):
        return ref, kwargs  # a decorator's wrapper passing `*args, **kwargs` on: refused at its `def`
    try:
        target = target_of(fun)
        variadic = is_variadic(target)
    except Exception:  # noqa: BLE001 - no readable signature: called as it is
        return ref, kwargs
    if not variadic:
        return ref, kwargs
    shape, renamed = call_shape(target, args, dict(kwargs))
    return Ref(shaped(fun, shape), ref.path, ref.root if len(ref.path) > 1 else None), tuple(renamed.items())


def specialised(ref: Ref, args: tuple, kwargs: tuple) -> Ref:
    """A call of a user function passing it function values (or strings) known here calls its
    derivative specialised to them (`core.targets.Specialised`)."""
    fun = ref.value
    if isinstance(fun, Specialised) or not is_user_function(fun) or rule_kind(fun) is not None:
        return ref
    try:
        params = params_of(fun)
    except Exception:  # noqa: BLE001 - no readable signature: not specialised
        return ref
    values = [*zip(params, args), *kwargs]
    known = tuple((name, _atom_value(a)) for name, a in values if _atom_value(a) is not NOT_STATIC)
    if isinstance(fun, MethodOf) and args and isinstance(args[0], Ref) and _hashable(args[0].value):
        known = ((params[0], args[0].value), *known)  # a method of a known object: `self.act(x)` is known too
    if not known:
        return ref
    return Ref(Specialised(fun, known), ref.path, ref.root if len(ref.path) > 1 else None)


def _atom_value(atom: Atom) -> object:
    if isinstance(atom, (Ref, Const)) and is_function_value(atom.value):
        return atom.value
    return NOT_STATIC


def _hashable(value: object) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return not isinstance(value, types.ModuleType)


def _spelling(func: gast.expr) -> str:
    """A name for a callee expression in generated code: `ACTIVATIONS['tanh']` -> `ACTIVATIONS_tanh`."""
    text = "".join(c if c.isalnum() else "_" for c in describe(func)).strip("_")
    while "__" in text:
        text = text.replace("__", "_")
    return text if text and not text[0].isdigit() else "callee"


def _numpy():
    import numpy

    return numpy


UNSUPPORTED_HINTS = {
    "Set": "build a list or a dict (a set's order is not the order of its values)",
    "SetComp": "build a list or a dict (a set's order is not the order of its values)",
    "Await": "differentiate a plain function",
    "NamedExpr": "assign the value on a line of its own (`v = ...`) before using it",
}
"""How to write an expression the lowering has no rule for, by its node."""


def record_fields(cls: object, count: int, keys: tuple[str, ...]) -> tuple[str, ...] | None:
    """The fields that `cls(*count positional, **keys)` sets, where `cls` is a namedtuple or a
    dataclass whose generated `__init__` only stores them (no `__post_init__`, no field left out
    of `__init__`): then it is a structure, built field by field. None otherwise."""
    if not isinstance(cls, type):
        return None
    if issubclass(cls, tuple) and hasattr(cls, "_fields") and hasattr(cls, "_make"):
        names = tuple(cls._fields)
    elif dataclasses.is_dataclass(cls) and cls.__dataclass_params__.init and not hasattr(cls, "__post_init__"):
        fields = dataclasses.fields(cls)
        if any(not f.init for f in fields) or not _generated_init(cls):
            return None
        names = tuple(f.name for f in fields)
    else:
        return None
    if count > len(names) or set(keys) - set(names[count:]) or len(set(keys)) < len(keys):
        return None
    return names[:count] + keys


def _generated_init(cls: type) -> bool:
    """Whether `cls.__init__` is the one dataclasses wrote for the class that defines it (a
    dataclass, compiled from a string), not one the user wrote."""
    owner = next((k for k in cls.__mro__ if "__init__" in k.__dict__), object)
    code = getattr(owner.__dict__.get("__init__"), "__code__", None)
    return "__dataclass_params__" in owner.__dict__ and code is not None and code.co_filename == "<string>"


def _user_bound_method(value: object) -> bool:
    """A method bound to an instance of a user class (not a module's, NumPy's or a builtin's)."""
    if not isinstance(value, types.MethodType) or not isinstance(value.__func__, types.FunctionType):
        return False
    module = type(value.__self__).__module__
    if lookup(value) is not None or in_library(value):
        return False  # a library's method (scipy.stats.norm.logpdf): called as it is, by its rule
    return not isinstance(value.__self__, type) and module != "builtins" and not module.startswith("numpy")


def global_atom(name: str, value: object) -> Atom:
    if name in ("True", "False", "None"):
        return Const(value)
    return Ref(value, (name,))


def describe(node: gast.AST) -> str:
    try:
        text = gast.unparse(node)
    except Exception:  # noqa: BLE001 - describing is best effort
        text = ""
    return (text.splitlines()[0] if text else type(node).__name__.lower())[:60]


__all__ = ["ExprLowering", "describe", "getitem_ref", "getattr_ref", "global_atom"]
