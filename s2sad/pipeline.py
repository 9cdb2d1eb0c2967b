"""The whole compiler in one function: `build` calls one stage after another.

    parse -> lower -> analyse -> TRANSFORMS[mode] (forward | reverse | taylor) -> (split) -> optimize -> emit -> compile

Each stage takes plain data and returns plain data; `cache.get` keeps the result. The pipeline
sits above every stage: it imports them, none imports it. It receives the normalised target
(`core.targets.Target`) and `derive`, the cache's lookup of a callee's derivative, which it
hands to the transform (see `transforms.base`).
"""

from __future__ import annotations

import functools
import types
from dataclasses import dataclass, field

from s2sad.analyses import shapes
from s2sad.analyses.activity import Activity, analyse
from s2sad.analyses.shifts import cancelling_shifts
from s2sad.back import jit, jit_cache
from s2sad.back.compile import compile_functions
from s2sad.back.emit import MAX_INLINED_OPS, emit_module
from s2sad.back.guards import Guard, compile_guard, current, same
from s2sad.back.jit_residuals import ranges_apart
from s2sad.back.loop_names import name_loop_temps_apart
from s2sad.back.optimize import optimize as run_optimizer
from s2sad.back.specialise import fold_known_shapes
from s2sad.back.trip_order import save_after_computing
from s2sad.core import ir
from s2sad.core.modes import GRAD, JVP, TAYLOR, VALUE_AND_GRAD, VJP, family
from s2sad.core.naming import Namer, runtime_ref
from s2sad.core.targets import Target, target_of, with_value_kinds
from s2sad.errors import Location, UsageError
from s2sad.front.inline import inline_module_calls
from s2sad.front.lower import all_names, lower
from s2sad.front.lower_expr import getitem_ref
from s2sad.front.parse import MethodOf, Parsed, defaults_of, parse
from s2sad.rules.registry import GENERATION
from s2sad.transforms import forward, reverse, taylor
from s2sad.transforms.base import Derive, Request, Transform, TransformContext, deriving
from s2sad.transforms.calls import methods_as_values
from s2sad.transforms.derivs import container_names, sequence_ops
from s2sad.transforms.hoist import hoist_invariants
from s2sad.transforms.split import split

__all__ = ["TRANSFORMS", "Built", "Request", "build"]

TRANSFORMS: dict[str, Transform] = {
    JVP: forward.transform,
    GRAD: reverse.transform,
    VALUE_AND_GRAD: reverse.transform,
    VJP: reverse.transform,
    TAYLOR: taylor.transform,
}
"""The transform each mode runs, the Taylor modes (`taylor<K>`) under their family (see
`transforms.base` for what a transform receives)."""
SPLIT = (VJP,)
"""The modes whose derivative is split into a primal sweep and an adjoint sweep."""

STATS = {"builds": 0}
"""How many times the pipeline ran; the cache tests read it."""


@dataclass
class Built:
    fun: types.FunctionType
    source: str
    primal: ir.Function
    derivative: ir.Function
    activity: Activity
    deps: tuple[tuple[dict, str, object], ...] = field(default=())
    """(scope, name, object) for each global or closure name the code resolved."""
    bwd: types.FunctionType | None = None
    """For a mode in SPLIT ("vjp"): the adjoint sweep; `fun` is then the primal sweep (see `split`)."""

    generation: int = 0
    """The rule registry's generation this was built with (see `registry.GENERATION`)."""
    origin: types.FunctionType | None = None
    """The function whose source this was built from (kept alive: the cache key may hold its id)."""
    defaults: tuple = ()
    """`origin`'s default values when this was built (baked into the code; compared by identity)."""
    callees: tuple[tuple[Built, types.FunctionType], ...] = ()
    """The entries this one was built from (callees' derivatives, an inner transform's code),
    each with the function it was looked up for."""
    lines: dict[int, int] = field(default_factory=dict)
    """Line of `source` -> the user's line it came from (the emitter's line map)."""
    residuals: tuple[str, ...] = ()
    """For mode "vjp": the names of the values the primal sweep hands the adjoint sweep."""
    guard: Guard | None = field(default=None, repr=False, compare=False)
    """`still_valid`'s check, compiled (see `back.guards.compile_guard`)."""

    def user_line(self, generated_line: int) -> str | None:
        """`file:line: text` of the user's line a line of the generated code came from."""
        line = self.lines.get(generated_line)
        if line is None:
            return None
        return f"{self.primal.filename}:{line}: {self.primal.lines.get(line, '').strip()}"

    def still_valid(self) -> bool:
        """Checked on every call: the registry, the globals, class attributes and closure
        variables the code read, `origin`'s defaults and the callees' entries are as they were
        (see `back.guards`; the check is compiled on first use)."""
        guard = self.guard
        if guard is None:
            guard = self.guard = compile_guard(self.generation, self.deps, self.origin, self.defaults, self.callees)
        return guard()

    def depends_on(self, callees: tuple[tuple[Built, types.FunctionType], ...]) -> None:
        """Record the entries this one was built from (`callees`)."""
        self.callees, self.guard = callees, None

    def valid_for(self, fun: types.FunctionType | None) -> bool:
        """Still valid, and for `fun`, which may share this entry with `origin` (same code,
        globals and cells, no defaults when looked up) and have been given defaults since."""
        if fun is not None and fun is not self.origin and not same(defaults_of(fun), self.defaults):
            return False
        return self.still_valid()


