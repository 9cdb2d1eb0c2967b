"""Jacobians, Hessians and Hessian-vector products, built from jvp, vjp and grad.

Generated derivative code is ordinary Python made of operations that have rules, so these are
compositions: `hessian` is forward over reverse (`jacfwd(grad(f))`), `hvp` one `jvp` of `grad`.
Arguments and outputs may be pytrees; a Jacobian has, for each output leaf and each input leaf,
an array of shape `out.shape + in.shape`, nested output structure outside, input inside.

A Jacobian is assembled in Python from directional derivatives of its function, so it is
differentiated again the same way: `tangent(fun, args, kwargs, directions)` is the derivative
of `fun` along each direction given (a `jvp` of `fun`'s code, then a `jvp` of that jvp's code,
and so on), and the derivative of a Jacobian along a direction is the Jacobian assembled from
those second derivatives. So `jacfwd(jacrev(f))`, `jacrev(jacrev(f))`,
`elementwise_grad(elementwise_grad(f))` and `jvp` of any of them nest, to any order.
Keyword arguments are passed through to the function, as constants. Of a function with `*args`
or `**kwargs`, each of these is made again for each call shape (`for_shape`, see `core.targets`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, cast

import numpy as np

from s2sad import api
from s2sad.api import Argnums, Transformed
from s2sad.back.jit import check_backend
from s2sad.core.modes import GRAD, JVP
from s2sad.core.targets import Target, call_shape, is_variadic, shaped, shaped_target, target_of
from s2sad.errors import NonScalarOutput, caller, user_facing
from s2sad.runtime import map_structure, zeros_like
from s2sad.runtime.core import foreign_array

Direction = dict
"""A direction in the space of a function's arguments: {position: tangent of that argument}."""


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
    zeros = [np.zeros(np.shape(leaf)) if foreign_array(leaf) else zeros_like(leaf) for leaf in leaves]
    for i, leaf in enumerate(leaves):
        if zeros[i] is None:
            continue
        for index in np.ndindex(np.shape(leaf)):
            direction = [np.array(z, copy=True) if isinstance(z, np.ndarray) else z for z in zeros]
            if isinstance(leaf, np.ndarray) or foreign_array(leaf):
                direction[i][index] = 1.0
            else:
                direction[i] = 1.0
            yield i, index, rebuild([_like(d, x) for d, x in zip(direction, leaves)])


def _like(direction, leaf):
    """A unit vector made in NumPy, in the library of its Dask or CuPy leaf (CuPy does not mix
    NumPy arrays into its own)."""
    return np.asarray(direction, like=leaf) if foreign_array(leaf) and isinstance(direction, np.ndarray) else direction


def _target(fun: object) -> Target:
    """The user's function behind `fun` (for a Jacobian, the function it differentiates)."""
    return fun.target if isinstance(fun, Derivative) else target_of(fun)


def _positions(fun: object, argnums: Argnums) -> tuple[list[int], bool]:
    target = _target(fun)
    names, single = api.resolve_argnums(target, argnums)
    return [target.params.index(n) for n in names], single


class Forwards(dict):
    """The jvp derivative objects a derivative made, by (id of the function, positions): made once
    per function and kept with the function (which keeps the id valid); `backend`, the one they
    are built for ("python" or "numba")."""

    def __init__(self, backend: str = "python", cache_dir: str | None = None) -> None:
        super().__init__()
        self.backend, self.cache_dir = backend, cache_dir


def _forward(fun: object, positions: tuple[int, ...], made: Forwards) -> Transformed:
    """`fun`'s jvp code as a function `(*args, *tangents) -> (out, tangent)`, made once."""
    key = (id(fun), positions)
    if key not in made:
        made[key] = (fun, Transformed(fun, JVP, positions, backend=getattr(made, "backend", "python"),
                                      cache_dir=getattr(made, "cache_dir", None)))
    return made[key][1]


