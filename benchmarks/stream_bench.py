"""Streaming data bigger than memory: peak RSS of an epoch streamed from HDF5 files of 1 and 8 GiB,
a streamed epoch against the in-memory epoch on the same data, and an image folder's epoch with
decoding threads against decoding in the training thread, with where the time goes.

    python benchmarks/stream_bench.py            # the full benchmark (10-20 minutes, ~9 GB disk)
    python benchmarks/stream_bench.py --quick    # tiny sizes, seconds (the CI smoke test)
    python benchmarks/stream_bench.py --only f --repeats 7

Workloads (the cat network [12288, 20, 7, 5, 1], gradient descent, batches of 64, float32)
  (e) one epoch streamed from an HDF5 file of random uint8 64 x 64 x 3 images, 1 GiB and 8 GiB,
      each in a fresh process, the file evicted from the page cache first: peak RSS, and RSS
      sampled through the epoch (it must not grow with the file);
  (f) 20,000 images: an epoch from memory (X as float32, exact shuffle) against the same epoch
      streamed from an HDF5 file in the page cache (block shuffle; with a reading thread; exact
      shuffle) and from a .npy memory map, interleaved rounds, medians;
  (g) 20,000 JPEG files (128 x 128, resized to 64 x 64): images/s of a training epoch with
      worker processes decoding (--workers, default 1 and one per CPU) against decoding in the
      training thread, paired rounds, the time of each stage, and the ceiling: two plain
      processes decoding the same files at once against one.

Every file is generated here, in --dir (default: the temporary folder), after checking the free
disk space, and deleted at the end.
"""

import argparse
import gc
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import (  # noqa: E402
    cpu_count,
    current_rss_bytes,
    describe,
    interleaved,
    load_average,
    measurement_options,
    peak_rss_bytes,
    positive_int,
    reset_peak_rss,
    sizes_from,
    table,
)

import mlpkit  # noqa: E402
from mlpkit.data import (  # noqa: E402
    BlockShuffle,
    HDF5Source,
    ImageFolderSource,
    NpySource,
    flatten_images,  # noqa: E402
)
from mlpkit.training import ArraySource  # noqa: E402

GiB = 2**30


@dataclass(frozen=True)
class Sizes:
    image: int = 64
    dims: tuple = (12288, 20, 7, 5, 1)
    batch_size: int = 64
    rss_files: tuple = (1 * GiB, 8 * GiB)
    epoch_m: int = 20000
    jpeg_m: int = 20000
    jpeg_size: int = 128
    repeats: int = 5
    quick: bool = False


QUICK = Sizes(image=16, dims=(768, 8, 1), rss_files=(2 << 20, 8 << 20), epoch_m=512, jpeg_m=128,
              jpeg_size=32, repeats=1, quick=True)
LEARNING_RATE = 0.0075
DTYPE = np.float32


def network(sizes):
    return mlpkit.Network(list(sizes.dims), init="xavier", seed=0)


