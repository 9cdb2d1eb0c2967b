"""Time s2sad against the hand-written gradient and the peers that are installed.

    python benchmarks/run.py                    # every workload, a markdown report on stdout
    python benchmarks/run.py --quick            # fewer repeats (the sizes stay as stated)
    python benchmarks/run.py --only rnn,chain   # some workloads (names in benchmarks/workloads.py)
    python benchmarks/run.py --no-peers         # primal, hand-written and s2sad only
    python benchmarks/run.py --write            # also update docs/performance.md, its PNG and the README

Single-threaded (BLAS, OpenMP, XLA and torch threads set to one, and the process pinned to one
core where the OS allows, so a thread pool that ignores those settings gains nothing). Each repeat times every
contender once, round-robin, and each contender's time is its best over the repeats; ratios are
to the hand-written gradient. A gradient (s2sad's or a peer's) is checked against the
hand-written one before it is timed: s2sad's to 1e-12 relative, and a mismatch is reported and
makes the run exit nonzero; a peer that fails or differs is "n/a". Peers (autograd, JAX, PyTorch)
are optional and never dependencies of s2sad. Tests never assert timings: this script shows speed.
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"
os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
if hasattr(os, "sched_setaffinity"):  # one core for the whole process: a thread pool that ignores the above shares it
    os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})

import argparse  # noqa: E402
import ctypes  # noqa: E402
import gc  # noqa: E402
import importlib.util  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import timeit  # noqa: E402
import tracemalloc  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).parent)]  # this checkout's s2sad

import peers  # noqa: E402
import report  # noqa: E402
import workloads  # noqa: E402

import s2sad  # noqa: E402

LONG_LINES = (100, 200, 400)
LONG_MODES = ("grad", "value_and_grad", "jvp")


@dataclass
class Settings:
    repeats: int
    target: float
    """Seconds one timed batch of calls should last (the calls per batch are calibrated to it)."""
    peers: bool


@dataclass
class Result:
    """One workload's measurements: best seconds per contender, or why a contender is missing."""

    work: workloads.Workload
    times: dict[str, float] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    build: float | None = None
    compile_jit: float | None = None
    compile_numba: float | None = None
    """Seconds Numba took to compile s2sad's gradient (`backend="numba"`), where it did."""
    memory: tuple[int, int] | None = None
    """Peak bytes of one s2sad gradient call and of one hand-written gradient call."""
    failure: str | None = None


# ------------------------------------------------------------------ timing


def steady_allocator() -> bool:
    """glibc's malloc as a long-running program has it: blocks up to 32 MiB come from the heap,
    and freed memory is kept for the next call, so no call pays the page faults of fresh memory.
    Left alone, glibc raises these thresholds itself once large blocks are freed, so what ran
    before in the process decided whether a gradient's arrays faulted in new pages: the 50-op
    chain's Numba gradient took 17 ms after the other workloads alone and 7 ms after the peers
    (the hand-written gradient 32 and 25 ms). False where the C library is not glibc."""
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    settings = ((-3, 32 << 20), (-1, 1 << 30), (-2, 64 << 20))  # M_MMAP_THRESHOLD, M_TRIM_THRESHOLD, M_TOP_PAD
    return all(mallopt(option, value) == 1 for option, value in settings)


def interleaved(contenders: dict[str, Callable[[], object]], settings: Settings) -> dict[str, float]:
    """Best seconds per call of each contender: round-robin repeats, calls per batch calibrated."""
    numbers = {name: _calls_per_batch(fn, settings.target) for name, fn in contenders.items()}
    best = {name: float("inf") for name in contenders}
    for _ in range(settings.repeats):
        for name, fn in contenders.items():
            best[name] = min(best[name], timeit.Timer(fn).timeit(numbers[name]) / numbers[name])
    return best


def _calls_per_batch(fn: Callable[[], object], target: float) -> int:
    once = min(timeit.Timer(fn).repeat(repeat=2, number=1))
    return max(1, int(target / max(once, 1e-7)))


