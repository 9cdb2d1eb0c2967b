"""The benchmark report: markdown tables, the machine they were measured on, and `--write`.

`markdown` turns the runner's measurements into the text printed to stdout; `write` puts it
between the markers of docs/performance.md, replaces the README's speed table with a summary
and draws docs/performance.png when matplotlib is installed.
"""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from pathlib import Path

import numpy as np
import peers

ROOT = Path(__file__).resolve().parent.parent
PERFORMANCE = ROOT / "docs" / "performance.md"
README = ROOT / "README.md"
CHART = ROOT / "docs" / "performance.png"
COLUMNS = ("primal", "hand-written", "s2sad", "s2sad numba", *peers.PEERS)
TARGET_RATIO, TARGET_BUILD, TARGET_OVERHEAD, TARGET_LONG = 1.10, 0.050, 5e-6, 1.0


# ------------------------------------------------------------------ formatting


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if abs(seconds) >= scale * 0.9995:  # (999.7 ms rounds to 3 digits as 1 s, not "1e+03 ms")
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"


def size(count: int) -> str:
    for unit, scale in (("MiB", 2**20), ("KiB", 2**10)):
        if count >= scale:
            return f"{count / scale:.3g} {unit}"
    return f"{count} B"


def ratio(result, name: str) -> float | None:
    if name not in result.times or "hand-written" not in result.times:
        return None
    return result.times[name] / result.times["hand-written"]


