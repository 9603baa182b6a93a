"""Initialization (course 2, week 1): zeros vs large random (x10) vs He on make_circles.
=====================================================================================

The course's data: make_circles(300, noise=.05) after np.random.seed(1) for training and
make_circles(100, noise=.05) after seed(2) for testing; [2, 10, 5, 1] relu/sigmoid, 15000
full-batch gradient-descent iterations at learning rate 0.01.
- zeros: every unit of a layer computes the same thing forever (symmetry), so 50%;
- large random, W ~ N(0, 1) * 10: a huge initial cost and slow, poor learning;
- He, W ~ N(0, 1) * sqrt(2 / n[l-1]): learns the circles.

The settings are the playground's preset `course-initialization` (`mlpkit.apps.presets`).

Run it as a script::

    python examples/initialization.py [--out DIR] [--seed N]
"""

import argparse
from pathlib import Path

from mlpkit.apps.plots import plot_costs, plot_decision_boundaries
from mlpkit.apps.presets import PRESETS, fit_options, make_data, network, settings_of

INITS = PRESETS["course-initialization"]["members"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("out"), help="folder for the plots")
    parser.add_argument("--seed", type=int, default=0, help="seed of the initial weights")
    args = parser.parse_args()

    panels, costs = [], []
    for name, settings in INITS.items():
        settings = settings_of(**{**settings, "seed": args.seed})
        # make_circles(300, noise=.05) from seed 1; the test set: 100 from seed 2
        (X, Y), (X_test, Y_test), classes = make_data(settings)
        net = network(settings, len(classes))
        history = net.fit(X, Y, **fit_options(settings))
        train, test = net.score(X, Y), net.score(X_test, Y_test)
        print(f"{name:>18}: cost {history.costs[0]:10.4f} -> {history.costs[-1]:.4f}, "
              f"train {train:.2%}, test {test:.2%}")
        panels.append((f"{name} init (test {test:.0%})", net.predict, X, Y))
        costs.append(history.costs)
    print("wrote", plot_decision_boundaries(panels, args.out / "init_boundaries.png"))
    for (name, _), curve in zip(INITS.items(), costs, strict=True):
        slug = name.split()[0].lower()
        print("wrote", plot_costs(curve, args.out / f"init_costs_{slug}.png",
                                  title=f"{name} initialization", learning_rate=0.01))


if __name__ == "__main__":
    main()

# %%
# What to read here
# -----------------
#
# Zeros never break the symmetry: every unit of a layer computes the same function, so the
# network is no better than one unit, and the boundary is flat (50%). Weights 10 times too large
# start with a huge cost (the sigmoid saturates at 0 or 1, and :math:`\log 0` is infinite) and
# learn slowly. He initialization, :math:`W \sim N(0, 1) \cdot \sqrt{2 / n^{[l-1]}}`, keeps the
# variance of the relu activations about constant from layer to layer and learns the circles.
