"""The Numba backend (`backend="numba"`, s2sad/back/jit.py): the same derivatives as the default
backend to 1e-12 on the workloads and programs it compiles, typed storage for kept numbers,
compile time reported, and refusals as `BackendError` at the user's line."""

import math
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

import s2sad
from benchmarks import workloads
from s2sad.back import jit, jit_reductions
from tests.programs import conv, flow, library, logistic, mlp, newton, ode, rnn

numba = pytest.importorskip("numba", reason="the numba extra is not installed")


def shrink(x):
    while x > 1.0:
        x = x * x / 4.0
    return x


def squares(x, n):
    total = 0.0
    for i in range(n):
        total = total + math.sin(x * i) ** 2
    return total


RNG = np.random.default_rng(17)


def from_the_second_step(xs, w, u):
    """A loop over `range(1, n)`: its values kept on a list tape, the first of them a
    placeholder (before `xs[t]` was read), which is zeros of its shape, not `None`."""
    h = np.zeros((xs.shape[1], u.shape[0]))
    for t in range(1, xs.shape[0]):
        h = np.tanh(xs[t] @ w + h @ u)
    return np.sum(h * h)


def halving(x, w):
    """A `while` loop keeping arrays on a list tape."""
    y = x
    while np.sum(y * y) > 0.5:
        y = np.tanh(y @ w) * 0.5
    return np.sum(y)


def square_norm(a):
    return np.einsum("i,i->", a, a)


def summed_items(x):
    return sum(x * x)


def summed_rows(m):
    return np.sum(sum(m) ** 2)


def same(got, expected):
    for g, e in zip(workloads.leaves(got), workloads.leaves(expected)):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-15)


GRADIENTS = [
    ("scalar_loop", workloads.scalar_loop, workloads.scalar_loop_args(True), 0),
    ("scalar_ops", workloads.scalar_ops, workloads.scalar_ops_args(True), 0),
    ("rosenbrock", workloads.rosenbrock, workloads.rosenbrock_args(True), 0),
    ("logreg", workloads.logreg_loss, workloads.logreg_args(True), 0),
    ("chain", workloads.chain, workloads.chain_args(True), 0),
    ("rnn", workloads.rnn_loss, workloads.rnn_args(True), (0, 1, 2)),
    ("while_with_a_tape", shrink, (3.0,), 0),
    ("loop_over_range", squares, (0.7, 5), 0),
    ("newton", newton.newton_sqrt, (2.0, 8), 0),
    ("flow_loop", flow.loop, (0.5, 4), 0),
    ("flow_branch", flow.branch, (0.5, 0.3), (0, 1)),
    ("softplus", library.softplus, (0.3,), 0),
    ("log_loss", logistic.log_loss, (np.array([0.3, -0.2, 0.5]), 0.1, np.arange(15.0).reshape(5, 3) / 10,
                                     np.array([1.0, 0.0, 1.0, 1.0, 0.0])), (0, 1)),
    ("oscillator", ode.oscillator, (2.0, 0.3, 1.0, 0.0, 0.013, 1.0), (0, 1, 2, 3)),
    ("conv_calling_a_helper", conv.conv_loss, (np.linspace(-1.0, 1.0, 9), np.array([0.5, -0.2, 0.3]),
                                               np.linspace(0.3, 1.0, 7)), (0, 1, 2)),
    ("penalised_loss_calling_a_helper", logistic.penalised_loss,
     (np.array([0.3, -0.2, 0.5]), np.arange(15.0).reshape(5, 3) / 10, np.array([1.0, -1.0, 1.0, 1.0, -1.0])), 0),
    ("affine_with_defaults", library.affine, (0.3,), 0),
    ("python_sum_of_a_vector", summed_items, (np.array([0.5, -1.0, 2.0]),), 0),
    ("python_sum_of_a_matrix", summed_rows, (np.arange(6.0).reshape(3, 2) / 5,), 0),
    ("programs_rnn", rnn.rnn_loss, (np.linspace(-0.5, 0.5, 6).reshape(3, 2), np.linspace(0.4, -0.4, 9).reshape(3, 3),
                                    np.array([0.1, -0.1, 0.05]), np.linspace(-1.0, 1.0, 12).reshape(6, 2),
                                    np.array([0.2, -0.3, 0.1])), (0, 1, 2)),
    ("programs_mlp", mlp.mlp_loss, (mlp.init((3, 4, 2)), np.linspace(-1.0, 1.0, 15).reshape(5, 3),
                                    np.linspace(0.5, -0.5, 10).reshape(5, 2)), 0),
]


