"""Random search throughput: trials per second of the same seeded trials on the digits data.

Each trial trains a [64, h, 10] softmax network with Adam on mini-batches of 128 and scores it
on a held-out dev split; the trials (learning rate, h, seed) are sampled once and run by:

- mlpkit, 1 worker: one process, BLAS on all cores (the baseline);
- mlpkit, 1 worker x 1 BLAS thread (for contrast);
- mlpkit, 2 local worker processes (joblib) x 1 BLAS thread each;
- mlpkit on a Dask LocalCluster of 2 worker processes x 1 thread (data scattered once);
- scikit-learn's RandomizedSearchCV(sklearn.neural_network.MLPClassifier) with n_jobs=2 on the
  same trials (the same architecture, optimizer, batch size, epochs and learning rates; one fit
  per trial on the same training split, scored on the same dev split).

Worker pools and the cluster are started before timing; the modes take turns in each round and
the table shows medians over rounds. Speed-ups need a machine the other jobs leave alone: the
load average is printed before and after.

    python benchmarks/search_parallel.py [--trials 32] [--epochs 40] [--rounds 3] [--quick]
"""

import argparse
import os
import statistics
import sys
import warnings
from functools import partial
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from mlpkit.data.preprocessing import one_hot

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import describe, interleaved, load_average, positive_int, table, timed  # noqa: E402

from mlpkit.search import IntUniform, LogUniform, random_search, sample_trials

SPACE = {"learning_rate": LogUniform(-3.5, -2), "hidden": IntUniform(96, 160)}
BATCH = 128


def digits():
    data = load_digits()
    X_train, X_dev, y_train, y_dev = train_test_split(
        data.data / 16.0, data.target, test_size=0.3, random_state=0, stratify=data.target
    )
    return X_train, y_train, X_dev, y_dev


def mlpkit_mode(data, n_jobs=1, blas_threads=None, executor=None):
    X, y, X_dev, y_dev = data
    arrays = (X.T, one_hot(y, 10), X_dev.T, one_hot(y_dev, 10))

    def run(args):
        fixed = {"epochs": args.epochs, "optimizer": "adam", "batch_size": BATCH}
        results = random_search(fixed, SPACE, args.trials, *arrays, n_jobs=n_jobs, seed=0,
                                progress=False, blas_threads=blas_threads, executor=executor)
        return [row["dev_score"] for row in sorted(results, key=lambda r: r["seed"])]

    return run


def sklearn_mode(data, n_jobs=2):
    """RandomizedSearchCV over the same trials: each is a one-point distribution, so that the
    search samples every trial exactly once (without replacement)."""
    from sklearn.model_selection import PredefinedSplit, RandomizedSearchCV
    from sklearn.neural_network import MLPClassifier

    X, y, X_dev, y_dev = data
    X_all, y_all = np.vstack([X, X_dev]), np.concatenate([y, y_dev])
    split = PredefinedSplit(np.r_[np.full(len(y), -1), np.zeros(len(y_dev))])

    def run(args):
        trials = sample_trials(SPACE, args.trials, seed=0)
        candidates = [{"learning_rate_init": [t["learning_rate"]],
                       "hidden_layer_sizes": [(t["hidden"],)], "random_state": [t["seed"]]}
                      for t in trials]
        estimator = MLPClassifier(solver="adam", batch_size=BATCH, max_iter=args.epochs,
                                  alpha=0.0, n_iter_no_change=args.epochs + 1, tol=0.0)
        search = RandomizedSearchCV(estimator, candidates, n_iter=args.trials, cv=split,
                                    refit=False, n_jobs=n_jobs, random_state=0)
        search.fit(X_all, y_all)
        order = np.argsort([p["random_state"] for p in search.cv_results_["params"]])
        return list(search.cv_results_["mean_test_score"][order])

    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=positive_int, default=32)
    parser.add_argument("--epochs", type=positive_int, default=40)
    parser.add_argument("--rounds", type=positive_int, default=3)
    parser.add_argument("--quick", action="store_true",
                        help="4 trials of 2 epochs, 1 round: a smoke test")
    args = parser.parse_args()
    if args.quick:
        args.trials, args.epochs, args.rounds = 4, 2, 1
    # scikit-learn warns that 40 epochs did not converge, in each worker process too
    os.environ["PYTHONWARNINGS"] = "ignore::UserWarning"
    warnings.simplefilter("ignore", UserWarning)

    data = digits()
    print(f"{args.trials} trials of {args.epochs} epochs on digits ({len(data[1])} training, "
          f"{len(data[3])} dev images), medians of {args.rounds} round(s)")
    print(describe(libraries=["scikit-learn", "dask", "distributed"]))

    modes = {
        "mlpkit, 1 worker (BLAS on all cores)": mlpkit_mode(data, n_jobs=1),
        "mlpkit, 1 worker x 1 BLAS thread": mlpkit_mode(data, n_jobs=1, blas_threads=1),
        "mlpkit, 2 local processes x 1 BLAS thread": mlpkit_mode(data, n_jobs=2,
                                                                 blas_threads=1),
    }
    cluster = client = None
    try:
        import distributed
    except ImportError:
        print("(dask.distributed is not installed: no Dask row; pip install 'mlpkit[dask]')")
    else:
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=None, scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        )
        client = distributed.Client(cluster, set_as_default=False)
        modes["mlpkit on a Dask LocalCluster, 2 workers x 1 thread"] = mlpkit_mode(
            data, executor=client)
    modes["scikit-learn RandomizedSearchCV(MLPClassifier), n_jobs=2"] = sklearn_mode(data)

    try:
        warm = argparse.Namespace(trials=2, epochs=1)
        for run in modes.values():  # start the worker pools, import on the workers
            run(warm)
        results = interleaved({name: partial(timed, run, args) for name, run in modes.items()},
                              args.rounds)
        seconds = {name: [s for s, _ in runs] for name, runs in results.items()}
        scores = {name: runs[-1][1] for name, runs in results.items()}
    finally:
        if client is not None:
            client.close()
            cluster.close()

    base = statistics.median(seconds["mlpkit, 1 worker (BLAS on all cores)"])
    single = statistics.median(seconds["mlpkit, 1 worker x 1 BLAS thread"])
    print(f"load average after: {load_average()}\n")
    rows = []
    for name, times in seconds.items():
        median = statistics.median(times)
        rows.append([name, f"{median:.2f}", f"{args.trials / median:.2f}",
                     f"{args.trials / min(times):.2f}", f"{base / median:.2f}x",
                     f"{single / median:.2f}x", f"{np.mean(scores[name]):.4f}"])
    print(table(["mode", "seconds (median)", "trials/s (median)", "trials/s (best round)",
                 "vs 1 worker", "vs 1 worker x 1 BLAS thread", "mean dev accuracy"], rows))
    two = statistics.median(seconds["mlpkit, 2 local processes x 1 BLAS thread"])
    sk = statistics.median(seconds["scikit-learn RandomizedSearchCV(MLPClassifier), n_jobs=2"])
    print(f"\nmlpkit 2 local processes vs scikit-learn RandomizedSearchCV n_jobs=2: "
          f"{sk / two:.2f}x the trials per second")
    same = scores["mlpkit, 1 worker (BLAS on all cores)"] == scores[
        "mlpkit, 2 local processes x 1 BLAS thread"]
    print(f"mlpkit modes give the same dev scores: {same}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
