"""mlpkit against scikit-learn's MLPClassifier, PyTorch on the CPU and the course's straightforward
algorithm: the same work (data, architecture, epochs, batch size, optimizer, dtype) through each,
side by side in one run.

    python benchmarks/bench.py            # the full benchmark (a few minutes)
    python benchmarks/bench.py --quick    # tiny sizes, seconds (the CI smoke test)

Workloads
  (a) the course's cat network [12288, 20, 7, 5, 1] on the cat data (same-shape synthetic data if
      the files are absent), full-batch gradient descent from the course's initialization, in
      float64 and float32, against the course's L_model_forward/L_model_backward
      (benchmarks/course_reference.py);
  (b) 20000 x 784 synthetic data -> (256, 128) relu -> 10 softmax, Adam, batch 128, one epoch,
      float32;
  (c) the same at batch 512;
  (d) peak memory (RSS) of (a), each implementation in a fresh process.

Every measurement is repeated; the implementations (and the GEMM peaks) take turns within each
round, so they see the same machine load, and the tables give medians. Training FLOPs are counted
as 6 x samples x weights per epoch (forward 2, backward 4 per weight and example).

This file owns the command line and the run: which measurements take turns, then the report.
The workloads' sizes, data and FLOP counts are in bench_workloads.py, the implementations in
bench_implementations.py, the matrix-product floors in bench_floors.py, workload (d)'s fresh-process
probe in bench_memory.py, the tables and targets in bench_report.py, and what every benchmark
script shares (rounds, tables, RSS, the machine) in machine.py.
"""

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_implementations as implementations  # noqa: E402
import course_reference as course  # noqa: E402
from bench_floors import (  # noqa: E402
    cat_products_seconds,
    epoch_batches,
    gemm_seconds,
    products_seconds,
    step_products,
)
from bench_memory import memory_probe, rss_rises  # noqa: E402
from bench_report import (  # noqa: E402
    machine_description,
    report_cat,
    report_epoch,
    report_gemm,
    report_memory,
    report_targets,
)
from bench_workloads import QUICK, Sizes, cat_data, mlp_data  # noqa: E402
from machine import interleaved, measurement_options, sizes_from  # noqa: E402

from mlpkit.data import one_hot  # noqa: E402


# ------------------------------------------------------------------ what takes turns in a round
# each task returns (seconds, extra): the final cost or loss, or None for the floors
def gemm_tasks(sizes):
    n = sizes.gemm_n
    rng = np.random.default_rng(0)
    tasks = {}
    for dt in (np.float32, np.float64):
        A, B = rng.standard_normal((n, n)).astype(dt), rng.standard_normal((n, n)).astype(dt)
        tasks[f"gemm {dt.__name__}"] = lambda A=A, B=B: (gemm_seconds(A, B), None)
    return tasks


def cat_tasks(sizes, cat, have_torch):
    init = course.initialize_parameters_deep(list(sizes.cat_dims))
    tasks = {}
    for name, (function, dt) in implementations.CAT_VARIANTS.items():
        if function is implementations.torch_cat and not have_torch:
            continue
        X_rows, y, _ = cat[dt]

        def task(function=function, X_rows=X_rows, y=y):
            parameters = {k: v.copy() for k, v in init.items()}
            return function(X_rows, y, sizes.cat_dims, parameters, sizes.cat_iterations)

        tasks[f"a {name}"] = task
    for dt in (np.float64, np.float32):
        X_rows = cat[dt][0]
        tasks[f"a floor {dt.__name__}"] = lambda X_rows=X_rows: (
            cat_products_seconds(X_rows, sizes.cat_dims, sizes.cat_iterations),
            None,
        )
    return tasks


def epoch_tasks(sizes, batch_size, have_torch):
    X_rows, y = mlp_data(sizes)
    Y = one_hot(y, sizes.mlp_dims[-1]).astype(np.float32)
    groups = [
        (step_products(sizes.mlp_dims, size, np.float32), steps)
        for size, steps in epoch_batches(sizes.mlp_m, batch_size)
    ]
    tasks = {f"bc floor {batch_size}": lambda: (products_seconds(groups), None)}
    for name, function in implementations.EPOCH_VARIANTS.items():
        if function is implementations.torch_epoch and not have_torch:
            continue
        seeds = itertools.count()
        tasks[f"bc {name} {batch_size}"] = lambda function=function, seeds=seeds: function(
            X_rows, y, Y, sizes.mlp_dims, batch_size, next(seeds)
        )
    return tasks


# ------------------------------------------------------------------------------ the run
def run(sizes, threads, workloads="abcd", out=print):
    """Run the workloads (a subset of "abcd") and print their tables."""
    torch = implementations.load_torch()
    have_torch = torch is not None
    if have_torch:
        torch.set_num_threads(threads)
    out(machine_description(threads))
    tasks = gemm_tasks(sizes)
    if "a" in workloads:
        cat = {dt: cat_data(sizes, dt) for dt in (np.float64, np.float32)}
        tasks.update(cat_tasks(sizes, cat, have_torch))
    for label, batch_size in zip("bc", sizes.batch_sizes, strict=True):
        if label in workloads:
            tasks.update(epoch_tasks(sizes, batch_size, have_torch))
    with threadpool_limits(limits=threads):
        for task in tasks.values():  # warm-up: first calls load code and allocate BLAS buffers
            task()
        results = interleaved(tasks, sizes.repeats)
    text, peak = report_gemm(sizes, results, workloads)
    out("\n" + text)
    if "a" in workloads:
        out("\n" + report_cat(sizes, results, peak, cat[np.float64][2]))
    for label, batch_size in zip("bc", sizes.batch_sizes, strict=True):
        if label in workloads:
            out("\n" + report_epoch(sizes, results, peak, label, batch_size))
    memory_ratios = {}
    if "d" in workloads:
        text, memory_ratios = report_memory(sizes, rss_rises(sizes, threads, have_torch))
        out("\n" + text)
    out("\n" + report_targets(sizes, results, memory_ratios, workloads))
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    measurement_options(parser, "abcd", threads_help="BLAS / OpenMP / torch threads")
    parser.add_argument("--memory-probe", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sizes = sizes_from(args, Sizes(), QUICK)
    if args.memory_probe:
        memory_probe(args.memory_probe, sizes, args.threads)
    else:
        run(sizes, args.threads, args.only)


if __name__ == "__main__":
    main()
