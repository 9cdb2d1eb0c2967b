"""Derivatives built for the shapes of their arguments (back/specialise.py, analyses/shapes.py,
analyses/shifts.py).

Each rewrite is an identity: the code built for the call's shapes gives what the code built for
any shape gives, on the same inputs, in every mode (to 1e-12, relative), and both agree with
finite differences. Golden files show that the specialised code is what a person writes by
hand: no `unbroadcast`, `unreduce`, `add_at` or `seed` where the shapes answer them.
"""

import numpy as np
import pytest

import s2sad
from s2sad import api
from s2sad.analyses import shapes
from s2sad.analyses.shifts import cancelling_shifts
from s2sad.testing import check_grads
from tests.conftest import run_main
from tests.fixtures import specialised as fx

RNG = np.random.default_rng(7)


def _network_args(batch=6, width=5, classes=4, features=3):
    rng = np.random.default_rng(3)
    params = {"w1": rng.normal(size=(features, width)), "b1": rng.normal(size=width),
              "w2": rng.normal(size=(width, classes)), "b2": rng.normal(size=classes)}
    y = np.eye(classes)[rng.integers(0, classes, batch)]
    return params, rng.normal(size=(batch, features)), y


CASES = {
    "rosen": (fx.rosen, lambda: (RNG.random(12),), 0),
    "rnn": (fx.rnn, lambda: (RNG.normal(size=(3, 4)) * 0.5, RNG.normal(size=(4, 4)) * 0.5, RNG.normal(size=4),
                             RNG.normal(size=(5, 2, 3))), (0, 1, 2)),
    "affine": (fx.affine, lambda: (RNG.normal(size=(3, 4)), RNG.normal(size=4), RNG.normal(size=(5, 3))), (0, 1)),
    "scaled_rows": (fx.scaled, lambda: (RNG.normal(size=(4, 5)), RNG.normal(size=(4, 1))), (0, 1)),
    "scaled_lead_and_kept": (fx.scaled, lambda: (RNG.normal(size=(2, 4, 5)), RNG.normal(size=(4, 1))), (0, 1)),
    "scaled_by_row": (fx.scaled, lambda: (RNG.normal(size=(4, 5)), RNG.normal(size=5)), (0, 1)),
    "scalar_loop": (fx.scalar_loop, lambda: (0.3, 0.7, 6), (0, 1)),
    "softmax": (fx.softmax_score, lambda: (RNG.normal(size=(3, 4)), RNG.normal(size=(3, 4))), 0),
    "logsumexp": (fx.logsumexp, lambda: (RNG.normal(size=7),), 0),
    "column_means": (fx.column_means, lambda: (RNG.normal(size=(4, 3)),), 0),
    "shift_used_elsewhere": (fx.shift_used_elsewhere, lambda: (RNG.normal(size=(3, 4)),), 0),
    "shift_over_other_axis": (fx.shift_over_other_axis, lambda: (RNG.normal(size=(3, 4)),), 0),
    "matrix_vector": (fx.matrix_vector, lambda: (RNG.normal(size=(3, 4)), RNG.normal(size=4), RNG.normal(size=3)),
                      (0, 1, 2)),
    "as_methods": (fx.reductions_as_methods, lambda: (RNG.normal(size=(3, 4)), RNG.normal(size=3)), (0, 1)),
    "invariant_arrays": (fx.invariant_arrays, lambda: (RNG.normal(size=6), RNG.normal(size=6)), (0, 1)),
    "invariant_written_in_place": (fx.invariant_written_in_place,
                                   lambda: (RNG.normal(size=6), RNG.normal(size=6)), (0, 1)),
    "invariant_read_by_a_view": (fx.invariant_read_by_a_view, lambda: (RNG.normal(size=6), RNG.normal(size=6)),
                                 (0, 1)),
    "tuple_in_loop": (fx.tuple_in_loop, lambda: (RNG.normal(size=6), RNG.normal(size=6)), (0, 1)),
    "reversed_writes": (fx.reversed_writes, lambda: (RNG.normal(size=(4, 3)), RNG.normal(size=(5, 3))), (0, 1)),
    "log_loss": (fx.log_loss, lambda: (RNG.normal(size=4), RNG.normal(size=(6, 4)) * 30,
                                       (RNG.random(6) < 0.5).astype(float)), 0),
}


