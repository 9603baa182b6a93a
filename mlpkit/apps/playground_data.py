"""The playground's data sets: the course's planar sets, TensorFlow Playground's, and uploaded CSV
files, as (X (2, m), Y) in the course's layout with a dev set drawn beside the training set.

Imports no web framework: `mlpkit.apps.presets` (and so the examples) build their data here.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass

import numpy as np

from ..data import synthetic
from ..data.preprocessing import one_hot

MAX_CLASSES = 10
MAX_CSV_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class Dataset:
    """A generator make(m, noise, classes, rng) -> (X (2, m), Y (1, m) of class indices)."""

    title: str
    description: str
    make: object
    noise: float  # the default
    classes: tuple = (2, 2)  # the range of `classes` it can draw
    sklearn: bool = False  # seeds are scikit-learn's random_state: np.random.RandomState(seed)
    even: bool = False  # m must be even

    def to_dict(self, name):
        return {"name": name, "title": self.title, "description": self.description,
                "noise": self.noise, "min_classes": self.classes[0],
                "max_classes": self.classes[1], "even_points": self.even}


DATASETS = {
    "flower": Dataset(
        "the course's flower", "course 1, week 3 (planar_utils): two classes on the petals "
        "r = 4 sin(4t); 'course seeds' with seed 1 and 400 points is the course's own draw",
        lambda m, noise, classes, rng: synthetic.make_flower(m, noise, rng), 0.2, even=True),
    "noisy-circles": Dataset(
        "noisy circles", "planar_utils' extra set: scikit-learn's make_circles(factor=0.5)",
        lambda m, noise, classes, rng: synthetic.make_circles(m, noise, 0.5, rng), 0.3,
        sklearn=True),
    "circles": Dataset(
        "circles", "course 2, week 1 (initialization): scikit-learn's make_circles "
        "(factor 0.8, noise 0.05)",
        lambda m, noise, classes, rng: synthetic.make_circles(m, noise, 0.8, rng), 0.05,
        sklearn=True),
    "moons": Dataset(
        "moons", "the course's moons (optimization, regularization): scikit-learn's "
        "make_moons; seed 3 with 300 points and noise 0.2 is the optimization assignment's",
        lambda m, noise, classes, rng: synthetic.make_moons(m, noise, rng), 0.2, sklearn=True),
    "blobs": Dataset(
        "blobs", "planar_utils' extra set: 6 gaussian blobs (noise = their standard "
        "deviation), blob k labelled k mod classes",
        lambda m, noise, classes, rng: synthetic.make_blobs(m, classes, 6, noise, rng), 1.0,
        classes=(2, 6), sklearn=True),
    "gaussian-quantiles": Dataset(
        "gaussian quantiles", "planar_utils' extra set: one gaussian (covariance 0.5, "
        "noise unused) cut into shells of equal counts, one per class",
        lambda m, noise, classes, rng: synthetic.make_gaussian_quantiles(m, classes, 0.5, rng),
        0.0, classes=(2, MAX_CLASSES), sklearn=True),
    "xor": Dataset(
        "XOR", "TensorFlow Playground's: the label is the sign of x y; noise flips labels "
        "near the axes", lambda m, noise, classes, rng: synthetic.make_xor(m, noise, rng), 0.0),
    "spiral": Dataset(
        "spiral", "TensorFlow Playground's, with one arm per class",
        lambda m, noise, classes, rng: synthetic.make_spiral(m, noise, classes, rng), 0.0,
        classes=(2, MAX_CLASSES)),
    "gaussians": Dataset(
        "two gaussians", "TensorFlow Playground's: two gaussian clouds around (2, 2) and "
        "(-2, -2); noise widens them",
        lambda m, noise, classes, rng: synthetic.make_gaussians(m, noise, rng), 0.0),
}
CSV = "csv"


class SettingsError(ValueError):
    """A setting that cannot be used: `field` names it (as in the API's config)."""

    def __init__(self, field, message):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


def _seed(dataset, seed, course_rng):
    """scikit-learn's sets draw from RandomState(seed), as their random_state=seed does; the
    others from mlpkit's Generator, or from RandomState(seed) with the course's seeds."""
    return np.random.RandomState(seed) if dataset.sklearn or course_rng else seed


def make_data(settings):
    """((X, Y), (X_dev, Y_dev) or None, class names) for the data settings: `dataset`,
    `points` (training examples), `dev_points` (0: no dev set), `noise`, `classes`,
    `data_seed` (the dev set is drawn with data_seed + 1) and `course_rng`; or the uploaded
    `csv` ({"x": [[x1, x2], ...], "y": [class index, ...], "classes": [name, ...]}), whose dev
    set is `dev_points` examples taken at random (Generator(data_seed)). Y is (1, m) of 0/1
    for two classes, one-hot (C, m) for more."""
    name = settings["dataset"]
    if name == CSV:
        data = settings.get("csv")
        if not data:
            raise SettingsError("csv", "the csv data set needs the uploaded points")
        X = np.asarray(data["x"], dtype=np.float64).T
        labels = np.asarray(data["y"], dtype=np.int64)
        classes = [str(c) for c in data["classes"]]
        if settings["dev_points"] >= labels.size:
            raise SettingsError("dev_points", f"must be less than the file's {labels.size} "
                                "rows")
        order = np.random.default_rng(settings["data_seed"]).permutation(labels.size)
        train, dev = order[settings["dev_points"]:], order[:settings["dev_points"]]
        pairs = [(X[:, train], labels[train])]
        if dev.size:
            pairs.append((X[:, dev], labels[dev]))
    else:
        dataset = DATASETS[name]
        classes_n = settings["classes"]
        low, high = dataset.classes
        if not low <= classes_n <= high:
            allowed = f"{low}" if low == high else f"{low} to {high}"
            raise SettingsError("classes", f"the {name} data set has {allowed} classes; got "
                                f"{classes_n}")
        for field in ("points", "dev_points"):
            if dataset.even and settings[field] % 2:
                raise SettingsError(field, f"the {name} data set needs an even number of "
                                    f"points; got {settings[field]}")
        pairs = []
        for m, seed in ((settings["points"], settings["data_seed"]),
                        (settings["dev_points"], settings["data_seed"] + 1)):
            if m:
                X, Y = dataset.make(m, settings["noise"], classes_n,
                                    _seed(dataset, seed, settings["course_rng"]))
                pairs.append((X, Y[0].astype(np.int64)))
        classes = [str(k) for k in range(classes_n)]
    n = len(classes)
    out = [(X, one_hot(y, n) if n > 2 else y.reshape(1, -1).astype(np.float64))
           for X, y in pairs]
    return out[0], (out[1] if len(out) > 1 else None), classes


# --------------------------------------------------------------------------- CSV files


class CsvError(ValueError):
    """An unreadable CSV file; the message names the row and column."""


def _number(text):
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def parse_csv(data, max_rows):
    """{"x": [[x1, x2], ...], "y": [class index, ...], "classes": [name, ...], "header": [...]}
    from CSV bytes: two numeric feature columns, then a label column (any text; 2 to 10
    distinct labels, sorted). A first row whose features are not numbers is a header. Rows
    are counted from 1 as a spreadsheet shows them; CsvError names the row and column."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise CsvError(f"the file is not UTF-8 text (byte {e.start}); expected a CSV file "
                       "with two numeric columns and a label column") from None
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = csv.reader(io.StringIO(text), dialect)
    x, labels, header = [], [], None
    try:
        for number, row in enumerate(rows, 1):
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) != 3:
                raise CsvError(f"row {number}: {len(row)} columns; expected 3 (x1, x2, "
                               "label)")
            values = [_number(cell) for cell in row[:2]]
            if header is None and not x and values[0] is None and values[1] is None:
                header = [cell.strip() for cell in row]
                continue
            for column, (cell, value) in enumerate(zip(row, values, strict=False), 1):
                if value is None:
                    raise CsvError(f"row {number}, column {column}: {cell.strip()!r} is not a "
                                   "finite number")
            label = row[2].strip()
            if not label:
                raise CsvError(f"row {number}, column 3: the label is empty")
            if len(x) >= max_rows:
                raise CsvError(f"row {number}: more than {max_rows} rows; the playground "
                               f"takes at most {max_rows}")
            x.append(values)
            labels.append(label)
    except csv.Error as e:
        raise CsvError(f"row {rows.line_num}: not valid CSV ({e})") from None
    if len(x) < 4:
        raise CsvError(f"the file has {len(x)} data rows; expected at least 4")
    classes = sorted(set(labels), key=lambda c: (_number(c) is None, _number(c) or 0, c))
    if not 2 <= len(classes) <= MAX_CLASSES:
        raise CsvError(f"the label column (column 3) has {len(classes)} distinct values; "
                       f"expected 2 to {MAX_CLASSES} classes")
    index = {c: k for k, c in enumerate(classes)}
    return {"x": x, "y": [index[c] for c in labels], "classes": classes, "header": header}
