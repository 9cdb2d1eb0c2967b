"""The vectorised exp, expm1, log, log1p, tanh, sin and cos of the Numba backend's fused loops
(s2sad/back/jit_math.py): their constants are the digits of ln 2 and pi/2, each is within a few
units in the last place of the C library's function on arguments spread over its whole domain
and at its special values (the sign of zero, infinities, NaN, subnormals, overflow), a loop of
each is vectorised, and a fused loop whose sin or cos meets an argument past `WIDE` gives
NumPy's value."""

import math
import re
from fractions import Fraction

import numpy as np
import pytest

import s2sad
from s2sad.back import jit, jit_math
from tests.back.test_jit import same

numba = pytest.importorskip("numba", reason="the numba extra is not installed")
jit.numba_module()  # the implementations registered

FUNCTIONS = [("exp", math.exp, 1), ("expm1", math.expm1, 2), ("log", math.log, 1), ("log1p", math.log1p, 2),
             ("tanh", math.tanh, 4), ("sin", math.sin, 1), ("cos", math.cos, 1)]
"""Name, the C library's function, and the most units in the last place allowed from it."""


# ------------------------------------------------------------------ the constants


def _series(n: int, bits: int, alternating: bool) -> int:
    """2^bits times arctan(1/n) (alternating) or artanh(1/n), by their series."""
    one = 1 << (bits + 16)
    total, term, k, sign = 0, one // n, 1, 1
    while term:
        total += sign * (term // k)
        term //= n * n
        k += 2
        sign = -sign if alternating else 1
    return total >> 16


def _leading(x: Fraction, bits: int) -> Fraction:
    """The first `bits` significant bits of x > 0, the rest dropped."""
    exponent = math.floor(math.log2(x))
    scale = Fraction(2) ** (bits - 1 - exponent)
    return Fraction(math.floor(x * scale)) / scale


def test_the_constants_are_the_digits_of_ln2_and_half_pi():
    bits = 250
    half_pi = Fraction(4 * (4 * _series(5, bits, True) - _series(239, bits, True)), 1 << (bits + 1))  # Machin
    ln2 = Fraction(2 * _series(3, bits, False), 1 << bits)
    rest = half_pi
    for part in (jit_math.PIO2_1, jit_math.PIO2_2, jit_math.PIO2_3):
        assert Fraction(part) == _leading(rest, 33)
        rest -= Fraction(part)
    assert jit_math.PIO2_4 == float(rest)
    assert jit_math.TWO_OVER_PI == float(1 / half_pi)
    assert Fraction(jit_math.LN2_HI) == _leading(ln2, 32)
    assert jit_math.LN2_LO == float(ln2 - Fraction(jit_math.LN2_HI))
    assert jit_math.INV_LN2 == float(1 / ln2)


# ------------------------------------------------------------------ accuracy


def _loop(element):
    @numba.njit
    def loop(x, out):
        for i in range(x.shape[0]):
            out[i] = element(x[i])
    return loop


def _specials(name: str) -> np.ndarray:
    tiny = [5e-324, -5e-324, 2.2250738585072014e-308, 1e-310, -1e-310, 1e-300, -1e-300, 1e-17, -1e-17]
    values = [0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 0.5, 2.0, 1e300, -1e300] + tiny
    if name in ("exp", "expm1"):
        values += [709.78, 709.79, 710.0, -708.4, -745.13, -745.14, -746.0, 40.0, 40.01, -40.0, -40.01,
                   0.34657359027997264, -0.34657359027997264]
    if name in ("sin", "cos"):
        halves = np.arange(-63662, 63663, 31) * (math.pi / 2)  # the doubles next to k pi/2, to 1e5
        values += [*halves, *np.nextafter(halves, np.inf), *np.nextafter(halves, -np.inf)]
        values += [jit_math.WIDE, -jit_math.WIDE, 355.0, 103993.0 / 2]
    if name == "tanh":
        values += [19.99, 20.0, 20.01, -20.0, 1e-8, 0.55, -0.55]
    if name == "log":
        values += [np.sqrt(2.0), np.nextafter(np.sqrt(2.0), 0), 1 - 1e-16, 1 + 2.2e-16, 1.7976931348623157e308]
    if name == "log1p":
        values += [-2.0, -1.0 + 2**-53, -0.5, 1e-16, -1e-16, 2**-52, 1.7976931348623157e308]
    return np.array(values)


def _arguments(name: str) -> np.ndarray:
    rng = np.random.default_rng(11)
    if name == "log":
        spread = np.exp(rng.uniform(-744.0, 709.0, 100_000))
        near_one = 1.0 + rng.uniform(-0.3, 0.3, 100_000)
        parts = [spread, near_one, rng.uniform(0, 4, 100_000)]
    elif name == "log1p":
        parts = [rng.uniform(-1, 1, 100_000), np.exp(rng.uniform(-700.0, 700.0, 50_000)),
                 -np.exp(rng.uniform(-700.0, 0.0, 30_000)), -1 + np.exp(rng.uniform(-36.0, -1.0, 20_000))]
    elif name in ("sin", "cos"):
        scale = np.exp(rng.uniform(-40.0, math.log(jit_math.WIDE), 100_000))
        parts = [rng.uniform(-10, 10, 100_000), scale * rng.choice([-1.0, 1.0], 100_000)]
    else:
        top = {"exp": 709.7, "expm1": 709.7, "tanh": 25.0}[name]
        magnitude = np.exp(rng.uniform(-40.0, math.log(top), 100_000))
        parts = [rng.uniform(-2, 2, 100_000), magnitude * rng.choice([-1.0, 1.0], 100_000)]
    if name in ("exp", "expm1"):
        parts.append(rng.uniform(-745.2, -700.0, 20_000))  # subnormal results
    return np.concatenate(parts + [_specials(name)])


@pytest.mark.parametrize("name,reference,ulps", FUNCTIONS, ids=[f[0] for f in FUNCTIONS])
def test_within_a_few_units_in_the_last_place_of_the_c_library(name, reference, ulps):
    x = _arguments(name)
    got = np.empty_like(x)
    _loop(getattr(jit_math, f"{name}_element"))(x, got)
    if name in ("sin", "cos"):
        keep = np.abs(x) <= jit_math.WIDE  # past it the loop does it again with NumPy's
        x, got = x[keep], got[keep]
    with np.errstate(all="ignore"):
        want = np.array([_reference(reference, v) for v in x])
    assert np.array_equal(np.isnan(got), np.isnan(want)), x[np.isnan(got) != np.isnan(want)][:5]
    finite = np.isfinite(want) & ~np.isnan(got)
    assert np.array_equal(got[~finite & ~np.isnan(got)], want[~finite & ~np.isnan(want)])
    assert np.array_equal(np.signbit(got[want == 0]), np.signbit(want[want == 0]))
    error = np.abs(got[finite] - want[finite]) / np.spacing(np.abs(want[finite]))
    assert error.max() <= ulps, (x[finite][np.argmax(error)], error.max())


def _reference(fun, v: float) -> float:
    try:
        return fun(v)
    except OverflowError:
        return math.inf
    except ValueError:  # a pole or outside the domain: NumPy's -inf or NaN
        return float(getattr(np, fun.__name__)(v))


def test_integers_are_taken_as_floats_and_other_dtypes_keep_numpys_function():
    x = np.arange(-3, 4)
    got = np.empty(7)
    _loop(jit_math.tanh_element)(x, got)
    np.testing.assert_allclose(got, np.tanh(x), rtol=1e-15)
    z = np.array([0.5 + 1j, -2j])
    out = np.empty(2, complex)
    _loop(jit_math.exp_element)(z, out)
    np.testing.assert_allclose(out, np.exp(z), rtol=1e-15)


# ------------------------------------------------------------------ vectorised


@pytest.mark.parametrize("name", [f[0] for f in FUNCTIONS])
def test_a_loop_of_each_is_vectorised(name):
    """LLVM's vector types in the compiled loop: a branch or a call in the function (a Python
    division's zero check, `or`, the C library) would leave it one element at a time."""
    loop = _loop(getattr(jit_math, f"{name}_element"))
    loop(np.ones(4), np.empty(4))
    llvm = "".join(loop.inspect_llvm().values())
    assert re.search(r"<\d+ x double>", llvm), f"{name}: not vectorised"


def test_the_wide_flag_keeps_the_loop_vectorised():
    @numba.njit
    def loop(x, out):
        wide = False
        for i in range(x.shape[0]):
            wide = jit_math.trig_wide(wide, x[i])
            out[i] = jit_math.sin_element(x[i])
        return wide
    assert not loop(np.ones(4), np.empty(4))
    assert loop(np.array([1.0, 2e5]), np.empty(2)) and loop(np.array([np.nan]), np.empty(1))
    assert re.search(r"<\d+ x double>", "".join(loop.inspect_llvm().values()))


# ------------------------------------------------------------------ in fused loops


def waves(x):
    return np.sum(np.sin(x) * np.cos(2.0 * x) + np.tanh(x) * np.exp(-x * x) + np.log(x * x + 1.0)
                  + np.log1p(0.5 * np.expm1(-x * x)))


def written_waves(x):
    y = np.zeros(x.shape[0])
    y[1:] = np.sin(x[1:]) * 2.0
    return np.sum(y * y)


@pytest.mark.parametrize("fun", [waves, written_waves])
@pytest.mark.parametrize("x", [np.linspace(-3.0, 3.0, 9), np.array([0.5, 2e5, -3e7, 1e12, -0.25, 7.0])],
                         ids=["near", "wide"])
def test_fused_loops_give_the_default_backends_values_past_wide(fun, x):
    """Arguments past `WIDE` make the loop run again with NumPy's sin and cos (the gradient's and
    the value's); a loop that writes into an array it read is not repeated and uses NumPy's."""
    numba_grad = s2sad.value_and_grad(fun, backend="numba")
    same(numba_grad(x), s2sad.value_and_grad(fun)(x))


def test_the_shown_code_calls_the_vectorised_functions():
    x = np.linspace(-3.0, 3.0, 9)
    shown = s2sad.show(waves, backend="numba", args=(x,))
    for name in ("sin_element", "cos_element", "tanh_element", "exp_element", "trig_wide"):
        assert name in shown
    assert "if wide" in shown and "np.sin(" in shown  # the loop done again with NumPy's
    written = s2sad.show(written_waves, backend="numba", args=(x,))
    assert "np.sin(" in written and "sin_element" not in written
