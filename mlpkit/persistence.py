"""Model files: one `.npz` archive that `numpy.load(path, allow_pickle=False)` can read.

The archive holds the model's arrays (parameters, batch-norm running statistics, preprocessing
statistics) plus one string array, `mlpkit_header`, with JSON metadata: the file format and
its version, the mlpkit version, the model kind (its class name) and what the kind needs to
rebuild itself (architecture, class names, preprocessing). Loading never unpickles anything,
and the kind is looked up in an explicit registry, never imported by name from the file.
"""

from __future__ import annotations

import importlib
import json
import numbers
import zipfile
from pathlib import Path

import numpy as np

from .data import Standardizer, flatten_images
from .files import atomic_write
from .network import Network

FORMAT = "mlpkit-model"
FORMAT_VERSION = 1
HEADER = "mlpkit_header"

# model kind recorded in the file -> module of mlpkit defining that class; the estimators (and
# scikit-learn) are imported only when a model or file of theirs comes along
_KINDS = {
    "Network": "network",
    "ImageClassifier": "persistence",
    "MLPClassifier": "estimators",
    "MLPRegressor": "estimators",
}


class ModelFileError(ValueError):
    """A file that is not a readable mlpkit model (truncated, foreign, incompatible version)."""


# ---------------------------------------------------------------------------------------------
# Network <-> (meta, arrays)
# ---------------------------------------------------------------------------------------------


def network_to_state(net):
    """A Network as (meta, arrays): meta is JSON-serializable (architecture), arrays holds
    "param.<name>" for each parameter and "stat.<name>" for each running statistic."""
    init = net.init if isinstance(net.init, str) else getattr(net.init, "__name__", "custom")
    meta = {
        "layer_dims": [int(n) for n in net.layer_dims],
        "hidden_activations": list(net.hidden_activations),
        "output_activation": net.output_activation,
        "batch_norm": net.batch_norm,
        "init": init,
        "seed": int(net.seed) if isinstance(net.seed, numbers.Integral) else None,
    }
    arrays = {f"param.{k}": v for k, v in net.parameters.items()}
    arrays.update({f"stat.{k}": v for k, v in net.running_stats.items()})
    return meta, arrays


def network_from_state(meta, arrays):
    """The Network that `network_to_state` described; ModelFileError if meta or arrays don't
    fit together."""
    try:
        net = Network(
            meta["layer_dims"],
            hidden_activation=meta["hidden_activations"],
            output_activation=meta["output_activation"],
            init="zeros",  # the saved parameters replace these: no random draw
            seed=meta.get("seed"),
            batch_norm=meta.get("batch_norm", False),
        )
        net.init = meta.get("init")
        net.parameters = {k: _array(arrays, f"param.{k}") for k in net.parameters}
        stats = {}
        for k, v in net.running_stats.items():
            stat = _array(arrays, f"stat.{k}")
            if stat.shape != v.shape or stat.dtype.kind != "f":
                raise ValueError(f"array stat.{k} must be float with shape {v.shape}")
            stats[k] = stat.astype(net.dtype)
        net.running_stats = stats
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise ModelFileError(f"the network in the model file is inconsistent ({e})") from None
    return net


def _array(arrays, key):
    if key not in arrays:
        raise ValueError(f"array {key} is missing")
    return arrays[key]


# ---------------------------------------------------------------------------------------------
# ImageClassifier
# ---------------------------------------------------------------------------------------------


