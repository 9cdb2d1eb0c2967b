"""Estimate the parameters of a damped pendulum from noisy observations of its angle.

The pendulum obeys theta'' = -damping * theta' - stiffness * sin(theta) (stiffness = g / L).
`simulate` integrates it with the classical Runge-Kutta method in a plain Python loop and
`misfit` compares the angles with the observations. scipy.optimize.minimize (BFGS) fits
damping, stiffness and the initial angle twice from the same start: once with the gradient
s2sad derives from that loop (`value_and_grad`, `jac=True`), once with scipy's own
finite-difference gradient. The script prints the parameters each run recovers, how many
times each evaluated the model, and how long each took.

    python examples/ode_fit.py [--small] [--plot ode_fit.png]

With matplotlib installed it plots the observations, the true and the fitted trajectories.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
from scipy.optimize import minimize

import s2sad

TRUE = np.array([0.3, 4.0, 1.2])  # damping (1/s), stiffness g/L (1/s^2), initial angle (rad)
START = np.array([0.1, 3.0, 0.8])
NOISE = 0.05  # standard deviation of the observation noise (rad)


def acceleration(theta, omega, damping, stiffness):
    return -damping * omega - stiffness * math.sin(theta)


def simulate(params, dt, steps):
    """The angle at times 0, dt, ..., steps * dt, starting at rest at the angle params[2]."""
    damping, stiffness = params[0], params[1]
    theta, omega = params[2], 0.0
    angles = [theta]
    for _ in range(steps):
        k1_theta = omega
        k1_omega = acceleration(theta, omega, damping, stiffness)
        k2_theta = omega + 0.5 * dt * k1_omega
        k2_omega = acceleration(theta + 0.5 * dt * k1_theta, k2_theta, damping, stiffness)
        k3_theta = omega + 0.5 * dt * k2_omega
        k3_omega = acceleration(theta + 0.5 * dt * k2_theta, k3_theta, damping, stiffness)
        k4_theta = omega + dt * k3_omega
        k4_omega = acceleration(theta + dt * k3_theta, k4_theta, damping, stiffness)
        theta = theta + dt / 6.0 * (k1_theta + 2.0 * k2_theta + 2.0 * k3_theta + k4_theta)
        omega = omega + dt / 6.0 * (k1_omega + 2.0 * k2_omega + 2.0 * k3_omega + k4_omega)
        angles.append(theta)
    return np.array(angles)


def misfit(params, observed, dt, steps):
    """Half the sum of squared differences between simulated and observed angles."""
    residual = simulate(params, dt, steps) - observed
    return 0.5 * np.sum(residual**2)


def observations(dt: float, steps: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return simulate(TRUE, dt, steps) + NOISE * rng.standard_normal(steps + 1)


def finite_difference_gradient(fun, x, *args, step=1e-6):
    grad = np.zeros_like(x)
    for i in range(len(x)):
        e = np.zeros_like(x)
        e[i] = step
        grad[i] = (fun(x + e, *args) - fun(x - e, *args)) / (2 * step)
    return grad


def fit(jac, observed, dt, steps):
    """minimize(...) with s2sad's gradient (`jac="s2sad"`) or scipy's finite differences (None);
    the result, the model evaluations it cost and the seconds it took."""
    calls = [0]

    def counted(params):
        calls[0] += 1
        return misfit(params, observed, dt, steps)

    value_and_grad = s2sad.value_and_grad(misfit)

    def counted_with_gradient(params):
        calls[0] += 1
        return value_and_grad(params, observed, dt, steps)

    begin = time.perf_counter()
    if jac == "s2sad":
        result = minimize(counted_with_gradient, START, jac=True, method="BFGS", options={"gtol": 1e-6})
    else:
        result = minimize(counted, START, method="BFGS", options={"gtol": 1e-6})
    return result, calls[0], time.perf_counter() - begin


def timings(observed, dt, steps, repeat=5) -> tuple[float, float]:
    """Milliseconds per call of the model and of s2sad's value and gradient, the best of `repeat`."""
    value_and_grad = s2sad.value_and_grad(misfit)
    value_and_grad(START, observed, dt, steps)
    best = [math.inf, math.inf]
    for _ in range(repeat):
        for i, fun in enumerate((misfit, value_and_grad)):
            begin = time.perf_counter()
            fun(START, observed, dt, steps)
            best[i] = min(best[i], 1e3 * (time.perf_counter() - begin))
    return best[0], best[1]


