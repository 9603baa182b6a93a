"""mlpkit at two commits, side by side in one run: workloads (a), (b) and (c) of bench.py through
`Network.fit`, the two commits taking turns every round.

    python benchmarks/compare_commits.py                 # HEAD's parent vs the working tree
    python benchmarks/compare_commits.py --old e3dfe41 --repeats 15
    python benchmarks/compare_commits.py --old e3dfe41 --repeats 11 --in-process

The old commit is checked out into a temporary git worktree (removed after). By default every
measurement runs in a fresh process with PYTHONPATH set to that code, so both see the same
machine state; a fresh process also pays for its first pages and imports, which made (b) and
(c) swing by up to 10% from run to run here. --in-process runs both in one process instead,
the old code imported as `mlpkit_old` (a commit whose package imports itself by absolute name
is refused, not measured). The table gives medians and the new/old ratio (< 1: faster)."""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from functools import partial
from pathlib import Path

from machine import cpu_count, interleaved, positive_int, table

BENCHMARKS = Path(__file__).resolve().parent
ROOT = BENCHMARKS.parent

# The workloads, timed around Network.fit only: job(package, workload, quick) -> seconds.
JOB = r"""
import json, os, sys, time
from pathlib import Path
import numpy as np


def job(mlpkit, workload, quick):
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
        net = mlpkit.Network([12288, 20, 7, 5, 1], init="xavier",
                             seed=np.random.RandomState(1))
        start = time.perf_counter()
        net.fit(X, Y, epochs=iterations, learning_rate=0.0075)
    else:
        m, batch = (2000, 128) if quick else (20000, 128)
        if workload == "c":
            batch = 512
        X = rng.random((784, m), dtype=np.float32)
        Y = np.eye(10, dtype=np.float32)[:, rng.integers(0, 10, m)]
        net = mlpkit.Network([784, 256, 128, 10], output_activation="softmax", seed=0)
        start = time.perf_counter()
        net.fit(X, Y, epochs=1, learning_rate=0.001, batch_size=batch, optimizer="adam", seed=0)
    seconds = time.perf_counter() - start
    if not type(net).__module__.startswith(mlpkit.__name__ + "."):
        raise RuntimeError(f"{mlpkit.__name__} trained a {type(net).__module__} network")
    return seconds
"""

# One measurement in a fresh process: the workload argv[1] of the mlpkit on sys.path.
PROBE = JOB + r"""
import mlpkit

seconds = job(mlpkit, sys.argv[1], sys.argv[2] == "1")
print(json.dumps({"seconds": seconds, "mlpkit": str(Path(mlpkit.__file__).parent)}))
"""

# Every measurement in one process: the old code imported as `mlpkit_old` (its imports are
# relative), the two taking turns on each workload (machine.interleaved), argv: workloads, quick,
# repeats.
IN_PROCESS = JOB + r"""
import mlpkit, mlpkit_old
from machine import interleaved

workloads, quick, repeats = sys.argv[1].split(","), sys.argv[2] == "1", int(sys.argv[3])
seconds = {}
for workload in workloads:
    seconds.update(interleaved({
        f"{workload} old": lambda workload=workload: job(mlpkit_old, workload, quick),
        f"{workload} new": lambda workload=workload: job(mlpkit, workload, quick),
    }, repeats))
print(json.dumps({"seconds": seconds, "new": str(Path(mlpkit.__file__).parent),
                  "old": str(Path(mlpkit_old.__file__).resolve().parent)}))
"""

WORKLOADS = {
    "a64": "(a) cat net, 100 full-batch GD iterations, float64",
    "a32": "(a) the same, float32",
    "b": "(b) 20000 x 784 -> 256 -> 128 -> 10, Adam, batch 128, 1 epoch, float32",
    "c": "(c) the same, batch 512",
}


def _env(pythonpath, threads):
    return {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, pythonpath)),
            "OPENBLAS_NUM_THREADS": str(threads), "OMP_NUM_THREADS": str(threads),
            "MKL_NUM_THREADS": str(threads),
            "MLPKIT_DATA": os.environ.get("MLPKIT_DATA", str(ROOT.parent / "shared" / "data"))}


def measure(code_root, workload, quick, threads):
    env = _env([code_root], threads)
    # run in the code's own folder: `python -c` puts the working folder first on sys.path
    done = subprocess.run([sys.executable, "-c", PROBE, workload, "1" if quick else "0"],
                          capture_output=True, text=True, env=env, cwd=code_root, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if Path(result["mlpkit"]).resolve() != (Path(code_root) / "mlpkit").resolve():
        raise RuntimeError(f"measured {result['mlpkit']}, not the code in {code_root}")
    return result["seconds"]


def measure_in_process(old_tree, tmp, quick, threads, repeats):
    """{(workload, side): [seconds]} from one process holding both versions."""
    packages = Path(tmp) / "packages"
    packages.mkdir()
    (packages / "mlpkit_old").symlink_to(Path(old_tree) / "mlpkit", target_is_directory=True)
    done = subprocess.run(
        [sys.executable, "-c", IN_PROCESS, ",".join(WORKLOADS), "1" if quick else "0",
         str(repeats)], capture_output=True, text=True,
        env=_env([ROOT, packages, BENCHMARKS], threads),
        cwd=ROOT, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if Path(result["old"]) != (Path(old_tree) / "mlpkit").resolve():
        raise RuntimeError(f"measured {result['old']} as the old code, not {old_tree}")
    return {tuple(key.split()): times for key, times in result["seconds"].items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", default="HEAD~1", help="the commit to compare with")
    parser.add_argument("--repeats", type=positive_int, default=5, help="rounds (default 5)")
    parser.add_argument("--threads", type=positive_int, default=cpu_count(),
                        help="BLAS threads (default: all CPUs this process may use)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (a smoke test)")
    parser.add_argument("--in-process", action="store_true",
                        help="both versions in one process, taking turns (no per-process "
                        "noise: fresh pages, imports), instead of a fresh process each")
    args = parser.parse_args(argv)
    old_rev = subprocess.run(["git", "rev-parse", "--short", args.old], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout.strip()
    with tempfile.TemporaryDirectory() as tmp:
        old_tree = Path(tmp) / "old"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(old_tree), old_rev],
                       cwd=ROOT, check=True)
        try:
            if args.in_process:
                seconds = measure_in_process(old_tree, tmp, args.quick, args.threads,
                                             args.repeats)
            else:
                seconds = {}
                for workload in WORKLOADS:
                    seconds.update(interleaved({
                        (workload, side): partial(measure, tree, workload, args.quick,
                                                  args.threads)
                        for side, tree in (("old", old_tree), ("new", ROOT))
                    }, args.repeats))
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(old_tree)], cwd=ROOT,
                           check=True)
    how = "in one process" if args.in_process else "each in a fresh process"
    print(f"old: {old_rev}, new: the working tree; {args.threads} BLAS threads; medians of "
          f"{args.repeats} interleaved rounds, {how}, seconds\n")
    rows = []
    for workload, name in WORKLOADS.items():
        old = statistics.median(seconds[workload, "old"])
        new = statistics.median(seconds[workload, "new"])
        rows.append([name, f"{old:.3f}", f"{new:.3f}", f"{new / old:.2f}"])
    print(table(["workload", "old", "new", "new / old"], rows))


if __name__ == "__main__":
    main()
