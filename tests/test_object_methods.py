"""Methods of objects known only when the code runs, and dataclasses or namedtuples made inside.

`for layer in layers: x = layer.forward(x)` with `layers` an argument: which `forward` runs is
known only then. The call becomes a function value (`runtime.method_value`, then `call_value`):
the bound method where the object carries no derivative (its attributes are constants, as
`self.w` is in a method), or the function its class defines, with the object passed first, where
the object is itself differentiated (a dataclass or namedtuple in argnums, or one made inside
from differentiated values, `Dense(w, b)`, which is built field by field: `runtime.make_record`).

Each program is checked in every mode: grad against central finite differences in a random
direction, jvp against grad by the dot-product identity, vjp, hessian against finite
differences of the gradient, and the cached second call.
"""

import functools
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pytest

import s2sad
from s2sad.errors import MissingRule, UnsupportedValue
from s2sad.runtime import map_structure

RNG = np.random.default_rng(7)
W1, W2 = RNG.normal(size=(3, 3)), RNG.normal(size=(3, 3))
B1, B2 = RNG.normal(size=3), RNG.normal(size=3)
X = RNG.normal(size=3)


class Layer:
    def __init__(self, w):
        self.w = w

    def forward(self, x):
        return np.tanh(self.w @ x)


class Scale:
    def __init__(self, s):
        self.s = s
        self.act = np.sin  # an attribute holding a function

    def forward(self, x):
        return self.s * self.act(x)


@dataclass
class Dense:
    w: np.ndarray
    b: np.ndarray

    def forward(self, x):
        return np.tanh(self.w @ x + self.b)


class Linear(NamedTuple):
    w: np.ndarray

    def forward(self, x):
        return self.w @ x


def run(layers, x):
    for layer in layers:
        x = layer.forward(x)
    return np.sum(x ** 2)


def built_inside(w1, b1, w2, b2, x):
    layers = [Dense(w1, b1), Dense(w2, b=b2), Linear(w1)]
    for layer in layers:
        x = layer.forward(x)
    return np.sum(x ** 2)


def _flat(tree) -> np.ndarray:
    leaves: list = []
    map_structure(leaves.append, tree)
    return np.concatenate([np.ravel(leaf) for leaf in leaves])


def _shift(args: tuple, i: int, u, h: float) -> tuple:
    return (*args[:i], map_structure(lambda a, d: a + h * d, args[i], u), *args[i + 1:])


def _fd(f, args: tuple, i: int, u, h: float = 1e-6):
    return (np.asarray(f(*_shift(args, i, u, h))) - np.asarray(f(*_shift(args, i, u, -h)))) / (2 * h)


def check_every_mode(f, args: tuple, i: int) -> None:
    """Derivatives in argument `i` in every mode, against each other and finite differences."""
    u = map_structure(lambda a: RNG.normal(size=np.shape(a)), args[i])
    g = s2sad.grad(f, argnums=i)(*args)
    assert np.isclose(_flat(g) @ _flat(u), _fd(f, args, i, u), rtol=1e-6, atol=1e-8)
    rest = functools.partial(f, *args[:i])  # jvp and vjp take every argument they are given
    value, tangent = s2sad.jvp(rest, args[i:], (u, *(map_structure(np.zeros_like, a) for a in args[i + 1:])))
    assert np.isclose(value, f(*args)) and np.isclose(tangent, _flat(g) @ _flat(u), rtol=1e-10)
    value, pullback = s2sad.vjp(rest, *args[i:])
    np.testing.assert_allclose(_flat(pullback(2.0)[0]), 2.0 * _flat(g), rtol=1e-12)
    np.testing.assert_allclose(_flat(s2sad.grad(f, argnums=i)(*args)), _flat(g), rtol=1e-12)  # cached
    if isinstance(args[i], np.ndarray):
        hessian = s2sad.hessian(f, argnums=i)(*args)
        gradient = s2sad.grad(f, argnums=i)
        np.testing.assert_allclose(np.tensordot(hessian, u, axes=u.ndim), _fd(gradient, args, i, u), rtol=1e-5,
                                   atol=1e-7)


def test_layers_from_a_list_argument_are_dispatched_when_the_code_runs():
    """Plain objects of two classes; their attributes are constants, the input is differentiated."""
    layers = [Layer(W1), Scale(1.5), Layer(W2)]
    check_every_mode(run, (layers, X), 1)


def test_dataclass_layers_in_a_list_argument_get_gradients_of_their_fields():
    layers = [Dense(W1, B1), Dense(W2, B2), Linear(W1)]
    check_every_mode(run, (layers, X), 0)
    grads = s2sad.grad(run)(layers, X)
    assert [type(g) for g in grads] == [Dense, Dense, Linear] and grads[0].w.shape == (3, 3)


@pytest.mark.parametrize("i", range(5))
def test_dataclasses_and_namedtuples_made_inside_carry_their_fields_derivatives(i):
    check_every_mode(built_inside, (W1, B1, W2, B2, X), i)


@dataclass
class Hidden:
    w: np.ndarray
    b: np.ndarray

    def forward(self, xs):
        return np.tanh(self.w @ xs + self.b[:, None])


def loss(layers, xs, ys):
    h = xs
    for layer in layers:
        h = layer.forward(h)
    return np.mean((h[0] - ys) ** 2)


def test_a_network_of_layer_objects_trains():
    """The realistic program: a two-layer network whose layers are dataclasses in a list,
    trained by gradient descent on its weights; the loss falls and every gradient is exact."""
    inputs = RNG.normal(size=(3, 8))
    targets = np.sin(inputs.sum(axis=0))

    layers = [Hidden(W1 * 0.5, B1 * 0.1), Hidden(W2 * 0.5, B2 * 0.1)]
    before = loss(layers, inputs, targets)
    step = s2sad.grad(loss)
    for _ in range(30):
        grads = step(layers, inputs, targets)
        layers = [Hidden(layer.w - 0.2 * g.w, layer.b - 0.2 * g.b) for layer, g in zip(layers, grads)]
    assert loss(layers, inputs, targets) < 0.7 * before
    check_every_mode(loss, (layers, inputs, targets), 0)


def test_a_plain_object_in_argnums_is_refused_naming_its_class():
    with pytest.raises(UnsupportedValue, match="it holds a Layer") as info:
        s2sad.grad(run)([Layer(W1)], X)
    assert "dataclass or a NamedTuple" in info.value.hint


@dataclass
class Odd:
    w: np.ndarray

    def __post_init__(self):
        self.act = np.tanh


def calls_an_attribute_of_a_differentiated_record(w, x):
    layer = Odd(w)
    return np.sum(layer.act(layer.w @ x))


def test_a_method_that_is_no_function_of_a_differentiated_object_is_refused_at_its_line():
    """`Odd` has a `__post_init__`: it is not made field by field, so its construction is refused."""
    with pytest.raises(MissingRule, match="Odd") as info:
        s2sad.grad(calls_an_attribute_of_a_differentiated_record)(W1, X)
    assert info.value.where.line == calls_an_attribute_of_a_differentiated_record.__code__.co_firstlineno + 1


def draws(mu, rng):
    return np.sum(rng.normal(mu, 1.0, size=3))


def test_a_library_method_with_a_differentiated_argument_is_refused_at_the_call():
    with pytest.raises(MissingRule, match=r"the method call \.normal\(\.\.\.\) on a Generator") as info:
        s2sad.grad(draws)(0.3, np.random.default_rng(0))
    assert info.value.where.line == draws.__code__.co_firstlineno + 1
    assert "rng.standard_normal" in info.value.hint
