"""The benchmark workloads: each a primal in plain NumPy/math, its hand-written gradient beside it.

A `Workload` names the primal, the gradient a careful person writes by hand in NumPy (the
speed limit s2sad is measured against), a maker of its arguments (fixed seed; `small=True`
gives tiny sizes for the tests, and 10 rounds for the 200-op chains, whose gradient is
otherwise too small to check by finite differences; the benchmark always uses the stated
sizes) and the argnums.
The primals read NumPy as `np` and the math module as `math` only, so the benchmark runner can
rebuild them over autograd, JAX or a PyTorch shim by swapping those two globals.

`long_model_source(n)` writes a straight-line model of `n` lines for the build-time table;
`load_long_model(n)` imports it from a temporary file (s2sad reads source through `inspect`).
"""

from __future__ import annotations

import importlib.util
import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

Args = tuple


@dataclass(frozen=True)
class Workload:
    """One benchmark program: `primal(*args)` is a scalar, `grad(*args)` its gradient by hand
    with respect to `argnums` (the same structure `s2sad.grad(primal, argnums)` returns)."""

    name: str
    title: str
    primal: Callable
    grad: Callable
    make_args: Callable[[bool], Args]
    argnums: int | tuple[int, ...] = 0
    in_place: bool = False
    """The primal writes into an array (JAX cannot run it)."""

    def args(self, small: bool = False) -> Args:
        return self.make_args(small)


# ------------------------------------------------------------------ 1000-step scalar loop


def scalar_loop(x, n):
    """A scalar recurrence with math.*: the tracing systems' worst case."""
    s = x
    for _ in range(n):
        s = s * 0.99 + math.sin(s) * x
    return s


def scalar_loop_grad(x, n):
    """d/dx by hand: the forward values kept, then the recurrence reversed."""
    values = [0.0] * n
    s = x
    for i in range(n):
        values[i] = s
        s = s * 0.99 + math.sin(s) * x
    bs, bx = 1.0, 0.0
    for i in range(n - 1, -1, -1):
        s = values[i]
        bx += bs * math.sin(s)
        bs = bs * (0.99 + math.cos(s) * x)
    return bx + bs


def scalar_loop_args(small: bool) -> Args:
    return (0.3, 50 if small else 1000)


# ------------------------------------------------------------------ two-layer network


def mlp_loss(params, x, y):
    """Tanh hidden layer, softmax cross-entropy (log-sum-exp shifted by the max) on one-hot `y`."""
    h = np.tanh(x @ params["w1"] + params["b1"])
    logits = h @ params["w2"] + params["b2"]
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.sum(y * logp) / x.shape[0]


def mlp_loss_grad(params, x, y):
    """The gradient of the parameter dict: softmax minus labels, back through both layers."""
    h = np.tanh(x @ params["w1"] + params["b1"])
    logits = h @ params["w2"] + params["b2"]
    e = np.exp(logits - np.max(logits, axis=1, keepdims=True))
    dlogits = (e / np.sum(e, axis=1, keepdims=True) - y) / x.shape[0]
    dz = (dlogits @ params["w2"].T) * (1.0 - h * h)
    return {"w1": x.T @ dz, "b1": dz.sum(axis=0), "w2": h.T @ dlogits, "b2": dlogits.sum(axis=0)}


def _mlp_args(batch: int, width: int, classes: int = 10) -> Args:
    rng = np.random.default_rng(1)
    params = {"w1": rng.standard_normal((width, width)) / math.sqrt(width), "b1": 0.1 * rng.standard_normal(width),
              "w2": rng.standard_normal((width, classes)) / math.sqrt(width), "b2": 0.1 * rng.standard_normal(classes)}
    x = rng.standard_normal((batch, width))
    y = np.eye(classes)[rng.integers(0, classes, batch)]
    return params, x, y


def mlp_small_args(small: bool) -> Args:
    return _mlp_args(4, 5, 3) if small else _mlp_args(32, 64)


def mlp_large_args(small: bool) -> Args:
    return _mlp_args(4, 5, 3) if small else _mlp_args(1024, 1024)


# ------------------------------------------------------------------ logistic regression


def logreg_loss(w, x, y):
    """Mean log-loss of labels `y` in {0, 1}: log(1 + exp(z)) - y z, stably."""
    z = x @ w
    return np.mean(np.logaddexp(0.0, z) - y * z)


