"""bench.py's workload (d): the peak memory (RSS) of workload (a), each implementation in a fresh
process (`bench.py --memory-probe NAME`, which calls memory_probe), so that no library's earlier
allocations hide its rise."""

import gc
import json
import subprocess
import sys
from pathlib import Path

import course_reference as course
import numpy as np
from bench_implementations import CAT_VARIANTS, load_torch, torch_cat
from bench_workloads import cat_data
from machine import current_rss_bytes, max_rss_bytes, peak_rss_bytes, reset_peak_rss
from threadpoolctl import threadpool_limits

BENCH = Path(__file__).with_name("bench.py")


def rss_rises(sizes, threads, have_torch):
    """{variant name: how far training raised the peak RSS, in bytes}, each in a fresh process."""
    rises = {}
    for name, (function, _) in CAT_VARIANTS.items():
        if function is torch_cat and not have_torch:
            continue
        command = [sys.executable, str(BENCH), "--memory-probe", name, "--threads", str(threads)]
        if sizes.quick:
            command.append("--quick")
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        rises[name] = json.loads(done.stdout.strip().splitlines()[-1])["rss_rise"]
    return rises


def memory_probe(name, sizes, threads):
    """In this fresh process: load (a)'s data, warm BLAS up on (a)'s shapes, reset the peak RSS,
    train, and print (JSON) how far the peak rose above what was resident before training."""
    function, dt = CAT_VARIANTS[name]
    torch = load_torch() if function is torch_cat else None
    if torch is not None:
        torch.set_num_threads(threads)
    X_rows, y, _ = cat_data(sizes, dt)
    parameters = course.initialize_parameters_deep(list(sizes.cat_dims))
    with threadpool_limits(limits=threads):
        # the library's own first-use memory is not the training's: train a tiny net first
        tiny = np.random.default_rng(0).random((4, 4)).astype(dt)
        tiny_parameters = course.initialize_parameters_deep([4, 3, 1])
        function(tiny, np.array([0, 1, 0, 1]), (4, 3, 1), tiny_parameters, 2)
        rng = np.random.default_rng(0)
        W1 = rng.standard_normal((sizes.cat_dims[1], sizes.cat_dims[0])).astype(dt)
        dZ1 = rng.standard_normal((sizes.cat_dims[1], sizes.cat_m)).astype(dt)
        warm = [W1 @ X_rows.T, dZ1 @ X_rows]  # kept alive: nothing freed for training to reuse
        if torch is not None:
            warm.append(torch.from_numpy(X_rows) @ torch.from_numpy(W1.T.copy()))
        gc.collect()
        if reset_peak_rss():
            before = current_rss_bytes()
            function(X_rows, y, sizes.cat_dims, parameters, sizes.memory_iterations)
            rise = peak_rss_bytes() - before
        else:  # only the lifetime peak: its rise above the peak so far (may underestimate)
            before = max_rss_bytes()
            function(X_rows, y, sizes.cat_dims, parameters, sizes.memory_iterations)
            rise = max_rss_bytes() - before
    print(json.dumps({"name": name, "rss_rise": max(rise, 0)}))
