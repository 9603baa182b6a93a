"""mlpkit's engine on a GPU (issue 22), one script, one call, at most 5 minutes: on CuPy and on
torch-CUDA, whichever is installed (what is absent is skipped and said so).

    python benchmarks/gpu_check.py                     # every library found, on cuda
    python benchmarks/gpu_check.py --json out.json     # the results as data too
    python benchmarks/gpu_check.py --device cpu --quick --libraries torch   # the CPU smoke test

For each library:
1. parity with NumPy after 50 steps: float64 to 1e-10, float32 to 1e-4 (gd, Adam with
   mini-batches and L2, RMSprop with L2, batch norm with momentum; L-BFGS in float64 only: its line
   search turns float32's rounding differences into different paths);
2. no synchronization inside a step: torch's sync debug mode set to "error" for 20 steps
   (Adam, dropout, batch norm), torch only;
3. milliseconds per step: the course's cat network (12288-20-7-5-1) at full batch, and
   784-256-128-10 with Adam at batch sizes 64, 256, 1024 and 4096, against PyTorch's own
   nn.Module + torch.optim.Adam on the same device in the same run (torch only), float32;
4. the peak device memory of each timed run.

The exit status is 1 when a parity or synchronization check fails."""

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
from machine import describe, table

import mlpkit
from mlpkit.nn.backend import backend_of, to_numpy
from mlpkit.optim.optimizers import get_optimizer
from mlpkit.training.batches import Batch
from mlpkit.training.loop import train_step

BATCH_SIZES = (64, 256, 1024, 4096)
PARITY_CASES = {
    "gd": ({}, {"optimizer": "gd", "epochs": 50}),
    "adam-minibatch-l2": ({}, {"optimizer": "adam", "epochs": 25, "batch_size": 128,
                               "shuffle": False, "l2": 0.5, "learning_rate": 0.001}),
    # RMSprop's (and Adam's) first steps are sign-like, g / sqrt((1 - beta) g^2): a gradient
    # whose float32 value is rounding noise moves its weight a whole step either way (without
    # L2, 2.9e-3 between NumPy and torch on an AMD CPU, 7.6e-14 in float64). The L2 term keeps
    # every gradient's sign determined, so the float32 rows compare the arithmetic.
    "rmsprop-l2": ({}, {"optimizer": "rmsprop", "epochs": 50, "learning_rate": 0.001,
                        "l2": 0.5}),
    "batchnorm-momentum": ({"batch_norm": True}, {"optimizer": "momentum", "epochs": 50}),
    "lbfgs": ({}, {"optimizer": "lbfgs", "epochs": 50}),
}


class Library:
    """One array library on one device: moving arrays there, waiting for it, its memory."""

    def __init__(self, name, device):
        self.name, self.device = name, device
        if name == "torch":
            import torch

            self.module = torch
        else:
            import cupy

            self.module = cupy

    def put(self, array, dtype=None):
        array = np.ascontiguousarray(array if dtype is None else array.astype(dtype))
        if self.name == "torch":
            return self.module.from_numpy(array).to(self.device)
        return self.module.asarray(array)

    def synchronize(self):
        if self.name == "torch" and self.device.startswith("cuda"):
            self.module.cuda.synchronize()
        elif self.name == "cupy":
            self.module.cuda.Device().synchronize()

    def reset_peak(self):
        if self.name == "torch" and self.device.startswith("cuda"):
            self.module.cuda.reset_peak_memory_stats()
        elif self.name == "cupy":
            self.module.get_default_memory_pool().free_all_blocks()

    def peak_mib(self):
        if self.name == "torch" and self.device.startswith("cuda"):
            return self.module.cuda.max_memory_allocated() / 2**20
        if self.name == "cupy":  # what the pool holds: its high-water mark since the reset
            return self.module.get_default_memory_pool().total_bytes() / 2**20
        return None


def available(names, device):
    """{name: Library} for the libraries installed and usable on `device`, and {name: why not}."""
    found, missing = {}, {}
    for name in names:
        try:
            library = Library(name, device)
        except ImportError:
            missing[name] = "not installed"
            continue
        if name == "cupy" and device == "cpu":
            missing[name] = "CuPy runs on GPUs only"
        elif name == "cupy" and library.module.cuda.runtime.getDeviceCount() == 0:
            missing[name] = "no GPU"
        elif name == "torch" and device.startswith("cuda") and not (
            library.module.cuda.is_available()
        ):
            missing[name] = "torch has no CUDA here"
        else:
            found[name] = library
    return found, missing


