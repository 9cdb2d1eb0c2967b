"""Stage 2, lower (a helper): methods of frozen scipy.stats distributions.

`scipy.stats.norm(mu, s)` freezes the distribution's parameters into an object whose methods
call the distribution's own with them: `norm(mu, s).logpdf(x)` is `norm.logpdf(x, mu, s)`. The
lowering writes that call, which has a rule, for the methods that have one (logpdf, pdf, cdf,
logcdf, sf, logsf, logpmf, pmf), where the frozen object is

- made in place: `norm(mu, s).logpdf(x)`, `norm(loc=mu, scale=s).cdf(x)`;
- a local assigned once from such a call and used only to call those methods
  (`d = norm(mu, s); d.logpdf(x) + d.logcdf(y)`): the parameters are copied where `d` is made
  (so rebinding `mu` later does not change `d`, as in Python), and `d` itself is never built;
- a global or closure value frozen outside (`D = gamma(2.0)`), whose parameters are constants
  read now from its `.args` and `.kwds` (`multivariate_normal`'s from `.mean`, `.cov`,
  `.allow_singular`).

Any other use (a frozen object passed as an argument, a method without a rule) is left as it
is, and refused at the call when an active value flows into it.
"""

from __future__ import annotations

import sys

import gast

from s2sad.core.ir import Assign, Atom, Call, Const, Expr, Ref, Var
from s2sad.front.callees import NOT_STATIC
from s2sad.rules.registry import lookup
from s2sad.runtime.dispatch import DISTRIBUTION_METHODS as METHODS

# METHODS: the methods of a frozen distribution that are written as the distribution's own call

Frozen = tuple[Ref, tuple[Atom, ...], tuple[tuple[str, Atom], ...]]
"""A frozen distribution as the lowering knows it: the distribution (its module-level object),
its positional parameters and its keyword parameters."""


def distribution(value: object) -> object | None:
    """The module-level scipy.stats distribution `value` is or is a copy of (a frozen object's
    `.dist` is a new instance of the distribution's class), else None."""
    stats = sys.modules.get("scipy.stats")
    name = getattr(value, "name", None) or _multivariate_name(value)
    if stats is None or not isinstance(name, str):
        return None
    module_level = getattr(stats, name, None)
    if module_level is None or type(module_level) is not type(value):
        return None
    return module_level


def _multivariate_name(value: object) -> str | None:
    stats = sys.modules.get("scipy.stats")
    if stats is not None and type(value) is type(getattr(stats, "multivariate_normal", None)):
        return "multivariate_normal"
    return None


def frozen_constants(value: object) -> tuple[object, tuple, dict] | None:
    """A frozen distribution made outside the function: its distribution and parameters."""
    dist = distribution(getattr(value, "dist", None))
    if dist is not None and isinstance(getattr(value, "args", None), tuple):
        return dist, value.args, dict(getattr(value, "kwds", {}))
    stats = sys.modules.get("scipy.stats")
    multivariate = getattr(stats, "multivariate_normal", None)
    if stats is not None and type(value).__name__ == "multivariate_normal_frozen":
        return multivariate, (), {"mean": value.mean, "cov": value.cov, "allow_singular": value.allow_singular}
    return None


