"""What the `mlpkit` commands share: the program name, usage errors, option types, warnings
and loading labeled images."""

from __future__ import annotations

import argparse
import math
import sys

import numpy as np

PROG = "mlpkit"

IMAGE_SIZE = 64


class UsageError(Exception):
    """Bad command-line usage found after parsing (exit status 2)."""


class Parser(argparse.ArgumentParser):
    """argparse with a one-line error message (no usage block) and exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


# ---------------------------------------------------------------------------------------------
# Option values
# ---------------------------------------------------------------------------------------------


def int_at_least(minimum):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {value}")
        return value

    return parse


def float_in(low, high=math.inf, low_open=True, high_open=True):
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        too_low = value <= low if low_open else value < low
        too_high = value >= high if high_open else value > high
        if not math.isfinite(value) or too_low or too_high:
            lo, hi = "(" if low_open else "[", ")" if high_open else "]"
            raise argparse.ArgumentTypeError(f"must be in {lo}{low:g}, {high:g}{hi}, got {text}")
        return value

    return parse


def hidden_sizes(text):
    """'20,7,5' -> (20, 7, 5); '' or 'none' -> () (no hidden layer: logistic regression)."""
    if text.strip().lower() in ("", "none"):
        return ()
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected layer sizes like 20,7,5 (positive integers, comma-separated), got {text!r}"
        ) from None
    if min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"every layer needs at least 1 unit, got {text!r}")
    return sizes


# ---------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------


def warn(message):
    """One warning line on stderr; above a running progress bar (tqdm's), not inside it."""
    line = f"{PROG}: warning: {message}"
    if "tqdm" in sys.modules:  # a bar may be running: tqdm.write keeps it intact
        from tqdm import tqdm

        tqdm.write(line, file=sys.stderr)
    else:
        print(line, file=sys.stderr)


def check_square(shape, path):
    """shape (h, w, ...) of an image must be square."""
    if len(shape) < 2 or shape[0] != shape[1]:
        raise ValueError(f"{path}: images are {shape[0]}x{shape[1]}; mlpkit needs square images")


def check_image_size(size, expected, path, what="the model takes"):
    """The images' side `size` must be `expected`."""
    if size != expected:
        raise ValueError(f"{path}: holds {size}x{size} images but {what} {expected}x{expected} "
                         "images")


def load_images(path, image_size, strict):
    """(images uint8 (m, s, s, 3), labels (m,), classes) from an HDF5 file or class folders;
    folders are resized to image_size, HDF5 images keep their stored size."""
    from ..data.images import load_dataset

    images, labels, classes, _ = load_dataset(path, image_size, strict=strict, warn=warn)
    if images.ndim == 3:  # grayscale HDF5 images
        images = np.repeat(images[..., np.newaxis], 3, axis=-1)
    check_square(images.shape[1:], path)
    return images, labels, classes


def load_labeled(path, image_size, model_classes, strict):
    """Images of `image_size` with labels renumbered to `model_classes` by class name."""
    images, labels, classes = load_images(path, image_size, strict)
    check_image_size(images.shape[1], image_size, path)
    present = [classes[k] for k in np.unique(labels)]
    unknown = [c for c in present if c not in model_classes]
    if unknown:
        raise ValueError(
            f"{path}: class(es) {unknown} are not among the model's classes {model_classes}"
        )
    index = np.array([model_classes.index(c) if c in model_classes else -1 for c in classes])
    return images, index[labels]


def open_images(path, image_size, strict, workers=None, **options):
    """DATA (an HDF5 file or class folders) as a streaming source of square images of pixels
    (integers 0..255, as the in-memory path takes them); folders are resized to image_size."""
    from ..data.sources import open_source

    source = open_source(path, image_size, workers=workers, strict=strict, warn=warn, **options)
    if source.raw_dtype.kind not in "ui":
        raise ValueError(f"{path}: its images have dtype {source.raw_dtype}; expected uint8 "
                         "pixels in 0..255")
    check_square(source.image_shape, path)
    return source


def open_labeled(path, model, strict, workers=None):
    """DATA as a streaming source for `model`: images of its size (a folder's resized, an HDF5
    file's checked), scaled and standardized as the model does, labels renumbered to its
    classes by name."""
    source = open_images(path, model.image_size, strict, workers,
                         dtype=model.network.dtype, standardizer=None)
    check_image_size(source.image_shape[0], model.image_size, path)
    source.standardizer = model.standardizer
    return source.relabel(model.classes)


def check_split(labels, classes, fraction, path, option, what):
    """A stratified split of `fraction` of the examples needs every present class on both
    sides: refuse one that cannot have it, naming the option."""
    import math

    counts = np.bincount(labels, minlength=len(classes))
    present = np.flatnonzero(counts)
    few = [classes[k] for k in present if counts[k] < 2]
    n_held = math.ceil(fraction * labels.size)
    if few or n_held < present.size or labels.size - n_held < present.size:
        raise ValueError(
            f"{path}: cannot hold out a stratified {what} of {fraction:g} from "
            f"{labels.size} images of {present.size} classes"
            + (f" (class(es) {few} have a single image)" if few else "")
            + f"; every class needs images on both sides: change {option} or add images"
        )


def check_writable(path, example):
    """The file `path` can be written later (checked before long work): not a folder, and its
    nearest existing folder writable. `example` is a file name to suggest."""
    import os
    from pathlib import Path

    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path}: is a directory; expected a file name such as {example}")
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise ValueError(f"{path}: cannot be written ({folder} is not a writable folder)")
    return path


def load_classifier(path):
    from ..io.model_files import load
    from .image_classifier import ImageClassifier

    model = load(path)
    if not isinstance(model, ImageClassifier):
        raise ValueError(
            f"{path}: holds a {type(model).__name__}, not an image classifier "
            f"(made by '{PROG} train')"
        )
    return model


def one_line(error):
    text = " ".join(str(error).split())
    return text or type(error).__name__