def first_minus_steady(call: Callable[[], object], steady: float) -> float:
    """Seconds of `call` (a first call: it builds) minus `steady`, a steady call's seconds."""
    start = time.perf_counter()
    call()
    return time.perf_counter() - start - steady


def peak_bytes(fn: Callable[[], object]) -> int:
    """Peak memory traced (Python and NumPy allocations) during one call of `fn`, above its start."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        fn()
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


# ------------------------------------------------------------------ one workload


def measure(work: workloads.Workload, settings: Settings) -> Result:
    result = Result(work)
    args = work.args()
    expected = work.grad(*args)
    derivative = s2sad.grad(work.primal, argnums=work.argnums)
    try:
        workloads.assert_same_gradient(derivative(*args), expected, rtol=1e-12)
    except Exception as err:  # never time a wrong (or failing) gradient
        result.failure = f"{type(err).__name__}: {err}"
        return result
    contenders: dict[str, Callable[[], object]] = {
        "primal": lambda: work.primal(*args),
        "hand-written": lambda: work.grad(*args),
        "s2sad": lambda: derivative(*args),
    }
    contenders.update(_numba_backend(work, args, expected, result))
    if settings.peers:
        contenders.update(_checked_peers(work, args, expected, result))
    result.times = interleaved(contenders, settings)
    if "JAX jit" in result.times and result.compile_jit is not None:
        result.compile_jit -= result.times["JAX jit"]
    result.memory = (peak_bytes(lambda: derivative(*args)), peak_bytes(lambda: work.grad(*args)))
    result.build = _build_time(work, args, result.times["s2sad"], settings)
    return result


def _numba_backend(work, args, expected, result: Result) -> dict[str, Callable[[], object]]:
    """s2sad's gradient compiled by Numba, where Numba is installed and the backend compiles the
    workload (checked to 1e-10: Numba's `exp` and `sin` are the C library's, not NumPy's SIMD
    loops, and differ in the last bit now and then); else why not, in `result.missing`."""
    if importlib.util.find_spec("numba") is None:
        result.missing["s2sad numba"] = "numba not installed"
        return {}
    compiled = s2sad.grad(work.primal, argnums=work.argnums, backend="numba")
    try:
        workloads.assert_same_gradient(compiled(*args), expected, rtol=1e-10)
    except Exception as err:
        result.missing["s2sad numba"] = f"{type(err).__name__}: {str(err).strip().splitlines()[0][:120]}"
        return {}
    result.compile_numba = compiled.compile_seconds
    return {"s2sad numba": lambda: compiled(*args)}


def _checked_peers(work, args, expected, result: Result) -> dict[str, Callable[[], object]]:
    """The peers whose gradient matches the hand-written one (1e-9 relative); others are noted."""
    found = {}
    for name, gradient in peers.gradients(work, args).items():
        if isinstance(gradient, str):
            result.missing[name] = gradient
            continue
        try:
            got, seconds = peers.first_call(gradient)
            workloads.assert_same_gradient(got, expected, rtol=1e-9)
        except Exception as err:
            result.missing[name] = f"{type(err).__name__}: {str(err).strip().splitlines()[0][:120]}"
            continue
        if name == "JAX jit":
            result.compile_jit = seconds  # minus the steady call, once it is timed
        found[name] = gradient
    for name, why in result.missing.items():
        print(f"  [{work.name}] {name}: n/a ({why})", file=sys.stderr)
    return found


def _build_time(work: workloads.Workload, args: tuple, steady: float, settings: Settings) -> float:
    """Transform + compile + first call of a fresh derivative, minus a steady call; best of a few."""
    builds = []
    for _ in range(min(3, settings.repeats)):
        s2sad.cache.clear()
        fresh = s2sad.grad(work.primal, argnums=work.argnums)
        builds.append(first_minus_steady(lambda fresh=fresh: fresh(*args), steady))
    return min(builds)


# ------------------------------------------------------------------ per-call overhead, long model


def call_overhead(settings: Settings) -> list[tuple[str, float, float]]:
    """(case, seconds per call of the derivative object, of its generated function directly)."""
    cases = [("scalar loop, n = 1 (a float)", workloads.scalar_loop, 0, (0.3, 1)),
             ("two-layer network, tiny (a dict of arrays)", workloads.mlp_loss, 0, workloads.mlp_small_args(True))]
    rows = []
    for title, primal, argnums, args in cases:
        derivative = s2sad.grad(primal, argnums=argnums)
        derivative(*args)
        generated = derivative.built_for(args, {}).fun
        workloads.assert_same_gradient(generated(*args), derivative(*args), rtol=0.0)
        best = interleaved({"object": lambda d=derivative, a=args: d(*a),
                            "generated": lambda g=generated, a=args: g(*a)}, settings)
        rows.append((title, best["object"], best["generated"]))
    return rows


def long_model_builds(settings: Settings, lengths: tuple[int, ...] = LONG_LINES) -> dict[tuple[int, str], float]:
    """Build seconds (first call minus a steady one) of the long model per (lines, mode), the
    best of three builds (each from an empty cache), as the calls' times are bests of repeats."""
    x, w = workloads.long_model_args()
    tangents = (x * 0 + 1.0, w * 0)
    found = {}
    for lines in lengths:
        model = workloads.load_long_model(lines)
        calls = {"grad": lambda m=model: s2sad.grad(m, argnums=(0, 1))(x, w),
                 "value_and_grad": lambda m=model: s2sad.value_and_grad(m, argnums=(0, 1))(x, w),
                 "jvp": lambda m=model: s2sad.jvp(m, (x, w), tangents)}
        for mode in LONG_MODES:
            first = min(_first_call(calls[mode]) for _ in range(min(3, settings.repeats)))
            steady = min(timeit.Timer(calls[mode]).repeat(repeat=3, number=1))
            found[(lines, mode)] = first - steady
            print(f"  long model, {lines} lines, {mode}: {found[(lines, mode)]:.3f} s", file=sys.stderr)
    return found


