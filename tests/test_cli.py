"""`s2sad show` through a real subprocess: targets, options, colour, and one-line errors.

Runs `python -m s2sad`, and the `s2sad` console script too when it is on PATH. Tests about
the text of one option combined with another call the CLI's `main` in this process (`inproc`),
which saves an interpreter start-up each.
"""

import ast
import os
import pty
import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT, run_main, run_s2sad

RUNNERS = [pytest.param([sys.executable, "-m", "s2sad"], id="python-m")]
if shutil.which("s2sad"):
    RUNNERS.append(pytest.param([shutil.which("s2sad")], id="console-script"))

MODULE = "tests.fixtures.textbook"
PATH = "tests/fixtures/textbook.py"


def show(*args: str, **kwargs) -> str:
    result = run_s2sad("show", *args, **kwargs)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


def inproc(*args: str) -> str:
    result = run_main("show", *args)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


@pytest.mark.parametrize("command", RUNNERS)
def test_both_entry_points_print_the_same(command):
    result = run_s2sad("show", f"{MODULE}:f", "--argnums", "0,1", command=command)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("def f_grad(x1, x2):\n")
    ast.parse(result.stdout)


def test_module_and_path_targets_agree():
    by_module = show(f"{MODULE}:loss")
    by_path = show(f"{PATH}:loss")
    by_absolute_path = show(f"{ROOT / PATH}:loss")
    assert by_module == by_path == by_absolute_path
    assert by_module.startswith("def loss_grad(w, x, y):\n")


def test_dotted_qualname():
    text = show(f"{MODULE}:Model.energy", "--argnums", "q,p", "--kinds", "scalar,scalar")
    assert text.startswith("def energy_grad(q, p):\n")
    assert "math.sin(q)" in text


@pytest.mark.parametrize("options, header", [
    ((), "def f_grad(x1, x2):"),
    (("--argnums", "1"), "def f_grad(x1, x2):"),
    (("--argnums", "0,1"), "def f_grad(x1, x2):"),
    (("--argnums", "x1,x2"), "def f_grad(x1, x2):"),
    (("--mode", "forward"), "def f_jvp(x1, x2, dx1):"),
    (("--mode", "forward", "--argnums", "0,1"), "def f_jvp(x1, x2, dx1, dx2):"),
    (("--mode", "forward", "--argnums", "x2"), "def f_jvp(x1, x2, dx2):"),
    (("--stage", "ir"), "def f(x1, x2):"),
    (("--kinds", "scalar,scalar"), "def f_grad(x1, x2):"),
    (("--no-optimize",), "def f_grad(x1, x2):"),
])
def test_options_give_valid_python(options, header):
    text = show(f"{MODULE}:f", *options)
    assert text.splitlines()[0] == header
    ast.parse(text)


def test_argnums_by_position_and_by_name_agree():
    assert inproc(f"{MODULE}:layer", "--argnums", "0,1") == show(f"{MODULE}:layer", "--argnums", "w,b")
    assert inproc(f"{MODULE}:f", "--argnums", "-1") == inproc(f"{MODULE}:f", "--argnums", "x2")


def test_argnums_tuple_returns_a_tuple():
    text = inproc(f"{MODULE}:f", "--argnums", "0,1", "--kinds", "scalar,scalar")
    returned = ast.parse(text).body[0].body[-1].value
    assert isinstance(returned, ast.Tuple) and len(returned.elts) == 2


def test_kinds_drop_broadcasting_helpers():
    generic = inproc(f"{MODULE}:f", "--argnums", "0,1")
    scalar = inproc(f"{MODULE}:f", "--argnums", "0,1", "--kinds", "scalar,scalar")
    assert "unbroadcast" in generic
    assert "unbroadcast" not in scalar
    arrays = inproc(f"{MODULE}:loss", "--kinds", "array,array,array")
    assert "unreduce" in arrays


def test_no_optimize_shows_every_adjoint():
    plain = inproc(f"{MODULE}:f", "--argnums", "0,1", "--no-optimize")
    optimized = inproc(f"{MODULE}:f", "--argnums", "0,1")
    assert len(plain.splitlines()) > len(optimized.splitlines())
    assert "bt3 = seed(t3)" in plain
    assert "bt3" not in optimized


def test_activity_stage():
    activity = inproc(f"{MODULE}:f", "--stage", "activity")
    assert activity == "varied: t1, t2, t3, x1\nuseful: t1, t2, t3, x1, x2\nactive: t1, t2, t3, x1\n"


def test_help():
    result = run_s2sad("show", "--help")
    assert result.returncode == 0
    for option in ("--mode", "--argnums", "--stage", "--kinds", "--no-optimize", "--color"):
        assert option in result.stdout


def test_every_option_says_what_it_does():
    from s2sad.cli import parser

    show_parser = parser()._subparsers._group_actions[0].choices["show"]
    for action in show_parser._actions:
        assert action.help, f"{action.option_strings or action.dest} has no help text"


