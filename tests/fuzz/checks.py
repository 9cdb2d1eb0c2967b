"""Run one generated program through every s2sad mode and check the modes against each other and
against central finite differences.

The outcome of a program is one of: "invalid" (the program itself fails or is unsuitable: it
raises in plain Python, gives a non-finite or huge value, or a branch condition is within
`MARGIN` of its threshold at the test point, so a finite-difference step could flip it),
"refused" (s2sad raised one of its own errors in the first-order modes, all of them), "passed",
or a failure with a kind such as "wrong:jvp-vs-grad" or "crash:hessian:UnboundLocalError".
"""

from __future__ import annotations

import ast
import importlib.util
import itertools
import sys
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import s2sad
from s2sad import cache
from s2sad.errors import S2SADError
from tests.fuzz.generate import Program

MARGIN = 2e-3  # a branch condition must be this far from its threshold at the test point
STEP = 1e-5  # central finite-difference step
FD_TOL = 1e-5  # relative + absolute, against finite differences
AD_TOL = 1e-7  # relative + absolute, between two AD modes
LIMIT = 1e4  # values beyond this make finite differences untrustworthy: the program is invalid

_counter = itertools.count()


class Failure(Exception):
    """A real disagreement: a wrong value, a crash that is not an s2sad error, a mutated input."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.detail = detail


class Refused(Exception):
    def __init__(self, mode: str, err: S2SADError) -> None:
        super().__init__(f"{mode}: {type(err).__name__}: {err}")
        self.mode = mode
        self.err = err


@dataclass
class Outcome:
    status: str  # "passed", "refused", "invalid", "failed"
    kind: str = ""  # the failure kind, the refusing error class, or why the program is invalid
    detail: str = ""
    refused_higher: list[str] = field(default_factory=list)


# ---- loading and validating -----------------------------------------------------------------

def load(program: Program, directory: Path, tag: str = "") -> object:
    """Write the program to a real file (inspect.getsource needs one) and import it."""
    name = f"fz{program.seed}_{tag}{next(_counter)}"
    path = directory / f"{name}.py"
    path.write_text(program.source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def unload(module: object) -> None:
    sys.modules.pop(module.__name__, None)


class _Instrument(ast.NodeTransformer):
    """`a < c` becomes `_fz_margin(a, c) < c`: the run records how close each test came."""

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        if len(node.ops) == 1 and isinstance(node.ops[0], (ast.Lt, ast.Gt, ast.LtE, ast.GtE)):
            call = ast.Call(ast.Name("_fz_margin", ast.Load()), [node.left, node.comparators[0]], [])
            return ast.copy_location(ast.Compare(call, node.ops, node.comparators), node)
        return node


def margins(program: Program) -> tuple[object, float]:
    """The entry's value at the program's arguments and the smallest branch margin on the way."""
    tree = _Instrument().visit(ast.parse(program.source))
    ast.fix_missing_locations(tree)
    seen: list[float] = []

    def _fz_margin(a, b):
        if not (isinstance(a, (int, np.integer)) and isinstance(b, (int, np.integer))):
            seen.append(float(np.min(np.abs(np.asarray(a, float) - b))))
        return a

    namespace: dict = {"_fz_margin": _fz_margin, "__name__": "fz_instrumented"}
    exec(compile(tree, f"<fuzz program {program.seed}>", "exec"), namespace)
    value = namespace[program.entry](*copy_args(program.args))
    return value, min(seen, default=np.inf)


def validate(program: Program) -> tuple[object | None, str]:
    """The entry's value, or None and why the program cannot be tested."""
    try:
        with np.errstate(all="raise"), warnings.catch_warnings():
            warnings.simplefilter("error")
            value, margin = margins(program)
    except Exception as err:  # the program itself is broken: a generator (or shrinker) product
        return None, f"raises {type(err).__name__}"
    if isinstance(value, (list, tuple, dict)) or np.asarray(value).dtype.kind != "f":
        return None, "not a float result"
    if program.vector != (np.ndim(value) > 0):
        return None, "wrong output rank"
    if not np.all(np.isfinite(value)) or np.max(np.abs(value)) > LIMIT:
        return None, "huge value"
    if margin < MARGIN:
        return None, "branch margin"
    return value, ""


# ---- small helpers -------------------------------------------------------------------------

def copy_args(args: tuple) -> tuple:
    return tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)


