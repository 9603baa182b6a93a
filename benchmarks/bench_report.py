"""bench.py's report: the tables it prints from the measurements (the GEMM peaks, workloads (a)
to (d)) and issue 6's targets checked against them. Nothing here measures."""

import statistics

import numpy as np
from bench_implementations import CAT_VARIANTS, EPOCH_VARIANTS
from bench_workloads import (
    ADAM_LEARNING_RATE,
    CAT_LEARNING_RATE,
    epoch_product_flops,
    n_weights,
    training_flops,
)
from machine import describe, table


def fmt(x, digits=3):
    return f"{x:.{digits}g}" if abs(x) < 10 ** digits else f"{x:.0f}"


def median_seconds(results):
    return statistics.median(seconds for seconds, _ in results)


def machine_description(threads):
    return describe(threads, ["scikit-learn", "torch"], threads_for="BLAS, OpenMP and torch")


def report_gemm(sizes, results, workloads):
    """The GEMM table; returns the peaks {dtype: GFLOP/s} (medians) that the others refer to."""
    n = sizes.gemm_n
    rows, peak = [], {}

    def row(name, dtype, flops, times):
        rates = [flops / t / 1e9 for t in times]
        rows.append([name, dtype, fmt(statistics.median(rates)), fmt(max(rates))])
        return statistics.median(rates)

    for dt in (np.float32, np.float64):
        times = [t for t, _ in results[f"gemm {dt.__name__}"]]
        peak[dt] = row(f"{n}^3 matrix product", dt.__name__, 2 * n**3, times)
    if "a" in workloads:
        d, m = sizes.cat_dims, sizes.cat_m
        for dt in (np.float64, np.float32):
            times = [t for t, _ in results[f"a floor {dt.__name__}"]]
            flops = 2 * 2 * d[0] * d[1] * m * sizes.cat_iterations
            row("(a) W[1] X and dZ[1] X^T", dt.__name__, flops, times)
    for label, batch_size in zip("bc", sizes.batch_sizes, strict=True):
        if label in workloads:
            flops = epoch_product_flops(sizes.mlp_dims, sizes.mlp_m, batch_size)
            times = [t for t, _ in results[f"bc floor {batch_size}"]]
            row(f"({label}) an epoch's products, batch {batch_size}", "float32", flops, times)
    return (
        "GEMM peak of this machine (numpy matrix products; GFLOP/s = 2 M N K / seconds)\n"
        + table(["product", "dtype", "GFLOP/s (median)", "GFLOP/s (best)"], rows)
    ), peak


def report_cat(sizes, results, peak, source):
    dims, m, iterations = sizes.cat_dims, sizes.cat_m, sizes.cat_iterations
    flops = training_flops(dims, m) * iterations
    course_seconds = median_seconds(results["a course's algorithm float64"])
    rows = []
    for name, (_, dt) in CAT_VARIANTS.items():
        key = f"a {name}"
        if key not in results:
            continue
        seconds = median_seconds(results[key])
        floor = median_seconds(results[f"a floor {dt.__name__}"])
        rate = flops / seconds / 1e9
        rows.append(
            [
                name.rsplit(" ", 1)[0],
                dt.__name__,
                f"{seconds:.3f}",
                f"{seconds / iterations * 1e3:.2f}",
                fmt(m * iterations / seconds),
                fmt(rate),
                f"{rate / peak[dt]:.0%}",
                f"{floor / seconds:.0%}",
                f"{seconds / course_seconds:.2f}x",
                f"{results[key][-1][1]:.10f}",
            ]
        )
    header = [
        "implementation",
        "dtype",
        "seconds",
        "ms/iteration",
        "samples/s",
        "GFLOP/s",
        "% of GEMM peak",
        "X-products floor / time",
        "time / course's",
        "final cost",
    ]
    return (
        f"(a) cat network {list(dims)} on {source}, m = {m}, {iterations} iterations of "
        f"full-batch gradient descent (lr {CAT_LEARNING_RATE}) from the course's "
        f"initialization; {fmt(training_flops(dims, m) / 1e9)} GFLOP per iteration\n"
        + table(header, rows)
    )


def report_epoch(sizes, results, peak, label, batch_size):
    dims, m = sizes.mlp_dims, sizes.mlp_m
    flops = training_flops(dims, m)
    computed = flops - 2 * m * dims[0] * dims[1]  # without dA[0]
    mlpkit_seconds = median_seconds(results[f"bc mlpkit {batch_size}"])
    rows = []
    for name in [*EPOCH_VARIANTS, "floor"]:
        key = f"bc {name} {batch_size}"
        if key not in results:
            continue
        seconds = median_seconds(results[key])
        rate = flops / seconds / 1e9
        loss = results[key][-1][1]
        rows.append(
            [
                "matrix products alone" if name == "floor" else name,
                f"{seconds:.3f}",
                f"{min(s for s, _ in results[key]):.3f}",
                fmt(m / seconds),
                fmt(rate),
                f"{rate / peak[np.float32]:.0%}",
                f"{seconds / mlpkit_seconds:.2f}x",
                "" if loss is None else f"{loss:.4f}",
            ]
        )
    header = [
        "implementation",
        "seconds",
        "best",
        "samples/s",
        "GFLOP/s",
        "% of GEMM peak",
        "time / mlpkit's",
        "epoch loss",
    ]
    return (
        f"({label}) {m} x {dims[0]} synthetic data -> {list(dims[1:-1])} relu -> {dims[-1]} "
        f"softmax, Adam (lr {ADAM_LEARNING_RATE}), batch {batch_size}, one epoch, float32; "
        f"{fmt(flops / 1e9)} GFLOP (mlpkit skips dA[0] and computes {computed / flops:.0%} "
        "of them)\n" + table(header, rows)
    )


