"""Run many seeds (in worker processes), shrink the failures, and summarise."""

from __future__ import annotations

import multiprocessing
import os
import re
import signal
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tests.fuzz.checks import Outcome, run_program
from tests.fuzz.generate import generate
from tests.fuzz.shrink import shrink

_DIR: Path | None = None


@dataclass
class Result:
    seed: int
    status: str
    kind: str
    detail: str
    seconds: float
    source: str
    shrunk: str = ""
    refused_higher: list[str] = field(default_factory=list)


class _Timeout(BaseException):  # not an Exception: nothing on the way may swallow it
    pass


def _alarm(signum, frame):
    raise _Timeout


def _directory() -> Path:
    global _DIR
    if _DIR is None:
        _DIR = Path(tempfile.mkdtemp(prefix="s2sad-fuzz-"))
    return _DIR


def run_seed(seed: int, shrink_failures: bool = True, timeout_s: int = 60) -> Result:
    """Generate, check and (on failure) shrink the program of one seed."""
    program = generate(seed)
    start = time.perf_counter()
    use_alarm = hasattr(signal, "SIGALRM")
    if use_alarm:
        signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(timeout_s)
    try:
        outcome = run_program(program, _directory())
    except _Timeout:
        outcome = Outcome("failed", "timeout", f"more than {timeout_s} s")
    finally:
        if use_alarm:
            signal.alarm(0)
    seconds = time.perf_counter() - start
    result = Result(seed, outcome.status, outcome.kind, outcome.detail, seconds, program.source,
                    refused_higher=outcome.refused_higher)
    if outcome.status == "failed" and shrink_failures and outcome.kind != "timeout":
        result.shrunk = shrink_seed(seed, outcome.kind)
    return result


def shrink_seed(seed: int, kind: str, budget_s: float = 30.0) -> str:
    """The shrunk source of the program of `seed`, still failing with `kind`."""
    try:
        return shrink(generate(seed), kind, _directory(), budget_s=budget_s).source
    except _Timeout:
        return generate(seed).source


def _work(job: tuple[int, bool, int]) -> Result:
    return run_seed(*job)


def _shrink_work(job: tuple[int, str]) -> tuple[int, str]:
    return job[0], shrink_seed(*job)


def _pool(jobs: int):
    ctx = multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn")
    return ctx.Pool(jobs, maxtasksperchild=200)


def run_many(seeds: Iterable[int], jobs: int = 1, shrink_failures: bool = False, timeout_s: int = 60):
    """Yield a `Result` per seed (in completion order when jobs > 1)."""
    work = [(s, shrink_failures, timeout_s) for s in seeds]
    if jobs <= 1:
        yield from map(_work, work)
        return
    with _pool(jobs) as pool:
        yield from pool.imap_unordered(_work, work, chunksize=4)


def shrink_many(failures: list[Result], jobs: int = 1, per_kind: int = 2) -> list[Result]:
    """Shrink the first `per_kind` failures (lowest seeds) of each kind, in parallel; return those."""
    chosen: dict[str, list[Result]] = {}
    for r in sorted(failures, key=lambda r: r.seed):
        if r.kind != "timeout" and len(chosen.setdefault(r.kind, [])) < per_kind:
            chosen[r.kind].append(r)
    picked = [r for rs in chosen.values() for r in rs]
    jobs_list = [(r.seed, r.kind) for r in picked]
    if jobs <= 1:
        shrunk = dict(map(_shrink_work, jobs_list))
    else:
        with _pool(jobs) as pool:
            shrunk = dict(pool.imap_unordered(_shrink_work, jobs_list))
    for r in picked:
        r.shrunk = shrunk[r.seed]
    return picked


def slug(kind: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", kind).strip("_") or "failure"


def write_failure(result: Result, out: Path) -> Path:
    """DIR/<kind>/seed<N>.py: the shrunk program, with the seed, kind and detail in a docstring."""
    folder = out / slug(result.kind)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"seed{result.seed}.py"
    detail = result.detail.replace('"""', "'''").replace("\\", "/")
    program = generate(result.seed)
    head = (f'"""Fuzz seed {result.seed}: {result.kind}\n\n{detail}\n\n'
            f"Arguments: {program.args!r}\n"
            f'Reproduce: python -m tests.fuzz --seeds {result.seed}:{result.seed + 1} -v\n"""\n\n')
    path.write_text(head + (result.shrunk or result.source))
    return path


@dataclass
class Summary:
    count: int = 0
    statuses: Counter = field(default_factory=Counter)
    failures: Counter = field(default_factory=Counter)
    refusals: Counter = field(default_factory=Counter)
    invalid: Counter = field(default_factory=Counter)
    higher_refusals: Counter = field(default_factory=Counter)
    examples: dict[str, list[int]] = field(default_factory=dict)
    seconds: float = 0.0

    def add(self, r: Result) -> None:
        self.count += 1
        self.statuses[r.status] += 1
        self.seconds += r.seconds
        bucket = {"failed": self.failures, "refused": self.refusals, "invalid": self.invalid}.get(r.status)
        if bucket is not None:
            bucket[r.kind] += 1
        if r.status == "failed":
            self.examples.setdefault(r.kind, []).append(r.seed)
        for h in r.refused_higher:
            self.higher_refusals[h] += 1

    @property
    def tested(self) -> int:
        """Programs that reached s2sad (the invalid ones never do)."""
        return self.count - self.statuses["invalid"]

    def refusal_rate(self) -> float:
        return self.statuses["refused"] / max(1, self.tested)

    def text(self, wall: float) -> str:
        lines = [f"programs: {self.count} generated, {self.tested} run through s2sad "
                 f"({self.statuses['invalid']} invalid, skipped)",
                 f"passed: {self.statuses['passed']}   refused: {self.statuses['refused']} "
                 f"({100 * self.refusal_rate():.1f}%)   failed: {self.statuses['failed']}",
                 f"time: {wall:.1f} s wall, {self.seconds / max(1, self.count):.3f} s per program"]
        for title, counter in (("failed by kind", self.failures), ("refused by error", self.refusals),
                               ("higher-order refusals (program otherwise passed)", self.higher_refusals),
                               ("invalid programs", self.invalid)):
            if counter:
                lines.append(f"{title}:")
                for kind, n in counter.most_common():
                    seeds = self.examples.get(kind, [])[:5] if counter is self.failures else []
                    where = f"   (seeds {', '.join(map(str, sorted(seeds)))})" if seeds else ""
                    lines.append(f"  {n:6d}  {kind}{where}")
        return "\n".join(lines)
