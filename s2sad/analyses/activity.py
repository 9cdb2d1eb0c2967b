"""Stage 3, analyse: which variables carry derivatives.

A variable is *varied* when its value depends on an input being differentiated, *useful* when
the output depends on it, and *active* when both. Only active variables get tangent or adjoint
code. The analysis is by name and ignores statement order (a name is varied if any of its
assignments is), so it is conservative across loops and branches. It returns a side table; it
never annotates the IR.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from s2sad import runtime
from s2sad.core import ir
from s2sad.core.ir import Assign, Call, Var
from s2sad.rules.registry import DEFAULT, PACK, binding_plan, is_internal, lookup


@dataclass(frozen=True)
class Activity:
    varied: frozenset[str]
    useful: frozenset[str]

    @cached_property
    def active(self) -> frozenset[str]:
        return self.varied & self.useful

    def is_active(self, atom: object) -> bool:
        return isinstance(atom, Var) and atom.name in self.active

    def format(self) -> str:
        return (f"varied: {', '.join(sorted(self.varied))}\n"
                f"useful: {', '.join(sorted(self.useful))}\n"
                f"active: {', '.join(sorted(self.active))}\n")


def carries_derivative(value: ir.Expr) -> bool:
    """False for calls whose result is never differentiable (comparisons, shapes, floor)."""
    if isinstance(value, Call):
        rule = lookup(value.op.value)
        return not (rule is not None and rule.nondiff)
    return True


def sources(value: ir.Expr) -> set[str]:
    """The names a value's derivative can come from: for a call with a rule, only the names
    bound to its differentiable parameters (not `x[i]`'s index, not `np.sum`'s axis)."""
    names = {a.name for a in ir.atoms_of(value) if isinstance(a, Var)}
    if isinstance(value, Call) and value.op.value is runtime.set_attribute:
        return set()  # attributes of objects carry no derivative (see Context.refuse_active_attribute)
    rule = lookup(value.op.value) if isinstance(value, Call) else None
    if rule is None or ir.is_inplace(value):
        return names
    kwargs = dict(value.kwargs)
    plan = binding_plan(rule, len(value.args), tuple(kwargs))
    if plan is None:
        return names  # reported when the derivative is built
    bound = {name: tuple(value.args[i] for i in what) if how is PACK else
             value.args[what] if type(what) is int else kwargs[what] for name, how, what in plan if how is not DEFAULT}
    found = set()
    for param in _value_params(rule, bound):
        atoms = bound.get(param, ())
        for atom in atoms if isinstance(atoms, tuple) else (atoms,):
            if isinstance(atom, Var):
                found.add(atom.name)
    return found


def _value_params(rule, bound: dict) -> list[str]:
    """The parameters a derivative can flow through: the differentiated ones, and (so that an
    active value there reaches `Context.active_params` and is refused, not dropped) every other
    one that is not a setting or declared piecewise constant. s2sad's own helpers get shape-only
    arguments (`like`) in their other parameters."""
    if is_internal(rule.op):
        return list(rule.diff_params)
    return [p for p in bound if p in rule.diff_params or (p not in rule.settings and p not in rule.constant)]


def flows(fn: ir.Function) -> list[tuple[str, set[str]]]:
    """(name written, names its derivative comes from) for every derivative-carrying flow.

    An in-place write (`x[i] = v`, `items.append(v)`) flows into the container it mutates."""
    edges = []
    for stmt in ir.walk(fn.body):
        if isinstance(stmt, Assign) and carries_derivative(stmt.value):
            for name in ir.writes(stmt):
                edges.append((name, sources(stmt.value)))
    return edges


def analyse(fn: ir.Function, wrt: list[str], constants: frozenset[str] = frozenset()) -> Activity:
    """`constants`: names never varied, whatever they are computed from (a shift that cancels,
    see `analyses.shifts`)."""
    edges = [(target, sources) for target, sources in flows(fn) if target not in constants]
    varied = set(wrt)
    useful = {name for s in ir.walk(fn.body) if isinstance(s, ir.Return) for name in ir.reads(s)}
    changed = True
    while changed:  # varied flows forward: in program order, one round reaches the end
        changed = False
        for target, sources in edges:
            if target not in varied and sources & varied:
                varied.add(target)
                changed = True
    changed = True
    while changed:  # useful flows backward: in reverse order (loops take another round or two)
        changed = False
        for target, sources in reversed(edges):
            if target in useful and not sources <= useful:
                useful |= sources
                changed = True
    return Activity(frozenset(varied), frozenset(useful))
