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
"""

import argparse
import gc
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
import course_reference as course  # noqa: E402
import fused_numpy  # noqa: E402
from machine import cpu_name  # noqa: E402

import mlpkit  # noqa: E402
from mlpkit.data import flatten_images, load_cat_data, one_hot  # noqa: E402

torch = None  # imported by load_torch(): the "bench" extra is optional

PAUSE = 0.2  # seconds between measurements, so idle BLAS/OpenMP threads stop spinning


@dataclass(frozen=True)
class Sizes:
    cat_dims: tuple = (12288, 20, 7, 5, 1)
    cat_m: int = 209
    cat_iterations: int = 100
    mlp_dims: tuple = (784, 256, 128, 10)
    mlp_m: int = 20000
    batch_sizes: tuple = (128, 512)
    gemm_n: int = 2048
    repeats: int = 5
    memory_iterations: int = 10
    quick: bool = False


QUICK = Sizes(
    cat_dims=(192, 20, 7, 5, 1),
    cat_m=64,
    cat_iterations=3,
    mlp_dims=(64, 32, 16, 10),
    mlp_m=1024,
    gemm_n=256,
    repeats=1,
    memory_iterations=2,
    quick=True,
)

CAT_LEARNING_RATE = 0.0075
ADAM_LEARNING_RATE = 1e-3


def load_torch():
    """Import PyTorch if it is installed (its columns are skipped otherwise)."""
    global torch
    try:
        import torch
    except ImportError:
        torch = None
    return torch


def n_weights(dims):
    return sum(dims[l] * dims[l - 1] for l in range(1, len(dims)))


def training_flops(dims, samples):
    """6 x samples x weights: forward W A (2), backward dW and dA (2 + 2) per weight and example."""
    return 6 * samples * n_weights(dims)


# ---------------------------------------------------------------------------------------- data
def cat_data(sizes, dtype):
    """(X_rows (m, n_x) C-contiguous, y (m,) int, source). X_rows.T is the course's X (n_x, m):
    every implementation reads the same memory."""
    images, labels, source = None, None, "synthetic data of its shape"
    if sizes.cat_dims[0] == 12288:
        try:
            images, labels, _, _, _ = load_cat_data()
            labels, source = labels[0], "the cat data"
        except OSError:
            images = None
    if images is None:
        rng = np.random.default_rng(0)
        images = rng.integers(0, 256, (sizes.cat_m, sizes.cat_dims[0]), dtype=np.uint8)
        labels = rng.integers(0, 2, sizes.cat_m)
    X_rows = flatten_images(images, dtype).T  # C-contiguous: one row per example
    return X_rows, labels.astype(np.int64), source


def mlp_data(sizes, dtype=np.float32):
    """Synthetic (m, n_x) standard-normal data, labelled by a random linear teacher."""
    rng = np.random.default_rng(0)
    n_x, n_y = sizes.mlp_dims[0], sizes.mlp_dims[-1]
    X_rows = rng.standard_normal((sizes.mlp_m, n_x), dtype=dtype)
    y = (X_rows @ rng.standard_normal((n_x, n_y), dtype=dtype)).argmax(axis=1)
    return X_rows, y


# ---------------------------------------------------------------- (a): one function per variant
# each returns (seconds, final cost) for `iterations` full-batch gradient-descent steps


def course_cat(X_rows, y, dims, parameters, iterations):
    X, Y = X_rows.T, y.reshape(1, -1).astype(np.float64)
    start = time.perf_counter()
    _, costs = course.L_layer_model(X, Y, parameters, CAT_LEARNING_RATE, iterations)
    return time.perf_counter() - start, float(costs[-1])


def mlpkit_cat(X_rows, y, dims, parameters, iterations):
    net = mlpkit.Network(list(dims))
    net.parameters = parameters
    net.astype(X_rows.dtype)
    Y = y.reshape(1, -1).astype(X_rows.dtype)
    start = time.perf_counter()
    history = net.fit(X_rows.T, Y, epochs=iterations, learning_rate=CAT_LEARNING_RATE)
    return time.perf_counter() - start, history.costs[-1]


def sklearn_cat(X_rows, y, dims, parameters, iterations):
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(
        hidden_layer_sizes=dims[1:-1],
        solver="sgd",
        alpha=0.0,
        batch_size=X_rows.shape[0],
        learning_rate_init=CAT_LEARNING_RATE,
        momentum=0.0,
        nesterovs_momentum=False,
        max_iter=1,
        shuffle=False,
        tol=0.0,
        n_iter_no_change=iterations + 1,
        warm_start=True,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X_rows, y)  # sets the model up; then start from the course's initialization
        layers = range(1, len(dims))
        clf.coefs_ = [parameters[f"W{l}"].T.astype(X_rows.dtype) for l in layers]
        clf.intercepts_ = [parameters[f"b{l}"].ravel().astype(X_rows.dtype) for l in layers]
        clf.set_params(max_iter=iterations)
        start = time.perf_counter()
        clf.fit(X_rows, y)
        seconds = time.perf_counter() - start
    return seconds, float(clf.loss_curve_[-1])


def torch_cat(X_rows, y, dims, parameters, iterations):
    dtype = torch.float64 if X_rows.dtype == np.float64 else torch.float32
    model = _torch_mlp(dims, dtype)
    with torch.no_grad():
        for l, linear in enumerate(_torch_linears(model), start=1):
            linear.weight.copy_(torch.from_numpy(parameters[f"W{l}"]))
            linear.bias.copy_(torch.from_numpy(parameters[f"b{l}"].ravel()))
    X = torch.from_numpy(X_rows)
    Y = torch.from_numpy(y.reshape(-1, 1).astype(X_rows.dtype))
    optimizer = torch.optim.SGD(model.parameters(), lr=CAT_LEARNING_RATE)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    start = time.perf_counter()
    for _ in range(iterations):
        optimizer.zero_grad()
        loss = loss_fn(model(X), Y)
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start, loss.item()


def _torch_mlp(dims, dtype):
    layers = []
    for l in range(1, len(dims)):
        layers.append(torch.nn.Linear(dims[l - 1], dims[l], dtype=dtype))
        if l < len(dims) - 1:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def _torch_linears(model):
    return [m for m in model if isinstance(m, torch.nn.Linear)]


CAT_VARIANTS = {  # "implementation dtype" -> (function, dtype)
    "course's algorithm float64": (course_cat, np.float64),
    "mlpkit float64": (mlpkit_cat, np.float64),
    "mlpkit float32": (mlpkit_cat, np.float32),
    "scikit-learn float64": (sklearn_cat, np.float64),
    "scikit-learn float32": (sklearn_cat, np.float32),
    "PyTorch float64": (torch_cat, np.float64),
    "PyTorch float32": (torch_cat, np.float32),
}


# ------------------------------------------------------------ (b), (c): one epoch of Adam
# each returns (seconds, the epoch's mean training loss)


def mlpkit_epoch(X_rows, y, Y, dims, batch_size, seed):
    net = mlpkit.Network(list(dims), output_activation="softmax", seed=seed).astype(X_rows.dtype)
    start = time.perf_counter()
    history = net.fit(
        X_rows.T,
        Y,
        epochs=1,
        learning_rate=ADAM_LEARNING_RATE,
        batch_size=batch_size,
        optimizer="adam",
        seed=seed,
    )
    return time.perf_counter() - start, history.costs[-1]


def fused_epoch(X_rows, y, Y, dims, batch_size, seed):
    """mlpkit's arithmetic from the same start, as one hand-fused NumPy loop (NumPy's floor)."""
    net = mlpkit.Network(list(dims), output_activation="softmax", seed=seed).astype(X_rows.dtype)
    start = time.perf_counter()
    _, loss = fused_numpy.adam_epoch(
        X_rows, Y, dims, batch_size, seed, net.parameters, ADAM_LEARNING_RATE
    )
    return time.perf_counter() - start, loss


def sklearn_epoch(X_rows, y, Y, dims, batch_size, seed):
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(
        hidden_layer_sizes=dims[1:-1],
        solver="adam",
        alpha=0.0,
        batch_size=batch_size,
        learning_rate_init=ADAM_LEARNING_RATE,
        max_iter=1,
        shuffle=True,
        tol=0.0,
        n_iter_no_change=2,
        random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: one epoch on purpose
        start = time.perf_counter()
        clf.fit(X_rows, y)
        seconds = time.perf_counter() - start
    return seconds, float(clf.loss_)


def torch_epoch(X_rows, y, Y, dims, batch_size, seed):
    torch.manual_seed(seed)
    model = _torch_mlp(dims, torch.float32)
    optimizer = torch.optim.Adam(model.parameters(), lr=ADAM_LEARNING_RATE)
    loss_fn = torch.nn.CrossEntropyLoss()
    X, labels = torch.from_numpy(X_rows), torch.from_numpy(y)
    m = X.shape[0]
    start = time.perf_counter()
    total = 0.0
    permutation = torch.randperm(m)
    for k in range(0, m, batch_size):
        batch = permutation[k : k + batch_size]
        optimizer.zero_grad()
        loss = loss_fn(model(X[batch]), labels[batch])
        loss.backward()
        optimizer.step()
        total += loss.item() * len(batch)
    return time.perf_counter() - start, total / m


EPOCH_VARIANTS = {
    "mlpkit": mlpkit_epoch,
    "scikit-learn": sklearn_epoch,
    "PyTorch": torch_epoch,
    "NumPy hand-fused": fused_epoch,
}


# ------------------------------------------------------------------------------ GEMM peaks
def gemm_seconds(A, B, reps=3):
    """Seconds per product A @ B (the mean of `reps` after one warm-up)."""
    A @ B
    start = time.perf_counter()
    for _ in range(reps):
        A @ B
    return (time.perf_counter() - start) / reps


def cat_products_seconds(X_rows, dims, iterations):
    """The floor of (a): only Z[1] = W[1] X and dW[1] = dZ[1] X^T, `iterations` times."""
    rng = np.random.default_rng(0)
    X = X_rows.T
    W1 = rng.standard_normal((dims[1], dims[0])).astype(X.dtype)
    dZ1 = rng.standard_normal((dims[1], X.shape[1])).astype(X.dtype)
    start = time.perf_counter()
    for _ in range(iterations):
        W1 @ X
        dZ1 @ X.T
    return time.perf_counter() - start


def step_products(dims, batch_size, dtype):
    """The matrix products of one mini-batch step, at the workload's shapes: Z[l] = W[l] A[l-1],
    dW[l] = dZ[l] A[l-1]^T and dA[l-1] = W[l]^T dZ[l] for l > 1 (dA[0] is not needed)."""
    rng = np.random.default_rng(0)
    products = []
    for l in range(1, len(dims)):
        W = rng.standard_normal((dims[l], dims[l - 1])).astype(dtype)
        A_prev = rng.standard_normal((dims[l - 1], batch_size)).astype(dtype)
        dZ = rng.standard_normal((dims[l], batch_size)).astype(dtype)
        products += [(W, A_prev), (dZ, A_prev.T)] + ([(W.T, dZ)] if l > 1 else [])
    return products


def epoch_batches(m, batch_size):
    """[(batch size, how many such steps)] of one epoch: full batches, then the rest."""
    return [(batch_size, m // batch_size)] + ([(m % batch_size, 1)] if m % batch_size else [])


def epoch_product_flops(dims, m, batch_size):
    """FLOPs of an epoch's products: 2 n[l] n[l-1] per example for Z[l] and for dW[l], and
    for dA[l-1] when l > 1."""
    per_example = sum(2 * dims[l] * dims[l - 1] * (3 if l > 1 else 2) for l in range(1, len(dims)))
    return per_example * m


def products_seconds(step_groups):
    """Seconds for every product of [(products of one step, steps)]."""
    start = time.perf_counter()
    for products, steps in step_groups:
        for _ in range(steps):
            for A, B in products:
                A @ B
    return time.perf_counter() - start


# ---------------------------------------------------------------------------- measurement
def interleaved(tasks, repeats):
    """Run every task `repeats` times, the tasks taking turns in a rotating order; returns
    {name: [results]} where each task returns (seconds, extra)."""
    results = {name: [] for name in tasks}
    names = list(tasks)
    for r in range(repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            gc.collect()
            time.sleep(PAUSE)
            results[name].append(tasks[name]())
    return results


def median_seconds(results):
    return statistics.median(seconds for seconds, _ in results)


def table(header, rows):
    """A Markdown table."""
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows, strict=True)]

    def line(cells):
        return "| " + " | ".join(str(x).ljust(w) for x, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), rule, *map(line, rows)])


def machine_description(threads):
    cpu = cpu_name()
    blas = ", ".join(
        f"{info['internal_api']} {info.get('version') or ''} ({info['num_threads']} threads)"
        for info in threadpool_info()
        if info["user_api"] == "blas"
    )
    lines = [
        f"machine: {cpu}, {os.cpu_count()} logical CPUs; {platform.system()} {platform.release()}",
        f"python {platform.python_version()}, numpy {np.__version__} with {blas}",
        f"scikit-learn {_version('sklearn')}, "
        + (f"torch {torch.__version__} ({threads} threads)" if torch else "torch not installed"),
        f"threads: {threads} (BLAS, OpenMP and torch)",
    ]
    return "\n".join(lines)


def _version(module):
    try:
        return __import__(module).__version__
    except ImportError:
        return "not installed"


def fmt(x, digits=3):
    return f"{x:.{digits}g}" if abs(x) < 10 ** digits else f"{x:.0f}"


# ------------------------------------------------------------------------------ the run
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
    for name, (function, dt) in CAT_VARIANTS.items():
        if function is torch_cat and not have_torch:
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
    for name, function in EPOCH_VARIANTS.items():
        if function is torch_epoch and not have_torch:
            continue
        seeds = itertools.count()
        tasks[f"bc {name} {batch_size}"] = lambda function=function, seeds=seeds: function(
            X_rows, y, Y, sizes.mlp_dims, batch_size, next(seeds)
        )
    return tasks


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


def report_memory(sizes, threads, have_torch):
    """The memory table and {row name: peak / (data + parameters + activations)}."""
    dims, m = sizes.cat_dims, sizes.cat_m
    rows, ratios = [], {}
    for name, (function, dt) in CAT_VARIANTS.items():
        if function is torch_cat and not have_torch:
            continue
        rise = memory_probe_subprocess(name, sizes, threads)["rss_rise"]
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


def run(sizes, threads, workloads="abcd", out=print):
    """Run the workloads (a subset of "abcd") and print their tables."""
    have_torch = load_torch() is not None
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
        text, memory_ratios = report_memory(sizes, threads, have_torch)
        out("\n" + text)
    out("\n" + report_targets(sizes, results, memory_ratios, workloads))
    return results


# ---------------------------------------------------------------------------- (d) probes
def memory_probe_subprocess(name, sizes, threads):
    command = [sys.executable, __file__, "--memory-probe", name, "--threads", str(threads)]
    if sizes.quick:
        command.append("--quick")
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _status_bytes(field):
    with open("/proc/self/status") as f:
        return 1024 * next(int(line.split()[1]) for line in f if line.startswith(field + ":"))


def _reset_peak_rss():
    """Reset the peak RSS (VmHWM) to the current RSS; False where that is impossible (not Linux)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _max_rss_bytes():
    import resource

    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB elsewhere
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def memory_probe(name, sizes, threads):
    """In this fresh process: load (a)'s data, warm BLAS up on (a)'s shapes, reset the peak RSS,
    train, and report how far the peak rose above what was resident before training."""
    function, dt = CAT_VARIANTS[name]
    if function is torch_cat:
        load_torch().set_num_threads(threads)
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
        if function is torch_cat:
            warm.append(torch.from_numpy(X_rows) @ torch.from_numpy(W1.T.copy()))
        gc.collect()
        if _reset_peak_rss():
            before = _status_bytes("VmRSS")
            function(X_rows, y, sizes.cat_dims, parameters, sizes.memory_iterations)
            rise = _status_bytes("VmHWM") - before
        else:  # only the lifetime peak: its rise above the peak so far (may underestimate)
            before = _max_rss_bytes()
            function(X_rows, y, sizes.cat_dims, parameters, sizes.memory_iterations)
            rise = _max_rss_bytes() - before
    print(json.dumps({"name": name, "rss_rise": max(rise, 0)}))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, seconds (CI smoke test)")
    parser.add_argument("--repeats", type=int, help="rounds of measurements (default 5, quick 1)")
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    parser.add_argument(
        "--threads",
        type=int,
        default=cpus,
        help="BLAS / OpenMP / torch threads (default: all CPUs this process may use)",
    )
    parser.add_argument(
        "--only", default="abcd", help="the workloads to run, e.g. --only bc (default abcd)"
    )
    parser.add_argument("--memory-probe", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else Sizes()
    if args.repeats is not None:
        if args.repeats < 1:
            parser.error("--repeats must be >= 1")
        sizes = replace(sizes, repeats=args.repeats)
    if args.threads < 1:
        parser.error("--threads must be >= 1")
    if not args.only or set(args.only) - set("abcd"):
        parser.error(f"--only takes letters among a, b, c, d; got {args.only!r}")
    if args.memory_probe:
        memory_probe(args.memory_probe, sizes, args.threads)
    else:
        run(sizes, args.threads, args.only)


if __name__ == "__main__":
    main()