class FrozenDistributions:
    """Needs from the host: parsed, locals, renames, namer, body, line, call_arg(), check_keyword(),
    resolve(), static_value(), fresh_local(), written(), unsupported()."""

    def frozen_call(self, node: gast.Call) -> Expr | None:
        """`norm(mu, s).logpdf(x)` (and the other forms, see the module docstring) as
        `norm.logpdf(x, mu, s)`; the call that makes a local frozen distribution records its
        parameters. None for any other call."""
        made = self.frozen_locals().get(id(node))
        if made is not None:
            return self.freeze_local(made, node)
        func = node.func
        if not isinstance(func, gast.Attribute) or func.attr not in METHODS:
            return None
        frozen = self.frozen_owner(func.value)
        if frozen is None:
            return None
        dist, params, keywords = frozen
        rule = lookup(getattr(dist.value, func.attr, None))
        if rule is None and isinstance(func.value, gast.Name) and func.value.id in self.frozen_names():
            raise self.unsupported(func, f"the method .{func.attr} of a frozen scipy.stats.{_name_of(dist.value)}",
                                   f"call a method with a rule: {', '.join(sorted(METHODS))}")
        if rule is None:
            return None
        args = tuple(self.call_arg(a) for a in node.args)
        kwargs = tuple((k.arg, self.call_arg(k.value)) for k in node.keywords if self.check_keyword(k))
        return Call(Ref(rule.op, (*dist.path, func.attr), dist.root), args + params, kwargs + keywords)

    def frozen_owner(self, owner: gast.expr) -> Frozen | None:
        """What the lowering knows of the object whose method is called, if it is frozen."""
        if isinstance(owner, gast.Call):
            dist = self.distribution_callee(owner)
            return None if dist is None else self.parameters(dist, owner)
        if isinstance(owner, gast.Name) and owner.id in self.locals:
            if owner.id in self.renames or owner.id not in self.frozen_names():
                return None
            known = self.__dict__.setdefault("frozen_values", {}).get(owner.id)
            if known is None:
                raise self.unsupported(owner, f"the frozen distribution {owner.id!r} used before the line that "
                                       "makes it", "make it before its first use")
            return known
        if not isinstance(owner, (gast.Name, gast.Attribute)):
            return None
        value = self.static_value(owner)  # records the global, cell or attribute read: rebinding it rebuilds the code
        constants = None if value is NOT_STATIC else frozen_constants(value)
        if constants is None:
            return None
        dist, args, kwds = constants
        spelled = Ref(dist, ("scipy_stats", _name_of(dist)), sys.modules["scipy.stats"])
        prefix = _spelling(owner)
        args = tuple(_constant(a, f"{prefix}_arg{i}") for i, a in enumerate(args))
        return spelled, args, tuple((k, _constant(v, f"{prefix}_{k}")) for k, v in kwds.items())

    def distribution_callee(self, call: gast.Call) -> Ref | None:
        """The distribution a call freezes (`norm` in `norm(mu, s)`), written out in full."""
        func = call.func
        if not isinstance(func, (gast.Name, gast.Attribute)) or _spreads(call):
            return None
        ref = self.resolve(func)
        if ref is None or distribution(ref.value) is not ref.value:
            return None
        return ref

    def parameters(self, dist: Ref, call: gast.Call) -> Frozen:
        args = tuple(self.call_arg(a) for a in call.args)
        kwargs = tuple((k.arg, self.call_arg(k.value)) for k in call.keywords)
        return dist, args, kwargs

    def freeze_local(self, name: str, node: gast.Call) -> Expr:
        """`d = norm(mu, s)`: the parameters copied into fresh locals for `d`'s method calls;
        `d` itself is not built (nothing else reads it)."""
        dist, args, kwargs = self.parameters(self.distribution_callee(node), node)
        args = tuple(self.snapshot(name, a) for a in args)
        kwargs = tuple((k, self.snapshot(name, a)) for k, a in kwargs)
        self.__dict__.setdefault("frozen_values", {})[name] = (dist, args, kwargs)
        return Const(None)

    def snapshot(self, name: str, atom: Atom) -> Atom:
        if not isinstance(atom, Var):
            return atom
        copy = Var(self.fresh_local(f"{name}_param"))
        self.body.append(Assign(copy, atom, self.line))
        return copy

    def frozen_names(self) -> dict[str, gast.Call]:
        """Locals assigned once from a call freezing a distribution and read only to call one of
        `METHODS` on them, with that call."""
        if "frozen_by_name" in self.__dict__:
            return self.frozen_by_name
        found = {}
        for name, writes in self.written().items():
            value = writes[0].value if len(writes) == 1 and isinstance(writes[0], gast.Assign) else None
            if isinstance(value, gast.Call) and self.distribution_callee(value) is not None:
                found[name] = value
        if found:
            for name in _read_otherwise(self.parsed.tree, set(found)):
                del found[name]
        self.frozen_by_name = found
        return found

    def frozen_locals(self) -> dict[int, str]:
        """The calls that make the locals of `frozen_names`, by id, with the local's name."""
        return {id(call): name for name, call in self.frozen_names().items()}


def _read_otherwise(tree: gast.AST, names: set[str]) -> set[str]:
    """Those of `names` read other than as `name.method(...)` with a method of `METHODS`, or
    read inside a nested function or lambda."""
    allowed = set()
    nested = set()
    for node in gast.walk(tree):
        func = node.func if isinstance(node, gast.Call) else None
        if isinstance(func, gast.Attribute) and func.attr in METHODS and isinstance(func.value, gast.Name):
            allowed.add(id(func.value))
        if isinstance(node, (gast.FunctionDef, gast.Lambda)) and node is not tree:
            nested |= {id(n) for n in gast.walk(node)}
    return {n.id for n in gast.walk(tree) if isinstance(n, gast.Name) and n.id in names
            and isinstance(n.ctx, gast.Load) and (id(n) not in allowed or id(n) in nested)}


def _constant(value: object, name: str) -> Atom:
    """A parameter of a distribution frozen outside: a number as itself, an array by a name
    bound to it in the generated code."""
    if value is None or type(value) in (bool, int, float, str):
        return Const(value)
    return Ref(value, (name,))


def _spelling(owner: gast.expr) -> str:
    """`MODEL.prior` as `MODEL_prior`: the start of the names its parameters get."""
    parts = []
    while isinstance(owner, gast.Attribute):
        parts.insert(0, owner.attr)
        owner = owner.value
    return "_".join([getattr(owner, "id", "frozen"), *parts])


def _spreads(call: gast.Call) -> bool:
    return any(isinstance(a, gast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords)


def _name_of(dist: object) -> str:
    return getattr(dist, "name", None) or _multivariate_name(dist)


__all__ = ["METHODS", "FrozenDistributions", "distribution", "frozen_constants"]
