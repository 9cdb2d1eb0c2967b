"""A two-layer network whose parameters are a dict, and its gradient written by hand."""

import numpy as np


def mlp_loss(params, inputs, targets):
    hidden = np.tanh(inputs @ params["w1"] + params["b1"])
    outputs = hidden @ params["w2"] + params["b2"]
    return 0.5 * np.mean(np.sum((outputs - targets) ** 2, axis=1))


def mlp_loss_by_hand(params, inputs, targets):
    hidden = np.tanh(inputs @ params["w1"] + params["b1"])
    outputs = hidden @ params["w2"] + params["b2"]
    bout = (outputs - targets) / inputs.shape[0]
    bhidden = bout @ params["w2"].T * (1.0 - hidden ** 2)
    return {"w1": inputs.T @ bhidden, "b1": np.sum(bhidden, axis=0),
            "w2": hidden.T @ bout, "b2": np.sum(bout, axis=0)}


def init(sizes, dtype=np.float64, seed=0):
    n_in, n_hidden, n_out = sizes
    rng = np.random.default_rng(seed)
    return {"w1": rng.standard_normal((n_in, n_hidden)).astype(dtype) * 0.5,
            "b1": rng.standard_normal(n_hidden).astype(dtype) * 0.1,
            "w2": rng.standard_normal((n_hidden, n_out)).astype(dtype) * 0.5,
            "b2": rng.standard_normal(n_out).astype(dtype) * 0.1}