def logreg_loss_grad(w, x, y):
    z = x @ w
    return x.T @ (1.0 / (1.0 + np.exp(-z)) - y) / x.shape[0]


def logreg_args(small: bool) -> Args:
    rows, cols = (50, 5) if small else (10_000, 100)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((rows, cols))
    w = rng.standard_normal(cols) / math.sqrt(cols)
    y = (rng.random(rows) < 0.5).astype(float)
    return w, x, y


# ------------------------------------------------------------------ vanilla RNN


def rnn_loss(wx, wh, b, xs):
    """h = tanh(x_t Wx + h Wh + b) over the steps of `xs` (steps, batch, inputs); sum of squares of the last h."""
    h = np.zeros((xs.shape[1], wh.shape[0]))
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t] @ wx + h @ wh + b)
    return np.sum(h * h)


def rnn_loss_grad(wx, wh, b, xs):
    """Backpropagation through time: the hidden states kept, then the steps reversed."""
    hs = [np.zeros((xs.shape[1], wh.shape[0]))]
    for t in range(xs.shape[0]):
        hs.append(np.tanh(xs[t] @ wx + hs[-1] @ wh + b))
    dh = 2.0 * hs[-1]
    dwx, dwh, db = np.zeros_like(wx), np.zeros_like(wh), np.zeros_like(b)
    for t in range(xs.shape[0] - 1, -1, -1):
        dz = dh * (1.0 - hs[t + 1] * hs[t + 1])
        dwx += xs[t].T @ dz
        dwh += hs[t].T @ dz
        db += dz.sum(axis=0)
        dh = dz @ wh.T
    return dwx, dwh, db


def rnn_args(small: bool) -> Args:
    steps, hidden, batch, inputs = (5, 4, 3, 2) if small else (100, 32, 16, 32)
    rng = np.random.default_rng(3)
    wx = rng.standard_normal((inputs, hidden)) / math.sqrt(inputs)
    wh = 0.5 * rng.standard_normal((hidden, hidden)) / math.sqrt(hidden)
    return wx, wh, 0.1 * rng.standard_normal(hidden), rng.standard_normal((steps, batch, inputs))


# ------------------------------------------------------------------ Rosenbrock


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def rosenbrock_grad(x):
    a = x[1:] - x[:-1] ** 2
    g = np.zeros_like(x)
    g[1:] = 200.0 * a
    g[:-1] += -400.0 * a * x[:-1] - 2.0 * (1 - x[:-1])
    return g


def rosenbrock_args(small: bool) -> Args:
    return (np.random.default_rng(4).uniform(-1.5, 1.5, 20 if small else 10_000),)


# ------------------------------------------------------------------ chains of elementwise ops


def chain(x, rounds):
    """`rounds` times five elementwise ops (sin, scale, tanh, shift, exp), then the sum."""
    y = x
    for _ in range(rounds):
        y = np.sin(y)
        y = y * 1.5
        y = np.tanh(y)
        y = y + 0.25
        y = np.exp(y)
    return np.sum(y)


def chain_grad(x, rounds):
    inputs, tanhs, exps = [], [], []
    y = x
    for _ in range(rounds):
        inputs.append(y)
        t = np.tanh(np.sin(y) * 1.5)
        tanhs.append(t)
        y = np.exp(t + 0.25)
        exps.append(y)
    g = np.ones_like(x)
    for i in range(rounds - 1, -1, -1):
        g = g * exps[i] * (1.0 - tanhs[i] * tanhs[i]) * 1.5 * np.cos(inputs[i])
    return g


def chain_args(small: bool) -> Args:
    return (np.random.default_rng(5).uniform(-2.0, 2.0, 7 if small else 100_000), 10)


def vector_ops_args(small: bool) -> Args:
    return (np.random.default_rng(6).uniform(-2.0, 2.0, 16), 10 if small else 40)


def scalar_ops(s, rounds):
    """The chain's five ops on a float with math.*, `rounds` times: per-operation overhead."""
    for _ in range(rounds):
        s = math.sin(s)
        s = s * 1.5
        s = math.tanh(s)
        s = s + 0.25
        s = math.exp(s)
    return s