def flat(leaves) -> np.ndarray:
    return np.concatenate([np.ravel(np.asarray(leaf, float)) for leaf in leaves]) if leaves else np.zeros(0)


def shift(args: tuple, direction: tuple, h: float) -> tuple:
    return tuple(a + h * d if isinstance(a, np.ndarray) else float(a + h * d) for a, d in zip(args, direction))


def central(f, args: tuple, u: tuple, step: float = STEP):
    """The central difference of `f` at `args` along `u`."""
    return (f(shift(args, u, step)) - f(shift(args, u, -step))) / (2 * step)


def fd_agrees(derivative, f, args: tuple, u: tuple) -> tuple[bool, object]:
    """Whether `derivative` agrees with finite differences of `f` along `u`, and the difference
    it was compared with. Where the plain central difference disagrees, a Richardson step (error
    O(h^4), not O(h^2)) decides, allowing twice the change it made as the differences' own
    error: strongly curved programs do not count as failures, wrong derivatives still do. Where
    halving the step changes the differences by more than a tenth, they do not converge at this
    step (the program varies faster than the step resolves) and cannot decide; the modes are
    still checked against each other."""
    fd = central(f, args, u)
    if close(derivative, fd, FD_TOL):
        return True, fd
    half = central(f, args, u, STEP / 2)
    if not converging(fd, half):
        return True, half
    refined = (4 * half - fd) / 3
    error = 2 * np.abs(np.asarray(refined) - fd)
    bound = FD_TOL * (1.0 + np.maximum(np.abs(derivative), np.abs(refined))) + error
    return bool(np.all(np.abs(np.asarray(derivative) - refined) <= bound)), refined


def converging(fd, half) -> bool:
    """Whether differences at a step and at half of it are within a tenth of each other."""
    fd, half = np.asarray(fd, float), np.asarray(half, float)
    return bool(np.all(np.abs(half - fd) <= 0.1 * np.maximum(np.abs(half), np.abs(fd))))


def close(a, b, tol: float) -> bool:
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape != b.shape:
        return False
    return bool(np.all(np.abs(a - b) <= tol * (1.0 + np.maximum(np.abs(a), np.abs(b)))))


def expect(ok: bool, kind: str, detail: object = "") -> None:
    if not ok:
        raise Failure(kind, str(detail))


def same_structure(grads, args: tuple, kind: str) -> None:
    expect(isinstance(grads, tuple) and len(grads) == len(args), kind, f"{type(grads).__name__} for {len(args)} args")
    for g, a in zip(grads, args):
        expect(np.shape(g) == np.shape(a), kind, f"shape {np.shape(g)} for an argument of shape {np.shape(a)}")


@dataclass
class Context:
    fun: Callable
    args: tuple
    saved: tuple
    value: object
    direction: tuple
    argnums: object
    single: bool
    refusals: list[str] = field(default_factory=list)

    def call(self, mode: str, thunk: Callable[[], object]) -> object:
        """Run one s2sad call; a mode that raises anything but an s2sad error fails."""
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = thunk()
        except S2SADError as err:
            raise Refused(mode, err) from None
        except Exception as err:
            tb = traceback.format_exception(err)
            raise Failure(f"crash:{mode}:{type(err).__name__}", "".join(tb[-3:]).strip()) from None
        for a, s in zip(self.args, self.saved):
            expect(np.array_equal(a, s), f"wrong:inputs-modified:{mode}", "the caller's argument was written")
        return result

    def as_tuple(self, result) -> tuple:
        return (result,) if self.single else result

    def f(self, args: tuple):
        with np.errstate(all="ignore"):
            return self.fun(*copy_args(args))


# ---- the checks -----------------------------------------------------------------------------

def check_scalar(ctx: Context, only: str | None = None) -> list[str]:
    """grad, value_and_grad, jvp, vjp, hessian, hvp and grad(grad) of a scalar program; `only`
    (a failure kind, while shrinking) skips the higher-order checks it does not need."""
    g = first_order_scalar(ctx)
    higher: list[str] = []
    everything = list(range(len(ctx.args)))
    steps = [("hessian", lambda: check_hessian(ctx, [0], True)), ("grad-grad", lambda: check_grad_grad(ctx, g))]
    if len(everything) > 1:  # all blocks last: transposed off-diagonal blocks would hide the rest
        steps.append(("hessian", lambda: check_hessian(ctx, everything, False)))
    for name, check in steps:
        if only is not None and not any(word in only for word in HIGHER_KINDS[name]):
            continue
        try:
            check()
        except Refused as r:
            higher.append(f"{r.mode}:{type(r.err).__name__}")
    return higher


