"""What forward and reverse mode share: derivative names, rule lookup with located errors."""

from __future__ import annotations

import operator
from dataclasses import dataclass, field

from s2sad import runtime
from s2sad.analyses.activity import Activity
from s2sad.core import ir
from s2sad.core.ir import Call, Var
from s2sad.core.naming import Namer
from s2sad.errors import Location, MissingRule, UnsupportedSyntax
from s2sad.front.distributions import distribution
from s2sad.rules.registry import Rule, facts, is_internal, lookup, refusal
from s2sad.transforms.templates import bind


@dataclass
class Context:
    fn: ir.Function
    activity: Activity
    namer: Namer
    prefix: str
    names: dict[str, str] = field(default_factory=dict)
    suffix: str = ""

    def dname(self, var: str) -> Var:
        """The derivative variable of `var`: `dx` (tangent), `bx` (adjoint) or `x_c` (Taylor
        coefficients), fixed per name."""
        if var not in self.names:
            self.names[var] = self.namer.derived(self.prefix, var, self.suffix)
        return Var(self.names[var])

    def where(self, line: int, *names: str) -> Location:
        """The user's statement at `line`, at the first of `names` in it (see `Location.of`)."""
        return Location.of(self.fn.filename, line, self.fn.lines.get(line, ""), *names)

    def call_where(self, stmt: ir.Assign, call: Call) -> Location:
        """The user's statement `stmt`, at the callee of `call` in it."""
        return self.where(stmt.line, *spellings(call.op.dotted))

    def rule_for(self, stmt: ir.Assign, call: Call) -> tuple[Rule, dict[str, ir.Atom]]:
        rule = lookup(call.op.value)
        if rule is None and refusal(call.op.value) is not None:
            reason, hint = refusal(call.op.value)
            raise MissingRule(f"{call.op.dotted} cannot be differentiated: {reason}", self.call_where(stmt, call),
                              hint=hint)
        if rule is None and call.op.value is runtime.call_unpacking:
            fn = call.args[0]
            name = fn.dotted if isinstance(fn, ir.Ref) else "a callable"
            raise MissingRule(
                f"the call of {name} spreads values that carry a derivative with `*` or `**`; s2sad cannot "
                "list them when it builds the derivative",
                self.call_where(stmt, call),
                hint="write the arguments out, f(xs[0], xs[1], axis=opts['axis']), or spread a display: f(*(a, b))")
        if rule is None and distribution(call.op.value) is call.op.value:
            raise MissingRule(
                f"{call.op.dotted}(...) freezes parameters that carry a derivative into an object that is used "
                "other than by calling its methods logpdf, pdf, cdf, logcdf, sf, logsf, logpmf or pmf",
                self.call_where(stmt, call),
                hint=f"call its methods only (d.logpdf(x)), or the distribution's own: {call.op.dotted}.logpdf(x, "
                     "loc, scale); use its other methods (d.mean()) on a distribution frozen with s2sad.stop_gradient"
                     " parameters")
        if rule is None:
            raise MissingRule(
                f"no derivative rule for {call.op.dotted} (called with active arguments)",
                self.call_where(stmt, call),
                hint=(f"define one with s2sad.defvjp/s2sad.custom_vjp, or wrap the value in "
                      f"s2sad.stop_gradient if no derivative should flow through {call.op.dotted}"),
            )
        return rule, bind(rule, call, lambda: self.call_where(stmt, call))

    def refuse_active_attribute(self, stmt: ir.Assign) -> None:
        """`obj.name = v` with `v` depending on the inputs, and `obj.name` read again: attributes
        of objects carry no derivative, so the read would silently lose it. (Storing such a value
        and not reading it back, to log it say, is fine.)"""
        owner, name, value = stmt.value.args
        read_back = any(isinstance(s, ir.Assign) and isinstance(s.value, Call) and s.value.op.value is getattr
                        and s.value.args[0] == owner and s.value.args[1] == name for s in ir.walk(self.fn.body))
        if read_back and isinstance(value, Var) and value.name in self.activity.varied:
            raise UnsupportedSyntax(
                f"the attribute .{name.value} gets a value that depends on the differentiated inputs and is "
                "read again: attributes of objects carry no derivative", self.where(stmt.line),
                hint="keep the value in a local variable (or a dict or list) and use it from there")

    def active_params(self, rule: Rule, bindings: dict[str, ir.Atom], line: int = 0) -> list[tuple[str, Var]]:
        """The differentiable parameters bound to active variables, in signature order. An active
        value in a parameter the rule does not differentiate is an error, not a silent zero."""
        diff = rule.diff_params
        internal = is_internal(rule.op)  # s2sad's own helpers: their other arguments are shapes and settings
        for param, atom in bindings.items():
            if internal or param in diff or param in rule.settings or param in rule.constant:
                continue
            if self.activity.is_active(atom):
                raise MissingRule(
                    f"{rule.name} has no derivative with respect to its argument {param!r}, which depends on "
                    f"the inputs being differentiated", self.where(line),
                    hint=f"register one with s2sad.defvjp/defjvp, or pass s2sad.stop_gradient(...) as {param!r} "
                         "if no derivative should flow through it")
        return [(p, bindings[p]) for p in diff if self.activity.is_active(bindings.get(p))]