@pytest.mark.parametrize("name, fun, args, argnums", GRADIENTS, ids=[g[0] for g in GRADIENTS])
def test_gradient_matches_the_default_backend(name, fun, args, argnums):
    expected = s2sad.grad(fun, argnums)(*args)
    compiled = s2sad.grad(fun, argnums, backend="numba")
    same(compiled(*args), expected)
    assert isinstance(compiled.built_for(args, {}).fun, jit.Jitted)


def test_value_and_grad_and_jvp_match_the_default_backend():
    args = (0.3, 20)
    value, grad = s2sad.value_and_grad(workloads.scalar_loop, backend="numba")(*args)
    assert (value, grad) == pytest.approx(s2sad.value_and_grad(workloads.scalar_loop)(*args), rel=1e-12)
    out, tangent = s2sad.jvp(workloads.scalar_loop, args, (1.0, 0), backend="numba")
    assert (out, tangent) == pytest.approx(s2sad.jvp(workloads.scalar_loop, args, (1.0, 0)), rel=1e-12)
    assert tangent == pytest.approx(grad, rel=1e-12)


def test_the_gradient_agrees_with_finite_differences():
    g = s2sad.grad(squares, backend="numba")(0.7, 5)
    h = 1e-6
    fd = (squares(0.7 + h, 5) - squares(0.7 - h, 5)) / (2 * h)
    assert g == pytest.approx(fd, rel=1e-7)


def test_kept_numbers_are_one_float_array_and_the_code_is_shown():
    source = s2sad.show(workloads.scalar_loop, args=(0.3, 10), backend="numba")
    assert "t3_trips = np.empty(trips)" in source  # sin(s) (and cos(s): see test_jit_ahead.py)
    assert "[None]" not in source
    assert "[None]" in s2sad.show(workloads.scalar_loop, args=(0.3, 10))


def test_arrays_a_loop_keeps_are_rows_of_one_array():
    """With shapes known, a loop over range(n) keeps each array it overwrites in a row of an
    array made before the loop (the default backend keeps them on its list tape)."""
    args = workloads.rnn_args(True)
    source = s2sad.show(workloads.rnn_loss, args=args, argnums=(0, 1, 2), backend="numba")
    assert "h_trips = trip_storage(trips, (3, 4))" in source and "h = h_trips[t]" in source
    assert "t9_trips" not in source and "tape" not in source  # the step's input xs[t] is read again
    assert "h_trips = store_trip(h_trips, t, h)" in source  # loops over the elements, quick to compile
    assert "tape.append(h)" in s2sad.show(workloads.rnn_loss, args=args, argnums=(0, 1, 2))


def keeps_a_vector_and_a_cube(x, c, n):
    v = x * 1.0
    cube = c * 1.0
    for _ in range(n):
        v = np.sin(v) * x
        cube = np.tanh(cube) * 0.5 + c
    return np.sum(v) + np.sum(cube * cube)


def test_rows_of_vectors_matrices_and_cubes_are_stored_and_restored():
    args = (np.array([0.3, -0.4, 0.9]), np.linspace(-1.0, 1.0, 24).reshape(2, 3, 4), 4)
    source = s2sad.show(keeps_a_vector_and_a_cube, args=args, argnums=(0, 1), backend="numba")
    assert "trip_storage(trips, (3,))" in source and "trip_storage(trips, (2, 3, 4))" in source
    assert source.count("= store_trip(") == 3  # two vectors and a cube
    same(s2sad.grad(keeps_a_vector_and_a_cube, argnums=(0, 1), backend="numba")(*args),
         s2sad.grad(keeps_a_vector_and_a_cube, argnums=(0, 1))(*args))


def test_placeholders_of_kept_numbers_are_floats():
    source = s2sad.show(workloads.scalar_ops, args=(0.7, 3), backend="numba")
    assert "t4 = 0.0" in source and "None" not in source


