"""What every benchmark script shares, written once: the machine it ran on (processor, CPU count,
load average, library versions), the common command-line options, rounds in which the measured
variants take turns, Markdown tables, and the process's resident memory (RSS).

The CPU count is mlpkit's own (`mlpkit.data.streams.cpu_count`: the CPUs this process may run
on, `os.sched_getaffinity`, which is what sizes the decoding threads), so a benchmark's default
threads and the numbers it prints agree with what the library uses.
"""

import argparse
import contextlib
import gc
import importlib.metadata
import os
import platform
import sys
import time
from dataclasses import replace

import numpy as np
from threadpoolctl import threadpool_info

from mlpkit.data.streams import cpu_count

__all__ = [
    "cpu_count",
    "cpu_name",
    "current_rss_bytes",
    "describe",
    "interleaved",
    "load_average",
    "max_rss_bytes",
    "measurement_options",
    "peak_rss_bytes",
    "positive_int",
    "reset_peak_rss",
    "sizes_from",
    "table",
    "timed",
    "version",
]

PAUSE = 0.2  # seconds between measurements, so idle BLAS/OpenMP threads stop spinning


# ------------------------------------------------------------------------------- the machine
def cpu_name():
    """The processor's model name (/proc/cpuinfo), else what platform knows."""
    with contextlib.suppress(OSError, StopIteration), open("/proc/cpuinfo") as f:
        return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    return platform.processor() or platform.machine()


def load_average():
    """The 1, 5 and 15 minute load averages, as "0.52 0.61 0.70" ("?" where unknown)."""
    with contextlib.suppress(AttributeError, OSError):
        return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    return "?"


def version(distribution):
    """An installed distribution's version (e.g. "scikit-learn"), or "not installed"."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def describe(threads=None, libraries=(), threads_for="BLAS"):
    """Two or three lines: the processor, CPUs, system and load average; Python, NumPy, the BLAS
    libraries loaded, and the versions of `libraries` (distribution names); the threads the
    benchmark sets (`threads_for` says for what), if given."""
    blas = ", ".join(f"{info['internal_api']} {info.get('version') or ''}".strip()
                     for info in threadpool_info() if info["user_api"] == "blas")
    lines = [
        f"machine: {cpu_name()}, {cpu_count()} CPUs this process may use; {platform.system()} "
        f"{platform.release()}; load average {load_average()}",
        ", ".join([f"python {platform.python_version()}", f"numpy {np.__version__}", f"BLAS {blas}",
                   *(f"{name} {version(name)}" for name in libraries)]),
    ]
    if threads is not None:
        lines.append(f"threads: {threads} ({threads_for})")
    return "\n".join(lines)


# ---------------------------------------------------------------------------- command line
def positive_int(text):
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def workload_letters(letters):
    """argparse type for --only: a non-empty string of letters among `letters`."""

    def parse(text):
        if not text or set(text) - set(letters):
            raise argparse.ArgumentTypeError(
                f"takes letters among {', '.join(letters)}; got {text!r}")
        return text

    return parse


def measurement_options(parser, letters, threads_help="BLAS threads"):
    """--quick, --repeats, --threads (default: every CPU this process may use) and --only
    (workloads among `letters`, default all), as bench.py and stream_bench.py take them."""
    parser.add_argument("--quick", action="store_true", help="tiny sizes, seconds (CI smoke test)")
    parser.add_argument("--repeats", type=positive_int,
                        help="rounds of measurements (default 5, quick 1)")
    parser.add_argument("--threads", type=positive_int, default=cpu_count(),
                        help=f"{threads_help} (default: all CPUs this process may use)")
    parser.add_argument("--only", type=workload_letters(letters), default=letters,
                        help=f"the workloads to run, among {', '.join(letters)} "
                        f"(default {letters})")


def sizes_from(args, full, quick):
    """The sizes that --quick and --repeats choose (`full` and `quick` are dataclasses with a
    `repeats` field)."""
    sizes = quick if args.quick else full
    return sizes if args.repeats is None else replace(sizes, repeats=args.repeats)


# -------------------------------------------------------------------------------- measuring
def interleaved(tasks, repeats, pause=PAUSE):
    """Run every task of {name: task} `repeats` times, the tasks taking turns in an order that
    rotates by one each round (so each sees the same machine load), with a garbage collection
    and `pause` seconds before each; returns {name: [what each call returned]}."""
    results = {name: [] for name in tasks}
    names = list(tasks)
    for r in range(repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            gc.collect()
            time.sleep(pause)
            results[name].append(tasks[name]())
    return results


def timed(function, *args, **kwargs):
    """(seconds, result) of one call function(*args, **kwargs)."""
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, result


def table(header, rows):
    """A Markdown table, its columns padded to their widest cell."""
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows, strict=True)]

    def line(cells):
        return "| " + " | ".join(str(x).ljust(w) for x, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), rule, *map(line, rows)])


# ------------------------------------------------------------------------------------ memory
def _status_bytes(field):
    with open("/proc/self/status") as f:
        return 1024 * next(int(line.split()[1]) for line in f if line.startswith(field + ":"))


def current_rss_bytes():
    """This process's resident memory now (VmRSS; Linux)."""
    return _status_bytes("VmRSS")


def peak_rss_bytes():
    """This process's peak resident memory since it started or since reset_peak_rss() (VmHWM;
    Linux)."""
    return _status_bytes("VmHWM")


def reset_peak_rss():
    """Reset the peak RSS (VmHWM) to the current RSS; False where that is impossible (not Linux)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def max_rss_bytes():
    """The peak RSS as getrusage reports it (also outside Linux; on Linux, reset_peak_rss resets
    it too, and it may lag behind while the RSS grows)."""
    import resource  # not on Windows

    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB elsewhere
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
