"""The rule registry: for each primitive, its tangent and adjoint written side by side.

A rule is a class whose methods are templates, plain Python that reads as the math:

    @define(np.divide, "x, y")
    class divide:
        def dx(dx, y):        return dx / y                          # tangent term of x
        def bx(g, x, y):      return unbroadcast(g / y, x)           # adjoint term of x
        def dy(dy, y, out):   return -dy * out / y
        def by(g, y, out):    return unbroadcast(-g * out / y, y)

`d<p>` gives the tangent contribution of parameter `p`, `b<p>` its adjoint contribution. The
first parameter of a template is the incoming tangent or cotangent; the others are matched by
name to the op's parameters and to `out`, the op's result. Each input's term stands alone, so
the transforms drop the terms of inactive inputs when they generate code.

Shorthands cover the common shapes:

- `elementwise(op, "x, y")` on a function returning the partial derivative(s): both directions
  are built from it (`dout = dx * p`, `bx = unbroadcast(g * p, x)`). Its strong-zero form, for a
  partial that is infinite at a special point: `strong="div"` on a function returning the divisor
  q (`dout = strong_div(dx, q)`), `strong="mul"` on one returning p (`strong_mul(dx, p)`), so a
  zero (co)tangent contributes exactly zero there (docs/conventions.md).
- `linear(op, "x", adjoint=...)`: the op is its own tangent (`dout = op(dx, ...)`).
- `nondiff(op, ...)`: the result carries no derivative (comparisons, floor, shape).

Facts about an op that the stages need besides its derivative (it returns a view, it has
effects, its result has the shape of an argument, ...) are declared on its rule too, as keyword
arguments of the same `define` / shorthand call (see `Facts`); an op with facts but no
derivative rule (np.imag, s2sad's `make_list`) declares them with `declare`. The stages ask `facts(op)`
and keep no lists of ops of their own. An op that will not be differentiated as it is (np.fft.rfft,
whose result is complex) is declared with `refuse`: a call on an active value is refused at the
user's line with the reason and the fix.
"""

from __future__ import annotations

import importlib
import inspect
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass, field

from s2sad.core.ir import Ref


@dataclass(frozen=True)
class Facts:
    """What the stages need to know about an op besides its derivative. Declared where the op's
    rule is defined (keyword arguments of `define`, `elementwise`, `linear`, `nondiff`) or, for an
    op without a derivative rule, with `declare`; read with `facts(op)`."""

    view: bool = False
    """The result may share memory with the first argument (a view, the array itself, or an
    item of a container): the aliasing analysis reads it (see `s2sad.front.aliasing`)."""
    structural: bool = False
    """The result may be a container (a list, tuple or dict), not a number or an array: its
    adjoint adds up item by item."""
    effects: bool = False
    """A call of it does something besides computing its result (checks, communicates): the
    optimizer keeps it when its result is unused."""
    statement: bool = False
    """A call of it may stand as a statement of its own, for a side effect that the derivative
    code does without (print: the function prints, its derivative does not)."""
    foldable: bool = False
    """Arithmetic that the optimizer may compute at build time when its arguments are constants."""
    same_shape_as: int | None = None
    """The result has the shape class (scalar or array) of the positional argument at this index."""
    reduction: bool = False
    """Called with the one argument alone, the result is a scalar (np.sum(x), np.mean(x))."""
    broadcasts: bool = False
    """The result has the broadcast shape class of all its arguments, keywords or not."""


NO_FACTS = Facts()


