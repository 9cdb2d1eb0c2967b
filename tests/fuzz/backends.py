"""`python -m tests.fuzz.backends --seeds 0:1400`: the tester's programs through both backends.

Each program the default backend differentiates is differentiated again with
`backend="numba"`; a compiled gradient must equal the default backend's to 1e-12 relative
(1e-15 absolute), and anything Numba cannot compile must be refused with an s2sad error at the
user's line. Prints how many compiled, how many were refused (and the most common reasons),
and every seed that gave another number or another kind of error; exits 1 if any did. Not run
in CI (tests/back/test_jit.py runs seeds 0 to 199 the same way); see docs/testing.md.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

import s2sad
from s2sad.api import float_positions
from tests.fuzz.__main__ import _seeds
from tests.fuzz.checks import copy_args, load, validate
from tests.fuzz.generate import generate


def compare(seed: int, folder: Path) -> tuple[str, str]:
    """(outcome, detail): "skipped", "compiled", "refused" (detail: the reason) or "wrong"."""
    program = generate(seed)
    value, _ = validate(program)
    positions = tuple(float_positions(program.args))
    if value is None or program.vector or not positions:
        return "skipped", ""
    fun = getattr(load(program, folder), program.entry)
    try:
        expected = s2sad.grad(fun, argnums=positions)(*copy_args(program.args))
    except s2sad.S2SADError:
        return "skipped", ""  # refused by s2sad itself: the default tester's business
    try:
        got = s2sad.grad(fun, argnums=positions, backend="numba")(*copy_args(program.args))
    except s2sad.S2SADError as err:
        return "refused", re.sub(r"\d+", "N", err.message.splitlines()[0])[:100]
    except Exception as err:  # noqa: BLE001 - any other error is a finding
        return "wrong", f"{type(err).__name__}: {err}"[:300]
    for g, e in zip(_leaves(got), _leaves(expected)):
        if not np.allclose(g, e, rtol=1e-12, atol=1e-15, equal_nan=True):
            return "wrong", f"{g!r} != {e!r}"[:300]
    return "compiled", ""


def _leaves(value):
    if isinstance(value, (tuple, list)):
        return [leaf for item in value for leaf in _leaves(item)]
    if isinstance(value, dict):
        return [leaf for key in sorted(value, key=repr) for leaf in _leaves(value[key])]
    return [np.asarray(value)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz.backends", description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=_seeds, default=range(0, 200), help="A:B, the seeds A..B-1 (default 0:200)")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    outcomes: Counter = Counter()
    reasons: Counter = Counter()
    wrong = []
    with tempfile.TemporaryDirectory() as folder:
        for seed in args.seeds:
            outcome, detail = compare(seed, Path(folder))
            outcomes[outcome] += 1
            if outcome == "refused":
                reasons[detail] += 1
            elif outcome == "wrong":
                wrong.append((seed, detail))
                print(f"seed {seed}: {detail}", file=sys.stderr, flush=True)
    print(f"{outcomes['compiled']} compiled, {outcomes['refused']} refused, {len(wrong)} wrong, "
          f"{outcomes['skipped']} not differentiated by the default backend")
    for reason, count in reasons.most_common(8):
        print(f"  {count:5d}  {reason}")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
