"""One end-to-end check per new rule: a small realistic function through every transform.

`check_every_mode(source, args)` takes the source of a function of array arguments returning an
array, and checks against finite differences: jvp and vjp (`check_grads`, second order too
where the function is smooth), grad and value_and_grad of its sum of squares, jacrev against
jacfwd, and the hessian of the sum of squares in the first argument against differences of
its gradient.
"""

from __future__ import annotations

import numpy as np

import s2sad
from s2sad.testing import check_grads, make_function


def check_every_mode(source: str, args: list, smooth: bool = True, namespace: dict | None = None,
                     rtol: float = 1e-5, atol: float = 1e-7) -> None:
    namespace = dict(namespace or {})
    fun = make_function(source, namespace)
    check_grads(fun, args, order=2 if smooth else 1, rtol=rtol, atol=atol)
    params = ", ".join(f"a{i}" for i in range(len(args)))
    scalar = make_function(f"def loss({params}):\n    return np.sum(fun({params}) ** 2)\n", {"fun": fun})
    argnums = tuple(range(len(args)))
    value, grads = s2sad.value_and_grad(scalar, argnums=argnums)(*args)
    np.testing.assert_allclose(value, np.sum(np.asarray(fun(*args)) ** 2), rtol=1e-12)
    for g, expected in zip(grads, s2sad.grad(scalar, argnums=argnums)(*args), strict=True):
        np.testing.assert_allclose(g, expected, rtol=1e-12, atol=1e-14)
    for i, (g, a) in enumerate(zip(grads, args, strict=True)):
        np.testing.assert_allclose(g, _numerical_gradient(scalar, args, i), rtol=rtol, atol=max(atol, 1e-6))
        assert np.shape(g) == np.shape(a)
    for rev, fwd in zip(s2sad.jacrev(fun, argnums=argnums)(*args), s2sad.jacfwd(fun, argnums=argnums)(*args),
                        strict=True):
        np.testing.assert_allclose(rev, fwd, rtol=1e-10, atol=1e-12)
    if smooth:
        hessian = np.asarray(s2sad.hessian(scalar)(*args))
        gradient = s2sad.grad(scalar)
        size = np.size(args[0])
        numeric = np.stack([_numerical_gradient_of(gradient, args, k) for k in range(size)], axis=-1)
        np.testing.assert_allclose(np.reshape(hessian, (size, size)), np.reshape(numeric, (size, size)),
                                   rtol=rtol, atol=max(atol, 1e-5))


def _numerical_gradient(scalar, args: list, i: int, eps: float = 1e-6) -> np.ndarray:
    x = np.asarray(args[i], dtype=float)
    out = np.zeros(x.shape)
    for k in np.ndindex(x.shape):
        step = np.zeros(x.shape)
        step[k] = eps
        plus = [a + step if j == i else a for j, a in enumerate(args)]
        minus = [a - step if j == i else a for j, a in enumerate(args)]
        out[k] = (scalar(*plus) - scalar(*minus)) / (2 * eps)
    return out


def _numerical_gradient_of(gradient, args: list, k: int, eps: float = 1e-6) -> np.ndarray:
    """The k-th column (flat index) of the derivative of `gradient` in the first argument."""
    x = np.asarray(args[0], dtype=float)
    step = np.zeros(x.size)
    step[k] = eps
    step = step.reshape(x.shape)
    plus = gradient(x + step, *args[1:])
    minus = gradient(x - step, *args[1:])
    return np.ravel((np.asarray(plus) - np.asarray(minus)) / (2 * eps))
