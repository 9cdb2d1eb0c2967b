"""Train a small neural network on scikit-learn's handwritten digits, with s2sad's gradient.

The 1,797 8x8 images of `sklearn.datasets.load_digits` are split into 1,437 for training and
360 for testing. The network is one hidden layer of 32 tanh units and a softmax over the ten
digits; its parameters are a dict of arrays, and `s2sad.grad(loss)` returns a dict of the same
shape. Training is mini-batch Adam written out in NumPy. The script prints the loss and the
accuracies as it goes, and checks the final test accuracy (at least 97%; 95% with `--small`).

    pip install scikit-learn    # or: pip install ".[examples]"
    python examples/digits_network.py [--small] [--plot digits_network.png]

With matplotlib installed it plots the training loss and the test accuracy per epoch.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import s2sad

HIDDEN = 32
WEIGHT_DECAY = 1e-4


def init_params(rng, sizes):
    """Weights scaled by 1/sqrt(fan-in), zero biases: {"w1": ..., "b1": ..., "w2": ..., ...}."""
    params = {}
    for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"w{layer}"] = rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in)
        params[f"b{layer}"] = np.zeros(fan_out)
    return params


def logits(params, images):
    hidden = np.tanh(images @ params["w1"] + params["b1"])
    return hidden @ params["w2"] + params["b2"]


def loss(params, images, onehot):
    """Mean cross-entropy of the softmax, plus a little weight decay."""
    scores = logits(params, images)
    scores = scores - np.max(scores, axis=1, keepdims=True)
    log_probs = scores - np.log(np.sum(np.exp(scores), axis=1, keepdims=True))
    penalty = 0.0
    for name, value in params.items():
        if name.startswith("w"):
            penalty = penalty + np.sum(value * value)
    return -np.mean(np.sum(onehot * log_probs, axis=1)) + WEIGHT_DECAY * penalty


def accuracy(params, images, labels) -> float:
    return float(np.mean(np.argmax(logits(params, images), axis=1) == labels))


def load(seed: int = 0):
    """Images scaled to [0, 1], labels, and a fixed 80/20 split (train first)."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images, labels = digits.data / 16.0, digits.target
    order = np.random.default_rng(seed).permutation(len(labels))
    cut = int(0.8 * len(labels))
    train, test = order[:cut], order[cut:]
    return images[train], labels[train], images[test], labels[test]


def train(params, images, labels, epochs, batch=64, rate=0.01, seed=0):
    """Adam on mini-batches; per epoch, the mean training loss. Updates `params` in place."""
    grad = s2sad.grad(loss)
    onehot = np.eye(10)[labels]
    moment = {k: np.zeros_like(v) for k, v in params.items()}
    second = {k: np.zeros_like(v) for k, v in params.items()}
    rng = np.random.default_rng(seed)
    history, step = [], 0
    for _ in range(epochs):
        order = rng.permutation(len(labels))
        losses = []
        for start in range(0, len(order), batch):
            chosen = order[start:start + batch]
            losses.append(loss(params, images[chosen], onehot[chosen]))
            gradient = grad(params, images[chosen], onehot[chosen])
            step += 1
            for k in params:
                moment[k] = 0.9 * moment[k] + 0.1 * gradient[k]
                second[k] = 0.999 * second[k] + 0.001 * gradient[k] ** 2
                unbiased = moment[k] / (1 - 0.9**step), second[k] / (1 - 0.999**step)
                params[k] -= rate * unbiased[0] / (np.sqrt(unbiased[1]) + 1e-8)
        history.append(float(np.mean(losses)))
    return history


def check_gradient(params, images, onehot, seed=0) -> float:
    """Relative difference between s2sad's directional derivative and a central difference."""
    rng = np.random.default_rng(seed)
    direction = {k: rng.standard_normal(v.shape) for k, v in params.items()}
    gradient = s2sad.grad(loss)(params, images, onehot)
    exact = sum(np.sum(gradient[k] * direction[k]) for k in params)
    step = 1e-6
    plus = loss({k: v + step * direction[k] for k, v in params.items()}, images, onehot)
    minus = loss({k: v - step * direction[k] for k, v in params.items()}, images, onehot)
    estimate = (plus - minus) / (2 * step)
    return float(abs(exact - estimate) / abs(estimate))


def plot_training(path, losses, accuracies) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    epochs = np.arange(1, len(losses) + 1)
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
    left.plot(epochs, losses)
    left.set_xlabel("epoch")
    left.set_ylabel("training loss")
    left.set_yscale("log")
    right.plot(epochs, accuracies)
    right.set_xlabel("epoch")
    right.set_ylabel("test accuracy")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def main(small: bool = False, plot: str | None = "digits_network.png") -> dict:
    """Train for 30 epochs (8 with `small`) and check the test accuracy."""
    epochs, wanted = (8, 0.95) if small else (30, 0.97)
    train_images, train_labels, test_images, test_labels = load()
    params = init_params(np.random.default_rng(0), [64, HIDDEN, 10])
    print(f"digits: {len(train_labels)} training and {len(test_labels)} test images of 8x8 pixels")
    print(f"network 64 -> {HIDDEN} (tanh) -> 10 (softmax), parameters {', '.join(params)}: "
          f"{sum(v.size for v in params.values())} numbers")
    difference = check_gradient(params, train_images[:100], np.eye(10)[train_labels[:100]])
    print(f"gradient against a central difference in a random direction: relative difference {difference:.1e}")

    begin = time.perf_counter()
    losses, accuracies = [], []
    for epoch in range(epochs):
        losses += train(params, train_images, train_labels, epochs=1, seed=epoch)
        accuracies.append(accuracy(params, test_images, test_labels))
        if epoch in (0, epochs - 1) or (epoch + 1) % 5 == 0:
            print(f"  epoch {epoch + 1:3d}: training loss {losses[-1]:.4f}, test accuracy {accuracies[-1]:.1%}")
    seconds = time.perf_counter() - begin
    train_accuracy = accuracy(params, train_images, train_labels)
    print(f"trained in {seconds:.1f} s: training accuracy {train_accuracy:.1%}, "
          f"test accuracy {accuracies[-1]:.1%} (the example checks >= {wanted:.0%})")
    assert accuracies[-1] >= wanted, f"test accuracy {accuracies[-1]:.3f} is below {wanted}"

    saved = plot is not None and plot_training(plot, losses, accuracies)
    if saved:
        print(f"wrote {plot}")
    return {
        "test_accuracy": accuracies[-1],
        "train_accuracy": train_accuracy,
        "wanted": wanted,
        "losses": losses,
        "gradient_error": difference,
        "seconds": seconds,
        "plot": plot if saved else None,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="fewer epochs (what the tests run)")
    parser.add_argument("--plot", default="digits_network.png", help="where to save the figure (needs matplotlib)")
    arguments = parser.parse_args()
    main(small=arguments.small, plot=arguments.plot)