def scalar_ops_grad(s, rounds):
    inputs = [0.0] * rounds
    tanhs = [0.0] * rounds
    exps = [0.0] * rounds
    for i in range(rounds):
        inputs[i] = s
        t = tanhs[i] = math.tanh(math.sin(s) * 1.5)
        s = exps[i] = math.exp(t + 0.25)
    g = 1.0
    for i in range(rounds - 1, -1, -1):
        g = g * exps[i] * (1.0 - tanhs[i] * tanhs[i]) * 1.5 * math.cos(inputs[i])
    return g


def scalar_ops_args(small: bool) -> Args:
    return (0.7, 10 if small else 40)


# ------------------------------------------------------------------ the list

WORKLOADS: list[Workload] = [
    Workload("scalar_loop", "1000-step scalar loop, d/dx", scalar_loop, scalar_loop_grad, scalar_loop_args),
    Workload("mlp_small", "two-layer network, batch 32, width 64", mlp_loss, mlp_loss_grad, mlp_small_args),
    Workload("mlp_large", "two-layer network, batch 1024, width 1024", mlp_loss, mlp_loss_grad, mlp_large_args),
    Workload("logreg", "logistic regression, 10,000 x 100", logreg_loss, logreg_loss_grad, logreg_args),
    Workload("rnn", "vanilla RNN, 100 steps, hidden 32, batch 16", rnn_loss, rnn_loss_grad, rnn_args, (0, 1, 2)),
    Workload("rosenbrock", "Rosenbrock, 10,000 entries", rosenbrock, rosenbrock_grad, rosenbrock_args),
    Workload("chain", "50 elementwise ops over 100,000 entries", chain, chain_grad, chain_args),
    Workload("scalar_ops", "200 scalar ops on a float", scalar_ops, scalar_ops_grad, scalar_ops_args),
    Workload("vector_ops", "200 ops on 16-vectors", chain, chain_grad, vector_ops_args),
]

BY_NAME: dict[str, Workload] = {w.name: w for w in WORKLOADS}


# ------------------------------------------------------------------ comparing gradients


def leaves(tree: object) -> list[np.ndarray]:
    """The arrays of a gradient (a number, an array, a tuple or a dict by sorted key), flattened."""
    if isinstance(tree, dict):
        return [leaf for key in sorted(tree) for leaf in leaves(tree[key])]
    if isinstance(tree, (tuple, list)):
        return [leaf for item in tree for leaf in leaves(item)]
    return [np.asarray(tree, dtype=float)]


def assert_same_gradient(got: object, expected: object, rtol: float = 1e-12) -> None:
    """`got` equals `expected` leaf by leaf to `rtol`; the absolute slack is `rtol` times 1e-3 of
    the leaf's largest entry (so entries that cancel to nearly zero compare on the leaf's scale)."""
    got_leaves, expected_leaves = leaves(got), leaves(expected)
    assert len(got_leaves) == len(expected_leaves), f"{len(got_leaves)} leaves, expected {len(expected_leaves)}"
    for i, (a, b) in enumerate(zip(got_leaves, expected_leaves)):
        assert a.shape == b.shape, f"leaf {i}: shape {a.shape}, expected {b.shape}"
        scale = float(np.max(np.abs(b))) if b.size else 0.0
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * 1e-3 * scale, err_msg=f"leaf {i}")


# ------------------------------------------------------------------ the long straight-line model


def long_model_source(n_lines: int) -> str:
    """A module with `def model(x, w)`: `n_lines` lines of seven elementwise operations each."""
    lines = ["import numpy as np", "", "", "def model(x, w):", "    h0 = x"]
    for i in range(1, n_lines + 1):
        back = max(i - 3, 0)
        lines.append(f"    h{i} = np.tanh(h{i - 1} * w[{i % 7}] + 0.1) + 0.5 * np.sin(h{back}) * h{i - 1}")
    lines.append(f"    return np.sum(h{n_lines} * h{n_lines})")
    return "\n".join(lines) + "\n"


_LONG_DIR = tempfile.TemporaryDirectory(prefix="s2sad_long_model_")


def load_long_model(n_lines: int) -> Callable:
    """`model` of `long_model_source(n_lines)`, imported from a file in a temporary directory."""
    path = Path(_LONG_DIR.name) / f"long_model_{n_lines}.py"
    path.write_text(long_model_source(n_lines))
    spec = importlib.util.spec_from_file_location(f"long_model_{n_lines}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.model


def long_model_args() -> Args:
    rng = np.random.default_rng(7)
    return rng.uniform(-1.0, 1.0, 64), rng.uniform(0.5, 1.5, 7)