def plot_fit(path, observed, fitted, dt, steps) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    t = dt * np.arange(steps + 1)
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(t, observed, ".", markersize=3, color="grey", label="observed")
    ax.plot(t, simulate(TRUE, dt, steps), label="true parameters")
    ax.plot(t, simulate(fitted, dt, steps), "--", label="fitted with s2sad's gradient")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("angle (rad)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def main(small: bool = False, plot: str | None = "ode_fit.png") -> dict:
    """Fit the pendulum; `small` observes 6 s instead of 12 s at a coarser step."""
    dt, steps = (0.05, 120) if small else (0.02, 600)
    observed = observations(dt, steps)
    print(f"Damped pendulum, {steps + 1} noisy observations over {dt * steps:g} s (noise {NOISE} rad)")
    print(f"true parameters    damping {TRUE[0]}, stiffness {TRUE[1]}, initial angle {TRUE[2]}")

    gradient = s2sad.grad(misfit)(START, observed, dt, steps)
    reference = finite_difference_gradient(misfit, START, observed, dt, steps)
    gradient_error = float(np.max(np.abs(gradient - reference)) / np.max(np.abs(reference)))
    print(f"gradient at the start: s2sad {np.round(gradient, 4)}, central differences {np.round(reference, 4)}"
          f" (relative difference {gradient_error:.1e})")

    ad, ad_calls, ad_seconds = fit("s2sad", observed, dt, steps)
    fd, fd_calls, fd_seconds = fit(None, observed, dt, steps)
    error = np.abs(ad.x - TRUE) / TRUE
    print(f"{'':22}{'damping':>9}{'stiffness':>11}{'angle':>8}{'misfit':>10}{'model calls':>13}{'seconds':>9}")
    for name, result, calls, seconds in [("s2sad gradient", ad, ad_calls, ad_seconds),
                                         ("finite differences", fd, fd_calls, fd_seconds)]:
        print(f"{name:22}{result.x[0]:9.4f}{result.x[1]:11.4f}{result.x[2]:8.4f}{result.fun:10.4f}"
              f"{calls:13d}{seconds:9.2f}")
    model_ms, gradient_ms = timings(observed, dt, steps)
    print(f"one model call {model_ms:.2f} ms, one call of s2sad's value and gradient {gradient_ms:.2f} ms "
          f"({gradient_ms / model_ms:.0f}x; compiled on the first call, not counted here)")
    print(f"largest relative error of the s2sad fit: {np.max(error):.1%} (the example checks < 5%)")
    assert np.all(error < 0.05), f"the fit did not recover the parameters: {ad.x}"

    saved = plot is not None and plot_fit(plot, observed, ad.x, dt, steps)
    if saved:
        print(f"wrote {plot}")
    return {
        "true": TRUE.copy(),
        "fitted": ad.x,
        "fitted_fd": fd.x,
        "relative_error": error,
        "gradient_error": gradient_error,
        "calls": ad_calls,
        "calls_fd": fd_calls,
        "seconds": ad_seconds,
        "seconds_fd": fd_seconds,
        "model_ms": model_ms,
        "gradient_ms": gradient_ms,
        "success": bool(ad.success),
        "plot": plot if saved else None,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="a shorter, coarser run (what the tests run)")
    parser.add_argument("--plot", default="ode_fit.png", help="where to save the figure (needs matplotlib)")
    arguments = parser.parse_args()
    main(small=arguments.small, plot=arguments.plot)
