"""Fused loops of the Numba backend (s2sad/back/jit_loops.py): runs of elementwise statements
written as one loop over the elements give what the statements give array by array, in every
mode, where a run reads what it writes, broadcasts, divides by zero or works on integers; and
the generated code is the loop (golden lines)."""

import numpy as np
import pytest

import s2sad
from benchmarks import workloads
from s2sad.core import ir
from tests.back.test_jit import same

numba = pytest.importorskip("numba", reason="the numba extra is not installed")


def overlapping(x):
    """A write into `y[1:]` that reads `y[:-1]`: NumPy reads the whole right side first."""
    y = np.zeros(x.shape)
    y[:-1] = x[1:] * 2.0
    y[1:] += y[:-1] * x[:-1]
    return np.sum(y * y)


def broadcast_rows(w, b, x):
    """A row vector and a column broadcast against a matrix."""
    z = x * w + b
    return np.sum(np.tanh(z) * z)


def ratio(x, y):
    """Divisions by zero: inf and nan, as NumPy's arrays give, not Python's ZeroDivisionError."""
    return np.sum(np.sin(x) / y + x / y)


def log_loss(w, x):
    """`sigmoid` in a loop: as for arrays, 1 / (1 + exp(-z)) with exp overflowing to inf far out."""
    z = x * w
    return np.sum(np.logaddexp(0.0, z) - 0.5 * z)


def relax(x, n):
    """A view of a value the same run rebinds, in a loop (what a trip keeps is the old value)."""
    for _ in range(n):
        x = 0.5 * (x[::-1] + x) * x
    return np.sum(x * x)


def two_uses(x):
    """A value read by two writes into one array through two selections: two loops."""
    a = x[1:] - x[:-1] ** 2
    return np.sum(100.0 * a ** 2 + (1 - x[:-1]) ** 2)


RNG = np.random.default_rng(7)
PROGRAMS = [
    ("overlapping", overlapping, (RNG.normal(size=6),), 0),
    ("broadcast_rows", broadcast_rows, (RNG.normal(size=3), RNG.normal(size=(4, 1)), RNG.normal(size=(4, 3))),
     (0, 1, 2)),
    ("ratio", ratio, (RNG.normal(size=4), np.array([1.5, 0.0, -2.0, 0.0])), (0, 1)),
    ("relax", relax, (RNG.normal(size=5), 3), 0),
    ("log_loss", log_loss, (np.array([1.0, -2.0, 3.0, 800.0]), np.array([0.5, 1.0, -300.0, -1.5])), (0, 1)),
    ("two_uses", two_uses, (RNG.normal(size=7),), 0),
    ("rosenbrock", workloads.rosenbrock, workloads.rosenbrock_args(True), 0),
]


def _tangents(args, argnums):
    argnums = (argnums,) if isinstance(argnums, int) else argnums
    rng = np.random.default_rng(11)
    return tuple(rng.normal(size=np.shape(args[i])) if i in argnums else np.zeros(np.shape(args[i]))
                 for i in range(len(args))), argnums


@pytest.mark.parametrize("name, fun, args, argnums", PROGRAMS, ids=[p[0] for p in PROGRAMS])
def test_every_mode_matches_the_default_backend(name, fun, args, argnums):
    with np.errstate(all="ignore"):
        same(s2sad.grad(fun, argnums=argnums, backend="numba")(*args), s2sad.grad(fun, argnums=argnums)(*args))
        value, grads = s2sad.value_and_grad(fun, argnums=argnums, backend="numba")(*args)
        expected_value, expected_grads = s2sad.value_and_grad(fun, argnums=argnums)(*args)
        same((value, grads), (expected_value, expected_grads))
        if name in SPLIT:
            out, pullback = s2sad.vjp(fun, *args, backend="numba")
            expected_out, expected_pullback = s2sad.vjp(fun, *args)
            same((out, pullback(1.5)), (expected_out, expected_pullback(1.5)))


SPLIT = ("overlapping", "ratio", "two_uses", "rosenbrock", "log_loss")
"""Programs whose `vjp` the backend compiles (the adjoint sweep, given no shapes, is refused
where it broadcasts; a loop's residuals hold a `range`)."""
FORWARD = [p for p in PROGRAMS if p[0] not in ("broadcast_rows", "relax")]
"""Programs whose `jvp` it compiles (a tangent's broadcast, given no shapes, is refused)."""


