"""np.fft: the spectrum shifts (spec table, both modes, every transform) and the refusal of the
complex transforms, whose hint must be a program that does differentiate."""

import numpy as np
import pytest

import s2sad
from s2sad import runtime
from s2sad.testing import check_rule, make_function
from tests.rules.endtoend import check_every_mode
from tests.rules.family import test_pipeline, test_rule, test_taylor  # noqa: F401
from tests.rules.specs import Spec

ONE_D = [((8,),), ((5,),), ((3, 4),)]
N_D = [((3, 4),), ((2, 3, 4),)]
FFT_KWARGS = [{}, dict(n=6), dict(n=11), dict(axis=0), dict(norm="ortho"), dict(n=4, norm="forward")]
FFTN_KWARGS = [{}, dict(axes=(0,)), dict(s=(4, 6), axes=(0, 1)), dict(s=(2, 3), axes=(1, 0)), dict(norm="ortho"),
               dict(axes=(-1, 0), norm="forward")]
"""Lengths cut and padded (n, s), other axes and the three normalisations."""
IRFFT_KWARGS = [{}, dict(n=7), dict(n=12), dict(axis=0), dict(norm="ortho"), dict(n=3, norm="forward")]
IRFFTN_KWARGS = [{}, dict(axes=(0,)), dict(s=(4, 5), axes=(0, 1)), dict(s=(3, 6), axes=(1, 0)), dict(norm="ortho")]

SPECS = [
    *[Spec(op, shapes=[((5,),), ((4,),), ((3, 4),), ((2, 3, 5),)]) for op in (np.fft.fftshift, np.fft.ifftshift)],
    *[Spec(op, shapes=[((3, 5),), ((2, 3, 5),)], kwargs=dict(axes=-1)) for op in (np.fft.fftshift, np.fft.ifftshift)],
    *[Spec(op, shapes=[((2, 3, 5),)], kwargs=dict(axes=(0, 2))) for op in (np.fft.fftshift, np.fft.ifftshift)],
    *[Spec(op, shapes=ONE_D if "axis" not in kw else [((3, 4),)], kwargs=kw)
      for op in (np.fft.fft, np.fft.ifft, np.fft.rfft) for kw in FFT_KWARGS],
    *[Spec(op, shapes=ONE_D if "axis" not in kw else [((3, 4),)], kwargs=kw) for op in (np.fft.irfft,)
      for kw in IRFFT_KWARGS],
    *[Spec(op, shapes=N_D if "s" not in kw else [((3, 4),)], kwargs=kw)
      for op in (np.fft.fftn, np.fft.ifftn, np.fft.rfftn, np.fft.irfftn) for kw in FFTN_KWARGS[:5]],
    *[Spec(op, shapes=[((3, 4),), ((2, 3, 4),)], kwargs=kw) for op in (np.fft.fft2, np.fft.ifft2, np.fft.rfft2)
      for kw in ({}, dict(s=(4, 3), axes=(-2, -1)), dict(norm="ortho"))],
    *[Spec(np.fft.irfft2, shapes=[((3, 4),), ((2, 3, 4),)], kwargs=kw) for kw in ({}, dict(s=(4, 5), axes=(-2, -1)))],
    *[Spec(op, shapes=[((3, 4),)], kwargs=kw) for op in (np.fft.irfftn,) for kw in IRFFTN_KWARGS[3:]],
    # the complex parts, on real arrays here (complex ones below: the spec harness draws real points)
    Spec(np.imag, shapes=[((3,),), ((2, 3),)]),
    Spec(np.angle, ("z",), shapes=[((3,),), ((2, 3),)]),
    Spec(np.angle, ("z",), shapes=[((3,),)], kwargs=dict(deg=True)),
    Spec(runtime.abs_unit, shapes=[((3,),), ((2, 3),)]),
    # the helpers the adjoints call
    Spec(runtime.real_like, ("g",), shapes=[((3,),), ((2, 3),)], extra=(1.0,)),
    *[Spec(runtime.resize_to, ("g",), shapes=[((5,),)], extra=(shape,), name=f"resize_to {shape}")
      for shape in ((3,), (5,), (8,))],
    Spec(runtime.resize_to, ("g",), shapes=[((3, 4),)], extra=((5, 2),), name="resize_to (5, 2)"),
    *[Spec(runtime.rfftn_transpose, ("g",), shapes=[((5,),)], extra=([0.0] * n, m, -1, norm),
           name=f"rfftn_transpose {n} {m} {norm}") for n, m, norm in ((8, None, None), (6, 9, "ortho"))],
    Spec(runtime.rfftn_transpose, ("g",), shapes=[((3, 3),)], extra=([[0.0] * 4] * 3, None, None, None),
         name="rfftn_transpose 2-d"),
    *[Spec(runtime.rfftn_of, ("c",), shapes=[((8,),)], extra=(m, -1, norm), name=f"rfftn_of {m} {norm}")
      for m, norm in ((None, None), (6, "forward"))],
    Spec(runtime.rfftn_of, ("c",), shapes=[((3, 4),)], extra=(None, (1, 0), None), name="rfftn_of 2-d"),
    *[Spec(runtime.irfftn_transpose, ("g",), shapes=[((n,),)], extra=([0.0] * 5, m, -1, norm),
           name=f"irfftn_transpose {n} {m} {norm}") for n, m, norm in ((8, None, None), (9, 9, "ortho"))],
    Spec(runtime.irfftn_transpose, ("g",), shapes=[((3, 6),)], extra=([[0.0] * 4] * 3, None, None, None),
         name="irfftn_transpose 2-d"),
    *[Spec(runtime.irfftn_of, ("c",), shapes=[((5,),)], extra=(m, -1, norm), name=f"irfftn_of {m} {norm}")
      for m, norm in ((None, None), (9, "ortho"))],
    Spec(runtime.irfftn_of, ("c",), shapes=[((3, 4),)], extra=(None, (1, 0), None), name="irfftn_of 2-d"),
]
NONDIFF = [runtime.fftn_axes]


