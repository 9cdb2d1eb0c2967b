"""`python -m tests.fuzz.arrays --library dask|stand-in --seeds 0:1000`: the differential tester's
programs with their arrays in another library (chunked Dask arrays, or the strict stand-in for a
GPU library of tests/device_array.py), their derivatives compared with those on NumPy arrays.

Where the program itself runs on the library's arrays, its derivative must run too (on Dask,
without Dask warning that it converted an array) and equal the NumPy derivative to 1e-9;
anything else is a failure. tests/test_dask.py and tests/test_device_array.py run a fixed range
of seeds in CI; docs/arrays.md quotes larger runs of this command.
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import s2sad
from tests.array_cases import convert_all
from tests.fuzz.checks import copy_args, load, validate
from tests.fuzz.generate import generate


@dataclass(frozen=True)
class Arrays:
    """How the programs' arrays go into a library and their derivatives come back."""

    name: str
    to_library: Callable  # a NumPy array (not 0-d) to the library's
    array: type
    evaluate: Callable  # a derivative (a structure of the library's arrays) to NumPy values


def dask_arrays() -> Arrays:
    import dask
    import dask.array as da

    from tests.array_cases import as_dask

    return Arrays("dask", lambda a: as_dask(a, da), da.Array, lambda tree: dask.compute(tree)[0])


def stand_in_arrays() -> Arrays:
    from tests.device_array import DeviceArray, to_device, to_host

    return Arrays("stand-in", to_device, DeviceArray, to_host)


LIBRARIES = {"dask": dask_arrays, "stand-in": stand_in_arrays}


def derivative(program, fun, args, arrays: Arrays | None = None):
    """vjp along ones for a program returning an array, else grad w.r.t. its float arguments."""
    if program.vector:
        out, pullback = s2sad.vjp(fun, *args)
        ones = np.ones(np.shape(out))
        return pullback(arrays.to_library(ones) if arrays and isinstance(out, arrays.array) else ones)
    wrt = tuple(i for i, a in enumerate(program.args)
                if type(a) is float or isinstance(a, np.ndarray) and a.dtype.kind == "f")
    return s2sad.grad(fun, argnums=wrt)(*args)


def leaves(tree) -> list:
    found: list = []
    s2sad.runtime.map_structure(lambda leaf: found.append(leaf) if leaf is not None else None, tree)
    return found


def compare(seed: int, arrays: Arrays, directory: Path) -> tuple[str, str]:
    """(outcome, detail) of one program: "same", "wrong", "fails" (the derivative raised where the
    program ran), or why it was not compared ("invalid", "refused on NumPy", "does not run")."""
    program = generate(seed)
    if validate(program)[0] is None:
        return "invalid", ""
    fun = getattr(load(program, directory), program.entry)
    try:
        expected = derivative(program, fun, copy_args(program.args))
    except Exception:  # noqa: BLE001 - refused on NumPy arrays: nothing to compare
        return "refused on NumPy", ""
    def converted():
        return convert_all(copy_args(program.args), arrays.to_library)

    try:
        arrays.evaluate(fun(*converted()))
    except Exception:  # noqa: BLE001 - the library does not run the program itself
        return "does not run", ""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", FutureWarning)  # (Dask converting what it lacks)
            got = arrays.evaluate(derivative(program, fun, converted(), arrays))
    except Exception as err:  # noqa: BLE001 - reported: the program ran, its derivative must
        return "fails", f"{type(err).__name__}: {err}"
    try:
        for e, g in zip(leaves(expected), leaves(got), strict=True):
            np.testing.assert_allclose(np.asarray(g), np.asarray(e), rtol=1e-9, atol=1e-12)
    except (AssertionError, ValueError) as err:
        return "wrong", str(err)
    return "same", ""


def run(seeds: range, arrays: Arrays) -> collections.Counter:
    """The outcomes of `seeds`; each failure printed with its seed."""
    counts: collections.Counter = collections.Counter()
    with tempfile.TemporaryDirectory() as directory:
        for seed in seeds:
            outcome, detail = compare(seed, arrays, Path(directory))
            counts[outcome] += 1
            if outcome in ("wrong", "fails"):
                print(f"seed {seed}: {outcome}: {detail[:300]}", file=sys.stderr, flush=True)
    return counts


def main(argv: list[str] | None = None) -> int:
    from tests.fuzz.__main__ import _seeds

    parser = argparse.ArgumentParser(prog="python -m tests.fuzz.arrays", description=__doc__.splitlines()[0])
    parser.add_argument("--library", choices=sorted(LIBRARIES), default="dask")
    parser.add_argument("--seeds", type=_seeds, default=range(0, 100), help="A:B, the seeds A..B-1 (default 0:100)")
    args = parser.parse_args(argv)
    counts = run(args.seeds, LIBRARIES[args.library]())
    print(", ".join(f"{n} {outcome}" for outcome, n in counts.most_common()))
    return 1 if counts["wrong"] or counts["fails"] else 0


if __name__ == "__main__":
    sys.exit(main())