def _ratio_text(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x" if value < 10 else f"{value:.3g}x"


def machine() -> list[str]:
    """CPU, cores, Python, NumPy, the s2sad commit and the peers' versions."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    found = peers.versions()
    return [f"CPU: {cpu}, {os.cpu_count()} cores visible (a shared virtual machine); one thread, pinned to one core",
            f"Python {platform.python_version()}, NumPy {np.__version__}, s2sad commit {_commit()}",
            "peers: " + (", ".join(f"{k} {v}" for k, v in found.items()) or "none installed")]


def _commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        return out.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


# ------------------------------------------------------------------ the report


def markdown(results, overhead, long_builds, repeats: int, quick: bool) -> str:
    today = datetime.date.today().isoformat()
    lines = [f"Measured {today}{' (--quick)' if quick else ''}: best of {repeats} interleaved repeats, "
             "single-threaded.", ""]
    lines += [f"- {line}" for line in machine()]
    lines += ["", "### Gradient time per call", ""]
    lines += _table(["workload", *COLUMNS], [[r.work.title] + [_time_cell(r, c) for c in COLUMNS] for r in results])
    lines += ["", "### Ratio to the hand-written gradient (lower is faster)", ""]
    lines += _table(["workload", *[c for c in COLUMNS if c != "hand-written"]],
                    [[r.work.title] + [_ratio_cell(r, c) for c in COLUMNS if c != "hand-written"] for r in results])
    lines += ["", "### Build time and memory", ""]
    lines += _table(["workload", "s2sad build", "Numba compile", "JAX jit compile", "peak memory, s2sad",
                     "peak memory, hand-written", "memory ratio"], [_memory_row(r) for r in results])
    lines += ["", "### Cost of calling the derivative object", ""]
    lines += _table(["case", "derivative object", "generated function", "added per call"],
                    [[title, duration(a), duration(b), duration(a - b)] for title, a, b in overhead])
    if long_builds:
        lines += ["", "### Build time of a long straight-line model (7 operations a line)", ""]
        lines += _table(LONG_HEADER, _long_rows(long_builds))
    lines += ["", "### Targets (issue 11)", ""] + _targets(results, overhead, long_builds)
    failed = [r for r in results if r.failure]
    if failed:
        lines += ["", "**MISMATCH** (not timed): " + "; ".join(f"{r.work.name}: {r.failure}" for r in failed)]
    return "\n".join(lines) + "\n"


def _time_cell(result, name: str) -> str:
    if result.failure and name == "s2sad":
        return "**MISMATCH**"
    return duration(result.times[name]) if name in result.times else "n/a"


def _ratio_cell(result, name: str) -> str:
    text = _ratio_text(ratio(result, name))
    return f"**{text}**" if name == "s2sad" and text != "n/a" else text


def _memory_row(result) -> list[str]:
    if result.memory is None:
        return [result.work.title, "n/a", "n/a", "n/a", "n/a", "n/a", "n/a"]
    mine, theirs = result.memory
    return [result.work.title, duration(result.build), duration(result.compile_numba), duration(result.compile_jit),
            size(mine), size(theirs), f"{mine / theirs:.2f}x" if theirs else "n/a"]


def long_builds_markdown(long_builds) -> str:
    """The long model's build-time table alone (`run.py --long-only`)."""
    return "\n".join(_table(LONG_HEADER, _long_rows(long_builds))) + "\n"


LONG_HEADER = ["lines", "grad", "value_and_grad", "jvp", "grad per line", "grad, over half the lines"]


def _long_rows(long_builds) -> list[list[str]]:
    """One row per length; the last column, the growth from the model half as long (2.00x: linear)."""
    rows = []
    for lines in sorted({n for n, _ in long_builds}):
        cells = [duration(long_builds.get((lines, mode))) for mode in ("grad", "value_and_grad", "jvp")]
        half = long_builds.get((lines // 2, "grad")) if lines % 2 == 0 else None
        growth = f"{long_builds[(lines, 'grad')] / half:.2f}x" if half else ""
        rows.append([str(lines), *cells, duration(long_builds[(lines, "grad")] / lines), growth])
    return rows


def _targets(results, overhead, long_builds) -> list[str]:
    timed = [r for r in results if not r.failure]
    slow = [f"{r.work.name} {ratio(r, 's2sad'):.2f}x" for r in timed if ratio(r, "s2sad") > TARGET_RATIO]
    heavy = [f"{r.work.name} {duration(r.build)}" for r in timed if r.build is not None and r.build > TARGET_BUILD]
    added = max((a - b for _, a, b in overhead), default=0.0)
    lines = [_met(not slow and len(timed) == len(results), f"gradient within {TARGET_RATIO:.2f}x of hand-written on "
                  f"every workload" + (f" (over: {', '.join(slow)})" if slow else "")),
             _met(not heavy, "build under 50 ms" + (f" (over: {', '.join(heavy)})" if heavy else "")),
             _met(added < TARGET_OVERHEAD, f"cached call adds under 5 µs (measured: up to {duration(added)})")]
    if long_builds:
        longest = long_builds[(max(n for n, _ in long_builds), "grad")]
        growth = long_builds[(400, "grad")] / long_builds[(100, "grad")] if (100, "grad") in long_builds else None
        lines.append(_met(longest < TARGET_LONG, f"400-line model's gradient builds under 1 s (measured: "
                          f"{duration(longest)}; 4x the lines took {growth:.1f}x the time, linear is 4x)"))
    return lines


def _met(ok: bool, text: str) -> str:
    return f"- {'met' if ok else '**not met**'}: {text}"


# ------------------------------------------------------------------ --write


def write(text: str, results) -> None:
    _replace_between(PERFORMANCE, "<!-- benchmark:start -->", "<!-- benchmark:end -->", text)
    _replace_between(README, "<!-- speed:start -->", "<!-- speed:end -->", readme_summary(results))
    chart(results)


def _replace_between(path: Path, start: str, end: str, text: str) -> None:
    content = path.read_text()
    if start not in content or end not in content:
        raise SystemExit(f"{path} lacks the markers {start} and {end}")
    before, rest = content.split(start, 1)
    after = rest.split(end, 1)[1]
    path.write_text(f"{before}{start}\n{text.strip()}\n{end}{after}")
    print(f"wrote {path.relative_to(ROOT)}")


def readme_summary(results) -> str:
    rows = []
    for r in results:
        found = [(ratio(r, p), p) for p in peers.PEERS if ratio(r, p) is not None]
        best = min(found) if found else None
        rows.append([r.work.title, "**MISMATCH**" if r.failure else _ratio_text(ratio(r, "s2sad")),
                     f"{best[1]} {_ratio_text(best[0])}" if best else "n/a"])
    lines = [f"Time per gradient call as a ratio to the hand-written NumPy gradient (lower is faster), "
             f"single-threaded on a shared 2-core VM, {datetime.date.today().isoformat()}; details, memory and "
             "build times in [docs/performance.md](docs/performance.md) (JAX jit: steady calls, its compile time "
             "not included):", ""]
    return "\n".join(lines + _table(["workload", "s2sad", "best peer"], rows))


def chart(results) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no docs/performance.png (pip install matplotlib)")
        return
    names = ["s2sad", *peers.PEERS]
    shown = [r for r in results if not r.failure]
    fig, ax = plt.subplots(figsize=(9, 0.55 * len(shown) * 1.6 + 1.5))
    height = 0.8 / len(names)
    for i, name in enumerate(names):
        values = [ratio(r, name) or float("nan") for r in shown]
        ax.barh([k + i * height for k in range(len(shown))], values, height, label=name)
    ax.set_yticks([k + 0.4 - height / 2 for k in range(len(shown))], [r.work.title for r in shown], fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xlabel("time per gradient call / hand-written NumPy gradient (log scale; missing bar: n/a)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(CHART, dpi=110)
    plt.close(fig)
    print(f"wrote {CHART.relative_to(ROOT)}")