# ---------------------------------------------------------------------------------------- files
def write_h5(path, m, size, chunk_bytes=1 << 20, write_bytes=64 << 20):
    """An HDF5 file in `mlpkit convert`'s layout: random uint8 images, written in pieces."""
    import h5py

    row = size * size * 3
    rng = np.random.default_rng(0)
    per_chunk = max(1, chunk_bytes // row)
    step = max(1, write_bytes // row)
    with h5py.File(path, "w") as f:
        x = f.create_dataset("train_set_x", (m, size, size, 3), np.uint8,
                             chunks=(min(per_chunk, m), size, size, 3))
        for start in range(0, m, step):
            n = min(step, m - start)
            x[start : start + n] = np.frombuffer(rng.bytes(n * row), np.uint8).reshape(
                n, size, size, 3)
        f["train_set_y"] = rng.integers(0, 2, m)
        f["list_classes"] = np.array([b"non-cat", b"cat"])


def evict(path):
    """Drop the file's pages from the page cache, so that the epoch reads it from disk."""
    with open(path, "rb") as f:
        os.fsync(f.fileno())
        os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)


def warm(path):
    """Read the file once, so that it is in the page cache."""
    with open(path, "rb") as f:
        while f.read(64 << 20):
            pass


def check_disk(folder, need):
    free = shutil.disk_usage(folder).free
    if free < need + 2 * GiB:
        return f"skipped: {need / GiB:.1f} GiB needed in {folder}, {free / GiB:.1f} GiB free"
    return None


# ------------------------------------------------------------------------------- (e) memory
class _Sampling:
    """A source whose RSS is sampled every `every` batches as the loop takes them."""

    def __init__(self, source, every):
        self.source, self.every, self.samples = source, every, []
        for name in ("n_examples", "n_features", "dtype", "n_outputs"):
            setattr(self, name, getattr(source, name))

    def full_batch(self):
        return self.source.full_batch()

    def batches(self, order, batch_size):
        batches = self.source.batches(order, batch_size)
        try:
            for k, batch in enumerate(batches):
                yield batch
                if k % self.every == 0:
                    self.samples.append(current_rss_bytes())
        finally:
            batches.close()


def rss_probe(path, sizes, threads):
    """In this fresh process: one streamed epoch; prints RSS figures as JSON."""
    source = HDF5Source(path, dtype=DTYPE)
    sampled = _Sampling(source, max(1, source.n_examples // sizes.batch_size // 16))
    with threadpool_limits(limits=threads):
        tiny = HDF5Source(path, dtype=DTYPE).subset(np.arange(min(256, source.n_examples)))
        network(sizes).fit(tiny, epochs=1, batch_size=sizes.batch_size, shuffle=BlockShuffle())
        gc.collect()
        before = current_rss_bytes()
        if not reset_peak_rss():  # the peak (VmHWM) starts again from here
            raise SystemExit("stream_bench: (e) needs Linux's /proc/self/clear_refs")
        start = time.perf_counter()
        network(sizes).fit(sampled, epochs=1, batch_size=sizes.batch_size,
                           shuffle=BlockShuffle(), learning_rate=LEARNING_RATE, seed=0)
        seconds = time.perf_counter() - start
    peak = peak_rss_bytes()
    print(json.dumps({"before": before, "peak": peak, "samples": sampled.samples,
                      "seconds": seconds, "m": source.n_examples}))


def report_memory(sizes, folder, threads):
    """The table, and {file bytes: peak RSS bytes} of the files measured."""
    rows, peaks = [], {}
    for nbytes in sizes.rss_files:
        row_bytes = sizes.image**2 * 3
        m = math.ceil(nbytes / row_bytes)
        label = f"{nbytes / GiB:g} GiB" if nbytes >= GiB else f"{nbytes / 2**20:g} MiB"
        skip = check_disk(folder, nbytes)
        if skip:
            rows.append([label, m, skip, "", "", "", ""])
            continue
        path = Path(folder) / f"mlpkit-stream-bench-{m}.h5"
        try:
            start = time.perf_counter()
            write_h5(path, m, sizes.image)
            written = time.perf_counter() - start
            evict(path)
            command = [sys.executable, __file__, "--rss-probe", str(path), "--threads",
                       str(threads)] + (["--quick"] if sizes.quick else [])
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            probe = json.loads(done.stdout.strip().splitlines()[-1])
        finally:
            path.unlink(missing_ok=True)
        peaks[nbytes] = probe["peak"]
        samples = np.array(probe["samples"]) / 2**20
        quarters = [samples[min(len(samples) - 1, int(q * (len(samples) - 1)))]
                    for q in (0.25, 0.5, 0.75, 1.0)]
        rows.append([
            label, m, f"{probe['before'] / 2**20:.0f}", f"{probe['peak'] / 2**20:.0f}",
            " / ".join(f"{q:.0f}" for q in quarters), f"{probe['seconds']:.1f}",
            f"{m * row_bytes / probe['seconds'] / 2**20:.0f} (written at "
            f"{m * row_bytes / written / 2**20:.0f})",
        ])
    header = ["HDF5 file", "images", "RSS before MiB", "peak RSS MiB",
              "RSS at 1/4, 1/2, 3/4, end of the epoch MiB", "epoch s", "read MiB/s"]
    title = ("(e) one epoch streamed from HDF5 (file evicted from the page cache first), each in "
             "a fresh process; peak RSS is the whole process's (VmHWM)\n")
    return title + table(header, rows), peaks


# ------------------------------------------------------------------ (f) streamed vs in memory
def epoch_tasks(sizes, folder):
    m, s = sizes.epoch_m, sizes.image
    h5_path = Path(folder) / "mlpkit-stream-bench-epoch.h5"
    npy_path = Path(folder) / "mlpkit-stream-bench-epoch.npy"
    write_h5(h5_path, m, s)
    images, labels, _ = mlpkit.load_h5(h5_path)
    np.save(npy_path, images)
    warm(h5_path)
    warm(npy_path)
    X = flatten_images(images, DTYPE)
    Y = labels.reshape(1, -1).astype(DTYPE)
    del images

    def run(data, shuffle):
        net = network(sizes)
        start = time.perf_counter()
        net.fit(data, None if not isinstance(data, np.ndarray) else Y, epochs=1,
                batch_size=sizes.batch_size, shuffle=shuffle, learning_rate=LEARNING_RATE,
                seed=0)
        return time.perf_counter() - start

    tasks = {
        "in memory, exact shuffle": lambda: run(X, True),
        "HDF5, block shuffle": lambda: run(HDF5Source(h5_path, dtype=DTYPE), BlockShuffle()),
        "HDF5, block shuffle, a reading thread (prefetch=2)": lambda: run(
            HDF5Source(h5_path, dtype=DTYPE, prefetch=2), BlockShuffle()),
        "HDF5, exact shuffle": lambda: run(HDF5Source(h5_path, dtype=DTYPE), True),
        ".npy memory map, block shuffle": lambda: run(NpySource(npy_path, labels, dtype=DTYPE),
                                                      BlockShuffle()),
    }
    order = BlockShuffle().order(0, m, np.random.default_rng(0))

    def stages():
        """Seconds of the data side alone (best of 3 passes): the in-memory gather, and the
        streamed read and scaling, over the epoch's batches, with no math."""
        def best(make):
            times = []
            for _ in range(3):
                start = time.perf_counter()
                for _ in make().batches(order, sizes.batch_size):
                    pass
                times.append(time.perf_counter() - start)
            return min(times)

        return {"gather (memory)": best(lambda: ArraySource(X, Y)),
                "read + scale (HDF5)": best(lambda: HDF5Source(h5_path, dtype=DTYPE))}

    def cleanup():
        h5_path.unlink(missing_ok=True)
        npy_path.unlink(missing_ok=True)

    return tasks, stages, cleanup


def report_epoch(sizes, results, stage_seconds):
    base = statistics.median(results["in memory, exact shuffle"])
    rows = []
    for name, seconds in results.items():
        median = statistics.median(seconds)
        rows.append([name, f"{median:.3f}", f"{min(seconds):.3f}", f"{median / base:.2f}x",
                     f"{sizes.epoch_m / median:.0f}"])
    pixels = sizes.epoch_m * sizes.image**2 * 3 / 2**20
    text = (f"(f) one epoch of {sizes.epoch_m} images ({pixels:.0f} MiB uint8, {4 * pixels:.0f} "
            f"MiB as float32), "
            f"files in the page cache; medians of {len(next(iter(results.values())))} rounds\n")
    text += table(["data", "median s", "best s", "/ in memory", "images/s"], rows)
    text += "\n\ndata side alone (no math), best of 3 passes: " + ", ".join(
        f"{k} {v:.3f} s" for k, v in stage_seconds.items())
    return text


# ---------------------------------------------------------------------------- (g) image folder
def write_jpegs(root, m, size):
    """m JPEG files in two class folders: smooth random pictures with some texture."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for k in range(m):
        folder = root / ("cat" if k % 2 else "other")
        folder.mkdir(parents=True, exist_ok=True)
        small = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
        picture = Image.fromarray(small).resize((size, size), Image.Resampling.BICUBIC)
        noise = rng.integers(0, 24, (size, size, 3), dtype=np.uint8)
        picture = Image.fromarray(np.asarray(picture) // 8 * 7 + noise)
        picture.save(folder / f"{k:06d}.jpg", quality=90)


def folder_tasks(sizes, folder, threads, worker_counts=None):
    root = Path(folder) / "mlpkit-stream-bench-jpegs"
    write_jpegs(root, sizes.jpeg_m, sizes.jpeg_size)
    s = sizes.image
    cpus = cpu_count()

    sources = {}  # one per setting, kept: its worker processes live across epochs

    def run(workers, blas="auto"):
        if (workers, blas) not in sources:
            sources[workers, blas] = ImageFolderSource(root, s, workers=workers, dtype=DTYPE,
                                                       blas_threads=blas)
        source = sources[workers, blas]
        net = network(sizes)
        start = time.perf_counter()
        net.fit(source, epochs=1, batch_size=sizes.batch_size, learning_rate=LEARNING_RATE,
                seed=0)
        return time.perf_counter() - start

    tasks = {f"in the training thread (workers=0), BLAS {threads}": lambda: run(0, threads)}
    if threads != 1:
        tasks["in the training thread (workers=0), BLAS 1"] = lambda: run(0, 1)
    for workers in worker_counts or sorted({1, cpus}):
        capped = max(1, cpus - workers)
        tasks[f"{workers} worker process(es), BLAS {capped} (the default cap)"] = (
            lambda w=workers: run(w))

    def stages():
        """The work of one epoch, stage by stage, in the training thread."""
        source = ImageFolderSource(root, s, workers=0, dtype=DTYPE)
        order = np.random.default_rng(0).permutation(source.n_examples)
        start = time.perf_counter()
        images = np.concatenate([raw.copy() for raw, _ in source.decoded(order,
                                                                          sizes.batch_size)])
        decode = time.perf_counter() - start
        rows = images.reshape(len(images), -1)
        out = np.empty((sizes.batch_size, rows.shape[1]), DTYPE)
        start = time.perf_counter()
        for b in range(0, len(rows), sizes.batch_size):
            part = rows[b : b + sizes.batch_size]
            np.divide(part, DTYPE(255), out=out[: len(part)], dtype=DTYPE)
        scale = time.perf_counter() - start
        X = flatten_images(images, DTYPE)
        Y = source.labels[order].reshape(1, -1).astype(DTYPE)
        net = network(sizes)
        start = time.perf_counter()
        net.fit(X, Y, epochs=1, batch_size=sizes.batch_size, shuffle=False,
                learning_rate=LEARNING_RATE)
        math_seconds = time.perf_counter() - start
        return {"decode (Pillow: open, RGB, resize)": decode, "scale (x / 255)": scale,
                "math (gather + forward, backward, update)": math_seconds}

    def cleanup():
        for source in sources.values():
            source.close()
        shutil.rmtree(root, ignore_errors=True)

    return tasks, stages, cleanup, root


DECODE_ALL = """
import sys, time
from pathlib import Path
from mlpkit.data.images import _read_image
files = sorted(Path(sys.argv[1]).rglob("*.jpg"))
print("ready", flush=True)
sys.stdin.readline()
start = time.perf_counter()
for path in files:
    _read_image(path, int(sys.argv[2]))
print(time.perf_counter() - start, flush=True)
"""


def decoding_ceiling(root, s, repeats):
    """The median over rounds of (2 x one process's time / the wall time of two processes
    decoding every file at once): what 2 decoding processes can reach on this machine."""

    def wall(n):
        children = [subprocess.Popen([sys.executable, "-c", DECODE_ALL, str(root), str(s)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                    for _ in range(n)]
        for child in children:
            assert child.stdout.readline().strip() == "ready"
        start = time.perf_counter()
        for child in children:
            child.stdin.write("go\n")
            child.stdin.flush()
        for child in children:
            child.stdout.readline()
            child.wait()
        return time.perf_counter() - start

    rounds = [2 * wall(1) / wall(2) for _ in range(repeats)]
    return statistics.median(rounds)


def paired_speedup(results, name):
    """The median over rounds of (the faster in-thread row's time / name's time) in the same
    round: rounds see the same load, which a shared machine changes from minute to minute."""
    alone = [k for k in results if "training thread" in k]
    rounds = zip(*(results[k] for k in alone), results[name], strict=True)
    return statistics.median(min(r[:-1]) / r[-1] for r in rounds)


def report_folder(sizes, results, stage_seconds, ceiling=None):
    m = sizes.jpeg_m
    rows = []
    for name, seconds in results.items():
        median = statistics.median(seconds)
        rows.append([name, f"{median:.2f}", f"{m / median:.0f}",
                     f"{paired_speedup(results, name):.2f}x"])
    text = (f"(g) one training epoch over a folder of {m} JPEG files ({sizes.jpeg_size} x "
            f"{sizes.jpeg_size}, resized to {sizes.image} x {sizes.image}); medians of "
            f"{len(next(iter(results.values())))} rounds\n")
    text += table(["decoding", "median s", "images/s",
                   "speed-up (median per round, vs the faster in-thread row)"], rows)
    total = sum(stage_seconds.values())
    stage_rows = [[k, f"{v:.2f}", f"{1e3 * v / m:.3f}", f"{v / total:.0%}"]
                  for k, v in stage_seconds.items()]
    text += "\n\nwhere the time goes (each stage alone, in the training thread, one epoch)\n"
    text += table(["stage", "s", "ms per image", "share"], stage_rows)
    fastest = min(statistics.median(v) for k, v in results.items() if "process(es)" in k)
    text += (f"\n\nthe stages add up to {total:.2f} s ({m / total:.0f} images/s), the least an "
             f"epoch decoding in the training thread takes; the fastest epoch with worker "
             f"processes took {fastest:.2f} s ({total / fastest:.2f}x)")
    if ceiling is not None:
        text += (f"\nceiling: two plain processes decoding the same files at once did "
                 f"{ceiling:.2f}x the images/s of one (median of the rounds)")
    return text


# ----------------------------------------------------------------------------------- targets
def report_targets(sizes, peaks, epoch_results, folder_results):
    rows = []
    if peaks:
        largest, smallest = max(peaks), min(peaks)
        peak = peaks[largest] / 2**20
        rows.append([f"(e) peak RSS, {largest / GiB:g} GiB file (MiB)", "< 1024", f"{peak:.0f}",
                     "met" if peak < 1024 else "NOT met"])
        if largest != smallest:
            growth = peaks[largest] / peaks[smallest]
            rows.append([f"(e) peak RSS, {largest / GiB:g} GiB file / {smallest / GiB:g} GiB file",
                         "~ 1 (does not grow)", f"{growth:.2f}",
                         "met" if growth < 1.25 else "NOT met"])
    if epoch_results:
        base = statistics.median(epoch_results["in memory, exact shuffle"])
        ratio = statistics.median(epoch_results["HDF5, block shuffle"]) / base
        rows.append(["(f) streamed HDF5 epoch / in-memory epoch", "<= 1.2", f"{ratio:.2f}",
                     "met" if ratio <= 1.2 else "NOT met"])
    if folder_results:
        def best(kind):
            return min((k for k in folder_results if kind in k),
                       key=lambda k: statistics.median(folder_results[k]))

        threaded = best("process(es)")
        speedup = paired_speedup(folder_results, threaded)
        rows.append([f"(g) images/s, {threaded} / in the training thread", ">= 1.5",
                     f"{speedup:.2f}", "met" if speedup >= 1.5 else "NOT met"])
    title = "targets (issues 12 and 23)"
    if sizes.quick:
        title += " (quick mode: tiny sizes, so they do not apply)"
    return title + "\n" + table(["measure", "target", "this run", ""], rows)


def run(sizes, threads, folder, workloads, out=print, worker_counts=None):
    out(describe(threads, ["h5py", "Pillow"]))
    epoch_results = folder_results = peaks = None
    with threadpool_limits(limits=threads):
        if "e" in workloads:
            text, peaks = report_memory(sizes, folder, threads)
            out("\n" + text)
        if "f" in workloads:
            tasks, stages, cleanup = epoch_tasks(sizes, folder)
            try:
                for task in tasks.values():
                    task()  # warm-up
                epoch_results = interleaved(tasks, sizes.repeats)
                out("\n" + report_epoch(sizes, epoch_results, stages()))
            finally:
                cleanup()
        if "g" in workloads:
            tasks, stages, cleanup, root = folder_tasks(sizes, folder, threads, worker_counts)
            try:
                for task in tasks.values():
                    task()  # warm-up: the files into the page cache, the workers started
                folder_results = interleaved(tasks, sizes.repeats)
                ceiling = decoding_ceiling(root, sizes.image, sizes.repeats)
                out("\n" + report_folder(sizes, folder_results, stages(), ceiling))
            finally:
                cleanup()
    out("\n" + report_targets(sizes, peaks, epoch_results, folder_results))
    out(f"\nload average at the end: {load_average()}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    measurement_options(parser, "efg")
    parser.add_argument("--dir", default=tempfile.gettempdir(),
                        help="where the generated files go (deleted at the end)")
    parser.add_argument("--workers", help="(g): worker process counts, comma-separated "
                        "(default: 1 and one per CPU)")
    parser.add_argument("--jpeg-m", type=positive_int, help="(g): JPEG files (default 20,000)")
    parser.add_argument("--rss-probe", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sizes = sizes_from(args, Sizes(), QUICK)
    if not Path(args.dir).is_dir():
        parser.error(f"--dir {args.dir}: not a folder")
    worker_counts = None
    if args.workers:
        try:
            worker_counts = [int(w) for w in args.workers.split(",")]
        except ValueError:
            parser.error(f"--workers takes counts like 1,2,4; got {args.workers!r}")
        if min(worker_counts) < 1:
            parser.error("--workers counts must be >= 1 (the training thread is always measured)")
    if args.jpeg_m is not None:
        sizes = replace(sizes, jpeg_m=args.jpeg_m)
    if args.rss_probe:
        rss_probe(args.rss_probe, sizes, args.threads)
    else:
        run(sizes, args.threads, args.dir, args.only, worker_counts=worker_counts)


if __name__ == "__main__":
    main()
