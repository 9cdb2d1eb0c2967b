"""What forward and reverse mode share: derivative names, rule lookup with located errors."""

from __future__ import annotations

import operator
from dataclasses import dataclass, field

from s2sad import ir, runtime
from s2sad.activity import Activity
from s2sad.errors import Location, MissingRule
from s2sad.ir import Call, Var
from s2sad.naming import Namer
from s2sad.rules.registry import Rule, lookup
from s2sad.templates import bind


@dataclass
class Context:
    fn: ir.Function
    activity: Activity
    namer: Namer
    prefix: str
    names: dict[str, str] = field(default_factory=dict)

    def dname(self, var: str) -> Var:
        """The derivative variable of `var`: `dx` (tangent) or `bx` (adjoint), fixed per name."""
        if var not in self.names:
            self.names[var] = self.namer.derived(self.prefix, var)
        return Var(self.names[var])

    def where(self, line: int) -> Location:
        return Location(self.fn.filename, line, 0, self.fn.lines.get(line, ""))

    def rule_for(self, stmt: ir.Assign, call: Call) -> tuple[Rule, dict[str, ir.Atom]]:
        rule = lookup(call.op.value)
        if rule is None:
            raise MissingRule(
                f"no derivative rule for {call.op.dotted} (called with active arguments)",
                self.where(stmt.line),
                hint=(f"define one with s2sad.defvjp/s2sad.custom_vjp, or wrap the value in "
                      f"s2sad.stop_gradient if no derivative should flow through {call.op.dotted}"),
            )
        return rule, bind(rule, call, self.where(stmt.line))

    def active_params(self, rule: Rule, bindings: dict[str, ir.Atom]) -> list[tuple[str, Var]]:
        """The differentiable parameters bound to active variables, in signature order."""
        out = []
        for param in rule.diff_params:
            atom = bindings.get(param)
            if self.activity.is_active(atom):
                out.append((param, atom))
        return out


CONSTRUCTORS = ("make_list", "make_dict")


def constructor_items(value: ir.Expr) -> tuple[ir.Atom, ...] | None:
    """The items of a tuple, list or dict display (`Pack`, `make_list`, `make_dict`), else None.

    Their derivatives are the same constructor over the items' derivatives, and the adjoint of
    an item is the matching slot of the container's adjoint.
    """
    if isinstance(value, ir.Pack):
        return value.items
    if isinstance(value, Call) and value.op.value is runtime.make_list:
        return value.args
    if isinstance(value, Call) and value.op.value is runtime.make_dict:
        return value.args[1:]
    return None


def constructor_slots(value: ir.Expr) -> list[ir.Atom]:
    """The index (position or key) of each item of a constructor, as atoms."""
    if isinstance(value, Call) and value.op.value is runtime.make_dict:
        return [ir.Const(k) for k in value.args[0].value]
    return [ir.Const(i) for i in range(len(constructor_items(value)))]


def container_names(fn: ir.Function, kinds: tuple[str | None, ...] | None) -> set[str]:
    """Names that may hold a tuple, list, dict or other structure (their adjoints add up with
    `runtime.add`, not `+`, which would concatenate lists): displays, list operations, items of
    such values, and parameters not known to be numbers or arrays."""
    kinds = kinds or (None,) * len(fn.params)
    names = {p for p, k in zip(fn.params, kinds) if k not in ("scalar", "array")}
    names |= set(fn.params[len(kinds):])
    changed = True
    while changed:
        changed = False
        for stmt in ir.walk(fn.body):
            if isinstance(stmt, ir.Assign) and stmt.target.name not in names and _structured(stmt.value, names):
                names.add(stmt.target.name)
                changed = True
    return names


def _structured(value: ir.Expr, names: set[str]) -> bool:
    if constructor_items(value) is not None:
        return True
    if isinstance(value, ir.Var):
        return value.name in names
    if isinstance(value, Call):
        op = value.op.value
        if op in (runtime.list_append, runtime.as_sequence, *runtime.POPS):
            return True
        first = value.args[0] if value.args else None
        return op is operator.getitem and isinstance(first, ir.Var) and first.name in names
    return False