def constructor_items(value: ir.Expr) -> tuple[ir.Atom, ...] | None:
    """The items of a tuple, list or dict display (`Pack`, `make_list`, `make_dict`) or of a
    dataclass or namedtuple made field by field (`make_record`), else None.

    Their derivatives are the same constructor over the items' derivatives, and the adjoint of
    an item is the matching slot of the container's adjoint.
    """
    if isinstance(value, ir.Pack):
        return value.items
    if isinstance(value, Call) and value.op.value is runtime.make_list:
        return value.args
    if isinstance(value, Call) and value.op.value is runtime.make_dict:
        return value.args[1:]
    if isinstance(value, Call) and value.op.value is runtime.make_record:
        return value.args[2:]
    return None


def constructor_slots(value: ir.Expr) -> list[ir.Atom]:
    """The index (position, key or field name) of each item of a constructor, as atoms."""
    if isinstance(value, Call) and value.op.value is runtime.make_dict:
        return [ir.Const(k) for k in value.args[0].value]
    if isinstance(value, Call) and value.op.value is runtime.make_record:
        return [ir.Const(k) for k in value.args[1].value]
    return [ir.Const(i) for i in range(len(constructor_items(value)))]


def container_names(fn: ir.Function, kinds: tuple[str | None, ...] | None, writes_keep_kind: bool = False) -> set[str]:
    """Names that may hold a tuple, list, dict or other structure: their adjoints add up with
    `runtime.add` (elementwise, None as zero), not `+`, which would concatenate lists. Only names
    known to hold numbers or arrays (numeric parameters, results of numeric operations, copies of
    those) use `+`. With `writes_keep_kind`, an item write `y[i] = v` leaves an array an array
    (the names that may hold a list or dict, whose items may themselves be structures)."""
    kinds = kinds or (None,) * len(fn.params)
    numeric = {p for p, k in zip(fn.params, kinds) if k in ("scalar", "array")}
    assigns = [s for s in ir.walk(fn.body) if isinstance(s, ir.Assign)]
    targets = {s.target.name for s in assigns}
    named = targets | set(fn.params)
    candidates = {s.target.name for s in assigns if _numeric(s.value, named, writes_keep_kind)}
    changed = True
    while changed:  # a name is numeric when every assignment to it is (rounds until none drops)
        changed = False
        known = numeric | (candidates - set(fn.params))
        for stmt in assigns:
            name = stmt.target.name
            if name in candidates and not _numeric(stmt.value, known, writes_keep_kind):
                candidates.discard(name)
                changed = True
    numeric |= candidates - set(fn.params)
    return (targets | set(fn.params)) - numeric


def _numeric(value: ir.Expr, numeric: set[str], writes_keep_kind: bool = False) -> bool:
    """Whether `value` is a number or an array, given the names known to be numeric."""
    if writes_keep_kind and isinstance(value, Call) and value.op.value is runtime.setitem:
        return _numeric(value.args[0], numeric)
    if isinstance(value, ir.Var):
        return value.name in numeric
    if isinstance(value, ir.Const):
        return type(value.value) in (int, float, bool)
    if not isinstance(value, Call) or facts(value.op.value).structural:
        return False
    return lookup(value.op.value) is not None