class ImageClassifier:
    """A Network plus what it needs to classify images: class names and preprocessing.

    images uint8 (m, s, s, 3) -> X = images.reshape(m, -1).T / 255 -> (X - mu) / sigma when a
    fitted Standardizer is given -> network. Two classes use one sigmoid unit (P(class 1)),
    more use softmax.
    """

    def __init__(self, network, classes, image_size, standardizer=None):
        self.network = network
        self.classes = [str(c) for c in classes]
        self.image_size = int(image_size)
        self.standardizer = standardizer
        expected = self.image_size * self.image_size * 3
        if network.layer_dims[0] != expected:
            raise ValueError(
                f"the network takes {network.layer_dims[0]} inputs; {self.image_size}x"
                f"{self.image_size} RGB images have {expected}"
            )
        n_y, _ = self.output_layer(len(self.classes))
        if len(self.classes) < 2 or network.layer_dims[-1] != n_y:
            raise ValueError(
                f"{len(self.classes)} classes need {n_y} output unit(s); the network has "
                f"{network.layer_dims[-1]}"
            )

    @staticmethod
    def output_layer(n_classes):
        """(units, activation) of the output layer for n_classes: one sigmoid unit for 2 classes,
        one softmax unit per class for more."""
        return (1, "sigmoid") if n_classes == 2 else (n_classes, "softmax")

    @classmethod
    def build(cls, classes, image_size, hidden=(), **network_options):
        """An untrained classifier: a Network from the image's pixels through the `hidden` layer
        sizes to the output layer the classes need; network_options go to Network."""
        n_y, activation = cls.output_layer(len(classes))
        network = Network([image_size * image_size * 3, *hidden, n_y],
                          output_activation=activation, **network_options)
        return cls(network, classes, image_size)

    def targets(self, labels):
        """Class indices (m,) -> Y for the network: 0/1 labels (1, m) for 2 classes, one-hot
        columns (n_classes, m) for more."""
        from sklearn.preprocessing import label_binarize

        Y = label_binarize(labels, classes=range(len(self.classes))).T
        return Y.astype(np.float64, order="C")

    def __repr__(self):
        return (f"ImageClassifier({self.network!r}, classes={self.classes}, "
                f"image_size={self.image_size})")

    def preprocess(self, images, dtype=np.float64):
        """uint8 images (m, s, s, 3) -> X (n_x, m): scaled to [0, 1], then standardized."""
        images = np.asarray(images)
        shape = (self.image_size, self.image_size, 3)
        if images.ndim != 4 or images.shape[1:] != shape:
            raise ValueError(
                f"images have shape {images.shape[1:]} but the model expects {shape} "
                f"({self.image_size}x{self.image_size} RGB)"
            )
        X = flatten_images(images, dtype)
        if self.standardizer is not None:
            X = self.standardizer.transform(X)
        return X

    def predict_proba(self, images):
        """P(class) for each image: (m, n_classes), rows sum to 1."""
        AL = self.network.predict_proba(self.preprocess(images, self.network.dtype))
        if AL.shape[0] == 1:
            AL = np.vstack([1 - AL, AL])
        return AL.T

    def predict(self, images):
        """Class indices (m,) (argmax of predict_proba)."""
        return self.predict_proba(images).argmax(axis=1)

    def _to_state(self):
        meta, arrays = network_to_state(self.network)
        state = {
            "network": meta,
            "classes": self.classes,
            "preprocessing": {
                "image_size": self.image_size,
                "channels": "RGB",
                "scale": 1 / 255,
                "standardize": self.standardizer is not None,
            },
        }
        if self.standardizer is not None:
            arrays["preprocessing.mean"] = self.standardizer.mean_
            arrays["preprocessing.var"] = self.standardizer.var_
            arrays["preprocessing.scale"] = self.standardizer.scale_
        return state, arrays

    @classmethod
    def _from_state(cls, meta, arrays):
        network = network_from_state(meta["network"], arrays)
        pre = meta["preprocessing"]
        standardizer = None
        if pre.get("standardize"):
            standardizer = Standardizer()
            n_x = network.layer_dims[0]
            for name in ("mean", "var", "scale"):
                value = _array(arrays, f"preprocessing.{name}")
                if value.shape != (n_x, 1) or value.dtype.kind != "f":
                    raise ValueError(f"array preprocessing.{name} must be float ({n_x}, 1)")
                setattr(standardizer, f"{name}_", value)
        return cls(network, meta["classes"], pre["image_size"], standardizer)


# ---------------------------------------------------------------------------------------------
# save / load
# ---------------------------------------------------------------------------------------------