def test_shifts_in_every_mode():
    x = np.random.default_rng(0).uniform(-1, 1, (3, 5))
    check_every_mode("def f(x):\n    return np.fft.fftshift(np.sin(x), axes=1) * np.fft.ifftshift(x) ** 2\n", [x])


@pytest.mark.parametrize("call", ["np.fft.hfft(x)", "np.fft.ihfft(x)"])
def test_hermitian_transforms_are_refused_at_the_users_line(call):
    fun = make_function(f"def f(x):\n    y = x * 2.0\n    return np.sum(np.abs({call}) ** 2)\n")
    with pytest.raises(s2sad.MissingRule, match="Hermitian transforms have no rule yet") as info:
        s2sad.grad(fun)(np.ones(4))
    assert ":3:" in str(info.value) and "np.fft.irfft(np.conj(a), n) * n" in str(info.value)


def test_a_transform_of_a_constant_is_fine():
    fun = make_function("def f(x):\n    return np.sum(x * np.abs(np.fft.rfft(np.arange(6.0))))\n")
    np.testing.assert_allclose(s2sad.grad(fun)(np.ones(4)), np.abs(np.fft.rfft(np.arange(6.0))))


def test_the_real_form_agrees_with_the_complex_one():
    """The power spectrum as real arithmetic equals the complex one, and so does its Jacobian."""
    source = ("def f(x):\n    N = x.shape[0]\n    k = np.arange(N // 2 + 1)\n    n = np.arange(N)\n"
              "    C = np.cos(2 * np.pi * np.outer(k, n) / N)\n    S = np.sin(2 * np.pi * np.outer(k, n) / N)\n"
              "    return (C @ x) ** 2 + (S @ x) ** 2\n")
    x = np.random.default_rng(1).uniform(-1, 1, 6)
    np.testing.assert_allclose(make_function(source)(x), np.abs(np.fft.rfft(x)) ** 2, rtol=1e-12, atol=1e-12)
    check_every_mode(source, [x])
    complex_form = make_function("def f(x):\n    return np.abs(np.fft.rfft(x)) ** 2\n")
    np.testing.assert_allclose(s2sad.jacrev(complex_form)(x), s2sad.jacfwd(make_function(source))(x), atol=1e-12)


# ---------------------------------------------------------------- complex points: the rules alone

def _complex(*shape, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-2, 2, shape) + 1j * rng.uniform(-2, 2, shape)


@pytest.mark.parametrize("op, shape, kwargs", [
    (np.fft.fft, (8,), {}), (np.fft.fft, (3, 5), dict(n=7, axis=0, norm="ortho")),
    (np.fft.ifft, (6,), dict(n=4)), (np.fft.ifft, (2, 5), dict(norm="forward")),
    (np.fft.fftn, (3, 4), dict(s=(5, 2), axes=(0, 1))), (np.fft.ifftn, (2, 3, 4), dict(axes=(2, 0))),
    (np.fft.fft2, (3, 4), {}), (np.fft.ifft2, (3, 4), dict(norm="ortho")),
    (np.fft.irfft, (5,), {}), (np.fft.irfft, (5,), dict(n=9)), (np.fft.irfft, (4, 3), dict(n=4, axis=0)),
    (np.fft.irfftn, (3, 4), {}), (np.fft.irfft2, (3, 4), dict(s=(5, 5), axes=(0, 1))),
    (np.real, (2, 3), {}), (np.imag, (2, 3), {}), (np.conj, (2, 3), {}), (np.conjugate, (4,), {}),
    (np.absolute, (2, 3), {}), (np.angle, (2, 3), {}), (np.angle, (4,), dict(deg=True)),
    (runtime.abs_unit, (2, 3), {}), (runtime.resize_to, (3, 4), dict(shape=(2, 6))),
])
def test_rules_at_complex_points(op, shape, kwargs):
    """Tangents against central differences in complex directions, adjoints against tangents by
    <a, b> = Re(sum(a * b)) (docs/conventions.md)."""
    name = "z" if op is np.angle else "x"
    name = "g" if op is runtime.resize_to else name
    check_rule(op, {name: _complex(*shape)}, kwargs)