@pytest.mark.parametrize("name, fun, args, argnums", FORWARD, ids=[p[0] for p in FORWARD])
def test_forward_mode_matches_the_default_backend(name, fun, args, argnums):
    tangents, _ = _tangents(args, argnums)
    with np.errstate(all="ignore"):
        same(s2sad.jvp(fun, args, tangents, backend="numba"), s2sad.jvp(fun, args, tangents))


@pytest.mark.parametrize("fun", [overlapping])
def test_the_values_are_the_functions_own(fun):
    """Against the function itself, not only the other backend: the writes' order."""
    x = np.array([0.5, -1.0, 2.0, 0.25])
    value, _ = s2sad.value_and_grad(fun, backend="numba")(x)
    assert value == pytest.approx(fun(x), rel=1e-14)
    step = 1e-6 * np.random.default_rng(3).normal(size=4)
    slope = (fun(x + step) - fun(x - step)) / 2
    assert s2sad.grad(fun, backend="numba")(x) @ step == pytest.approx(slope, rel=1e-6)


def test_rosenbrocks_adjoint_is_two_loops_with_no_temporary_between_its_uses():
    source = s2sad.show(workloads.rosenbrock, args=workloads.rosenbrock_args(True), backend="numba")
    lines = [line.strip() for line in source.splitlines()]
    assert lines[lines.index("for i in range(19):") + 1:][:6] == [
        "# line 178: return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)",
        "t2_i = t2[i]",
        "t22_i = 200.0 * (t1[i] - t2_i ** 2)",
        "t22_all[i] = t22_i",
        "bx_part[i] = -2.0 * (1 - t7[i]) + t22_i * t2_i * -2",
        "t22 = t22_all",
    ]
    assert "bx_part1[i1] += t22[i1]" in lines  # bx[1:] read after bx[:-1] is written: its own loop


def test_the_overlapping_write_is_not_fused_with_the_write_it_reads():
    source = s2sad.show(overlapping, args=(np.zeros(6),), backend="numba")
    loops = [line for line in source.splitlines() if line.strip().startswith("for ")]
    assert len(loops) >= 2


def test_an_integer_value_kept_after_a_run_keeps_its_dtype():
    """The fused loops' allocations (Numba intrinsics) have the dtype NumPy gives the inputs."""
    from s2sad.back import jit, jit_helpers

    jit.numba_module()
    empty = jit_helpers.INTRINSICS[jit_helpers.fused_empty]
    empty_real = jit_helpers.INTRINSICS[jit_helpers.fused_empty_real]
    made = numba.njit(lambda k: empty((3,), k, 3))(np.arange(3))
    assert made.dtype == np.int64 and made.shape == (3,)
    assert numba.njit(lambda k: empty((3,), k, 0.5))(np.arange(3)).dtype == np.float64
    assert numba.njit(lambda k: empty_real((3,), k))(np.arange(3)).dtype == np.float64
    f32 = np.ones(3, np.float32)
    assert numba.njit(lambda k: empty((3,), k, 0.5))(f32).dtype == np.float32
    matrix = numba.njit(lambda k: empty((2, 4), k, k))(np.ones((2, 4)))
    assert matrix.shape == (2, 4) and matrix.flags.c_contiguous
    assert numba.njit(lambda k: empty((2, 4), k, 1j))(np.ones((2, 4))).dtype == np.complex128


def _ref(obj, *path):
    return ir.Ref(obj, path, np if path[0] == "np" else None)