def _both(derivative, args):
    """(specialised, generic) results of `derivative` at `args`."""
    kinds = tuple(map(api._kind, args))
    return derivative.built_for(args, {}).fun(*args), derivative.built(kinds, None).fun(*args)


def _close(a, b):
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _close(a[k], b[k])
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _close(x, y)
    else:
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("mode", ["grad", "value_and_grad"])
def test_specialised_equals_generic_in_reverse(name, mode):
    fun, make, argnums = CASES[name]
    derivative = getattr(s2sad, mode)(fun, argnums=argnums)
    special, generic = _both(derivative, make())
    _close(special, generic)


@pytest.mark.parametrize("name", sorted(CASES))
def test_specialised_equals_generic_in_forward(name):
    fun, make, argnums = CASES[name]
    args = make()
    positions = argnums if isinstance(argnums, tuple) else (argnums,)
    derivative = api.Transformed(fun, "jvp", positions)
    tangents = tuple(RNG.normal(size=np.shape(args[i])) for i in positions)
    special, generic = _both(derivative, args + tangents)
    _close(special, generic)


SHAPE_HELPERS = ("unbroadcast(", "unbroadcast_to(", "unreduce(", "seed(", "add_at(", "like_structure(",
                 "zeros_like(", "matmul_adjoint", "_shape", "zero_item(")


@pytest.mark.parametrize("name", sorted(set(CASES) - {"shift_over_other_axis", "scalar_loop", "as_methods"}
                                         - {n for n in CASES if n.startswith("invariant")} - {"tuple_in_loop"}))
# a sum over a spread number; numbers (not arrays); a sum down to a number and a reshape's adjoint;
# loops (zeros for an adjoint accumulated over trips)
def test_specialised_gradient_asks_no_shape_questions(name):
    fun, make, argnums = CASES[name]
    source = s2sad.grad(fun, argnums=argnums).source_for(*make())
    left = [h for h in SHAPE_HELPERS if h in source.replace("np.zeros_like(", "")]
    assert left == [], source


@pytest.mark.parametrize("name", sorted(CASES))
def test_specialised_derivatives_agree_with_differences(name):
    fun, make, _ = CASES[name]
    check_grads(fun, make(), modes=("fwd", "rev"))


def test_network_with_a_dict_of_parameters():
    args = _network_args()
    derivative = s2sad.grad(fun := fx.network)
    special, generic = _both(derivative, args)
    _close(special, generic)
    params, x, y = args
    eps, rng = 1e-6, np.random.default_rng(0)
    for key in params:
        direction = rng.normal(size=params[key].shape)
        up = dict(params, **{key: params[key] + eps * direction})
        down = dict(params, **{key: params[key] - eps * direction})
        expected = (fun(up, x, y) - fun(down, x, y)) / (2 * eps)
        assert np.sum(special[key] * direction) == pytest.approx(expected, rel=1e-6, abs=1e-9)
    assert list(special) == list(params)


@pytest.mark.parametrize("container", [tuple, list])
def test_weights_in_a_tuple_or_list_read_by_position(container):
    """A tuple's or list's items are specialised by position like a dict's by key: the gradient
    is made once, of the same container type, and no helper is called."""
    rng = np.random.default_rng(4)
    layers, x = container([rng.normal(size=(4, 5)), rng.normal(size=(5, 3))]), rng.normal(size=(2, 4))
    derivative = s2sad.grad(fx.layered)
    special, generic = _both(derivative, (layers, x))
    assert type(special) is container and type(generic) is container
    _close(special, generic)
    check_grads(fx.layered, [layers, x], modes=("fwd", "rev"))
    source = derivative.source_for(layers, x)
    assert "add_at" not in source and "zeros_like" not in source and "like_structure" not in source
    made = "blayers = (x.T @ " if container is tuple else "blayers = [x.T @ "
    assert made in source


