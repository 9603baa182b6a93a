"""Optimizers (course 2, week 2): mini-batch gradient descent vs momentum vs Adam on make_moons.
=============================================================================================

First the course's run, exactly: make_moons(300, noise=.2) after np.random.seed(3); [2, 5, 2, 1]
relu/sigmoid, He init from np.random.seed(3), mini-batches of 64 shuffled as the course does
(seed 10 + 1 + epoch), learning rate 0.0007, 10000 epochs: training accuracy 79.67% for gradient
descent and for momentum (beta 0.9), 94% for Adam (0.9, 0.999, 1e-8), the course's numbers.

Then the same comparison on mlpkit's own draws (5000 epochs, one seed for weights and
shuffles): momentum barely helps at this small rate; Adam gets much further in the same epochs.

The course's run is the playground's preset `course-optimization` (`mlpkit.apps.presets`).

Run it as a script::

    python examples/optimizers.py [--out DIR] [--seed N]
"""

import argparse
from pathlib import Path

from mlpkit import Network
from mlpkit.apps.plots import plot_costs, plot_decision_boundaries
from mlpkit.apps.presets import PRESETS, fit_options, make_data, network
from mlpkit.data import make_moons

OPTIMIZERS = {"gd": "mini-batch gradient descent", "momentum": "momentum", "adam": "Adam"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("out"), help="folder for the plots")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and shuffles")
    args = parser.parse_args()

    for name, settings in PRESETS["course-optimization"]["members"].items():
        (X, Y), _, classes = make_data(settings)  # make_moons(300, noise=.2) after seed(3)
        net = network(settings, len(classes))
        net.fit(X, Y, **fit_options(settings))
        print(f"the course's run, {name:>27}: training accuracy {net.score(X, Y):.2%}")

    X, Y = make_moons(300, noise=0.2, seed=args.seed)
    panels, costs = [], []
    for optimizer, name in OPTIMIZERS.items():
        net = Network([2, 5, 2, 1], init="he", seed=args.seed)
        history = net.fit(X, Y, epochs=5000, learning_rate=0.0007, batch_size=64,
                          optimizer=optimizer, seed=args.seed)
        accuracy = net.score(X, Y)
        print(f"{name:>27}: cost {history.costs[0]:.4f} -> {history.costs[-1]:.4f}, "
              f"training accuracy {accuracy:.2%}")
        panels.append((f"{name} ({accuracy:.1%})", net.predict, X, Y))
        costs.append(history.costs)
    print("wrote", plot_decision_boundaries(panels, args.out / "optimizers_boundaries.png"))
    print("wrote", plot_costs(costs, args.out / "optimizers_costs.png",
                              labels=list(OPTIMIZERS.values()), learning_rate=0.0007,
                              title="epoch cost, mini-batches of 64"))


if __name__ == "__main__":
    main()

# %%
# What to read here
# -----------------
#
# At the course's small learning rate, momentum's exponentially weighted average of the
# gradients hardly changes plain gradient descent in 10000 epochs (the same 79.67%); Adam, which
# also divides each step by the root of the averaged squared gradients, takes steps of about the
# learning rate in every direction and reaches 94%. The cost curves of mini-batch descent are
# noisy: each step sees a different mini-batch.
