"""The streaming sources' common part: `StreamingSource` (the examples' shape, labels or targets,
the per-batch scaling and standardization, subsets, relabelling, the streaming standardizer fit,
`full_batch`) and `StreamBatch`. The file formats live in the modules beside it."""

from __future__ import annotations

import abc
import copy
import math
from dataclasses import dataclass

import numpy as np

from ...training.batches import Batch, closing_batches
from ..checks import check_number
from ..streams import available_memory

FULL_BATCH_FRACTION = 0.5  # full_batch() refuses data above this fraction of free memory


@dataclass
class StreamBatch(Batch):
    """A mini-batch from a streaming source; `index` holds the positions (in the source) of
    its examples.

    Parameters
    ----------
    X : ndarray of shape (n_x, b)
        The examples, one per column (in a buffer the source reuses: copy it to keep it).
    Y : ndarray of shape (n_y, b) or None
        Their targets; None for a source without labels or targets.
    sample_weight : ndarray of shape (b,), optional
        Weights of the examples (the streaming sources give none).
    index : ndarray of shape (b,), int64
        The position in the source of each example.
    """

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
        batch_size = check_number(batch_size, "batch_size", integer=True, min_val=1)
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
        from ..preprocessing import Standardizer

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

