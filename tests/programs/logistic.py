"""Logistic regression: the mean log-loss of a linear classifier with labels in {-1, +1}."""

import numpy as np


def log_loss(w, b, features, labels):
    margins = labels * (features @ w + b)
    return np.mean(np.logaddexp(0.0, -margins))


def log_loss_by_hand(w, b, features, labels):
    """(d/dw, d/db) of `log_loss`: each sample pulls by sigmoid(-margin)."""
    margins = labels * (features @ w + b)
    pull = -labels / (1.0 + np.exp(margins)) / labels.shape[0]
    return features.T @ pull, np.sum(pull)


def penalised_loss(w, features, labels):
    """The loss with a ridge penalty written as a loop (what scipy minimises in the tests)."""
    total = log_loss(w, 0.0, features, labels)
    for wi in w:
        total = total + 0.05 * wi * wi
    return total


def rosenbrock(x):
    """The n-dimensional Rosenbrock function, one term per loop step; its minimum is at ones."""
    total = 0.0
    for i in range(x.shape[0] - 1):
        total = total + 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2
    return total
