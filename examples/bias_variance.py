"""Bias and variance (course 2, week 1; course 3, week 1): the diagnosis and the learning curves.
==============================================================================================

First the lecture's cases through `mlpkit.diagnose` (human-level error 0, then 15%). Then two
`MLPClassifier` models on scikit-learn's 8x8 digits (1797 images, 70% to train, 30% as the dev
set), each trained to convergence by L-BFGS (full batch, at most 500 iterations), so that every
training-set size is fitted as well as the model can, not as far as a budget of steps goes:
2 hidden units, too few to fit the training set (bias), and 64 unregularized units, which fit
it exactly (whatever gap is left is variance). `Diagnosis.of` measures each one's errors and
prints the diagnosis with its recipe. The learning curves (error rate against the
training-set size, shuffled 80/20 splits of the training set (5 by default), mean and std)
come from scikit-learn's `LearningCurveDisplay`, with the human-level error drawn under them:
high bias shows as two curves meeting high above it, where more data does not help; variance
as a gap between them that more data narrows.

Run it as a script::

    python examples/bias_variance.py [--out DIR] [--human-error F] [--splits N]
"""

import argparse
import warnings
from pathlib import Path

from matplotlib.figure import Figure
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import LearningCurveDisplay, ShuffleSplit, train_test_split

from mlpkit import Diagnosis, MLPClassifier, diagnose

# (train error, dev error, human-level error) -> the lecture's verdicts
LECTURE = [(0.01, 0.11, 0.0), (0.15, 0.16, 0.0), (0.15, 0.30, 0.0), (0.005, 0.01, 0.0),
           (0.15, 0.16, 0.15)]

SOLVER = {"solver": "lbfgs", "max_iter": 500, "random_state": 0}
MODELS = {
    "2 hidden units": {"hidden_layer_sizes": (2,)},
    "64 hidden units, no L2": {"hidden_layer_sizes": (64,), "alpha": 0.0},
}


def error_rate(estimator, X, y):
    """The scorer of the curves: 1 - accuracy."""
    return 1 - estimator.score(X, y)


def main():
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("out"), help="folder for the plot")
    parser.add_argument("--human-error", type=float, default=0.0,
                        help="human-level error, the proxy for the Bayes error (default 0)")
    parser.add_argument("--splits", type=int, default=5,
                        help="shuffled 80/20 splits per point of the learning curves (default 5)")
    args = parser.parse_args()
    # 2 units reach the 500 iterations: scikit-learn's notice would be printed for each fit
    warnings.filterwarnings("ignore", category=ConvergenceWarning)

    print("the lecture's cases:")
    for train, dev, human in LECTURE:
        d = diagnose(train, dev, human_error=human)
        print(f"  train {train:6.1%}  dev {dev:6.1%}  human {human:5.1%}  ->  {d.verdict}")

    X, y = load_digits(return_X_y=True)
    X = X / 16  # pixels 0..16 -> [0, 1]
    X_train, X_dev, y_train, y_dev = train_test_split(X, y, test_size=0.3, stratify=y,
                                                      random_state=0)
    fig = Figure(figsize=(11, 4.4))
    axes = fig.subplots(1, len(MODELS))
    for ax, (name, params) in zip(axes, MODELS.items(), strict=True):
        model = MLPClassifier(**SOLVER, **params)
        model.fit(X_train, y_train)
        d = Diagnosis.of(model, (X_train, y_train), (X_dev, y_dev),
                         human_error=args.human_error)
        print(f"\n{name}:\n{d}")
        curves = LearningCurveDisplay.from_estimator(
            MLPClassifier(**SOLVER, **params), X_train, y_train,
            train_sizes=[0.1, 0.2, 0.4, 0.7, 1.0], cv=ShuffleSplit(args.splits, test_size=0.2,
                                                                    random_state=0),
            scoring=error_rate, score_name="error rate", n_jobs=1, ax=ax)
        curves.lines_[0].set_label("training error")
        curves.lines_[1].set_label("held-out error (20% of the training set)")
        ax.axhline(args.human_error, color="gray", linestyle=":", label="human-level error")
        ax.set_title(f"{name}: {d.verdict}\n(full training set: train {d.train_error:.1%}, "
                     f"dev {d.dev_error:.1%})")
        ax.set_xlabel("training examples")
        top = ax.get_ylim()[1]
        ax.set_ylim(-0.02 * top, 1.3 * top)  # the 0 line visible; room for the legend above
        ax.legend(loc="upper right")
    fig.suptitle("learning curves of mlpkit.MLPClassifier on the digits "
                 f"(LearningCurveDisplay; {args.splits} splits, mean and std)")
    fig.tight_layout()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "bias_variance_learning_curves.png"
    fig.savefig(path, dpi=100)
    print("wrote", path)


if __name__ == "__main__":
    main()

# %%
# What to read here
# -----------------
#
# The verdict comes from two gaps: the avoidable bias, training error minus human-level error,
# and the variance, dev error minus training error. Two hidden units cannot fit even the
# training set, and their curves meet far above the human-level line: more data would not
# help, a bigger network would. Sixty-four unregularized units fit the training set exactly;
# their held-out error is still falling as the training set grows, so more data (or
# regularization: ``--l2``, ``--dropout``) is the remedy. ``mlpkit train --dev`` prints the same
# diagnosis at the end of a run, with each remedy as a runnable command.
