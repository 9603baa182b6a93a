"""Model files: round trips, the file format, safety (no unpickling), errors, atomic writes."""

import json
import os

import numpy as np
import pytest

import mlpkit
from mlpkit.apps.image_classifier import ImageClassifier
from mlpkit.io import model_files
from mlpkit.io.model_files import (
    FORMAT_VERSION,
    HEADER,
    ModelFileError,
    network_from_state,
    network_to_state,
    read_metadata,
)


def _trained(layer_dims, dtype=np.float64, **kwargs):
    rng = np.random.default_rng(0)
    net = mlpkit.Network(layer_dims, seed=0, **kwargs)
    X = rng.standard_normal((layer_dims[0], 40)).astype(dtype)
    if net.output_activation == "softmax":
        Y = mlpkit.one_hot(rng.integers(0, layer_dims[-1], 40), layer_dims[-1])
    elif net.output_activation == "sigmoid":
        Y = rng.integers(0, 2, (layer_dims[-1], 40))
    else:
        Y = rng.standard_normal((layer_dims[-1], 40))
    net.fit(X, Y, epochs=5, learning_rate=0.05, batch_size=16, optimizer="adam", seed=0)
    return net, X


def _rewrite(path, change):
    """Rewrite the model file at `path` with change(arrays, header) applied."""
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    header = json.loads(str(arrays.pop(HEADER)))
    change(arrays, header)
    arrays[HEADER] = np.array(json.dumps(header))
    np.savez(path, **arrays)


@pytest.mark.parametrize(
    "layer_dims, kwargs",
    [
        ([5, 4, 3, 1], {}),
        ([5, 4, 3, 3], {"output_activation": "softmax", "batch_norm": True}),
        ([5, 6, 2], {"hidden_activation": "tanh", "output_activation": "linear", "init": "xavier"}),
        ([5, 1], {}),
        ([5, 4, 3, 1], {"dtype": np.float32, "batch_norm": True}),
    ],
)
def test_network_round_trip(tmp_path, layer_dims, kwargs):
    dtype = kwargs.pop("dtype", np.float64)
    net, X = _trained(layer_dims, dtype, **kwargs)
    path = mlpkit.save(net, tmp_path / "net.npz")
    loaded = mlpkit.load(path)
    assert isinstance(loaded, mlpkit.Network)
    assert loaded.layer_dims == net.layer_dims
    assert loaded.activations == net.activations
    assert loaded.batch_norm == net.batch_norm and loaded.init == net.init
    assert loaded.dtype == net.dtype == dtype
    assert loaded.parameters.keys() == net.parameters.keys()
    for k, v in net.parameters.items():
        np.testing.assert_array_equal(loaded.parameters[k], v)
    for k, v in net.running_stats.items():
        np.testing.assert_array_equal(loaded.running_stats[k], v)
    np.testing.assert_array_equal(loaded.predict_proba(X), net.predict_proba(X))


def test_file_is_plain_npz_with_json_header(tmp_path):
    net, _ = _trained([5, 4, 3], output_activation="softmax", batch_norm=True)
    path = mlpkit.save(net, tmp_path / "m.npz", metadata={"note": "hello", "n": [1, 2]})
    with np.load(path, allow_pickle=False) as npz:
        files = set(npz.files)
        header = json.loads(str(npz[HEADER]))
        assert all(npz[k].dtype.kind == "f" for k in files - {HEADER})
    assert files == {HEADER, "param.W1", "param.gamma1", "param.beta1", "param.W2", "param.b2",
                     "stat.mean1", "stat.var1", "training.optimizer.v", "training.optimizer.s"}
    assert header["state"]["training"]["epoch"] == net.training_state.epoch > 0
    assert header["format"] == "mlpkit-model"
    assert header["format_version"] == FORMAT_VERSION
    assert header["mlpkit_version"] == mlpkit.__version__
    assert header["kind"] == "Network"
    assert header["state"]["layer_dims"] == [5, 4, 3]
    assert header["state"]["output_activation"] == "softmax"
    assert header["state"]["batch_norm"] is True
    assert read_metadata(path)["metadata"] == {"note": "hello", "n": [1, 2]}


