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
    print(f"{PROG}: warning: {message}", file=sys.stderr)


def load_images(path, image_size, strict):
    """(images uint8 (m, s, s, 3), labels (m,), classes) from an HDF5 file or class folders;
    folders are resized to image_size, HDF5 images keep their stored size."""
    from ..data.images import load_dataset

    images, labels, classes, _ = load_dataset(path, image_size, strict=strict, warn=warn)
    if images.ndim == 3:  # grayscale HDF5 images
        images = np.repeat(images[..., np.newaxis], 3, axis=-1)
    if images.shape[1] != images.shape[2]:
        raise ValueError(
            f"{path}: images are {images.shape[1]}x{images.shape[2]}; mlpkit needs square images"
        )
    return images, labels, classes


def load_labeled(path, image_size, model_classes, strict):
    """Images of `image_size` with labels renumbered to `model_classes` by class name."""
    images, labels, classes = load_images(path, image_size, strict)
    if images.shape[1] != image_size:
        s = images.shape[1]
        raise ValueError(
            f"{path}: holds {s}x{s} images but the model takes {image_size}x{image_size} images"
        )
    present = [classes[k] for k in np.unique(labels)]
    unknown = [c for c in present if c not in model_classes]
    if unknown:
        raise ValueError(
            f"{path}: class(es) {unknown} are not among the model's classes {model_classes}"
        )
    index = np.array([model_classes.index(c) if c in model_classes else -1 for c in classes])
    return images, index[labels]


def open_labeled(path, model, strict, workers=None):
    """DATA as a streaming source for `model`: images of its size (a folder's resized, an HDF5
    file's checked), scaled and standardized as the model does, labels renumbered to its
    classes by name."""
    from ..data.sources import open_source

    source = open_source(path, model.image_size, workers=workers, strict=strict, warn=warn,
                         dtype=model.network.dtype, standardizer=None)
    shape = source.image_shape
    if len(shape) != 3 or shape[0] != shape[1]:
        raise ValueError(f"{path}: images are {shape[0]}x{shape[1]}; mlpkit needs square images")
    if shape[0] != model.image_size:
        s = shape[0]
        raise ValueError(f"{path}: holds {s}x{s} images but the model takes "
                         f"{model.image_size}x{model.image_size} images")
    source.standardizer = model.standardizer
    return source.relabel(model.classes)


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