def report_memory(sizes, rises):
    """The memory table from {variant name: RSS rise in bytes}, and {variant name: peak / (data
    + parameters + activations)}."""
    dims, m = sizes.cat_dims, sizes.cat_m
    rows, ratios = [], {}
    for name, rise in rises.items():
        dt = CAT_VARIANTS[name][1]
        itemsize = np.dtype(dt).itemsize
        data = (dims[0] + dims[-1]) * m * itemsize
        parameters = (n_weights(dims) + sum(dims[1:])) * itemsize
        activations = sum(dims[1:]) * m * itemsize
        peak = data + parameters + rise
        ratios[name] = peak / (data + parameters + activations)
        rows.append(
            [
                name.rsplit(" ", 1)[0],
                np.dtype(dt).name,
                f"{data / 2**20:.1f}",
                f"{parameters / 2**20:.2f}",
                f"{rise / 2**20:.1f}",
                f"{peak / 2**20:.1f}",
                f"{ratios[name]:.2f}x",
            ]
        )
    header = [
        "implementation",
        "dtype",
        "data MiB",
        "parameters MiB",
        "training's rise MiB",
        "peak MiB",
        "peak / (data + parameters + activations)",
    ]
    return (
        f"(d) peak memory of (a), {sizes.memory_iterations} iterations, each implementation in "
        "a fresh process: peak RSS while training minus RSS before (data, parameters and "
        "libraries already loaded), plus data and parameters\n" + table(header, rows)
    ), ratios


COURSE = "a course's algorithm float64"
FUSED = "bc NumPy hand-fused"
TARGETS = [  # (workload, what, result key(s), comparison, target)
    ("a", "mlpkit float64 time / course's", ("a mlpkit float64", COURSE), "<=", 0.8),
    ("a", "mlpkit float32 time / course's", ("a mlpkit float32", COURSE), "<=", 0.45),
    ("b", "PyTorch time / mlpkit's", ("bc PyTorch 128", "bc mlpkit 128"), ">=", 1.2),
    ("b", "scikit-learn time / mlpkit's", ("bc scikit-learn 128", "bc mlpkit 128"), ">=", 2.0),
    ("c", "mlpkit GFLOP/s / float32 GEMM peak", ("bc mlpkit 512",), ">=", 0.8),
    ("d", "mlpkit float64 peak / (data + params + activations)", ("mlpkit float64",), "<=", 2.0),
    ("d", "mlpkit float32 peak / (data + params + activations)", ("mlpkit float32",), "<=", 2.0),
    # the same targets for NumPy's own floor: where it misses, no NumPy engine can meet them
    ("b", "PyTorch time / NumPy hand-fused's", ("bc PyTorch 128", FUSED + " 128"), ">=", 1.2),
    ("b", "scikit-learn time / NumPy hand-fused's", ("bc scikit-learn 128", FUSED + " 128"),
     ">=", 2.0),
    ("c", "NumPy hand-fused GFLOP/s / float32 GEMM peak", (FUSED + " 512",), ">=", 0.8),
]


def report_targets(sizes, results, memory_ratios, workloads):
    """Issue 6's targets against this run: from the medians, and from the best runs."""
    rows = []
    for workload, what, keys, comparison, target in TARGETS:
        if workload not in workloads or not all(k in results or k in memory_ratios for k in keys):
            continue
        values = []
        for statistic in (statistics.median, min):
            seconds = [statistic(s for s, _ in results[k]) for k in keys if k in results]
            if workload == "d":
                values.append(memory_ratios[keys[0]])
            elif workload == "c":
                n = sizes.gemm_n
                peak = 2 * n**3 / statistic(s for s, _ in results["gemm float32"])
                values.append(training_flops(sizes.mlp_dims, sizes.mlp_m) / seconds[0] / peak)
            else:
                values.append(seconds[0] / seconds[1])
        met = [v <= target if comparison == "<=" else v >= target for v in values]
        rows.append(
            [f"({workload}) {what}", f"{comparison} {target}"]
            + [f"{v:.2f} ({'met' if ok else 'NOT met'})" for v, ok in zip(values, met, strict=True)]
        )
    title = "targets (issue 6)"
    if sizes.quick:
        title += " (quick mode: tiny sizes, so they do not apply)"
    header = ["measure", "target", "from the medians", "from the best runs"]
    return title + "\n" + table(header, rows)
