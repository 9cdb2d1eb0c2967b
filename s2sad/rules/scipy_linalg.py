"""scipy.linalg: expm. Registered when a program first calls a scipy.linalg function (importing
scipy is slow; see `registry.lookup`)."""

import numpy as np
import scipy.linalg

from s2sad.rules.registry import define
from s2sad.runtime import frechet_block, upper_right


@define(scipy.linalg.expm, "A", path="scipy.linalg.expm")
class expm:
    """exp(A) of a square matrix or a stack of them. Its derivative in direction E is the upper
    right block of exp([[A, E], [0, A]]) (the Fréchet derivative), and the adjoint of G is that
    of exp([[A^T, G], [0, A^T]])."""

    def dA(dA, A):
        return upper_right(scipy.linalg.expm(frechet_block(A, dA)))

    def bA(g, A):
        return upper_right(scipy.linalg.expm(frechet_block(np.swapaxes(A, -1, -2), g)))
