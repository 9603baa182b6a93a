"""The two-layer cat classifier (course 1, week 4): LINEAR -> RELU -> LINEAR -> SIGMOID.
=====================================================================================

Network([12288, 7, 1]) from the course's initialization (np.random.seed(1), W = randn * 0.01,
b = 0), 2500 full-batch iterations at learning rate 0.0075: the course reports cost
0.693049735659989 at iteration 0, 0.048554785628770206 at 2400, train accuracy 1.0, test 0.72.

Run it as a script::

    python examples/cat_two_layer.py [--out DIR] [--data DIR]
"""

import argparse
from pathlib import Path

import numpy as np

from mlpkit import Network
from mlpkit.apps.plots import plot_costs, plot_mislabeled
from mlpkit.data import flatten_images, load_cat_data

N_X, N_H, N_Y = 12288, 7, 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("out"), help="folder for the plots")
    parser.add_argument("--data", help="folder with the cat .h5 files (default $MLPKIT_DATA)")
    args = parser.parse_args()

    train_images, Y, test_images, Y_test, classes = load_cat_data(args.data)
    X, X_test = flatten_images(train_images), flatten_images(test_images)

    # the course's initialize_parameters: np.random.seed(1), W = randn * 0.01, b = 0
    net = Network([N_X, N_H, N_Y], hidden_activation="relu", output_activation="sigmoid",
                  init="random", seed=np.random.RandomState(1))
    history = net.fit(X, Y, epochs=2500, learning_rate=0.0075, verbose=1)
    print(f"cost at iteration 0: {history.costs[0]!r}, at 2400: {history.costs[2400]!r}")
    print(f"train accuracy: {net.score(X, Y):.4f}  (course: 1.0)")
    print(f"test accuracy:  {net.score(X_test, Y_test):.4f}  (course: 0.72)")
    print("wrote", plot_costs(history.costs, args.out / "cat_two_layer_costs.png",
                              title="Two-layer network on cats", learning_rate=0.0075))
    print("wrote", plot_mislabeled(test_images, Y_test, net.predict(X_test), classes,
                                   args.out / "cat_two_layer_mislabeled.png"))


if __name__ == "__main__":
    main()

# %%
# What to read here
# -----------------
#
# The cost falls from :math:`\log 2 \approx 0.693` (the initial weights are tiny, so every
# prediction is about 0.5) to about 0.05: the 7 relu units fit the training set exactly (train
# accuracy 1.0), and the test accuracy of 0.72 is the course's. The gap between the two is
# variance, which the deeper network of the next example and course 2's regularization reduce.
