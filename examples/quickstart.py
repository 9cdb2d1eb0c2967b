"""The textbook examples of automatic differentiation, run through s2sad.

    python examples/quickstart.py
"""

import math

import numpy as np

import s2sad


def f(x1, x2):
    return np.log(x1) + x1 * x2


def g(x):
    return x ** 2 / math.cos(x)


def loss(w, x, y):
    prediction = np.tanh(x @ w)
    return np.mean((prediction - y) ** 2)


def iterate(x, steps):
    """A loop with a branch on a value: what tracing systems find hard."""
    s = x
    for _ in range(steps):
        if s > 1.0:
            s = s * 0.5
        else:
            s = s * x + math.sin(s)
    return s


def main() -> None:
    df = s2sad.grad(f, argnums=(0, 1))
    print("f(x1, x2) = ln(x1) + x1*x2 at (2, 5)")
    print("  gradient by reverse mode:", tuple(float(v) for v in df(2.0, 5.0)))
    _, tangent1 = s2sad.jvp(f, (2.0, 5.0), (1.0, 0.0))
    _, tangent2 = s2sad.jvp(f, (2.0, 5.0), (0.0, 1.0))
    print("  gradient by forward mode:", (float(tangent1), float(tangent2)))
    print("\nf'(x) of x**2 / cos(x) at pi:", float(s2sad.grad(g)(math.pi)), "  (-2*pi =", -2 * math.pi, ")")

    rng = np.random.default_rng(0)
    w, x, y = rng.standard_normal(3), rng.standard_normal((5, 3)), rng.standard_normal(5)
    print("\ngradient of a least-squares loss:", s2sad.grad(loss)(w, x, y))

    print("\nThe Wengert list s2sad builds from f (s2sad show examples/quickstart.py:f --stage ir):\n")
    print(s2sad.show(f, argnums=(0, 1), stage="ir", kinds=("scalar", "scalar")))
    print("The reverse-mode code it generates for f, specialised to float arguments:\n")
    print(s2sad.show(f, argnums=(0, 1), kinds=("scalar", "scalar")))
    print("And for the loss, on arrays:\n")
    print(s2sad.show(loss, kinds=("array", "array", "array")))
    step = 1e-6
    slope = (iterate(0.9 + step, 50) - iterate(0.9 - step, 50)) / (2 * step)
    print(f"d/dx of a 50-step loop with a branch at 0.9: {s2sad.grad(iterate)(0.9, 50):.10f}"
          f"  (finite differences: {slope:.10f})\n")
    print("Its reverse-mode code: the tape keeps only what the adjoint sweep reads:\n")
    print(s2sad.show(iterate, kinds=("scalar", "scalar")))


if __name__ == "__main__":
    main()
