"""Functions as values: lambdas, partials, callable objects and methods as targets; functions
passed as arguments, picked from dicts and lists, held in locals, given as defaults and made by
`s2sad.grad` inside differentiated code (each specialised to where it is built); generator
expressions given to max/min/sum; the refusals (a generator function, a lambda with no source).
"""

import functools

import numpy as np
import pytest

import s2sad
from s2sad.errors import NoSource, UnsupportedSyntax
from s2sad.testing import check_grads

X = np.array([0.3, -0.5, 0.2])


# ------------------------------------------------------------------ targets


def scaled(x, a=2.0):
    return np.sum(np.sin(x) * a)


class Model:
    K = 2.0

    def __init__(self, w):
        self.w = w

    def __call__(self, x):
        return np.sum(x ** 2) * self.w

    def loss(self, x):
        return np.sum(np.cos(x)) * self.w

    @staticmethod
    def cube(x):
        return np.sum(x ** 3)

    @classmethod
    def scaled_cube(cls, x):
        return np.sum(x ** 3) * cls.K


ACTS = {"tanh": lambda v: np.tanh(v), "square": lambda v: v ** 2}


def test_grad_of_a_lambda_in_every_mode():
    f = lambda x: np.sum(np.sin(x) * x)  # noqa: E731 - a lambda is the point
    np.testing.assert_allclose(s2sad.grad(f)(X), np.cos(X) * X + np.sin(X), rtol=1e-12)
    check_grads(f, [X], order=2)
    np.testing.assert_allclose(s2sad.hessian(f)(X), np.diag(-np.sin(X) * X + 2 * np.cos(X)), rtol=1e-10)


def test_two_lambdas_on_one_line_are_told_apart():
    g2, g3 = s2sad.grad(lambda x: np.sum(x ** 2)), s2sad.grad(lambda x: np.sum(x ** 3))
    np.testing.assert_allclose(g2(X), 2 * X)
    np.testing.assert_allclose(g3(X), 3 * X ** 2)


def test_lambda_inside_a_dict_display():
    np.testing.assert_allclose(s2sad.grad(ACTS["square"])(1.5), 3.0)
    np.testing.assert_allclose(s2sad.grad(lambda x: np.sum(ACTS["tanh"](x)))(X), 1 - np.tanh(X) ** 2, rtol=1e-12)


def test_partial_with_a_bound_keyword_and_a_bound_position():
    np.testing.assert_allclose(s2sad.grad(functools.partial(scaled, a=3.0))(X), 3 * np.cos(X), rtol=1e-12)
    check_grads(functools.partial(scaled, a=3.0), [X])
    shifted = functools.partial(lambda a, x: np.sum(a * x ** 2), 0.5)
    np.testing.assert_allclose(s2sad.grad(shifted)(X), X, rtol=1e-12)


def test_object_with_call_and_methods():
    model = Model(3.0)
    np.testing.assert_allclose(s2sad.grad(model)(X), 6 * X, rtol=1e-12)
    check_grads(model, [X], order=2)
    np.testing.assert_allclose(s2sad.grad(Model.loss, argnums=1)(model, X), -3 * np.sin(X), rtol=1e-12)
    np.testing.assert_allclose(s2sad.grad(Model.cube)(X), 3 * X ** 2, rtol=1e-12)
    np.testing.assert_allclose(s2sad.grad(Model.scaled_cube)(X), 6 * X ** 2, rtol=1e-12)


def test_lambda_without_source_is_refused_saying_where_it_works():
    scope = {"np": np}
    exec("f = lambda x: x ** 2", scope)  # noqa: S102 - code with no source, like a `python` prompt's
    with pytest.raises(NoSource, match="IPython or Jupyter"):
        s2sad.grad(scope["f"])(1.0)


# ------------------------------------------------------------------ functions inside differentiated code