@dataclass
class Rule:
    op: object
    path: tuple[str, ...]
    root: object
    signature: inspect.Signature
    tangents: dict[str, Callable] = field(default_factory=dict)
    adjoints: dict[str, Callable] = field(default_factory=dict)
    partials: Callable | None = None
    """For elementwise rules: returns the partial of each differentiable parameter."""
    strong: str = ""
    """For elementwise rules, how a (co)tangent meets what `partials` returns: "" multiplies,
    "mul" multiplies with `strong_mul`, "div" divides by it with `strong_div` (a zero (co)tangent
    contributes exactly zero where the partial is infinite)."""
    linear: tuple[str, ...] = ()
    """Parameters in which the op is linear and which it is its own tangent for."""
    accumulate: dict[str, Callable] = field(default_factory=dict)
    """`i<p>(bp, g, ...)` templates that add the adjoint of `p` into `bp` in place (for reads
    like `x[i]` in a loop, where building a whole zero array per read would cost O(n))."""
    nondiff: bool = False
    constant: tuple[str, ...] = ()
    """Parameters the result is piecewise constant in (copysign's sign source): an active value
    there has derivative 0. Any other parameter that is neither differentiated nor a setting
    (see `settings`) refuses an active value with MissingRule."""
    settings: frozenset[str] = frozenset()
    """The parameters that configure the op (see `SETTINGS`): an active value there carries no
    derivative and is no error. A user's rule (defjvp/defvjp) declares none: there an active value
    in a parameter without a rule is refused whatever its name."""
    shape: str = ""
    """"elementwise": the result has the broadcast shape of the inputs (used to specialise)."""
    facts: Facts = NO_FACTS
    """What the stages need to know about the op besides its derivative (see `Facts`)."""
    taylor: Callable | str | None = None
    """Taylor mode: a template returning the output's coefficient list from the inputs' values,
    their lists `<p>_c` (None where an input does not move) and `out`; or "each", the tangent
    rule holds for every coefficient (the op is affine in its inputs where it is evaluated:
    add, a select, a piecewise-linear op); or None, composed from the first-order rule (see
    `transforms.taylor`). A `linear` rule needs none: it maps each coefficient."""
    family: str = ""
    notes: str = ""

    @property
    def name(self) -> str:
        return ".".join(self.path)

    @property
    def diff_params(self) -> tuple[str, ...]:
        """The parameters the rule differentiates, in the signature's order (found once per
        registry generation: the transforms ask it of every call)."""
        found = _DIFF_PARAMS.get(id(self))
        if found is not None and found[0] is self and found[1] == GENERATION[0]:
            return found[2]
        if len(_DIFF_PARAMS) > 10_000:
            _DIFF_PARAMS.clear()
        params = self._diff_params()
        _DIFF_PARAMS[id(self)] = (self, GENERATION[0], params)
        return params

    def _diff_params(self) -> tuple[str, ...]:
        if self.nondiff:
            return ()
        names = set(self.tangents) | set(self.adjoints) | set(self.linear)
        if self.partials is not None:
            names |= set(_elementwise_params(self))
        return tuple(p for p in self.signature.parameters if p in names)

    @property
    def view(self) -> bool:
        """The result may share memory with the first argument (`Facts.view`)."""
        return self.facts.view

    @property
    def ref(self) -> Ref:
        return Ref(self.op, self.path, self.root)


def is_internal(op: object) -> bool:
    """Whether `op` is defined in s2sad itself (the package `s2sad` and its submodules, not a
    user's module that happens to start with those letters, like `s2sadport`)."""
    module = getattr(op, "__module__", None) or ""
    return module == "s2sad" or module.startswith("s2sad.")


SETTINGS = frozenset({"axis", "axes", "keepdims", "dtype", "shape", "newshape", "index", "indices", "name",
                      "repeats", "reps", "shift", "mode", "order", "kind", "side", "subscripts",
                      "source", "destination", "k", "n", "condition", "like", "out",
                      "UPLO", "full_matrices", "compute_uv", "hermitian", "rcond", "rtol", "axisa", "axisb", "axisc"})
"""Parameters that configure an operation (an axis, a shape, an index, a mask) rather than feed it
values: integers, strings, booleans, on which the result depends piecewise constantly (a rank
cutoff such as `rcond` is a float, but the result is piecewise constant in it too). (A norm's
`ord` and a variance's `ddof` are not among them: the result depends smoothly on a float there.)
A rule's settings are those of its parameters that have one of these names, unless it declares
its own (`settings=`)."""


RULES: dict[object, Rule] = {}
"""Rules by `id` of the callable they differentiate; a bound method's by `method_key` (see
`lookup`)."""

GENERATION = [0]
"""Bumped by every registration, so derivatives built before a rule changed are rebuilt."""
_DIFF_PARAMS: dict[int, tuple[Rule, int, tuple[str, ...]]] = {}
"""`Rule.diff_params` of each rule asked, by `id`, with the generation it was found in."""

_KEEP_ALIVE: list[object] = []

DECLARED: dict[int, Facts] = {}
"""Facts of ops that have no derivative rule (`declare`), by `id` of the op."""