@pytest.mark.parametrize("n", [0, 1, 7])
def test_a_range_loop_is_counted_down_without_reversed(n):
    """The adjoint of a loop over `range(n)` runs `range(n - 1, -1, -1)` (a constant where n is),
    not `reversed` of the range, which Numba compiles separately."""
    source = s2sad.show(workloads.scalar_loop, args=(0.3, n), backend="numba")
    assert "reversed(" not in source and "_first = n - 1" in source and ", -1, -1):" in source, source
    assert s2sad.grad(workloads.scalar_loop, backend="numba")(0.3, n) == pytest.approx(
        s2sad.grad(workloads.scalar_loop)(0.3, n), rel=1e-13)
    rnn = s2sad.show(workloads.rnn_loss, args=workloads.rnn_args(True), argnums=(0, 1, 2), backend="numba")
    assert "range(4, -1, -1)" in rnn and "reversed(" not in rnn


def test_allocations_are_intrinsics_of_the_dtype_and_shape_numpy_gives():
    from s2sad.back import jit_helpers

    jit.numba_module()
    zeros, zeros_as = jit_helpers.INTRINSICS[jit_helpers.zeros_array], jit_helpers.INTRINSICS[jit_helpers.zeros_as]
    storage = jit_helpers.INTRINSICS[jit_helpers.trip_storage]
    made = numba.njit(lambda: zeros((2, 3)))()
    assert made.dtype == np.float64 and made.shape == (2, 3) and not made.any()
    for x in (np.ones((3, 4), np.float32), np.arange(5), np.ones((2, 3, 4)).T):
        like = numba.njit(lambda v: zeros_as(v))(x)
        assert like.dtype == x.dtype and like.shape == x.shape and not like.any() and like.flags.c_contiguous
    rows = numba.njit(lambda k: storage(k, (2, 3)))(4)
    assert rows.shape == (4, 2, 3) and rows.dtype == np.float64
    assert numba.njit(lambda k: storage(k, (5,)))(np.int32(0)).shape == (0, 5)


def test_compile_seconds_count_each_signature_once():
    g = s2sad.grad(workloads.scalar_loop, backend="numba")
    assert g.compile_seconds == 0.0
    g(0.3, 10)
    first = g.compile_seconds
    assert first > 0.0
    g(0.4, 12)
    assert g.compile_seconds == first
    assert s2sad.grad(workloads.scalar_loop).compile_seconds == 0.0


def test_a_construct_numba_does_not_compile_is_refused_at_the_line():
    with pytest.raises(s2sad.BackendError) as info:
        s2sad.grad(square_norm, backend="numba")(np.ones(3))
    err = info.value
    assert err.where.line == square_norm.__code__.co_firstlineno + 1
    assert "einsum_plan" in err.message and "default backend" in err.hint


def float_or_array(x, flag):
    y = 0.0
    if flag > 0:
        y = np.ones(3) * x
    return np.sum(y * x)


def test_a_numba_typing_error_is_located_at_the_users_line():
    with pytest.raises(s2sad.BackendError) as info:
        s2sad.grad(float_or_array, backend="numba")(2.0, 1)
    err = info.value
    first = float_or_array.__code__.co_firstlineno
    assert "Cannot unify float64 and array" in err.message
    assert err.where.filename == __file__ and first < err.where.line <= first + 4


def test_a_numba_typing_error_becomes_a_backend_error():
    refused = jit.Jitted(lambda x: x + "a", "<nowhere>", {}, {})  # no generated line to map: no location
    with pytest.raises(s2sad.BackendError) as info:
        refused(1.0)
    assert "numba cannot compile" in info.value.message and info.value.where is None


