"""Time s2sad against the hand-written gradient and the peers that are installed.

    python benchmarks/run.py            # all benchmarks, a table of times and ratios
    python benchmarks/run.py --quick    # fewer repeats

Each row is the best of several repeats. Ratios are to the hand-written gradient (the speed
limit). Peers (autograd, JAX, PyTorch) are optional and skipped when not installed; none of
them is a dependency of s2sad. Tests never assert timings: this script is where speed is shown.
"""

from __future__ import annotations

import argparse
import math
import sys
import timeit
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

import programs  # noqa: E402

import s2sad  # noqa: E402


def best(fn: Callable[[], object], repeat: int) -> float:
    number = max(1, int(0.05 / max(_once(fn), 1e-7)))
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number


def _once(fn: Callable[[], object]) -> float:
    return min(timeit.repeat(fn, number=1, repeat=3))


def peers_scalar_loop(x: float, n: int) -> dict[str, Callable[[], object]]:
    found: dict[str, Callable[[], object]] = {}
    try:
        import autograd
        import autograd.numpy as anp

        def loop(x):
            s = x
            for _ in range(n):
                s = s * 0.99 + anp.sin(s) * x
            return s

        gradient = autograd.grad(loop)
        found["autograd"] = lambda: gradient(x)
    except ImportError:
        pass
    try:
        import torch

        def torch_grad():
            t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
            s = t
            for _ in range(n):
                s = s * 0.99 + torch.sin(s) * t
            s.backward()
            return t.grad

        found["pytorch"] = torch_grad
    except ImportError:
        pass
    try:
        import jax
        import jax.numpy as jnp

        def loop_jax(x):
            s = x
            for _ in range(n):
                s = s * 0.99 + jnp.sin(s) * x
            return s

        jax_grad = jax.grad(loop_jax)
        found["jax (no jit)"] = lambda: jax_grad(x)
    except ImportError:
        pass
    return found


def scalar_loop(repeat: int) -> list[tuple[str, float]]:
    x, n = 0.3, 1000
    gradient = s2sad.grad(programs.scalar_loop)
    assert math.isclose(gradient(x, n), programs.scalar_loop_grad(x, n), rel_tol=1e-12)
    rows = [("primal (no derivative)", best(lambda: programs.scalar_loop(x, n), repeat)),
            ("hand-written gradient", best(lambda: programs.scalar_loop_grad(x, n), repeat)),
            ("s2sad.grad", best(lambda: gradient(x, n), repeat))]
    for name, fn in peers_scalar_loop(x, n).items():
        rows.append((name, best(fn, max(1, repeat // 2))))
    return rows


def mlp(repeat: int) -> list[tuple[str, float]]:
    rng = np.random.default_rng(0)
    w1, b1, w2 = rng.standard_normal((32, 64)), rng.standard_normal(64), rng.standard_normal(64)
    x, y = rng.standard_normal((256, 32)), rng.standard_normal(256)
    args = (w1, b1, w2, x, y)
    gradient = s2sad.grad(programs.mlp_loss, argnums=(0, 1, 2))
    for mine, theirs in zip(gradient(*args), programs.mlp_loss_grad(*args)):
        np.testing.assert_allclose(mine, theirs, rtol=1e-10)
    rows = [("primal (no derivative)", best(lambda: programs.mlp_loss(*args), repeat)),
            ("hand-written gradient", best(lambda: programs.mlp_loss_grad(*args), repeat)),
            ("s2sad.grad", best(lambda: gradient(*args), repeat))]
    try:
        import autograd

        import_grad = autograd.grad(programs.mlp_loss, argnum=0)
        rows.append(("autograd (w1 only)", best(lambda: import_grad(*args), repeat)))
    except ImportError:
        pass
    return rows


def compile_time() -> list[tuple[str, float]]:
    s2sad.cache.clear()
    first = timeit.timeit(lambda: s2sad.grad(programs.scalar_loop)(0.3, 10), number=1)
    again = timeit.timeit(lambda: s2sad.grad(programs.scalar_loop)(0.3, 10), number=1)
    return [("first call (transform + compile)", first), ("second call (cached)", again)]


def report(title: str, rows: list[tuple[str, float]]) -> None:
    base = dict(rows).get("hand-written gradient")
    print(f"\n{title}")
    for name, seconds in rows:
        ratio = f"{seconds / base:8.2f}x" if base else ""
        print(f"  {name:34s} {seconds * 1e6:12.1f} us {ratio}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    repeat = 3 if parser.parse_args().quick else 7
    report("1000-step scalar loop, d/dx (ratio to hand-written)", scalar_loop(repeat))
    report("two-layer network, batch 256, gradient of three parameters", mlp(repeat))
    report("compile time", compile_time())


if __name__ == "__main__":
    main()
