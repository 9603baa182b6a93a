"""Data helpers: loading, preprocessing and small synthetic data sets.

Course notation throughout: a design matrix X has shape (n_x, m), one column per example, and
labels Y have shape (n_y, m). Image collections are kept as uint8 arrays (m, h, w, c) until
`flatten_images` turns them into columns.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
from PIL import Image, ImageOps

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp"})

# Resampling filter for resizing images; LANCZOS gives the least aliasing when shrinking photos.
RESAMPLE = Image.Resampling.LANCZOS

# Ground truth of make_house_prices: price (in 100k) = bias + weights . features + noise.
HOUSE_FEATURES = ("size_m2", "bedrooms", "wealth_index", "walkability")
HOUSE_PRICE_WEIGHTS = np.array([0.012, 0.15, 1.5, 0.006])
HOUSE_PRICE_BIAS = 0.4
HOUSE_PRICE_NOISE = 0.15


def _env_data_dir() -> Path:
    return Path(os.environ.get("MLPKIT_DATA", "../shared/data"))


def data_dir() -> Path:
    """Directory holding the shared data sets: $MLPKIT_DATA, default ../shared/data (from CWD)."""
    return _env_data_dir()


# ---------------------------------------------------------------------------------------------
# HDF5 (the course's format)
# ---------------------------------------------------------------------------------------------


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


def flatten_images(images, dtype=np.float64) -> np.ndarray:
    """Images (m, h, w, c) -> X of shape (h*w*c, m): `images.reshape(m, -1).T / 255`."""
    images = np.asarray(images)
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, got {dtype}")
    if images.ndim < 2:
        raise ValueError(f"expected images of shape (m, h, w[, c]), got shape {images.shape}")
    return images.reshape(images.shape[0], -1).T.astype(dtype) / dtype.type(255)


# ---------------------------------------------------------------------------------------------
# Image files
# ---------------------------------------------------------------------------------------------


def _read_image(path: Path, image_size: int) -> np.ndarray:
    """One image file -> uint8 (s, s, 3) RGB; raises ValueError naming the file if unreadable."""
    try:
        with Image.open(path) as img:
            img.load()
            img = ImageOps.exif_transpose(img)
            if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
                # Transparent pixels become white instead of whatever color they hide.
                rgba = img.convert("RGBA")
                img = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                img.alpha_composite(rgba)
            img = img.convert("RGB").resize((image_size, image_size), RESAMPLE)
            return np.asarray(img, dtype=np.uint8)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise ValueError(f"{path}: cannot read image ({e})") from e


def _check_size(image_size) -> int:
    if isinstance(image_size, bool) or not isinstance(image_size, (int, np.integer)):
        raise ValueError(f"image_size must be a positive int, got {image_size!r}")
    if image_size < 1:
        raise ValueError(f"image_size must be a positive int, got {image_size}")
    return int(image_size)


def load_image(path, image_size: int = 64) -> np.ndarray:
    """Load one image file as uint8 (s, s, 3) RGB, resized (stretched) to s = image_size.

    EXIF orientation is applied, transparency is composited on white, any mode becomes RGB;
    resampling is LANCZOS. Non-square images are stretched, not cropped.
    """
    image_size = _check_size(image_size)
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such image file")
    return _read_image(path, image_size)


def load_image_folder(path, image_size: int = 64, strict: bool = False,
                      warn: Callable[[str], object] | None = None):
    """Load a folder with one subfolder per class (sorted names) of image files.

    Returns (images uint8 (m, s, s, 3), labels int64 (m,), classes, paths). Files directly
    inside each class folder with extension jpg/jpeg/png/bmp/gif/webp (any case) are read as
    by `load_image`; hidden class folders (".name") are ignored. An unreadable file raises
    ValueError if `strict`, else it is skipped and reported through `warn(msg)`
    (default `warnings.warn`).
    """
    image_size = _check_size(image_size)
    root = Path(path)
    if not root.exists():
        raise FileNotFoundError(f"{root}: no such directory")
    if not root.is_dir():
        raise ValueError(f"{root}: not a directory (expected one subfolder per class)")
    warn = warnings.warn if warn is None else warn

    classes = sorted(d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    if len(classes) < 2:
        raise ValueError(
            f"{root}: found {len(classes)} class subfolder(s) {classes}; need at least 2 "
            "(one subfolder per class, images inside)"
        )
    files = {
        c: sorted(p for p in (root / c).iterdir()
                  if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
        for c in classes
    }
    if not any(files.values()):
        exts = "/".join(sorted(e[1:] for e in IMAGE_EXTENSIONS))
        raise ValueError(f"{root}: no image files ({exts}) in any of the class folders {classes}")

    images, labels, paths = [], [], []
    for label, c in enumerate(classes):
        for p in files[c]:
            try:
                images.append(_read_image(p, image_size))
            except ValueError as e:
                if strict:
                    raise
                warn(f"skipping {e}")
                continue
            labels.append(label)
            paths.append(str(p))

    if not images:
        raise ValueError(f"{root}: none of the image files could be read")
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=len(classes))
    empty = [c for c, n in zip(classes, counts, strict=True) if n == 0]
    if empty:
        raise ValueError(f"{root}: class folder(s) {empty} hold no readable images")
    return np.stack(images), np.asarray(labels, dtype=np.int64), classes, paths


def load_dataset(path, image_size: int = 64, strict: bool = False,
                 warn: Callable[[str], object] | None = None):
    """Load a class-folder directory or a course HDF5 file.

    Returns (images, labels (m,), classes, paths); paths is None for HDF5. HDF5 images are
    returned at their stored size, not resized to `image_size`: the caller compares.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or directory")
    if path.is_dir():
        return load_image_folder(path, image_size, strict=strict, warn=warn)
    x, y, classes = load_h5(path)
    return x, y, classes, None


