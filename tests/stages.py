"""The one door from the per-stage tests into the compiler.

Every test under tests/core, tests/front, tests/analyses, tests/transforms and tests/back calls
the compiler's stages only through the functions here: a snippet of source in, the stage's
result (mostly as text) out. When a stage's signature changes, this module is the one place to
fix; the tests and their golden files stay as they are.

A snippet is the source of a module holding a function `f` (and maybe helpers it calls). It is
written below a fixed header (`import math`, `import numpy as np`) to a real file in a
temporary directory and imported, so `inspect.getsource` works as it does for user code.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import sys
import tempfile
import textwrap
import types
from pathlib import Path

from s2sad import cache, pipeline
from s2sad.analyses import recording, shapes
from s2sad.analyses.activity import Activity, analyse
from s2sad.analyses.recording import Recorder
from s2sad.back.emit import emit_module
from s2sad.back.optimize import optimize
from s2sad.core import ir, printer
from s2sad.core.naming import Namer
from s2sad.front.lower import lower
from s2sad.front.parse import parse
from s2sad.rules.registry import lookup
from s2sad.transforms import reverse as reverse_stage
from s2sad.transforms import templates
from s2sad.transforms.derivs import sequence_ops

HEADER = "import math\n\nimport numpy as np\n\n\n"
"""Written above every snippet; the line numbers in golden text count it (5 lines)."""

_DIR: Path | None = None
_LOADED: dict[str, types.ModuleType] = {}


# ------------------------------------------------------------------ snippets


def function(src: str, name: str = "f") -> types.FunctionType:
    """The function `name` of the snippet `src`, imported from a real file."""
    text = HEADER + textwrap.dedent(src).strip() + "\n"
    module = _LOADED.get(text)
    if module is None:
        module = _LOADED[text] = _import(text)
    return getattr(module, name)


def _import(text: str) -> types.ModuleType:
    global _DIR
    if _DIR is None:
        _DIR = Path(tempfile.mkdtemp(prefix="s2sad-stages-"))
    module_name = "s2sad_stage_" + hashlib.sha1(text.encode()).hexdigest()[:12]
    path = _DIR / f"{module_name}.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def _params(fun: types.FunctionType) -> list[str]:
    return list(inspect.signature(fun).parameters)


def _wrt(fun: types.FunctionType, wrt: str | None) -> tuple[str, ...]:
    """`"x,y"` -> ("x", "y"); None -> every parameter."""
    return tuple(wrt.split(",")) if wrt else tuple(_params(fun))


def _kinds(kinds: str | None) -> tuple[str | None, ...] | None:
    """`"scalar,array"` -> ("scalar", "array"); `?` for an unknown kind."""
    if kinds is None:
        return None
    return tuple(None if k == "?" else k for k in kinds.split(","))


# ------------------------------------------------------------------ front: lowering


def lowered(src: str) -> ir.Function:
    """The snippet's `f` lowered to IR (verified)."""
    fn = lower(parse(function(src)))
    ir.verify(fn)
    return fn


def lowered_text(src: str) -> str:
    return printer.format_function(lowered(src))


# ------------------------------------------------------------------ analyses


def _analysed_ir(src: str) -> ir.Function:
    """The IR the analyses see: lowered, sequence operations made explicit."""
    return sequence_ops(lowered(src))


def activity(src: str, wrt: str | None = None) -> Activity:
    return analyse(_analysed_ir(src), list(_wrt(function(src), wrt)))


def activity_text(src: str, wrt: str | None = None) -> str:
    """The IR the analysis read, then its table (varied, useful, active)."""
    fn = _analysed_ir(src)
    table = analyse(fn, list(_wrt(function(src), wrt)))
    return printer.format_function(fn) + "\n" + table.format()


def shapes_text(src: str, kinds: str | None) -> str:
    """The IR, then the shape class of every name (`()` a scalar, a parameter's name for that
    parameter's shape, `?` unknown), given the parameters' kinds."""
    fn = _analysed_ir(src)
    table = shapes.classes(fn, shapes.initial(fn.params, _kinds(kinds)))
    rows = [f"{name}: {'?' if cls is None else cls}" for name, cls in sorted(table.items())]
    return printer.format_function(fn) + "\n" + "\n".join(rows) + "\n"


