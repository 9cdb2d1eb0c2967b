"""Print the derivative code the benchmarks time, to compare two versions of s2sad.

    python benchmarks/source.py > after.txt     # in each checkout, then: diff before.txt after.txt

Where the text is the same, the timed code is the same, whatever the timings of a busy machine
say; what can still differ is the wrapper's per-call cost and the build time.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

import programs  # noqa: E402

import s2sad  # noqa: E402


def main() -> None:
    loop = s2sad.grad(programs.scalar_loop)
    loop(0.3, 10)
    print(loop.source)
    rng = np.random.default_rng(0)
    args = (rng.normal(size=(10, 32)), rng.normal(size=32), rng.normal(size=(32, 1)),
            rng.normal(size=(256, 10)), rng.normal(size=(256, 1)))
    mlp = s2sad.grad(programs.mlp_loss, argnums=(0, 1, 2))
    mlp(*args)
    print(mlp.source)


if __name__ == "__main__":
    main()
