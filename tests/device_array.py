"""A strict stand-in for a GPU array library (CuPy) on the CPU: `DeviceArray` wraps a NumPy array
and, as CuPy does, speaks NumPy's protocols (`__array_ufunc__`, `__array_function__`, `like=`)
but refuses to become a NumPy array implicitly (`np.asarray(x)` raises) and refuses to mix with
NumPy arrays in one operation. Derivative code that runs on it makes no hidden copy to the host
and never hands a NumPy array where a device array is needed: what tests/test_device_array.py
checks for every rule, so that the CuPy path is tested where there is no GPU.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

_CREATIONS = {np.asarray, np.array, np.asanyarray, np.ascontiguousarray, np.zeros, np.ones, np.empty, np.full,
              np.eye, np.identity, np.arange, np.linspace}
"""Functions that make an array from Python or NumPy data: called `like=` a device array (NumPy
passes the call to it without the `like`), they make a device array."""


class MixedArrays(TypeError):
    """A NumPy array (not a scalar) met a device array in one operation."""


class DeviceArray(NDArrayOperatorsMixin):
    """An array on the "device": NumPy's values, no implicit way back to NumPy."""

    __slots__ = ("data",)

    def __init__(self, data: np.ndarray):
        self.data = data

    def __array__(self, dtype=None, copy=None):
        raise TypeError("implicit conversion of a DeviceArray to a NumPy array (use .get())")

    def get(self) -> np.ndarray:
        return self.data.copy()

    def __repr__(self) -> str:
        return f"DeviceArray({self.data!r})"

    # ------------------------------------------------------------------ NumPy's protocols

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        out = kwargs.pop("out", None)
        result = getattr(ufunc, method)(*_unwrap(inputs), **_unwrap(kwargs))
        if out is not None:
            out[0].data[...] = result
            return out[0]
        return _wrap(result)

    def __array_function__(self, func, types, args, kwargs):
        if func in _CREATIONS:  # `np.asarray(a, like=x)`, `np.zeros(n, like=x)`: upload a copy
            return _wrap(np.array(func(*_unwrap(args, upload=True), **_unwrap(kwargs, upload=True))))
        return _wrap(func(*_unwrap(args), **_unwrap(kwargs)))

    # ------------------------------------------------------------------ the ndarray surface

    shape = property(lambda self: self.data.shape)
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: self.data.size)
    T = property(lambda self: DeviceArray(self.data.T))
    real = property(lambda self: _wrap(self.data.real))
    imag = property(lambda self: _wrap(self.data.imag))

    def __len__(self) -> int:
        return len(self.data)

    def __iter__(self):
        return (_wrap(row) for row in self.data)

    def __getitem__(self, index):
        return _wrap(self.data[_unwrap(index, upload=True)])

    def __setitem__(self, index, value) -> None:
        self.data[_unwrap(index, upload=True)] = _unwrap(value)

    def __float__(self) -> float:
        return float(self.data)

    def __complex__(self) -> complex:
        return complex(self.data)

    def __int__(self) -> int:
        return int(self.data)

    def __index__(self) -> int:
        return self.data.__index__()

    def __bool__(self) -> bool:
        return bool(self.data)

    def __getattr__(self, name: str):
        method = getattr(self.data, name)  # copy, astype, reshape, sum, flatten, ...
        return lambda *args, **kwargs: _wrap(method(*_unwrap(args), **_unwrap(kwargs)))


def _unwrap(value, upload: bool = False):
    """The NumPy values inside `value` (in tuples, lists and dicts too); a NumPy array there is a
    `MixedArrays` error unless `upload` (an index, or data given to a creation function)."""
    if isinstance(value, DeviceArray):
        return value.data
    if isinstance(value, np.ndarray) and value.ndim and not upload:
        raise MixedArrays(f"a NumPy array of shape {value.shape} in an operation on device arrays")
    if isinstance(value, (tuple, list)):
        return type(value)(_unwrap(v, upload) for v in value)
    if isinstance(value, dict):
        return {k: _unwrap(v, upload) for k, v in value.items()}
    return value


def _wrap(value):
    """Device arrays for the arrays in a result (0-d results too, as CuPy returns them)."""
    if isinstance(value, np.ndarray):
        return DeviceArray(value)
    if isinstance(value, np.generic):
        return DeviceArray(np.asarray(value))
    if isinstance(value, (tuple, list)) and any(isinstance(v, np.ndarray) for v in value):
        return (list if isinstance(value, list) else tuple)(_wrap(v) for v in value)  # (svd: a plain tuple)
    return value


def to_device(value):
    """A device array for a NumPy array; anything else as it is."""
    return DeviceArray(value.copy()) if isinstance(value, np.ndarray) else value


def to_host(value):
    """NumPy values for the device arrays in `value`."""
    if isinstance(value, (tuple, list)):
        return type(value)(to_host(v) for v in value)
    if isinstance(value, dict):
        return {k: to_host(v) for k, v in value.items()}
    return value.get() if isinstance(value, DeviceArray) else value


@dataclass(frozen=True)
class Library:
    """An array library the device tests run on: the stand-in, or CuPy where a GPU is."""

    name: str
    to_device: Callable
    to_host: Callable
    array: type

    def __repr__(self) -> str:
        return self.name


STAND_IN = Library("stand-in", to_device, to_host, DeviceArray)


def cupy_library() -> tuple[Library | None, str]:
    """CuPy as a `Library`, or None and why not (not installed, or no GPU)."""
    try:
        import cupy
    except ImportError:
        return None, "CuPy is not installed: pip install '.[gpu]' on a machine with an NVIDIA GPU"
    try:
        gpus = cupy.cuda.runtime.getDeviceCount()
    except Exception:  # noqa: BLE001 - CuPy without a driver or device raises its own errors
        gpus = 0
    if not gpus:
        return None, "no GPU: CuPy is installed but finds no CUDA device"

    def to_gpu(value):
        return cupy.asarray(value) if isinstance(value, np.ndarray) else value

    def from_gpu(value):
        if isinstance(value, (tuple, list)):
            return type(value)(from_gpu(v) for v in value)
        if isinstance(value, dict):
            return {k: from_gpu(v) for k, v in value.items()}
        return cupy.asnumpy(value) if isinstance(value, cupy.ndarray) else value

    return Library("cupy", to_gpu, from_gpu, cupy.ndarray), ""