def recorded_text(src: str, wrt: str | None = None, form: str = "grad") -> str:
    """The primal sweep as reverse mode marks it for recording, and what it keeps.

    Each `save NAME (kind)` line stands before the statement that overwrites NAME (`value`: a
    rebinding, `slice`: an item write, `append`/`pop`: a list's length, `whole`: a copy of the
    whole value); `-> slot` names where a kept save goes (a local, or the tape inside loops),
    `dropped` marks one the adjoint sweep never reads. Trip counters of `while` loops follow."""
    captured: dict = {}
    build_reverse(src, wrt, form, capture=captured)
    recorder, primal = captured["recorder"], captured["primal"]
    lines = [f"def {captured['name']}({', '.join(captured['params'])}):"]
    lines += _marked(primal, "    ", captured["slots"])
    counters = sorted(recorder.counters.values())
    lines.append(f"# while-loop trip counters: {', '.join(counters) if counters else '(none)'}")
    return "\n".join(lines) + "\n"


def _marked(body: list, indent: str, slots: dict[int, str]) -> list[str]:
    out: list[str] = []
    for stmt in body:
        if isinstance(stmt, ir.Save):
            where = f"-> {slots[stmt.sid]}" if stmt.sid in slots else "dropped"
            loop = ", in loop" if stmt.in_loop else ""
            out.append(f"{indent}save {stmt.name} ({stmt.kind}{loop}) {where}")
        elif isinstance(stmt, ir.COMPOUND):
            out += _compound(stmt, indent, slots)
        else:
            out += printer.format_stmt(stmt, indent)
    return out


def _compound(stmt: ir.Stmt, indent: str, slots: dict[int, str]) -> list[str]:
    """A compound statement printed like `ir.format_stmt`, its blocks with their markers."""
    inner = indent + "    "
    if isinstance(stmt, ir.If):
        out = [f"{indent}if {printer.format_atom(stmt.test)}:"] + (_marked(stmt.body, inner, slots) or [f"{inner}pass"])
        return out + ([f"{indent}else:"] + _marked(stmt.orelse, inner, slots) if stmt.orelse else [])
    if isinstance(stmt, ir.For):
        head = f"{indent}for {stmt.target.name} in {printer.format_atom(stmt.iter)}:"
        return [head] + (_marked(stmt.body, inner, slots) or [f"{inner}pass"])
    out = [f"{indent}while True:"] + _marked(stmt.test_body, inner, slots)
    out += [f"{inner}if not {printer.format_atom(stmt.test)}:", f"{inner}    break"]
    return out + _marked(stmt.body, inner, slots)


# ------------------------------------------------------------------ transforms


def _derive(src: str, mode: str, wrt: str | None, kinds: str | None) -> ir.Function:
    fun = function(src)
    request = _request(fun, mode, wrt, kinds)
    parsed = parse(fun)
    primal = lower(parsed)
    namer = Namer(pipeline._names(primal, parsed))
    with cache.building(cache.key(fun, request)):
        _, derivative = pipeline.transform(primal, request, namer, cache.derive)
    return derivative


def forward_ir(src: str, wrt: str | None = None, kinds: str | None = None) -> ir.Function:
    """The unoptimized tangent function (mode `jvp`), verified."""
    return _derive(src, "jvp", wrt, kinds)


def reverse_ir(src: str, wrt: str | None = None, form: str = "grad", kinds: str | None = None) -> ir.Function:
    """The unoptimized adjoint function (`grad`, `value_and_grad` or `vjp`), verified."""
    return _derive(src, form, wrt, kinds)


def build_reverse(src: str, wrt: str | None, form: str, capture: dict) -> ir.Function:
    """`reverse_ir`, keeping in `capture` the recorder and the marked primal sweep it finished."""
    original = reverse_stage.Recorder

    class Capturing(Recorder):
        def finish(self, primal: list, adjoint: list, numbers: set[str] = frozenset()) -> list[ir.Stmt]:
            body = super().finish(primal, adjoint, numbers)
            needed = recording.needed_saves(adjoint)
            slots = {sid: "tape" for sid in needed} | self.slots
            capture.update(recorder=self, primal=primal, slots=slots)
            return body

    fun = function(src)
    capture.update(name=fun.__name__, params=_params(fun))
    reverse_stage.Recorder = Capturing
    try:
        return reverse_ir(src, wrt, form)
    finally:
        reverse_stage.Recorder = original


