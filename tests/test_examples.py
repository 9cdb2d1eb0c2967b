"""The scripts in examples/ run, at their small sizes, and find what they say they find.

Each example's `main(small=True, plot=...)` returns its numbers; these tests check them (the
textbook values, the recovered parameters, the test accuracy, the minimum, the agreement with
finite differences), and that a figure is saved exactly when matplotlib is installed.
"""

from __future__ import annotations

import importlib.util
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import ROOT

EXAMPLES = ["worked_examples", "ode_fit", "digits_network", "newton_hessp", "projectile",
            "distributed_logistic_regression"]
HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None


def load(name: str):
    """examples/<name>.py as a module (examples/ is not a package), imported once."""
    key = f"s2sad_example_{name}"
    if key in sys.modules:
        return sys.modules[key]
    spec = importlib.util.spec_from_file_location(key, ROOT / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[key] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Each example's main at its small size, run once, with its figure in a temporary folder."""
    folder = tmp_path_factory.mktemp("plots")
    return {name: load(name).main(small=True, plot=str(folder / f"{name}.png")) for name in EXAMPLES}


def test_worked_examples_print_the_textbook_numbers(results):
    found = results["worked_examples"]
    assert found["value"] == pytest.approx(math.log(2.0) + 10.0, rel=1e-15)
    assert found["forward"] == pytest.approx((5.5, 2.0), rel=1e-15)
    assert found["reverse"] == pytest.approx((5.5, 2.0), rel=1e-15)
    assert found["g_prime_pi"] == pytest.approx(-2 * math.pi, rel=1e-14)
    assert found["g_prime_pi"] == pytest.approx(found["g_prime_pi_closed_form"], rel=1e-14)


def test_worked_examples_show_the_wengert_list_and_both_modes(results):
    found = results["worked_examples"]
    assert found["wengert"].splitlines() == [
        "def f(x1, x2):", "    t1 = np.log(x1)", "    t2 = x1 * x2", "    t3 = t1 + t2", "    return t3"]
    assert "def f_jvp(x1, x2, dx1, dx2):" in found["forward_code"]
    assert "dt1 = strong_div(dx1, x1)" in found["forward_code"]
    assert "def f_grad(x1, x2):" in found["reverse_code"]
    assert "bx2 = x1 * bt2" in found["reverse_code"]


def test_ode_fit_recovers_the_pendulum(results):
    found = results["ode_fit"]
    assert found["success"]
    assert np.all(found["relative_error"] < 0.05), found["fitted"]
    assert found["gradient_error"] < 1e-6
    np.testing.assert_allclose(found["fitted"], found["fitted_fd"], rtol=1e-3)
    assert found["calls"] < found["calls_fd"]  # one model call per gradient, not n + 1


def test_digits_network_reaches_its_test_accuracy(results):
    found = results["digits_network"]
    assert found["test_accuracy"] >= found["wanted"] == 0.95
    assert found["gradient_error"] < 1e-6
    assert found["losses"][-1] < 0.25 * found["losses"][0]


def test_newton_with_hessp_reaches_the_minimum(results):
    found = results["newton_hessp"]
    assert found["hvp_error"] < 1e-10
    assert set(found["methods"]) == {"trust-ncg", "trust-krylov", "Newton-CG", "BFGS"}
    for method, run in found["methods"].items():
        assert run["distance"] < 1e-6, method
        assert run["value"] < 1e-12, method
        assert (run["nhev"] > 0) == (method != "BFGS"), method


def test_projectile_sensitivities_match_finite_differences(results):
    found = results["projectile"]
    assert [row["degrees"] for row in found["rows"]] == [15, 30, 45, 60, 75]
    for row in found["rows"]:
        assert row["d_angle"] == pytest.approx(row["d_angle_fd"], rel=1e-5)
        assert row["d_speed"] == pytest.approx(row["d_speed_fd"], rel=1e-5)
    assert found["d_angle_forward_45"] == pytest.approx(found["rows"][2]["d_angle"], rel=1e-10)
    assert found["rows"][1]["d_angle"] > 0 > found["rows"][2]["d_angle"]  # farthest between 30 and 45 degrees
    assert 37.0 < found["best_degrees"] < 39.0
    assert found["best_distance"] > max(found["nearby_distances"])


@pytest.mark.parametrize("name", EXAMPLES)
def test_a_figure_is_saved_when_matplotlib_is_installed(results, name):
    plot = results[name]["plot"]
    if HAS_MATPLOTLIB:
        assert plot is not None and plot.endswith(f"{name}.png")
        with open(plot, "rb") as saved:
            assert saved.read(8) == b"\x89PNG\r\n\x1a\n"
    else:
        assert plot is None


def test_without_matplotlib_there_is_no_figure_and_no_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib raises ImportError
    found = load("worked_examples").main(plot=str(tmp_path / "figure.png"))
    assert found["plot"] is None
    assert not (tmp_path / "figure.png").exists()


@pytest.mark.parametrize("name", EXAMPLES)
def test_each_script_takes_small_and_plot(name):
    done = subprocess.run([sys.executable, str(ROOT / "examples" / f"{name}.py"), "--help"],
                          capture_output=True, text=True, timeout=120, env=_env())
    assert done.returncode == 0, done.stderr
    assert "--small" in done.stdout and "--plot" in done.stdout


def test_a_script_runs_from_the_command_line(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "worked_examples.py"), "--small",
                           "--plot", str(tmp_path / "figure.png")],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120, env=_env())
    assert done.returncode == 0, done.stderr
    assert "df/dx1 = 5.5, df/dx2 = 2.0" in done.stdout
    assert (tmp_path / "figure.png").exists() == HAS_MATPLOTLIB


def _env() -> dict:
    """This checkout's s2sad first on the path, whatever is installed."""
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": str(ROOT) + (os.pathsep + path if path else "")}


def test_distributed_logistic_regression_matches_numpy(results):
    """The descent on a Dask array split into chunks, on two worker processes, takes the steps
    the same descent takes on NumPy arrays, and lowers the loss."""
    found = results["distributed_logistic_regression"]
    assert found["chunks"] == 4 and found["graph_tasks"] > 4
    assert found["apart"] < 1e-12
    np.testing.assert_allclose(found["weights"], found["weights_numpy"], rtol=1e-12, atol=1e-15)
    assert found["loss_end"] < found["loss_start"] - 0.1
