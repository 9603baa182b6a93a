"""Worker processes that decode image files into shared memory: `DecodePool`.

`workers` processes (the spawn start method: safe beside the threads of the training process)
decode whole batches of image files (Pillow, as `load_image`) into a ring of uint8 blocks of one
shared-memory segment, a few batches ahead of the caller; nothing is pickled but the file names
and the names of the files that failed. The parent creates, owns and unlinks every segment; the
workers attach to it without registering it with the resource tracker (before Python 3.13, the
tracker of a spawned worker would unlink it when the worker exits: cpython gh-82300), so a
segment lives exactly as long as its pass, or until the parent dies (its own tracker unlinks it
then). A worker that dies is restarted once and its batch decoded again; a second death is a
`WorkerDied` error. The workers' BLAS is capped at 1 thread and they ignore SIGINT: Ctrl-C
reaches the parent, which stops them. As with any spawned process, a script that trains
must do so under `if __name__ == "__main__":` (the workers import the script's module).
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import sys
import weakref
from collections import deque
from multiprocessing import connection

import numpy as np

SHM_DIR = "/dev/shm"


class WorkerDied(RuntimeError):
    """A decoding worker died a second time (killed, out of memory)."""


class DecodePool:
    """`workers` decoding processes, started when first used and kept between passes (idle,
    waiting on their pipe); `close()` stops them (also when the pool is garbage collected and
    at exit). `decode(batches, image_size, depth)` decodes lists of files batch by batch."""

    def __init__(self, workers):
        self.workers = int(workers)
        self._processes = [None] * self.workers
        self._conns = [None] * self.workers
        self.deaths = 0
        self._finalizer = weakref.finalize(self, _stop, self._processes, self._conns)

    def pids(self):
        """The workers' process ids (None for a worker not started)."""
        return [None if p is None else p.pid for p in self._processes]

    def close(self):
        """Stop the workers (asked, then killed after a second) and wait for them."""
        _stop(self._processes, self._conns)

    def decode(self, batches, image_size, depth):
        """For each list of image files in `batches`, in order: (uint8 images (b, s, s, 3), a
        view of a block of the ring, valid until the next batch is asked for; [(i, message)]
        for the files i of the batch that could not be read, whose images are left as they
        are). Up to `depth` batches are decoded ahead. A pass left before its end (an error,
        Ctrl-C, the caller closing it) stops the workers: the next pass starts new ones."""
        n = len(batches)
        if not n:
            return
        s = int(image_size)
        size = max(len(b) for b in batches)
        slots = min(depth, n) + 1  # up to `depth` decoding, one with the caller
        shm = _create_ring(slots * size * s * s * 3, slots, size, s)
        shape = (slots, size, s, s, 3)
        ring = np.ndarray(shape, np.uint8, buffer=shm.buf)
        pending = deque(range(min(depth, n)))  # batches to hand to a worker
        busy, done = {}, {}  # worker -> its batch; batch -> failures
        finished = False
        try:
            for w in range(self.workers):
                if self._processes[w] is None:
                    self._start(w)
            submitted = len(pending)
            for k in range(n):
                while k not in done:
                    for w in range(self.workers):
                        if pending and w not in busy:
                            job = pending.popleft()
                            self._conns[w].send((shm.name, shape, job % slots, job,
                                                 [str(p) for p in batches[job]], s))
                            busy[w] = job
                    self._collect(busy, done, pending)
                yield ring[k % slots, : len(batches[k])], done.pop(k)
                if submitted < n:  # the slot of batch k is free: the caller asked for k + 1
                    pending.append(submitted)
                    submitted += 1
            finished = True
        finally:
            if not finished:
                self.close()
            del ring
            shm.unlink()
            with contextlib.suppress(BufferError):  # a view still held: unmapped when freed
                shm.close()

    def _collect(self, busy, done, pending):
        """Wait for a result or a worker's death; a dead worker's batch goes back to pending,
        to a new worker, once."""
        conns = [self._conns[w] for w in busy]
        ready = set(connection.wait([*conns, *(self._processes[w].sentinel for w in busy)]))
        for w in list(busy):
            conn, process = self._conns[w], self._processes[w]
            if conn not in ready and process.sentinel not in ready:
                continue
            try:
                if conn.poll():
                    job, failures = conn.recv()
                    done[job] = failures
                    del busy[w]
                    continue
            except (EOFError, OSError):
                pass  # its end of the pipe closed: it died
            process.join(timeout=1)
            if process.is_alive():
                process.kill()
                process.join()
            self.deaths += 1
            if self.deaths > 1:
                raise WorkerDied(
                    f"a decoding worker died again (exit code {process.exitcode}; the first "
                    "death was restarted): stopping; is the machine out of memory? does the "
                    "script train under `if __name__ == '__main__':`? (workers=0 decodes in "
                    "the training process)"
                )
            pending.appendleft(busy.pop(w))
            conn.close()
            self._start(w)

    def _start(self, w):
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        process = context.Process(target=_work, args=(child,), name=f"mlpkit-decode-{w}",
                                  daemon=True)
        process.start()
        child.close()
        self._processes[w], self._conns[w] = process, parent


