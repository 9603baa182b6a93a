"""House-price regression with a linear output (the notes' first example of a neural network).
===========================================================================================

Synthetic data with a known answer (mlpkit.data.make_house_prices): price = bias + w . x +
noise, noise std 0.15 (in 100k). Linear regression is Network([4, 1], output_activation="linear")
with cost J = (1/2m) sum (a - y)^2; trained on standardized features, its weights, mapped back
to the original units, recover the true ones. A small relu network is fitted for comparison.

Run it as a script::

    python examples/house_prices.py [--out DIR]
"""

import argparse
from pathlib import Path

import numpy as np

from mlpkit import Network, Standardizer
from mlpkit.apps.plots import plot_costs
from mlpkit.data import (
    HOUSE_FEATURES,
    HOUSE_PRICE_BIAS,
    HOUSE_PRICE_NOISE,
    HOUSE_PRICE_WEIGHTS,
    make_house_prices,
)


def rmse(net, X, Y):
    return float(np.sqrt(np.mean((net.predict(X) - Y) ** 2)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("out"), help="folder for the plots")
    parser.add_argument("--m", type=int, default=400, help="number of training examples")
    args = parser.parse_args()

    X_raw, Y = make_house_prices(m=args.m, seed=0)
    X_test_raw, Y_test = make_house_prices(m=200, seed=1)
    scaler = Standardizer().fit(X_raw)  # statistics of the training set only
    X, X_test = scaler.transform(X_raw), scaler.transform(X_test_raw)

    linear = Network([4, 1], output_activation="linear", init="zeros")
    linear_costs = linear.fit(X, Y, epochs=500, learning_rate=0.1).costs
    # back to the original units: y = w . (x - mu) / sigma + b
    w = linear.parameters["W1"][0] / scaler.scale_[:, 0]
    b = linear.parameters["b1"][0, 0] - w @ scaler.mean_[:, 0]
    print(f"{'':14s} {'true':>9s} {'learned':>9s}")
    for name, true, learned in zip(HOUSE_FEATURES, HOUSE_PRICE_WEIGHTS, w, strict=True):
        print(f"{name:14s} {true:9.4f} {learned:9.4f}")
    print(f"{'bias':14s} {HOUSE_PRICE_BIAS:9.4f} {b:9.4f}")
    print(f"linear regression: R^2 train {linear.score(X, Y):.4f}, test "
          f"{linear.score(X_test, Y_test):.4f}; RMSE train {rmse(linear, X, Y):.4f}, test "
          f"{rmse(linear, X_test, Y_test):.4f} (noise std {HOUSE_PRICE_NOISE})")

    deep = Network([4, 8, 1], hidden_activation="relu", output_activation="linear", seed=0)
    deep_costs = deep.fit(X, Y, epochs=500, learning_rate=0.05).costs
    print(f"[4, 8, 1] relu network: R^2 train {deep.score(X, Y):.4f}, test "
          f"{deep.score(X_test, Y_test):.4f}; RMSE train {rmse(deep, X, Y):.4f}, test "
          f"{rmse(deep, X_test, Y_test):.4f}")
    print("wrote", plot_costs([linear_costs, deep_costs], args.out / "house_prices_costs.png",
                              title="House prices: squared error",
                              labels=["linear regression [4, 1]", "relu network [4, 8, 1]"]))


if __name__ == "__main__":
    main()

# %%
# What to read here
# -----------------
#
# With a linear output and the squared-error cost, the network is linear regression, and gradient
# descent on standardized features recovers the weights the data was drawn with. The RMSE equals
# the noise's standard deviation (0.15): nothing is left to learn. The small relu network does no
# better, because there is no non-linearity in the data to find.
