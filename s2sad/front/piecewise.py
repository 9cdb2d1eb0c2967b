"""Stage 2, lower (a helper): `np.piecewise(x, condlist, funclist, *args, **kw)` written out.

NumPy calls the functions itself, out of s2sad's sight, so the lowering writes the loop NumPy
runs, which every mode differentiates:

    xs = np.ravel(x)
    out = np.zeros_like(xs)
    c0 = np.ravel(np.asarray(cond0, dtype=bool)); ...   # [else: ce = not (c0 or c1 ...)]
    if np.count_nonzero(c0) > 0:
        out[c0] = f0(xs[c0], *args, **kw)               # only where c0 holds, as NumPy does
    out[c1] = value1                                    # an item that is not a function
    ...
    np.reshape(out, np.shape(x))                        # (a scalar x gives a 0-d array)

Like NumPy, each function sees only the items where its condition holds (and is not called
when there are none), a later condition overrides an earlier one, and a function list one
longer than the condition list gives the value where no condition holds. The functions may be
lambdas or nested functions written there, functions with a rule or with source, or values
(constants or computed ones, differentiated too). The condition list is a list display or a
single condition; the function list a list or tuple display, or a global list known when the
code is built. Other forms keep NumPy's call, refused when an active value reaches it.
"""

from __future__ import annotations

import operator

import gast

from s2sad.core.ir import Atom, Call, Const, Expr, If, Ref, Var
from s2sad.core.naming import numpy_ref
from s2sad.core.syntax import operator_ref
from s2sad.front.callees import NOT_STATIC
from s2sad.front.local_functions import located


def _name(name: str, ctx: type = gast.Load) -> gast.Name:
    return gast.Name(name, ctx(), None, None)


def _np(name: str, *args: Atom, **keywords: Atom) -> Call:
    return Call(numpy_ref(name), args, tuple(keywords.items()))


class Piecewise:
    """Needs from the host: parsed, locals, namer, line, body, emit(), to_atom(), stmts(),
    sub_block(), fresh_local(), callee_name(), resolve(), static_value(), local_function(),
    unsupported()."""

    def is_piecewise(self, node: gast.Call) -> bool:
        import numpy as np

        func = node.func
        if not isinstance(func, (gast.Name, gast.Attribute)):
            return False
        try:
            ref = self.resolve(func)
        except SyntaxError:
            return False
        return ref is not None and ref.value is np.piecewise

    def piecewise_items(self, node: gast.Call) -> list[gast.expr] | None:
        """The function list of a `np.piecewise` call as nodes, if it is known here."""
        if len(node.args) < 3:
            return None
        funcs = node.args[2]
        if isinstance(funcs, (gast.List, gast.Tuple)):
            return list(funcs.elts)
        known = self.static_value(funcs)
        if isinstance(known, (list, tuple)):
            return [gast.Subscript(funcs, gast.Constant(k, None), gast.Load()) for k in range(len(known))]
        return None

    def lower_piecewise(self, node: gast.Call) -> Expr | None:
        """The written-out loop of the module docstring; None where it does not apply."""
        items = self.piecewise_items(node)
        if items is None or any(isinstance(a, gast.Starred) for a in node.args) or \
                any(k.arg is None for k in node.keywords):
            return None
        conds = node.args[1]
        conds = list(conds.elts) if isinstance(conds, (gast.List, gast.Tuple)) else [conds]
        if all(isinstance(c, gast.Constant) for c in conds) and len(conds) > 1:
            raise self.unsupported(node.args[1], "np.piecewise with a condition list of literal booleans (a mask "
                                   "or a list of conditions?)", "write the mask as np.array([...]), or the "
                                   "conditions as comparisons")
        if len(items) not in (len(conds), len(conds) + 1):
            raise self.unsupported(node, f"np.piecewise with {len(items)} functions for {len(conds)} conditions",
                                   "give one function per condition, and one more for where none holds")
        x = self.to_atom(node.args[0])
        xs = self.emit(self.fresh_local("xs"), _np("ravel", x))
        out = self.emit(self.fresh_local("pieces"), _np("zeros_like", xs))
        extra = self.piecewise_extras(node)
        masks = []
        for cond in conds:
            mask = self.emit(self.namer.temp(), _np("asarray", self.to_atom(cond), dtype=Ref(bool, ("bool",))))
            masks.append(self.emit(self.fresh_local("cond"), _np("ravel", mask)))
        if len(items) > len(conds):
            anyone = masks[0]
            for mask in masks[1:]:
                anyone = self.emit(self.namer.temp(), _np("logical_or", anyone, mask))
            masks.append(self.emit(self.fresh_local("otherwise"), _np("logical_not", anyone)))
        for mask, item in zip(masks, items):
            self.piece(xs, out, mask, item, extra)
        shape = self.emit(self.namer.temp(), _np("shape", x))
        return _np("reshape", out, shape)

    def piecewise_extras(self, node: gast.Call) -> tuple[list, list]:
        """The extra arguments each function gets, computed once, as names."""
        args = [_name(self.emit(self.fresh_local("arg"), self.to_atom(a)).name) for a in node.args[3:]]
        keywords = [gast.keyword(k.arg, _name(self.emit(self.fresh_local(k.arg), self.to_atom(k.value)).name))
                    for k in node.keywords]
        return args, keywords

    def piece(self, xs: Var, out: Var, mask: Var, item: gast.expr, extra: tuple[list, list]) -> None:
        """`out[mask] = f(xs[mask], ...)` if some item is in the mask, or `out[mask] = value`."""
        target = gast.Subscript(_name(out.name), _name(mask.name), gast.Store())
        if not self.is_piece_function(item):
            self.stmts([located(gast.Assign([target], item, None), self.line)])
            return
        picked = gast.Subscript(_name(xs.name), _name(mask.name), gast.Load())
        value = gast.Call(self.callee_name(item), [picked, *extra[0]], list(extra[1]))
        count = self.emit(self.namer.temp(), _np("count_nonzero", mask))
        some = self.emit(self.namer.temp(), Call(operator_ref(operator.gt), (count, Const(0))))
        assign = located(gast.Assign([target], value, None), self.line)
        self.body.append(If(some, self.sub_block(lambda: self.stmts([assign])), [], self.line))

    def is_piece_function(self, item: gast.expr) -> bool:
        """Whether an item of the function list is a function (called) or a value (assigned)."""
        if isinstance(item, gast.Lambda) or self.local_function(item) is not None:
            return True
        value = self.static_value(item)
        return value is not NOT_STATIC and callable(value) and not isinstance(value, type)

    def piece_functions(self, call: gast.Call) -> set[int]:
        """The ids of the nested functions named in a `np.piecewise` call's function list (they
        are called there, not used as values)."""
        if not self.is_piecewise(call) or len(call.args) < 3 or not isinstance(call.args[2], (gast.List, gast.Tuple)):
            return set()
        return {id(item) for item in call.args[2].elts}


__all__ = ["Piecewise"]