def test_weights_a_function_loops_over_are_not_specialised_by_position():
    rng = np.random.default_rng(5)
    layers, x = [rng.normal(size=(3, 3)), rng.normal(size=(3, 2))], rng.normal(size=(2, 3))
    grads = s2sad.grad(fx.iterated_layers)(layers, x)
    assert type(grads) is list
    check_grads(fx.iterated_layers, [layers, x], modes=("fwd", "rev"))
    assert "add_at" in s2sad.grad(fx.iterated_layers).source_for(layers, x)


def test_an_item_at_a_counter_plus_one_is_a_number():
    """`x[i + 1]` in a loop over range(n) is a number as `x[i]` is: no tape, no shapes kept, no
    copy of the adjoint round trip (`t = btotal; ...; btotal = t`), and the adjoint of an item
    at an integer is added in place by the statement (`bx[i] += g`)."""
    x = np.linspace(0.5, 2.0, 6)
    derivative = s2sad.grad(fx.neighbours)
    check_grads(fx.neighbours, [x, 5], modes=("fwd", "rev"))
    np.testing.assert_allclose(derivative(x, 5), np.r_[x[1:6], 0.0] + np.r_[0.0, x[:5]], rtol=1e-12)
    source = derivative.source_for(x, 5)
    assert "tape" not in source and "shape" not in source and "btotal = btotal" not in source
    assert "        bx[i + 1] += t2_trips[i] * btotal" in source.splitlines()  # the statement, not add_at


def test_a_counter_of_a_while_loop_is_an_integer():
    """`k = 0` counted up by `k = k + 1` (its increment and it read each other): `x[k]` and
    `x[k + 1]` are numbers, and no shapes are kept on the tape."""
    x = np.linspace(0.5, 2.0, 6)
    check_grads(fx.counted_while, [x], modes=("fwd", "rev"))
    np.testing.assert_allclose(s2sad.grad(fx.counted_while)(x), np.r_[x[1:5], 0.0, 0.0] + np.r_[0.0, x[:4], 0.0],
                               rtol=1e-12)
    assert "shape" not in s2sad.grad(fx.counted_while).source_for(x)


def test_a_name_a_loop_binds_is_not_an_integer_by_its_arithmetic():
    x, ws = np.array([0.5, 1.5, 2.0]), [np.ones(2), np.arange(2.0)]
    check_grads(fx.loop_target_rebound, [x, ws], modes=("fwd", "rev"))
    np.testing.assert_allclose(s2sad.grad(fx.loop_target_rebound)(x, ws), [2.0, 1.0, 0.0], rtol=1e-12)
    from s2sad.front.lower import lower
    from s2sad.front.parse import parse

    primal = lower(parse(fx.loop_target_rebound))
    table = shapes.classes(primal, shapes.initial(primal.params, ("array", None), ((3,), None)))
    assert table["v"] != shapes.SCALAR and table["i"] == shapes.SCALAR


def test_network_vjp_uses_the_code_of_the_call():
    """The adjoint sweep is the one built with the primal sweep that ran (a vjp once crashed
    taking the generic adjoint sweep for the specialised primal sweep's residuals)."""
    params, x, y = _network_args()
    out, pullback = s2sad.vjp(fx.network, params, x, y)
    grads = pullback(1.0)
    _close(grads[0], s2sad.grad(fx.network)(params, x, y))
    assert out == pytest.approx(fx.network(params, x, y))


@pytest.mark.parametrize("name, args", [
    ("rosen", lambda: (np.linspace(0.1, 0.9, 10),)),
    ("network", _network_args),
    ("rnn", lambda: CASES["rnn"][1]()),
])
def test_specialised_code_matches_golden(name, args, golden):
    argnums = {"rnn": (0, 1, 2)}.get(name, 0)
    golden(f"specialised_{name}.txt", s2sad.show(getattr(fx, name), argnums=argnums, args=args()))


def test_scalar_loop_has_no_renaming_chains(golden):
    golden("specialised_scalar_loop.txt", s2sad.show(fx.scalar_loop, args=(0.3, 0.7, 10)))


def test_forward_code_for_known_shapes(golden):
    golden("specialised_rosen_forward.txt", s2sad.show(fx.rosen, mode="forward", args=(np.ones(10),)))


