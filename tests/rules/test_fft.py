"""np.fft: the spectrum shifts (spec table, both modes, every transform) and the refusal of the
complex transforms, whose hint must be a program that does differentiate."""

import numpy as np
import pytest

import s2sad
from s2sad.testing import make_function
from tests.rules.endtoend import check_every_mode
from tests.rules.family import test_pipeline, test_rule  # noqa: F401
from tests.rules.specs import Spec

SPECS = [
    *[Spec(op, shapes=[((5,),), ((4,),), ((3, 4),), ((2, 3, 5),)]) for op in (np.fft.fftshift, np.fft.ifftshift)],
    *[Spec(op, shapes=[((3, 5),), ((2, 3, 5),)], kwargs=dict(axes=-1)) for op in (np.fft.fftshift, np.fft.ifftshift)],
    *[Spec(op, shapes=[((2, 3, 5),)], kwargs=dict(axes=(0, 2))) for op in (np.fft.fftshift, np.fft.ifftshift)],
]


def test_shifts_in_every_mode():
    x = np.random.default_rng(0).uniform(-1, 1, (3, 5))
    check_every_mode("def f(x):\n    return np.fft.fftshift(np.sin(x), axes=1) * np.fft.ifftshift(x) ** 2\n", [x])


@pytest.mark.parametrize("call", ["np.fft.fft(x)", "np.fft.rfft(x)", "np.fft.irfft(x)", "np.fft.fft2(x)",
                                  "np.fft.ifft(x)"])
def test_complex_transforms_are_refused_at_the_users_line(call):
    fun = make_function(f"def f(x):\n    y = x * 2.0\n    return np.sum(np.abs({call}) ** 2)\n")
    with pytest.raises(s2sad.MissingRule, match="cannot be differentiated: its result is complex") as info:
        s2sad.grad(fun)(np.ones((4, 4)))
    assert ":3:" in str(info.value) and "real arithmetic" in str(info.value)


def test_a_transform_of_a_constant_is_fine():
    fun = make_function("def f(x):\n    return np.sum(x * np.abs(np.fft.rfft(np.arange(6.0))))\n")
    np.testing.assert_allclose(s2sad.grad(fun)(np.ones(4)), np.abs(np.fft.rfft(np.arange(6.0))))


def test_the_real_form_of_the_hint_differentiates():
    """The hint's program: the power spectrum as real arithmetic, equal to the complex one."""
    source = ("def f(x):\n    N = x.shape[0]\n    k = np.arange(N // 2 + 1)\n    n = np.arange(N)\n"
              "    C = np.cos(2 * np.pi * np.outer(k, n) / N)\n    S = np.sin(2 * np.pi * np.outer(k, n) / N)\n"
              "    return (C @ x) ** 2 + (S @ x) ** 2\n")
    x = np.random.default_rng(1).uniform(-1, 1, 6)
    np.testing.assert_allclose(make_function(source)(x), np.abs(np.fft.rfft(x)) ** 2, rtol=1e-12, atol=1e-12)
    check_every_mode(source, [x])
