"""The examples in docs/*.md are real: they run, and their printed output is what the docs show.

- A ```python block runs (the blocks of one page share a namespace, in order). Its source is
  registered in `linecache` as `<docs/PAGE.md, example N>`, so s2sad can read the functions
  it defines.
- An ```output block right after a ```python block is what that block prints.
- In a ```console block, each `$ s2sad ...` line is run (the CLI's `main`, from the repository
  root) and what it writes, stdout then stderr, must be the lines that follow it.

When the compiler's output changes on purpose, rewrite the outputs in place and review the diff:

    S2SAD_UPDATE_GOLDEN=1 python -m pytest tests/test_docs.py
    git diff docs/
"""

from __future__ import annotations

import contextlib
import io
import linecache
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT, UPDATE_GOLDEN, run_main

PAGES = ["README.md", "docs/how-it-works.md", "docs/api.md", "docs/higher-order.md", "docs/custom-rules.md",
         "docs/numba.md", "docs/arrays.md"]


@dataclass
class Block:
    lang: str
    first: int
    """Index of the block's first content line in the page's lines."""
    lines: list[str]

    @property
    def text(self) -> str:
        return "".join(line + "\n" for line in self.lines)


def read_blocks(lines: list[str]) -> list[Block]:
    blocks, i = [], 0
    while i < len(lines):
        if lines[i].startswith("```") and lines[i].strip() != "```":
            lang, start = lines[i][3:].strip(), i + 1
            end = next(j for j in range(start, len(lines)) if lines[j].strip() == "```")
            blocks.append(Block(lang, start, lines[start:end]))
            i = end
        i += 1
    return blocks


def follows(lines: list[str], earlier: Block, later: Block) -> bool:
    """Only blank lines between the end of `earlier` and the start of `later`."""
    between = lines[earlier.first + len(earlier.lines) + 1: later.first - 1]
    return all(not line.strip() for line in between)


def run_python(block: Block, page: str, number: int, namespace: dict) -> str:
    """Run the page's `number`-th python block; it is named by number, not line, so that a
    change in an output above it does not change what it prints."""
    filename = f"<{page}, example {number}>"
    linecache.cache[filename] = (len(block.text), None, block.text.splitlines(True), filename)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block.text, filename, "exec"), namespace)  # noqa: S102 - the docs' own examples
    return out.getvalue()


def run_console(block: Block) -> list[str]:
    """The block's lines with the output of every `$ s2sad` command replaced by the real one."""
    result: list[str] = []
    for line in block.lines:
        if line.startswith("$ "):
            result.append(line)
            args = shlex.split(line[2:])
            assert args[0] == "s2sad", f"console examples run s2sad only: {line}"
            done = run_main(*args[1:])
            result += (done.stdout + done.stderr).splitlines()
        elif not result:
            raise AssertionError(f"console block must start with a `$ ` command: {line!r}")
    return result


def check_page(page: str) -> list[tuple[Block, list[str]]]:
    """Run the page's examples; return (block, lines it should have) for each checked block."""
    lines = (ROOT / page).read_text().splitlines()
    blocks = read_blocks(lines)
    namespace: dict = {"__name__": f"docs_{Path(page).stem.replace('-', '_')}"}
    checked = []
    examples = 0
    for k, block in enumerate(blocks):
        if block.lang == "python":
            examples += 1
            printed = run_python(block, page, examples, namespace)
            after = blocks[k + 1] if k + 1 < len(blocks) else None
            if after is not None and after.lang == "output" and follows(lines, block, after):
                checked.append((after, printed.splitlines()))
            else:
                assert printed == "", f"{page}:{block.first}: a block that prints needs an ```output block"
        elif block.lang == "console":
            checked.append((block, run_console(block)))
    return checked


def rewrite(page: str, checked: list[tuple[Block, list[str]]]) -> None:
    lines = (ROOT / page).read_text().splitlines()
    for block, wanted in sorted(checked, key=lambda c: -c[0].first):
        lines[block.first: block.first + len(block.lines)] = wanted
    (ROOT / page).write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("page", PAGES)
def test_examples_run_and_show_real_output(page):
    checked = check_page(page)
    assert checked, f"{page} has no checked examples"
    if UPDATE_GOLDEN:
        rewrite(page, checked)
        return
    for block, wanted in checked:
        assert block.lines == wanted, (
            f"{page}, line {block.first + 1}: the example's output changed "
            f"(S2SAD_UPDATE_GOLDEN=1 python -m pytest tests/test_docs.py rewrites it)\n"
            f"docs:\n{block.text}\nreal:\n" + "\n".join(wanted))


@pytest.mark.parametrize("page", PAGES)
def test_every_python_block_is_checked(page):
    """Blocks marked ```python run; other code is marked ```console, ```output or ```text, and
    the README's set-up commands ```bash (.ci/run runs those)."""
    lines = (ROOT / page).read_text().splitlines()
    langs = {block.lang for block in read_blocks(lines)}
    allowed = {"python", "output", "console", "text"} | ({"bash"} if page == "README.md" else set())
    assert langs <= allowed, langs