def test_a_read_of_a_view_of_a_written_array_stays_after_the_loop():
    """`s = np.sum(v)` reads nothing the run binds by name, but `v` is a view of `g`, which
    the run writes: it is not made before the loop (the fused code, run as Python, gives what
    the statements give)."""
    import operator

    from s2sad import runtime
    from s2sad.back import jit_loops
    from s2sad.back.emit import emit_module

    x, g, v, t1, t2, s, out = (ir.Var(n) for n in ("x", "g", "v", "t1", "t2", "s", "out"))
    getitem = ir.Ref(operator.getitem, ("operator", "getitem"), operator)
    body = [
        ir.Assign(g, ir.Call(_ref(np.zeros, "np", "zeros"), (ir.Const((6,)),)), 1),
        ir.Assign(v, ir.Call(getitem, (g, ir.Const(slice(1, None)))), 2),
        ir.Assign(t1, ir.Call(getitem, (x, ir.Const(slice(1, None)))), 3),
        ir.Assign(t2, ir.Call(ir.Ref(operator.mul, ("operator", "mul")), (t1, ir.Const(2.0))), 3),
        ir.Assign(g, ir.Call(ir.Ref(runtime.setitem, ("setitem",)), (g, ir.Const(slice(None, -1)), t2)), 3),
        ir.Assign(s, ir.Call(_ref(np.sum, "np", "sum"), (v,)), 4),
        ir.Assign(out, ir.Call(ir.Ref(operator.mul, ("operator", "mul")), (s, x)), 5),
        ir.Return(out, 5),
    ]
    fn = ir.Function("f", ["x"], body, "<test>", 1, {}, set(), ())
    table = {"x": (6,), "g": (6,), "v": (5,), "t1": (5,), "t2": (5,), "s": "()", "out": (6,)}
    fused = jit_loops.fuse(fn, table)
    ir.verify(fused)
    position = {type(st).__name__ + getattr(getattr(st, "target", None), "name", ""): i
                for i, st in enumerate(fused.body)}
    assert position["Fori"] < position["Assigns"]
    x_value = np.arange(6.0)
    results = []
    for function in (fn, fused):
        emitted = emit_module([function], set(function.temps))
        namespace = dict(emitted.namespace)
        exec(compile(emitted.source, "<test>", "exec"), namespace)
        results.append(namespace["f"](x_value))
    np.testing.assert_array_equal(results[1], results[0])
    assert results[0][1] == 2.0 * np.sum(x_value[2:]) * 1.0


def test_the_fused_code_is_verified_ir():
    """The pass keeps the IR's contract (one binding an assignment, in-place writes as such)."""
    from s2sad.analyses import shapes
    from s2sad.back import jit_loops

    x = ir.Var("x")
    table = {"x": (5,), "a": (5,), "b": (5,), "g": (5,)}
    body = [
        ir.Assign(ir.Var("a"), ir.Call(ir.Ref(np.sin, ("np", "sin"), np), (x,)), 1),
        ir.Assign(ir.Var("b"), ir.Call(ir.Ref(np.multiply, ("np", "multiply"), np), (ir.Var("a"), x)), 1),
        ir.Assign(ir.Var("g"), ir.Call(ir.Ref(np.zeros_like, ("np", "zeros_like"), np), (x,)), 2),
        ir.Return(ir.Var("b"), 3),
    ]
    fn = ir.Function("f", ["x"], body, "<test>", 1, {}, set(), ())
    fused = jit_loops.fuse(fn, table)
    ir.verify(fused)
    loops = [s for s in fused.body if isinstance(s, ir.For)]
    assert len(loops) == 1
    assert shapes.SCALAR == "()"


# ------------------------------------------------------------------ random runs


def _straight_line(seed: int, start: list[str], forms: list[str], writes: list[str]) -> str:
    """A function `f(x, y)` of `start`'s lines, then 5 to 9 random statements: a form of two
    earlier values (`{p}`, `{q}`), or a write of one into the buffer `g`; it returns a sum."""
    import random

    rng = random.Random(seed)
    lines = ["def f(x, y):"] + [f"    {line}" for line in start]
    pool = ["a0", "a1", "a2"]
    for k in range(3, 3 + rng.randint(5, 10)):
        p, q = rng.choice(pool), rng.choice(pool)
        form = rng.choice(forms + ["WRITE", "WRITE"])
        if form == "WRITE":
            lines.append(f"    {rng.choice(writes)}{p}")
            continue
        lines.append(f"    a{k} = " + form.format(p=p, q=q))
        pool.append(f"a{k}")
    lines.append(f"    return np.sum({pool[-1]} * {rng.choice(pool)}) + np.sum(g * g)")
    return "\n".join(lines) + "\n"