# ---------------------------------------------------------------------------------------------
# Labels and preprocessing
# ---------------------------------------------------------------------------------------------


def one_hot(labels, n_classes: int | None = None) -> np.ndarray:
    """Int labels (m,) or (1, m) -> one-hot Y of shape (C, m) with Y[labels[i], i] = 1."""
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[0] == 1:
        labels = labels[0]
    if labels.ndim != 1:
        raise ValueError(f"labels must have shape (m,) or (1, m), got {labels.shape}")
    if labels.size and (not np.issubdtype(labels.dtype, np.number)
                        or np.any(labels != np.round(labels))):
        raise ValueError("labels must be integers")
    labels = labels.astype(np.int64)
    if labels.size and labels.min() < 0:
        raise ValueError(f"labels must be >= 0, got {labels.min()}")
    if n_classes is None:
        if not labels.size:
            raise ValueError("cannot infer n_classes from empty labels")
        n_classes = int(labels.max()) + 1
    if n_classes < 1:
        raise ValueError(f"n_classes must be >= 1, got {n_classes}")
    if labels.size and labels.max() >= n_classes:
        raise ValueError(f"label {labels.max()} out of range for n_classes={n_classes}")
    Y = np.zeros((n_classes, labels.size))
    Y[labels, np.arange(labels.size)] = 1.0
    return Y


def from_one_hot(Y) -> np.ndarray:
    """One-hot (or probability) matrix (C, m) -> int64 labels (m,) = argmax over classes."""
    Y = np.asarray(Y)
    if Y.ndim != 2 or Y.shape[0] < 1:
        raise ValueError(f"Y must have shape (C, m), got {Y.shape}")
    return np.argmax(Y, axis=0).astype(np.int64)


class Standardizer:
    """Per-feature standardization x := (x - mu) / sigma, statistics over examples (axis 1).

    `fit` learns mu = mean(X, axis=1) and sigma2 = var(X, axis=1) on the training set;
    `transform` applies exactly those statistics to any later data (dev/test), so every set
    goes through the same mapping. Constant features (sigma2 = 0) use sigma = 1 and map to 0.
    Output dtype follows X (float32 stays float32; integer input becomes float64).
    """

    def __init__(self):
        self.mean_: np.ndarray | None = None
        self.var_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None

    @staticmethod
    def _as_float(X) -> np.ndarray:
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(f"X must have shape (n_x, m), got {X.shape}")
        return X if np.issubdtype(X.dtype, np.floating) else X.astype(np.float64)

    def fit(self, X) -> Standardizer:
        """Learn mean_ and var_ (each (n_x, 1), float64) from X of shape (n_x, m)."""
        X = self._as_float(X)
        if X.shape[1] == 0:
            raise ValueError("cannot fit a Standardizer on 0 examples")
        if not np.all(np.isfinite(X)):
            raise ValueError("X contains NaN or infinite values")
        constant = np.ptp(X, axis=1, keepdims=True) == 0
        # Constant rows take their value as mean, so they map to exactly 0 (no rounding).
        self.mean_ = np.where(constant, X[:, :1], X.mean(axis=1, keepdims=True, dtype=np.float64))
        self.var_ = np.where(constant, 0.0, X.var(axis=1, keepdims=True, dtype=np.float64))
        self.scale_ = np.where(constant, 1.0, np.sqrt(self.var_))
        return self

    def transform(self, X) -> np.ndarray:
        """Return (X - mean_) / sqrt(var_) using the fitted (training) statistics."""
        if self.mean_ is None:
            raise ValueError("Standardizer is not fitted; call fit(X_train) first")
        X = self._as_float(X)
        if X.shape[0] != self.mean_.shape[0]:
            raise ValueError(
                f"X has {X.shape[0]} features, the Standardizer was fitted on {self.mean_.shape[0]}"
            )
        return (X - self.mean_.astype(X.dtype)) / self.scale_.astype(X.dtype)

    def fit_transform(self, X) -> np.ndarray:
        """fit(X) then transform(X)."""
        return self.fit(X).transform(X)