@pytest.mark.parametrize("fun,args", [
    (from_the_second_step, (RNG.normal(size=(6, 4, 3)), RNG.normal(size=(3, 5)) / 2, RNG.normal(size=(5, 5)) / 3)),
    (halving, (RNG.normal(size=(2, 3)), RNG.normal(size=(3, 3)))),
], ids=["range_from_one", "while"])
def test_a_list_tape_of_arrays_compiles_with_placeholders_of_their_shape(fun, args):
    """Before, Numba failed inside its own code on a list of optional arrays (`TypeError:
    unhashable type: 'list'`): the loop was refused."""
    argnums = tuple(range(len(args)))
    value, grads = s2sad.value_and_grad(fun, argnums=argnums, backend="numba")(*args)
    assert value == pytest.approx(fun(*args), rel=1e-12)
    same(grads, s2sad.grad(fun, argnums=argnums)(*args))
    source = s2sad.show(fun, args=args, argnums=argnums, backend="numba")
    assert "tape.append(" in source and " = None" not in source, source


def test_an_error_inside_numbas_own_code_becomes_a_located_backend_error(monkeypatch):
    """Numba's typing templates can fail with a `TypeError` of their own (`unhashable type:
    'list'`, met by a random program): a `BackendError` at the function's first mapped line,
    never Numba's traceback. Nothing has run: `_compile_for_args` only compiles."""
    refused = jit.Jitted(lambda x: x + 1.0, "user.py", {3: 12, 4: 13}, {12: "y = x + 1.0", 13: "return y"})

    def broken(*args, **kwargs):
        raise TypeError("unhashable type: 'list'")

    monkeypatch.setattr(refused, "_compile_for_args", broken)
    with pytest.raises(s2sad.BackendError) as info:
        refused(1.0)
    assert "TypeError inside Numba: unhashable type: 'list'" in info.value.message
    assert (info.value.where.filename, info.value.where.line) == ("user.py", 12)


@pytest.mark.parametrize("fun", [library.power, library.fast_power, library.spiral_down])
def test_a_recursive_call_is_refused(fun):
    """Recursion (direct, twice in one body, mutual) is not inlined, and a call of a derivative
    from compiled code is refused at its line."""
    with pytest.raises(s2sad.BackendError, match=r"does not compile a recursive call") as info:
        s2sad.grad(fun, backend="numba")(1.3, 5)
    assert info.value.where.filename == library.__file__


def cubes(x):
    return np.sum(x ** 3)


def sine_products(x, y):
    return np.sum(np.sin(x) * y)


def test_vjp_hessian_and_hvp_match_the_default_backend():
    x, y = np.array([0.5, 1.0, 2.0]), np.arange(3.0)
    out, pullback = s2sad.vjp(sine_products, x, y, backend="numba")
    expected_out, expected_pullback = s2sad.vjp(sine_products, x, y)
    assert out == pytest.approx(expected_out, rel=1e-12)
    same(pullback(1.5), expected_pullback(1.5))
    same(s2sad.hessian(cubes, backend="numba")(x), s2sad.hessian(cubes)(x))
    same(s2sad.hvp(cubes, backend="numba")(x, y), s2sad.hvp(cubes)(x, y))
    same(s2sad.hessp(cubes, backend="numba")(x, y), 6 * x * y)


@pytest.mark.parametrize("steps", [0, 1, 5])
def test_a_vjp_of_a_loop_hands_its_range_over_as_bounds(steps):
    """The primal sweep's residuals hold the loop's range, which Numba cannot return to Python:
    they hold its start, stop and step, and the adjoint sweep makes the range again."""
    out, pullback = s2sad.vjp(workloads.scalar_loop, 0.3, steps, backend="numba")
    expected_out, expected_pullback = s2sad.vjp(workloads.scalar_loop, 0.3, steps)
    assert out == pytest.approx(expected_out, rel=1e-12)
    same(pullback(1.5), expected_pullback(1.5))
    same(pullback(-0.5), expected_pullback(-0.5))  # the residuals reused
    same(s2sad.vjp(sine_sum, 0.4, steps, backend="numba")[1](1.0), s2sad.vjp(sine_sum, 0.4, steps)[1](1.0))


def sine_sum(x, n):
    """A loop over `range(n + 1)`, its counter read: the bounds made from a temporary."""
    s = x
    for i in range(n + 1):
        s = s + math.sin(s * i) * 0.1
    return s


def two_loops(x, n):
    """A loop over `range(2, n + 3, 2)`: its trips kept on a list tape, which the `vjp`'s adjoint
    sweep copies before it pops it."""
    s = x
    for _ in range(n):
        s = s * 0.9 + math.sin(s) * x
    for i in range(2, n + 3, 2):
        s = s * 0.8 + math.cos(s) * i
    return s


