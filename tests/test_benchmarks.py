"""The benchmark workloads (benchmarks/workloads.py) at tiny sizes: s2sad's gradient equals the
hand-written one to 1e-12, and each hand-written gradient agrees with central differences.

The benchmark runner refuses to time a gradient that differs; these checks keep the workloads
themselves honest in CI at a cost of a second or two. No timings are asserted anywhere.
"""

import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

import s2sad
from tests.conftest import ROOT

_spec = importlib.util.spec_from_file_location("bench_workloads", ROOT / "benchmarks" / "workloads.py")
workloads = sys.modules["bench_workloads"] = importlib.util.module_from_spec(_spec)  # dataclasses look it up
_spec.loader.exec_module(workloads)

NAMES = [w.name for w in workloads.WORKLOADS]


def _positions(argnums) -> tuple[int, ...]:
    return (argnums,) if isinstance(argnums, int) else tuple(argnums)


def _direction(rng: np.random.Generator, value):
    if isinstance(value, dict):
        return {key: _direction(rng, item) for key, item in value.items()}
    if isinstance(value, float):
        return float(rng.standard_normal())
    return rng.standard_normal(np.shape(value))


def _moved(value, direction, step: float):
    if isinstance(value, dict):
        return {key: _moved(value[key], direction[key], step) for key in value}
    return value + step * direction


def _dot(grad, direction) -> float:
    return sum(float(np.sum(g * d)) for g, d in zip(workloads.leaves(grad), workloads.leaves(direction)))


@pytest.mark.parametrize("name", NAMES)
def test_s2sad_gradient_equals_the_hand_written_one(name):
    work = workloads.BY_NAME[name]
    args = work.args(small=True)
    got = s2sad.grad(work.primal, argnums=work.argnums)(*args)
    workloads.assert_same_gradient(got, work.grad(*args), rtol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_hand_written_gradient_matches_central_differences(name):
    work = workloads.BY_NAME[name]
    args = work.args(small=True)
    positions = _positions(work.argnums)
    rng = np.random.default_rng(11)
    directions = {p: _direction(rng, args[p]) for p in positions}
    step = 1e-6

    def along(sign: float) -> float:
        moved = [_moved(a, directions[i], sign * step) if i in directions else a for i, a in enumerate(args)]
        return float(work.primal(*moved))

    difference = (along(1.0) - along(-1.0)) / (2 * step)
    grad = work.grad(*args)
    grads = (grad,) if isinstance(work.argnums, int) else grad
    exact = sum(_dot(g, directions[p]) for g, p in zip(grads, positions))
    assert abs(exact) > 1e-3  # a direction the function really changes along
    assert difference == pytest.approx(exact, rel=1e-6)


def test_the_gradient_differs_where_the_hand_written_one_is_wrong():
    """The comparison the runner relies on catches a gradient off by one part in 1e9."""
    work = workloads.BY_NAME["rosenbrock"]
    (x,) = work.args(small=True)
    wrong = work.grad(x) * (1 + 1e-9)
    with pytest.raises(AssertionError):
        workloads.assert_same_gradient(wrong, work.grad(x))


def test_long_model_is_n_lines_of_seven_ops_and_its_modes_agree():
    source = workloads.long_model_source(12)
    body = [line for line in source.splitlines() if line.startswith("    h") and " = np." in line]
    assert len(body) == 12 and all(line.count("*") + line.count("+") + line.count("np.") == 7 for line in body)
    model = workloads.load_long_model(12)
    x, w = workloads.long_model_args()
    gx, gw = s2sad.grad(model, argnums=(0, 1))(x, w)
    tx, tw = np.random.default_rng(12).standard_normal(x.shape), np.zeros_like(w)
    value, tangent = s2sad.jvp(model, (x, w), (tx, tw))
    assert value == pytest.approx(model(x, w), rel=1e-14)
    assert tangent == pytest.approx(float(np.dot(gx, tx)), rel=1e-12)
    assert gw.shape == (7,) and np.all(np.isfinite(gw))


FAKE_VALGRIND = r"""#!/usr/bin/env python3
import re, sys
code = sys.argv[-1]
calls = int(re.search(r"range\((\d+)\)", code).group(1))
per_call = 150 if "'s2sad' ==" in code else 120
print(f"==1== Collected : {5_000_000 + calls * per_call}", file=sys.stderr)
"""


def test_instruction_counts_per_call(tmp_path):
    """benchmarks/instructions.py: one call's instructions are the difference of two callgrind
    runs over the calls (the build left out), a row per workload. Run here with a stand-in for
    valgrind that counts 120 instructions a hand-written call and 150 an s2sad one (a real
    valgrind run takes minutes: `python benchmarks/instructions.py` is the measurement)."""
    fake = tmp_path / "valgrind"
    fake.write_text(FAKE_VALGRIND)
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "instructions.py"), "--only",
                           "scalar_ops,mlp_small", "--calls", "50"], capture_output=True, text=True, timeout=120,
                          env=env)
    assert done.returncode == 0, done.stderr
    rows = ["| scalar_ops | 120 | 150 | 1.250x |", "| mlp_small | 120 | 150 | 1.250x |"]
    assert done.stdout.splitlines()[-2:] == rows


def test_dask_benchmark_agrees_with_numpy_at_a_small_size():
    """benchmarks/dask_logreg.py at a small size: the gradient on a Dask array read from disk by
    two workers equals NumPy's, and the figures it reports are printed."""
    pytest.importorskip("distributed")
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "dask_logreg.py"), "--rows", "3000",
                           "--cols", "4", "--chunk", "1000", "--steps", "1", "--memory-limit", "500MB"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "3 chunks" in done.stdout and "peak resident memory per worker" in done.stdout
    difference = float(done.stdout.split("two gradients: ")[1].split()[0])
    assert difference < 1e-12


def test_long_model_table_shows_growth_over_half_the_lines(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))  # as the scripts run: their modules side by side
    import report

    builds = {(lines, mode): seconds for lines, seconds in ((100, 0.2), (200, 0.44), (300, 0.7))
              for mode in ("grad", "value_and_grad", "jvp")}
    rows = report._long_rows(builds)
    assert [row[0] for row in rows] == ["100", "200", "300"]
    assert [row[-1] for row in rows] == ["", "2.20x", ""]  # 300 has no measured half
    assert report.long_builds_markdown(builds).splitlines()[0].endswith("| grad, over half the lines |")


def test_durations_round_into_the_next_unit(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import report

    assert [report.duration(t) for t in (0.9996, 0.9994, 2.5e-3, 999.8e-9, 1.5e-7)] == [
        "1 s", "999 ms", "2.5 ms", "1 µs", "150 ns"]
