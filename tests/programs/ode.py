"""Forward Euler on a damped oscillator x'' = -k x - c x'. The number of steps depends on the
data: the loop runs while t < t_end, with the step size an argument."""

import numpy as np


def oscillator(k, c, x0, v0, dt, t_end):
    """Position at the first step time t >= t_end."""
    x, v, t = x0, v0, 0.0
    while t < t_end:
        a = -k * x - c * v
        x, v = x + dt * v, v + dt * a
        t = t + dt
    return x


def euler_matrix(k, c, dt):
    """One Euler step as a matrix acting on (x, v)."""
    return np.array([[1.0, dt], [-k * dt, 1.0 - c * dt]])


def steps(dt, t_end):
    """How many steps `oscillator` takes (the same float sum, so the same count)."""
    n, t = 0, 0.0
    while t < t_end:
        t, n = t + dt, n + 1
    return n
