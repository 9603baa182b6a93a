"""mlpkit at two commits, side by side in one run: workloads (a), (b) and (c) of bench.py through
`Network.fit`, each commit's code in its own subprocess, the two taking turns every round.

    python benchmarks/compare_commits.py                 # HEAD's parent vs the working tree
    python benchmarks/compare_commits.py --old e3dfe41 --repeats 7

The old commit is checked out into a temporary git worktree (removed after). Every measurement
runs in a fresh process with PYTHONPATH set to that code, so both see the same machine state;
rounds alternate old/new and the table gives medians and the new/old ratio (< 1: faster).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# One measurement: the workload named in argv[1], timed around Network.fit only.
PROBE = r"""
import json, os, sys, time
from pathlib import Path
import numpy as np
import mlpkit
from mlpkit import Network

workload, quick = sys.argv[1], sys.argv[2] == "1"
rng = np.random.default_rng(0)
if workload.startswith("a"):
    dtype = np.float32 if workload == "a32" else np.float64
    m, iterations = (40, 3) if quick else (209, 100)
    folder = Path(os.environ.get("MLPKIT_DATA", "../shared/data"))
    try:
        if quick:
            raise FileNotFoundError
        train_x, train_y, *_ = mlpkit.load_cat_data(folder)
        X, Y = mlpkit.flatten_images(train_x, dtype), train_y
    except (FileNotFoundError, OSError):
        X = rng.random((12288, m)).astype(dtype)
        Y = (rng.random((1, m)) < 0.35).astype(float)
    net = Network([12288, 20, 7, 5, 1], init="xavier", seed=np.random.RandomState(1))
    start = time.perf_counter()
    net.fit(X, Y, epochs=iterations, learning_rate=0.0075)
else:
    m, batch = (2000, 128) if quick else (20000, 128)
    if workload == "c":
        batch = 512
    X = rng.random((784, m), dtype=np.float32)
    Y = np.eye(10, dtype=np.float32)[:, rng.integers(0, 10, m)]
    net = Network([784, 256, 128, 10], output_activation="softmax", seed=0)
    start = time.perf_counter()
    net.fit(X, Y, epochs=1, learning_rate=0.001, batch_size=batch, optimizer="adam", seed=0)
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "mlpkit": str(Path(mlpkit.__file__).parent)}))
"""

WORKLOADS = {
    "a64": "(a) cat net, 100 full-batch GD iterations, float64",
    "a32": "(a) the same, float32",
    "b": "(b) 20000 x 784 -> 256 -> 128 -> 10, Adam, batch 128, 1 epoch, float32",
    "c": "(c) the same, batch 512",
}


def measure(code_root, workload, quick, threads):
    env = {**os.environ, "PYTHONPATH": str(code_root), "OPENBLAS_NUM_THREADS": str(threads),
           "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
           "MLPKIT_DATA": os.environ.get("MLPKIT_DATA", str(ROOT.parent / "shared" / "data"))}
    # run in the code's own folder: `python -c` puts the working folder first on sys.path
    done = subprocess.run([sys.executable, "-c", PROBE, workload, "1" if quick else "0"],
                          capture_output=True, text=True, env=env, cwd=code_root, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if Path(result["mlpkit"]).resolve() != (Path(code_root) / "mlpkit").resolve():
        raise RuntimeError(f"measured {result['mlpkit']}, not the code in {code_root}")
    return result["seconds"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", default="HEAD~1", help="the commit to compare with")
    parser.add_argument("--repeats", type=int, default=5, help="rounds (default 5)")
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--quick", action="store_true", help="tiny sizes (a smoke test)")
    args = parser.parse_args(argv)
    old_rev = subprocess.run(["git", "rev-parse", "--short", args.old], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout.strip()
    with tempfile.TemporaryDirectory() as tmp:
        old_tree = Path(tmp) / "old"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(old_tree), old_rev],
                       cwd=ROOT, check=True)
        try:
            seconds = {(w, side): [] for w in WORKLOADS for side in ("old", "new")}
            for round_ in range(args.repeats):
                for workload in WORKLOADS:
                    sides = [("old", old_tree), ("new", ROOT)]
                    for side, tree in sides if round_ % 2 == 0 else sides[::-1]:
                        seconds[workload, side].append(
                            measure(tree, workload, args.quick, args.threads))
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(old_tree)], cwd=ROOT,
                           check=True)
    print(f"old: {old_rev}, new: the working tree; {args.threads} BLAS threads; medians of "
          f"{args.repeats} interleaved rounds, seconds\n")
    print("| workload | old | new | new / old |\n|---|---|---|---|")
    for workload, name in WORKLOADS.items():
        old = statistics.median(seconds[workload, "old"])
        new = statistics.median(seconds[workload, "new"])
        print(f"| {name} | {old:.3f} | {new:.3f} | {new / old:.2f} |")


if __name__ == "__main__":
    main()
