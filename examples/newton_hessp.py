"""Newton and trust-region solves with s2sad's Hessian-vector product as scipy's `hessp`.

The extended Rosenbrock function in n dimensions has its minimum 0 at (1, ..., 1). Newton's
method needs the Hessian only through products H @ p, which `s2sad.hvp(rosenbrock)` computes
in one forward-mode pass over the reverse-mode gradient, without forming H. The script runs
scipy.optimize.minimize with `trust-ncg`, `trust-krylov` and `Newton-CG` (jac = s2sad.grad,
hessp = s2sad.hvp) and, for comparison, BFGS with the gradient only, from the same start; it
prints iterations and evaluations of each, and checks that each reaches the known minimum.

    python examples/newton_hessp.py [--small] [--plot newton_hessp.png]

With matplotlib installed it plots the distance to the minimum per iteration of each method.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.optimize import minimize

import s2sad


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def start(n: int) -> np.ndarray:
    """The classic starting point (-1.2, 1, -1.2, 1, ...)."""
    x = np.ones(n)
    x[::2] = -1.2
    return x


def check_hvp(n: int = 6, seed: int = 0) -> float:
    """Largest difference between hvp(x, v) and the full Hessian (s2sad.hessian) times v."""
    rng = np.random.default_rng(seed)
    x, v = rng.standard_normal(n), rng.standard_normal(n)
    return float(np.max(np.abs(s2sad.hvp(rosenbrock)(x, v) - s2sad.hessian(rosenbrock)(x) @ v)))


def solve(method: str, x0: np.ndarray) -> tuple:
    """minimize(...) with s2sad's gradient, and its Hessian-vector product unless BFGS; the
    result, the distance to the minimum after each iteration and the seconds it took."""
    distances = [float(np.linalg.norm(x0 - 1.0))]
    options = {"hessp": s2sad.hvp(rosenbrock)} if method != "BFGS" else {}
    tolerance = {"gtol": 1e-8} if method != "Newton-CG" else {"xtol": 1e-10}
    begin = time.perf_counter()
    result = minimize(rosenbrock, x0, jac=s2sad.grad(rosenbrock), method=method, options=tolerance,
                      callback=lambda xk, *_: distances.append(float(np.linalg.norm(xk - 1.0))), **options)
    return result, distances, time.perf_counter() - begin


def plot_convergence(path, histories) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(6, 4))
    for method, distances in histories.items():
        ax.semilogy(np.maximum(distances, 1e-16), label=method)
    ax.set_xlabel("iteration")
    ax.set_ylabel("distance to the minimum (1, ..., 1)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def main(small: bool = False, plot: str | None = "newton_hessp.png") -> dict:
    """Minimize Rosenbrock in 100 dimensions (20 with `small`) by four methods."""
    n = 20 if small else 100
    x0 = start(n)
    hvp_error = check_hvp()
    print(f"hvp against the full Hessian times v (n = 6): largest difference {hvp_error:.1e}")
    print(f"extended Rosenbrock in {n} dimensions from (-1.2, 1, -1.2, 1, ...); minimum 0 at (1, ..., 1)")
    print(f"{'method':14}{'iterations':>11}{'f calls':>9}{'grad calls':>12}{'hessp calls':>13}"
          f"{'|x - 1|':>10}{'seconds':>9}")
    results, histories = {}, {}
    for method in ("trust-ncg", "trust-krylov", "Newton-CG", "BFGS"):
        result, distances, seconds = solve(method, x0)
        distance = float(np.linalg.norm(result.x - 1.0))
        results[method] = {"iterations": int(result.nit), "distance": distance, "value": float(result.fun),
                           "nfev": int(result.nfev), "njev": int(result.njev),
                           "nhev": int(getattr(result, "nhev", 0)), "seconds": seconds}
        histories[method] = distances
        print(f"{method:14}{result.nit:11d}{result.nfev:9d}{result.njev:12d}{results[method]['nhev']:13d}"
              f"{distance:10.1e}{seconds:9.2f}")
    print("each method's distance to the minimum is checked < 1e-6")
    for method, found in results.items():
        assert found["distance"] < 1e-6, f"{method} stopped at distance {found['distance']:.2e} from the minimum"

    saved = plot is not None and plot_convergence(plot, histories)
    if saved:
        print(f"wrote {plot}")
    return {"n": n, "hvp_error": hvp_error, "methods": results, "plot": plot if saved else None}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="20 dimensions instead of 100 (what the tests run)")
    parser.add_argument("--plot", default="newton_hessp.png", help="where to save the figure (needs matplotlib)")
    arguments = parser.parse_args()
    main(small=arguments.small, plot=arguments.plot)
