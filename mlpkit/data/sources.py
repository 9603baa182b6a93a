"""Sources that stream mini-batches from files, for data sets bigger than memory: HDF5 datasets
(h5py, read as contiguous ranges), `.npy` files (memory maps) and image files decoded on the fly
by a pool of threads (Pillow).

Each implements the loop's source interface (`mlpkit.training.batches`): `n_examples`,
`n_features`, `dtype`, `full_batch()`, and `batches(order, batch_size)`, which gives exactly the
examples of `order`, in that order, as `StreamBatch(X (n_x, b), Y (n_y, b), index)`. Only a few
batches are in memory at a time: uint8 pixels are scaled per batch exactly as `flatten_images`
does (x / 255 in the source's dtype), then standardized if a fitted `Standardizer` is given
(`fit_standardizer()` computes one in a streaming pass); float data is cast. Class labels become
the network's targets per batch: a 0/1 row for 2 classes, one-hot columns for more.

A batch's X (and the images `decoded` gives) lives in a buffer the source reuses: it is valid
only until the next batch is asked for, whatever the prefetching (a ring of buffers just large
enough for it); copy it to keep it.
"""

from __future__ import annotations

import abc
import contextlib
import copy
import math
import os
import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..nn.checks import check_int
from ..training.batches import Batch, closing_batches
from .h5 import check_image_shape, check_labels, course_prefix, open_h5
from .streams import available_memory, blas_limit, cpu_count, prefetched

READ_BUFFER = 64 << 20  # bytes of rows read ahead by a file-backed source (one window)
GAP_BYTES = 256 << 10  # read through gaps up to this size rather than issue another read
FULL_BATCH_FRACTION = 0.5  # full_batch() refuses data above this fraction of free memory


class NoReadableImages(ValueError):
    """None of the image files of a pass could be read (each had its warning)."""


@dataclass
class StreamBatch(Batch):
    """A mini-batch from a streaming source; `index` holds the positions (in the source) of
    its examples."""

    index: object = None


