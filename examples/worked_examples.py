"""The worked examples of automatic differentiation, checked against their textbook numbers.

1. f(x1, x2) = ln(x1) + x1 * x2 at (2, 5): the value 10.6931..., and the gradient
   df/dx1 = 1/x1 + x2 = 5.5, df/dx2 = x1 = 2, by forward mode (one `jvp` per input) and by
   reverse mode (one `grad` for both). The script prints the Wengert list s2sad builds from f
   (what `s2sad show examples/worked_examples.py:f --stage ir` prints) and the code each mode
   generates from it.
2. g(x) = x**2 / cos(x) at pi: the derivative by s2sad against the closed form
   g'(x) = (2x cos x + x**2 sin x) / cos(x)**2, which is -2*pi at pi.

    python examples/worked_examples.py [--plot worked_examples.png]

With matplotlib installed it plots g and g' on (pi/2, 3*pi/2), between two poles of g.
"""

from __future__ import annotations

import argparse
import math

import numpy as np

import s2sad


def f(x1, x2):
    return np.log(x1) + x1 * x2


def g(x):
    return x**2 / math.cos(x)


def g_prime_closed_form(x):
    return (2 * x * math.cos(x) + x**2 * math.sin(x)) / math.cos(x) ** 2


def pyplot():
    """matplotlib's pyplot drawing to files, or None when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def plot_g(path: str) -> bool:
    plt = pyplot()
    if plt is None:
        return False
    xs = np.linspace(math.pi / 2 + 0.6, 3 * math.pi / 2 - 0.6, 200)
    dg = s2sad.grad(g)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(xs, [g(x) for x in xs], label="g(x) = x² / cos x")
    ax.plot(xs, [dg(x) for x in xs], label="g'(x) by s2sad")
    ax.plot(xs[::10], [g_prime_closed_form(x) for x in xs[::10]], "k.", label="g'(x), closed form")
    ax.axvline(math.pi, color="grey", linewidth=0.8)
    ax.set_xlabel("x")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def main(small: bool = False, plot: str | None = "worked_examples.png") -> dict:
    """Print the worked examples; return their numbers. `small` changes nothing here (the
    examples are small already); `plot`: where to save the figure, None for none."""
    x1, x2 = 2.0, 5.0
    value = f(x1, x2)
    _, dx1_forward = s2sad.jvp(f, (x1, x2), (1.0, 0.0))
    _, dx2_forward = s2sad.jvp(f, (x1, x2), (0.0, 1.0))
    dx1_reverse, dx2_reverse = s2sad.grad(f, argnums=(0, 1))(x1, x2)
    print("f(x1, x2) = ln(x1) + x1*x2 at (x1, x2) = (2, 5)")
    print(f"  value            {value:.10f}   (ln 2 + 10 = {math.log(2.0) + 10.0:.10f})")
    print(f"  forward mode     df/dx1 = {float(dx1_forward)}, df/dx2 = {float(dx2_forward)}   (two jvp calls)")
    print(f"  reverse mode     df/dx1 = {float(dx1_reverse)}, df/dx2 = {float(dx2_reverse)}   (one grad call)")
    print("  textbook         df/dx1 = 1/x1 + x2 = 5.5, df/dx2 = x1 = 2.0")

    wengert = s2sad.show(f, argnums=(0, 1), stage="ir", kinds=("scalar", "scalar"))
    # optimize=False: one derivative statement per entry of the Wengert list, as in the textbook
    forward_code = s2sad.show(f, mode="forward", argnums=(0, 1), args=(x1, x2), optimize=False)
    reverse_code = s2sad.show(f, mode="reverse", argnums=(0, 1), args=(x1, x2), optimize=False)
    optimized = s2sad.show(f, mode="reverse", argnums=(0, 1), args=(x1, x2))
    print("\nThe Wengert list of f, one elementary operation per statement:\n")
    print(wengert)
    print("Forward mode: each statement's tangent (dt1 = dx1 / x1, ...); the seed (dx1, dx2) picks the direction:\n")
    print(forward_code)
    print("Reverse mode: the primal sweep, then the adjoints in reverse order (bt3; bt1, bt2; bx1, bx2):\n")
    print(reverse_code)
    print("The same reverse-mode code after s2sad's optimizer, the code grad runs:\n")
    print(optimized)

    derivative = float(s2sad.grad(g)(math.pi))
    closed = g_prime_closed_form(math.pi)
    print("g(x) = x**2 / cos(x) at x = pi")
    print(f"  s2sad            g'(pi) = {derivative:.15f}")
    print(f"  closed form      g'(pi) = (2x cos x + x² sin x) / cos² x = {closed:.15f}   (-2*pi = {-2 * math.pi:.15f})")

    saved = plot is not None and plot_g(plot)
    if saved:
        print(f"\nwrote {plot}")
    return {
        "value": float(value),
        "forward": (float(dx1_forward), float(dx2_forward)),
        "reverse": (float(dx1_reverse), float(dx2_reverse)),
        "wengert": wengert,
        "forward_code": forward_code,
        "reverse_code": reverse_code,
        "optimized_code": optimized,
        "g_prime_pi": derivative,
        "g_prime_pi_closed_form": closed,
        "plot": plot if saved else None,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="accepted for symmetry with the other examples")
    parser.add_argument("--plot", default="worked_examples.png", help="where to save the figure (needs matplotlib)")
    arguments = parser.parse_args()
    main(small=arguments.small, plot=arguments.plot)