def tangent(fun: Any, args: tuple, kwargs: dict, directions: list[Direction], made: Forwards):
    """The derivative of `fun(*args, **kwargs)` along each of `directions` in turn (with none,
    the value): one direction is a `jvp`, two a `jvp` of the jvp's code, and so on."""
    if isinstance(fun, Derivative):
        return fun.derivative(args, kwargs, directions)
    if not directions:
        return fun(*args, **kwargs)
    first, rest = directions[0], directions[1:]
    args = api.complete(_target(fun), args)
    # Every differentiable argument moves, the others along zero (a jvp in fewer arguments
    # crashed in forward-over-reverse code: the tester's seed 3207).
    order = tuple(sorted(set(first) | set(api.float_positions(args))))
    moves = tuple(first[p] if p in first else zeros_like(args[p]) for p in order)
    return tangent(_forward(fun, order, made), (*args, *moves), kwargs, rest, made)[1]


def _entries(tree, leaf_i: int, index: tuple) -> list:
    """The columns of one input element: ((leaf_i, output leaf), the output leaf's derivative)."""
    return [((leaf_i, leaf_o), t) for leaf_o, t in enumerate(flatten(tree)[0])]


def _assemble(columns: list, arg, out, forward: bool = True):
    """The Jacobian blocks, `out.shape + in.shape` per pair of leaves, from the columns: for
    `forward`, one output-shaped derivative per input element (in `np.ndindex` order), else one
    input-shaped cotangent per output element. Stacked by the arrays' own library (a Dask or
    CuPy Jacobian stays one)."""
    leaves_in, rebuild_in = flatten(arg)
    out_leaves, rebuild_out = flatten(out)
    found: dict[tuple[int, int], list] = {}
    for key, value in columns:
        found.setdefault(key, []).append(value)
    nested = [rebuild_in([_unwrap(_block(found.get((i, o), []), out_leaf, in_leaf, forward))
                          for i, in_leaf in enumerate(leaves_in)])
              for o, out_leaf in enumerate(out_leaves)]
    return rebuild_out(nested)


def _block(values: list, out_leaf, in_leaf, forward: bool):
    """One output leaf's derivative in one input leaf (zeros where no column reached it)."""
    out_shape, in_shape = np.shape(out_leaf), np.shape(in_leaf)
    dtype = np.result_type(out_leaf, in_leaf, 1.0)
    if not values:
        return np.zeros(out_shape + in_shape, dtype)
    block = np.stack(values, axis=-1 if forward else 0)  # (input elements last, or outputs first)
    return np.reshape(block, out_shape + in_shape).astype(dtype, copy=False)


def _unwrap(block: np.ndarray):
    block = block + 0.0  # -0.0 (a zero derivative times a negative number) printed as 0.0
    return block[()] if block.ndim == 0 else block


