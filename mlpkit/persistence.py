"""Model files: one `.npz` archive that `numpy.load(path, allow_pickle=False)` can read.

The archive holds the model's arrays (parameters, batch-norm running statistics, preprocessing
statistics) plus one string array, `mlpkit_header`, with JSON metadata: the file format and
its version, the mlpkit version, the model kind (its class name) and what the kind needs to
rebuild itself (architecture, class names, preprocessing). Loading never unpickles anything,
and the kind is looked up in an explicit registry, never imported by name from the file.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import numbers
import os
import uuid
import zipfile
from pathlib import Path

import numpy as np

from .data import Standardizer, flatten_images
from .initializers import INITIALIZERS
from .network import Network

FORMAT = "mlpkit-model"
FORMAT_VERSION = 1
HEADER = "mlpkit_header"

# model kind recorded in the file -> module of mlpkit defining it (with _to_state/_from_state)
_STATE_KINDS = {"MLPClassifier": "estimators", "MLPRegressor": "estimators"}


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
        "dtype": str(net.dtype),
    }
    arrays = {f"param.{k}": v for k, v in net.parameters.items()}
    arrays.update({f"stat.{k}": v for k, v in net.running_stats.items()})
    return meta, arrays


def network_from_state(meta, arrays):
    """The Network that `network_to_state` described; ModelFileError if meta or arrays don't
    fit together."""
    try:
        init = meta.get("init")
        net = Network(
            meta["layer_dims"],
            hidden_activation=meta["hidden_activations"],
            output_activation=meta["output_activation"],
            init=init if init in INITIALIZERS else "zeros",
            seed=meta.get("seed"),
            batch_norm=meta.get("batch_norm", False),
        )
        net.init = init
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
        n_y = 1 if len(self.classes) == 2 else len(self.classes)
        if len(self.classes) < 2 or network.layer_dims[-1] != n_y:
            raise ValueError(
                f"{len(self.classes)} classes need {n_y} output unit(s); the network has "
                f"{network.layer_dims[-1]}"
            )

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
    `path`, atomically: a temporary file in the same folder, fsync, then os.replace.

    `metadata` is an optional JSON-serializable dict kept in the file (see `read_metadata`).
    Returns the path written.
    """
    if isinstance(model, Network):
        kind = "Network"
        state, arrays = network_to_state(model)
    elif isinstance(model, ImageClassifier) or type(model).__name__ in _STATE_KINDS:
        kind = type(model).__name__
        if not hasattr(model, "_to_state"):
            raise TypeError(f"a {kind} cannot be saved (no _to_state)")
        state, arrays = model._to_state()
    else:
        raise TypeError(
            "save expects an mlpkit Network, ImageClassifier, MLPClassifier or MLPRegressor; "
            f"got {type(model).__name__}"
        )
    if metadata is not None and not isinstance(metadata, dict):
        raise TypeError(f"metadata must be a dict or None; got {type(metadata).__name__}")
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
        raise TypeError(f"the model's metadata must be JSON-serializable ({e})") from None
    if HEADER in arrays:
        raise ValueError(f"array name {HEADER!r} is reserved for the header")
    arrays = {k: np.asarray(v) for k, v in arrays.items()}
    for k, v in arrays.items():
        if v.dtype.hasobject:
            raise TypeError(f"array {k!r} holds Python objects; a model file holds numbers only")
    arrays[HEADER] = np.array(text)
    return _write_atomic(Path(path), arrays)


def _write_atomic(path, arrays):
    """np.savez into a fresh temporary file beside `path`, fsync it, then rename over `path`."""
    if path.is_dir():
        raise IsADirectoryError(f"{path}: is a directory, not a model file path")
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "xb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return path


def _fsync_dir(folder):
    """Make the rename itself durable (POSIX; a no-op where folders can't be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def read_metadata(path):
    """The JSON header of the model file `path` (format, versions, kind, state, metadata)."""
    return _read(path, arrays=False)[0]


def load(path):
    """The model saved in `path` by `save`. Never unpickles: a file holding Python objects, a
    truncated or foreign file, or one from an incompatible format raises ModelFileError."""
    header, arrays = _read(path, arrays=True)
    kind, state = header["kind"], header["state"]
    if kind == "Network":
        from_state = network_from_state
    elif kind == "ImageClassifier":
        from_state = ImageClassifier._from_state
    elif kind in _STATE_KINDS:
        module = importlib.import_module(f".{_STATE_KINDS[kind]}", __package__)
        from_state = getattr(module, kind)._from_state
    else:
        raise ModelFileError(f"{path}: unknown model kind {kind!r}")
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