def lookup(op: object) -> Rule | None:
    """The rule of `op`. A bound method (`scipy.stats.norm.logpdf`, `rng.normal`) is a new object
    at each attribute access, so its rule is found by what it binds: first (its instance, its
    function), then (the instance's class, its function), see `method_key`; then, for a method
    bound to an object, the rule of its class's function (`np.random.Generator.normal`,
    registered with the parameters after `self`)."""
    rule = _find(op)
    family = _scipy_family(op) if rule is None else None
    if family is not None:
        # Lazy on purpose: importing scipy takes longer than all the rest of s2sad, so its rules
        # are registered when a program first calls a scipy.special, scipy.stats or scipy.linalg
        # function.
        importlib.import_module(family)
        rule = _find(op)
    return rule


def _find(op: object) -> Rule | None:
    rule = RULES.get(id(op))
    if rule is None and _bound(op):
        owner, function = op.__self__, _function_of(op)
        rule = RULES.get(method_key(owner, function)) or RULES.get(method_key(type(owner), function))
        if rule is None and not isinstance(owner, type):
            rule = RULES.get(id(function))
    return rule


def method_key(owner: object, function: object) -> tuple[int, int]:
    """The key of the rule of `function` bound to `owner`: an instance (the rule of that instance's
    method, like `scipy.stats.norm.logpdf`) or a class (the rule of the method of each of its
    instances). A rule registered for a bound method (`define(scipy.stats.norm.logpdf, ...)`)
    goes under the key of its instance; `define(types.MethodType(function, cls), ...)` registers
    the method of every instance of `cls`."""
    return (id(owner), id(function))


def _bound(op: object) -> bool:
    """A method bound to an object (not a module's function, whose `__self__` is the module)."""
    owner = getattr(op, "__self__", None)
    return owner is not None and not isinstance(owner, types.ModuleType) and _function_of(op) is not None


def _function_of(op: object) -> object:
    """The function a bound method calls: a Python method's `__func__`, else (a method of a
    compiled class) the class attribute of its name."""
    function = getattr(op, "__func__", None)
    if function is None:
        function = inspect.getattr_static(type(op.__self__), getattr(op, "__name__", ""), None)
    return function


def _key(op: object) -> object:
    return method_key(op.__self__, _function_of(op)) if _bound(op) else id(op)


def facts(op: object) -> Facts:
    """What the stages need to know about `op`: the facts on its rule, else those `declare`d for
    it, else none (`NO_FACTS`)."""
    rule = lookup(op)
    if rule is not None:
        return rule.facts
    return DECLARED.get(id(op), NO_FACTS)


def declare(*ops: object, **facts: object) -> None:
    """Declare facts (see `Facts`) of ops that have no derivative rule: a call of one on an active
    value is still refused, but the stages know what it does (np.imag returns a view,
    `list_pop` hands out an item its list holds)."""
    for op in ops:
        DECLARED[id(op)] = Facts(**facts)
        _KEEP_ALIVE.append(op)
    GENERATION[0] += 1


REFUSED: dict[int, tuple[str, str]] = {}
"""Ops that cannot be differentiated, by `id`: why, and the fix to write instead (`refuse`)."""


def refuse(*ops: object, reason: str, hint: str) -> None:
    """Declare ops that have no derivative rule and will not get one as they are: a call of one
    on an active value is refused at the user's line with `reason` and the fix `hint`."""
    for op in ops:
        REFUSED[id(op)] = (reason, hint)
        _KEEP_ALIVE.append(op)
    GENERATION[0] += 1


def refusal(op: object) -> tuple[str, str] | None:
    """Why `op` cannot be differentiated and what to write instead, if it was `refuse`d."""
    return REFUSED.get(id(op))


_SCIPY_FUNCTIONS = {"scipy.special": "s2sad.rules.scipy_special", "scipy.linalg": "s2sad.rules.scipy_linalg"}
"""scipy modules whose functions have rules, with the module of s2sad that registers them."""


def _scipy_family(op: object) -> str | None:
    """The rule module of a function of scipy.special or scipy.linalg, or of a method of a
    scipy.stats distribution, if it is not imported yet."""
    name = getattr(op, "__name__", None)
    family = None
    for module_name, rules_module in _SCIPY_FUNCTIONS.items():
        module = sys.modules.get(module_name)
        if module is not None and isinstance(name, str) and getattr(module, name, None) is op:
            family = rules_module
    if family is None and "scipy.stats" in sys.modules:
        if type(getattr(op, "__self__", None)).__module__.startswith("scipy.stats"):
            family = "s2sad.rules.scipy_stats"
    return None if family is None or family in sys.modules else family