def ranges_in_a_loop(x, n):
    """A loop in a loop: the tape holds numbers and the inner loops' ranges."""
    s = x
    for i in range(n):
        for _ in range(i + 1):
            s = s * 0.9 + math.sin(s) * x
    return s


def test_reversed_ranges_compiled_are_pythons():
    """`reversed(range(start, stop, step))` compiled (`jit_helpers.reversed_range`) starts from
    the range's last item, not from `stop - step`: `range(2, 3, 2)` reversed is [2]. (It was
    `range(stop - step, ...)`, wrong wherever the step does not divide the length: the gradient
    of `two_loops` below was silently wrong for n = 0 and 2.)"""
    jit.numba_module()
    import numba

    compiled = numba.njit(lambda start, stop, step: [i for i in reversed(range(start, stop, step))])
    for start, stop, step in [(2, 3, 2), (2, 4, 2), (2, 5, 2), (0, 0, 1), (0, 7, 3), (5, 0, -2), (5, 1, -2),
                              (-3, 4, 4), (3, 3, -1), (1, 10, 1)]:
        assert compiled(start, stop, step) == list(reversed(range(start, stop, step))), (start, stop, step)


@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_a_loop_over_a_range_with_a_step_in_every_reverse_mode(n):
    same(s2sad.grad(two_loops, backend="numba")(0.4, n), s2sad.grad(two_loops)(0.4, n))
    value, grad = s2sad.value_and_grad(two_loops, backend="numba")(0.4, n)
    assert value == pytest.approx(two_loops(0.4, n), rel=1e-12)
    same(grad, s2sad.grad(two_loops)(0.4, n))
    h = 1e-6
    assert grad == pytest.approx((two_loops(0.4 + h, n) - two_loops(0.4 - h, n)) / (2 * h), rel=1e-6)
    same(s2sad.vjp(two_loops, 0.4, n, backend="numba")[1](0.5)[0], s2sad.vjp(two_loops, 0.4, n)[1](0.5)[0])


@pytest.mark.parametrize("n", [0, 1, 4])
def test_a_vjp_whose_adjoint_pops_a_list_tape(n):
    """The adjoint sweep pops its own copy of the tape (`copy_list`, compiled). A tape of no
    items, which Numba cannot type (an empty list has no item type), runs the same code as Python."""
    out, pullback = s2sad.vjp(two_loops, 0.4, n, backend="numba")
    expected_out, expected_pullback = s2sad.vjp(two_loops, 0.4, n)
    assert out == pytest.approx(expected_out, rel=1e-12)
    same(pullback(1.5)[0], expected_pullback(1.5)[0])
    same(pullback(1.5)[0], expected_pullback(1.5)[0])  # the residuals' tape not consumed
    with pytest.raises(s2sad.BackendError, match="numba cannot compile the derivative") as info:
        s2sad.vjp(ranges_in_a_loop, 0.4, n + 1, backend="numba")
    assert info.value.where is not None and info.value.where.line == ranges_in_a_loop.__code__.co_firstlineno + 4


def test_a_result_numba_cannot_return_is_found_among_the_errors_causes():
    """Numba raises `SystemError` for a result it cannot make a Python object of, the reason
    one or two causes down: refused as a `BackendError` (see `Jitted.__call__`)."""
    try:
        try:
            raise TypeError("cannot convert native range_state_int64 to Python object")
        except TypeError as inner:
            raise SystemError("_numba_unpickle returned a result with an exception set") from inner
    except SystemError as middle:
        outer = SystemError("CPUDispatcher returned a result with an exception set")
        outer.__cause__ = middle
    assert "range_state_int64" in str(jit._unboxable(outer))
    assert jit._unboxable(SystemError("something else")) is None


def test_an_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="backend must be one of 'python', 'numba', not 'cuda'"):
        s2sad.grad(squares, backend="cuda")


def test_without_numba_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "numba", None)
    with pytest.raises(s2sad.BackendError) as info:
        s2sad.grad(squares, backend="numba")
    assert 's2sad[numba]' in info.value.hint


