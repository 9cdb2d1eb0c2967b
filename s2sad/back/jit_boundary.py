"""Containers at the Numba backend's boundary: what Numba compiles sees arrays and numbers.

A dict, tuple or list of parameters read only by constant keys (`params["w1"]`, `layers[0]`) is
passed to the compiled function as its values, one parameter per key (`params_w1`, `layers_0`);
a dict or list the derivative returns (the gradient of such an argument) comes back as a tuple
of its values. The checks a function that writes into a parameter makes on entry (`not_shared`:
no other parameter is the same array) run here, in Python, before the compiled function: they
read only the arguments, and raise s2sad's error with the user's location. `Boundary` says how,
and turns a call's arguments and result from one form to the other around the compiled function.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass

from s2sad import runtime
from s2sad.core import ir
from s2sad.core.ir import Assign, Call, Const, Pack, Var


@dataclass(frozen=True)
class Boundary:
    """`params`: per parameter of the derivative, the keys its dict is split into (None: passed
    as it is); `result`: None (as it is), ("dict", keys), ("list", length) or ("pack", items'
    specs)."""

    params: tuple[tuple | None, ...] = ()
    result: object = None
    checks: tuple[tuple[int, int, tuple], ...] = ()
    """`not_shared(args[i], args[j], where)` for each (i, j, where), before the call."""

    @property
    def plain(self) -> bool:
        return self.result is None and not any(self.params) and not self.checks

    def arguments(self, args: tuple) -> tuple:
        for i, j, where in self.checks:
            runtime.not_shared(args[i], args[j], where)
        out: list = []
        for arg, keys in zip(args, self.params):
            if keys is None:
                out.append(arg)
            else:
                out += [arg[k] for k in keys]
        return tuple(out) + args[len(self.params):]

    def rebuilt(self, result: object) -> object:
        return _rebuilt(result, self.result)


def _rebuilt(result: object, spec: object) -> object:
    if spec is None:
        return result
    kind, parts = spec
    if kind == "dict":
        return dict(zip(parts, result))
    if kind == "list":
        return list(result)
    return tuple(_rebuilt(r, s) for r, s in zip(result, parts))


def at_boundary(fn: ir.Function) -> tuple[ir.Function, Boundary]:
    """`fn` taking dicts of parameters as their values and returning dicts as tuples, its entry
    checks made outside it, and how."""
    fn, checks = _entry_checks(fn)
    fn, params = _split_params(fn)
    fn, result = _tuple_results(fn)
    return fn, Boundary(params, result, checks)


def _entry_checks(fn: ir.Function) -> tuple[ir.Function, tuple]:
    """The function's top-level `not_shared(p, q, where)` of two parameters, whose result
    nothing reads, taken out: (position of p, position of q, where) each."""
    read = {n for s in ir.walk(fn.body) for n in ir.reads(s)}
    checks, body = [], []
    for stmt in fn.body:
        value = stmt.value if isinstance(stmt, Assign) else None
        if (isinstance(value, Call) and value.op.value is runtime.not_shared and stmt.target.name not in read
                and all(isinstance(a, Var) and a.name in fn.params for a in value.args[:2])
                and isinstance(value.args[2], Const)):
            checks.append((fn.params.index(value.args[0].name), fn.params.index(value.args[1].name),
                           value.args[2].value))
            continue
        body.append(stmt)
    if not checks:
        return fn, ()
    return ir.Function(fn.name, fn.params, body, fn.filename, fn.firstline, fn.lines, fn.temps, fn.defaults,
                       fn.tape), tuple(checks)


def _split_params(fn: ir.Function) -> tuple[ir.Function, tuple]:
    keys = {p: _keys_read(fn, p) for p in fn.params}
    taken = set(fn.params) | ir.assigned(fn.body) | {n for s in ir.walk(fn.body) for n in ir.reads(s)}
    names: dict[tuple, str] = {}
    params: list[str] = []
    for p in fn.params:
        for key in keys[p] or ():
            name = f"{p}_{key}"
            names[(p, key)] = _fresh(name if name.isidentifier() else f"{p}_item", taken)
            params.append(names[(p, key)])
        if not keys[p]:
            params.append(p)
    if not names:
        return fn, tuple(None for _ in fn.params)
    body = _read_items(fn.body, names)
    last = max(i for i, p in enumerate(fn.params) if keys[p])
    defaults = {p: v for p, v in fn.defaults.items() if p in fn.params[last + 1:]}  # those still trailing
    split = ir.Function(fn.name, params, body, fn.filename, fn.firstline, fn.lines, fn.temps, defaults, fn.tape)
    return split, tuple(keys[p] or None for p in fn.params)


def _keys_read(fn: ir.Function, param: str) -> tuple | None:
    """The keys of `param` the body reads, where it reads `param` by constant keys only (strings
    of a dict, positions of a tuple or list)."""
    found = set()
    for stmt in ir.walk(fn.body):
        if param not in ir.reads(stmt):
            continue
        key = _item_key(stmt, param)
        if key is None:
            return None
        found.add(key)
    return tuple(sorted(found, key=lambda k: (type(k).__name__, k))) or None


def _item_key(stmt: ir.Stmt, param: str) -> str | int | None:
    value = stmt.value if isinstance(stmt, Assign) else None
    if (isinstance(value, Call) and value.op.value is operator.getitem and not value.kwargs
            and value.args[0] == Var(param) and isinstance(value.args[1], Const)
            and type(value.args[1].value) in (str, int)):
        return value.args[1].value
    return None


def _fresh(name: str, taken: set[str]) -> str:
    candidate, n = name, 0
    while candidate in taken:
        n += 1
        candidate = f"{name}_{n}"
    taken.add(candidate)
    return candidate


def _read_items(body: list[ir.Stmt], names: dict[tuple, str]) -> list[ir.Stmt]:
    out: list[ir.Stmt] = []
    for stmt in body:
        stmt = ir.rebuild(stmt, lambda block: _read_items(block, names))
        if isinstance(stmt, Assign) and isinstance(stmt.value, Call) and stmt.value.op.value is operator.getitem:
            container, key = stmt.value.args[0], stmt.value.args[1]
            if (isinstance(container, Var) and isinstance(key, Const) and type(key.value) in (str, int)
                    and (container.name, key.value) in names):
                stmt = Assign(stmt.target, Var(names[(container.name, key.value)]), stmt.line)
        out.append(stmt)
    return out


def _tuple_results(fn: ir.Function) -> tuple[ir.Function, object]:
    """A returned dict or list (made by `make_dict` or `make_list`, bound once, read only where
    it is returned) as the tuple of its values; through tuples of the result (`(value, grads)`)."""
    ret = fn.body[-1] if fn.body else None
    if not isinstance(ret, ir.Return):
        return fn, None
    reads: dict[str, int] = {}
    for stmt in ir.walk(fn.body):
        for name in ir.reads(stmt):
            reads[name] = reads.get(name, 0) + 1
    binds = [s for s in ir.walk(fn.body) if isinstance(s, (Assign, ir.For))]
    once = {s.target.name for s in binds} - _repeated(binds)
    defs = {s.target.name: i for i, s in enumerate(fn.body) if isinstance(s, Assign) and s.target.name in once}
    body = list(fn.body)
    spec = _result_spec(ret.value, body, defs, reads)
    return ir.Function(fn.name, fn.params, body, fn.filename, fn.firstline, fn.lines, fn.temps, fn.defaults,
                       fn.tape), spec


def _repeated(binds: list) -> set[str]:
    seen: set[str] = set()
    twice: set[str] = set()
    for s in binds:
        (twice if s.target.name in seen else seen).add(s.target.name)
    return twice


def _result_spec(value: object, body: list, defs: dict[str, int], reads: dict[str, int]) -> object:
    """The spec of a returned atom or Pack, rewriting the dicts it holds in `body` as tuples."""
    if isinstance(value, Pack):
        parts = tuple(_result_spec(item, body, defs, reads) for item in value.items)
        return ("pack", parts) if any(p is not None for p in parts) else None
    if not isinstance(value, Var) or value.name not in defs or reads.get(value.name) != 1:
        return None
    i = defs[value.name]
    bound = body[i].value
    if isinstance(bound, Call) and bound.op.value is runtime.make_dict and isinstance(bound.args[0], Const):
        body[i] = Assign(body[i].target, Pack(bound.args[1:]), body[i].line)
        return ("dict", tuple(bound.args[0].value))
    if isinstance(bound, Call) and bound.op.value is runtime.make_list and bound.args and not bound.kwargs:
        body[i] = Assign(body[i].target, Pack(bound.args), body[i].line)  # a tuple: Numba's lists are reflected
        return ("list", len(bound.args))
    if isinstance(bound, Pack):
        return _result_spec(bound, body, defs, reads)
    return None