def test_network_state_helpers_round_trip():
    net, X = _trained([5, 4, 2], output_activation="softmax", batch_norm=True)
    meta, arrays = network_to_state(net)
    json.dumps(meta)
    copy = network_from_state(json.loads(json.dumps(meta)), arrays)
    np.testing.assert_array_equal(copy.predict_proba(X), net.predict_proba(X))
    with pytest.raises(ModelFileError, match="param.W2"):
        network_from_state(meta, {k: v for k, v in arrays.items() if k != "param.W2"})
    bad = dict(arrays, **{"param.W1": np.zeros((3, 3))})
    with pytest.raises(ModelFileError, match="W1"):
        network_from_state(meta, bad)


def _image_classifier(n_classes, standardize):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (12, 4, 4, 3), dtype=np.uint8)
    n_y = 1 if n_classes == 2 else n_classes
    net = mlpkit.Network([48, 5, n_y], output_activation="sigmoid" if n_y == 1 else "softmax",
                         seed=1)
    standardizer = None
    if standardize:
        standardizer = mlpkit.Standardizer().fit(mlpkit.flatten_images(images))
    classes = [f"class{k}" for k in range(n_classes)]
    return ImageClassifier(net, classes, 4, standardizer), images


@pytest.mark.parametrize("n_classes, standardize", [(2, False), (2, True), (3, True)])
def test_image_classifier_round_trip(tmp_path, n_classes, standardize):
    model, images = _image_classifier(n_classes, standardize)
    proba = model.predict_proba(images)
    assert proba.shape == (12, n_classes)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    loaded = mlpkit.load(mlpkit.save(model, tmp_path / "c.npz"))
    assert isinstance(loaded, ImageClassifier)
    assert loaded.classes == model.classes and loaded.image_size == 4
    assert (loaded.standardizer is not None) == standardize
    np.testing.assert_array_equal(loaded.predict_proba(images), proba)
    np.testing.assert_array_equal(loaded.predict(images), proba.argmax(axis=1))
    pre = read_metadata(tmp_path / "c.npz")["state"]["preprocessing"]
    assert pre == {"image_size": 4, "channels": "RGB", "scale": 1 / 255, "standardize": standardize}


@pytest.mark.parametrize("n_classes", [2, 3, 5])
def test_image_classifier_build_and_targets(n_classes):
    classes = [f"c{k}" for k in range(n_classes)]
    model = ImageClassifier.build(classes, 4, (6, 5), seed=0)
    n_y = 1 if n_classes == 2 else n_classes
    assert model.network.layer_dims == [48, 6, 5, n_y]
    assert model.network.output_activation == ("sigmoid" if n_y == 1 else "softmax")
    labels = np.arange(11) % n_classes
    Y = model.targets(labels)
    expected = labels.reshape(1, -1) if n_y == 1 else mlpkit.one_hot(labels, n_classes)
    assert Y.shape == (n_y, 11) and Y.dtype == np.float64 and Y.flags.c_contiguous
    np.testing.assert_array_equal(Y, expected)


def test_image_classifier_checks_its_input():
    model, images = _image_classifier(2, False)
    with pytest.raises(ValueError, match=r"\(4, 4, 3\)"):
        model.predict(images[:, :3])
    with pytest.raises(ValueError, match="inputs"):
        ImageClassifier(model.network, ["a", "b"], 5)
    with pytest.raises(ValueError, match="output unit"):
        ImageClassifier(model.network, ["a", "b", "c"], 4)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_estimators_round_trip(tmp_path):
    from mlpkit.estimators import MLPClassifier, MLPRegressor

    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 4))
    y = np.arange(60) % 3
    classifier = MLPClassifier(hidden_layer_sizes=(6,), max_iter=15, random_state=0).fit(X, y)
    regressor = MLPRegressor(hidden_layer_sizes=(6,), max_iter=15, random_state=0)
    regressor.fit(X, X[:, 0] - X[:, 1])
    for name, estimator, method in (("c", classifier, "predict_proba"),
                                    ("r", regressor, "predict")):
        path = mlpkit.save(estimator, tmp_path / f"{name}.npz")
        assert read_metadata(path)["kind"] == type(estimator).__name__
        loaded = mlpkit.load(path)
        assert type(loaded) is type(estimator)
        np.testing.assert_array_equal(getattr(loaded, method)(X), getattr(estimator, method)(X))