def first_order_scalar(ctx: Context) -> tuple:
    fun, args, u = ctx.fun, ctx.args, ctx.direction
    results: dict[str, object] = {}
    refused: dict[str, Refused] = {}
    thunks = {
        "value_and_grad": lambda: s2sad.value_and_grad(fun, argnums=ctx.argnums)(*args),
        "jvp": lambda: s2sad.jvp(fun, args, u),
        "vjp": lambda: s2sad.vjp(fun, *args),
    }
    for mode, thunk in thunks.items():
        try:
            results[mode] = ctx.call(mode, thunk)
        except Refused as r:
            refused[mode] = r
    _agree_on_refusal(refused, thunks)
    v, g = results["value_and_grad"]
    g = ctx.as_tuple(g)
    expect(close(v, ctx.value, AD_TOL), "wrong:value:value_and_grad", f"{v} vs {ctx.value}")
    same_structure(g, args, "wrong:structure:grad")
    g2 = ctx.as_tuple(ctx.call("grad", lambda: s2sad.grad(fun, argnums=ctx.argnums)(*args)))
    expect(close(flat(g2), flat(g), AD_TOL), "wrong:grad-vs-value_and_grad", f"{g2} vs {g}")
    gu = float(flat(g) @ flat(u))
    agrees, fd = fd_agrees(gu, ctx.f, args, u)
    expect(agrees, "wrong:grad-vs-fd", f"grad.u = {gu!r}, finite differences {fd!r}")
    g3 = ctx.as_tuple(ctx.call("grad", lambda: s2sad.grad(fun, argnums=ctx.argnums)(*args)))
    expect(np.array_equal(flat(g3), flat(g)), "wrong:cache", f"second call {g3} vs first {g}")
    out, t = results["jvp"]
    expect(close(out, ctx.value, AD_TOL), "wrong:value:jvp", f"{out} vs {ctx.value}")
    expect(close(t, gu, AD_TOL), "wrong:jvp-vs-grad", f"jvp {t!r}, grad.u {gu!r}")
    out, pb = results["vjp"]
    expect(close(out, ctx.value, AD_TOL), "wrong:value:vjp", f"{out} vs {ctx.value}")
    c1 = ctx.call("vjp", lambda: pb(1.0))
    same_structure(c1, args, "wrong:structure:vjp")
    expect(close(flat(c1), flat(g), AD_TOL), "wrong:vjp-vs-grad", f"pullback {c1}, grad {g}")
    c2 = ctx.call("pullback-twice", lambda: pb(1.0))
    expect(close(flat(c2), flat(c1), 1e-12), "wrong:pullback-twice", f"second {c2}, first {c1}")
    return g


HIGHER_KINDS = {"hessian": ("hessian", "hvp"), "grad-grad": ("grad-grad",)}


def _agree_on_refusal(refused: dict[str, Refused], thunks: dict) -> None:
    if not refused:
        return
    if len(refused) == len(thunks):
        raise next(iter(refused.values()))
    modes = sorted(refused)
    r = refused[modes[0]]
    raise Failure(f"refusal-mismatch:{'+'.join(modes)}",
                  f"{', '.join(modes)} refused ({type(r.err).__name__}: {r.err}); the other modes ran")


def hessian_matrix(shapes: list, H, single: bool) -> np.ndarray:
    sizes = [int(np.prod(s)) for s in shapes]
    blocks = [[H]] if single else H
    expect(len(blocks) == len(sizes), "wrong:structure:hessian", f"{len(blocks)} rows of blocks")
    rows = []
    for i, row in enumerate(blocks):
        expect(len(row) == len(sizes), "wrong:structure:hessian", f"{len(row)} blocks in row {i}")
        for j, block in enumerate(row):
            if np.shape(block) != shapes[i] + shapes[j]:
                kind = "transposed-block" if np.shape(block) == shapes[j] + shapes[i] else "hessian"
                raise Failure(f"wrong:structure:{kind}",
                              f"block [{i}][{j}] has shape {np.shape(block)}, expected {shapes[i] + shapes[j]}")
        rows.append(np.concatenate([np.reshape(b, (sizes[i], sizes[j])) for j, b in enumerate(row)], axis=1))
    return np.concatenate(rows, axis=0)


