"""Every rule is complete, tested and listed.

- docs/operations.md is exactly what `python -m s2sad.rules.catalog` writes (stale docs fail);
- every registered differentiable op has a tangent and an adjoint for each differentiable
  parameter;
- every registered op appears in the `SPECS` of some tests/rules/test_*.py module, or, for an op
  without derivative, in a `NONDIFF` list (whose tests check zero derivatives in both modes).

The registered ops are read in a fresh interpreter, so rules that tests register for their own
functions do not count.
"""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import numpy as np

from s2sad.rules.registry import lookup

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "operations.md"
REGENERATE = "python -m s2sad.rules.catalog > docs/operations.md"


def catalog(*args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "s2sad.rules.catalog", *args], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


@cache
def registered() -> tuple[dict, ...]:
    return tuple(json.loads(catalog("--json")))


def covered_ops() -> tuple[set[str], set[str]]:
    """Names of the ops in some module's SPECS, and of those in some NONDIFF list."""
    specs: set[str] = set()
    nondiff: set[str] = set()
    for path in sorted(Path(__file__).parent.glob("test_*.py")):
        module = importlib.import_module(f"tests.rules.{path.stem}")
        for spec in getattr(module, "SPECS", ()):
            rule = lookup(spec.op)
            if rule is not None:
                specs.add(rule.name)
        for item in getattr(module, "NONDIFF", ()):
            rule = lookup(getattr(item, "op", item))
            if rule is not None:
                nondiff.add(rule.name)
    return specs, nondiff


def test_operations_doc_is_current():
    expected = catalog()
    committed = _for_this_numpy(DOCS.read_text() if DOCS.exists() else "")
    if committed != DOCS.read_text():  # rows dropped: the counts in the first paragraph differ too
        expected, committed = (_COUNTS.sub("(N spellings in M rules)", text) for text in (expected, committed))
    assert committed == expected, f"docs/operations.md is stale; regenerate it with: {REGENERATE}"


_COUNTS = re.compile(r"\(\d+ spellings in \d+ rules\)")


def _for_this_numpy(text: str) -> str:
    """The committed catalog without the rows of NumPy names the installed NumPy no longer has
    (`np.row_stack` is gone from NumPy 2.5): the docs are written with the NumPy CI installs, and
    a newer one registers fewer spellings."""
    return "".join(line for line in text.splitlines(keepends=True) if not _gone_from_numpy(line))


def _gone_from_numpy(line: str) -> bool:
    spellings = re.findall(r"`np\.([\w.]+)`", line.split(" | ")[0]) if line.startswith("| `np.") else []
    return bool(spellings) and not any(_numpy_has(name) for name in spellings)


def _numpy_has(dotted: str) -> bool:
    obj = np
    for part in dotted.split("."):
        if not hasattr(obj, part):
            return False
        obj = getattr(obj, part)
    return True


def test_every_differentiable_op_has_both_directions():
    incomplete = {op["name"]: op["incomplete"] for op in registered() if op["incomplete"]}
    assert not incomplete, f"parameters without a tangent or an adjoint: {incomplete}"


def test_every_differentiable_op_has_a_spec():
    specs, _ = covered_ops()
    missing = sorted(op["name"] for op in registered() if not op["nondiff"] and op["name"] not in specs)
    assert not missing, f"no SPECS entry in tests/rules/test_*.py for: {', '.join(missing)}"


def test_every_op_without_derivative_is_tested():
    specs, nondiff = covered_ops()
    missing = sorted(op["name"] for op in registered() if op["nondiff"] and op["name"] not in specs | nondiff)
    assert not missing, f"no NONDIFF (or SPECS) entry in tests/rules/test_*.py for: {', '.join(missing)}"
