"""`ImageFilesSource` and `ImageFolderSource`: image files decoded on the fly (Pillow, as
`load_image`), by a pool of threads a few batches ahead, unreadable files skipped with a warning
or refused under strict."""

from __future__ import annotations

import threading
from collections import deque
from pathlib import Path

import numpy as np

from ..checks import check_number
from ..h5 import check_labels
from ..streams import blas_limit, cpu_count
from .base import StreamBatch, StreamingSource


class NoReadableImages(ValueError):
    """None of the image files of a pass could be read (each had its warning)."""



class ImageFilesSource(StreamingSource):
    """Image files decoded on the fly (Pillow, as `load_image`: RGB, resized to image_size),
    by `workers` threads that decode the next `prefetch` batches while the loop does the math.

    labels (one class index per file) and classes (names) make the targets. workers=0
    decodes in the calling thread. While the threads run, BLAS is capped at
    blas_threads (default: the CPUs left by the decoding threads, at least 1), since decoding
    threads and BLAS threads together must not oversubscribe the cores. An unreadable file is
    skipped with a warning naming it (once per file: `warn(message)`, default warnings.warn),
    or raises a ValueError under strict=True. Threads stop at the end of each pass, and
    promptly on an error or Ctrl-C."""

    def __init__(self, paths, labels=None, classes=None, image_size=64, *, workers=None,
                 prefetch=None, strict=False, warn=None, dtype=np.float64, standardizer=None,
                 targets=None, blas_threads="auto", name=None):
        from ..images import _check_size

        self.paths = [Path(p) for p in paths]
        if not self.paths:
            raise ValueError("no image files given")
        self.image_size = _check_size(image_size)
        name = name or f"{len(self.paths)} image files"
        if labels is not None:
            labels, found = check_labels(labels, len(self.paths), name, "the file list",
                                         "labels")
            if classes is None:
                classes = found
            elif int(labels.max()) >= len(classes):
                raise ValueError(f"{name}: label {int(labels.max())} has no class among the "
                                 f"{len(classes)} classes {list(classes)}; expected labels "
                                 f"0..{len(classes) - 1}")
        self.workers = cpu_count() if workers is None else check_number(
            workers, "workers", integer=True, min_val=0)
        self.prefetch = (2 * self.workers if prefetch is None
                         else check_number(prefetch, "prefetch", integer=True, min_val=1))
        if blas_threads == "auto":
            blas_threads = max(1, cpu_count() - self.workers) if self.workers else None
        self.blas_threads = None if blas_threads is None else check_number(
            blas_threads, "blas_threads", integer=True, min_val=1)
        self.strict = bool(strict)
        import warnings

        self.warn = warnings.warn if warn is None else warn
        self._warned = set()  # files already reported (shared by subsets)
        size = self.image_size
        super().__init__(name, len(self.paths), (size, size, 3), np.uint8, labels=labels,
                         classes=classes, targets=targets, dtype=dtype, standardizer=standardizer)

    def images(self, positions):
        """The images at `positions`, decoded (uint8 (k, s, s, 3)), e.g. to show a few."""
        from ..images import _read_image

        rows = self._file_rows(self._check_order(positions))
        return np.stack([_read_image(self.paths[r], self.image_size) for r in rows])

    def decoded(self, order, batch_size):
        """(uint8 images (b, s, s, 3), positions) for the examples of `order`, batch by batch,
        without the float scaling (e.g. to store them); unreadable files are left out."""
        order = self._check_order(order)
        batch_size = check_number(batch_size, "batch_size", integer=True, min_val=1)
        for raw, _, positions in self._pipeline(order, batch_size, floats=False):
            yield raw, positions

    def _batches(self, order, batch_size):
        for _, X_rows, positions in self._pipeline(order, batch_size, floats=True):
            yield StreamBatch(X_rows.T, self._targets(positions), index=positions)

    def _pipeline(self, order, batch_size, floats):
        """(uint8 images, float rows or None, positions kept) per batch of `order`."""
        from ..images import _read_image

        n_batches = -(-order.size // batch_size)
        depth = self.prefetch if self.workers else 0
        s, n_x = self.image_size, self.n_features
        slots = [(np.empty((batch_size, s, s, 3), np.uint8),
                  np.empty((batch_size, n_x), self.dtype) if floats else None)
                 for _ in range(depth + 1)]  # depth batches decoding, one with the loop
        to_float = self._scaler()
        stop = threading.Event()

        def decode(k):
            positions = order[k * batch_size : (k + 1) * batch_size]
            raw, out = slots[k % len(slots)]
            ok = np.ones(positions.size, bool)
            failures = []
            for i, row in enumerate(self._file_rows(positions)):
                if stop.is_set():
                    return None
                try:
                    raw[i] = _read_image(self.paths[row], s)
                except ValueError as e:
                    if self.strict:
                        raise
                    ok[i] = False
                    failures.append((self.paths[row], str(e)))
                    continue
            n = int(ok.sum())
            images = raw[: positions.size] if n == positions.size else raw[: positions.size][ok]
            rows = None
            if floats and n:
                rows = to_float(images.reshape(n, n_x), out[:n])
            return images, rows, positions[ok], failures

        seen = 0
        if not depth:
            results = (decode(k) for k in range(n_batches))
            pool = None
        else:
            from concurrent.futures import ThreadPoolExecutor

            pool = ThreadPoolExecutor(self.workers, thread_name_prefix="mlpkit-decode")
            futures = deque(pool.submit(decode, k) for k in range(min(depth, n_batches)))

            def collect():
                for k in range(n_batches):
                    result = futures.popleft().result()
                    # the slot of batch k - 1, which the loop is done with
                    if k + depth < n_batches:
                        futures.append(pool.submit(decode, k + depth))
                    yield result

            results = collect()
        try:
            with blas_limit(self.blas_threads if depth else None):
                for images, rows, positions, failures in results:
                    for path, message in failures:
                        if path not in self._warned:
                            self._warned.add(path)
                            self.warn(f"skipping {message}")
                    if positions.size:
                        seen += positions.size
                        yield images, rows, positions
        finally:
            stop.set()
            if pool is not None:
                for future in futures:
                    future.cancel()
                pool.shutdown(wait=True)
        if order.size and not seen:
            raise NoReadableImages(f"{self.name}: none of the image files could be read")


class ImageFolderSource(ImageFilesSource):
    """The images of a folder with one subfolder per class (listed as `load_image_folder`
    does: sorted class names, image files directly inside), decoded on the fly; options as
    ImageFilesSource's."""

    def __init__(self, folder, image_size=64, **options):
        from ..images import list_image_folder

        self.folder = Path(folder)
        classes, files = list_image_folder(self.folder)
        paths = [p for c in classes for p in files[c]]
        labels = np.repeat(np.arange(len(classes)), [len(files[c]) for c in classes])
        super().__init__(paths, labels, classes, image_size, name=str(self.folder), **options)

