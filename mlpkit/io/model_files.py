"""Model files: one `.npz` archive that `numpy.load(path, allow_pickle=False)` can read.

The archive holds the model's arrays (parameters, batch-norm running statistics, preprocessing
statistics, the training state's moments) plus one string array, `mlpkit_header`, with JSON
metadata: the file format and its version, the mlpkit version, the model kind (its class name)
and what the kind needs to rebuild itself (architecture, class names, preprocessing, the
training state, so that training resumes exactly). Loading never unpickles anything, and the
kind is looked up in an explicit registry, never imported by name from the file.
"""

from __future__ import annotations

import importlib
import io
import json
import numbers
import zipfile
from pathlib import Path

import numpy as np

from ..nn.backend import backend_for, to_numpy
from ..nn.network import Network
from ..training.state import TrainingState
from .files import atomic_write

FORMAT = "mlpkit-model"
FORMAT_VERSION = 1
HEADER = "mlpkit_header"

# model kind recorded in the file -> module of mlpkit defining that class; the estimators (and
# scikit-learn) are imported only when a model or file of theirs comes along
_KINDS = {
    "Network": "nn.network",
    "ImageClassifier": "apps.image_classifier",
    "MLPClassifier": "estimators",
    "MLPRegressor": "estimators",
}


class ModelFileError(ValueError):
    """A file that is not a readable mlpkit model (truncated, foreign, incompatible version)."""


# ---------------------------------------------------------------------------------------------
# Network <-> (meta, arrays)
# ---------------------------------------------------------------------------------------------


def network_to_state(net):
    """A Network as (meta, arrays): meta is JSON-serializable (architecture, and the training
    state when the network has one), arrays holds "param.<name>" for each parameter,
    "stat.<name>" for each running statistic and "training.<...>" for the training state's
    arrays (optimizer moments, the best epoch's parameters)."""
    init = net.init if isinstance(net.init, str) else getattr(net.init, "__name__", "custom")
    meta = {
        "layer_dims": [int(n) for n in net.layer_dims],
        "hidden_activations": list(net.hidden_activations),
        "output_activation": net.output_activation,
        "batch_norm": net.batch_norm,
        "init": init,
        "seed": int(net.seed) if isinstance(net.seed, numbers.Integral) else None,
    }
    # a network on a device is written from host copies (it loads on the host, or onto device=)
    arrays = {f"param.{k}": to_numpy(v) for k, v in net.parameters.items()}
    arrays.update({f"stat.{k}": to_numpy(v) for k, v in net.running_stats.items()})
    if net.training_state is not None:
        meta["training"], training_arrays = net.training_state.to_arrays("training")
        arrays.update(training_arrays)
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
        if meta.get("training") is not None:
            net.training_state = TrainingState.from_arrays(meta["training"], arrays)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise ModelFileError(f"the network in the model file is inconsistent ({e})") from None
    return net


def _array(arrays, key):
    if key not in arrays:
        raise ValueError(f"array {key} is missing")
    return arrays[key]


# ---------------------------------------------------------------------------------------------
# save / load
# ---------------------------------------------------------------------------------------------


def save(model, path, metadata=None):
    """Write `model` (a Network, an ImageClassifier or an mlpkit estimator) to the .npz file
    `path`, atomically (`files.atomic_write`); a missing parent folder is created.

    Parameters
    ----------
    model : Network, ImageClassifier, MLPClassifier or MLPRegressor
        The model; a Network's training state (when it has one) is saved with it.
    path : str or Path
        The file to write (conventionally `.npz`).
    metadata : dict, optional
        JSON-serializable data kept in the file (see `read_metadata`).

    Returns
    -------
    path : Path
        The path written.

    Raises
    ------
    TypeError
        If `model` is not of a kind above, or `metadata` is not a JSON-serializable dict.

    Examples
    --------
    >>> import tempfile
    >>> net = Network([3, 4, 1], seed=0)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = save(net, Path(tmp) / "model.npz", metadata={"note": "demo"})
    ...     loaded = load(path)
    ...     read_metadata(path)["metadata"]
    {'note': 'demo'}
    >>> loaded.layer_dims, np.array_equal(loaded.parameters["W1"], net.parameters["W1"])
    ([3, 4, 1], True)
    """
    arrays = _file_arrays(model, metadata)
    return atomic_write(path, lambda f: np.savez(f, **arrays))


def save_bytes(model, metadata=None):
    """The bytes `save` would write, made in memory (for a download)."""
    buffer = io.BytesIO()
    np.savez(buffer, **_file_arrays(model, metadata))
    return buffer.getvalue()


def _file_arrays(model, metadata):
    kind = _kind_of(model)
    if metadata is not None and not isinstance(metadata, dict):
        raise TypeError(f"metadata must be a dict or None; got {type(metadata).__name__}")
    to_state, _ = _codec(kind)
    state, arrays = to_state(model)
    from .. import __version__

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
    return arrays


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
    return getattr(importlib.import_module(f"mlpkit.{_KINDS[kind]}"), kind)


def _codec(kind):
    """(to_state(model), from_state(meta, arrays)) of a registered kind."""
    cls = _kind_class(kind)
    if cls is Network:  # Network's state functions live here, not on the class
        return network_to_state, network_from_state
    return cls._to_state, cls._from_state


def read_metadata(path):
    """The JSON header of the model file `path` (format, versions, kind, state, metadata).

    The arrays are not read, so this is cheap even for a big model.

    Parameters
    ----------
    path : str or Path
        A model file written by `save`.

    Returns
    -------
    header : dict
        "format", "format_version", "mlpkit_version", "kind" (the model's class name),
        "state" (what rebuilds it) and "metadata" (the dict given to `save`, or {}).

    Raises
    ------
    FileNotFoundError
        If `path` does not exist.
    ModelFileError
        If `path` is not a readable mlpkit model file.
    """
    return _read(path, arrays=False)[0]


def load(path, device=None, backend=None):
    """The model saved in `path` by `save`. Never unpickles: a file holding Python objects, a
    truncated or foreign file, or one from an incompatible format raises ModelFileError.

    A model loads on the host (NumPy), whatever device it was saved from; device= ("cuda",
    "cuda:1", "cpu") and backend= ("torch", "cupy"; by default torch when installed) put a
    Network onto that device (`Network.to`), its training state following when it resumes.

    Parameters
    ----------
    path : str or Path
        A model file written by `save`.
    device : str, optional
        The device to put a Network on ("cpu", "cuda", "cuda:1", ...); default the host.
    backend : str, optional
        The array library for that device ("numpy", "torch" or "cupy").

    Returns
    -------
    model : Network, ImageClassifier, MLPClassifier or MLPRegressor
        The model as saved (a Network with its training state, if it had one).

    Raises
    ------
    FileNotFoundError
        If `path` does not exist.
    ModelFileError
        If `path` is a truncated, damaged, foreign or too new file, or unsafe (Python objects).
    ValueError
        If `device` or `backend` is unknown or cannot go together, or would move a model
        that is not a Network off the host.
    ImportError
        If the library `device` or `backend` needs is not installed.
    """
    if device is not None or backend is not None:
        target = backend_for(device, backend)
        model = load(path)
        if target.is_numpy:
            return model
        if not isinstance(model, Network):
            raise ValueError(f"device= moves a Network; {path} holds a {type(model).__name__}, "
                             "which loads on the host")
        return model.to(target)
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
