"""`python -m tests.fuzz --seeds 0:10000 --jobs 2 [--out DIR] [-v]`: the differential tester.

See docs/testing.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from tests.fuzz.runner import Summary, run_many, shrink_many, write_failure


def _seeds(text: str) -> range:
    start, _, stop = text.partition(":")
    if not stop:
        return range(int(start), int(start) + 1)
    return range(int(start or 0), int(stop))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=_seeds, default=range(0, 100), help="A:B, the seeds A..B-1 (default 0:100)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--out", type=Path, help="write each shrunk failure to DIR/<kind>/seed<N>.py")
    parser.add_argument("--shrink", type=int, default=2, metavar="K",
                        help="shrink the first K failures of each kind (default 2; 0: none)")
    parser.add_argument("--timeout", type=int, default=60, help="seconds per program before it counts as a hang")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="print every program, its outcome and, for a failure, the shrunk program")
    args = parser.parse_args(argv)
    summary = Summary()
    start = time.perf_counter()
    failures = []
    for result in run_many(args.seeds, args.jobs, False, args.timeout):
        summary.add(result)
        if args.verbose:
            print(f"# ---- seed {result.seed}: {result.status} {result.kind} ({result.seconds:.2f} s)")
            print(result.source)
            if result.detail:
                print("# " + result.detail.replace("\n", "\n# "))
        if result.status == "failed":
            failures.append(result)
            print(f"seed {result.seed}: {result.kind}", file=sys.stderr, flush=True)
    if failures and args.shrink > 0:
        for result in shrink_many(failures, args.jobs, args.shrink):
            last = (result.detail.splitlines() or [""])[-1][:200]
            print(f"# ---- seed {result.seed}, shrunk: {result.kind}\n# {last}")
            print(result.shrunk, flush=True)
            if args.out:
                write_failure(result, args.out)
    if args.out:
        for result in failures:
            if not result.shrunk:
                write_failure(result, args.out)
    print(summary.text(time.perf_counter() - start))
    return 1 if summary.statuses["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
