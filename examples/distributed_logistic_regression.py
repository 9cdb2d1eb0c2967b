"""Logistic regression by gradient descent on a chunked Dask array, on a local Dask cluster.

The loss is plain NumPy code. Given Dask arrays, s2sad's gradient is a lazy Dask array: its
task graph runs on the cluster's worker processes, chunk by chunk, and only the gradient (one
number per feature) comes back. The script starts a `dask.distributed` LocalCluster of worker
processes, makes the data there (several chunks of rows), runs the descent, runs the same descent
with NumPy arrays on the same data, and prints the task graph's size, the time per step and how
far apart the two runs' weights are.

    python examples/distributed_logistic_regression.py [--small] [--workers 2] [--plot descent.png]

Needs the dask extra: pip install ".[dask]". With matplotlib installed it plots the loss after
each step of both runs.
"""

from __future__ import annotations

import argparse
import time

import dask
import dask.array as da
import numpy as np
from dask.distributed import Client, LocalCluster

import s2sad

RIDGE = 1e-3
STEP = 0.5


def loss(w, x, y):
    """Mean log-loss of labels y in {0, 1} given features x, and a small ridge penalty."""
    z = x @ w
    return np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * RIDGE * np.sum(w * w)


def make_data(rows: int, cols: int, chunk: int, seed: int = 0):
    """Features and labels made chunk by chunk where they are stored (the workers, on a cluster)."""
    rng = da.random.default_rng(seed)
    x = rng.standard_normal((rows, cols), chunks=(chunk, cols))
    truth = np.linspace(-1.0, 1.0, cols)
    y = (rng.random(rows, chunks=chunk) < 1.0 / (1.0 + da.exp(-(x @ truth)))).astype(float)
    return x, y


def descend(grad, w, x, y, steps: int) -> tuple[list[np.ndarray], list[float]]:
    """`steps` steps of gradient descent; the weights after each and the seconds each took."""
    path, times = [w], []
    for _ in range(steps):
        start = time.perf_counter()
        (g,) = dask.compute(grad(path[-1], x, y))  # a NumPy gradient computes at once; a Dask one on the cluster
        path.append(path[-1] - STEP * np.asarray(g))
        times.append(time.perf_counter() - start)
    return path, times


def plot_losses(path: str, dask_losses: list[float], numpy_losses: list[float]) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(dask_losses, "o-", label="Dask arrays, on the cluster")
    ax.plot(numpy_losses, "x--", label="NumPy arrays, in this process")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def main(small: bool = False, workers: int = 2, plot: str | None = "descent.png") -> dict:
    rows, cols, chunk, steps = (4_000, 8, 1_000, 5) if small else (400_000, 50, 50_000, 20)
    grad = s2sad.grad(loss)
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster):
        x, y = dask.persist(*make_data(rows, cols, chunk))  # held by the workers, chunk by chunk
        w0 = np.zeros(cols)
        lazy = grad(w0, x, y)
        graph = len(lazy.__dask_graph__())
        print(f"data: {rows:,} x {cols} float64 ({x.nbytes / 2**20:.0f} MiB) in {x.npartitions} chunks "
              f"on {workers} worker processes")
        print(f"one gradient: a Dask array of shape {lazy.shape}, a task graph of {graph} tasks")
        dask_path, times = descend(grad, w0, x, y, steps)
        x_np, y_np = dask.compute(x, y)
    numpy_path, numpy_times = descend(grad, w0, x_np, y_np, steps)
    w_dask, w_numpy = dask_path[-1], numpy_path[-1]
    apart = float(np.max(np.abs(w_dask - w_numpy)))
    print(f"{steps} steps: {np.median(times) * 1e3:.1f} ms a step on the cluster, "
          f"{np.median(numpy_times) * 1e3:.1f} ms with NumPy in this process")
    print(f"loss {loss(w0, x_np, y_np):.4f} -> {loss(w_dask, x_np, y_np):.4f}; "
          f"weights of the two runs differ by at most {apart:.1e}")
    saved = plot is not None and plot_losses(plot, [loss(w, x_np, y_np) for w in dask_path],
                                             [loss(w, x_np, y_np) for w in numpy_path])
    return {"plot": plot if saved else None, "graph_tasks": graph,
            "chunks": x.npartitions, "weights": w_dask, "weights_numpy": w_numpy,
            "apart": apart, "loss_start": float(loss(w0, x_np, y_np)), "loss_end": float(loss(w_dask, x_np, y_np)),
            "seconds_per_step": float(np.median(times))}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="a small data set (seconds)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--plot", default="descent.png", help="where to save the figure (needs matplotlib)")
    options = parser.parse_args()
    main(small=options.small, workers=options.workers, plot=options.plot)
