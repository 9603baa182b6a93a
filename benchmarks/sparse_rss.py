"""Sparse input: MLPClassifier trained on a 100000 x 50000 CSR matrix at 0.1% density (5 million
stored values, 60 MB), whose dense float64 copy would take 40 GB; peak memory (RSS) and time,
mlpkit beside scikit-learn, each in a fresh process.

    python benchmarks/sparse_rss.py            # a few minutes
    python benchmarks/sparse_rss.py --quick    # 2000 x 1000 at 1%, seconds (the CI smoke test)

Each process generates the same matrix (50 stored values per row at random columns, values in
[0, 1), labels from a random linear score), reads its RSS, trains one epoch of Adam on
mini-batches of 1000 rows (hidden layer of 64 relu units), then 10 L-BFGS iterations on the full
batch (a warm start), predicts probabilities for every row, and reports its peak RSS
(resource.getrusage). The matrix is generated in memory and freed with its process.
"""

import argparse
import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import current_rss_bytes, describe, max_rss_bytes, positive_int, table, timed  # noqa: E402

FULL = dict(rows=100_000, columns=50_000, per_row=50, hidden=64, batch_size=1000)
QUICK = dict(rows=2000, columns=1000, per_row=10, hidden=16, batch_size=250)


def make_data(rows, columns, per_row, seed=0):
    """A CSR matrix (rows x columns) with per_row stored values per row, and 0/1 labels."""
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    indices = np.sort(rng.integers(0, columns, (rows, per_row), dtype=np.int32), axis=1)
    data = rng.random(rows * per_row)
    indptr = np.arange(0, rows * per_row + 1, per_row, dtype=np.int64)
    X = sp.csr_matrix((data, indices.ravel(), indptr), shape=(rows, columns))
    X.sum_duplicates()
    score = X @ rng.standard_normal(columns)
    return X, (score > np.median(score)).astype(int)


def probe(library, sizes, threads):
    """Run in a fresh process: generate, train, predict; print one JSON line."""
    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads)
    if library == "mlpkit":
        from mlpkit import MLPClassifier
    else:
        from sklearn.neural_network import MLPClassifier
    X, y = make_data(sizes["rows"], sizes["columns"], sizes["per_row"])
    result = {"library": library, "nnz": int(X.nnz),
              "data_mib": (X.data.nbytes + X.indices.nbytes + X.indptr.nbytes) / 2**20,
              "rss_after_data_mib": current_rss_bytes() / 2**20}
    model = MLPClassifier(hidden_layer_sizes=(sizes["hidden"],), batch_size=sizes["batch_size"],
                          max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        result["adam_epoch_s"], _ = timed(model.fit, X, y)
        result["peak_rss_adam_mib"] = max_rss_bytes() / 2**20
        import scipy.optimize  # noqa: F401 (imported before the timing)

        model.set_params(solver="lbfgs", max_iter=10, warm_start=True)
        result["lbfgs_10_iterations_s"], _ = timed(model.fit, X, y)
        result["predict_proba_s"], proba = timed(model.predict_proba, X)
    result["train_accuracy"] = float(np.mean(proba.argmax(axis=1) == y))
    result["peak_rss_mib"] = max_rss_bytes() / 2**20
    print(json.dumps(result))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (CI smoke test)")
    parser.add_argument("--only", choices=["mlpkit", "sklearn"], help="one library")
    parser.add_argument("--threads", type=positive_int, default=1,
                        help="BLAS threads (default 1: scipy's L-BFGS-B makes many small BLAS "
                        "calls, which multithreaded BLAS slows down on a busy machine)")
    parser.add_argument("--probe", choices=["mlpkit", "sklearn"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    if args.probe:
        probe(args.probe, sizes, args.threads)
        return 0
    dense_gb = sizes["rows"] * sizes["columns"] * 8 / 1e9
    print(describe(args.threads))
    print(f"X: {sizes['rows']} x {sizes['columns']} CSR, {sizes['per_row']} values per row; "
          f"its dense float64 copy: {dense_gb:.3g} GB\n")
    rows = []
    for library in [args.only] if args.only else ["mlpkit", "sklearn"]:
        command = [sys.executable, __file__, "--probe", library, "--threads",
                   str(args.threads)] + (["--quick"] if args.quick else [])
        run = subprocess.run(command, capture_output=True, text=True, check=True)
        r = json.loads(run.stdout.strip().splitlines()[-1])
        rows.append([library, f"{r['nnz']}", f"{r['data_mib']:.1f}",
                     f"{r['rss_after_data_mib']:.0f}", f"{r['peak_rss_adam_mib']:.0f}",
                     f"{r['peak_rss_mib']:.0f}",
                     f"{r['adam_epoch_s']:.2f}", f"{r['lbfgs_10_iterations_s']:.2f}",
                     f"{r['predict_proba_s']:.2f}",
                     f"{r['train_accuracy']:.3f}"])
    header = ["library", "stored values", "X MiB", "RSS after X MiB", "peak RSS after Adam MiB",
              "peak RSS after L-BFGS MiB",
              "1 Adam epoch s", "10 L-BFGS iterations s", "predict_proba s", "train accuracy"]
    print(table(header, rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