@pytest.mark.parametrize("fun, found", [
    (fx.network, {"m"}), (fx.softmax_score, {"t3"}), (fx.logsumexp, {"m"}),
    (fx.shift_used_elsewhere, set()), (fx.shift_over_other_axis, set()), (fx.rosen, set()),
])
def test_shifts_that_cancel(fun, found):
    from s2sad.front.lower import lower
    from s2sad.front.parse import parse

    primal = lower(parse(fun))
    names = cancelling_shifts(primal)
    if fun is fx.softmax_score:  # the max has no name of its own: one temporary
        assert len(names) == 1
    else:
        assert names == found


def test_dict_bound_again_is_not_specialised_by_its_keys():
    d, x = {"w": RNG.normal(size=3)}, RNG.normal(size=2)
    grad = s2sad.grad(fx.rebound_dict)(d, x)
    np.testing.assert_allclose(grad["w"], 2 * d["w"], rtol=1e-12)
    from s2sad.front.lower import lower
    from s2sad.front.parse import parse

    primal = lower(parse(fx.rebound_dict))
    start = shapes.initial(primal.params, (None, "array"), (("dict", (("w", (3,)),)), (2,)))
    assert isinstance(start["d"], shapes.Fields)
    assert shapes.classes(primal, start)["d"] is None


def test_a_bounded_number_of_shapes_then_code_for_any_shape():
    derivative = s2sad.grad(fx.rosen)
    for n in range(3, 3 + api.MAX_SIGNATURES + 2):
        x = np.linspace(0.1, 0.9, n)
        _close(derivative(x), derivative.built(("array",), None).fun(x))
    assert len(derivative._signatures[("array",)]) == api.MAX_SIGNATURES
    assert (("array",), None) in derivative._by_kinds


def test_float32_and_integer_arrays_keep_their_dtypes():
    x32 = np.linspace(0.1, 0.9, 6, dtype=np.float32)
    assert s2sad.grad(fx.rosen)(x32).dtype == np.float32
    assert api._shape(np.arange(4)) is None  # only float and complex arrays get a shape


def test_cli_shapes(golden):
    result = run_main("show", "tests/fixtures/specialised.py:scaled", "--argnums", "0,1", "--shapes", "2x4x5,4x1",
                      "--color", "never")
    assert result.returncode == 0, result.stderr
    golden("specialised_cli_scaled.txt", result.stdout)


@pytest.mark.parametrize("options, message", [
    (("--shapes", "4x?"), "takes a shape such as"),
    (("--shapes", "4,5,6"), "gives 3 entries"),
    (("--shapes", "4", "--kinds", "array"), "not both"),
])
def test_cli_shapes_errors(options, message):
    result = run_main("show", "tests/fixtures/specialised.py:rosen", *options)
    assert result.returncode == 1
    assert message in result.stderr


@pytest.mark.parametrize("name", ["rosen", "rnn", "affine", "scaled_rows", "column_means", "scalar_loop"])
def test_rewrites_are_exact(name):
    """Folding `100.0 * (2 * t)` to `200.0 * t` (a power of two scales exactly), joining two
    contributions to one slice, spreading a reduction's adjoint: the same bits as the code
    before optimization."""
    fun, make, argnums = CASES[name]
    args = make()
    optimized = s2sad.grad(fun, argnums=argnums)(*args)
    plain = s2sad.grad(fun, argnums=argnums, optimize=False)(*args)
    for a, b in zip(*(x if isinstance(x, tuple) else (x,) for x in (optimized, plain))):
        assert np.array_equal(a, b)


def test_rosenbrock_folds_scalings_and_writes_each_slice_once():
    """Two contributions to exactly the elements a fresh adjoint's last write assigned join it
    (`bx[:-1] = a + b`); a contribution to other elements that overlap adds."""
    source = s2sad.show(fx.rosen, args=(np.ones(10),))
    assert "200.0 *" in source and source.count("bx[:-1] =") == 1 and "bx[1:] += " in source


