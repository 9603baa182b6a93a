"""Random search: does a batch of trials finish faster on 2 worker processes than on 1?

The same seeded trials (digits, [64, h, 10] softmax, Adam, mini-batches) run with n_jobs=1
(one process, BLAS on all cores) and n_jobs=2 (two processes, BLAS capped at cores // 2
threads each); for contrast also n_jobs=1 with a single BLAS thread, and n_jobs=2 without the
cap (each worker may use every core: oversubscribed). The worker pool is started once before
timing (joblib reuses it).

    python benchmarks/search_parallel.py [--trials 8] [--epochs 40]
"""

import argparse
import os
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from mlpkit import one_hot
from mlpkit.search import IntUniform, LogUniform, random_search


def digits():
    data = load_digits()
    X_train, X_dev, y_train, y_dev = train_test_split(
        data.data / 16.0, data.target, test_size=0.3, random_state=0, stratify=data.target
    )
    return X_train.T, one_hot(y_train, 10), X_dev.T, one_hot(y_dev, 10)


def timed(n_jobs, args, data, blas_threads=None):
    fixed = {"epochs": args.epochs, "optimizer": "adam", "batch_size": 128}
    space = {"learning_rate": LogUniform(-3.5, -2), "hidden": IntUniform(96, 160)}
    start = time.perf_counter()
    results = random_search(fixed, space, args.trials, *data, n_jobs=n_jobs, seed=0,
                            progress=False, blas_threads=blas_threads)
    return time.perf_counter() - start, results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=40)
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    data = digits()
    print(f"{args.trials} trials of {args.epochs} epochs; {cores} cores")

    timed(2, argparse.Namespace(trials=2, epochs=1), data)  # start the worker pool
    one, results_one = timed(1, args, data)
    two, results_two = timed(2, args, data)
    same = [r["dev_score"] for r in results_one] == [r["dev_score"] for r in results_two]
    print(f"1 worker  ({cores} BLAS threads):            {one:7.2f} s")
    print(f"2 workers ({max(1, cores // 2)} BLAS thread(s) each):       {two:7.2f} s")
    print(f"speed-up 1 -> 2 workers: {one / two:.2f}x   (same results: {same})")
    single, _ = timed(1, args, data, blas_threads=1)
    print(f"1 worker  (1 BLAS thread):               {single:7.2f} s "
          f"({single / two:.2f}x slower than 2 workers)")
    over, _ = timed(2, args, data, blas_threads=cores)
    print(f"2 workers ({cores} BLAS threads each, uncapped): {over:7.2f} s "
          f"({one / over:.2f}x vs 1 worker)")
    print(f"best trial: dev accuracy {results_two.best['dev_score']:.4f} with "
          f"learning_rate {results_two.best['learning_rate']:.3g}, "
          f"hidden {results_two.best['hidden']}; mean trial "
          f"{np.mean([r['seconds'] for r in results_one]):.2f} s on 1 worker")


if __name__ == "__main__":
    main()
