"""Jacobians, Hessians and Hessian-vector products, built from jvp, vjp and grad.

Generated derivative code is ordinary Python made of operations that have rules, so these are
compositions: `hessian` is forward over reverse (`jacfwd(grad(f))`), `hvp` one `jvp` of `grad`.
Arguments and outputs may be pytrees; a Jacobian has, for each output leaf and each input leaf,
an array of shape `out.shape + in.shape`, nested output structure outside, input inside.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from s2sad import api
from s2sad.api import Argnums, Transformed
from s2sad.core.modes import GRAD
from s2sad.core.targets import target_of
from s2sad.runtime import map_structure, zeros_like


def flatten(tree) -> tuple[list, Callable[[list], object]]:
    """The leaves of a pytree (numbers and arrays) and a function putting new leaves back."""
    leaves: list = []
    map_structure(leaves.append, tree)

    def rebuild(new: list):
        it = iter(new)
        return map_structure(lambda _: next(it), tree)

    return leaves, rebuild


def _basis(tree):
    """Every unit direction in the space of `tree`: (leaf index, element index, direction)."""
    leaves, rebuild = flatten(tree)
    zeros = [zeros_like(leaf) for leaf in leaves]
    for i, leaf in enumerate(leaves):
        if zeros[i] is None:
            continue
        for index in np.ndindex(np.shape(leaf)):
            direction = [np.array(z, copy=True) if isinstance(z, np.ndarray) else z for z in zeros]
            if isinstance(leaf, np.ndarray):
                direction[i][index] = 1.0
            else:
                direction[i] = 1.0
            yield i, index, rebuild(direction)


def _positions(fun: Callable, argnums: Argnums) -> tuple[list[int], bool]:
    target = target_of(fun)
    names, single = api.resolve_argnums(target, argnums)
    return [target.params.index(n) for n in names], single


def _stack(columns: list, leaves_in: list, out_tree, order: str):
    """Assemble per-direction results into `out.shape + in.shape` arrays per leaf pair."""
    out_leaves, rebuild_out = flatten(out_tree)
    result = []
    for o, out_leaf in enumerate(out_leaves):
        per_in = []
        for i, in_leaf in enumerate(leaves_in):
            block = np.zeros(np.shape(out_leaf) + np.shape(in_leaf), np.result_type(out_leaf, in_leaf, 1.0))
            for (leaf_i, index, leaf_o, out_index), value in columns:
                if leaf_i == i and leaf_o == o:
                    block[out_index + index] = value
            per_in.append(block)
        result.append(per_in)
    return result, rebuild_out


def jacfwd(fun: Callable, argnums: Argnums = 0) -> Callable:
    """The Jacobian by forward mode: one `jvp` per input element (best for few inputs)."""

    def jacobian_fwd(*args):
        positions, single = _positions(fun, argnums)
        results = []
        for pos in positions:
            out = None
            columns = []
            for leaf_i, index, direction in _basis(args[pos]):
                tangents = [zeros_like(a) if j != pos else direction for j, a in enumerate(args)]
                out, tangent = api.jvp(fun, args, tangents)
                for leaf_o, t in enumerate(flatten(tangent)[0]):
                    for out_index in np.ndindex(np.shape(t)):
                        columns.append(((leaf_i, index, leaf_o, out_index), np.asarray(t)[out_index]))
            out = fun(*args) if out is None else out
            results.append(_assemble(columns, args[pos], out))
        return results[0] if single else tuple(results)

    jacobian_fwd.__s2sad_jacobian__ = True
    return jacobian_fwd


def jacrev(fun: Callable, argnums: Argnums = 0) -> Callable:
    """The Jacobian by reverse mode: one pullback per output element (best for few outputs)."""

    def jacobian_rev(*args):
        positions, single = _positions(fun, argnums)
        out, pullback = api.vjp(fun, *args)
        columns: dict[int, list] = {pos: [] for pos in positions}
        for leaf_o, out_index, direction in _basis(out):
            cotangents = pullback(direction)
            for pos in positions:
                for leaf_i, g in enumerate(flatten(cotangents[pos])[0]):
                    for index in np.ndindex(np.shape(g)):
                        columns[pos].append(((leaf_i, index, leaf_o, out_index), np.asarray(g)[index]))
        results = [_assemble(columns[pos], args[pos], out) for pos in positions]
        return results[0] if single else tuple(results)

    jacobian_rev.__s2sad_jacobian__ = True
    return jacobian_rev


jacobian = jacrev


def _assemble(columns: list, arg, out):
    leaves_in, rebuild_in = flatten(arg)
    blocks, rebuild_out = _stack(columns, leaves_in, out, "")
    nested = [rebuild_in([_unwrap(b) for b in per_in]) for per_in in blocks]
    return rebuild_out(nested)


def _unwrap(block: np.ndarray):
    return block[()] if block.ndim == 0 else block


def hessian(fun: Callable, argnums: Argnums = 0) -> Callable:
    """The Hessian of a scalar function: forward over reverse, `jacfwd(grad(fun))`. With a tuple
    `argnums`, `H[i][j]` is d²f/dxᵢdxⱼ, of shape `xᵢ.shape + xⱼ.shape`."""
    by_argument = jacfwd(Transformed(fun, GRAD, argnums), argnums)
    if isinstance(argnums, (int, str)):
        return by_argument

    def hessian_blocks(*args):
        columns = by_argument(*args)  # columns[j][i]: the derivative of gradient i along argument j
        return tuple(tuple(column[i] for column in columns) for i in range(len(columns)))

    hessian_blocks.__s2sad_jacobian__ = True
    return hessian_blocks


def hvp(fun: Callable, argnums: Argnums = 0) -> Callable:
    """`h(*args, v)`: the Hessian of `fun` times `v`, in one `jvp` of `grad` (vector last, as
    `scipy.optimize.minimize(..., hessp=h)` calls it for a function of one argument). With a
    tuple `argnums`, `v` is a tuple with one direction per argument in `argnums`, and the
    result a tuple with one product per argument: `sum_j H[i][j] @ v[j]`."""
    gradient = Transformed(fun, GRAD, argnums)
    positions, single = _positions(fun, argnums)

    def hessian_vector_product(*args):
        *primals, v = args
        directions = (v,) if single else _directions(v, len(positions))
        along = dict(zip(positions, directions))
        tangents = [along[j] if j in along else zeros_like(a) for j, a in enumerate(primals)]
        return api.jvp(gradient, primals, tangents)[1]

    hessian_vector_product.__s2sad_jacobian__ = True
    return hessian_vector_product


def _directions(v, count: int) -> tuple:
    if not isinstance(v, (tuple, list)) or len(v) != count:
        raise ValueError(f"hvp: with {count} arguments in argnums, the vector (the last argument) must be a tuple "
                         f"of {count} directions, one per argument; got {type(v).__name__}")
    return tuple(v)


def elementwise_grad(fun: Callable, argnums: Argnums = 0) -> Callable:
    """The gradient of `sum(fun(*args))`: for elementwise functions, each output's derivative."""

    def gradient(*args):
        positions, single = _positions(fun, argnums)
        out, pullback = api.vjp(fun, *args)
        cotangents = pullback(map_structure(lambda o: np.ones_like(o) if isinstance(o, np.ndarray) else 1.0, out))
        found = [cotangents[p] for p in positions]
        return found[0] if single else tuple(found)

    gradient.__s2sad_jacobian__ = True
    return gradient
