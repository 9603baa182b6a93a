"""The files the `mlpkit` commands read and write besides the data: model files to load, output
files checked before long work."""

from __future__ import annotations

import os
from pathlib import Path

from .cli_options import PROG


def check_writable(path, example):
    """The file `path` can be written later (checked before long work): not a folder, and its
    nearest existing folder writable. `example` is a file name to suggest."""
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
    """The ImageClassifier saved in `path` (by `mlpkit train`); ValueError for another model."""
    from ..io.model_files import load
    from .image_classifier import ImageClassifier

    model = load(path)
    if not isinstance(model, ImageClassifier):
        raise ValueError(
            f"{path}: holds a {type(model).__name__}, not an image classifier "
            f"(made by '{PROG} train')"
        )
    return model