def test_show_backend_numba_on_the_command_line():
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "loop.py"
        path.write_text("import math\n\n\ndef f(x, n):\n    s = x\n    for _ in range(n):\n"
                        "        s = s * 0.5 + math.sin(s)\n    return s\n")
        done = subprocess.run([sys.executable, "-m", "s2sad", "show", f"{path}:f", "--kinds", "scalar,scalar",
                               "--backend", "numba", "--color", "never"], capture_output=True, text=True, check=True)
    assert "_trips = np.empty(trips)" in done.stdout and "[None]" not in done.stdout


def test_random_programs_compile_to_the_same_gradient_or_are_refused(tmp_path):
    """The differential tester's programs (tests/fuzz) through both backends: each either gives
    the default backend's gradient to 1e-12 or is refused with a `BackendError`, never a crash
    or another number."""
    from s2sad.api import float_positions
    from tests.fuzz.checks import copy_args, load, validate
    from tests.fuzz.generate import generate

    compiled = refused = 0
    for seed in range(200):
        program = generate(seed)
        value, _ = validate(program)
        positions = tuple(float_positions(program.args))
        if value is None or program.vector or not positions:
            continue
        fun = getattr(load(program, tmp_path), program.entry)
        try:
            expected = s2sad.grad(fun, argnums=positions)(*copy_args(program.args))
        except s2sad.S2SADError:
            continue  # refused by s2sad itself: the fuzz tests' business
        try:
            got = s2sad.grad(fun, argnums=positions, backend="numba")(*copy_args(program.args))
        except s2sad.BackendError:
            refused += 1
            continue
        same(got, expected)
        compiled += 1
    assert compiled >= 1 and refused >= 1


def test_the_backends_tester_counts_a_compiled_program(capsys):
    """`python -m tests.fuzz.backends`: seed 1's program compiles and gives the same gradient."""
    from tests.fuzz import backends

    assert backends.main(["--seeds", "1:2"]) == 0
    assert capsys.readouterr().out.startswith("1 compiled, 0 refused, 0 wrong")


@pytest.mark.parametrize("seed", [1155, 1346])
def test_random_programs_keeping_comparisons_on_a_list_tape_still_compile(seed, tmp_path):
    """A comparison's value kept on a list tape keeps `None` as its placeholder (0.0, as for
    arrays' zeros, made these two programs refused: a float where a bool was)."""
    from s2sad.api import float_positions
    from tests.fuzz.checks import copy_args, load
    from tests.fuzz.generate import generate

    program = generate(seed)
    fun = getattr(load(program, tmp_path), program.entry)
    positions = tuple(float_positions(program.args))
    expected = s2sad.grad(fun, argnums=positions)(*copy_args(program.args))
    same(s2sad.grad(fun, argnums=positions, backend="numba")(*copy_args(program.args)), expected)


def test_a_dict_of_parameters_is_passed_as_its_arrays():
    args = workloads.mlp_small_args(True)
    expected = s2sad.grad(workloads.mlp_loss)(*args)
    got = s2sad.grad(workloads.mlp_loss, backend="numba")(*args)
    assert isinstance(got, dict) and sorted(got) == sorted(expected)
    same(got, expected)
    value, grads = s2sad.value_and_grad(workloads.mlp_loss, backend="numba")(*args)
    assert value == pytest.approx(workloads.mlp_loss(*args), rel=1e-12)
    same(grads, expected)
    source = s2sad.show(workloads.mlp_loss, args=args, backend="numba")
    assert source.startswith("def mlp_loss_grad(params_b1, params_b2, params_w1, params_w2, x, y):")


def reductions(x):
    shifted = x - np.max(x, axis=1, keepdims=True)
    spread = np.mean(shifted, axis=0) - x.min(axis=1).sum()
    return np.sum(spread * spread) + np.sum(np.sum(x * x, axis=0, keepdims=True))


def test_reductions_along_an_axis():
    x = np.arange(12.0).reshape(3, 4) / 7.0 + np.array([0.0, 0.5, -0.25, 0.1])
    same(s2sad.grad(reductions, backend="numba")(x), s2sad.grad(reductions)(x))
    source = s2sad.show(reductions, args=(x,), backend="numba")
    code = [line for line in source.splitlines() if not line.strip().startswith("#")]
    assert "    t1 = max_axis_kept(x, 1)" in code and not any("keepdims" in line for line in code)