def sequence_ops(fn: ir.Function, namer: Namer | None = None) -> ir.Function:
    """`a + b` where both operands are known to be tuples or lists (a display, a constant
    tuple, or a name every assignment binds to one) becomes `concat(a, b)`, and `a * n` or
    `n * a` with `a` one and `n` an integer constant `repeat_items(a, n)`: their derivatives are
    those of concatenation and repetition, not of elementwise arithmetic. (With an array on the
    other side, `+` and `*` are NumPy's elementwise ones; sequences s2sad cannot see, such as a
    helper's parameters, are refused when the derivative code meets them: `unbroadcast`.)
    With `n` a name (`(x,) * n`), which of the two `*` is depends on its value when the code
    runs: `if is_count(n): t = repeat_items(a, n) else: t = a * n` (given a `namer` for the test)."""
    sequences = _sequence_names(fn)

    def known(atom: ir.Atom) -> bool:
        if isinstance(atom, ir.Const):
            return isinstance(atom.value, (tuple, list))
        return isinstance(atom, ir.Var) and atom.name in sequences

    def fix(body: list[ir.Stmt]) -> list[ir.Stmt]:
        out: list[ir.Stmt] = []
        for stmt in body:
            if isinstance(stmt, ir.COMPOUND):
                stmt = ir.rebuild(stmt, fix)
            elif isinstance(stmt, ir.Assign) and isinstance(stmt.value, Call) and len(stmt.value.args) == 2:
                value = _as_sequence_op(stmt.value, known, namer is not None)
                if value is not None and value.op.value is runtime.repeat_items and isinstance(value.args[1], ir.Var):
                    out += _repeat_or_multiply(stmt, value, namer)
                    continue
                if value is not None:
                    stmt = ir.Assign(stmt.target, value, stmt.line)
            out.append(stmt)
        return out

    return ir.Function(fn.name, fn.params, fix(fn.body), fn.filename, fn.firstline, fn.lines, fn.temps,
                       fn.defaults, fn.tape)


def _repeat_or_multiply(stmt: ir.Assign, repeat: Call, namer: Namer) -> list[ir.Stmt]:
    """`t = a * n` with `n` a name: repetition when `n` is an integer, else NumPy's product."""
    from s2sad.core.naming import runtime_ref

    test = ir.Var(namer.temp())
    check = ir.Assign(test, Call(runtime_ref("is_count"), (repeat.args[1],)), stmt.line)
    return [check, ir.If(test, [ir.Assign(stmt.target, repeat, stmt.line)], [stmt], stmt.line)]


def _as_sequence_op(call: Call, known, names: bool = False) -> Call | None:
    from s2sad.core.naming import runtime_ref

    a, b = call.args
    if call.op.value is operator.add and known(a) and known(b):
        return Call(runtime_ref("concat"), (a, b))
    if call.op.value is operator.mul and known(a) and _count(b, names):
        return Call(runtime_ref("repeat_items"), (a, b))
    if call.op.value is operator.mul and known(b) and _count(a, names):
        return Call(runtime_ref("repeat_items"), (b, a))
    return None


def _count(atom: ir.Atom, names: bool) -> bool:
    """An integer constant, or (`names`) a name whose value may be one (see `sequence_ops`)."""
    return (isinstance(atom, ir.Const) and type(atom.value) is int) or (names and isinstance(atom, ir.Var))


def _sequence_names(fn: ir.Function) -> set[str]:
    """Names every assignment binds to a tuple or list. (An in-place write `x = setitem(x, ...)`
    keeps what `x` is; `v = list_pop(items)` binds an item, which is not known to be one.)"""
    assigns = [s for s in ir.walk(fn.body) if isinstance(s, ir.Assign) and not _keeps_kind(s)]
    loop_targets = {s.target.name for s in ir.walk(fn.body) if isinstance(s, ir.For)}
    names = {s.target.name for s in assigns} - set(fn.params) - loop_targets
    changed = True
    while changed:
        changed = False
        for stmt in assigns:
            if stmt.target.name in names and not _sequence_value(stmt.value, names):
                names.discard(stmt.target.name)
                changed = True
    return names


def _keeps_kind(stmt: ir.Assign) -> bool:
    """An in-place write that rebinds the name it mutates (`x = setitem(x, i, v)`)."""
    value = stmt.value
    return ir.is_inplace(value) and value.args[0] == stmt.target


def _sequence_value(value: ir.Expr, names: set[str]) -> bool:
    if isinstance(value, ir.Pack):
        return True
    if isinstance(value, ir.Const):
        return isinstance(value.value, (tuple, list))
    if isinstance(value, ir.Var):
        return value.name in names
    if not isinstance(value, Call):
        return False
    op = value.op.value
    if op is runtime.make_list or op is runtime.copy_list:
        return True
    if op is runtime.rebindable:
        return _sequence_value(value.args[0], names)
    if op not in (operator.add, operator.mul) or len(value.args) != 2:
        return False
    seq = [isinstance(a, ir.Var) and a.name in names or isinstance(a, ir.Const) and isinstance(a.value, (tuple, list))
           for a in value.args]
    counts = [_count(a, False) for a in value.args]
    return all(seq) if op is operator.add else (seq[0] and counts[1]) or (seq[1] and counts[0])


def spellings(dotted: str) -> tuple[str, ...]:
    """How a user may have written a call of `dotted` (`np.linalg.norm`): whole, then shorter
    from the left (`linalg.norm`, `norm`), to find it in the user's line."""
    parts = dotted.split(".")
    return tuple(".".join(parts[i:]) for i in range(len(parts)))