def toy_data(m, n_x=20, n_y=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_x, m))
    labels = (X[0] > 0).astype(int) + (X[1] > 0.5).astype(int)
    return X, np.eye(n_y)[labels].T


def parity(library, quick):
    """Rows (case, dtype, max |theta - theta_NumPy|, tolerance, ok)."""
    X, Y = toy_data(128 if quick else 1024)
    rows = []
    for case, (net_options, fit_options) in PARITY_CASES.items():
        for dtype, tolerance in ((np.float64, 1e-10), (np.float32, 1e-4)):
            if case == "lbfgs" and dtype == np.float32:
                continue
            options = dict(fit_options)
            options.setdefault("learning_rate", 0.05)
            epochs = options.pop("epochs")
            results = []
            for convert in (np.asarray, library.put):
                net = mlpkit.Network([X.shape[0], 32, 16, Y.shape[0]], seed=0,
                                     output_activation="softmax", **net_options)
                net.fit(convert(X.astype(dtype)), convert(Y), epochs=epochs, **options)
                results.append(to_numpy(net.parameters.vector).astype(np.float64))
            difference = float(np.max(np.abs(results[0] - results[1])))
            rows.append((case, np.dtype(dtype).name, f"{difference:.2e}", f"{tolerance:g}",
                         difference <= tolerance))
    return rows


def sync_check(library, steps=20):
    """20 steps with torch's sync debug mode "error": (ok, message)."""
    if library.name != "torch":
        return None, "torch only (CuPy has no sync debug mode)"
    if not library.device.startswith("cuda"):
        return None, "skipped: the device is the CPU"
    torch = library.module
    X, Y = toy_data(1024, n_x=64, n_y=10)
    net = mlpkit.Network([64, 128, 64, 10], output_activation="softmax", seed=0,
                         batch_norm=True)
    batch = Batch(library.put(X, np.float32), library.put(Y, np.float32))
    net.to(backend_of(batch.X), batch.X.dtype)
    optimizer = get_optimizer("adam")
    state = optimizer.init(net.parameters.vector)
    rng = backend_of(batch.X).random(0)
    keep = [0.9, 0.9]
    train_step(net, batch, optimizer, state, 0.001, 0.1, keep, rng)  # warm-up: allocations
    library.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        total = 0.0
        for _ in range(steps):
            total = total + train_step(net, batch, optimizer, state, 0.001, 0.1, keep, rng)
    except RuntimeError as error:
        return False, f"a step synchronized: {error}"
    finally:
        torch.cuda.set_sync_debug_mode("default")
    return bool(math.isfinite(float(total))), f"{steps} steps, no synchronization"


