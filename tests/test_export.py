"""`s2sad.export` and `s2sad export`: the derivative as a standalone module.

Each exported module is imported in a fresh interpreter that cannot import s2sad (`python -I
-S`, with only the tmp dir and NumPy's site-packages on its path), called on fixed-seed
random inputs, and its result compared with s2sad's own to 1e-12.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import s2sad
from tests.conftest import ROOT, run_main
from tests.fixtures import exported as fx
from tests.programs import conv, newton, ode, rnn

SITE = str(Path(np.__file__).resolve().parent.parent)

RUNNER = textwrap.dedent("""
    import pickle, sys
    sys.path[:0] = [sys.argv[1], sys.argv[2]]
    try:
        import s2sad
    except ImportError:
        pass
    else:
        raise SystemExit("s2sad is importable here")
    import exported_module as m
    entry = getattr(m, m.__all__[0])
    with open(sys.argv[3], "rb") as f:
        args = pickle.load(f)
    with open(sys.argv[4], "wb") as f:
        pickle.dump(entry(*args), f)
""")


def without_s2sad(tmp_path: Path) -> Path:
    """A folder that holds what numpy's site-packages holds (links), but s2sad: installed with
    `pip install .` (CI), s2sad sits beside numpy there."""
    site = tmp_path / "site_without_s2sad"
    if not site.exists():
        site.mkdir()
        for entry in Path(SITE).iterdir():
            if not entry.name.startswith(("s2sad", "__editable__")) and entry.suffix != ".pth":
                (site / entry.name).symlink_to(entry)
    return site


def run_standalone(tmp_path: Path, text: str, args: tuple) -> object:
    """What the exported module's entry returns on `args`, run where s2sad cannot be imported."""
    (tmp_path / "exported_module.py").write_text(text)
    (tmp_path / "runner.py").write_text(RUNNER)
    (tmp_path / "args.pkl").write_bytes(pickle.dumps(args))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    done = subprocess.run([sys.executable, "-I", "-S", str(tmp_path / "runner.py"), str(tmp_path),
                           str(without_s2sad(tmp_path)),
                           str(tmp_path / "args.pkl"), str(tmp_path / "out.pkl")],
                          capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return pickle.loads((tmp_path / "out.pkl").read_bytes())


def assert_close(got: object, want: object) -> None:
    if isinstance(want, (tuple, list)):
        assert type(got) is type(want) and len(got) == len(want)
        for g, w in zip(got, want):
            assert_close(g, w)
    elif isinstance(want, dict):
        assert sorted(got) == sorted(want)
        for k in want:
            assert_close(got[k], want[k])
    else:
        assert np.shape(got) == np.shape(want)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


rng = np.random.default_rng(7)
X4 = rng.normal(size=4)
Y3 = rng.normal(size=3)
LAYER = ({"w": rng.normal(size=(3, 4)), "b": rng.normal(size=3)}, rng.normal(size=4))

REVERSE = {
    # name: (function, argnums, args[, kinds: None for a container])
    "readme": (fx.readme, 0, (1.7, 0.3)),
    "readme_both": (fx.readme, (0, 1), (1.7, 0.3)),
    "loop_if": (fx.loop_if, 0, (np.array([0.7, -1.2, 0.4, -0.3]),)),
    "arrays": (fx.arrays, (0, 1), (X4, Y3)),
    "writes": (fx.writes, (0, 1), (X4, Y3)),
    "layer": (fx.layer, 0, LAYER, (None, "array")),
    "grow": (fx.grow, 0, (0.8,)),
    "nested": (fx.nested, 0, (X4,)),
    "plain_helper": (fx.plain_helper, 0, (0.4,)),
    "name_clash": (fx.name_clash, 0, (X4,)),
    "recursion": (fx.power_tower, 0, (0.7, 3)),
    "unoptimized": (fx.arrays, 1, (X4, Y3)),
    "dict_write": (fx.dict_write, 0, ({"a": 1.5, "b": 2.0}, 0.3), (None, "scalar")),
    "list_append": (fx.list_append, 0, ([1.0, -2.0, 3.5],), (None,)),
    "with_block": (fx.guarded_log, 0, (np.abs(X4) + 0.1,)),
    "rnn": (rnn.rnn_loss, (0, 1, 2), (rng.normal(size=(3, 2)), rng.normal(size=(3, 3)), rng.normal(size=3),
                                      rng.normal(size=(6, 2)), rng.normal(size=3))),
    "euler": (ode.oscillator, (2, 3), (2.0, 0.3, 1.0, 0.0, 0.013, 1.0)),
    "newton": (newton.newton_sqrt, 0, (2.0, 8)),
    "second_derivative": (s2sad.grad(newton.newton_sqrt), 0, (2.0,)),
    "conv": (conv.conv_loss, (0, 1, 2), (rng.normal(size=9), rng.normal(size=3), rng.normal(size=7))),
}


@pytest.mark.parametrize("case", sorted(REVERSE))
def test_reverse_export_runs_without_s2sad(case, tmp_path):
    fun, argnums, args, *kinds = REVERSE[case]
    text = s2sad.export(fun, mode="reverse", argnums=argnums, optimize=case != "unoptimized",
                        kinds=kinds[0] if kinds else None)
    assert_close(run_standalone(tmp_path, text, args), s2sad.grad(fun, argnums)(*args))


def test_a_name_two_pieces_use_is_renamed_in_one():
    text = s2sad.export(fx.name_clash)
    assert "seed_1 = 0.25\n" in text and "return n * seed_1\n" in text and " = unreduce(seed(t4) " in text


def test_user_functions_called_by_the_code_are_copied():
    text = s2sad.export(fx.plain_helper)
    assert "def decay(n):\n    return 0.5 ** n + SCALE\n" in text and "SCALE = 2.5\n" in text


FORWARD = {
    # name: (function, argnums, primals, tangents of the arguments in argnums)
    "readme": (fx.readme, (0, 1), (1.7, 0.3), (0.4, -2.0)),
    "loop_if": (fx.loop_if, 0, (np.array([0.7, -1.2, 0.4, -0.3]),), (X4,)),
    "arrays": (fx.arrays, 1, (X4, Y3), (Y3[::-1].copy(),)),
    "grow": (fx.grow, 0, (0.8,), (1.0,)),
}


@pytest.mark.parametrize("case", sorted(FORWARD))
def test_forward_export_is_the_jvp(case, tmp_path):
    fun, argnums, primals, tangents = FORWARD[case]
    text = s2sad.export(fun, mode="forward", argnums=argnums)
    positions = argnums if isinstance(argnums, tuple) else (argnums,)
    given = dict(zip(positions, tangents))
    every = tuple(given.get(i, np.zeros_like(p)) for i, p in enumerate(primals))  # the others held still
    want = s2sad.jvp(fun, primals, every)
    assert_close(run_standalone(tmp_path, text, (*primals, *tangents)), tuple(want))


def test_forward_over_reverse_export_is_the_hessian_vector_product(tmp_path):
    gradient = s2sad.grad(fx.rosen)
    text = s2sad.export(gradient, mode="forward")
    x, v = rng.normal(size=5), rng.normal(size=5)
    want = s2sad.jvp(gradient, (x,), (v,))
    assert_close(run_standalone(tmp_path, text, (x, v)), tuple(want))
    np.testing.assert_allclose(want[1], s2sad.hessian(fx.rosen)(x) @ v, rtol=1e-12)


def test_taylor_export_gives_the_coefficients(tmp_path):
    x, series = 0.6, ([1.0, 0.5, 0.0],)
    text = s2sad.export(fx.series, mode="taylor", order=3)
    got = run_standalone(tmp_path, text, ((x,), series))
    want = s2sad.taylor(fx.series, order=3)((x,), series)
    assert_close(got, (want[0], list(want[1])))


def test_specialised_export_checks_its_arguments(tmp_path):
    text = s2sad.export(fx.arrays, argnums=(0, 1), shapes=[(4,), (3,)])
    assert "x array of shape (4,), y array of shape (3,) (other arguments raise TypeError)" in text
    assert_close(run_standalone(tmp_path, text, (X4, Y3)), s2sad.grad(fx.arrays, (0, 1))(X4, Y3))
    namespace: dict = {}
    exec(compile(text, "<export>", "exec"), namespace)  # noqa: S102 - the module under test
    with pytest.raises(TypeError, match="exported for x an array of shape \\(4,\\), not ndarray"):
        namespace["arrays_grad"](np.ones(5), Y3)


def test_generic_export_refuses_a_container(tmp_path):
    text = s2sad.export(fx.layer)
    namespace: dict = {}
    exec(compile(text, "<export>", "exec"), namespace)  # noqa: S102 - the module under test
    with pytest.raises(TypeError, match="exported for params a number or an array, not dict"):
        namespace["layer_grad"](*LAYER)


def test_a_dataclass_argument_with_kind_none():
    text = s2sad.export(fx.dataclass_loss, kinds=(None, "array"))
    namespace: dict = {}
    exec(compile(text, "<export>", "exec"), namespace)  # noqa: S102 - the module under test
    p, x = fx.Params(rng.normal(size=3), 0.3), rng.normal(size=3)
    got, want = namespace["dataclass_loss_grad"](p, x), s2sad.grad(fx.dataclass_loss)(p, x)
    assert type(got) is fx.Params and got.b == pytest.approx(want.b, rel=1e-12)
    np.testing.assert_allclose(got.w, want.w, rtol=1e-12)


def test_scalar_kinds(tmp_path):
    text = s2sad.export(fx.readme, argnums=(0, 1), kinds=("scalar", "scalar"))
    assert_close(run_standalone(tmp_path, text, (1.7, 0.3)), s2sad.grad(fx.readme, (0, 1))(1.7, 0.3))


def test_writes_the_file_it_returns(tmp_path):
    path = tmp_path / "d.py"
    text = s2sad.export(fx.readme, path)
    assert path.read_text() == text
    assert text.startswith("# Exported by s2sad")
    assert "import s2sad" not in text and "from s2sad" not in text


def test_header_says_where_it_came_from():
    text = s2sad.export(fx.loop_if)
    header = [line for line in text.splitlines() if line.startswith("#")][:6]
    assert header[0] == f"# Exported by s2sad {s2sad.__version__} (s2sad.export): the gradient of loop_if."
    assert header[1].endswith("exported.py:loop_if (line 23)")
    assert header[2] == "# Mode: reverse; argnums: 0 (x)"
    assert "def loop_if_grad(x):" in text and "def bump_bwd(" in text and "WEIGHTS = np.array(" in text


def test_same_function_same_text():
    assert s2sad.export(fx.nested) == s2sad.export(fx.nested)


def test_golden_export(golden, monkeypatch):
    monkeypatch.chdir(ROOT)
    golden("export_loop_if.py.txt", s2sad.export(fx.loop_if))


REFUSED = {
    "custom_vjp": (fx.uses_custom, "a function with a custom rule"),
    "checkpoint": (fx.uses_checkpoint, "calls a function value"),
    "function values": (fx.uses_values, "calls a function value"),
    "object": (fx.reads_object, "OPAQUE .* an object of type Opaque"),
    "variadic": (fx.variadic, "takes \\*args or \\*\\*kwargs"),
    "bound method": (fx.Model(np.ones(3)).loss, "bound method"),
    "global state": (fx.counted, "keeps state in its module"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refusals_are_export_errors(case, tmp_path):
    fun, message = REFUSED[case]
    with pytest.raises(s2sad.ExportError, match=message) as info:
        s2sad.export(fun, tmp_path / "never.py")
    assert info.value.where is not None and info.value.where.filename.endswith("exported.py")
    assert not (tmp_path / "never.py").exists()


def test_kinds_for_each_parameter():
    with pytest.raises(s2sad.UsageError, match="kinds gives 1 entries but readme takes 2 parameters"):
        s2sad.export(fx.readme, kinds=("scalar",))


@pytest.mark.parametrize(("fun", "line"), [(fx.uses_values, "s = s + f(x)"),
                                          (fx.reads_object, "return x * (2.0 if OPAQUE else 1.0)"),
                                          (fx.counted, "global calls")])
def test_refusal_names_the_users_line(fun, line):
    with pytest.raises(s2sad.ExportError) as info:
        s2sad.export(fun)
    assert info.value.where.text.strip() == line


def test_cli_writes_the_module(tmp_path, cli):
    out = tmp_path / "exported_module.py"
    done = cli("export", "tests/fixtures/exported.py:readme", "--argnums", "0,1", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert_close(run_standalone(tmp_path, out.read_text(), (1.7, 0.3)), s2sad.grad(fx.readme, (0, 1))(1.7, 0.3))


def test_cli_prints_without_output_file():
    done = run_main("export", "tests.fixtures.exported:grow", "--mode", "forward")
    assert done.returncode == 0, done.stderr
    assert done.stdout == s2sad.export(fx.grow, mode="forward")


def test_cli_refusal_is_one_line(cli):
    done = cli("export", "tests/fixtures/exported.py:uses_values")
    assert done.returncode == 1
    assert done.stderr.startswith("s2sad: error: ") and "calls a function value" in done.stderr