def save(model, path, metadata=None):
    """Write `model` (a Network, an ImageClassifier or an mlpkit estimator) to the .npz file
    `path`, atomically (`files.atomic_write`); a missing parent folder is created.

    `metadata` is an optional JSON-serializable dict kept in the file (see `read_metadata`).
    Returns the path written.
    """
    kind = _kind_of(model)
    if metadata is not None and not isinstance(metadata, dict):
        raise TypeError(f"metadata must be a dict or None; got {type(metadata).__name__}")
    to_state, _ = _codec(kind)
    state, arrays = to_state(model)
    from . import __version__

    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "mlpkit_version": __version__,
        "kind": kind,
        "state": state,
        "metadata": metadata or {},
    }
    try:
        text = json.dumps(header, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise TypeError(f"the model state or metadata must be JSON-serializable ({e})") from None
    arrays = {k: np.asarray(v) for k, v in arrays.items()}
    for k, v in arrays.items():
        if v.dtype.hasobject:
            raise TypeError(f"array {k!r} holds Python objects; a model file holds numbers only")
    arrays[HEADER] = np.array(text)
    return atomic_write(path, lambda f: np.savez(f, **arrays))


def _kind_of(model):
    """The registered kind of `model` (a subclass of Network is saved as a plain Network)."""
    if isinstance(model, Network):
        return "Network"
    kind = type(model).__name__
    if kind in _KINDS and _kind_class(kind) is type(model):
        return kind
    raise TypeError(
        "save expects an mlpkit Network, ImageClassifier, MLPClassifier or MLPRegressor; "
        f"got {type(model).__name__}"
    )


def _kind_class(kind):
    return getattr(importlib.import_module(f".{_KINDS[kind]}", __package__), kind)


def _codec(kind):
    """(to_state(model), from_state(meta, arrays)) of a registered kind."""
    cls = _kind_class(kind)
    if cls is Network:  # Network's state functions live here, not on the class
        return network_to_state, network_from_state
    return cls._to_state, cls._from_state


def read_metadata(path):
    """The JSON header of the model file `path` (format, versions, kind, state, metadata)."""
    return _read(path, arrays=False)[0]


def load(path):
    """The model saved in `path` by `save`. Never unpickles: a file holding Python objects, a
    truncated or foreign file, or one from an incompatible format raises ModelFileError."""
    header, arrays = _read(path, arrays=True)
    kind, state = header["kind"], header["state"]
    if kind not in _KINDS:
        raise ModelFileError(f"{path}: unknown model kind {kind!r}")
    _, from_state = _codec(kind)
    try:
        return from_state(state, arrays)
    except ModelFileError as e:
        raise ModelFileError(f"{path}: {e}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise ModelFileError(
            f"{path}: the {kind} in the model file is inconsistent ({e})"
        ) from None


def _read(path, arrays):
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such model file")
    if path.is_dir():
        raise ModelFileError(f"{path}: is a directory, not a model file")
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as f:
            zip_start = f.read(4) == b"PK\x03\x04"
        if zip_start:
            raise ModelFileError(f"{path}: truncated or damaged model file (incomplete .npz)")
        raise ModelFileError(f"{path}: not an mlpkit model file (not a .npz archive)")
    try:
        with np.load(path, allow_pickle=False) as npz:
            if HEADER not in npz.files:
                raise ModelFileError(
                    f"{path}: not an mlpkit model file (an .npz without an {HEADER} entry; "
                    "models are written by mlpkit.save or 'mlpkit train')"
                )
            header = _parse_header(path, npz[HEADER])
            data = {k: npz[k] for k in npz.files if k != HEADER} if arrays else None
    except ModelFileError:
        raise
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, RuntimeError) as e:
        # ValueError includes numpy's refusal of pickled object arrays
        raise ModelFileError(f"{path}: damaged or unsafe model file ({e})") from None
    return header, data


def _parse_header(path, value):
    if value.dtype.kind != "U" or value.ndim != 0:
        raise ModelFileError(f"{path}: {HEADER} is not a JSON string")
    try:
        header = json.loads(str(value))
    except ValueError as e:
        raise ModelFileError(f"{path}: {HEADER} is not valid JSON ({e})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ModelFileError(f"{path}: not an mlpkit model file (format is not {FORMAT!r})")
    version = header.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ModelFileError(f"{path}: invalid model format version {version!r}")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: model format version {version} (written by mlpkit "
            f"{header.get('mlpkit_version', '?')}) is newer than this mlpkit reads "
            f"(version {FORMAT_VERSION}); upgrade mlpkit"
        )
    if not isinstance(header.get("kind"), str) or not isinstance(header.get("state"), dict):
        raise ModelFileError(f"{path}: the model header lacks its kind or state")
    return header