def transpose_off_diagonal(shapes: list, M: np.ndarray) -> np.ndarray:
    """M with each off-diagonal block transposed in place (the layout of a block [j][i])."""
    edges = np.cumsum([0] + [int(np.prod(s)) for s in shapes])
    out = M.copy()
    for i in range(len(shapes)):
        for j in range(len(shapes)):
            if i != j:
                block = M[edges[i]:edges[i + 1], edges[j]:edges[j + 1]]
                out[edges[i]:edges[i + 1], edges[j]:edges[j + 1]] = block.reshape(block.shape[::-1]).T
    return out


def check_hessian(ctx: Context, wrt: list[int], single: bool) -> None:
    """hessian with respect to the arguments `wrt` (argnums=wrt[0] when `single`) against finite
    differences of grad, its symmetry, and (for the first argument alone) hvp against it."""
    fun, args = ctx.fun, ctx.args
    argnums = wrt[0] if single else tuple(wrt)
    u = tuple(d if i in wrt else (np.zeros_like(d) if isinstance(d, np.ndarray) else 0.0)
              for i, d in enumerate(ctx.direction))
    uw = flat([u[i] for i in wrt])
    shapes = [np.shape(args[i]) for i in wrt]
    H = ctx.call("hessian", lambda: s2sad.hessian(fun, argnums=argnums)(*args))
    M = hessian_matrix(shapes, H, single)
    grad = s2sad.grad(fun, argnums=argnums)
    wrap = (lambda g: (g,)) if single else (lambda g: g)
    def grad_at(a: tuple) -> np.ndarray:
        return flat(wrap(ctx.call("grad", lambda: grad(*a))))

    fd = central(grad_at, args, u)
    hu = M @ uw
    bound = FD_TOL * (1 + np.abs(M) @ np.abs(uw) + np.abs(fd))
    decided = True
    if not np.all(np.abs(hu - fd) <= bound):  # a Richardson step and its change as the error, as in fd_agrees
        half = central(grad_at, args, u, STEP / 2)
        decided = converging(fd, half)
        refined = (4 * half - fd) / 3
        fd, bound = refined, bound + 2 * np.abs(refined - fd)
    if decided and not np.all(np.abs(hu - fd) <= bound):
        swapped = transpose_off_diagonal(shapes, M) @ uw
        kind = "offdiagonal-transposed" if np.all(np.abs(swapped - fd) <= bound) else "fd"
        raise Failure(f"wrong:hessian-vs-{kind}", f"H.u = {hu}, finite differences of grad {fd}")
    expect(close(M, M.T, 1e-6), "wrong:hessian-symmetry", f"H = {M}")
    if wrt != [0]:
        return
    v = u[0]
    hv = ctx.call("hvp", lambda: s2sad.hvp(fun, argnums=0)(*args, v))
    n0 = int(np.size(args[0]))
    expect(np.shape(hv) == np.shape(args[0]), "wrong:structure:hvp", f"shape {np.shape(hv)}")
    expect(close(np.ravel(hv), M[:n0, :n0] @ np.ravel(v), AD_TOL), "wrong:hvp-vs-hessian",
           f"hvp {hv}, H00.v {M[:n0, :n0] @ np.ravel(v)}")


def check_grad_grad(ctx: Context, g: tuple) -> None:
    """Reverse over reverse, for a program whose first argument is a float."""
    fun, args = ctx.fun, ctx.args
    if np.ndim(args[0]) != 0:
        return
    gg = ctx.call("grad-grad", lambda: s2sad.grad(s2sad.grad(fun, argnums=0), argnums=0)(*args))
    grad = s2sad.grad(fun, argnums=0)
    e = (1.0,) + tuple(np.zeros_like(a) if isinstance(a, np.ndarray) else 0.0 for a in args[1:])
    agrees, fd = fd_agrees(gg, lambda a: grad(*a), args, e)
    expect(agrees, "wrong:grad-grad-vs-fd", f"grad(grad) {gg!r}, finite differences {fd!r}")