class Derivative:
    """A derivative of `base` assembled in Python (a Jacobian, an elementwise gradient): called
    like `base`, keyword arguments included, and differentiable again along any direction."""

    __s2sad_jacobian__ = True
    """What `target_of` refuses: there is no generated code to read (for grad and vjp of it)."""

    def __init__(self, base: object, argnums: Argnums, target: Target | None = None, backend: str = "python",
                 cache_dir: Any = None) -> None:
        cache_dir = check_backend(backend, cache_dir)
        self.base = base
        self.target = target if target is not None else _target(base)
        self.argnums = argnums
        self.shapes: dict[tuple, Derivative] | None = {} if is_variadic(self.target) else None
        if self.shapes is None:
            self.positions, self.single = _positions(self.target, argnums)
        self.made = Forwards(backend, cache_dir)
        functools.update_wrapper(self, self.target.fun, updated=())

    def for_shape(self, shape: tuple) -> Derivative:
        """This derivative of a variadic function at one call shape (see `api.Transformed.for_shape`)."""
        shapes = cast(dict[tuple, Derivative], self.shapes)  # a variadic function's: not None
        if shape not in shapes:
            argnums = api.shaped_argnums(self.target, shape, self.argnums)
            shapes[shape] = type(self)(shaped(self.base, shape), argnums, shaped_target(self.target, shape),
                                       self.made.backend, self.made.cache_dir)
        return shapes[shape]

    __s2sad_for_shape__ = for_shape

    @user_facing
    def __call__(self, *args, **kwargs):
        if self.shapes is not None:
            shape, kwargs = call_shape(self.target, args, kwargs)
            return self.for_shape(shape)(*args, **kwargs)
        args, kwargs = api.bind(self.target, args, kwargs)
        return self.derivative(args, kwargs, [])

    def __s2sad_along__(self, primals: tuple, tangents: tuple):
        """`jvp` of this derivative: its value and its derivative along `tangents`."""
        if self.shapes is not None:
            return self.for_shape(call_shape(self.target, primals, {})[0]).__s2sad_along__(primals, tangents)
        along = {i: tangents[i] for i in api.float_positions(primals)}
        return self(*primals), self.derivative(primals, {}, [along])

    def derivative(self, args: tuple, kwargs: dict, directions: list[Direction]):
        """The value (no directions) or the derivative along `directions` of this function."""
        found = [self.block(args, kwargs, directions, pos) for pos in self.positions]
        return found[0] if self.single else tuple(found)

    def block(self, args: tuple, kwargs: dict, directions: list[Direction], pos: int):
        """The Jacobian (differentiated along `directions`) with respect to argument `pos`, by
        one forward derivative per element of that argument."""
        columns, out = [], None
        for leaf_i, index, direction in _basis(args[pos]):
            out = tangent(self.base, args, kwargs, [{pos: direction}, *directions], self.made)
            columns += _entries(out, leaf_i, index)
        if out is None:  # an argument with no elements: the output's structure from its value
            out = tangent(self.base, args, kwargs, directions, self.made)
        return _assemble(columns, args[pos], out)

    def __repr__(self) -> str:
        return f"<s2sad.{type(self).__name__.lower()} of {api._name(self.target)} wrt {self.argnums!r}>"


class Jacfwd(Derivative):
    """The Jacobian by forward mode: one `jvp` per input element (see `jacfwd`)."""


class Jacrev(Derivative):
    """The Jacobian by reverse mode: one pullback per output element (see `jacrev`). Its own
    derivatives, and the Jacobian of a Jacobian, are taken in forward mode."""

    def derivative(self, args: tuple, kwargs: dict, directions: list[Direction]):
        if directions or isinstance(self.base, Derivative):
            return super().derivative(args, kwargs, directions)
        out, pullback = api.vjp_with(self.base, args, kwargs)
        columns: dict[int, list] = {pos: [] for pos in self.positions}
        for leaf_o, _, direction in _basis(out):
            cotangents = pullback(direction)
            for pos in self.positions:
                for leaf_i, g in enumerate(flatten(cotangents[pos])[0]):
                    columns[pos].append(((leaf_i, leaf_o), g))
        found = [_assemble(columns[pos], args[pos], out, forward=False) for pos in self.positions]
        return found[0] if self.single else tuple(found)