def ratios(d, q):
    return np.sum(d / q)


def test_strong_zeros_of_arrays_are_exact():
    d, q = np.array([1.0, 2.0, 3.0]), np.array([2.0, 0.0, 4.0])
    compiled, default = s2sad.grad(ratios, argnums=1, backend="numba"), s2sad.grad(ratios, argnums=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        same(compiled(d, q), default(d, q))
        zero = compiled(np.zeros(3), q)
        np.testing.assert_array_equal(zero, default(np.zeros(3), q))  # NaN where the default has NaN


def test_the_boundary_splits_and_rebuilds():
    from s2sad.back.jit_boundary import Boundary

    boundary = Boundary(params=(("a", "b"), None), result=("pack", (None, ("dict", ("a", "b")))))
    assert boundary.arguments(({"b": 2, "a": 1}, 3)) == (1, 2, 3)
    assert boundary.rebuilt((0.5, (1, 2))) == (0.5, {"a": 1, "b": 2})
    assert Boundary((None,)).plain and not boundary.plain


def reversed_dot(a, x):
    return (a @ x[::-1]) ** 2


def test_numbas_performance_advice_about_generated_code_is_not_shown():
    import warnings

    a, x = np.array([1.0, 2.0, 3.0]), np.array([0.5, -1.0, 2.0])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = s2sad.grad(reversed_dot, argnums=(0, 1), backend="numba")(a, x)
    same(got, s2sad.grad(reversed_dot, argnums=(0, 1))(a, x))
    assert not [w for w in caught if issubclass(w.category, numba.core.errors.NumbaPerformanceWarning)]


@pytest.mark.parametrize("container", [tuple, list])
def test_weights_in_a_tuple_or_list_are_passed_as_arrays(container):
    from tests.fixtures import specialised as fx

    rng = np.random.default_rng(4)
    layers, x = container([rng.normal(size=(4, 5)), rng.normal(size=(5, 3))]), rng.normal(size=(2, 4))
    got = s2sad.grad(fx.layered, backend="numba")(layers, x)
    assert type(got) is container
    same(got, s2sad.grad(fx.layered)(layers, x))
    source = s2sad.show(fx.layered, args=(layers, x), backend="numba")
    assert source.startswith("def layered_grad(layers_0, layers_1, x):")
    assert "    blayers = (t21 @ t14_all, t11)" in source  # a list comes back as a tuple, made a list again


CACHED = """
import json, sys
sys.path.insert(0, {root!r})
import s2sad
from benchmarks import workloads
g = s2sad.grad(workloads.scalar_loop, backend="numba", cache_dir={folder!r})
value = g(0.3, 50)
stats = g.built_for((0.3, 50), {{}}).fun.dispatcher.stats
print(json.dumps([value, sum(stats.cache_hits.values()), sum(stats.cache_misses.values())]))
"""


def test_numbas_cache_is_used_only_when_asked_and_a_later_process_loads_it(tmp_path):
    import json

    folder = tmp_path / "cache"
    code = CACHED.format(root=str(Path(__file__).resolve().parents[2]), folder=str(folder))
    runs = [json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                      check=True).stdout) for _ in range(2)]
    expected = s2sad.grad(workloads.scalar_loop)(0.3, 50)
    assert runs[0] == [expected, 0, 1] and runs[1] == [expected, 1, 0]  # compiled, then loaded
    written = sorted(p.name for p in folder.iterdir())
    assert len(written) == 2 and written[0] == "__pycache__" and written[1].startswith("s2sad_")
    assert "t3_trips = np.empty(trips)" in (folder / written[1]).read_text()


def scaled(x):
    return np.sum(x * FACTOR)


FACTOR = 2.0