def rk4(rhs, y, h, theta):
    k1 = rhs(y, theta)
    k2 = rhs(y + h / 2 * k1, theta)
    k3 = rhs(y + h / 2 * k2, theta)
    k4 = rhs(y + h * k3, theta)
    return y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def decay(y, theta):
    return -theta * y + np.sin(y)


def integrate(rhs, y0, theta, steps=5):
    y = y0
    for _ in range(steps):
        y = rk4(rhs, y, 0.1, theta)
    return np.sum(y ** 2)


def integrate_decay(y0, theta):
    return integrate(decay, y0, theta)


def test_rk4_with_the_right_hand_side_passed_as_an_argument():
    check_grads(integrate_decay, [X, 0.7], order=2)
    check_grads(lambda y0, theta: integrate(decay, y0, theta), [X, 0.7])
    by_value = s2sad.grad(integrate, argnums=(1, 2))(decay, X, 0.7)
    by_name = s2sad.grad(integrate_decay, argnums=(0, 1))(X, 0.7)
    np.testing.assert_allclose(by_value[0], by_name[0], rtol=1e-12)
    np.testing.assert_allclose(by_value[1], by_name[1], rtol=1e-12)
    h = 1e-6
    slope = (integrate(decay, X, 0.7 + h) - integrate(decay, X, 0.7 - h)) / (2 * h)
    np.testing.assert_allclose(by_value[1], slope, rtol=1e-6)


def test_rk4_specialised_to_each_right_hand_side():
    def growth(y, theta):
        return theta * y ** 2

    first = s2sad.grad(integrate, argnums=1)(decay, X, 0.7)
    second = s2sad.grad(integrate, argnums=1)(growth, X, 0.7)
    assert not np.allclose(first, second)
    np.testing.assert_allclose(s2sad.grad(integrate, argnums=1)(decay, X, 0.7), first)


ACTIVATIONS = {"tanh": np.tanh, "square": lambda v: v ** 2, "sin": np.sin}


def activate(x, name):
    return np.sum(ACTIVATIONS[name](x) * x)


@pytest.mark.parametrize("name", ["tanh", "square", "sin"])
def test_dict_of_activations_picked_by_name(name):
    check_grads(lambda x: activate(x, name), [X], order=2)
    got = s2sad.grad(activate)(X, name)
    h = 1e-6
    slope = [(activate(X + h * e, name) - activate(X - h * e, name)) / (2 * h) for e in np.eye(3)]
    np.testing.assert_allclose(got, slope, rtol=1e-6)


def with_default(x, nonlinearity=np.tanh):
    return np.sum(nonlinearity(x))


def test_function_as_a_default_and_passed_by_keyword():
    np.testing.assert_allclose(s2sad.grad(with_default)(X), 1 - np.tanh(X) ** 2, rtol=1e-12)
    np.testing.assert_allclose(s2sad.grad(with_default)(X, nonlinearity=np.sin), np.cos(X), rtol=1e-12)
    np.testing.assert_allclose(s2sad.grad(with_default)(X, np.exp), np.exp(X), rtol=1e-12)


def residual(x):
    return np.sum(x ** 3)


def uses_a_derivative(x):
    dres = s2sad.grad(residual)
    return np.sum(dres(x) * x)


def local_activation(x):
    act = ACTIVATIONS["sin"]
    return np.sum(act(x) ** 2)


def test_function_values_held_in_locals():
    np.testing.assert_allclose(s2sad.grad(uses_a_derivative)(X), 9 * X ** 2, rtol=1e-12)
    check_grads(uses_a_derivative, [X])
    np.testing.assert_allclose(s2sad.grad(local_activation)(X), 2 * np.sin(X) * np.cos(X), rtol=1e-12)
    check_grads(local_activation, [X], order=2)


class Dense:
    def __init__(self, w, act):
        self.w, self.act = w, act

    def forward(self, x):
        return self.act(self.w @ x)


LAYERS = [Dense(np.array([[0.5, -0.2, 0.1], [0.3, 0.8, -0.4]]), np.tanh),
          Dense(np.array([[1.2, -0.7]]), ACTIVATIONS["square"])]


