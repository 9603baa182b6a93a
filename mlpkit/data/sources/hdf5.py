"""`HDF5Source`: examples streamed from an HDF5 file (h5py `read_direct` of contiguous ranges,
the file's size watched, the next window hinted to the kernel from the chunk index)."""

from __future__ import annotations

import contextlib
import math
import os
from pathlib import Path

import numpy as np

from ..h5 import course_prefix, open_h5
from .files import _check_raw, _FileArraySource, _y_values


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
    chunk cache for uncompressed data, so memory does not grow with the file).

    Parameters
    ----------
    path : str or Path
        The HDF5 file.
    x : str, optional
        The name of the dataset of examples, (m, h, w, 3) or (m, h, w) uint8 images or (m, n)
        floats; default: the file's `<prefix>_set_x`.
    y : str, optional
        The name of the dataset of labels (m,) or (1, m), or of float targets (m, n_y);
        default: the file's `<prefix>_set_y` (when `x` is not given either), else none.
    classes : list of str, optional
        The class names; default the file's `list_classes`, else "0".."max(labels)".
    **options
        targets (labels -> Y (n_y, b)), dtype (float64 or float32), standardizer, rgb;
        read_buffer (bytes read per window, default 64 MiB), prefetch (batches read ahead by a
        thread, default 0), blas_threads (the BLAS cap while it reads).

    Attributes
    ----------
    n_examples : int
        m, the examples of this source.
    n_features : int
        n_x, the features of an example once flattened.
    classes : list of str or None
        The class names.

    Raises
    ------
    FileNotFoundError
        If `path` does not exist.
    ValueError
        If the file is not HDF5, a dataset is missing, or the examples, labels or targets
        have the wrong shape, dtype or length (the message names the file and the dataset).
    """

    def __init__(self, path, x=None, y=None, *, classes=None, **options):
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
                         y=y_arr, **options)

    @contextlib.contextmanager
    def _reader(self):
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