def _first_call(call) -> float:
    s2sad.cache.clear()
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


# ------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (sizes stay as stated)")
    parser.add_argument("--only", help="comma-separated workload names: " + ",".join(workloads.BY_NAME))
    parser.add_argument("--no-peers", action="store_true", help="time no peers")
    parser.add_argument("--write", action="store_true", help="update docs/performance.md, its PNG and the README")
    parser.add_argument("--long-only", action="store_true", help="only the long model's build times, as a table")
    parser.add_argument("--long-lines", default=",".join(map(str, LONG_LINES)),
                        help="with --long-only: the model's lengths, comma separated (default %(default)s)")
    options = parser.parse_args(argv)
    settings = Settings(repeats=3 if options.quick else 7, target=0.02 if options.quick else 0.05,
                        peers=not options.no_peers)
    steady_allocator()
    if options.long_only:
        lengths = tuple(int(n) for n in options.long_lines.split(","))
        print(report.long_builds_markdown(long_model_builds(settings, lengths)))
        return 0
    chosen = _chosen(options.only)
    results = []
    for work in chosen:
        print(f"measuring {work.name} ...", file=sys.stderr)
        results.append(measure(work, settings))
        if results[-1].failure:
            print(f"\n!!! MISMATCH: s2sad's gradient of {work.name} is wrong or failed; not timed:\n"
                  f"{results[-1].failure}\n", file=sys.stderr)
    overhead = call_overhead(settings)
    long_builds = long_model_builds(settings) if options.only is None else {}
    text = report.markdown(results, overhead, long_builds, settings.repeats, options.quick)
    print(text)
    if options.write:
        report.write(text, results)
    failed = [r.work.name for r in results if r.failure]
    if failed:
        print(f"\n!!! s2sad gradient mismatch or failure on: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def _chosen(only: str | None) -> list[workloads.Workload]:
    if only is None:
        return list(workloads.WORKLOADS)
    unknown = [n for n in only.split(",") if n not in workloads.BY_NAME]
    if unknown:
        raise SystemExit(f"unknown workload {', '.join(unknown)}; known: {', '.join(workloads.BY_NAME)}")
    return [workloads.BY_NAME[n] for n in only.split(",")]


if __name__ == "__main__":
    sys.exit(main())
