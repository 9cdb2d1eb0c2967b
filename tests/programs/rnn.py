"""An Elman recurrent network unrolled over the time steps of a sequence, and its gradient
written by hand (backpropagation through time) as an independent check."""

import numpy as np


def rnn_loss(wx, wh, b, xs, target):
    """Squared error of the last hidden state after reading the rows of `xs` one by one."""
    h = np.zeros(wh.shape[0])
    for x in xs:
        h = np.tanh(wx @ x + wh @ h + b)
    return 0.5 * np.sum((h - target) ** 2)


def rnn_loss_by_hand(wx, wh, b, xs, target):
    """(d/dwx, d/dwh, d/db) of `rnn_loss`, by backpropagation through time."""
    hs = [np.zeros(wh.shape[0])]
    for x in xs:
        hs.append(np.tanh(wx @ x + wh @ hs[-1] + b))
    gwx, gwh, gb = np.zeros_like(wx), np.zeros_like(wh), np.zeros_like(b)
    bh = hs[-1] - target
    for t in range(len(xs), 0, -1):
        bz = bh * (1.0 - hs[t] ** 2)
        gwx += np.outer(bz, xs[t - 1])
        gwh += np.outer(bz, hs[t - 1])
        gb += bz
        bh = wh.T @ bz
    return gwx, gwh, gb
