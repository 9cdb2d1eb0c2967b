"""The Numba backend on the benchmark's workloads: its gradient's time over the hand-written
NumPy gradient's, beside the default backend's, with Numba's compile time.

    python benchmarks/numba_backend.py            # a markdown table on stdout
    python benchmarks/numba_backend.py --quick    # fewer repeats
    python benchmarks/numba_backend.py --only scalar_loop,rosenbrock

Every gradient is checked against the hand-written one before it is timed (1e-10 relative:
Numba's `sin` and `exp` are the C library's, NumPy's are its own SIMD loops, and the two differ
in the last bit now and then, which fifty chained operations grow to a few 1e-12);
a workload the backend refuses (`BackendError`) gets the reason instead of a time. Timed
interleaved, single-threaded, best of the repeats. `compile` is the seconds Numba spent
compiling the derivative (`.compile_seconds`); `calls to amortise` is how many calls pay it
back against the default backend (empty where the compiled code is not faster). `hand-written,
njit` is the hand-written gradient itself put through `numba.njit` (where Numba compiles it as
written; the networks' return a dict, which it does not): what Numba makes of the gradient a
person writes, the speed limit of this backend on this machine.
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's s2sad

import s2sad  # noqa: E402
from benchmarks import workloads  # noqa: E402
from benchmarks.run import Settings, interleaved, steady_allocator  # noqa: E402


def measure(work: workloads.Workload, settings: Settings) -> list[str]:
    """One table row: the workload, both backends' ratios, the compile time, the break-even."""
    args = work.args()
    python = s2sad.grad(work.primal, work.argnums)
    compiled = s2sad.grad(work.primal, work.argnums, backend="numba")
    try:
        workloads.assert_same_gradient(compiled(*args), work.grad(*args), rtol=1e-10)
    except s2sad.BackendError as err:
        return [work.name, "", "", "", "", "", f"refused: {err.message}"]
    workloads.assert_same_gradient(python(*args), work.grad(*args))
    timed = {"hand": lambda: work.grad(*args), "python": lambda: python(*args), "numba": lambda: compiled(*args)}
    hand_njit = _hand_njit(work, args)
    if hand_njit is not None:
        timed["hand_njit"] = lambda: hand_njit(*args)
    best = interleaved(timed, settings)
    saved = best["python"] - best["numba"]
    calls = f"{compiled.compile_seconds / saved:,.0f}" if saved > 0 else ""
    limit = f"{best['hand_njit'] / best['hand']:.2f}x" if "hand_njit" in best else "—"
    return [work.name, f"{best['python'] / best['hand']:.2f}x", f"{best['numba'] / best['hand']:.2f}x", limit,
            f"{compiled.compile_seconds:.2f} s", calls, ""]


def _hand_njit(work: workloads.Workload, args: tuple):
    """The hand-written gradient compiled by `numba.njit` and checked, or None where Numba does
    not compile it as written."""
    import warnings

    import numba

    compiled = numba.njit(work.grad)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workloads.assert_same_gradient(compiled(*args), work.grad(*args), rtol=1e-10)
    except numba.core.errors.TypingError:
        return None
    return compiled


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--only", help="comma-separated workload names: " + ",".join(workloads.BY_NAME))
    options = parser.parse_args(argv)
    chosen = [workloads.BY_NAME[n] for n in options.only.split(",")] if options.only else workloads.WORKLOADS
    settings = Settings(repeats=3 if options.quick else 7, target=0.05 if options.quick else 0.2, peers=False)
    steady_allocator()
    rows = [measure(work, settings) for work in chosen]
    header = ["workload", "default backend", "numba backend", "hand-written, njit", "compile", "calls to amortise",
              "note"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