def pair_output(fn: ir.Function, namer: Namer, start: dict) -> ir.Function:
    """For `has_aux`: make the function end in `return (output, aux)` with two atoms. A return
    that is not a pair where that is known (a display of another length, a number or an array
    by the shape classes from `start`) is refused at the return's line."""
    ret = fn.body[-1]
    count = len(ret.value.items) if isinstance(ret.value, ir.Pack) else None
    if count is None:
        cls = shapes.atom_class(ret.value, shapes.classes(fn, start))
        what = "a number" if cls == shapes.SCALAR else "an array" if isinstance(cls, tuple) else None
    else:
        what = None if count == 2 else f"{count} values"
    if what is not None:
        raise UsageError(f"has_aux=True: {fn.name} must return a pair (output, aux), but it returns {what}",
                         Location.of(fn.filename, ret.line, fn.lines.get(ret.line, ""), "return"),
                         hint="return output, aux (aux: anything to hand back beside the derivative), or leave "
                              "has_aux out")
    if count == 2:
        return fn
    parts = [ir.Var(namer.temp()) for _ in range(2)]
    where = ir.Const((fn.filename, ret.line, fn.lines.get(ret.line, ""), fn.name))
    check = ir.Assign(ir.Var(namer.temp()), ir.Call(runtime_ref("check_pair"), (ret.value, where)), ret.line)
    reads = [check] + [ir.Assign(p, ir.Call(getitem_ref(), (ret.value, ir.Const(i))), ret.line)
                       for i, p in enumerate(parts)]
    body = fn.body[:-1] + reads + [ir.Return(ir.Pack(tuple(parts)), ret.line)]
    return ir.Function(fn.name, fn.params, body, fn.filename, fn.firstline, fn.lines, fn.temps, fn.defaults)


def transform(primal: ir.Function, request: Request, namer: Namer, derive: Derive) -> tuple[Activity, ir.Function]:
    """Prepare the primal (aux paired, sequence ops explicit), analyse it, and run the mode's
    transform from TRANSFORMS; the activity table and the derivative."""
    if request.has_aux:
        primal = pair_output(primal, namer, shapes.initial(primal.params, request.kinds, request.shapes))
    primal = sequence_ops(primal, namer)
    start = shapes.initial(primal.params, request.kinds, request.shapes)
    if request.shapes is not None:
        primal = fold_known_shapes(primal, start)
    if request.kinds is not None:
        primal = hoist_invariants(primal, start)
    activity = analyse(primal, list(request.wrt))
    primal, rewritten = methods_as_values(primal, activity.is_active, namer)
    shifts = frozenset(cancelling_shifts(primal)) - set(request.wrt)
    if rewritten or shifts:
        activity = analyse(primal, list(request.wrt), shifts)
    containers = frozenset(container_names(primal, request.kinds))
    ctx = TransformContext(request, activity, namer, containers, derive)
    with deriving(derive):
        derivative = TRANSFORMS[family(request.mode)](primal, ctx)
    ir.verify(derivative)
    return activity, derivative


