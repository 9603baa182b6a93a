"""Regularization (course 2, week 1): no regularization vs L2 vs dropout on an overfitting network
===============================================================================================

80 noisy make_moons points (noise 0.35) for training, 1000 for testing; a [2, 64, 64, 1] relu
network trained with Adam (rate 0.01, 3000 full-batch epochs) memorizes the training points.
L2 (lambda = 0.3: lambda / 2m times the sum of the squared Frobenius norms of the W[l] in the
cost) and inverted dropout (keep_prob = 0.5 on both hidden layers) each narrow the train-test
gap.

The settings are the playground's preset `course-regularization` (`mlpkit.apps.presets`).

Run it as a script::

    python examples/regularization.py [--out DIR] [--seed N]
"""

import argparse
from pathlib import Path

from mlpkit.apps.plots import plot_costs, plot_decision_boundaries
from mlpkit.apps.presets import PRESETS, fit_options, make_data, network, settings_of

SETTINGS = PRESETS["course-regularization"]["members"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("out"), help="folder for the plots")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and dropout")
    args = parser.parse_args()

    panels, costs = [], []
    for name, settings in SETTINGS.items():
        settings = settings_of(**{**settings, "seed": args.seed, "fit_seed": args.seed})
        # make_moons(80, noise=.35) from seed 0; the test set: 1000 from seed 1
        (X, Y), (X_test, Y_test), classes = make_data(settings)
        net = network(settings, len(classes))
        history = net.fit(X, Y, **fit_options(settings))
        train, test = net.score(X, Y), net.score(X_test, Y_test)
        print(f"{name:>25}: train {train:.2%}, test {test:.2%}, gap {train - test:+.2%}")
        panels.append((f"{name}\ntrain {train:.0%}, test {test:.1%}", net.predict, X, Y))
        costs.append(history.costs)
    print("wrote", plot_decision_boundaries(panels, args.out / "regularization_boundaries.png"))
    print("wrote", plot_costs(costs, args.out / "regularization_costs.png", labels=list(SETTINGS),
                              title="training cost (with its L2 term; dropout's is noisy)"))


if __name__ == "__main__":
    main()

# %%
# What to read here
# -----------------
#
# Without regularization the boundary wraps around single noisy training points: training
# accuracy far above test accuracy, high variance. L2 penalizes large weights, which keeps the
# units near their linear regime and the boundary smooth: the smallest train-test gap. Dropout
# trains a different thinned network on every step, so no unit can rely on another; its cost
# curve is noisy because the cost changes with each mask. Both trade a little training accuracy
# for a smaller gap.