def test_version():
    from s2sad import __version__

    result = run_s2sad("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"s2sad {__version__}"


def test_a_script_that_exits_while_imported_is_an_error_with_a_hint(tmp_path):
    script = tmp_path / "exits.py"
    script.write_text("import sys\n\n\ndef f(x):\n    return x * x\n\n\nsys.exit(3)\n")
    result = run_main("show", f"{script}:f")
    assert result.returncode == 1 and result.stdout == ""
    assert "called sys.exit(3) while being imported" in result.stderr
    assert 'if __name__ == "__main__"' in result.stderr


def test_a_scripts_main_block_is_not_run(tmp_path):
    script = tmp_path / "with_main.py"
    script.write_text("def f(x):\n    return x * x\n\n\nif __name__ == '__main__':\n    raise SystemExit(9)\n")
    result = run_main("show", f"{script}:f")
    assert result.returncode == 0 and "def f_grad(x):" in result.stdout


def test_color_always_without_pygments_warns_and_prints_plain_text(monkeypatch, capsys):
    from s2sad.cli import colorize

    monkeypatch.setitem(sys.modules, "pygments", None)  # importing it raises ImportError
    assert colorize("x = 1\n", "always") == "x = 1\n"
    assert "--color always needs Pygments" in capsys.readouterr().err
    assert colorize("x = 1\n", "never") == "x = 1\n" and capsys.readouterr().err == ""


# ------------------------------------------------------------------ colour

ESC = "\x1b["


def test_color_never_and_no_color_give_plain_text():
    plain = show(f"{MODULE}:f", "--color", "never")
    assert ESC not in plain
    assert show(f"{MODULE}:f", env={"NO_COLOR": "1"}) == plain
    assert show(f"{MODULE}:f") == plain  # not a terminal: no colour either


def test_color_always_colours():
    coloured = show(f"{MODULE}:f", "--color", "always")
    assert ESC in coloured
    assert ESC not in show(f"{MODULE}:f", "--color", "always", env={"NO_COLOR": "1"}), "NO_COLOR always wins"


def on_a_terminal(*args: str, env: dict) -> str:
    """Run `python -m s2sad` with its stdout on a pseudo-terminal and return what it wrote."""
    leader, follower = pty.openpty()
    full_env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    full_env.update(env)
    try:
        proc = subprocess.run([sys.executable, "-m", "s2sad", *args], cwd=ROOT, env=full_env, stdout=follower,
                              stderr=subprocess.PIPE, timeout=60)
        os.close(follower)
        follower = -1
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the terminal's other side is closed
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(leader)
        if follower != -1:
            os.close(follower)
    assert proc.returncode == 0, proc.stderr
    return b"".join(chunks).decode()


def test_terminal_gets_colour_unless_no_color():
    assert ESC in on_a_terminal("show", f"{MODULE}:f", env={})
    assert ESC not in on_a_terminal("show", f"{MODULE}:f", env={"NO_COLOR": "1"})
    assert ESC not in on_a_terminal("show", f"{MODULE}:f", "--color", "never", env={})


# ------------------------------------------------------------------ errors


SUBPROCESS, IN_PROCESS = run_s2sad, run_main


@pytest.mark.parametrize("run, target, options, words", [
    (SUBPROCESS, "no_colon_here", (), "must look like"),
    (IN_PROCESS, f"{MODULE}:", (), "must look like"),
    (SUBPROCESS, f"{MODULE}:nope", (), "no 'nope'"),
    (IN_PROCESS, f"{MODULE}:Model.nope", (), "no attribute 'nope'"),
    (SUBPROCESS, "tests/fixtures/missing.py:f", (), "no such file"),
    (SUBPROCESS, "tests.fixtures.missing:f", (), "cannot import module"),
    (SUBPROCESS, "tests/fixtures/bad_syntax.py:f", (), "SyntaxError"),
    (SUBPROCESS, "tests/fixtures/unsupported.py:uses_a_set", (), "the expression `{x, 2.0 * x}`"),
    (IN_PROCESS, "tests/fixtures/unsupported.py:no_rule", (), "no derivative rule for opaque"),
    (IN_PROCESS, "math:sin", (), "'sin' is not a Python function"),
    (IN_PROCESS, f"{MODULE}:f", ("--argnums", "z"), "'z'"),
    (SUBPROCESS, f"{MODULE}:f", ("--argnums", "5"), "takes 2 parameters"),
    (IN_PROCESS, f"{MODULE}:f", ("--kinds", "scalar"), "--kinds gives 1"),
    (IN_PROCESS, f"{MODULE}:f", ("--kinds", "scalar,matrix"), "not 'matrix'"),
], ids=lambda v: v.__name__ if callable(v) else None)
def test_errors_exit_non_zero_with_one_line(run, target, options, words):
    result = run("show", target, *options)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("s2sad: error: ")
    assert words in lines[0]


def test_user_errors_name_the_file_and_line():
    result = run_s2sad("show", "tests/fixtures/unsupported.py:uses_a_set")
    assert f"{ROOT / 'tests/fixtures/unsupported.py'}:12:13:" in result.stderr
    assert "hint: build a list or a dict" in result.stderr


@pytest.mark.parametrize("options", [("--mode", "sideways"), ("--stage", "everything"), ()])
def test_usage_errors(options):
    args = ("show", f"{MODULE}:f", *options) if options else ("show",)
    result = run_s2sad(*args)
    assert result.returncode == 2
    assert "usage: s2sad show" in result.stderr
