"""Arrays in files read window by window (`_FileArraySource`, the base of the HDF5 and `.npy`
sources): the positions of the next read_buffer bytes of an order sorted and read as a few
contiguous ranges, the kernel asked to read the next window ahead, an optional reading thread;
and the checks of a stored array of examples and of its labels or targets."""

from __future__ import annotations

import abc
import contextlib
import math
from pathlib import Path

import numpy as np

from ..checks import check_number
from ..h5 import check_image_shape, check_labels
from ..streams import blas_limit, prefetched
from .base import StreamBatch, StreamingSource

READ_BUFFER = 64 << 20  # bytes of rows read ahead by a file-backed source (one window)
GAP_BYTES = 256 << 10  # read through gaps up to this size rather than issue another read


def _check_raw(shape, dtype, path, name, images):
    """A stored array of examples: (m, ...) with m >= 1, uint8 pixels or float features."""
    if len(shape) < 2:
        raise ValueError(f"{path}: {name} has shape {tuple(shape)}; expected one example per "
                         "row: (m, h, w, 3) images or (m, n) features")
    if images or len(shape) >= 3:
        check_image_shape(shape, path, name)
    if shape[0] == 0:
        raise ValueError(f"{path}: {name} is empty (0 examples)")
    if dtype != np.uint8 and dtype.kind != "f":
        raise ValueError(
            f"{path}: {name} has dtype {dtype}; streaming reads uint8 pixels (0..255) or float "
            "features: store the images as uint8 (as 'mlpkit convert' writes them), or load "
            "the file in memory"
        )


def _y_values(y, m, path, x_name, y_name, raw_classes, classes):
    """(labels, classes, y): class labels from a 1-D or (1, m) array, or float targets from an
    (m, n_y) array."""
    y = np.asarray(y)
    if y.ndim == 2 and not (y.shape[0] == 1 and y.shape[1] == m):
        if y.shape[0] != m:
            raise ValueError(f"{path}: {x_name} holds {m} examples but {y_name} has shape "
                             f"{y.shape}; expected ({m},) labels or ({m}, n_y) targets")
        if y.dtype.kind not in "biuf" or not np.isfinite(y).all():
            raise ValueError(f"{path}: {y_name} must hold finite numbers")
        return None, None, y
    if classes is not None:
        raw_classes = [str(c).encode() for c in classes]
    labels, classes = check_labels(y, m, path, x_name, y_name, raw_classes)
    return labels, classes, None


def _ranges(rows, max_gap, limit):
    """Contiguous ranges [start, stop) covering the sorted unique `rows`, reading through gaps
    of up to max_gap rows; exact ranges if the gaps would make them cover more than `limit`."""
    gaps = np.diff(rows) - 1
    breaks = np.flatnonzero(gaps > max_gap)
    starts = rows[np.r_[0, breaks + 1]]
    stops = rows[np.r_[breaks, rows.size - 1]] + 1
    if max_gap and (stops - starts).sum() > limit:
        return _ranges(rows, 0, limit)
    return starts, stops