def _random_program(seed: int) -> str:
    """Elementwise statements over views of two vectors, writes into a buffer through
    overlapping selections and reads of it: what fusion must keep exact."""
    return _straight_line(seed, ["a0 = x[1:]", "a1 = y[:-1]", "a2 = x[:-1] * y[1:]", "g = np.zeros(6)"],
                          ["{p} + {q}", "{p} * {q}", "{p} - 0.5 * {q}", "{p} / (1.5 + {q} * {q})", "np.sin({p})",
                           "np.tanh({p}) * {q}", "np.exp(0.3 * {p})", "{p}[::-1]", "g[1:] * {p}", "g[:-1] + {q}"],
                          ["g[1:] = ", "g[:-1] = ", "g[1:] += ", "g[:-1] += ", "g[:-1] -= 0.5 * "])


def _random_matrix_program(seed: int) -> str:
    """The same over a matrix: a row vector and a column broadcast against it, the buffer
    written whole and reversed (`g[::-1] += v` after `g[:] = w` in one run would be wrong)."""
    return _straight_line(seed, ["a0 = x * y[0]", "a1 = x[::-1] - y[1:, :1]", "a2 = x[:, ::-1] * x",
                                 "g = np.zeros((4, 3))"],
                          ["{p} + {q}", "{p} * y[0]", "{p} - y[1:, :1] * {q}", "np.tanh({p}) * {q}", "{p}[::-1]",
                           "g * {p}", "g[::-1] + {q}"],
                          ["g[:] = ", "g[::-1] += ", "g[:, ::-1] -= 0.5 * ", "g += "])


def _loaded(source: str, name: str, folder):
    import importlib.util

    path = folder / f"{name}.py"
    path.write_text("import numpy as np\n\n\n" + source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_random_matrix_runs_match_the_function_and_the_default_backend(tmp_path):
    """Each program compiles (the adjoint of a write into a reversed selection, `zero_item`,
    included) and matches the function and the default backend."""
    for seed in range(16):
        module = _loaded(_random_matrix_program(seed), f"matrix_runs{seed}", tmp_path)
        rng = np.random.default_rng(seed)
        x, y = rng.normal(size=(4, 3)), rng.normal(size=(5, 3))
        value, grads = s2sad.value_and_grad(module.f, argnums=(0, 1), backend="numba")(x, y)
        assert value == pytest.approx(module.f(x, y), rel=1e-12)
        same(grads, s2sad.grad(module.f, argnums=(0, 1))(x, y))
        assert "for j in range(3):" in s2sad.show(module.f, args=(x, y), argnums=(0, 1), backend="numba")


@pytest.mark.parametrize("seed", range(24))
def test_random_runs_match_the_function_and_the_default_backend(seed, tmp_path):
    """Also at arguments past the vectorised `sin`'s range (`jit_math.WIDE`), where a fused loop
    runs again with NumPy's (the same compiled code: the arguments' types are the same)."""
    module = _loaded(_random_program(seed), f"runs{seed}", tmp_path)
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=6), rng.normal(size=6)
    compiled = s2sad.value_and_grad(module.f, argnums=(0, 1), backend="numba")
    for scale in (1.0, 3e5):
        with np.errstate(all="ignore"):
            value, grads = compiled(x * scale, y)
            assert value == pytest.approx(module.f(x * scale, y), rel=1e-12, nan_ok=True)
            same(grads, s2sad.grad(module.f, argnums=(0, 1))(x * scale, y))
    assert "for i in range(" in s2sad.show(module.f, args=(x, y), argnums=(0, 1), backend="numba")


# ------------------------------------------------------------------ accumulators updated in place


def _accumulating_program(seed: int) -> str:
    """A loop adding into accumulators (`acc = acc + v`, as adjoints do), with what must keep
    an accumulator's old elements: a copy read later, a view, a read of it at other elements,
    a second accumulator that reads the first."""
    import random

    rng = random.Random(seed)
    lines = ["def f(x, y):", "    acc = np.zeros(6)", "    other = np.zeros(6)", "    copy = acc",
             "    view = acc[::-1]", "    for k in range(3):"]
    forms = ["acc = acc + np.sin(x) * y", "acc = acc * 0.5 + x", "other = other + acc * y", "acc = acc + other",
             "copy = acc", "view = acc[::-1]", "acc = acc + acc[::-1] * 0.25",
             "other = other - 0.1 * x * acc", "acc = acc + np.tanh(other)"]
    lines += [f"        {rng.choice(forms)}" for _ in range(rng.randint(4, 8))]
    lines.append("    return np.sum(acc * acc) + np.sum(other * y) + np.sum(copy * x) + np.sum(view * y)")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("seed", range(12))
