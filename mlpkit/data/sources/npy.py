"""`NpySource`: examples streamed from a `.npy` file through a memory map (its size checked
before each read, the next window hinted to the kernel)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import numpy as np

from .files import _check_raw, _FileArraySource, _y_values


class NpySource(_FileArraySource):
    """Examples streamed from a `.npy` file through a memory map (np.load(mmap_mode="r")):
    uint8 images (m, h, w, 3) or float features (m, n). y: labels (m,) or targets (m, n_y), as
    an array or a `.npy` path (read whole: it is small). Options as HDF5Source's.

    The mapped pages a pass touches count in the process's RSS as shared, file-backed memory
    (page cache the kernel reclaims under pressure); the mapping is dropped after each pass.
    The file's size is checked before each read, so a file truncated during training stops it
    with an OSError; but one truncated while a read is copying from the map kills the process
    (SIGBUS, as for any memory map): use HDF5Source for files that may change under you.

    Parameters
    ----------
    x : str or Path
        The `.npy` file of examples: (m, h, w, 3) or (m, h, w) uint8 images, or (m, n) floats.
    y : array_like, str or Path, optional
        Labels (m,) or (1, m), or float targets (m, n_y); or a `.npy` file holding them.
    classes : list of str, optional
        The class names; default "0".."max(labels)".
    **options
        As HDF5Source's: targets, dtype, standardizer, rgb, read_buffer, prefetch,
        blas_threads.

    Raises
    ------
    FileNotFoundError
        If `x` (or the file `y`) does not exist.
    ValueError
        If a file is not a readable `.npy`, or the examples, labels or targets have the wrong
        shape, dtype or length.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     np.save(Path(tmp) / "x.npy", np.full((5, 2, 2, 3), 255, np.uint8))
    ...     source = NpySource(Path(tmp) / "x.npy", y=[0, 1, 0, 1, 1])
    ...     [batch] = source.batches([4, 0], batch_size=2)
    ...     source.n_examples, source.n_features, batch.X.shape, batch.Y, batch.index
    (5, 12, (12, 2), array([[1., 0.]]), array([4, 0]))
    """

    def __init__(self, x, y=None, *, classes=None, **options):
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
                         y=y_arr, **options)

    @contextlib.contextmanager
    def _reader(self):
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