def _stop(processes, conns):
    for conn in conns:
        if conn is not None:
            with contextlib.suppress(OSError, ValueError):  # a worker already gone
                conn.send(None)
    for w, process in enumerate(processes):
        if process is None:
            continue
        process.join(timeout=1)
        if process.is_alive():
            process.kill()
            process.join()
        conns[w].close()
        processes[w] = conns[w] = None


def _create_ring(nbytes, slots, size, s):
    """A shared-memory segment of nbytes, its pages reserved now (posix_fallocate), so that a
    /dev/shm too small is this clear error rather than a crash (SIGBUS) at the first write."""
    from multiprocessing import shared_memory

    shm = shared_memory.SharedMemory(create=True, size=nbytes)
    try:
        if hasattr(os, "posix_fallocate"):
            os.posix_fallocate(shm._fd, 0, nbytes)
    except OSError as e:
        shm.close()
        shm.unlink()
        if e.errno not in (errno.ENOSPC, errno.ENOMEM):
            raise
        try:
            stat = os.statvfs(SHM_DIR)
            free = f"{stat.f_bavail * stat.f_frsize / 2**20:.0f} MiB free"
        except OSError:
            free = "too little space"
        raise OSError(
            f"{SHM_DIR} has {free}; the decoding workers' ring of {slots} batches of {size} "
            f"images of {s}x{s} needs {nbytes / 2**20:.0f} MiB: enlarge {SHM_DIR} (docker: "
            "--shm-size), or lower the batch size or prefetch, or decode in the training "
            "process (workers=0)"
        ) from None
    return shm


def _attach(name):
    """The parent's segment, attached without registering it with this process's resource
    tracker (which would unlink it when this worker exits, before Python 3.13)."""
    from multiprocessing import resource_tracker, shared_memory

    if sys.version_info >= (3, 13):
        return shared_memory.SharedMemory(name, track=False)
    register = resource_tracker.register
    resource_tracker.register = lambda *args, **kwargs: None
    try:
        return shared_memory.SharedMemory(name)
    finally:
        resource_tracker.register = register


def _work(conn):
    """A worker: decode the tasks from `conn` into the ring until None or the parent's end."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from pathlib import Path

    from threadpoolctl import threadpool_limits

    from .images import _read_image

    limits = threadpool_limits(limits=1)  # noqa: F841 (kept for the worker's life)
    shm = ring = None
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            break
        if task is None:
            break
        name, shape, slot, job, paths, s = task
        if shm is None or shm.name != name:
            if shm is not None:
                del ring
                shm.close()
            shm = _attach(name)
            ring = np.ndarray(shape, np.uint8, buffer=shm.buf)
        failures = []
        for i, path in enumerate(paths):
            try:
                ring[slot, i] = _read_image(Path(path), s)
            except ValueError as e:
                failures.append((i, str(e)))
        conn.send((job, failures))
    if shm is not None:
        del ring
        shm.close()
