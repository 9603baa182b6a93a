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
import os
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_info, threadpool_limits

import mlpkit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import cpu_name  # noqa: E402


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
        start = time.perf_counter()
        model.fit(X, y)
        seconds = time.perf_counter() - start
    return seconds, model


def run(quick, repeats, threads):
    print(machine_description(threads))
    print(f"rounds: {repeats}; seconds are medians\n")
    rows = []
    with threadpool_limits(limits=threads):
        for name, X, y, hidden, max_iter, alpha in workloads(quick):
            times = {"sklearn": [], "mlpkit": []}
            models = {}
            for _ in range(repeats):
                for label, cls in (("sklearn", SklearnMLPClassifier),
                                   ("mlpkit", mlpkit.MLPClassifier)):
                    seconds, models[label] = fit(cls, X, y, hidden, max_iter, alpha)
                    times[label].append(seconds)
                    time.sleep(0.2)
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


def table(header, rows):
    line = lambda cells: "| " + " | ".join(cells) + " |"  # noqa: E731
    return "\n".join([line(header), line(["---"] * len(header)), *map(line, rows)])


def machine_description(threads):
    cpu = cpu_name()
    blas = ", ".join(f"{i['internal_api']} {i.get('version') or ''}" for i in threadpool_info()
                     if i["user_api"] == "blas")
    import scipy
    import sklearn

    return (
        f"machine: {cpu}, {os.cpu_count()} logical CPUs; {platform.system()} "
        f"{platform.release()}; load average {os.getloadavg()[0]:.2f}\n"
        f"python {platform.python_version()}, numpy {np.__version__} with {blas}, scipy "
        f"{scipy.__version__}, scikit-learn {sklearn.__version__}; BLAS threads: {threads}"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (CI smoke test)")
    parser.add_argument("--repeats", type=int, help="rounds (default 3, quick 1)")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="BLAS threads")
    args = parser.parse_args(argv)
    repeats = args.repeats if args.repeats is not None else (1 if args.quick else 3)
    if repeats < 1:
        parser.error("--repeats must be >= 1")
    if args.threads < 1:
        parser.error("--threads must be >= 1")
    run(args.quick, repeats, args.threads)


if __name__ == "__main__":
    sys.exit(main())
