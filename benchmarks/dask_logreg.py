"""The logistic regression's gradient on a Dask array larger than a worker's memory limit.

The data (by default 2,000,000 x 100 float64, 1.6 GB) is written once to a file on disk; a Dask
array reads it chunk by chunk (`map_blocks` over a memory map), and a `LocalCluster` of worker
processes, each limited in memory, computes s2sad's gradient of the plain NumPy loss on it. The
same gradient on NumPy arrays in this process, the whole data set loaded, is the reference: the
two must agree to 1e-12. Printed: seconds per gradient (best of `--steps`), the peak resident
memory of each worker (polled every 50 ms) and the peak of NumPy's allocations in this process
(tracemalloc, the loaded data included).

    python benchmarks/dask_logreg.py [--rows 2000000] [--cols 100] [--workers 2] [--memory-limit 1GB]

Needs the dask extra: pip install ".[dask]".
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

import dask
import dask.array as da
import numpy as np
from dask.distributed import Client, LocalCluster

import s2sad


def loss(w, x, y):
    z = x @ w
    return np.mean(np.logaddexp(0.0, z) - y * z)


def write_data(folder: Path, rows: int, cols: int, chunk: int) -> tuple[Path, Path]:
    """Features and labels in .npy files, written a chunk at a time (never all in memory)."""
    x = np.lib.format.open_memmap(folder / "x.npy", "w+", np.float64, (rows, cols))
    y = np.lib.format.open_memmap(folder / "y.npy", "w+", np.float64, (rows,))
    truth = np.linspace(-1.0, 1.0, cols)
    for start in range(0, rows, chunk):
        rng = np.random.default_rng(start)
        block = rng.standard_normal((min(chunk, rows - start), cols))
        x[start:start + len(block)] = block
        y[start:start + len(block)] = rng.random(len(block)) < 1.0 / (1.0 + np.exp(-(block @ truth)))
    x.flush()
    y.flush()
    return folder / "x.npy", folder / "y.npy"


def _read_rows(path: str, shape: tuple, block_info=None):
    """The block of rows `block_info` asks for, read from the .npy file at `path`."""
    (start, stop), *_ = block_info[None]["array-location"]
    return np.array(np.load(path, mmap_mode="r")[start:stop])


def lazy_array(path: Path, chunk: int) -> da.Array:
    """The .npy file at `path` as a Dask array of blocks of `chunk` rows, each read when needed."""
    shape = np.load(path, mmap_mode="r").shape
    chunks = (tuple(min(chunk, shape[0] - s) for s in range(0, shape[0], chunk)),) + tuple((n,) for n in shape[1:])
    empty = np.empty((0,) * len(shape))
    return da.map_blocks(_read_rows, str(path), shape, chunks=chunks, dtype=np.float64, meta=empty)


def _rss_mib() -> float:
    import psutil  # (a dependency of dask.distributed)

    return psutil.Process().memory_info().rss / 2**20


class PeakMemory:
    """The largest resident memory of each worker seen while the block runs (polled)."""

    def __init__(self, client: Client, every: float = 0.05) -> None:
        self.client, self.every, self.peaks = client, every, {}
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self._done.wait(self.every):
            for worker, rss in self.client.run(_rss_mib).items():
                self.peaks[worker] = max(self.peaks.get(worker, 0.0), rss)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join()


def best_of(steps: int, fn) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(steps):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--cols", type=int, default=100)
    parser.add_argument("--chunk", type=int, default=100_000, help="rows per chunk (default 100,000: 80 MB)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-limit", default="1GB", help="per worker (default 1GB)")
    parser.add_argument("--steps", type=int, default=3, help="gradients timed, best taken (default 3)")
    options = parser.parse_args(argv)
    grad = s2sad.grad(loss)
    w = np.linspace(-0.5, 0.5, options.cols)
    with tempfile.TemporaryDirectory() as folder:
        x_path, y_path = write_data(Path(folder), options.rows, options.cols, options.chunk)
        size_mb = (options.rows * options.cols * 8) / 1e6
        print(f"data: {options.rows:,} x {options.cols} float64, {size_mb:,.0f} MB on disk, "
              f"{options.rows // options.chunk} chunks")
        cluster = LocalCluster(n_workers=options.workers, threads_per_worker=1, processes=True,
                               memory_limit=options.memory_limit, dashboard_address=None)
        with cluster, Client(cluster) as client:
            x, y = lazy_array(x_path, options.chunk), lazy_array(y_path, options.chunk)
            graph = len(grad(w, x, y).__dask_graph__())
            with PeakMemory(client) as memory:
                dask_seconds, on_dask = best_of(options.steps, lambda: dask.compute(grad(w, x, y))[0])
        print(f"Dask, {options.workers} workers limited to {options.memory_limit} each: "
              f"{dask_seconds:.2f} s a gradient ({graph} tasks); peak resident memory per worker: "
              + ", ".join(f"{peak:,.0f} MiB" for peak in memory.peaks.values()))
        tracemalloc.start()
        x_all, y_all = np.load(x_path), np.load(y_path)
        numpy_seconds, on_numpy = best_of(options.steps, lambda: grad(w, x_all, y_all))
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        print(f"NumPy, one process, the data loaded: {numpy_seconds:.2f} s a gradient; "
              f"peak memory allocated (tracemalloc, the data included): {peak:,.0f} MiB")
    apart = float(np.max(np.abs(on_dask - on_numpy) / np.maximum(np.abs(on_numpy), 1e-300)))
    print(f"largest relative difference between the two gradients: {apart:.1e}")
    return 0 if apart < 1e-12 else 1


if __name__ == "__main__":
    sys.exit(main())
