"""Optimizers (course 2, week 2): mini-batch gradient descent vs momentum vs Adam on make_moons.

The course's setting: make_moons(300, noise=.2) after np.random.seed(3); [2, 5, 2, 1] relu,
He init, mini-batches of 64, learning rate 0.0007, 5000 epochs. Momentum (beta 0.9) barely
helps at this small rate; Adam (0.9, 0.999, 1e-8) gets much further in the same epochs.

    python examples/optimizers.py [--out DIR] [--seed N]
"""

import argparse
from pathlib import Path

from sklearn.datasets import make_moons

from mlpkit import Network
from mlpkit.apps.plots import plot_costs, plot_decision_boundaries

OPTIMIZERS = {"gd": "mini-batch gradient descent", "momentum": "momentum", "adam": "Adam"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("out"), help="folder for the plots")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and shuffles")
    args = parser.parse_args()

    X, y = make_moons(n_samples=300, noise=0.2, random_state=3)
    X, Y = X.T, y.reshape(1, -1)
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
