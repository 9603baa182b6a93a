"""The data of the `mlpkit` commands, prepared in one place: DATA (an HDF5 file or a folder of
class folders) opened as a source, its image size checked, at least 2 classes, a stratified
split held out; other labeled files checked and renumbered to its classes by name
(`StreamingSource.relabel`). Streamed as sources, or read into memory as (X, Y) in the
course's layout, with the values the sources stream."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .cli_options import IMAGE_SIZE
from .cli_output import warn


def check_square(shape, path):
    """shape (h, w, ...) of an image must be square."""
    if len(shape) < 2 or shape[0] != shape[1]:
        raise ValueError(f"{path}: images are {shape[0]}x{shape[1]}; mlpkit needs square images")


def check_image_size(size, expected, path, what="the model takes"):
    """The images' side `size` must be `expected`."""
    if size != expected:
        raise ValueError(f"{path}: holds {size}x{size} images but {what} {expected}x{expected} "
                         "images")


def open_images(path, image_size, strict, workers=None, **options):
    """DATA (an HDF5 file or class folders) as a streaming source of square images of pixels
    (integers 0..255, as the in-memory path takes them); folders are resized to image_size."""
    from ..data import open_source

    source = open_source(path, image_size, workers=workers, strict=strict, warn=warn, **options)
    if source.raw_dtype.kind not in "ui":
        raise ValueError(f"{path}: its images have dtype {source.raw_dtype}; expected uint8 "
                         "pixels in 0..255")
    check_square(source.image_shape, path)
    return source


def open_labeled(path, image_size, classes, strict, workers=None, **options):
    """Labeled DATA for a model of `image_size` and `classes`: a folder resized to it, an HDF5
    file's size checked, labels renumbered to `classes` by name."""
    source = open_images(path, image_size, strict, workers, **options)
    check_image_size(source.image_shape[0], image_size, path)
    return source.relabel(classes)


def open_for_model(path, model, strict, workers=None):
    """DATA as a streaming source for `model`: its image size and classes, scaled and
    standardized as the model does."""
    source = open_labeled(path, model.image_size, model.classes, strict, workers,
                          dtype=model.network.dtype, standardizer=None)
    source.standardizer = model.standardizer
    return source


def check_split(labels, classes, fraction, path, option, what):
    """A stratified split of `fraction` of the examples needs every present class on both
    sides: refuse one that cannot have it, naming the option."""
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


@dataclass
class Split:
    """A stratified share of DATA held out: `fraction`, drawn with `seed`; `option` and `what`
    name it in errors (e.g. "--validation-split", "validation split")."""

    fraction: float
    seed: int | None
    option: str
    what: str


@dataclass
class Prepared:
    """A run's data: `train` and the held-out `dev` (a split of DATA or a file) and `test`
    (None when not given), each a source (streamed) or (X (n_x, m), Y (n_y, m)) in memory."""

    classes: list
    size: int
    m: int
    streamed: bool
    train: object
    dev: object = None
    test: object = None
    dev_split: bool = False

    def n_examples(self, part):
        """Examples in `part` (a source or (X, Y))."""
        return part.n_examples if self.streamed else part[0].shape[1]


def prepare(path, *, image_size=None, strict=False, stream=False, workers=None, split=None,
            dev=None, test=None):
    """The data of a run on DATA `path`: images of `image_size` (a folder resized to it, else
    IMAGE_SIZE; an HDF5 file keeps its size, which must be `image_size` when given), at least
    2 classes, `split` (a Split) held out as the dev set or the file `dev`, and the file
    `test`, both renumbered to DATA's classes. stream: sources over the files; else arrays in
    memory. A folder is decoded by `workers` processes (default: one per CPU; loaded in memory,
    as `load_image_folder` does: the calling thread below POOL_MIN_IMAGES images)."""
    if not stream and workers is None and Path(path).is_dir():
        from ..data.images import POOL_MIN_IMAGES, list_image_folder

        small = sum(map(len, list_image_folder(path)[1].values())) < POOL_MIN_IMAGES
        workers = 0 if small else None
    source = open_images(path, image_size or IMAGE_SIZE, strict, workers)
    size = source.image_shape[0]
    if image_size and size != image_size:
        raise ValueError(f"{path}: holds {size}x{size} images but --image-size is {image_size}; "
                         "leave --image-size out to use the file's size")
    classes = source.classes
    if stream:
        labels, data = source.labels, source
    else:
        batch = source.full_batch()  # a folder's unreadable images are left out here
        labels, data = source.labels[batch.index], (batch.X.T, batch.Y)  # rows (m, n_x)
    if np.unique(labels).size < 2:
        raise ValueError(f"{path}: holds only one class ({classes[int(labels[0])]!r}); a "
                         "classifier needs at least 2")
    held = None
    if split is not None:
        from sklearn.model_selection import train_test_split

        check_split(labels, classes, split.fraction, path, split.option, split.what)
        kept, held = train_test_split(np.arange(labels.size), test_size=split.fraction,
                                      stratify=labels, random_state=split.seed)
        if stream:  # sorted: each part is read in the file's order, as near-contiguous ranges
            data, held = source.subset(np.sort(kept)), source.subset(np.sort(held))
        else:
            rows, Y = data
            data, held = (rows[kept].T, Y[:, kept]), (rows[held].T, Y[:, held])
    elif not stream:
        data = (data[0].T, data[1])

    def other(file):
        if file is None:
            return None
        labeled = open_labeled(file, size, classes, strict, workers)
        if stream:
            return labeled
        batch = labeled.full_batch()
        return batch.X, batch.Y

    prepared = Prepared(classes, size, 0, stream, data, held if held is not None else other(dev),
                        other(test), dev_split=held is not None)
    prepared.m = prepared.n_examples(data)
    return prepared