def network(x):
    return np.sum(LAYERS[1].forward(LAYERS[0].forward(x)))


def test_network_whose_layers_are_objects_in_a_list():
    check_grads(network, [X], order=2)
    hidden = np.tanh(LAYERS[0].w @ X)
    outer = 2 * (LAYERS[1].w @ hidden)
    expected = ((outer * LAYERS[1].w) @ np.diag(1 - hidden ** 2)) @ LAYERS[0].w
    np.testing.assert_allclose(s2sad.grad(network)(X), expected.ravel(), rtol=1e-12)


# ------------------------------------------------------------------ generators


def doubled(x):
    for v in x:
        yield v * 2


def sums_a_generator(x):
    return sum(list(doubled(x)))


def extremes(x):
    return max(xi ** 2 for xi in x) + min(xi for xi in x) + sum(xi * 3 for xi in x)


def test_generator_expressions_given_to_max_min_sum():
    np.testing.assert_allclose(s2sad.grad(extremes)(X), [3.0, 3.0, 3.0])
    check_grads(extremes, [X])


def pairs(x):
    for i in range(len(x) - 1):
        if x[i] > 0:
            yield x[i] * x[i + 1]
        else:
            yield np.sin(x[i])
    yield from doubled(x[:2])


def stops(x):
    for v in x:
        if v > 10.0:
            return
        yield v ** 2


def consumes_generators(x):
    total = 0.0
    for a, b in zip(doubled(x), pairs(x)):
        total = total + a * b
    return total + sum(p for p in pairs(x)) + max(stops(x)) + sum(tuple(doubled(x)))


def sends(x):
    got = yield x
    yield got


def test_a_helper_that_yields_gives_the_list_of_its_values():
    """A generator helper is read as the function returning the list of what it yields (see
    `front.generators`): `yield`, `yield from`, a `return` that ends the values."""
    np.testing.assert_allclose(s2sad.grad(sums_a_generator)(X), 2.0 * np.ones_like(X))
    check_grads(sums_a_generator, [X], order=2)
    check_grads(consumes_generators, [np.array([0.3, -0.7, 1.1, 0.5])], order=2)


def test_a_yield_used_as_a_value_is_refused_at_its_line():
    with pytest.raises(UnsupportedSyntax, match="a `yield` used as a value") as err:
        s2sad.grad(sends)(0.3)
    assert err.value.lineno == sends.__code__.co_firstlineno + 1


def test_code_is_rebuilt_when_a_picked_function_is_rebound():
    table = {"act": np.sin}
    layer = Dense(np.eye(3), np.tanh)

    def picked(x):
        return np.sum(table["act"](x)) + np.sum(layer.act(x))

    g = s2sad.grad(picked)
    np.testing.assert_allclose(g(X), np.cos(X) + 1 - np.tanh(X) ** 2, rtol=1e-12)
    table["act"], layer.act = np.exp, np.sin
    np.testing.assert_allclose(g(X), np.exp(X) + np.cos(X), rtol=1e-12)


# ------------------------------------------------------------------ nested def and lambda, map, reduce


def closure_over_an_active_local(x, w):
    g = lambda t: np.sin(t) * w  # noqa: E731 - a lambda is the point
    return np.sum(g(x) + g(x * 2))


def nested_def_late_binding(x, w):
    scale = w * 2

    def h(t, k=3.0):
        u = t * scale
        return u ** 2 + k

    y = h(x) + h(x, k=1.0)
    scale = w  # read by the next call, as Python's closures do
    return np.sum(y + h(x))


def mapped(x):
    squares = list(map(lambda v: v ** 2, [x[0], x[1]]))
    return sum(squares) + sum(map(np.sin, [x[0], x[2]])) + sum(map(lambda a, b: a * b, [x[0], x[1]], [x[1], x[2]]))