def test_a_slot_written_then_read_keeps_its_write():
    """The random-program tester's seed 40052: a rewrite merging two writes into one slot took
    `y[:, 2] = v` then `p = y[:, 2]` for that pattern and dropped the write (a wrong value in
    every mode). The rewrite is gone; the function's own writes stay."""
    x, y = 0.3, np.arange(6.0).reshape(2, 3) / 7
    value, grads = s2sad.value_and_grad(fx.write_then_read_a_slot, argnums=(0, 1))(x, y.copy())
    assert value == pytest.approx(fx.write_then_read_a_slot(x, y.copy()), rel=1e-12)
    check_grads(fx.write_then_read_a_slot, (x, y), modes=("fwd", "rev"))


def test_gradient_skips_the_value_s_numpy_arithmetic():
    """`-np.sum(x * x) / 4`: dividing a NumPy value raises nothing, so a gradient, which does not
    need the value, does not compute it."""
    x = RNG.normal(size=5)
    source = s2sad.grad(fx.mean_square_loss).source_for(x)
    code = "\n".join(line for line in source.splitlines() if not line.strip().startswith("#"))
    assert "np.sum" not in code and "/ 4" not in code, source
    np.testing.assert_allclose(s2sad.grad(fx.mean_square_loss)(x), -x / 2, rtol=1e-15)


def test_unused_arithmetic_that_may_raise_still_runs():
    """Python numbers raise where NumPy's return inf: an unused `x / k` still runs, and still
    raises at k = 0, in every mode; so does an unused NumPy integer to a negative power."""
    for mode in (s2sad.grad, s2sad.value_and_grad):
        with pytest.raises(ZeroDivisionError):
            mode(fx.unused_quotient)(1.5, 0.0)
        with pytest.raises(ValueError, match="negative integer powers"):
            mode(fx.unused_numpy_power)(np.array([1.0, 2.0]), -1)
    with pytest.raises(ZeroDivisionError):
        s2sad.jvp(fx.unused_quotient, (1.5, 0.0), (1.0, 0.0))
    assert s2sad.grad(fx.unused_quotient)(1.5, 2.0) == 2.0


def test_numpy_functions_of_arrays_of_known_shape_are_written_as_methods():
    """`np.sum(g, axis=0)` is `g.sum(axis=0)` where `g` is known to be an array (the same result,
    without NumPy's function layer); a number's is not, nor is code for any shape."""
    x, w = RNG.normal(size=(3, 4)), RNG.normal(size=3)
    derivative = s2sad.grad(fx.reductions_as_methods, argnums=(0, 1))
    source = derivative.source_for(x, w)
    code = "\n".join(line for line in source.splitlines() if not line.strip().startswith("#"))
    for method in ("x.max(axis=0)", "x.min(axis=1, keepdims=True)", ".reshape((2, -1))", "x.T", ".sum()",
                   ".mean(axis=1)", ".prod(axis=0)", "x.max()", "w.min()"):
        assert method in code, source
    for function in ("np.sum", "np.max", "np.min", "np.mean", "np.prod", "np.amax", "np.amin"):
        assert function + "(" not in code, source
    assert "np.sum(" in derivative.source  # code for any shape: `x` may be a number
    special, generic = _both(derivative, (x, w))
    _close(special, generic)


def test_an_array_summed_down_to_a_number_is_one_method_call():
    """`unbroadcast(g, 0.0)` of an array `g` of known shape is `float(g.sum())`: a Python float,
    as the helper gives (for a float parameter, and for an item of an array's gradient)."""
    a, x, w = 0.5, RNG.normal(size=(3, 4)), RNG.normal(size=2)
    derivative = s2sad.grad(fx.scalar_weight, argnums=(0, 1, 2))
    source = derivative.source_for(a, x, w)
    assert "unbroadcast(" not in source and source.count("float(") == 3, source
    ga, gx, gw = derivative(a, x, w)
    assert type(ga) is float
    np.testing.assert_allclose(ga, np.sum(np.cos(a * x) * x * w[0]), rtol=1e-12)
    np.testing.assert_allclose(gw, [np.sum(np.sin(a * x)), np.sum(x)], rtol=1e-12)
    np.testing.assert_allclose(gx, np.cos(a * x) * a * w[0] + w[1], rtol=1e-12)
    special, generic = _both(derivative, (a, x, w))
    _close(special, generic)