def test_save_rejects_what_it_cannot_store(tmp_path):
    net, _ = _trained([3, 1])
    with pytest.raises(TypeError, match="Network, ImageClassifier"):
        mlpkit.save({"W1": np.zeros(3)}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="JSON"):
        mlpkit.save(net, tmp_path / "x.npz", metadata={"f": object()})
    with pytest.raises(TypeError, match="dict"):
        mlpkit.save(net, tmp_path / "x.npz", metadata=["not", "a", "dict"])
    assert list(tmp_path.iterdir()) == []


def test_save_rejects_foreign_classes_with_a_registered_name(tmp_path):
    from sklearn.neural_network import MLPClassifier

    with pytest.raises(TypeError, match="save expects an mlpkit Network"):
        mlpkit.save(MLPClassifier(), tmp_path / "x.npz")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ never unpickle


class _Exploit:
    """Unpickling this creates the marker file: stands for arbitrary code execution."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("where", ["param.W1", "extra", HEADER])
def test_load_never_unpickles(tmp_path, where):
    net, _ = _trained([3, 2, 1])
    path = mlpkit.save(net, tmp_path / "evil.npz")
    marker = tmp_path / "pwned"
    payload = np.empty(1, dtype=object)
    payload[0] = _Exploit(marker)

    def plant(arrays, header):
        arrays[where] = payload

    _rewrite(path, plant)
    if where == HEADER:  # _rewrite put the JSON header back: plant it again
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files if k != HEADER}
        np.savez(path, **arrays, **{HEADER: payload})

    with pytest.raises(ModelFileError, match="evil.npz"):
        mlpkit.load(path)
    if where == HEADER:
        with pytest.raises(ModelFileError, match="evil.npz"):
            read_metadata(path)
    else:  # the header alone is fine to read
        assert read_metadata(path)["kind"] == "Network"
    assert not marker.exists()
    # the file really is malicious: numpy with pickles allowed runs the payload
    with np.load(path, allow_pickle=True) as npz:
        npz[where]
    assert marker.exists()


# ------------------------------------------------------------------ damaged and foreign files


@pytest.fixture
def model_file(tmp_path):
    net, _ = _trained([6, 4, 1], batch_norm=True)
    return mlpkit.save(net, tmp_path / "model.npz")


@pytest.mark.parametrize("keep", [0.0, 0.1, 0.5, 0.9, 0.999])
def test_truncated_file(model_file, keep):
    data = model_file.read_bytes()
    model_file.write_bytes(data[: int(len(data) * keep)])
    message = "not an mlpkit model file" if keep == 0 else "truncated or damaged"
    with pytest.raises(ModelFileError, match=f"model.npz: {message}") as info:
        mlpkit.load(model_file)
    assert "\n" not in str(info.value)


def test_corrupted_bytes(model_file):
    data = bytearray(model_file.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(64)
    model_file.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="damaged"):
        mlpkit.load(model_file)


def test_not_a_zip(tmp_path):
    text = tmp_path / "notes.npz"
    text.write_text("just some text\n")
    npy = tmp_path / "array.npz"
    np.save(npy.open("wb"), np.zeros(3))
    for path in (text, npy):
        with pytest.raises(ModelFileError, match="not an mlpkit model file"):
            mlpkit.load(path)


def test_npz_that_is_not_a_model(tmp_path):
    path = tmp_path / "data.npz"
    np.savez(path, W1=np.zeros((2, 2)))
    with pytest.raises(ModelFileError, match="not an mlpkit model file"):
        mlpkit.load(path)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda h: h.update(format_version=FORMAT_VERSION + 1), "newer than this mlpkit"),
        (lambda h: h.update(format_version="1"), "invalid model format version"),
        (lambda h: h.update(format="something-else"), "not an mlpkit model file"),
        (lambda h: h.update(kind="os.system"), "unknown model kind 'os.system'"),
        (lambda h: h.pop("state"), "lacks its kind or state"),
        (lambda h: h["state"].update(layer_dims=[6, 5, 1]), "inconsistent"),
        (lambda h: h["state"].update(output_activation="nonsense"), "inconsistent"),
    ],
)
def test_incompatible_header(model_file, change, message):
    _rewrite(model_file, lambda arrays, header: change(header))
    with pytest.raises(ModelFileError, match=message):
        mlpkit.load(model_file)


def test_missing_or_malformed_arrays(model_file):
    _rewrite(model_file, lambda arrays, header: arrays.pop("stat.var1"))
    with pytest.raises(ModelFileError, match="stat.var1"):
        mlpkit.load(model_file)
    _rewrite(model_file, lambda arrays, header: arrays.update({"stat.var1": np.ones((2, 1)),
                                                              "param.W2": np.zeros((1, 4))}))
    with pytest.raises(ModelFileError, match="stat.var1"):
        mlpkit.load(model_file)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such model file"):
        mlpkit.load(tmp_path / "absent.npz")
    with pytest.raises(ModelFileError, match="directory"):
        mlpkit.load(tmp_path)
    assert issubclass(ModelFileError, ValueError)


# ------------------------------------------------------------------ atomic writes


@pytest.mark.parametrize("error", [OSError("No space left on device"), KeyboardInterrupt()])
def test_interrupted_save_keeps_the_old_file(tmp_path, monkeypatch, error):
    old, X = _trained([4, 3, 1])
    path = mlpkit.save(old, tmp_path / "model.npz")
    before = path.read_bytes()
    new, _ = _trained([4, 8, 1])
    real_savez = np.savez

    def savez_then_fail(file, **arrays):
        real_savez(file, **arrays)  # a complete archive is in the temporary file...
        file.write(b"...")
        raise error  # ...when the disk fills up or the user presses Ctrl-C

    monkeypatch.setattr(model_files.np, "savez", savez_then_fail)
    with pytest.raises(type(error)):
        mlpkit.save(new, path)
    with pytest.raises(type(error)):
        mlpkit.save(new, tmp_path / "fresh.npz")
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]
    assert path.read_bytes() == before
    np.testing.assert_array_equal(mlpkit.load(path).predict_proba(X), old.predict_proba(X))


def test_save_creates_missing_folders(tmp_path):
    net, X = _trained([4, 3, 1])
    path = mlpkit.save(net, tmp_path / "new" / "deeper" / "model.npz")
    assert path == tmp_path / "new" / "deeper" / "model.npz"
    assert sorted(p.name for p in path.parent.iterdir()) == ["model.npz"]
    np.testing.assert_array_equal(mlpkit.load(path).predict_proba(X), net.predict_proba(X))


def test_save_refuses_a_directory_path(tmp_path):
    net, _ = _trained([4, 3, 1])
    with pytest.raises(IsADirectoryError, match="is a directory"):
        mlpkit.save(net, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_save_replaces_through_a_temporary_file(tmp_path, monkeypatch):
    net, _ = _trained([4, 3, 1])
    path = tmp_path / "model.npz"
    path.write_bytes(b"old contents")
    replaced = []
    real_replace = os.replace

    def spy(src, dst):
        replaced.append((os.path.dirname(src), os.path.basename(src), dst))
        assert os.path.getsize(src) > 0
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    mlpkit.save(net, path)
    ((folder, name, dst),) = replaced
    assert folder == str(tmp_path) and name.startswith(".model.npz.") and dst == path
    assert isinstance(mlpkit.load(path), mlpkit.Network)