def test_accumulators_updated_in_place_match_the_function_and_the_default_backend(seed, tmp_path):
    """Every mode's result is the function's and the default backend's, whatever holds an
    accumulator's old array (an update in place would change what a copy, a view or a list sees)."""
    module = _loaded(_accumulating_program(seed), f"accumulating{seed}", tmp_path)
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=6), rng.normal(size=6)
    value, grads = s2sad.value_and_grad(module.f, argnums=(0, 1), backend="numba")(x, y)
    assert value == pytest.approx(module.f(x, y), rel=1e-12)
    same(grads, s2sad.grad(module.f, argnums=(0, 1))(x, y))
    tangents = (rng.normal(size=6), rng.normal(size=6))
    same(s2sad.jvp(module.f, (x, y), tangents, backend="numba"), s2sad.jvp(module.f, (x, y), tangents))


def test_the_rnns_adjoint_adds_into_its_accumulators_in_place():
    """`bb = bb + t36` writes into the array bb holds: nothing else holds it; so do the
    weights' `bwh = bwh + batch_sum1` and `bwx = bwx + batch_sum2`, added up a run of trips at a
    time (see test_jit_batched; the rows kept for them, `fused_empty((256, 32), bwh)`, are new
    arrays, not `bwh`'s)."""
    source = s2sad.show(workloads.rnn_loss, args=workloads.rnn_args(True), argnums=(0, 1, 2), backend="numba")
    reused = sorted(line.strip().split("(")[1].split(",")[0] for line in source.splitlines() if "fused_reuse(" in line)
    assert reused == ["bb", "bwh", "bwx"]
    assert "h_all = fused_empty_real(" in source  # the forward's `h` is on the tape: a new array a trip


def test_an_accumulator_is_reused_only_where_its_dtype_is_the_results():
    """`fused_reuse` gives the old array itself only where it is a C-contiguous, writeable array
    of the result's dtype and shape, in Python and compiled."""
    from s2sad.back import jit, jit_helpers

    old = np.zeros(3)
    assert jit_helpers.fused_reuse(old, (3,), old, 0.5) is old
    assert jit_helpers.fused_reuse(old, (3,), old, 1j).dtype == np.complex128
    ints = np.zeros(3, dtype=np.int64)
    assert jit_helpers.fused_reuse(ints, (3,), ints, 2) is ints
    assert jit_helpers.fused_reuse(ints, (3,), ints, 0.5).dtype == np.float64
    assert jit_helpers.fused_reuse_real(ints, (3,), ints) is not ints
    assert jit_helpers.fused_reuse(np.zeros(6)[::2], (3,), old) is not old
    frozen = np.zeros(3)
    frozen.flags.writeable = False
    assert jit_helpers.fused_reuse(frozen, (3,), frozen) is not frozen
    jit.numba_module()
    reuse = jit_helpers.INTRINSICS[jit_helpers.fused_reuse]
    same_array = numba.njit(lambda a: reuse(a, (3,), a, 0.5) is a)
    assert same_array(np.zeros(3))
    assert not numba.njit(lambda a: reuse(a, (3,), a, 0.5) is a)(np.zeros(3, dtype=np.int64))
    assert numba.njit(lambda a: reuse(a, (3,), a, 0.5))(np.zeros(3, dtype=np.int64)).dtype == np.float64


def test_a_loop_saving_a_name_twice_keeps_two_lists(tmp_path):
    """`acc` saved before each of two bindings in one trip: two lists by trip (`acc_trips`,
    `acc2_trips`), each named as a list kept by trip, so both get typed storage (the second,
    once `acc_trips_1`, was refused as a loop keeping values of unknown shape)."""
    source = ("def f(x, y):\n    acc = np.zeros(6)\n    other = np.zeros(6)\n    for k in range(3):\n"
              "        acc = acc + other\n        other = other + acc * y\n        acc = acc + other\n"
              "    return np.sum(acc * acc) + np.sum(other * x)\n")
    module = _loaded(source, "saved_twice", tmp_path)
    x, y = np.random.default_rng(2).normal(size=(2, 6))
    shown = s2sad.show(module.f, args=(x, y), argnums=(0, 1), backend="numba")
    assert "acc_trips = trip_storage(" in shown and "acc2_trips = trip_storage(" in shown, shown
    same(s2sad.grad(module.f, argnums=(0, 1), backend="numba")(x, y), s2sad.grad(module.f, argnums=(0, 1))(x, y))


