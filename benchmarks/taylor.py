"""Taylor mode against nested forward mode: K derivatives of one direction.

    python benchmarks/taylor.py              # a markdown table on stdout
    python benchmarks/taylor.py --quick      # fewer repeats
    python benchmarks/taylor.py --orders 2,4 # other orders

`derivatives(f, order=K)(x)` carries the truncated Taylor series through one forward pass
(O(K²) work per operation); K nested `jvp`s differentiate the derivative code K times, and that
code doubles in size with each level (O(2^K)). Both are timed on a call after a warm-up (the
builds are not timed), best of several repeats, single-threaded, and checked to agree first.
Two programs: a 100-step scalar loop and an elementwise chain over 10,000 entries.
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import timeit  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's s2sad

import numpy as np  # noqa: E402

import s2sad  # noqa: E402
from s2sad.testing import make_function  # noqa: E402

ORDERS = (2, 4, 8)


def scalar_loop(x):
    y = x
    for _ in range(100):
        y = y + 0.01 * math.sin(y) * x
    return y


def elementwise_chain(x):
    y = np.sin(x) * np.exp(-0.5 * x)
    return np.tanh(y) + np.sqrt(1.0 + x * x)


PROGRAMS = [("100-step scalar loop", scalar_loop, 0.7),
            ("elementwise chain, 10,000 entries", elementwise_chain, np.linspace(-2.0, 2.0, 10_000))]


def nested(fun: Callable, order: int, x) -> Callable:
    """The order-th derivative along x + t (every entry speed 1) by `order` nested jvp's."""
    speed = np.ones_like(x) if np.ndim(x) else 1.0
    for _ in range(order):
        fun = make_function("def derivative(x):\n    return jvp(g, (x,), (v,))[1]\n",
                            {"g": fun, "jvp": s2sad.jvp, "v": speed})
    return fun


def best(call: Callable, repeats: int) -> float:
    """Seconds per call, the best of `repeats` (each long enough to time)."""
    number, _ = timeit.Timer(call).autorange()
    return min(timeit.repeat(call, number=number, repeat=repeats)) / number


def row(name: str, fun: Callable, x, order: int, repeats: int) -> str:
    taylor = s2sad.derivatives(fun, order=order)
    deep = nested(fun, order, x)
    np.testing.assert_allclose(taylor(x)[-1], deep(x), rtol=1e-7, atol=1e-9)
    t_taylor, t_nested = best(lambda: taylor(x), repeats), best(lambda: deep(x), repeats)
    return (f"| {name} | {order} | {t_taylor * 1e3:.3g} | {t_nested * 1e3:.3g} | {t_nested / t_taylor:.2g} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 repeats instead of 7")
    parser.add_argument("--orders", default=",".join(map(str, ORDERS)), help="comma separated orders K")
    args = parser.parse_args()
    repeats = 3 if args.quick else 7
    orders = [int(k) for k in args.orders.split(",")]
    print("| program | K | derivatives(f, order=K) (ms) | K nested jvp (ms) | nested / Taylor |")
    print("|---|---:|---:|---:|---:|")
    for name, fun, x in PROGRAMS:
        for order in orders:
            print(row(name, fun, x, order, repeats), flush=True)


if __name__ == "__main__":
    main()
