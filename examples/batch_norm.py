"""Batch normalization (course 2, week 3): cost curves with batch norm off and on.
===============================================================================

scikit-learn's digits (8x8 images, 10 classes, 30% test split), a deep [64, 50, 50, 50, 50, 10]
relu/softmax network, He init, mini-batch gradient descent (batches of 64, 30 epochs).
Batch norm normalizes each hidden layer's Z over the mini-batch,
Z~ = gamma (Z - mu) / sqrt(var + eps) + beta, and predicts with running averages of mu and var.
Then the same with unscaled pixels (0..16): without batch norm the rate 0.1 blows up, with it
the first layer's Z is normalized anyway.

Run it as a script::

    python examples/batch_norm.py [--out DIR] [--seed N]
"""

import argparse
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from mlpkit import Network, one_hot
from mlpkit.apps.plots import plot_costs

DIMS = [64, 50, 50, 50, 50, 10]


def digits(scale):
    data = load_digits()
    X, X_test, y, y_test = train_test_split(
        data.data / scale, data.target, test_size=0.3, random_state=0, stratify=data.target
    )
    return X.T, one_hot(y, 10), X_test.T, one_hot(y_test, 10)


def run(data, batch_norm, learning_rate, seed):
    X, Y, X_test, Y_test = data
    net = Network(DIMS, output_activation="softmax", batch_norm=batch_norm, seed=seed)
    history = net.fit(X, Y, epochs=30, learning_rate=learning_rate, batch_size=64, seed=seed)
    return history.costs, net.score(X_test, Y_test)


def main():
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("out"), help="folder for the plots")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and shuffles")
    args = parser.parse_args()

    scaled = digits(16.0)
    curves, labels = [], []
    for learning_rate in (0.01, 0.1):
        for batch_norm in (False, True):
            costs, test = run(scaled, batch_norm, learning_rate, args.seed)
            label = f"rate {learning_rate:g}, batch norm {'on' if batch_norm else 'off'}"
            print(f"pixels / 16, {label:>24}: cost after epochs 1, 5, 10, 30: "
                  f"{costs[0]:.3f} {costs[4]:.3f} {costs[9]:.3f} {costs[-1]:.3f}; "
                  f"test accuracy {test:.2%}")
            curves.append(costs)
            labels.append(label)
    print("wrote", plot_costs(curves, args.out / "batch_norm_costs.png", labels=labels,
                              title="digits, [64, 50, 50, 50, 50, 10], mini-batches of 64"))

    raw = digits(1.0)
    for batch_norm in (False, True):
        with np.errstate(over="ignore", invalid="ignore"):
            costs, test = run(raw, batch_norm, 0.1, args.seed)
        print(f"pixels 0..16, rate 0.1, batch norm {'on ' if batch_norm else 'off'}: "
              f"final cost {costs[-1]:.4g}, test accuracy {test:.2%}")


if __name__ == "__main__":
    main()

# %%
# What to read here
# -----------------
#
# Batch norm normalizes each hidden layer's :math:`Z` over the mini-batch, so the next layer sees
# inputs of a stable scale whatever the weights before it do: the cost falls faster and a larger
# learning rate is safe. With unscaled pixels (0 to 16) gradient descent at rate 0.1 without
# batch norm struggles, while with it the first layer's :math:`Z` is normalized anyway and the
# accuracy is the same as with scaled inputs.