class ElementwiseGrad(Derivative):
    """The gradient of `sum(fun(*args))` (see `elementwise_grad`): one pullback of ones; its
    derivatives sum the forward derivatives over the output's elements."""

    def derivative(self, args: tuple, kwargs: dict, directions: list[Direction]):
        if directions or isinstance(self.base, Derivative):
            return super().derivative(args, kwargs, directions)
        out, pullback = api.vjp_with(self.base, args, kwargs)
        cotangents = pullback(map_structure(lambda o: np.ones_like(o) if isinstance(o, np.ndarray) else 1.0, out))
        found = [cotangents[p] for p in self.positions]
        return found[0] if self.single else tuple(found)

    def block(self, args: tuple, kwargs: dict, directions: list[Direction], pos: int):
        leaves, rebuild = flatten(args[pos])
        sums: list[list] = [[] for _ in leaves]
        for leaf_i, _, direction in _basis(args[pos]):
            out = tangent(self.base, args, kwargs, [{pos: direction}, *directions], self.made)
            sums[leaf_i].append(sum(np.sum(t) for t in flatten(out)[0]))
        blocks = [np.reshape(np.stack(s), np.shape(leaf)).astype(np.result_type(leaf, 1.0), copy=False) if s
                  else np.zeros(np.shape(leaf), np.result_type(leaf, 1.0)) for s, leaf in zip(sums, leaves)]
        return rebuild([_unwrap(b) for b in blocks])


class Hessian(Jacfwd):
    """`jacfwd(grad(fun))`; for a tuple `argnums`, the blocks `H[i][j]` (see `hessian`)."""

    def derivative(self, args: tuple, kwargs: dict, directions: list[Direction]):
        try:
            columns = super().derivative(args, kwargs, directions)
        except NonScalarOutput as err:
            raise NonScalarOutput(err.message.replace("grad requires", "hessian requires"), caller(),
                                  hint="for the second derivatives of each output, s2sad.jacfwd(s2sad.jacrev(f)); "
                                       "for one output's, the Hessian of a function returning it") from None
        if self.single:
            return columns
        # columns[j][i]: the derivative of gradient i along argument j
        return tuple(tuple(column[i] for column in columns) for i in range(len(columns)))


@user_facing
def jacfwd(fun: Callable, argnums: Argnums = 0) -> Callable:
    """The Jacobian of a function by forward mode: one `jvp` per input element.

    Best where the arguments have fewer elements than the output. For an output of shape
    `out.shape` and an argument of shape `in.shape` the Jacobian has shape
    `out.shape + in.shape`; for pytrees, the output's structure outside, the argument's inside.
    The result can be differentiated again (`jacfwd(jacrev(f))`, `jvp`), to any order.

    Args:
        fun: The function, as for `grad`; its output may be a number, an array or a pytree.
        argnums: What to differentiate: a position, a parameter's name, or a tuple of those,
            which gives a tuple of Jacobians, one per argument.

    Returns:
        A function of `fun`'s arguments (keyword arguments are passed through as constants)
        returning the Jacobian.

    Raises:
        ArgnumsError: `argnums` does not name parameters of `fun` (raised by `jacfwd`).

    Examples:
        >>> import numpy as np
        >>> import s2sad
        >>> def polar(r, theta):
        ...     return np.array([r * np.cos(theta), r * np.sin(theta)])
        >>> s2sad.jacfwd(polar, argnums=(0, 1))(2.0, 0.0)
        (array([1., 0.]), array([0., 2.]))
    """
    return Jacfwd(fun, argnums)


@user_facing
def jacrev(fun: Callable, argnums: Argnums = 0) -> Callable:
    """The Jacobian of a function by reverse mode: one pullback per output element.

    Best where the output has fewer elements than the arguments. `jacobian` is this function.
    The Jacobian has the shape `out.shape + in.shape`, as for `jacfwd`; its own derivatives
    are taken in forward mode.

    Args:
        fun: The function, as for `grad`; its output may be a number, an array or a pytree.
        argnums: What to differentiate: a position, a parameter's name, or a tuple of those,
            which gives a tuple of Jacobians, one per argument.

    Returns:
        A function of `fun`'s arguments (keyword arguments are passed through as constants)
        returning the Jacobian.

    Raises:
        ArgnumsError: `argnums` does not name parameters of `fun` (raised by `jacrev`).

    Examples:
        >>> import numpy as np
        >>> import s2sad
        >>> def polar(r, theta):
        ...     return np.array([r * np.cos(theta), r * np.sin(theta)])
        >>> s2sad.jacrev(polar, argnums=1)(2.0, 0.0)
        array([0., 2.])
    """
    return Jacrev(fun, argnums)