def timed_fit(library, net, X, Y, batch_size, epochs):
    """Seconds per step of mlpkit's fit (after a one-epoch warm-up), and the peak memory."""
    m = X.shape[1]
    steps = epochs * -(-m // batch_size)
    net.fit(X, Y, epochs=1, batch_size=batch_size, optimizer="adam", learning_rate=0.001)
    library.synchronize()
    library.reset_peak()
    start = time.perf_counter()
    net.fit(X, Y, epochs=epochs, batch_size=batch_size, optimizer="adam", learning_rate=0.001)
    library.synchronize()
    return (time.perf_counter() - start) / steps, library.peak_mib()


def torch_reference(library, X_rows, labels, batch_size, epochs):
    """Seconds per step of eager PyTorch (nn.Module + torch.optim.Adam) on the same data."""
    torch = library.module
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 10),
    ).to(library.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
    loss_function = torch.nn.CrossEntropyLoss()
    m = X_rows.shape[0]
    generator = torch.Generator(device=library.device)
    generator.manual_seed(0)

    def epoch():
        total = torch.zeros((), device=library.device)
        order = torch.randperm(m, generator=generator, device=library.device)
        for start in range(0, m, batch_size):
            index = order[start : start + batch_size]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_function(model(X_rows[index]), labels[index])
            loss.backward()
            optimizer.step()
            total += loss.detach() * index.shape[0]
        return float(total) / m  # one read per epoch, as mlpkit's loop

    epoch()
    library.synchronize()
    library.reset_peak()
    start = time.perf_counter()
    for _ in range(epochs):
        epoch()
    library.synchronize()
    return (time.perf_counter() - start) / (epochs * -(-m // batch_size)), library.peak_mib()


def speed(library, quick):
    """Rows (network, batch, mlpkit ms/step, PyTorch ms/step, ratio, peak MiB mlpkit / torch)."""
    rows = []
    rng = np.random.default_rng(0)
    m_cat = 16 if quick else 209
    folder = Path(os.environ.get("MLPKIT_DATA", "../shared/data"))
    try:
        if quick:
            raise FileNotFoundError
        train_x, train_y, *_ = mlpkit.load_cat_data(folder)
        X_cat, Y_cat = mlpkit.flatten_images(train_x, np.float32), train_y
    except (FileNotFoundError, OSError):
        X_cat = rng.random((12288, m_cat), dtype=np.float32)
        Y_cat = (rng.random((1, m_cat)) < 0.35).astype(np.float32)
    net = mlpkit.Network([12288, 20, 7, 5, 1], init="xavier", seed=np.random.RandomState(1))
    seconds, peak = timed_fit(library, net, library.put(X_cat), library.put(Y_cat, np.float32),
                              X_cat.shape[1], 1 if quick else 100)
    rows.append(("cat 12288-20-7-5-1", f"{X_cat.shape[1]} (full)", f"{1e3 * seconds:.3f}", "",
                 "", _mib(peak)))

    m = 512 if quick else 65536
    X = rng.random((784, m), dtype=np.float32)
    labels = rng.integers(0, 10, m)
    Y = np.eye(10, dtype=np.float32)[:, labels]
    X_device, Y_device = library.put(X), library.put(Y)
    if library.name == "torch":
        X_rows = library.put(np.ascontiguousarray(X.T))
        label_tensor = library.put(labels.astype(np.int64))
    for batch_size in BATCH_SIZES[:2] if quick else BATCH_SIZES:
        epochs = 1 if quick else max(1, min(5, batch_size // 256))
        net = mlpkit.Network([784, 256, 128, 10], output_activation="softmax", seed=0)
        seconds, peak = timed_fit(library, net, X_device, Y_device, batch_size, epochs)
        if library.name == "torch":
            reference, reference_peak = torch_reference(library, X_rows, label_tensor,
                                                        batch_size, epochs)
            versus = (f"{1e3 * reference:.3f}", f"{seconds / reference:.2f}",
                      f"{_mib(peak)} / {_mib(reference_peak)}")
        else:
            versus = ("", "", _mib(peak))
        rows.append(("784-256-128-10 Adam", batch_size, f"{1e3 * seconds:.3f}", *versus))
    return rows


def _mib(value):
    return "n/a" if value is None else f"{value:.0f}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda", help="cuda (default), cuda:1, or cpu")
    parser.add_argument("--libraries", default="torch,cupy",
                        help="comma-separated, among torch and cupy")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.libraries.split(",") if n.strip()]
    unknown = [n for n in names if n not in ("torch", "cupy")]
    if unknown:
        parser.error(f"unknown libraries {unknown}; expected torch and/or cupy")
    print(describe(libraries=("torch", "cupy", "array-api-compat")))
    found, missing = available(names, args.device)
    for name, why in missing.items():
        print(f"\n{name}: skipped ({why})")
    results, failed = {"device": args.device, "skipped": missing}, False
    for name, library in found.items():
        print(f"\n## {name} on {args.device}\n")
        rows = parity(library, args.quick)
        print(table(("case", "dtype", "max |difference|", "tolerance", "ok"), rows))
        ok, message = sync_check(library)
        print(f"\nsynchronization inside a step: {message}")
        rows_speed = speed(library, args.quick)
        print()
        print(table(("network", "batch", "mlpkit ms/step", "PyTorch ms/step",
                     "mlpkit / PyTorch", "peak MiB (mlpkit / PyTorch)"), rows_speed))
        failed = failed or not all(row[-1] for row in rows) or ok is False
        results[name] = {"parity": rows, "sync": [ok, message], "speed": rows_speed}
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
