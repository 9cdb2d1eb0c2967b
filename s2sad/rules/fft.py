"""The discrete Fourier transform (np.fft): the shifts that reorder a spectrum, fftshift and
ifftshift, are real permutations, each the other's adjoint.

The transforms themselves (fft, ifft, rfft, irfft, fft2, ...) produce or read complex arrays,
and complex values cannot flow through s2sad's generated code yet (their (co)tangents need a
convention the other rules do not follow): differentiating through one is refused at the
user's line, with the real-valued alternative to write instead (`refuse`).
"""

import numpy as np

from s2sad.rules.registry import linear, refuse


@linear(np.fft.fftshift, "x, axes=None")
class fftshift:
    """A roll by half of each axis (rounded down): its adjoint rolls back, which is ifftshift."""

    def bx(g, axes):
        return np.fft.ifftshift(g, axes)


@linear(np.fft.ifftshift, "x, axes=None")
class ifftshift:
    def bx(g, axes):
        return np.fft.fftshift(g, axes)


COMPLEX = ("its result is complex, and complex values cannot flow through derivative code yet")
REAL_FORM = ("write the transform as real arithmetic: the real and imaginary parts of np.fft.rfft(x) are "
             "C @ x and -S @ x with C = np.cos(2 * np.pi * np.outer(k, n) / N), S = np.sin(...) "
             "(k = np.arange(N // 2 + 1), n = np.arange(N)), so np.abs(np.fft.rfft(x)) ** 2 is "
             "(C @ x) ** 2 + (S @ x) ** 2; or wrap the input in s2sad.stop_gradient")

refuse(np.fft.fft, np.fft.ifft, np.fft.rfft, np.fft.irfft, np.fft.fft2, np.fft.ifft2, np.fft.fftn,
       np.fft.ifftn, np.fft.rfft2, np.fft.irfft2, np.fft.rfftn, np.fft.irfftn, np.fft.hfft, np.fft.ihfft,
       reason=COMPLEX, hint=REAL_FORM)