def _signature(params: str) -> inspect.Signature:
    namespace: dict = {}
    exec(f"def _signature_of({params}): pass", namespace)  # noqa: S102 - a literal parameter list
    return inspect.signature(namespace["_signature_of"])


def _spelling(op: object, path: str | None) -> tuple[tuple[str, ...], object]:
    """How generated code spells `op`: numpy as `np.x`, math as `math.x`, others by module."""
    import importlib

    if path is None:
        module = getattr(op, "__module__", None) or _module_holding(op)
        path = f"{module}.{op.__name__}"
    parts = path.split(".")
    if parts[0] == "builtins" or path.startswith("s2sad.runtime."):
        return (parts[-1],), op  # builtins and s2sad's own helpers go by their bare names
    aliases = {"numpy": "np", "numpy.random": "np.random"}
    for cut in range(len(parts) - 1, 0, -1):
        try:
            root = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        spelled = [aliases.get(".".join(parts[:cut]), "_".join(parts[:cut]))] + parts[cut:]
        return tuple(spelled), root
    return (parts[-1],), op


def _module_holding(op: object) -> str:
    """The module a ufunc (which has no `__module__`) is an attribute of: numpy or scipy.special."""
    import sys

    for name in ("numpy", "scipy.special", "math"):
        module = sys.modules.get(name)
        if module is not None and getattr(module, getattr(op, "__name__", ""), None) is op:
            return name
    return "numpy"


def _register(op: object, params: str, path: str | None, family: str, settings: tuple[str, ...] | None = None,
              **fields) -> Rule:
    spelled, root = _spelling(op, path)
    signature = _signature(params)
    if settings is None:
        settings = () if family == "custom" else tuple(p for p in signature.parameters if p in SETTINGS)
    rule = Rule(op, spelled, root, signature, family=family, settings=frozenset(settings), **fields)
    RULES[_key(op)] = rule
    GENERATION[0] += 1
    _KEEP_ALIVE.append(op)
    return rule


def define(op: object, params: str, *, path: str | None = None, family: str = "", also: tuple = (),
           shape: str = "", constant: str = "", settings: str | None = None, taylor: str | None = None,
           **facts: object):
    """Register a class of `d<p>` / `b<p>` templates (and, for Taylor mode, a `taylor` template or
    `taylor="each"`, see `Rule.taylor`) as the rule of `op` (and of `also`);
    `constant`: parameters the result is piecewise constant in; `settings`: the parameters that
    configure the op, if not those named in `SETTINGS`; `facts`: what else the stages need to know
    about `op` (the fields of `Facts`; they describe `op`, not the `also` spellings)."""

    def decorate(cls: type) -> type:
        tangents = {n[1:]: f for n, f in vars(cls).items() if n.startswith("d") and callable(f)}
        adjoints = {n[1:]: f for n, f in vars(cls).items() if n.startswith("b") and callable(f)}
        for target in (op, *also):
            _register(target, params, path if target is op else None, family, _names(settings),
                      tangents=tangents, adjoints=adjoints, shape=shape, facts=_facts(facts, target is op),
                      notes=inspect.getdoc(cls) or "", constant=_names(constant),
                      taylor=vars(cls).get("taylor", taylor))
        return cls

    return decorate


def elementwise(op: object, params: str = "x", *, path: str | None = None, family: str = "", also: tuple = (),
                strong: str = "", taylor: Callable | str | None = None, **facts: object):
    """Register a function returning the partial derivative(s) of an elementwise op (with
    `strong="div"`, the divisor(s) instead; see `Rule.strong`); `taylor` as `Rule.taylor`;
    `facts` as for `define`."""
    assert strong in ("", "mul", "div"), strong

    def decorate(fn: Callable) -> Callable:
        for target in (op, *also):
            _register(target, params, path if target is op else None, family, facts=_facts(facts, target is op),
                      partials=fn, strong=strong, shape="elementwise", notes=inspect.getdoc(fn) or "",
                      taylor=taylor)
        return fn

    return decorate


