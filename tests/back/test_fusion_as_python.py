"""The Numba backend's fusion (s2sad/back/jit_loops.py) checked without Numba: the tester's
programs built by the default backend with every optimized part fused, the fused loops run as
Python, give the gradients (and values) the unfused code gives. The fused code reads elements
as NumPy scalars, whose arithmetic is the arrays', so the two agree to the last bit but for
rounding of the sums NumPy does pairwise."""

import warnings

import numpy as np
import pytest

import s2sad
from s2sad import cache, pipeline
from s2sad.analyses import shapes
from s2sad.api import float_positions
from s2sad.back import jit_loops
from tests.back.test_jit import same
from tests.fuzz.checks import copy_args, load, validate
from tests.fuzz.generate import generate

SEEDS = range(0, 50)
"""`python -m tests.back.test_fusion_as_python A:B` runs other seeds (0:1000 at this commit:
680 programs compared, 1,444 parts fused, none different)."""


FUSED: list[str] = []
"""The names of the parts in which fusion made a loop (the test asserts there are many)."""


def _fused(optimize):
    def optimize_then_fuse(part, start, namer, numbers=frozenset()):
        optimized = optimize(part, start, namer, numbers)
        fused = jit_loops.fuse(optimized, shapes.classes(optimized, start))
        if fused.temps != optimized.temps:
            FUSED.append(fused.name)
        return fused
    return optimize_then_fuse


def _derivatives(fun, positions, args) -> tuple[str, object]:
    cache.clear()
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return "ok", (s2sad.grad(fun, argnums=positions)(*copy_args(args)),
                          s2sad.value_and_grad(fun, argnums=positions)(*copy_args(args)))
    except s2sad.S2SADError as err:
        return "refused", type(err).__name__


def compare(seed: int, folder, monkeypatch) -> str:
    """"same", "refused" or "skipped"; raises where the fused code differs."""
    program = generate(seed)
    value, _ = validate(program)
    positions = tuple(float_positions(program.args))
    if value is None or not positions:
        return "skipped"
    fun = getattr(load(program, folder), program.entry)
    plain = _derivatives(fun, positions, program.args)
    with monkeypatch.context() as patch:
        patch.setattr(pipeline, "run_optimizer", _fused(pipeline.run_optimizer))
        fused = _derivatives(fun, positions, program.args)
    cache.clear()
    assert plain[0] == fused[0], (plain, fused)
    if plain[0] == "ok":
        grads, (value, value_grads) = plain[1]
        fused_grads, (fused_value, fused_value_grads) = fused[1]
        same(fused_grads, grads)
        same((fused_value, fused_value_grads), (value, value_grads))
    return "same" if plain[0] == "ok" else plain[0]


def test_fused_code_run_as_python_gives_the_unfused_derivatives(tmp_path, monkeypatch):
    FUSED.clear()
    outcomes = [compare(seed, tmp_path, monkeypatch) for seed in SEEDS]
    assert outcomes.count("same") >= 25
    assert len(FUSED) >= 25


if __name__ == "__main__":
    import sys
    import tempfile
    from collections import Counter
    from pathlib import Path

    start, stop = map(int, sys.argv[1].split(":"))
    counts: Counter = Counter()
    with pytest.MonkeyPatch.context() as mp:
        folder = Path(tempfile.mkdtemp())
        for seed in range(start, stop):
            counts[compare(seed, folder, mp)] += 1
    print(dict(counts), "parts fused:", len(FUSED))