def horizontal_flip(images, labels):
    """Augment training images (m, h, w, c) with their mirror images (left-right flip).

    Returns (images + flipped copies, labels repeated): 2m examples. Labels may be (m,) or
    (1, m); they are concatenated along the example axis. Use on training data only.
    """
    images = np.asarray(images)
    labels = np.asarray(labels)
    if images.ndim not in (3, 4):
        raise ValueError(f"images must have shape (m, h, w, c), got {images.shape}")
    if labels.shape[-1:] != images.shape[:1]:
        raise ValueError(f"labels shape {labels.shape} does not match {images.shape[0]} images")
    flipped = images[:, :, ::-1, ...]
    return np.concatenate([images, flipped]), np.concatenate([labels, labels], axis=-1)


# ---------------------------------------------------------------------------------------------
# Synthetic data
# ---------------------------------------------------------------------------------------------


def make_flower(m: int = 400, noise: float = 0.2, seed: int = 1):
    """The course's planar "flower": two classes of m/2 points on the petals r = 4 sin(4t).

    Class j (0 or 1): t = linspace(3.12 j, 3.12 (j+1), N) + noise*randn(N),
    r = 4 sin(4t) + noise*randn(N), point (r sin t, r cos t). Returns X (2, m) and
    Y (1, m), both float64.
    """
    if m < 2 or m % 2:
        raise ValueError(f"m must be an even number >= 2, got {m}")
    rng = np.random.default_rng(seed)
    N, a = m // 2, 4
    X = np.zeros((2, m))
    Y = np.zeros((1, m))
    for j in range(2):
        t = np.linspace(j * 3.12, (j + 1) * 3.12, N) + rng.standard_normal(N) * noise
        r = a * np.sin(4 * t) + rng.standard_normal(N) * noise
        X[:, N * j:N * (j + 1)] = r * np.sin(t), r * np.cos(t)
        Y[0, N * j:N * (j + 1)] = j
    return X, Y


def make_house_prices(m: int = 200, seed: int = 0):
    """Synthetic house prices for linear-output regression. Returns X (4, m), Y (1, m).

    Features (rows, see HOUSE_FEATURES): size in m^2 ~ U(40, 250); bedrooms 1..6, about one
    per 40 m^2; zip-code wealth index ~ U(0, 1); walkability score ~ U(0, 100).
    Ground truth, price in units of 100k:
    y = HOUSE_PRICE_BIAS + HOUSE_PRICE_WEIGHTS . x + N(0, HOUSE_PRICE_NOISE^2).
    """
    if m < 1:
        raise ValueError(f"m must be >= 1, got {m}")
    rng = np.random.default_rng(seed)
    size = rng.uniform(40.0, 250.0, m)
    bedrooms = np.clip(np.round(size / 40.0 + rng.normal(0.0, 0.7, m)), 1, 6)
    wealth = rng.uniform(0.0, 1.0, m)
    walk = rng.uniform(0.0, 100.0, m)
    X = np.stack([size, bedrooms, wealth, walk])
    Y = HOUSE_PRICE_BIAS + HOUSE_PRICE_WEIGHTS @ X + rng.normal(0.0, HOUSE_PRICE_NOISE, m)
    return X, Y.reshape(1, m)
