"""Hyperparameter search (course 2, week 3): coarse-to-fine random search on 2 worker processes.
=============================================================================================

Random sampling, not a grid, each hyperparameter on its own scale: learning rate a = 10^r with
r ~ U[-4, -1]; Adam's beta1 = 1 - 10^r with r ~ U[-2, -0.5] (0.68 .. 0.99); L2's lambda = 10^r;
hidden units and layers as integers. Round 1 samples the whole space; round 2 zooms into the
region of the best quarter of round 1 and samples again. Trials run on 2 processes (joblib),
BLAS capped at cores // 2 threads each. Data: make_moons (600 train, 300 dev, 300 test, noise
0.3). The best trial is retrained and scored on the test set.

Run it as a script::

    python examples/hyperparameter_search.py [--out DIR] [--trials N] [--jobs N] [--seed N]
"""

import argparse
from pathlib import Path

from sklearn.datasets import make_moons

from mlpkit.apps.plots import plot_costs, plot_decision_boundary
from mlpkit.search import (
    IntUniform,
    LogUniform,
    OneMinusLogUniform,
    build_network,
    coarse_to_fine,
)

SPACE = {
    "learning_rate": LogUniform(-4, -1),
    "beta1": OneMinusLogUniform(-2, -0.5),
    "l2": LogUniform(-4, 0),
    "hidden": IntUniform(2, 32),
    "layers": IntUniform(1, 3),
}
FIXED = {"epochs": 300, "batch_size": 64, "optimizer": "adam"}


def moons(seed, m):
    X, y = make_moons(n_samples=m, noise=0.3, random_state=seed)
    return X.T, y.reshape(1, -1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("out"), help="folder for the plots")
    parser.add_argument("--trials", type=int, default=16, help="trials per round")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    parser.add_argument("--seed", type=int, default=0, help="seed of the search")
    args = parser.parse_args()

    X, Y = moons(0, 600)
    X_dev, Y_dev = moons(1, 300)
    X_test, Y_test = moons(2, 300)
    results = coarse_to_fine(FIXED, SPACE, args.trials, X, Y, X_dev, Y_dev, rounds=2,
                             zoom=0.25, n_jobs=args.jobs, seed=args.seed)
    for r, space in enumerate(results.spaces, start=1):
        print(f"round {r} space: " + ", ".join(f"{k} {v}" for k, v in space.items()))
    print(results.format_table(max_rows=10))

    params = results.best_params()
    print("best:", ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                             for k, v in params.items()))
    net, fit_options = build_network(params, X, Y)
    history = net.fit(X, Y, **fit_options)
    print(f"best trial retrained: dev {net.score(X_dev, Y_dev):.2%} "
          f"(search said {results.best['dev_score']:.2%}), test {net.score(X_test, Y_test):.2%}")
    print("wrote", plot_costs(history.costs, args.out / "search_best_costs.png",
                              title="best trial's training cost"))
    print("wrote", plot_decision_boundary(net.predict, X_test, Y_test,
                                          args.out / "search_best_boundary.png",
                                          title="best trial, test points"))


if __name__ == "__main__":
    main()

# %%
# What to read here
# -----------------
#
# Sampling the learning rate on a log scale spends as many trials between 0.0001 and 0.001 as
# between 0.01 and 0.1, where a uniform draw would put 90% of them in the last decade. The second
# round samples only the region of the best trials of the first: coarse to fine. The best trial
# is retrained and scored once on the test set, which none of the choices saw. While the docs
# build, this example runs 6 trials a round instead of 16 (the same lesson, in less time).