def folded(x):
    product = functools.reduce(lambda a, b: a * b, [x[0], x[1], x[2]])
    return product + functools.reduce(lambda a, b: a + b ** 2, [x[0], x[1]], 1.0)


def returns_its_lambda(x):
    g = lambda t: t * 2  # noqa: E731
    return g


@pytest.mark.parametrize("fun, args", [(closure_over_an_active_local, [X, 0.7]), (nested_def_late_binding, [X, 0.7]),
                                       (mapped, [X]), (folded, [X])])
def test_nested_functions_map_and_reduce_in_every_mode(fun, args):
    check_grads(fun, args, order=2)


def test_nested_functions_match_closed_forms():
    w = 0.7
    np.testing.assert_allclose(s2sad.grad(closure_over_an_active_local)(X, w),
                               w * (np.cos(X) + 2 * np.cos(2 * X)), rtol=1e-12)
    np.testing.assert_allclose(s2sad.grad(closure_over_an_active_local, argnums=1)(X, w),
                               np.sum(np.sin(X) + np.sin(2 * X)), rtol=1e-12)
    np.testing.assert_allclose(s2sad.grad(nested_def_late_binding)(X, w), 18 * w ** 2 * X, rtol=1e-12)
    np.testing.assert_allclose(s2sad.grad(folded)(X), [X[1] * X[2] + 2 * X[0], X[0] * X[2] + 2 * X[1], X[0] * X[1]])


def rebinds_its_parameter(x, w):
    def g(v, k=2.0):
        v = v * k  # the parameter rebound: it was read before assignment (an IRError)
        for _ in range(2):
            v = v + w
        return v * v

    return np.sum(g(x) + g(x * w, k=w))


def factory_rebinding_its_parameter(w):
    w = w * 2.0

    def scaled(v):
        return v * w

    return scaled


def calls_a_rebinding_factory(x, w):
    f = factory_rebinding_its_parameter(w)
    return np.sum(f(x))


def test_a_nested_function_or_factory_may_rebind_its_parameter():
    check_grads(rebinds_its_parameter, [X, 0.7], order=2)
    check_grads(calls_a_rebinding_factory, [X, 0.7], order=2)
    w = 0.7
    closed = 2 * (2 * X + 2 * w) * 2 + 2 * (X * w * w + 2 * w) * w * w
    np.testing.assert_allclose(s2sad.grad(rebinds_its_parameter)(X, w), closed, rtol=1e-12)
    np.testing.assert_allclose(s2sad.grad(calls_a_rebinding_factory, argnums=1)(X, w), 2 * np.sum(X), rtol=1e-12)


def test_a_nested_function_used_as_a_value_is_refused_at_its_use():
    with pytest.raises(UnsupportedSyntax, match="nested function 'g' used as a value") as err:
        s2sad.grad(returns_its_lambda)(X)
    assert err.value.text.strip() == "return g"


def layers_in_a_loop(x):
    for layer in LAYERS:
        x = layer.forward(x)
    return np.sum(x)


STEPS = (np.sin, lambda v: v * 2.0, np.tanh)


def functions_in_a_loop(x):
    for step in STEPS:
        x = step(x)
    return np.sum(x * x)


def test_loop_over_a_list_of_layers_and_of_functions():
    np.testing.assert_allclose(s2sad.grad(layers_in_a_loop)(X), s2sad.grad(network)(X), rtol=1e-12)
    check_grads(layers_in_a_loop, [X], order=2)
    check_grads(functions_in_a_loop, [X], order=2)
    y = np.tanh(2 * np.sin(X))
    np.testing.assert_allclose(s2sad.grad(functions_in_a_loop)(X), 2 * y * (1 - y ** 2) * 2 * np.cos(X), rtol=1e-12)