class StreamingSource(abc.ABC):
    """What the streaming sources share: the examples' shape, labels or targets, the per-batch
    scaling and standardization, subsets, relabelling and the streaming standardizer fit.

    Subclasses implement `_batches(order, batch_size)` and `images(positions)`; `n_examples`
    counts the examples of this source, which may be a subset of the file's rows (`subset`)."""

    def __init__(self, name, n_rows, example_shape, raw_dtype, *, labels=None, classes=None,
                 y=None, targets=None, dtype=np.float64, standardizer=None, rgb=False):
        self.name = str(name)
        self.example_shape = tuple(int(n) for n in example_shape)
        self.raw_dtype = np.dtype(raw_dtype)
        self._n_rows = int(n_rows)
        self._index = None  # positions -> the file's rows (None: every row, in order)
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64; got {self.dtype}")
        self._gray_to_rgb = bool(rgb) and len(self.example_shape) == 2
        n_raw = math.prod(self.example_shape)
        self.n_features = n_raw * (3 if self._gray_to_rgb else 1)
        self._labels = None if labels is None else np.asarray(labels, dtype=np.int64)
        self.classes = None if classes is None else [str(c) for c in classes]
        self._y = None if y is None else np.asarray(y)
        if targets is not None and not callable(targets):
            raise TypeError(f"targets must be a function labels -> Y (n_y, b); got {targets!r}")
        self.targets = targets
        self._standardizer = None
        self.standardizer = standardizer

    # ------------------------------------------------------------------ the interface
    @property
    def n_examples(self):
        return self._n_rows if self._index is None else len(self._index)

    @property
    def image_shape(self):
        """The shape of one example as an image: (h, w, 3) for RGB (or grayscale given
        rgb=True), else as stored."""
        return (*self.example_shape, 3) if self._gray_to_rgb else self.example_shape

    @property
    def labels(self):
        """The class index of each example (m,), or None for a source without labels."""
        if self._labels is None:
            return None
        return self._labels if self._index is None else self._labels[self._index]

    @property
    def n_outputs(self):
        """Rows of the targets Y (the network's output units), or None without targets."""
        if self._y is not None:
            return self._y.shape[1]
        if self._labels is None:
            return None
        if self.targets is not None:
            return np.asarray(self.targets(self._labels[:1])).shape[0]
        return 1 if len(self.classes) == 2 else len(self.classes)

    @property
    def standardizer(self):
        return self._standardizer

    @standardizer.setter
    def standardizer(self, standardizer):
        if standardizer is not None:
            mean = getattr(standardizer, "mean_", None)
            if mean is None:
                raise ValueError("the standardizer is not fitted; fit it first (or call "
                                 "fit_standardizer() on the training source)")
            if mean.shape != (self.n_features, 1):
                raise ValueError(f"the standardizer was fitted on {mean.shape[0]} features; "
                                 f"{self.name} has {self.n_features}")
        self._standardizer = standardizer

    def batches(self, order, batch_size):
        """The mini-batches of examples order[0:b], order[b:2b], ... (the last may be smaller),
        read from the file as they are needed."""
        order = self._check_order(order)
        batch_size = check_int(batch_size, "batch_size", 1)
        return self._batches(order, batch_size)

    def full_batch(self):
        """All examples as one batch, in the data's order, when their floats fit comfortably
        in the memory available (half of it); otherwise a ValueError asking for a batch_size."""
        m, n_x = self.n_examples, self.n_features
        need = m * n_x * self.dtype.itemsize
        free = available_memory()
        if free is not None and need > FULL_BATCH_FRACTION * free:
            raise ValueError(
                f"{self.name}: its {m} examples take {need / 2**30:.1f} GiB as {self.dtype}, more "
                f"than half the {free / 2**30:.1f} GiB of memory available: too big for one full "
                "batch; give a batch_size (mini-batches are streamed)"
            )
        rows = np.empty((m, n_x), self.dtype)
        Ys, index, done = [], [], 0
        with closing_batches(self, np.arange(m), self._chunk()) as batches:
            for batch in batches:
                rows[done : done + batch.size] = batch.X.T
                Ys.append(batch.Y)
                index.append(batch.index)
                done += batch.size
        Y = None if Ys[0] is None else np.concatenate(Ys, axis=1)
        return StreamBatch(rows[:done].T, Y, index=np.concatenate(index))

    # ------------------------------------------------------------------ derived sources
    def subset(self, positions):
        """A source over the examples at `positions` of this one (in that order), sharing its
        file and settings: e.g. the two parts of a train / validation split."""
        positions = self._check_order(positions)
        new = copy.copy(self)
        new._index = self._file_rows(positions).astype(np.int64)
        return new

    def relabel(self, classes):
        """A source whose labels index `classes` (e.g. a model's), matched by class name;
        ValueError naming the classes of this source's examples that `classes` lacks."""
        if self._labels is None or self.classes is None:
            raise ValueError(f"{self.name}: has no class labels to renumber")
        classes = [str(c) for c in classes]
        present = [self.classes[k] for k in np.unique(self.labels)]
        unknown = [c for c in present if c not in classes]
        if unknown:
            raise ValueError(
                f"{self.name}: class(es) {unknown} are not among the model's classes {classes}"
            )
        mapping = np.array([classes.index(c) if c in classes else -1 for c in self.classes])
        new = copy.copy(self)
        new._labels, new.classes = mapping[self._labels], classes
        return new

    def fit_standardizer(self, batch_size=None):
        """Fit a Standardizer to this source's examples (after the 1/255 scaling) in one
        streaming pass in the data's order, use it from now on, and return it."""
        from .preprocessing import Standardizer

        plain = copy.copy(self)
        plain._standardizer = None
        standardizer = Standardizer()
        with closing_batches(plain, np.arange(self.n_examples), batch_size or self._chunk()) as b:
            for batch in b:
                standardizer.partial_fit(batch.X)
        self.standardizer = standardizer
        return standardizer

    def __repr__(self):
        return (f"{type(self).__name__}({self.name!r}, n_examples={self.n_examples}, "
                f"example_shape={self.image_shape}, dtype={self.dtype.name})")

    # ------------------------------------------------------------------ for subclasses
    @abc.abstractmethod
    def _batches(self, order, batch_size):
        """The StreamBatches of `order` (checked), batch_size examples each."""

    @abc.abstractmethod
    def images(self, positions):
        """The raw examples at `positions` (uint8 images), e.g. to show a few."""

    def _chunk(self):
        """Batches of about 32 MiB of floats, for passes in the data's order."""
        return max(1, min(self.n_examples, (32 << 20) // (self.n_features * self.dtype.itemsize)))

    def _check_order(self, order):
        order = np.asarray(order)
        m = self.n_examples
        if order.ndim != 1 or (order.size and order.dtype.kind not in "iu"):
            raise ValueError(f"an order must be a 1-D array of example positions; got shape "
                             f"{order.shape} of {order.dtype}")
        if order.size and (order.min() < 0 or order.max() >= m):
            raise ValueError(f"an order's positions must be in 0..{m - 1} for {m} examples; got "
                             f"{order.min()}..{order.max()}")
        return order.astype(np.int64, copy=False)

    def _file_rows(self, positions):
        return positions if self._index is None else self._index[positions]

    def _targets(self, positions):
        """Y (n_y, b) for the examples at `positions`, or None without labels or targets."""
        rows = self._file_rows(positions)
        if self._y is not None:
            return np.ascontiguousarray(self._y[rows].T, dtype=self.dtype)
        if self._labels is None:
            return None
        labels = self._labels[rows]
        if self.targets is not None:
            return np.ascontiguousarray(self.targets(labels), dtype=self.dtype)
        if len(self.classes) == 2:
            return labels[np.newaxis, :].astype(self.dtype)
        Y = np.zeros((len(self.classes), labels.size), self.dtype)
        Y[labels, np.arange(labels.size)] = 1
        return Y

    def _scaler(self):
        """A function raw rows (b, n_raw) -> the batch's float rows written into out (b, n_x):
        x / 255 for uint8 (as flatten_images), a cast for floats, then (x - mu) / sigma."""
        dtype, standardizer = self.dtype, self._standardizer
        shift = scale = None
        if standardizer is not None:
            shift = standardizer.mean_.astype(dtype).ravel()
            scale = standardizer.scale_.astype(dtype).ravel()
        uint8 = self.raw_dtype == np.uint8
        gray_to_rgb = self._gray_to_rgb

        def to_float(raw, out):
            if gray_to_rgb:  # each gray value as the 3 channels of its pixel
                raw = np.repeat(raw, 3, axis=1)
            if uint8:
                np.divide(raw, dtype.type(255), out=out, dtype=dtype)
            else:
                np.copyto(out, raw, casting="unsafe")
            if shift is not None:
                np.subtract(out, shift, out=out)
                np.divide(out, scale, out=out)
            return out

        return to_float

    def _as_images(self, raw):
        raw = raw.reshape(len(raw), *self.example_shape)
        return np.repeat(raw[..., np.newaxis], 3, axis=-1) if self._gray_to_rgb else raw


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
        self.read_buffer = check_int(read_buffer, "read_buffer", 1)
        self.prefetch = check_int(prefetch, "prefetch", 0)
        self.blas_threads = None if blas_threads is None else check_int(
            blas_threads, "blas_threads", 1)

    def _check_present(self):
        if not self.path.exists():
            raise FileNotFoundError(f"{self.path}: no such file (it was removed or renamed "
                                    "after the source was opened)")

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
        from .streams import BlockShuffle

        buffer_blocks = check_int(buffer_blocks, "buffer_blocks", 1)
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

    @abc.abstractmethod
    def _open(self):
        """A context giving a reader with read(start, stop, out) (rows [start, stop) into out)
        and will_need(starts, stops) (a hint that these ranges come next)."""


class HDF5Source(_FileArraySource):
    """Examples streamed from an HDF5 file: `x` a dataset of examples (m, ...) (uint8 images
    (m, h, w, 3), or float features (m, n)), `y` one of labels (m,) or targets (m, n_y).

    Without x and y, the file's one course-style `<prefix>_set_x` / `<prefix>_set_y` pair, with
    class names from `list_classes` (as `load_h5` reads it, and `mlpkit convert` writes it).
    classes: class names (else `list_classes`, else "0".."max"); targets: labels -> Y (n_y, b)
    (default: a 0/1 row for 2 classes, one-hot for more); rgb=True repeats grayscale images
    (m, h, w) over 3 channels; standardizer: a fitted `Standardizer` applied after the 1/255
    scaling. The file is checked here (shapes, dtypes, lengths: a clear ValueError before any
    training) and opened for each pass; reads are contiguous ranges (h5py `read_direct`, no
    chunk cache for uncompressed data, so memory does not grow with the file); read_buffer and
    prefetch as described in _FileArraySource."""

    def __init__(self, path, x=None, y=None, *, classes=None, targets=None, dtype=np.float64,
                 standardizer=None, rgb=False, read_buffer=READ_BUFFER, prefetch=0,
                 blas_threads=None):
        path = Path(path)
        with open_h5(path) as f:
            if x is None and y is None:
                prefix = course_prefix(f, path)
                x, y = f"{prefix}_set_x", f"{prefix}_set_y"
            elif x is None:
                raise ValueError("give x, the name of the dataset of examples")
            dx = _dataset(f, x, path)
            shape, raw_dtype = dx.shape, dx.dtype
            filtered = dx.chunks is not None and dx.id.get_create_plist().get_nfilters() > 0
            chunk_bytes = math.prod(dx.chunks) * raw_dtype.itemsize if dx.chunks else 0
            y_values = None if y is None else _read_all(_dataset(f, y, path), path, y)
            raw_classes = None
            if classes is None and isinstance(f.get("list_classes"), _h5_dataset()):
                raw_classes = _read_all(f["list_classes"], path, "list_classes")
        _check_raw(shape, raw_dtype, path, x, images=False)
        labels = y_arr = None
        if y_values is not None:
            labels, classes, y_arr = _y_values(y_values, shape[0], path, x, y, raw_classes,
                                               classes)
        self.x, self.y = x, y
        # compressed chunks are decompressed whole: cache a few; raw chunks are read directly
        self._cache_bytes = min(64 << 20, max(1 << 20, 4 * chunk_bytes)) if filtered else 0
        super().__init__(path, shape[0], shape[1:], raw_dtype, labels=labels, classes=classes,
                         y=y_arr, targets=targets, dtype=dtype, standardizer=standardizer,
                         rgb=rgb, read_buffer=read_buffer, prefetch=prefetch,
                         blas_threads=blas_threads)

    @contextlib.contextmanager
    def _open(self):
        self._check_present()
        with open_h5(self.path, rdcc_nbytes=self._cache_bytes) as f:
            dataset = f.get(self.x)
            if not isinstance(dataset, _h5_dataset()):
                dataset = None  # gone, or a group now
            self._check_unchanged(getattr(dataset, "shape", None),
                                  getattr(dataset, "dtype", None), f"{self.x} ")
            yield _H5Reader(dataset, self.path, self.x)


def _h5_dataset():
    import h5py

    return h5py.Dataset


def _dataset(f, name, path):
    found = f.get(name)
    if not isinstance(found, _h5_dataset()):
        what = "a group" if found is not None else "no such dataset"
        raise ValueError(f"{path}: {name!r} is {what}; datasets present: {sorted(f.keys())}")
    return found


def _read_all(dataset, path, name):
    try:
        return dataset[()]
    except OSError as e:
        raise ValueError(f"{path}: cannot read {name} ({e})") from e


class _H5Reader:
    def __init__(self, dataset, path, name):
        self.dataset, self.path, self.name = dataset, path, name
        # HDF5 reads past the end of a truncated file as zeros: watch the file's size
        try:
            self.fd = dataset.file.id.get_vfd_handle()
            self.size = os.fstat(self.fd).st_size
        except (OSError, ValueError, TypeError, AttributeError):
            self.fd = None

    def will_need(self, starts, stops):
        """Ask the kernel to read these rows' bytes ahead (posix_fadvise WILLNEED), where the
        file's chunks (or its contiguous data) can be located; a hint only."""
        if self.fd is None or not hasattr(os, "posix_fadvise"):
            return
        try:
            for offset, length in self._extents(starts, stops):
                os.posix_fadvise(self.fd, offset, length, os.POSIX_FADV_WILLNEED)
        except (OSError, ValueError, TypeError, AttributeError, RuntimeError):
            return  # no chunk index (HDF5 < 1.10.5), or not a plain file: no hint

    def _extents(self, starts, stops):
        dataset = self.dataset
        row_bytes = dataset.dtype.itemsize * math.prod(dataset.shape[1:])
        if dataset.chunks is None:
            base = dataset.id.get_offset()
            if base is not None:
                for a, b in zip(starts, stops, strict=True):
                    yield base + int(a) * row_bytes, (int(b) - int(a)) * row_bytes
            return
        per_chunk = dataset.chunks[0]
        zeros = (0,) * (len(dataset.shape) - 1)
        first = -1
        for a, b in zip(starts, stops, strict=True):
            for chunk in range(max(int(a) // per_chunk, first + 1), (int(b) - 1) // per_chunk + 1):
                info = dataset.id.get_chunk_info_by_coord((chunk * per_chunk, *zeros))
                if info.byte_offset is not None:
                    yield info.byte_offset, info.size
                first = chunk

    def read(self, start, stop, out):
        if self.fd is not None and os.fstat(self.fd).st_size < self.size:
            raise OSError(f"{self.path}: the file was truncated during training (it has "
                          f"{os.fstat(self.fd).st_size} bytes, it had {self.size})")
        try:
            self.dataset.read_direct(out, np.s_[start:stop])
        except OSError as e:
            raise OSError(
                f"{self.path}: cannot read {self.name} rows {start}..{stop - 1} ({e}); was the "
                "file truncated or changed during training?"
            ) from e


class NpySource(_FileArraySource):
    """Examples streamed from a `.npy` file through a memory map (np.load(mmap_mode="r")):
    uint8 images (m, h, w, 3) or float features (m, n). y: labels (m,) or targets (m, n_y), as
    an array or a `.npy` path (read whole: it is small). Options as HDF5Source's.

    The mapped pages a pass touches count in the process's RSS as shared, file-backed memory
    (page cache the kernel reclaims under pressure); the mapping is dropped after each pass.
    The file's size is checked before each read, so a file truncated during training stops it
    with an OSError; but one truncated while a read is copying from the map kills the process
    (SIGBUS, as for any memory map): use HDF5Source for files that may change under you."""

    def __init__(self, x, y=None, *, classes=None, targets=None, dtype=np.float64,
                 standardizer=None, rgb=False, read_buffer=READ_BUFFER, prefetch=0,
                 blas_threads=None):
        path = Path(x)
        mapped = _memory_map(path)
        shape, raw_dtype = mapped.shape, mapped.dtype
        del mapped
        _check_raw(shape, raw_dtype, path, "the array", images=False)
        labels = y_arr = None
        if y is not None:
            y_name = "y"
            if isinstance(y, (str, os.PathLike)):
                y_name = str(y)
                if not Path(y).exists():
                    raise FileNotFoundError(f"{y}: no such file (y, the labels or targets)")
                try:
                    y = np.load(y, allow_pickle=False)
                except (OSError, ValueError) as e:
                    raise ValueError(f"{y}: not a readable .npy file ({e})") from e
            labels, classes, y_arr = _y_values(y, shape[0], path, "the array", y_name, None,
                                               classes)
        super().__init__(path, shape[0], shape[1:], raw_dtype, labels=labels, classes=classes,
                         y=y_arr, targets=targets, dtype=dtype, standardizer=standardizer,
                         rgb=rgb, read_buffer=read_buffer, prefetch=prefetch,
                         blas_threads=blas_threads)

    @contextlib.contextmanager
    def _open(self):
        self._check_present()
        with open(self.path, "rb") as f:  # the mapped file's size, checked before each read
            mapped = _memory_map(self.path)
            self._check_unchanged(mapped.shape, mapped.dtype)
            try:
                yield _NpyReader(mapped, f.fileno(), self.path)
            finally:
                del mapped


def _memory_map(path):
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as e:
        hint = "; is it truncated?" if "greater than file size" in str(e) else ""
        raise ValueError(f"{path}: not a readable .npy file ({e}){hint}") from e


class _NpyReader:
    def __init__(self, mapped, fd, path):
        self.mapped, self.fd, self.path = mapped, fd, path
        self.size = mapped.offset + mapped.nbytes

    def will_need(self, starts, stops):
        """Ask the kernel to read these rows' bytes ahead (posix_fadvise WILLNEED)."""
        if not hasattr(os, "posix_fadvise"):
            return
        row_bytes = self.mapped.nbytes // max(1, len(self.mapped))
        for a, b in zip(starts, stops, strict=True):
            os.posix_fadvise(self.fd, self.mapped.offset + int(a) * row_bytes,
                             (int(b) - int(a)) * row_bytes, os.POSIX_FADV_WILLNEED)

    def read(self, start, stop, out):
        # reading a mapped page past the end of a truncated file would crash (SIGBUS)
        if os.fstat(self.fd).st_size < self.size:
            raise OSError(f"{self.path}: the file was truncated during training (it has "
                          f"{os.fstat(self.fd).st_size} bytes, the array needs {self.size})")
        out[...] = self.mapped[start:stop]


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
        from .images import _check_size

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
        self.workers = cpu_count() if workers is None else check_int(workers, "workers", 0)
        self.prefetch = (2 * self.workers if prefetch is None
                         else check_int(prefetch, "prefetch", 1))
        if blas_threads == "auto":
            blas_threads = max(1, cpu_count() - self.workers) if self.workers else None
        self.blas_threads = None if blas_threads is None else check_int(
            blas_threads, "blas_threads", 1)
        self.strict = bool(strict)
        import warnings

        self.warn = warnings.warn if warn is None else warn
        self._warned = set()  # files already reported (shared by subsets)
        size = self.image_size
        super().__init__(name, len(self.paths), (size, size, 3), np.uint8, labels=labels,
                         classes=classes, targets=targets, dtype=dtype, standardizer=standardizer)

    def images(self, positions):
        """The images at `positions`, decoded (uint8 (k, s, s, 3)), e.g. to show a few."""
        from .images import _read_image

        rows = self._file_rows(self._check_order(positions))
        return np.stack([_read_image(self.paths[r], self.image_size) for r in rows])

    def decoded(self, order, batch_size):
        """(uint8 images (b, s, s, 3), positions) for the examples of `order`, batch by batch,
        without the float scaling (e.g. to store them); unreadable files are left out."""
        order = self._check_order(order)
        batch_size = check_int(batch_size, "batch_size", 1)
        for raw, _, positions in self._pipeline(order, batch_size, floats=False):
            yield raw, positions

    def _batches(self, order, batch_size):
        for _, X_rows, positions in self._pipeline(order, batch_size, floats=True):
            yield StreamBatch(X_rows.T, self._targets(positions), index=positions)

    def _pipeline(self, order, batch_size, floats):
        """(uint8 images, float rows or None, positions kept) per batch of `order`."""
        from .images import _read_image

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
        from .images import list_image_folder

        self.folder = Path(folder)
        classes, files = list_image_folder(self.folder)
        paths = [p for c in classes for p in files[c]]
        labels = np.repeat(np.arange(len(classes)), [len(files[c]) for c in classes])
        super().__init__(paths, labels, classes, image_size, name=str(self.folder), **options)


def open_source(path, image_size=64, *, workers=None, strict=False, warn=None, **options):
    """The streaming source for DATA as `mlpkit` reads it: a folder of class folders
    (ImageFolderSource), a `.npy` file (NpySource) or a course-style HDF5 file (HDF5Source,
    grayscale images as RGB unless rgb=False); options go to the source."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or directory")
    if path.is_dir():
        return ImageFolderSource(path, image_size, workers=workers, strict=strict, warn=warn,
                                 **options)
    if path.suffix.lower() == ".npy":
        return NpySource(path, **options)
    options.setdefault("rgb", True)
    return HDF5Source(path, **options)