jacobian = jacrev


@user_facing
def hessian(fun: Callable, argnums: Argnums = 0, *, backend: str = "python", cache_dir: Any = None) -> Callable:
    """The Hessian of a function with a scalar output: forward over reverse, `jacfwd(grad(fun))`.

    Args:
        fun: The function, as for `grad`.
        argnums: What to differentiate: a position, a name, or a tuple of those, which gives
            nested tuples `H[i][j]` = d²f/dxᵢdxⱼ of shape `xᵢ.shape + xⱼ.shape`.
        backend: "python" or "numba": the forward-over-reverse code compiled by Numba.
        cache_dir: Numba's on-disk cache, as for `grad`.

    Returns:
        A function of `fun`'s arguments returning the Hessian, of shape `x.shape + x.shape`.

    Raises:
        ArgnumsError: `argnums` does not name parameters of `fun` (raised by `hessian`).
        NonScalarOutput: (from the call) the output is not one number: for the second
            derivatives of each output, `jacfwd(jacrev(f))`.

    Examples:
        >>> import numpy as np
        >>> import s2sad
        >>> def cubes(x):
        ...     return np.sum(x ** 3)
        >>> s2sad.hessian(cubes)(np.array([1.0, 2.0]))
        array([[ 6.,  0.],
               [ 0., 12.]])
    """
    inner = Transformed(fun, GRAD, argnums, inline=backend == "numba")  # one function for Numba: helpers inlined
    return Hessian(inner, argnums, target_of(fun), backend, cache_dir)


@user_facing
def elementwise_grad(fun: Callable, argnums: Argnums = 0) -> Callable:
    """The gradient of `sum(fun(*args))`: for a function acting entry by entry, each entry's derivative.

    That is the diagonal of the Jacobian of such a function, from one pullback.

    Args:
        fun: The function, as for `grad`; its output may be an array.
        argnums: What to differentiate: a position, a name, or a tuple of those.

    Returns:
        A function of `fun`'s arguments returning the gradient of the sum of the output.

    Raises:
        ArgnumsError: `argnums` does not name parameters of `fun`.

    Examples:
        >>> import numpy as np
        >>> import s2sad
        >>> def squares(x):
        ...     return x * x
        >>> s2sad.elementwise_grad(squares)(np.array([1.0, -2.0]))
        array([ 2., -4.])
    """
    return ElementwiseGrad(fun, argnums)


class Hvp:
    """The Hessian of `fun` times a vector (see `hvp` and `hessp`)."""

    __s2sad_jacobian__ = True

    def __init__(self, fun: object, argnums: Argnums, vector_first: bool, backend: str = "python",
                 cache_dir: Any = None) -> None:
        cache_dir = check_backend(backend, cache_dir)
        self.target = target_of(fun)
        self.argnums = argnums
        self.gradient = Transformed(fun, GRAD, argnums, inline=backend == "numba")
        self.shapes: dict[tuple, Hvp] | None = {} if is_variadic(self.target) else None
        if self.shapes is None:
            self.positions, self.single = _positions(self.target, argnums)
        self.vector_first = vector_first
        self.made = Forwards(backend, cache_dir)
        functools.update_wrapper(self, self.target.fun, updated=())

    @user_facing
    def __call__(self, *args, **kwargs):
        if self.vector_first:  # hessp(x, p, *args)
            if len(args) < 2:
                raise TypeError(f"hessp: call it as hessp(x, p, *args); got {len(args)} arguments")
            v, args = args[1], (args[0], *args[2:])
        else:  # h(*args, v)
            if not args:
                raise TypeError("hvp: call it as h(*args, v); got no arguments")
            *args, v = args  # type: ignore[assignment]  # a list, made a tuple below
        return self.product(tuple(args), kwargs, v)

    def product(self, args: tuple, kwargs: dict, v):
        """The Hessian at `args` times `v`."""
        if self.shapes is not None:
            shape, kwargs = call_shape(self.target, args, kwargs)
            if shape not in self.shapes:
                argnums = api.shaped_argnums(self.target, shape, self.argnums)
                self.shapes[shape] = Hvp(shaped(self.target.fun, shape), argnums, self.vector_first, self.made.backend,
                                         self.made.cache_dir)
            return self.shapes[shape].product(args, kwargs, v)
        args, kwargs = api.bind(self.target, args, kwargs)
        directions = (v,) if self.single else _directions(v, len(self.positions))
        return tangent(self.gradient, args, kwargs, [dict(zip(self.positions, directions))], self.made)


