"""Stage analyses/numbers: which names hold Python numbers, and the code built for Python float
arguments, where `zeros_like(v)` and `seed(v)` of such a number are the constants `0.0` and
`1.0` (`back.specialise`). A NumPy scalar argument keeps the helpers, which give its dtype.
"""

import numpy as np
import pytest

import s2sad
from s2sad.analyses.numbers import python_numbers
from s2sad.analyses.shapes import NUMBER
from s2sad.testing import check_grads
from tests import stages
from tests.conftest import run_main

LOOP = """
    def f(x, k, n):
        s = x
        for _ in range(n):
            s = s * k + math.sin(s) * x
        return s
"""

CHAIN = stages.SNIPPETS["scalar_chain"]

MIXED = """
    def f(x, k):
        s = np.sin(x) * k
        for _ in range(2):
            s = s * k
        return s
"""

BRANCH = """
    def f(x, y):
        if x > 0.0:
            s = x * y
        else:
            s = 2.0
        return math.sin(s) + y * abs(x)
"""


def _numbers(src: str, params: str) -> set[str]:
    fn = stages._analysed_ir(src)
    return set(python_numbers(fn, frozenset(params.split(",")) - {""}))


def test_arithmetic_and_math_of_numbers_are_numbers():
    found = _numbers("""
        def f(x, y):
            a = x * 2.0 + y
            b = math.exp(a) / 3
            c = float(y) - round(b)
            return a + b + c
    """, "x,y")
    assert {"x", "y", "a", "b", "c"} <= found


def test_numpy_values_items_and_unknown_parameters_are_not():
    found = _numbers("""
        def f(x, y, v):
            a = np.sin(x)
            b = a * 2.0
            c = v[0] * x
            d = x * y
            return b + c + d
    """, "x")
    assert "x" in found
    assert not {"y", "v", "a", "b", "c", "d"} & found


def test_a_name_carried_through_a_loop_is_a_number_if_every_binding_is():
    assert {"x", "k", "s"} <= _numbers(LOOP, "x,k")
    assert "s" not in _numbers(LOOP, "x")  # k may be a NumPy scalar: so may s


def test_no_parameter_no_numbers():
    assert _numbers(LOOP, "") == set()


def test_a_placeholder_none_makes_a_name_maybe_a_number_only():
    """`t = None` before a loop (the value a loop keeps before its first trip): arithmetic on `t`
    is a number (or raises), `t` itself is not known to be one; a copy of `t` right after a
    number was bound to it is."""
    found = _numbers("""
        def f(x, n):
            t = None
            s = x
            for _ in range(n):
                t = math.exp(s)
                s = t
                u = t + 1.0
            return s + u
    """, "x")
    assert {"s", "u", "x"} <= found
    assert "t" not in found


def test_a_copy_inherited_by_a_loop_body_is_not_resolved():
    """A loop's body may run again after a later statement rebinds the name: the copy at its top
    is not the binding before the loop."""
    found = _numbers("""
        def f(x, n):
            v = x * 1.0
            for _ in range(n):
                s = v
                v = None
            return s
    """, "x")
    assert "s" not in found


# ------------------------------------------------------------------ the code built for floats


def _fun(src: str):
    return stages.function(src)


@pytest.mark.parametrize("src", [LOOP, CHAIN])
def test_the_gradient_for_python_floats_calls_no_seed_or_zeros_like(src):
    fun = _fun(src)
    args = (0.3, 0.7, 10) if src is LOOP else (0.7, 8)
    code = s2sad.grad(fun).source_for(*args)
    assert "seed(" not in code and "zeros_like(" not in code, code
    assert "= 1.0\n" in code


def test_the_scalar_loop_gradient_for_floats_matches_golden(golden):
    golden("numbers_scalar_loop.txt", s2sad.show(_fun(LOOP), args=(0.3, 0.7, 10)))