def test_sizes_of_arrays_of_known_shape_are_constants():
    """`x.size`, `np.size(x)` and `np.ndim(x)` of an array of known shape are numbers in the
    code for that shape (no call), and the gradient is the generic code's, in both modes."""
    x = RNG.normal(size=(3, 4))
    derivative = s2sad.grad(fx.mean_by_size)
    code = "\n".join(line for line in derivative.source_for(x).splitlines() if not line.strip().startswith("#"))
    assert "size(" not in code and "ndim(" not in code, code
    special, generic = _both(derivative, (x,))
    _close(special, generic)
    np.testing.assert_allclose(special, 2 * x / 12 + 2 / 12, rtol=1e-12, atol=1e-15)
    check_grads(fx.mean_by_size, (x,), modes=("fwd", "rev"))


def test_sizes_computed_from_sizes_and_loops_over_an_arrays_items():
    """With shapes known, `n - m + 1` is a constant, so the loop's array has a known shape and
    its items are numbers (no shapes on the tape); the inner loop's constant range is made
    once; `for v in kernel` iterates the array itself (no `as_sequence`/`sequence_adjoint`);
    adjoints of known shape add up with `+`, not the `add` helper; the sum the loop carries is
    known to be a number, so the gradient does not compute the function's value.
    The gradient is the generic code's and the finite differences', in both modes."""
    signal, kernel = RNG.normal(size=9), RNG.normal(size=3)
    derivative = s2sad.grad(fx.windows, argnums=(0, 1))
    code = "\n".join(line for line in derivative.source_for(signal, kernel).splitlines()
                     if not line.strip().startswith("#"))
    assert "np.zeros(7)" in code and "_shape" not in code and "unbroadcast" not in code, code
    assert " add(" not in code, code  # two contributions to an adjoint of known shape: `a + b`
    assert "seed(" not in code and "unreduce(" not in code, code  # a sum carried by a loop is a number
    assert "sequence" not in code and code.count("range(3)") == 2, code  # before the loops, and `for v in kernel`'s
    special, generic = _both(derivative, (signal, kernel))
    _close(special, generic)
    check_grads(fx.windows, (signal, kernel), modes=("fwd", "rev"))


def test_a_name_copied_to_itself_is_no_endless_definition():
    """Asking whether `x` (bound by `x = x`) is one number followed the copy forever
    (RecursionError, the tester's seed 3673): every mode, numbers and arrays."""
    assert s2sad.value_and_grad(fx.copied_to_itself)(0.7) == (1.4, 2.0)
    check_grads(fx.copied_to_itself, (0.7,), modes=("fwd", "rev"))
    v = RNG.normal(size=3)
    np.testing.assert_allclose(s2sad.jacrev(fx.copied_to_itself)(v), 2.0 * np.eye(3), rtol=1e-12)
    check_grads(fx.copied_to_itself, (v,), modes=("fwd", "rev"))


def _before_loop(fun, args, argnums) -> str:
    source = s2sad.grad(fun, argnums=argnums).source_for(*args)
    return source.partition("\n    for ")[0]


def test_loop_invariant_arrays_are_computed_once_before_the_loop():
    before = _before_loop(fx.invariant_arrays, (RNG.normal(size=6), RNG.normal(size=6)), (0, 1))
    assert "np.sin(x)" in before and "0.1 * x" in before, before


@pytest.mark.parametrize("name", ["invariant_written_in_place", "invariant_read_by_a_view"])
def test_an_array_the_loop_may_write_into_is_computed_each_trip(name):
    fun, make, argnums = CASES[name]
    before = _before_loop(fun, make(), argnums)
    assert "np.sin(" not in before and "np.cos(" not in before, before


def test_a_tuples_items_keep_their_shapes():
    """`pair = (a, b)` then `pair[0]`: the item's shape is known, so no helper asks it."""
    source = s2sad.grad(fx.tuple_in_loop, argnums=(0, 1)).source_for(RNG.normal(size=6), RNG.normal(size=6))
    assert "unbroadcast" not in source and "unreduce" not in source, source
