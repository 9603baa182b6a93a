"""The course's HDF5 data sets: one `<prefix>_set_x` / `<prefix>_set_y` pair per file (uint8
images (m, h, w, c), integer labels), and where the shared data lives."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


def _env_data_dir() -> Path:
    return Path(os.environ.get("MLPKIT_DATA", "../shared/data"))


def data_dir() -> Path:
    """Directory holding the shared data sets: $MLPKIT_DATA, default ../shared/data (from CWD).

    Returns
    -------
    folder : Path
        The folder, as given (relative paths are relative to the working directory); it is
        not checked to exist.
    """
    return _env_data_dir()



def _decode(name) -> str:
    return name.decode("utf-8") if isinstance(name, bytes) else str(name)


def open_h5(path, **options):
    """Open an HDF5 file for reading (an h5py.File; options go to it); FileNotFoundError or a
    ValueError naming the file."""
    import h5py

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        return h5py.File(path, "r", **options)
    except OSError as e:
        raise ValueError(f"{path}: not a readable HDF5 file ({e})") from e


def course_prefix(f, path) -> str:
    """The prefix of the one `<prefix>_set_x` / `<prefix>_set_y` pair in the open file `f`."""
    keys = sorted(f.keys())
    prefixes = [k[: -len("_set_x")] for k in keys if k.endswith("_set_x")]
    pairs = [p for p in prefixes if f"{p}_set_y" in f]
    if len(pairs) != 1:
        what = "no" if not pairs else "more than one"
        raise ValueError(
            f"{path}: expected exactly one '<prefix>_set_x' / '<prefix>_set_y' dataset pair "
            f"(e.g. train_set_x, train_set_y), found {what}; datasets present: {keys}"
        )
    return pairs[0]


def check_image_shape(shape, path, name):
    """Images (m, h, w, 3) RGB or (m, h, w) grayscale, at least one."""
    if len(shape) >= 1 and shape[0] == 0:
        raise ValueError(f"{path}: {name} is empty (0 images)")
    if not (len(shape) == 3 or (len(shape) == 4 and shape[-1] == 3)):
        raise ValueError(
            f"{path}: {name} has shape {tuple(shape)}; expected (m, h, w, 3) RGB "
            "or (m, h, w) grayscale images"
        )


def check_labels(y, m, path, x_name, y_name, raw_classes=None):
    """Labels (m,) or (1, m) of integers >= 0 -> (int64 labels (m,), class names): the decoded
    `raw_classes`, or "0".."max(y)" without them."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[0] == 1:
        y = y[0]
    if y.ndim != 1 or y.shape[0] != m:
        raise ValueError(
            f"{path}: {x_name} holds {m} images but {y_name} has shape {y.shape}; expected ({m},)"
        )
    if y.dtype == bool:
        y = y.astype(np.int64)
    if not np.issubdtype(y.dtype, np.number) or np.any(y != np.round(y)):
        raise ValueError(f"{path}: {y_name} must hold integer class labels")
    y = y.astype(np.int64)
    if y.min() < 0:
        raise ValueError(f"{path}: {y_name} holds negative labels")
    if raw_classes is None:
        classes = [str(i) for i in range(int(y.max()) + 1)]
    else:
        classes = [_decode(c) for c in np.atleast_1d(raw_classes)]
        if int(y.max()) >= len(classes):
            raise ValueError(
                f"{path}: label {int(y.max())} has no name in list_classes {classes}"
            )
    return y, classes


def load_h5(path) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Read a course-style HDF5 file holding one `<prefix>_set_x` / `<prefix>_set_y` pair.

    Returns (X, Y, classes): X the raw uint8 images (m, h, w, c) or (m, h, w) for grayscale,
    Y int64 labels (m,), classes the decoded `list_classes` (or "0".."max(Y)" if absent).

    Parameters
    ----------
    path : str or Path
        The HDF5 file, e.g. the course's ``train_catvnoncat.h5``.

    Returns
    -------
    X : ndarray of shape (m, h, w, c) or (m, h, w), uint8
        The images, pixels in 0..255 as stored.
    Y : ndarray of shape (m,), int64
        The labels, each in 0..len(classes)-1.
    classes : list of str
        The class names.

    Raises
    ------
    FileNotFoundError
        If `path` does not exist.
    ValueError
        If the file is not HDF5, holds no single `<prefix>_set_x` / `<prefix>_set_y` pair,
        or its images, labels or pixel values do not have the shapes and ranges above; the
        message names the file and the dataset.
    """
    path = Path(path)
    with open_h5(path) as f:
        prefix = course_prefix(f, path)
        try:
            x = np.asarray(f[f"{prefix}_set_x"][()])
            y = np.asarray(f[f"{prefix}_set_y"][()])
            raw_classes = f["list_classes"][()] if "list_classes" in f else None
        except (OSError, TypeError, AttributeError) as e:
            # TypeError/AttributeError: a group instead of a dataset under one of the names.
            raise ValueError(f"{path}: cannot read the {prefix} datasets ({e})") from e

    check_image_shape(x.shape, path, f"{prefix}_set_x")
    y, classes = check_labels(y, x.shape[0], path, f"{prefix}_set_x", f"{prefix}_set_y",
                              raw_classes)
    if x.dtype != np.uint8:
        if not np.issubdtype(x.dtype, np.integer) or x.min() < 0 or x.max() > 255:
            raise ValueError(
                f"{path}: {prefix}_set_x has dtype {x.dtype}; expected uint8 pixels in 0..255"
            )
        x = x.astype(np.uint8)
    return x, y, classes


def load_cat_data(data_dir=None):
    """Cat vs non-cat data exactly as the course's `load_data()` returns it.

    Returns (train_x, train_y, test_x, test_y, classes): uint8 images (m, 64, 64, 3) and
    labels of shape (1, m); files train_catvnoncat.h5 / test_catvnoncat.h5 in `data_dir`
    (default: $MLPKIT_DATA or ../shared/data, see `data_dir()`).

    Parameters
    ----------
    data_dir : str or Path, optional
        The folder holding the two files.

    Returns
    -------
    train_x, test_x : ndarray of shape (m, 64, 64, 3), uint8
        209 training and 50 test images.
    train_y, test_y : ndarray of shape (1, m), int64
        Their labels: 1 for a cat.
    classes : list of str
        ``["non-cat", "cat"]``.

    Raises
    ------
    FileNotFoundError, ValueError
        As `load_h5`, for either file.
    """
    folder = _env_data_dir() if data_dir is None else Path(data_dir)
    train_x, train_y, classes = load_h5(folder / "train_catvnoncat.h5")
    test_x, test_y, _ = load_h5(folder / "test_catvnoncat.h5")
    return train_x, train_y.reshape(1, -1), test_x, test_y.reshape(1, -1), classes
