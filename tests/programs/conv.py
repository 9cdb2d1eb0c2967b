"""A 1-D convolution (cross-correlation, 'valid' mode) written with loops and in-place writes
into an array made with np.zeros."""

import numpy as np


def correlate_valid(signal, kernel):
    n, m = signal.shape[0], kernel.shape[0]
    out = np.zeros(n - m + 1)
    for i in range(n - m + 1):
        for j in range(m):
            out[i] += signal[i + j] * kernel[j]
    return out


def conv_loss(signal, kernel, weights):
    return np.sum(correlate_valid(signal, kernel) * weights)
