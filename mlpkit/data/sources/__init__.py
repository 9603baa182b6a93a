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

Modules: `base` (the common part), `files` (arrays in files read window by window), `hdf5`,
`npy`, `image_files`; `open_source` here picks one for a path as `mlpkit` reads it.
"""

from pathlib import Path

from .base import StreamBatch, StreamingSource
from .files import READ_BUFFER
from .hdf5 import HDF5Source
from .image_files import ImageFilesSource, ImageFolderSource, NoReadableImages
from .npy import NpySource

__all__ = ["READ_BUFFER", "HDF5Source", "ImageFilesSource", "ImageFolderSource", "NoReadableImages",
           "NpySource", "StreamBatch", "StreamingSource", "open_source"]


def open_source(path, image_size=64, *, workers=None, strict=False, warn=None, **options):
    """The streaming source for DATA as `mlpkit` reads it: a folder of class folders
    (ImageFolderSource), a `.npy` file (NpySource) or a course-style HDF5 file (HDF5Source,
    grayscale images as RGB unless rgb=False); options go to the source.

    Parameters
    ----------
    path : str or Path
        A folder of class folders, a `.npy` file, or (any other file) an HDF5 file.
    image_size : int, default 64
        For a folder: the side images are resized to.
    workers : int, optional
        For a folder: the decoding processes (default one per CPU).
    strict : bool, default False
        For a folder: an unreadable image raises instead of being skipped.
    warn : callable, optional
        For a folder: warn(message) reports a skipped image; default `warnings.warn`.
    **options
        Further keyword arguments of the source (e.g. dtype, standardizer, prefetch).

    Returns
    -------
    source : ImageFolderSource, NpySource or HDF5Source
        The source, checked but not yet read.

    Raises
    ------
    FileNotFoundError
        If `path` does not exist.
    ValueError
        If the source refuses the data (see each source).
    """
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
