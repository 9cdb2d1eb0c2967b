"""Count the CPU instructions of a gradient call, s2sad's against the hand-written one's.

    python benchmarks/instructions.py                          # the small workloads
    python benchmarks/instructions.py --only scalar_ops --calls 30000

Wall-clock ratios on a shared machine swing by several percent between identical runs;
instruction counts (Valgrind's callgrind) repeat to a fraction of a percent, whatever else the
machine is doing. Each count runs a fresh interpreter under callgrind twice, building the
gradient and calling it twice, then `calls` more times in the second run: the difference over
`calls` is one call's instructions, the build left out. Instructions are not time (an array
operation's memory traffic is not counted), so this suits the workloads on small data, where
per-call overhead decides; `run.py` times the rest. Needs `valgrind` (Debian: apt install valgrind).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SMALL = ("scalar_ops", "scalar_loop", "vector_ops", "mlp_small")
"""Workloads on small data: per-call overhead decides, and callgrind runs them in seconds."""

CALLER = """
import sys
sys.path[:0] = [{root!r}, {bench!r}]
import workloads
import s2sad
work = workloads.BY_NAME[{name!r}]
args = work.make_args(False)
fun = s2sad.grad(work.primal, argnums=work.argnums) if {which!r} == "s2sad" else work.grad
fun(*args)
fun(*args)
for _ in range({calls}):
    fun(*args)
"""


def instructions(name: str, which: str, calls: int) -> int:
    """The instructions callgrind counts for a fresh interpreter that builds `which` and calls it."""
    code = CALLER.format(root=str(ROOT), bench=str(ROOT / "benchmarks"), name=name, which=which, calls=calls)
    env = {**os.environ, "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    done = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                           os.path.realpath(sys.executable), "-c", code], capture_output=True, text=True, env=env)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"callgrind failed on {name} ({which}):\n{done.stderr[-2000:]}")
    return int(found.group(1))


def per_call(name: str, which: str, calls: int) -> float:
    return (instructions(name, which, calls) - instructions(name, which, 0)) / calls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated workload names (default: " + ",".join(SMALL) + ")")
    parser.add_argument("--calls", type=int, default=3000, help="calls counted per run (default 3000)")
    options = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        print("instructions.py needs valgrind (Debian/Ubuntu: apt install valgrind)", file=sys.stderr)
        return 1
    names = options.only.split(",") if options.only else list(SMALL)
    print("| workload | hand-written | s2sad | ratio |\n|---|---|---|---|")
    for name in names:
        hand, ours = per_call(name, "hand", options.calls), per_call(name, "s2sad", options.calls)
        print(f"| {name} | {hand:,.0f} | {ours:,.0f} | {ours / hand:.3f}x |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