def check_vector(ctx: Context, rng: np.random.Generator) -> list[str]:
    """jvp, vjp (dot-product identity), jacfwd, jacrev of an array-valued program."""
    fun, args, u = ctx.fun, ctx.args, ctx.direction
    results, refused = {}, {}
    thunks = {"jvp": lambda: s2sad.jvp(fun, args, u), "vjp": lambda: s2sad.vjp(fun, *args)}
    for mode, thunk in thunks.items():
        try:
            results[mode] = ctx.call(mode, thunk)
        except Refused as r:
            refused[mode] = r
    _agree_on_refusal(refused, thunks)
    out, t = results["jvp"]
    expect(close(out, ctx.value, AD_TOL), "wrong:value:jvp", f"{out} vs {ctx.value}")
    agrees, fd = fd_agrees(t, ctx.f, args, u)
    expect(np.shape(t) == np.shape(fd), "wrong:structure:jvp", f"tangent shape {np.shape(t)}")
    expect(agrees, "wrong:jvp-vs-fd", f"jvp {t}, finite differences {fd}")
    t2 = ctx.call("jvp", lambda: s2sad.jvp(fun, args, u)[1])
    expect(np.array_equal(t2, t), "wrong:cache", f"second call {t2} vs first {t}")
    out, pb = results["vjp"]
    expect(close(out, ctx.value, AD_TOL), "wrong:value:vjp", f"{out} vs {ctx.value}")
    w = np.round(rng.normal(size=np.shape(ctx.value)), 3)
    c1 = ctx.call("vjp", lambda: pb(w))
    same_structure(c1, args, "wrong:structure:vjp")
    lhs, rhs = float(np.sum(w * t)), float(flat(c1) @ flat(u))
    scale = float(np.sum(np.abs(w) * np.abs(t)))
    expect(abs(lhs - rhs) <= AD_TOL * (1 + scale + abs(lhs)), "wrong:vjp-vs-jvp",
           f"w.jvp(u) = {lhs!r}, vjp(w).u = {rhs!r}")
    c2 = ctx.call("pullback-twice", lambda: pb(w))
    expect(close(flat(c2), flat(c1), 1e-12), "wrong:pullback-twice", f"second {c2}, first {c1}")
    higher: list[str] = []
    try:
        jf = ctx.as_tuple(ctx.call("jacfwd", lambda: s2sad.jacfwd(fun, argnums=ctx.argnums)(*args)))
        jr = ctx.as_tuple(ctx.call("jacrev", lambda: s2sad.jacrev(fun, argnums=ctx.argnums)(*args)))
    except Refused as r:
        return [f"{r.mode}:{type(r.err).__name__}"]
    oshape = np.shape(ctx.value)
    for i, (a, b) in enumerate(zip(jf, jr)):
        want = oshape + np.shape(args[i])
        expect(np.shape(a) == want, "wrong:structure:jacfwd", f"block {i}: {np.shape(a)}, expected {want}")
        expect(np.shape(b) == want, "wrong:structure:jacrev", f"block {i}: {np.shape(b)}, expected {want}")
        expect(close(a, b, AD_TOL), "wrong:jacrev-vs-jacfwd", f"block {i}: jacrev {b}, jacfwd {a}")
    ju = sum(np.tensordot(a, np.asarray(d, float), axes=np.ndim(d)) for a, d in zip(jf, u))
    expect(close(ju, t, AD_TOL), "wrong:jacfwd-vs-jvp", f"J.u {ju}, jvp {t}")
    return higher


# ---- one program ---------------------------------------------------------------------------

def run_program(program: Program, directory: Path, only: str | None = None) -> Outcome:
    """Check one program in every mode (or, while shrinking, only the modes behind `only`)."""
    value, why = validate(program)
    if value is None:
        return Outcome("invalid", why)
    module = load(program, directory)
    try:
        return _run_loaded(program, getattr(module, program.entry), value, only)
    finally:
        unload(module)
        cache.clear()


def _run_loaded(program: Program, fun: Callable, value, only: str | None) -> Outcome:
    rng = np.random.default_rng([program.seed, 1])
    args = copy_args(program.args)
    direction = tuple(np.round(rng.normal(size=np.shape(a)), 3) if np.ndim(a) else float(np.round(rng.normal(), 3))
                      for a in args)
    single = len(args) == 1
    ctx = Context(fun, args, copy_args(args), value, direction, 0 if single else tuple(range(len(args))), single)
    try:
        higher = check_vector(ctx, rng) if program.vector else check_scalar(ctx, only)
    except Failure as fail:
        return Outcome("failed", fail.kind, fail.detail)
    except Refused as r:
        return Outcome("refused", type(r.err).__name__, str(r))
    return Outcome("passed", refused_higher=higher)
