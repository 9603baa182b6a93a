"""The L-layer cat classifier (course 1, week 4): [LINEAR -> RELU] x 3 -> LINEAR -> SIGMOID.
=========================================================================================

Network([12288, 20, 7, 5, 1]) from the course's initialization (np.random.seed(1), then
W[l] = randn(n[l], n[l-1]) / sqrt(n[l-1]), b[l] = 0), 2500 full-batch iterations at learning
rate 0.0075: the course's published run, cost 0.771749 at iteration 0 and 0.092878 at 2400,
train accuracy 0.9856, test 0.80.

Run it as a script::

    python examples/cat_deep.py [--out DIR] [--data DIR] [--float32]
"""

import argparse
from pathlib import Path

import numpy as np

from mlpkit import Network
from mlpkit.apps.plots import plot_costs, plot_mislabeled
from mlpkit.data import flatten_images, load_cat_data

LAYER_DIMS = [12288, 20, 7, 5, 1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("out"), help="folder for the plots")
    parser.add_argument("--data", help="folder with the cat .h5 files (default $MLPKIT_DATA)")
    parser.add_argument("--float32", action="store_true", help="train in float32")
    args = parser.parse_args()

    dtype = np.float32 if args.float32 else np.float64
    train_images, Y, test_images, Y_test, classes = load_cat_data(args.data)
    X, X_test = flatten_images(train_images, dtype), flatten_images(test_images, dtype)

    # the course's initialize_parameters_deep: np.random.seed(1), W[l] = randn / sqrt(n[l-1])
    net = Network(LAYER_DIMS, hidden_activation="relu", output_activation="sigmoid",
                  init="xavier", seed=np.random.RandomState(1))
    history = net.fit(X, Y, epochs=2500, learning_rate=0.0075, verbose=1)
    print(f"{net.dtype}: cost at iteration 0: {history.costs[0]:.7f}, "
          f"at 2400: {history.costs[2400]:.7f}  (course: 0.7717493, 0.0928782)")
    print(f"train accuracy: {net.score(X, Y):.4f}  (course: 0.9856)")
    print(f"test accuracy:  {net.score(X_test, Y_test):.4f}  (course: 0.8)")
    print("wrote", plot_costs(history.costs, args.out / "cat_deep_costs.png",
                              title=f"L-layer network {LAYER_DIMS}", learning_rate=0.0075))
    print("wrote", plot_mislabeled(test_images, Y_test, net.predict(X_test), classes,
                                   args.out / "cat_deep_mislabeled.png"))


if __name__ == "__main__":
    main()

# %%
# What to read here
# -----------------
#
# The printed costs match the course's published L-layer run to seven decimals: the same
# initialization (:math:`W^{[l]} = \text{randn} / \sqrt{n^{[l-1]}}`), the same forward and
# backward passes, the same updates. The deeper network generalizes better than the two-layer
# one (test 0.80 against 0.72). The mislabeled images show where it fails: cats in unusual
# poses, at odd scales, or against backgrounds of the same colour.