def build(fun: Target | object, request: Request, derive: Derive) -> Built:
    """Build the derivative code `request` asks for; `derive` looks up callees' derivatives."""
    STATS["builds"] += 1
    if request.backend != "python":  # callees' derivatives compiled by the same backend
        derive = functools.partial(derive, backend=request.backend)
    parsed = parse(with_value_kinds(target_of(fun), request.kinds, request.shapes))
    if request.inline:  # one compiled function: helpers inlined (see `front.inline`)
        parsed = inline_module_calls(parsed)
    primal = lower(parsed)  # (verified by `lower`)
    namer = Namer(_names(primal, parsed))
    activity, derivative = transform(primal, request, namer, derive)
    parts, residuals = (derivative,), ()
    if request.mode in SPLIT:
        sweeps = split(derivative, namer)
        parts, residuals = (sweeps.fwd, sweeps.bwd), sweeps.residuals
        _verify(parts)
    del derivative  # held by `parts` alone: freed as the optimizer replaces them
    if request.optimize:
        parts = tuple(run_optimizer(part, _start_classes(primal, part, request), namer,
                                    _number_params(primal, part, request)) for part in parts)
        if request.backend == "python":  # (the Numba backend's lists by trip hold arrays too)
            parts = tuple(name_loop_temps_apart(save_after_computing(part), namer, primal.temps) for part in parts)
        _verify(parts)
    boundaries = []
    if request.backend == "numba" and request.mode in SPLIT:
        parts = ranges_apart(*parts)
    if request.backend == "numba":
        parts, boundaries = zip(*(jit.prepare(part, _start_classes(primal, part, request)) for part in parts))
    folded = jit.MAX_FOLDED if request.backend == "numba" else MAX_INLINED_OPS
    emitted = emit_module(list(parts), namer.temps | primal.temps | _temps(parts), folded)
    source, namespace = emitted.source, emitted.namespace
    wrt = ",".join(request.wrt)
    filename = f"<s2sad {request.mode} of {parsed.fun.__qualname__} wrt {wrt} ({parsed.filename}:{primal.firstline})>"
    cached = None
    if request.backend == "numba" and request.cache_dir is not None:
        cached = jit_cache.cached_source(request.cache_dir, source, namespace, jit.numba_module().__version__)
        namespace = jit_cache.as_module(cached, namespace) if cached is not None else namespace
    compiled = compile_functions(source, namespace, [p.name for p in parts], str(cached) if cached else filename)
    if request.backend == "numba":
        compiled = jit.jitted(compiled, list(boundaries), primal.filename, emitted.lines, primal.lines,
                              cache=cached is not None)
    bwd = compiled[1] if len(compiled) > 1 else None
    return Built(compiled[0], source, primal, parts[0], activity, _deps(parsed, primal), bwd, GENERATION[0],
                 parsed.fun, defaults_of(parsed.fun), lines=emitted.lines, residuals=residuals)


def _temps(parts: tuple[ir.Function, ...]) -> set[str]:
    """Names a backend's preparation made (`jit_loops`' elements of a fused loop)."""
    return set().union(*(part.temps for part in parts))


def _verify(parts: tuple[ir.Function, ...]) -> None:
    for part in parts:
        ir.verify(part)


def _start_classes(primal: ir.Function, derivative: ir.Function, request: Request) -> dict:
    """Shape classes of the derivative's parameters; a tangent shares its primal's class. The
    adjoint sweep of a vjp, `f_bwd(residuals, bout)`, gets none: the cotangent has the output's
    shape, whatever the kinds of the inputs (a float input may give an array output)."""
    if derivative.params[: len(primal.params)] != list(primal.params):
        return {}
    start = shapes.initial(primal.params, request.kinds, request.shapes)
    for primal_name, param in zip(request.wrt, derivative.params[len(primal.params):]):
        start[param] = start.get(primal_name)
    return start


def _number_params(primal: ir.Function, derivative: ir.Function, request: Request) -> frozenset[str]:
    """The derivative's parameters that are Python floats or ints (`shapes.NUMBER`): the primal's
    own, where the derivative takes them first (not a vjp's adjoint sweep)."""
    if request.shapes is None or derivative.params[: len(primal.params)] != list(primal.params):
        return frozenset()
    return frozenset(p for p, shape in zip(primal.params, request.shapes) if shape == shapes.NUMBER)


def _names(fn: ir.Function, parsed: Parsed) -> set[str]:
    """Every name the user's source or its lowering uses: new names must avoid them all."""
    names = all_names(parsed.tree)
    for stmt in ir.walk(fn.body):
        names |= ir.reads(stmt)
        if isinstance(stmt, (ir.Assign, ir.For)):
            names.add(stmt.target.name)
        for atom in _stmt_atoms(stmt):
            if isinstance(atom, ir.Ref):
                names.add(atom.path[0])
    return names


def _stmt_atoms(stmt: ir.Stmt) -> tuple:
    if isinstance(stmt, ir.Assign):
        value = stmt.value
        return ir.atoms_of(value) + ((value.op,) if isinstance(value, ir.Call) else ())
    if isinstance(stmt, ir.Return):
        return ir.atoms_of(stmt.value)
    return ()


def _deps(parsed: Parsed, fn: ir.Function) -> tuple[tuple[dict, str, object], ...]:
    roots = {}
    methods = {}
    for stmt in ir.walk(fn.body):
        for atom in _stmt_atoms(stmt):
            if isinstance(atom, ir.Ref):
                roots[atom.path[0]] = atom.root
                value = atom.value
                if isinstance(value, MethodOf) and current(value.cls, atom.path[-1]) is value.function:
                    methods[(id(value.cls), atom.path[-1])] = value  # `self.other(...)`, found on the class
    code = parsed.fun.__code__
    cells = dict(zip(code.co_freevars, parsed.fun.__closure__ or ()))
    deps = []
    for name, obj in sorted(roots.items()):
        if name in cells:
            deps.append((cells[name], name, obj))
        elif name in parsed.globals:
            deps.append((parsed.globals, name, obj))
    for (_, name), method in sorted(methods.items(), key=lambda item: item[0][1]):
        deps.append((method.cls, name, method.function))
    return tuple(deps) + tuple(parsed.static_deps)
