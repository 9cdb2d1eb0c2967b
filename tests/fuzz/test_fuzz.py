"""The differential tester in CI: a fixed seed range of generated programs, checked in every mode
(see docs/testing.md), plus checks that the tester itself stays sharp: deterministic programs,
few invalid programs, a bounded refusal rate, and a deliberately wrong derivative caught and shrunk.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest

from tests.fuzz.checks import fd_agrees, run_program, validate
from tests.fuzz.generate import Program, generate
from tests.fuzz.runner import Summary, run_many
from tests.fuzz.shrink import shrink

CI_SEEDS = range(0, 250)
MAX_REFUSAL_RATE = 0.35  # of the programs that reach s2sad (main: about 25%, most of it spurious, see docs)
MAX_INVALID_RATE = 0.15  # of the programs generated


@pytest.fixture(scope="module")
def ci_summary() -> tuple[Summary, list]:
    summary, failures = Summary(), []
    for result in run_many(CI_SEEDS, jobs=2, timeout_s=60):
        summary.add(result)
        if result.status == "failed":
            failures.append(result)
    return summary, failures


def test_fixed_seed_range_finds_nothing(ci_summary):
    summary, failures = ci_summary
    lines = [f"seed {r.seed}: {r.kind}: {(r.detail.splitlines() or [''])[-1][:160]}"
             for r in sorted(failures, key=lambda r: r.seed)]
    if failures:
        pytest.fail(f"{len(failures)} of {summary.tested} programs fail; reproduce one with "
                    f"`python -m tests.fuzz --seeds N:N+1 -v`:\n" + "\n".join(lines), pytrace=False)


def test_refusal_rate_is_bounded(ci_summary):
    """The tester must not degrade into refusing everything (a generator drifting off the
    supported constructs, or s2sad refusing more than it should)."""
    summary, _ = ci_summary
    assert summary.tested >= 0.8 * len(CI_SEEDS)
    assert summary.refusal_rate() <= MAX_REFUSAL_RATE, summary.text(0.0)


def test_generated_programs_are_mostly_valid(ci_summary):
    summary, _ = ci_summary
    assert summary.statuses["invalid"] <= MAX_INVALID_RATE * summary.count, summary.text(0.0)


def test_programs_are_deterministic():
    for seed in (0, 17, 4242):
        a, b = generate(seed), generate(seed)
        assert a.source == b.source and a.vector == b.vector
        assert all(np.array_equal(x, y) for x, y in zip(a.args, b.args))
    assert generate(1).source != generate(2).source


def test_generator_covers_the_constructs():
    text = "\n".join(generate(seed).source for seed in range(80))
    for construct in ("if ", "elif ", "else:", "for ", "while ", "break", "continue", "return", "enumerate(",
                      "zip(", ".append(", ".pop()", "] = ", "] += ", "{'", " for ", "np.sum(", "axis=", " @ ",
                      "[1:]", "def h0(", "(p, n - 1)", "math.", "np.where(", "try:", "except ValueError:",
                      "finally:"):
        assert construct in text, construct


WRONG = '''
import numpy as np
import s2sad


@s2sad.custom_jvp
def bent(x):
    return np.sin(x)


@bent.defjvp
def bent_jvp(primals, tangents):
    (x,), (dx,) = primals, tangents
    return bent(x), dx * np.cos(x) * 1.5


def f(x, y):
    a = np.tanh(y)
    b = a * 2.0
    if x > -5.0:
        a = a + 1.0
    return np.sum(b * a) + bent(x)
'''


def test_a_wrong_derivative_is_caught_and_shrunk():
    program = Program(seed=0, source=WRONG, args=(0.3, np.array([0.1, -0.4, 0.7])), vector=False)
    assert validate(program)[0] is not None
    with tempfile.TemporaryDirectory() as tmp:
        outcome = run_program(program, Path(tmp))
        assert (outcome.status, outcome.kind) == ("failed", "wrong:grad-vs-fd")
        small = shrink(program, outcome.kind, Path(tmp), budget_s=60)
        assert len(small.source) < len(program.source)
        assert "if " not in small.source and "bent(x)" in small.source
        assert run_program(small, Path(tmp)).kind == "wrong:grad-vs-fd"


def test_differences_decide_only_where_they_converge():
    args, u = (np.array([0.3, -0.2]),), (np.array([1.0, 0.5]),)
    smooth = lambda a: float(np.sum(np.sin(a[0])))
    right = float(np.cos(args[0]) @ u[0])
    assert fd_agrees(right, smooth, args, u)[0]
    assert not fd_agrees(1.01 * right, smooth, args, u)[0]
    fast = lambda a: float(np.sum(np.cos(3e5 * a[0])))  # varies faster than the step resolves
    assert fd_agrees(123.0, fast, args, u)[0]
