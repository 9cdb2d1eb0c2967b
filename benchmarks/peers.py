"""The peers s2sad is timed against, each running the workload's own primal.

A primal reads NumPy as `np` and math as `math`; `rebuild` makes a copy of it whose two
globals are another module (autograd.numpy, jax.numpy, or `TorchNumpy`, a small shim over
torch for the names the workloads use). Every peer is optional: `gradients` returns, per peer
name, either a zero-argument callable computing the gradient or the reason it cannot (not
installed, the primal writes in place, an exception). The runner checks each peer's gradient
against the hand-written one before timing it.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import time
import types
from collections.abc import Callable

import numpy as np
from workloads import Workload

PEERS = ("autograd", "JAX eager", "JAX jit", "PyTorch")

Gradient = Callable[[], object]


def installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def versions() -> dict[str, str]:
    """The versions of the peers that are installed."""
    found = {}
    for module in ("autograd", "jax", "torch"):
        if installed(module):
            try:
                found[module] = importlib.metadata.version(module)
            except importlib.metadata.PackageNotFoundError:
                found[module] = "?"
    return found


def rebuild(fun: types.FunctionType, namespace: object) -> types.FunctionType:
    """`fun` with its `np` and `math` globals replaced by `namespace`."""
    scope = {**fun.__globals__, "np": namespace, "math": namespace}
    return types.FunctionType(fun.__code__, scope, fun.__name__, fun.__defaults__, fun.__closure__)


def positions(argnums: int | tuple[int, ...]) -> tuple[int, ...]:
    return (argnums,) if isinstance(argnums, int) else tuple(argnums)


def gradients(work: Workload, args: tuple) -> dict[str, Gradient | str]:
    """Per peer, a callable computing the gradient of `work` at `args`, or why there is none."""
    makers = {"autograd": _autograd, "JAX eager": _jax_eager, "JAX jit": _jax_jit, "PyTorch": _torch}
    found: dict[str, Gradient | str] = {}
    for name, maker in makers.items():
        try:
            found[name] = maker(work, args)
        except Exception as err:  # a peer that cannot run a workload is a row of "n/a", not a crash
            found[name] = f"{type(err).__name__}: {str(err).splitlines()[0][:120] if str(err) else ''}"
    return found


# ------------------------------------------------------------------ autograd


def _autograd(work: Workload, args: tuple) -> Gradient:
    if not installed("autograd"):
        return "not installed"
    import autograd
    import autograd.numpy as anp

    primal = rebuild(work.primal, anp)
    where = positions(work.argnums)

    def packed(wrt, *rest):  # autograd differentiates one argument: a tuple of the wrt ones
        full = list(rest)
        for p, value in zip(where, wrt):
            full[p] = value
        return primal(*full)

    gradient = autograd.grad(packed, 0)
    wrt = tuple(args[p] for p in where)
    if isinstance(work.argnums, int):
        return lambda: gradient(wrt, *args)[0]
    return lambda: gradient(wrt, *args)


# ------------------------------------------------------------------ JAX


def _jax():
    import jax

    jax.config.update("jax_enable_x64", True)
    return jax


def _jax_ready(work: Workload, args: tuple):
    """jax, the rebuilt primal, the arguments as JAX arrays and the positions of integer ones."""
    if not installed("jax"):
        raise _Unavailable("not installed")
    if work.in_place:
        raise _Unavailable("the primal writes in place")
    jax = _jax()
    import jax.numpy as jnp

    converted = tuple(jax.tree_util.tree_map(jnp.asarray, a) if not isinstance(a, int) else a for a in args)
    static = tuple(i for i, a in enumerate(args) if isinstance(a, int))
    return jax, rebuild(work.primal, jnp), converted, static


class _Unavailable(Exception):
    """A peer that does not apply to a workload (shown as its message)."""


def _jax_eager(work: Workload, args: tuple) -> Gradient | str:
    try:
        jax, primal, converted, _ = _jax_ready(work, args)
    except _Unavailable as why:
        return str(why)
    gradient = jax.grad(primal, argnums=work.argnums)
    return lambda: jax.block_until_ready(gradient(*converted))


def _jax_jit(work: Workload, args: tuple) -> Gradient | str:
    try:
        jax, primal, converted, static = _jax_ready(work, args)
    except _Unavailable as why:
        return str(why)
    gradient = jax.jit(jax.grad(primal, argnums=work.argnums), static_argnums=static)
    return lambda: jax.block_until_ready(gradient(*converted))


def first_call(gradient: Gradient) -> tuple[object, float]:
    """The result of the first call and its time (a jitted gradient compiles then)."""
    start = time.perf_counter()
    result = gradient()
    return result, time.perf_counter() - start


# ------------------------------------------------------------------ PyTorch


class TorchNumpy:
    """The NumPy and math names the workloads use, over torch (float64)."""

    def __init__(self, torch) -> None:
        self.torch = torch
        for name in ("sin", "cos", "tanh", "exp", "log"):
            setattr(self, name, getattr(torch, name))

    def sum(self, x, axis=None, keepdims=False):
        return self.torch.sum(x) if axis is None else self.torch.sum(x, dim=axis, keepdim=keepdims)

    def mean(self, x, axis=None, keepdims=False):
        return self.torch.mean(x) if axis is None else self.torch.mean(x, dim=axis, keepdim=keepdims)

    def max(self, x, axis=None, keepdims=False):
        return self.torch.amax(x) if axis is None else self.torch.amax(x, dim=axis, keepdim=keepdims)

    def logaddexp(self, a, b):
        return self.torch.logaddexp(self.tensor(a), self.tensor(b))

    def zeros(self, shape):
        return self.torch.zeros(shape, dtype=self.torch.float64)

    def tensor(self, value):
        return value if isinstance(value, self.torch.Tensor) else self.torch.tensor(value, dtype=self.torch.float64)


def _torch(work: Workload, args: tuple) -> Gradient | str:
    if not installed("torch"):
        return "not installed"
    import torch

    torch.set_num_threads(1)
    primal = rebuild(work.primal, TorchNumpy(torch))
    where = positions(work.argnums)
    constants = [_to_torch(torch, a, False) if i not in where else None for i, a in enumerate(args)]

    def gradient():
        full = [_to_torch(torch, a, True) if i in where else c for i, (a, c) in enumerate(zip(args, constants))]
        wrt = [full[p] for p in where]
        leaves = [leaf for item in wrt for leaf in (item.values() if isinstance(item, dict) else [item])]
        found = iter(torch.autograd.grad(primal(*full), leaves))
        grads = tuple(_from_torch(item, found) for item in wrt)
        return grads[0] if isinstance(work.argnums, int) else grads

    return gradient


def _to_torch(torch, value, active: bool):
    if isinstance(value, dict):
        return {key: _to_torch(torch, item, active) for key, item in value.items()}
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value).requires_grad_(active)
    if isinstance(value, float):
        return torch.tensor(value, dtype=torch.float64, requires_grad=active)
    return value


def _from_torch(item, found):
    if isinstance(item, dict):
        return {key: _from_torch(value, found) for key, value in item.items()}
    grad = next(found)
    return grad.item() if grad.dim() == 0 else grad.numpy()