@user_facing
def hvp(fun: Callable, argnums: Argnums = 0, *, backend: str = "python", cache_dir: Any = None) -> Callable:
    """The Hessian of a function times a vector, by one `jvp` of `grad`, without forming the Hessian.

    The vector comes last: `hvp(f)(*args, v)`, which is how
    `scipy.optimize.minimize(..., hessp=...)` calls a function of one argument.

    Args:
        fun: The function, as for `grad`, with a scalar output.
        argnums: What to differentiate: a position or a name; or a tuple of those, and then
            `v` is a tuple with one direction per argument in `argnums` and the result a tuple
            with one product per argument, `sum_j H[i][j] @ v[j]`.
        backend: "python" or "numba": the forward-over-reverse code compiled by Numba.
        cache_dir: Numba's on-disk cache, as for `grad`.

    Returns:
        A function `h(*args, v, **kwargs)` returning the product, of `v`'s shape.

    Raises:
        ArgnumsError: `argnums` does not name parameters of `fun`.
        TypeError: (from the call) no arguments.
        ValueError: (from the call) with a tuple `argnums`, `v` is not a tuple of as many
            directions.

    Examples:
        >>> import numpy as np
        >>> import s2sad
        >>> def cubes(x):
        ...     return np.sum(x ** 3)
        >>> s2sad.hvp(cubes)(np.array([1.0, 2.0]), np.array([1.0, 0.0]))
        array([6., 0.])
    """
    return Hvp(fun, argnums, vector_first=False, backend=backend, cache_dir=cache_dir)


@user_facing
def hessp(fun: Callable, *, backend: str = "python", cache_dir: Any = None) -> Callable:
    """The Hessian of a function in its first argument times a vector, in SciPy's order.

    `hessp(f)(x, p, *args)` is the Hessian of `f(x, *args)` in `x` times `p`: the signature
    `scipy.optimize.minimize(f, x0, args=args, hessp=...)` calls (with `args=`, the
    vector-last order of `hvp` does not fit).

    Args:
        fun: The function, as for `grad`, with a scalar output.
        backend: "python" or "numba", as for `hvp`.
        cache_dir: Numba's on-disk cache, as for `grad`.

    Returns:
        A function `hessp(x, p, *args, **kwargs)` returning the product, of `x`'s shape.

    Raises:
        TypeError: (from the call) fewer than two arguments.

    Examples:
        >>> import numpy as np
        >>> import s2sad
        >>> def weighted_cubes(x, w):
        ...     return np.sum(w * x ** 3)
        >>> s2sad.hessp(weighted_cubes)(np.array([1.0, 2.0]), np.array([1.0, 0.0]), 2.0)
        array([12.,  0.])
    """
    return Hvp(fun, 0, vector_first=True, backend=backend, cache_dir=cache_dir)


def _directions(v, count: int) -> tuple:
    if not isinstance(v, (tuple, list)) or len(v) != count:
        raise ValueError(f"hvp: with {count} arguments in argnums, the vector (the last argument) must be a tuple "
                         f"of {count} directions, one per argument; got {type(v).__name__}")
    return tuple(v)