def template_text(op: object, direction: str, param: str, names: dict[str, str] | None = None) -> str:
    """One term of the rule of `op` instantiated by `templates`: the tangent (`direction`
    "tangent", incoming `dP`) or adjoint ("adjoint", incoming `g`) contribution of parameter
    `param`, with each parameter bound to a variable of its own name (or `names[param]`), the
    result to `out`. Printed as statements and the atom holding the term."""
    rule = lookup(op)
    call_args = tuple(ir.Var((names or {}).get(p, p)) for p in _positional(rule))
    bindings = templates.bind(rule, ir.Call(rule.ref, call_args), None)
    namer = Namer(set(rule.signature.parameters) | {"out", "g", "d" + param})
    incoming = ir.Var("d" + param if direction == "tangent" else "g")
    term = templates.tangent_term if direction == "tangent" else templates.adjoint_term
    stmts, result = term(rule, param, bindings, incoming, ir.Var("out"), namer, 0)
    lines = [line for stmt in stmts for line in printer.format_stmt(stmt)]
    return "\n".join(lines + [f"-> {printer.format_expr(result)}"]) + "\n"


def _positional(rule) -> list[str]:
    """The parameters without defaults: the ones a plain call passes."""
    return [p.name for p in rule.signature.parameters.values()
            if p.default is inspect.Parameter.empty and p.kind is not p.VAR_KEYWORD]


# ------------------------------------------------------------------ back: optimize, emit


def optimized_text(src: str, mode: str = "grad", wrt: str | None = None, kinds: str | None = None) -> str:
    """The optimized IR: of the lowered `f` itself for mode "primal", else of its derivative
    as the pipeline builds it (mode "jvp", "grad" or "value_and_grad")."""
    if mode == "primal":
        fn = lowered(src)
        return printer.format_function(optimize(fn, {}, Namer(ir.assigned(fn.body) | set(fn.params))))
    return printer.format_function(built(src, mode, wrt, kinds).derivative)


def emitted(src: str, mode: str = "grad", wrt: str | None = None, kinds: str | None = None) -> str:
    """The Python source the pipeline emits for the derivative: "primal" emits the lowered `f`."""
    if mode == "primal":
        fn = lowered(src)
        return emit_module([fn], fn.temps).source
    return built(src, mode, wrt, kinds).source


def built(src: str, mode: str, wrt: str | None = None, kinds: str | None = None) -> pipeline.Built:
    """The pipeline's whole result for the snippet's `f` (not cached)."""
    fun = function(src)
    return pipeline.build(fun, _request(fun, mode, wrt, kinds), cache.derive)


def _request(fun: types.FunctionType, mode: str, wrt: str | None, kinds: str | None) -> pipeline.Request:
    """What `grad(f, argnums=...)` asks for: one gradient for one name, a tuple for several."""
    names = _wrt(fun, wrt)
    return pipeline.Request(mode, names, single=len(names) == 1, kinds=_kinds(kinds))


# ------------------------------------------------------------------ snippets the stage tests share

SNIPPETS = {
    "arith": """
        def f(x, y):
            z = x * y
            return np.sin(z) + 1.0
    """,
    "branch": """
        def f(x):
            if x > 0.0:
                y = x * x
            else:
                y = -x
            return y
    """,
    "loop_overwrite": """
        def f(x):
            s = 1.0
            for i in range(3):
                s = s * x + 1.0
            return s
    """,
    "item_write": """
        def f(x):
            v = np.zeros(3)
            v[0] = x * 2.0
            v[1] = np.exp(x)
            return np.sum(v * v)
    """,
    "helper_call": """
        def h(a):
            return a * a

        def f(x):
            return h(x) + x
    """,
    "inactive": """
        def f(x, n):
            k = n * 2.0
            c = np.cos(n)
            return x * k + c
    """,
    "container": """
        def f(x):
            items = [x, x * x]
            items.append(np.sin(x))
            return items[0] + items[1] * items[2]
    """,
    "while_loop": """
        def f(x):
            y = x
            while y < 10.0:
                y = y * 2.0
            return y
    """,
    "scalar_chain": """
        def f(s, rounds):
            for _ in range(rounds):
                s = math.sin(s)
                s = s * 1.5
                s = math.tanh(s)
                s = s + 0.25
                s = math.exp(s)
            return s
    """,
}
"""Small functions, one per thing a stage must get right: arithmetic, a branch, a loop that
overwrites a variable, item writes, a call to a helper, an inactive parameter, a container and
a `while` loop. Each test module uses those that mean something for its stage."""
