"""Learning-rate decay (course 2, week 2): the schedules on mini-batch gradient descent.
=====================================================================================

make_moons(300, noise=.2) (the course's seed 3), [2, 5, 2, 1] relu, He init, mini-batches of
64, alpha0 = 0.1, 5000 epochs, each schedule a function of the epoch (counted from 0):
constant alpha0; inverse time alpha0 / (1 + decay_rate * epoch); exponential alpha0 * rate^epoch;
k / sqrt(epoch + 1) * alpha0; staircase alpha0 / (1 + decay_rate * floor(epoch / 1000)).
Inverse time with decay_rate 1 per epoch shrinks the rate too fast to learn (the notes' reason
for decaying at fixed intervals instead).

Run it as a script::

    python examples/lr_decay.py [--out DIR] [--seed N]
"""

import argparse
from pathlib import Path

from sklearn.datasets import make_moons

from mlpkit import Network
from mlpkit.apps.plots import plot_costs
from mlpkit.optim.schedules import (
    Constant,
    ExponentialDecay,
    InverseTimeDecay,
    SqrtDecay,
    StaircaseDecay,
)

SCHEDULES = {
    "constant": Constant(),
    "inverse time, decay 1": InverseTimeDecay(1.0),
    "exponential, 0.999^epoch": ExponentialDecay(0.999),
    "1 / sqrt(epoch + 1)": SqrtDecay(1.0),
    "staircase, every 1000": StaircaseDecay(1.0, interval=1000),
}
SHOWN_EPOCHS = (0, 1, 10, 100, 999, 1000, 4999)


def main():
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("out"), help="folder for the plots")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and shuffles")
    args = parser.parse_args()

    X, y = make_moons(n_samples=300, noise=0.2, random_state=3)
    X, Y = X.T, y.reshape(1, -1)
    costs, rates = [], []
    for name, schedule in SCHEDULES.items():
        net = Network([2, 5, 2, 1], init="he", seed=args.seed)
        history = net.fit(X, Y, epochs=5000, learning_rate=0.1, batch_size=64,
                          lr_schedule=schedule, seed=args.seed)
        print(f"{name:>25}: rate {history.learning_rates[0]:.3g} -> "
              f"{history.learning_rates[-1]:.3g}, cost {history.costs[-1]:.4f}, "
              f"training accuracy {net.score(X, Y):.2%}")
        costs.append(history.costs)
        rates.append(history.learning_rates)
    print(f"{'learning rate at epoch':>25}: " + "".join(f"{e:>10}" for e in SHOWN_EPOCHS))
    for name, rate in zip(SCHEDULES, rates, strict=True):
        print(f"{name:>25}: " + "".join(f"{rate[e]:10.3g}" for e in SHOWN_EPOCHS))
    print("wrote", plot_costs(costs, args.out / "lr_decay_costs.png", labels=list(SCHEDULES),
                              title="epoch cost, mini-batch GD, alpha0 = 0.1"))


if __name__ == "__main__":
    main()

# %%
# What to read here
# -----------------
#
# A decaying rate takes large steps early and small steps late, where mini-batch noise would
# otherwise keep the parameters bouncing around the minimum. Decayed every epoch, inverse-time
# decay shrinks the rate so fast that training stalls (the lowest accuracy); decaying at fixed
# intervals (the staircase) keeps the early progress and still ends with small steps, as the
# course recommends.
