"""What the benchmarks say about the machine they ran on (imported by the scripts beside it)."""

import contextlib
import os
import platform


def cpu_name():
    """The processor's model name (/proc/cpuinfo), else what platform knows."""
    with contextlib.suppress(OSError, StopIteration), open("/proc/cpuinfo") as f:
        return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    return platform.processor() or platform.machine()


def usable_cpus():
    """The CPUs this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
