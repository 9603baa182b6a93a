"""The course's HDF5 data sets: one `<prefix>_set_x` / `<prefix>_set_y` pair per file (uint8
images (m, h, w, c), integer labels), and where the shared data lives."""

from __future__ import annotations

import os
from pathlib import Path

import h5py
import numpy as np


def _env_data_dir() -> Path:
    return Path(os.environ.get("MLPKIT_DATA", "../shared/data"))


def data_dir() -> Path:
    """Directory holding the shared data sets: $MLPKIT_DATA, default ../shared/data (from CWD)."""
    return _env_data_dir()



def _decode(name) -> str:
    return name.decode("utf-8") if isinstance(name, bytes) else str(name)


def load_h5(path) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Read a course-style HDF5 file holding one `<prefix>_set_x` / `<prefix>_set_y` pair.

    Returns (X, Y, classes): X the raw uint8 images (m, h, w, c) or (m, h, w) for grayscale,
    Y int64 labels (m,), classes the decoded `list_classes` (or "0".."max(Y)" if absent).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise ValueError(f"{path}: not a readable HDF5 file ({e})") from e
    with f:
        keys = sorted(f.keys())
        prefixes = [k[: -len("_set_x")] for k in keys if k.endswith("_set_x")]
        pairs = [p for p in prefixes if f"{p}_set_y" in f]
        if len(pairs) != 1:
            what = "no" if not pairs else "more than one"
            raise ValueError(
                f"{path}: expected exactly one '<prefix>_set_x' / '<prefix>_set_y' dataset pair "
                f"(e.g. train_set_x, train_set_y), found {what}; datasets present: {keys}"
            )
        prefix = pairs[0]
        try:
            x = np.asarray(f[f"{prefix}_set_x"][()])
            y = np.asarray(f[f"{prefix}_set_y"][()])
            raw_classes = f["list_classes"][()] if "list_classes" in f else None
        except (OSError, TypeError, AttributeError) as e:
            # TypeError/AttributeError: a group instead of a dataset under one of the names.
            raise ValueError(f"{path}: cannot read the {prefix} datasets ({e})") from e

    if x.ndim >= 1 and x.shape[0] == 0:
        raise ValueError(f"{path}: {prefix}_set_x is empty (0 images)")
    if not (x.ndim == 3 or (x.ndim == 4 and x.shape[-1] == 3)):
        raise ValueError(
            f"{path}: {prefix}_set_x has shape {x.shape}; expected (m, h, w, 3) RGB "
            "or (m, h, w) grayscale images"
        )
    if y.ndim == 2 and y.shape[0] == 1:
        y = y[0]
    if y.ndim != 1 or y.shape[0] != x.shape[0]:
        raise ValueError(
            f"{path}: {prefix}_set_x holds {x.shape[0]} images but {prefix}_set_y has shape "
            f"{y.shape}; expected ({x.shape[0]},)"
        )
    if x.dtype != np.uint8:
        if not np.issubdtype(x.dtype, np.integer) or x.min() < 0 or x.max() > 255:
            raise ValueError(
                f"{path}: {prefix}_set_x has dtype {x.dtype}; expected uint8 pixels in 0..255"
            )
        x = x.astype(np.uint8)
    if y.dtype == bool:
        y = y.astype(np.int64)
    if not np.issubdtype(y.dtype, np.number) or np.any(y != np.round(y)):
        raise ValueError(f"{path}: {prefix}_set_y must hold integer class labels")
    y = y.astype(np.int64)
    if y.min() < 0:
        raise ValueError(f"{path}: {prefix}_set_y holds negative labels")

    if raw_classes is None:
        classes = [str(i) for i in range(int(y.max()) + 1)]
    else:
        classes = [_decode(c) for c in np.atleast_1d(raw_classes)]
        if int(y.max()) >= len(classes):
            raise ValueError(
                f"{path}: label {int(y.max())} has no name in list_classes {classes}"
            )
    return x, y, classes


def load_cat_data(data_dir=None):
    """Cat vs non-cat data exactly as the course's `load_data()` returns it.

    Returns (train_x, train_y, test_x, test_y, classes): uint8 images (m, 64, 64, 3) and
    labels of shape (1, m); files train_catvnoncat.h5 / test_catvnoncat.h5 in `data_dir`
    (default: $MLPKIT_DATA or ../shared/data, see `data_dir()`).
    """
    folder = _env_data_dir() if data_dir is None else Path(data_dir)
    train_x, train_y, classes = load_h5(folder / "train_catvnoncat.h5")
    test_x, test_y, _ = load_h5(folder / "test_catvnoncat.h5")
    return train_x, train_y.reshape(1, -1), test_x, test_y.reshape(1, -1), classes