def linear(op: object, params: str = "x", *, linear_in: str = "x", path: str | None = None,
           family: str = "", also: tuple = (), shape: str = "", settings: str | None = None, **facts: object):
    """Register an op linear in `linear_in`: its tangent is the op itself; the class gives `b<p>`.
    `settings` and `facts` as for `define`."""

    def decorate(cls: type) -> type:
        adjoints = {n[1:]: f for n, f in vars(cls).items() if n.startswith("b") and callable(f)}
        accumulate = {n[1:]: f for n, f in vars(cls).items() if n.startswith("i") and callable(f)}
        for target in (op, *also):
            _register(target, params, path if target is op else None, family, _names(settings),
                      adjoints=adjoints, linear=tuple(linear_in.split(",")), shape=shape, accumulate=accumulate,
                      facts=_facts(facts, target is op), notes=inspect.getdoc(cls) or "")
        return cls

    return decorate


def taylor_of(*ops: object, each: bool = False):
    """Register a Taylor template (see `Rule.taylor`) for the rules of `ops`, written beside
    them: `@taylor_of(np.exp, math.exp)` on `def exp_series(x_c, out): return series_exp(out, x_c)`.
    `taylor_of(op, each=True)` alone (no template) says that the op's tangent rule holds for every
    coefficient."""

    def decorate(fn: Callable | None) -> Callable | None:
        for op in ops:
            rule = lookup(op)
            if rule is None:
                raise KeyError(f"taylor_of: {op!r} has no rule to add a Taylor template to")
            rule.taylor = "each" if each else fn
        GENERATION[0] += 1
        return fn

    return decorate(None) if each else decorate


def _facts(facts: dict, declared: bool) -> Facts:
    return Facts(**facts) if declared and facts else NO_FACTS


def _names(params: str | None) -> tuple[str, ...] | None:
    if params is None:
        return None
    return tuple(p.strip() for p in params.split(",") if p.strip())


def nondiff(*ops: object, params: str = "*args, **kwargs", family: str = "nondiff", **facts: object) -> None:
    """Declare ops whose result carries no derivative; `facts` (see `Facts`) hold for each."""
    for op in ops:
        _register(op, params, None, family, nondiff=True, facts=_facts(facts, True))


def _elementwise_params(rule: Rule) -> tuple[str, ...]:
    """The required positional parameters: one partial derivative each, in order."""
    sig = rule.signature
    return tuple(n for n, p in sig.parameters.items() if p.default is inspect.Parameter.empty
                 and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))


class _Slot:
    """Where a call's argument stands (a position, or a keyword), bound in its place to find a plan."""

    __slots__ = ("key",)

    def __init__(self, key: int | str) -> None:
        self.key = key


ATOM, PACK, DEFAULT = "atom", "pack", "default"
"""How a parameter of a `binding_plan` gets its value: an argument, the arguments a `*args`
gathers, its default."""
_PLANS: dict[tuple, tuple[Rule, tuple | None]] = {}


def binding_plan(rule: Rule, count: int, keywords: tuple[str, ...]) -> tuple | None:
    """How `rule.signature` binds a call of `count` positional arguments and these `keywords`,
    found once: (parameter, how, what) in the signature's order, `what` an argument's position or
    keyword, the positions a `*args` gathers, or a default value; None where the call does not
    bind (a TypeError)."""
    key = (id(rule), count, keywords)
    found = _PLANS.get(key)
    if found is not None and found[0] is rule:
        return found[1]
    if len(_PLANS) > 10_000:
        _PLANS.clear()
    try:
        bound = rule.signature.bind(*map(_Slot, range(count)), **{k: _Slot(k) for k in keywords})
    except TypeError:
        plan = None
    else:
        bound.apply_defaults()
        plan = tuple(_step(rule.signature.parameters[name].kind, name, value)
                     for name, value in bound.arguments.items()
                     if rule.signature.parameters[name].kind is not inspect.Parameter.VAR_KEYWORD)
    _PLANS[key] = (rule, plan)
    return plan


def _step(kind, name: str, value: object) -> tuple:
    if kind is inspect.Parameter.VAR_POSITIONAL:
        return name, PACK, tuple(slot.key for slot in value)
    return (name, ATOM, value.key) if type(value) is _Slot else (name, DEFAULT, value)
