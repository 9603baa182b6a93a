"""Fixtures for `mlpkit serve`: a trained cat model, photos from the cat data and real servers
(see serving.py)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from .serving import Server, mlpkit_cmd


@pytest.fixture
def start_server(tmp_path):
    """start_server(model, *options) -> a running Server, stopped when the test ends."""
    servers = []

    def start(model, *options):
        servers.append(Server(model, *options, log_dir=tmp_path))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def _serve_cache(tmp_path_factory):
    """Models and servers shared by the serve tests; the servers are stopped at the end."""
    cache = {"dir": tmp_path_factory.mktemp("serve"), "servers": {}}
    yield cache
    for server in cache["servers"].values():
        server.stop()


@pytest.fixture
def cat_model_file(cat_data_dir, _serve_cache):
    """A cat model trained by `mlpkit train` (with --test, so both accuracies are recorded)."""
    if "cat_model" not in _serve_cache:
        out = _serve_cache["dir"] / "cat.npz"
        result = mlpkit_cmd("train", cat_data_dir / "train_catvnoncat.h5",
                            "--test", cat_data_dir / "test_catvnoncat.h5", "--epochs", 300,
                            "--hidden", 7, "--seed", 0, "--out", out, timeout=600)
        assert result.returncode == 0, result.stderr
        _serve_cache["cat_model"] = out
    return _serve_cache["cat_model"]


@pytest.fixture
def cat_server(cat_model_file, _serve_cache):
    """`mlpkit serve` of the cat model with default options, shared by the tests."""
    if "cat" not in _serve_cache["servers"]:
        _serve_cache["servers"]["cat"] = Server(cat_model_file, log_dir=_serve_cache["dir"])
    server = _serve_cache["servers"]["cat"]
    assert server.process.poll() is None, server.log()
    return server


@pytest.fixture
def cat_photos(cat_data_dir, cat_model_file, tmp_path):
    """{"cat": path, "non-cat": path}: the training photo of each class the model is surest of,
    the cat as an upscaled 256x256 JPEG (resized back by the server), the other as a PNG."""
    import mlpkit

    images, labels, classes = mlpkit.load_h5(cat_data_dir / "train_catvnoncat.h5")
    proba = mlpkit.load(cat_model_file).predict_proba(images)
    photos = {}
    for k, name in enumerate(classes):
        best = int(np.argmax(np.where(labels == k, proba[:, k], -1)))
        image = Image.fromarray(images[best])
        if name == "cat":
            photos[name] = tmp_path / "my cat.jpg"
            image.resize((256, 256), Image.Resampling.LANCZOS).save(photos[name], quality=92)
        else:
            photos[name] = tmp_path / f"{name}.png"
            image.save(photos[name])
    return photos