class _FileArraySource(StreamingSource):
    """Rows of an array in a file, read window by window: the positions of the next
    read_buffer bytes of the order are sorted, read as a few contiguous ranges, then gathered
    in the order asked and scaled batch by batch. While a window is computed on, the kernel is
    asked to read the next one from disk (posix_fadvise WILLNEED), so disk reads overlap the
    math with no thread. prefetch > 0 also moves the reading and scaling to a background
    thread keeping `prefetch` batches ready (BLAS capped at blas_threads meanwhile, if given):
    on 2 cores that was slower than the default, as the thread competes with the math
    (benchmarks/stream_bench.py (f))."""

    def __init__(self, path, n_rows, example_shape, raw_dtype, *, read_buffer=READ_BUFFER,
                 prefetch=0, blas_threads=None, **options):
        super().__init__(path, n_rows, example_shape, raw_dtype, **options)
        self.path = Path(path)
        self.read_buffer = check_number(read_buffer, "read_buffer", integer=True, min_val=1)
        self.prefetch = check_number(prefetch, "prefetch", integer=True, min_val=0)
        self.blas_threads = None if blas_threads is None else check_number(
            blas_threads, "blas_threads", integer=True, min_val=1)

    def _check_unchanged(self, shape, dtype, what=""):
        """The array found on opening the file again must be the one the source was made on."""
        expected = (self._n_rows, *self.example_shape)
        if shape != expected or dtype != self.raw_dtype:
            raise ValueError(f"{self.path}: {what}changed since the source was opened: it was "
                             f"{expected} {self.raw_dtype}, it is {shape} {dtype}")

    def block_shuffle(self, buffer_blocks=16):
        """A BlockShuffle whose windows (block_size * buffer_blocks examples) are this source's
        read windows for power-of-2 batch sizes: the largest power of 2 of examples that fits in
        read_buffer bytes (4096 images of 64 x 64 x 3 at the defaults: blocks of 256)."""
        from ..streams import BlockShuffle

        buffer_blocks = check_number(buffer_blocks, "buffer_blocks", integer=True, min_val=1)
        row_bytes = math.prod(self.example_shape) * self.raw_dtype.itemsize
        fits = max(buffer_blocks, self.read_buffer // row_bytes)
        window = 2 ** int(math.log2(fits))
        return BlockShuffle(max(1, window // buffer_blocks), buffer_blocks)

    def images(self, positions):
        """The examples at `positions` as stored (uint8 images (k, h, w, 3)), e.g. to show a
        few of them."""
        positions = self._check_order(positions)
        rows = self._file_rows(positions)
        unique, inverse = np.unique(rows, return_inverse=True)
        raw = np.empty((unique.size, *self.example_shape), self.raw_dtype)
        with self._open() as reader:
            for i, row in enumerate(unique):
                reader.read(row, row + 1, raw[i : i + 1])
        return self._as_images(raw[inverse])

    def _batches(self, order, batch_size):
        if not self.prefetch:
            return self._produce(order, batch_size, ring=1)
        ring = self.prefetch + 2  # in the queue, being filled, being used by the loop
        return self._limited(prefetched(lambda: self._produce(order, batch_size, ring),
                                        self.prefetch, name=f"mlpkit-read {self.name}"))

    def _limited(self, batches):
        with blas_limit(self.blas_threads):
            yield from batches

    def _produce(self, order, batch_size, ring):
        row_bytes = math.prod(self.example_shape) * self.raw_dtype.itemsize
        # a window: batch_size * 2^k positions (so that a BlockShuffle's windows of power-of-2
        # sizes line up with it), within read_buffer bytes, at least one batch
        k = max(0, int(math.log2(max(1, self.read_buffer // row_bytes // batch_size))))
        window = batch_size * 2**k
        max_gap = GAP_BYTES // row_bytes
        slots = [np.empty((batch_size, self.n_features), self.dtype) for _ in range(ring)]
        raw_batch = np.empty((batch_size, math.prod(self.example_shape)), self.raw_dtype)
        to_float = self._scaler()
        buffer, done = None, 0

        def plan(start):
            positions = order[start : start + window]
            unique, inverse = np.unique(self._file_rows(positions), return_inverse=True)
            return positions, unique, inverse, _ranges(unique, max_gap, 2 * positions.size)

        with self._open() as reader:
            upcoming = plan(0) if order.size else None
            for start in range(0, order.size, window):
                positions, unique, inverse, (starts, stops) = upcoming
                if start + window < order.size:
                    # the kernel reads the next window from disk while this one is computed
                    upcoming = plan(start + window)
                    reader.will_need(*upcoming[3])
                lengths = stops - starts
                offsets = np.cumsum(lengths) - lengths
                if buffer is None or buffer.shape[0] < lengths.sum():
                    buffer = np.empty((max(int(lengths.sum()), window), *self.example_shape),
                                      self.raw_dtype)
                for a, b, o in zip(starts, stops, offsets, strict=True):
                    reader.read(a, b, buffer[o : o + (b - a)])
                which = np.searchsorted(starts, unique, side="right") - 1
                where = (offsets[which] + unique - starts[which])[inverse]
                flat = buffer.reshape(buffer.shape[0], -1)
                for b0 in range(0, positions.size, batch_size):
                    select = where[b0 : b0 + batch_size]
                    n = select.size
                    # mode="clip" (the rows are valid) lets take write straight into raw_batch
                    np.take(flat, select, axis=0, out=raw_batch[:n], mode="clip")
                    out = to_float(raw_batch[:n], slots[done % ring][:n])
                    done += 1
                    batch_positions = positions[b0 : b0 + batch_size]
                    yield StreamBatch(out.T, self._targets(batch_positions), index=batch_positions)

    @contextlib.contextmanager
    def _open(self):
        """The file opened again for a pass: a reader with read(start, stop, out) (rows
        [start, stop) into out) and will_need(starts, stops) (a hint that these ranges come
        next); FileNotFoundError if the file is gone."""
        if not self.path.exists():
            raise FileNotFoundError(f"{self.path}: no such file (it was removed or renamed "
                                    "after the source was opened)")
        with self._reader() as reader:
            yield reader

    @abc.abstractmethod
    def _reader(self):
        """A context giving the reader of `_open`, for the file at self.path (present)."""
