"""solver='lbfgs': mlpkit's MLPClassifier against scikit-learn's, the same data and iterations, in
one run.

    python benchmarks/lbfgs_vs_sklearn.py            # about a minute
    python benchmarks/lbfgs_vs_sklearn.py --quick    # tiny sizes, seconds (the CI smoke test)

Both start from the same weights (mlpkit's init='sklearn' draws scikit-learn's from the same
random_state) and run scipy's L-BFGS-B with tol=0, so they make the same max_iter iterations
along the same path (to rounding): the table shows both iteration counts and final losses. The
two take turns in each round so they share the machine's load; seconds are medians over the
rounds.

Workloads: (1) scikit-learn's digits, 1797 x 64 standardized -> 100 relu -> 10 softmax, 100
iterations, float64; (2) 5000 x 784 synthetic data (10 noisy clusters, 20% of the labels
random) -> (256, 128) relu -> 10 softmax, alpha=1 (an L2 term that keeps the loss away from 0,
where float32 rounding would decide when to stop), 50 iterations, float32 and float64. Should a
run
stop early (scipy's relative-reduction test, which tol does not control), the seconds per
iteration still compare.
"""

import argparse
import statistics
import sys
import warnings
from functools import partial
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import mlpkit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import cpu_count, describe, interleaved, positive_int, table, timed  # noqa: E402


def workloads(quick):
    """(name, X, y, hidden_layer_sizes, max_iter, alpha)"""
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    rng = np.random.default_rng(0)
    m, n_x = (400, 64) if quick else (5000, 784)
    centers = rng.standard_normal((10, n_x))
    labels = rng.integers(0, 10, m)
    X_syn = centers[labels] + 2.0 * rng.standard_normal((m, n_x))
    flipped = rng.random(m) < 0.2  # label noise: the loss stays far from 0 for max_iter
    labels = np.where(flipped, rng.integers(0, 10, m), labels)
    if quick:
        return [("digits, float64", X[:300], y[:300], (16,), 5, 1e-4),
                ("synthetic, float32", X_syn.astype(np.float32), labels, (16, 8), 3, 0.1)]
    return [
        ("digits 1797 x 64 -> 100 -> 10, float64", X, y, (100,), 100, 1e-4),
        ("5000 x 784 -> 256 -> 128 -> 10, alpha 1, float32", X_syn.astype(np.float32), labels,
         (256, 128), 50, 1.0),
        ("5000 x 784 -> 256 -> 128 -> 10, alpha 1, float64", X_syn, labels, (256, 128), 50,
         1.0),
    ]


def fit(cls, X, y, hidden, max_iter, alpha):
    model = cls(hidden_layer_sizes=hidden, solver="lbfgs", max_iter=max_iter, tol=0.0,
                max_fun=100 * max_iter, alpha=alpha, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        seconds, _ = timed(model.fit, X, y)
    return seconds, model


def run(quick, repeats, threads):
    print(describe(threads, ["scipy", "scikit-learn"]))
    print(f"rounds: {repeats}; seconds are medians\n")
    rows = []
    with threadpool_limits(limits=threads):
        for name, X, y, hidden, max_iter, alpha in workloads(quick):
            results = interleaved({
                label: partial(fit, cls, X, y, hidden, max_iter, alpha)
                for label, cls in (("sklearn", SklearnMLPClassifier),
                                   ("mlpkit", mlpkit.MLPClassifier))
            }, repeats)
            times = {label: [s for s, _ in runs] for label, runs in results.items()}
            models = {label: runs[-1][1] for label, runs in results.items()}
            sk, mk = (statistics.median(times[k]) for k in ("sklearn", "mlpkit"))
            n_sk, n_mk = models["sklearn"].n_iter_, models["mlpkit"].n_iter_
            rows.append([
                name, f"{n_sk} / {n_mk}",
                f"{models['sklearn'].loss_:.6g} / {models['mlpkit'].loss_:.6g}",
                f"{sk:.3f}", f"{mk:.3f}", f"{sk / mk:.2f}x",
                f"{(sk / n_sk) / (mk / n_mk):.2f}x",
            ])
    print(table(["workload", "iterations (sklearn / mlpkit)", "final loss (sklearn / mlpkit)",
                 "scikit-learn s", "mlpkit s", "time ratio (sklearn / mlpkit)",
                 "per-iteration ratio"], rows))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (CI smoke test)")
    parser.add_argument("--repeats", type=positive_int, help="rounds (default 3, quick 1)")
    parser.add_argument("--threads", type=positive_int, default=cpu_count(),
                        help="BLAS threads (default: all CPUs this process may use)")
    args = parser.parse_args(argv)
    repeats = args.repeats if args.repeats is not None else (1 if args.quick else 3)
    run(args.quick, repeats, args.threads)


if __name__ == "__main__":
    sys.exit(main())
