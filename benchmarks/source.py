"""Print the derivative code the benchmarks time, to compare two versions of s2sad.

    python benchmarks/source.py > after.txt     # in each checkout, then: diff before.txt after.txt
    python benchmarks/source.py rnn chain       # some workloads only

For every workload of benchmarks/workloads.py, the code of its gradient as called by the
benchmark (specialised to the kinds of its arguments, at tiny sizes: the code does not depend on
them), then the long model's gradient at 5 lines. Where the text is the same, the timed code is
the same, whatever the timings of a busy machine say; what can still differ is the wrapper's
per-call cost and the build time.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).parent)]  # this checkout's s2sad

import workloads  # noqa: E402

import s2sad  # noqa: E402


def called_source(derivative, args: tuple) -> str:
    """The code `derivative(*args)` runs (specialised to the arguments' kinds and shapes)."""
    return derivative.source_for(*args)


def main(names: list[str]) -> None:
    for work in [workloads.BY_NAME[n] for n in names] or workloads.WORKLOADS:
        print(f"# ---- {work.name}: {work.title}")
        print(called_source(s2sad.grad(work.primal, argnums=work.argnums), work.args(small=True)))
    if not names:
        print("# ---- long model, 5 lines")
        print(called_source(s2sad.grad(workloads.load_long_model(5), argnums=(0, 1)), workloads.long_model_args()))


if __name__ == "__main__":
    main(sys.argv[1:])