def test_a_global_of_another_value_is_another_cache_entry(tmp_path, monkeypatch):
    x = np.arange(3.0)
    first = s2sad.grad(scaled, backend="numba", cache_dir=tmp_path)(x)
    monkeypatch.setitem(globals(), "FACTOR", 3.0)
    second = s2sad.grad(scaled, backend="numba", cache_dir=tmp_path)(x)
    np.testing.assert_array_equal(first, 2.0 * np.ones(3))
    np.testing.assert_array_equal(second, 3.0 * np.ones(3))
    assert len(list(tmp_path.glob("s2sad_*.py"))) == 2


def test_a_cache_needs_the_numba_backend():
    with pytest.raises(ValueError, match="give it with backend='numba'"):
        s2sad.grad(squares, cache_dir="somewhere")


def test_a_chain_of_elementwise_operations_is_one_expression():
    """Folded into one expression (not the four operations a line the default backend's code
    keeps) in one loop over the elements (`jit_loops`): no temporary array between."""
    source = s2sad.show(workloads.chain, args=workloads.vector_ops_args(True), backend="numba")
    lines = source.splitlines()
    assert "            by_all[i1] = by[i1] * t6[i1] * (1.0 - t4_i2 * t4_i2) * 1.5 * cos_element(y_i2)" in lines
    assert "        for i1 in range(16):" in lines
    default = s2sad.show(workloads.chain, args=workloads.vector_ops_args(True))
    assert "        by = by * t6 * (1.0 - t4 * t4) * 1.5 * np.cos(y)" not in default.splitlines()


def gathered(x, idx):
    return np.sum(x[idx] ** 2)


def test_add_at_by_a_basic_index_compiles_and_by_an_index_array_is_refused():
    from tests.fixtures import specialised as fx

    x = np.linspace(0.5, 2.0, 6)
    same(s2sad.grad(fx.neighbours, backend="numba")(x, 5), s2sad.grad(fx.neighbours)(x, 5))
    with pytest.raises(s2sad.BackendError):  # repeated indices add up in np.add.at, not in x[idx] += v
        s2sad.grad(gathered, backend="numba")(x, np.array([0, 0, 2]))


@pytest.mark.parametrize("helper", sorted(jit_reductions.HELPERS, key=lambda h: h.__name__),
                         ids=lambda h: h.__name__)
def test_every_reduction_helper_is_numpys_along_every_axis(helper):
    """The Numba implementations of each helper (loops, see `jit_reductions`) against the
    helper's own NumPy, for a vector and a matrix, along each axis (a constant, as the generated
    code passes it), NaN propagated."""
    jit.numba_module()  # the helpers' implementations registered
    rng = np.random.default_rng(5)
    matrix = rng.normal(size=(4, 3))
    with_nan = matrix.copy()
    with_nan[2, 1] = np.nan
    constant = numba.njit(lambda v, m: (helper(v, 0), helper(v, -1), helper(m, 0), helper(m, 1), helper(m, -1),
                                        helper(m, -2)))
    for v, m in ((rng.normal(size=5), matrix), (rng.normal(size=5), with_nan)):
        expected = (helper(v, 0), helper(v, -1), helper(m, 0), helper(m, 1), helper(m, -1), helper(m, -2))
        for got, want in zip(constant(v, m), expected, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-14)
            assert np.shape(got) == np.shape(want)


def writes_its_argument(a, b):
    a[0] = a[0] * b[1]
    return np.sum(a * b)


def test_a_function_writing_into_its_argument_checks_aliasing_before_the_compiled_call():
    """The entry check (`not_shared`) runs at the boundary, in Python: the compiled code is
    the default backend's, and the same array passed twice is the same error."""
    a, b = np.array([1.0, 2.0, 3.0]), np.array([0.5, -1.0, 2.0])
    same(s2sad.grad(writes_its_argument, argnums=(0, 1), backend="numba")(a.copy(), b.copy()),
         s2sad.grad(writes_its_argument, argnums=(0, 1))(a.copy(), b.copy()))
    source = s2sad.show(writes_its_argument, args=(a, b), argnums=(0, 1), backend="numba")
    assert "not_shared" not in source
    v = a.copy()
    with pytest.raises(s2sad.UnsupportedValue, match="'a' is written in place and 'b' is the same object"):
        s2sad.grad(writes_its_argument, argnums=(0, 1), backend="numba")(v, v)
    assert v.tolist() == [1.0, 2.0, 3.0]