# ------------------------------------------------------------------ sums along an axis in the loop


def sums_along_axes(x, w):
    """Sums of values a run computes, along each axis, kept or not, one read by the next run."""
    z = np.tanh(x * w) * x
    rows = np.sum(z, axis=1, keepdims=True)
    cols = np.sum(z * z, axis=0)
    return np.sum(rows * rows) + np.sum(cols * w[0]) + np.sum(z / (1.5 + rows))


def sums_beside_a_sine(x, w):
    """A run with `sin` (a loop that may be done again): its sums are made after the loop."""
    z = np.sin(x * w) * x
    return np.sum(np.sum(z, axis=0) ** 2) + np.sum(np.sum(z * w, axis=1) ** 2)


@pytest.mark.parametrize("fun", [sums_along_axes, sums_beside_a_sine])
def test_sums_along_an_axis_match_the_default_backend_in_every_mode(fun):
    rng = np.random.default_rng(4)
    x, w = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    value, grads = s2sad.value_and_grad(fun, argnums=(0, 1), backend="numba")(x, w)
    assert value == pytest.approx(fun(x, w), rel=1e-12)
    same(grads, s2sad.grad(fun, argnums=(0, 1))(x, w))
    tangents = (rng.normal(size=(5, 3)), rng.normal(size=(5, 3)))
    same(s2sad.jvp(fun, (x, w), tangents, backend="numba"), s2sad.jvp(fun, (x, w), tangents))


def test_a_sum_is_added_up_in_the_loop_that_computes_its_array():
    """The RNN's `db` term, `sum_axis(t34, 0)`: added up in the loop that makes t34."""
    source = s2sad.show(workloads.rnn_loss, args=workloads.rnn_args(True), argnums=(0, 1, 2), backend="numba")
    lines = [line.strip() for line in source.splitlines()]
    assert "sum_axis(" not in source, source
    allocation = next(line for line in lines if "fused_sum_empty(" in line)
    name = allocation.split(" = ")[0]
    assert any(line.startswith(f"{name}[j") and f"= {name}[j" in line for line in lines), source
    sine = s2sad.show(sums_beside_a_sine, args=(np.ones((5, 3)), np.ones((5, 3))), argnums=(0, 1), backend="numba")
    assert "sum_axis(" in sine  # a loop that may run again adds up nothing


def test_a_sum_starts_from_zero_as_numpys_does():
    """`fused_sum_empty` is zeros of the dtype `np.sum` gives; NumPy's sum of -0.0s is 0.0."""
    from s2sad.back import jit, jit_helpers

    jit.numba_module()
    start = jit_helpers.INTRINSICS[jit_helpers.fused_sum_empty]
    made = numba.njit(lambda v: start((2, 1), v))(np.ones(2))
    assert made.shape == (2, 1) and np.array_equal(made, np.zeros((2, 1))) and not np.any(np.signbit(made))
    assert numba.njit(lambda v: start((2,), v))(np.ones(2, dtype=np.int32)).dtype == np.int64
    assert numba.njit(lambda v: start((2,), v, 0.5))(np.ones(2, dtype=np.float32)).dtype == np.float32
    assert jit_helpers.fused_sum_empty((3,), np.ones(3, dtype=bool)).dtype == np.int64

    def column_sum(x):
        return np.sum(np.exp(x) * -0.0, axis=0)

    x = np.ones((3, 2))
    compiled = s2sad.jvp(column_sum, (x,), (np.ones((3, 2)),), backend="numba")
    plain = s2sad.jvp(column_sum, (x,), (np.ones((3, 2)),))
    assert "fused_sum_empty(" in s2sad.show(column_sum, args=(x,), mode="forward", backend="numba")
    for got, want in zip(compiled, plain):
        assert np.array_equal(np.signbit(got), np.signbit(want)) and np.array_equal(got, want)