@pytest.mark.parametrize("src, args, argnums", [
    (LOOP, (0.3, 0.7, 10), (0, 1)),
    (CHAIN, (0.7, 8), 0),
    (MIXED, (0.5, 2.0), (0, 1)),
    (BRANCH, (0.5, 2.0), (0, 1)),
    (BRANCH, (-0.5, 2.0), (0, 1)),
])
@pytest.mark.parametrize("mode", ["grad", "value_and_grad"])
def test_code_for_floats_equals_the_generic_scalar_code(src, args, argnums, mode):
    """Same values and same types: the constants are what the helpers return for a float."""
    derivative = getattr(s2sad, mode)(_fun(src), argnums=argnums)
    special = derivative(*args)
    generic = derivative.built(("scalar",) * len(args), None).fun(*args)
    assert repr(special) == repr(generic)


@pytest.mark.parametrize("src, args", [(LOOP, (0.3, 0.7, 10)), (CHAIN, (0.7, 8)), (MIXED, (0.5, 2.0)),
                                       (BRANCH, (0.5, 2.0)), (BRANCH, (-0.5, 2.0))])
def test_derivatives_for_floats_agree_with_differences(src, args):
    check_grads(_fun(src), args, order=2, modes=("fwd", "rev"))


def test_forward_mode_for_floats_agrees_with_reverse():
    fun = _fun(LOOP)
    out, tangent = s2sad.jvp(fun, (0.3, 0.7, 10), (1.0, 0.0, 0))
    assert type(tangent) is float
    assert tangent == pytest.approx(s2sad.grad(fun)(0.3, 0.7, 10), rel=1e-14)


def test_hessian_for_floats_agrees_with_differences_of_the_gradient():
    fun = _fun(CHAIN)
    grad = s2sad.grad(fun)
    eps = 1e-6
    expected = (grad(0.7 + eps, 8) - grad(0.7 - eps, 8)) / (2 * eps)
    assert s2sad.hessian(fun)(0.7, 8) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("scalar", [np.float32, np.float64])
def test_a_numpy_scalar_keeps_the_helpers_and_its_dtype(scalar):
    fun = _fun(LOOP)
    grad = s2sad.grad(fun)
    result = grad(scalar(0.3), 0.7, 10)
    assert type(result) is scalar
    assert "seed(" in grad.source_for(scalar(0.3), 0.7, 10)
    assert float(result) == pytest.approx(grad(0.3, 0.7, 10), rel=1e-6 if scalar is np.float32 else 1e-14)
    assert type(grad(0.3, 0.7, 10)) is float


def test_an_integer_argument_is_a_python_number():
    fun = _fun(LOOP)
    grad = s2sad.grad(fun, argnums=0)
    assert grad(0.3, 1, 10) == pytest.approx(grad(0.3, 1.0, 10), rel=1e-15)
    assert "seed(" not in grad.source_for(0.3, 1, 10)


def test_show_and_export_take_float_as_a_shape():
    fun = _fun(LOOP)
    code = s2sad.show(fun, kinds=("scalar", "scalar", "scalar"), shapes=(NUMBER, NUMBER, None))
    assert "bs = 1.0" in code and "bx = 0.0" in code
    text = s2sad.export(fun, kinds=("scalar", "scalar", "scalar"), shapes=(NUMBER, NUMBER, None))
    assert "type(x) in (float, int)" in text and "x a Python float or int" in text
    namespace: dict = {}
    exec(compile(text, "exported", "exec"), namespace)  # noqa: S102 - the module just written
    entry = next(v for k, v in namespace.items() if k.endswith("_grad") and callable(v))
    assert entry(0.3, 0.7, 10) == s2sad.grad(fun)(0.3, 0.7, 10)
    with pytest.raises(TypeError, match="a Python float or int, not float32"):
        entry(np.float32(0.3), 0.7, 10)


def test_the_command_line_takes_float_in_shapes(tmp_path):
    module = tmp_path / "numbers_cli.py"
    module.write_text("import math\n\n\ndef f(x, n):\n    s = x\n    for _ in range(n):\n"
                      "        s = s * 0.99 + math.sin(s) * x\n    return s\n")
    shown = run_main("show", f"{module}:f", "--shapes", "float,-")
    assert shown.returncode == 0 and "bs = 1.0" in shown.stdout and "bx = 0.0" in shown.stdout, shown.stdout
    refused = run_main("show", f"{module}:f", "--shapes", "floats,-")
    assert refused.returncode != 0 and "scalar, float, array or -" in refused.stderr