def test_rules_with_a_complex_cotangent_on_real_inputs():
    """A real input's adjoint is the real part of what the transform's adjoint gives."""
    for op, kwargs in ((np.fft.fft, dict(n=6)), (np.fft.rfft, dict(n=10)), (np.fft.rfftn, dict(axes=(1, 0))),
                       (np.fft.ifft2, {})):
        check_rule(op, {"x": np.random.default_rng(3).uniform(-1, 1, (3, 8))}, kwargs)


# ---------------------------------------------------------------- closed forms and realistic programs

def power(x):
    return np.sum(np.abs(np.fft.fft(x)) ** 2)


def test_parseval_closed_form():
    """sum |fft(x)|^2 = n sum x^2 (Parseval): gradient 2 n x, hessian 2 n I."""
    x = np.random.default_rng(4).uniform(-1, 1, 7)
    np.testing.assert_allclose(s2sad.grad(power)(x), 14 * x, rtol=1e-12, atol=1e-12)
    value, g = s2sad.value_and_grad(power)(x)
    np.testing.assert_allclose(value, 7 * np.sum(x ** 2), rtol=1e-12)
    np.testing.assert_allclose(g, 14 * x, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(s2sad.hessian(power)(x), 14 * np.eye(7), rtol=1e-10, atol=1e-10)
    out, tangent = s2sad.jvp(power, (x,), (np.ones(7),))
    np.testing.assert_allclose(tangent, 14 * np.sum(x), rtol=1e-12)


def spectral_derivative(u):
    n = u.shape[0]
    k = np.fft.fftfreq(n, 1.0 / n)
    return np.fft.ifft(1j * k * np.fft.fft(u)).real


def test_spectral_derivative_closed_form():
    """On a periodic grid the spectral derivative of a * sin(t) is a * cos(t) exactly: its jvp in
    a is cos(t), and its vjp takes a cotangent w to sum(w * cos(t))."""
    t = 2 * np.pi * np.arange(16) / 16
    fun = make_function("def f(a):\n    return spectral_derivative(a * np.sin(t))\n",
                        {"spectral_derivative": spectral_derivative, "t": t})
    out, tangent = s2sad.jvp(fun, (1.5,), (1.0,))
    np.testing.assert_allclose(out, 1.5 * np.cos(t), atol=1e-12)
    np.testing.assert_allclose(tangent, np.cos(t), atol=1e-12)
    w = np.random.default_rng(5).uniform(-1, 1, 16)
    _, pullback = s2sad.vjp(fun, 1.5)
    np.testing.assert_allclose(pullback(w)[0], np.sum(w * np.cos(t)), atol=1e-12)
    assert type(pullback(w)[0]) is float


REALISTIC = {
    "power spectrum": ("def f(x):\n    return np.abs(np.fft.rfft(x)) ** 2\n", [(9,)], {}),
    "spectral filter": ("def f(x):\n    return np.fft.irfft(np.fft.rfft(x) * H, 8)\n", [(8,)],
                        {"H": np.exp(-np.arange(5) / 2.0) * (1 + 0.5j)}),
    "spectral derivative": ("def f(u):\n    return spectral_derivative(np.sin(u))\n", [(8,)],
                            {"spectral_derivative": spectral_derivative}),
    "convolution": ("def f(a, b):\n    n = a.shape[0] + b.shape[0] - 1\n"
                    "    return np.fft.irfft(np.fft.rfft(a, n) * np.fft.rfft(b, n), n)\n", [(5,), (3,)], {}),
    "2-d": ("def f(x):\n    return np.abs(np.fft.fft2(np.sin(x))) + np.fft.ifft2(x, norm='ortho').imag\n",
            [(3, 4)], {}),
    "n-d": ("def f(x):\n    z = np.fft.fftn(x, s=(4, 6), axes=(0, 1))\n"
            "    return np.real(z * np.conj(z)) + np.sin(np.angle(z))\n", [(3, 4)], {}),
    "real 2-d": ("def f(x):\n    return np.fft.irfft2(np.fft.rfft2(x) * np.fft.rfft2(x ** 2), s=x.shape)\n",
                 [(4, 6)], {}),
}


@pytest.mark.parametrize("name", list(REALISTIC))
def test_realistic_programs_in_every_mode(name):
    source, shapes, namespace = REALISTIC[name]
    rng = np.random.default_rng(6)
    check_every_mode(source, [rng.uniform(-1, 1, s) for s in shapes], namespace=namespace)


def test_convolution_by_fft_is_np_convolve():
    """The convolution program equals np.convolve, and so do its derivatives (a Toeplitz matrix)."""
    fun = make_function(REALISTIC["convolution"][0])
    a, b = np.random.default_rng(7).uniform(-1, 1, 5), np.random.default_rng(8).uniform(-1, 1, 3)
    np.testing.assert_allclose(fun(a, b), np.convolve(a, b), atol=1e-12)
    jacobian = s2sad.jacrev(fun)(a, b)
    expected = np.stack([np.convolve(e, b) for e in np.eye(5)], axis=-1)
    np.testing.assert_allclose(jacobian, expected, atol=1e-12)