def test_hessian_of_a_wrapper_of_a_function_taking_a_function():
    hessian = s2sad.hessian(lambda y0, theta: integrate(decay, y0, theta), argnums=1)(X, 0.7)
    h = 1e-4
    slope = (s2sad.grad(integrate, argnums=2)(decay, X, 0.7 + h) - s2sad.grad(integrate, argnums=2)(decay, X, 0.7 - h))
    np.testing.assert_allclose(hessian, slope / (2 * h), rtol=1e-6)


def sorts(x):
    by_square = sorted([x[0], x[1] * 2, x[2]], key=lambda v: v ** 2)
    largest_first = sorted([x[0], x[1], x[2]], reverse=True)
    return by_square[0] * 3 + by_square[2] + largest_first[0] * 5


def test_sorted_with_a_key_and_reverse():
    np.testing.assert_allclose(s2sad.grad(sorts)(X), [5.0, 2.0, 3.0])
    check_grads(sorts, [X], order=2)


def make_rhs(stiffness):
    def rhs(y, theta):
        return -stiffness * theta * y
    return rhs


STIFF = make_rhs(3.0)


def test_function_returned_by_a_factory():
    check_grads(lambda y0, theta: integrate(STIFF, y0, theta), [X, 0.7], order=2)
    np.testing.assert_allclose(s2sad.grad(integrate, argnums=2)(STIFF, X, 0.7),
                               s2sad.grad(integrate, argnums=2)(make_rhs(3.0), X, 0.7), rtol=1e-12)


def calls_a_factory_result(y0, theta):
    rhs = make_rhs(theta)
    return np.sum(rhs(y0, 1.0))


def test_a_factory_result_is_differentiated_through_what_it_closes_over():
    check_grads(calls_a_factory_result, [X, 0.7], order=2)
    np.testing.assert_allclose(s2sad.grad(calls_a_factory_result, argnums=1)(X, 0.7), -np.sum(X))


def vector_field(x):
    return ACTIVATIONS["tanh"](x) * LAYERS[0].act(x[0])


VALUE_TARGETS = [
    ("lambda", lambda x: np.sum(np.sin(x) * x), lambda x: np.cos(x) * x + np.sin(x)),
    ("partial", functools.partial(scaled, a=3.0), lambda x: 3 * np.cos(x)),
    ("callable object", Model(3.0), lambda x: 6 * x),
    ("rk4 with a known rhs", integrate_decay, None),
    ("dict of activations", lambda x: activate(x, "sin"), lambda x: np.sin(x) + x * np.cos(x)),
]


@pytest.mark.parametrize("name, fun, closed", VALUE_TARGETS, ids=[t[0] for t in VALUE_TARGETS])
def test_value_and_grad_vjp_and_jacobians_agree(name, fun, closed):
    args = (X, 0.7) if name.startswith("rk4") else (X,)
    value, gradient = s2sad.value_and_grad(fun)(*args)
    assert value == pytest.approx(fun(*args), rel=1e-12)
    np.testing.assert_allclose(gradient, s2sad.grad(fun)(*args), rtol=1e-12)
    out, pullback = s2sad.vjp(fun, *args)
    np.testing.assert_allclose(pullback(1.0)[0], gradient, rtol=1e-12)
    np.testing.assert_allclose(s2sad.jacfwd(fun)(*args), gradient, rtol=1e-10)
    np.testing.assert_allclose(s2sad.hessian(fun)(*args), s2sad.jacrev(s2sad.grad(fun))(*args), rtol=1e-8, atol=1e-12)
    if closed is not None:
        np.testing.assert_allclose(gradient, closed(X), rtol=1e-12)


def test_jacobians_of_a_vector_function_calling_picked_functions():
    expected = np.diag((1 - np.tanh(X) ** 2) * np.tanh(X[0]))
    expected[:, 0] += np.tanh(X) * (1 - np.tanh(X[0]) ** 2)
    np.testing.assert_allclose(s2sad.jacfwd(vector_field)(X), expected, rtol=1e-12)
    np.testing.assert_allclose(s2sad.jacrev(vector_field)(X), expected, rtol=1e-12)
