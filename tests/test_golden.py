"""Golden text: `s2sad show` on the fixture functions, byte for byte.

Each case runs `s2sad show TARGET OPTIONS` (the CLI's `main`, in this process; tests/test_cli.py
runs the real command) and compares its output with tests/golden/<name>.txt. When a change to
the compiler changes the generated code on purpose, regenerate the files and review the diff
like any other change:

    S2SAD_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py
    git diff tests/golden/

The fixtures are in tests/fixtures/textbook.py; their line numbers appear in the provenance
comments, so add new fixture functions at the end of that file.
"""

import ast

import pytest

from tests.conftest import run_main

TEXTBOOK = "tests.fixtures.textbook"

CASES = {
    # name: (target, options)
    "f_reverse_scalar": (f"{TEXTBOOK}:f", ("--argnums", "0,1", "--kinds", "scalar,scalar")),
    "f_forward_scalar": (f"{TEXTBOOK}:f", ("--mode", "forward", "--argnums", "0,1", "--kinds", "scalar,scalar")),
    "f_reverse_default": (f"{TEXTBOOK}:f", ("--argnums", "0,1")),
    "f_reverse_unoptimized": (f"{TEXTBOOK}:f", ("--argnums", "0,1", "--no-optimize")),
    "g_reverse_scalar": (f"{TEXTBOOK}:g", ("--kinds", "scalar")),
    "g_forward_scalar": (f"{TEXTBOOK}:g", ("--mode", "forward", "--kinds", "scalar")),
    "loss_ir": (f"{TEXTBOOK}:loss", ("--stage", "ir")),
    "loss_reverse_array": (f"{TEXTBOOK}:loss", ("--kinds", "array,array,array")),
    "loss_forward_array": (f"{TEXTBOOK}:loss", ("--mode", "forward", "--kinds", "array,array,array")),
    "layer_reverse_array": (f"{TEXTBOOK}:layer", ("--argnums", "w,b", "--kinds", "array,array,array")),
    "layer_forward_array": (f"{TEXTBOOK}:layer", ("--mode", "forward", "--argnums", "w,b",
                                                  "--kinds", "array,array,array")),
    "f_taylor_scalar": (f"{TEXTBOOK}:f", ("--mode", "taylor", "--order", "3", "--argnums", "0,1",
                                          "--kinds", "scalar,scalar")),
    "g_taylor_scalar": (f"{TEXTBOOK}:g", ("--mode", "taylor", "--order", "2", "--kinds", "scalar")),
    "euler_taylor": (f"{TEXTBOOK}:euler", ("--mode", "taylor", "--order", "4", "--argnums", "t",
                                           "--kinds", "scalar,scalar,scalar")),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_show_matches_golden(name, golden):
    target, options = CASES[name]
    result = run_main("show", target, *options, "--color", "never")
    assert result.returncode == 0, result.stderr
    ast.parse(result.stdout)
    golden(f"{name}.txt", result.stdout)
