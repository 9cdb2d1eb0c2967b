"""Compiled derivatives are ordinary Python with readable, reproducible source.

The source is registered in `linecache` under a pseudo-filename that names the user's file, so
`inspect`, tracebacks and debuggers show the generated lines; the same input gives the same
bytes (the source is a cache key and the text of golden tests).
"""

import inspect
import linecache
import os
import subprocess
import sys
import traceback

import numpy as np
import pytest

import s2sad
from s2sad import cache
from s2sad.back.compile import compile_function
from tests.conftest import ROOT


def model(w, x):
    z = x @ w
    return np.sum(np.tanh(z) ** 2) + np.log(np.sum(w * w))


def mismatched(x, y):
    return np.sum(x @ y)


def test_generated_source_is_in_linecache(fresh_cache):
    built = s2sad.grad(model).built(("array", "array"))
    filename = built.fun.__code__.co_filename
    assert filename.startswith("<s2sad grad of model wrt ") and __file__ in filename
    assert "".join(linecache.getlines(filename)) == built.source
    assert inspect.getsource(built.fun) == built.source


def test_source_of_the_transformed_object_is_inspectable():
    dmodel = s2sad.grad(model, argnums=(0, 1))
    assert inspect.getsource(dmodel.built(dmodel.numeric_kinds()).fun) == dmodel.source


@pytest.mark.parametrize("mode", ["grad", "jvp"])
def test_same_input_gives_byte_identical_source(mode):
    def build_source() -> str:
        cache.clear()
        if mode == "grad":
            return s2sad.grad(model, argnums=(0, 1)).built(("array", "array")).source
        return s2sad.show(model, mode="forward", argnums=(0, 1))

    first = build_source()
    second = build_source()
    assert first is not second
    assert first == second


def test_source_is_identical_across_processes_and_hash_seeds():
    code = ("import s2sad; from tests.back.test_compile import model; "
            "print(s2sad.show(model, argnums=(0, 1)) + s2sad.show(model, mode='forward', argnums=(0, 1)))")
    outputs = set()
    for seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                                timeout=60)
        assert result.returncode == 0, result.stderr
        outputs.add(result.stdout)
    assert len(outputs) == 1
    assert outputs.pop().count("def model_") == 2


def test_runtime_error_shows_generated_lines_in_the_traceback():
    with pytest.raises(ValueError) as info:
        s2sad.grad(mismatched)(np.ones(3), np.ones(4))
    frames = traceback.extract_tb(info.value.__traceback__)
    generated = [fr for fr in frames if fr.filename.startswith("<s2sad grad of mismatched")]
    assert generated, [fr.filename for fr in frames]
    frame = generated[-1]
    assert frame.name == "mismatched_grad"
    assert frame.line == "t1 = x @ y"
    assert __file__ in frame.filename
    text = "".join(traceback.format_exception(info.value))
    assert "t1 = x @ y" in text


def test_generated_code_is_valid_input_to_the_pipeline():
    """grad(grad(f)) reads the generated source back from linecache."""
    dmodel = s2sad.grad(model)
    inner = dmodel.built(("array", "array")).fun
    assert inspect.getsource(inner) == dmodel.built(("array", "array")).source
    w, x = np.array([0.3, -0.2]), np.array([[1.0, 2.0], [0.5, -1.0]])
    hvp = s2sad.jvp(dmodel, (w, x), (np.array([1.0, 0.0]), np.zeros((2, 2))))[1]
    eps = 1e-6
    numeric = (dmodel(w + [eps, 0.0], x) - dmodel(w - [eps, 0.0], x)) / (2 * eps)
    np.testing.assert_allclose(hvp, numeric, rtol=1e-6, atol=1e-8)


def test_compile_function_registers_its_source():
    source = "def made(x):\n    return x + 1\n"
    fun = compile_function(source, {}, "made", "<s2sad test made>")
    assert fun(1) == 2
    assert fun.__s2sad_generated__ is True
    assert inspect.getsource(fun) == source
