"""--device, --backend and --dtype (the GPU issue's device= part), on the CPU with PyTorch CPU
tensors standing in for a device: `mlpkit train` gives NumPy's parameters, bad combinations
are one-line usage errors, `ImageClassifier(device=)` answers in NumPy, and `mlpkit serve
--device` answers a prediction."""

import h5py
import numpy as np
import pytest

import mlpkit
from mlpkit.apps.image_classifier import ImageClassifier
from mlpkit.nn.backend import to_numpy

from .serving import Server, image_bytes
from .test_cli import assert_error, assert_ok, mlpkit_cmd

torch = pytest.importorskip("torch")
pytest.importorskip("array_api_compat")

TRAIN = ("--hidden", "5", "--epochs", "4", "--batch-size", "16", "--optimizer", "adam",
         "--learning-rate", "0.01", "--seed", "3", "--quiet")


@pytest.fixture(scope="module")
def small_h5(tmp_path_factory):
    """40 8x8 RGB images of two classes (brighter ones are class 1), course format."""
    rng = np.random.default_rng(0)
    y = np.arange(40) % 2
    x = rng.integers(0, 128, (40, 8, 8, 3)) + 100 * y[:, None, None, None]
    path = tmp_path_factory.mktemp("device") / "small.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("train_set_x", data=x.astype(np.uint8))
        f.create_dataset("train_set_y", data=y)
        f.create_dataset("list_classes", data=np.array([b"dark", b"bright"]))
    return path


@pytest.fixture(scope="module")
def trained(small_h5):
    """{name: model file} of the same run on NumPy, on torch (float64) and torch in float32."""
    folder = small_h5.parent
    runs = {"numpy": (), "torch": ("--device", "cpu", "--backend", "torch"),
            "torch32": ("--backend", "torch", "--dtype", "float32")}
    files = {}
    for name, options in runs.items():
        files[name] = folder / f"{name}.npz"
        assert_ok(mlpkit_cmd("train", small_h5, *TRAIN, *options, "--out", files[name]))
    return files


def test_train_on_torch_takes_numpys_steps(trained):
    on_host, on_torch = mlpkit.load(trained["numpy"]), mlpkit.load(trained["torch"])
    assert on_torch.network.dtype == np.float64
    np.testing.assert_allclose(on_torch.network.parameters.vector,
                               on_host.network.parameters.vector, rtol=1e-10, atol=1e-12)
    in_float32 = mlpkit.load(trained["torch32"]).network
    assert in_float32.dtype == np.float32
    np.testing.assert_allclose(in_float32.parameters.vector, on_host.network.parameters.vector,
                               rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("options, message", [
    (("--device", "cuda", "--backend", "numpy"), "NumPy runs on the CPU only"),
    (("--device", "cuda", "--backend", "torch"), "torch cannot use device='cuda'"),
    (("--device", "cuda:0", "--backend", "cupy"), "cupy is not installed"),
])
def test_bad_devices_are_usage_errors(small_h5, tmp_path, options, message):
    if message.startswith("cupy") and __import__("importlib").util.find_spec("cupy"):
        pytest.skip("CuPy is installed")
    if "torch cannot" in message and torch.cuda.is_available():
        pytest.skip("CUDA is available")
    result = mlpkit_cmd("train", small_h5, *options, "--out", tmp_path / "m.npz")
    assert_error(result, 2, message)
    assert not (tmp_path / "m.npz").exists()


def test_an_image_classifier_on_a_device_answers_in_numpy(trained):
    host = mlpkit.load(trained["numpy"])
    images = np.random.default_rng(1).integers(0, 256, (6, 8, 8, 3), dtype=np.uint8)
    model = ImageClassifier(mlpkit.load(trained["numpy"]).network, host.classes, 8, device="cpu",
                            backend="torch")
    assert isinstance(model.network.parameters.vector, torch.Tensor)
    proba = model.predict_proba(images)
    assert isinstance(proba, np.ndarray) and proba.shape == (6, 2)
    np.testing.assert_allclose(proba, host.predict_proba(images), rtol=1e-12)
    np.testing.assert_array_equal(model.predict(images), host.predict(images))


def test_an_image_classifier_fits_on_its_device(trained, small_h5):
    from mlpkit.data import HDF5Source

    source = HDF5Source(small_h5, rgb=True)
    batch = source.full_batch()
    fits = {}
    for name, where in {"numpy": {}, "torch": {"backend": "torch"}}.items():
        model = ImageClassifier.build(source.classes, 8, (4,), seed=0, **where)
        model.fit(batch.X, batch.Y, epochs=3, batch_size=16, optimizer="adam", seed=1)
        fits[name] = to_numpy(model.network.parameters.vector)
    assert model.network.backend.name == "torch"
    np.testing.assert_allclose(fits["torch"], fits["numpy"], rtol=1e-10, atol=1e-12)


def test_serve_on_a_device_answers_a_prediction(trained, tmp_path):
    import httpx
    from PIL import Image

    host = mlpkit.load(trained["numpy"])
    image = np.random.default_rng(2).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    server = Server(trained["numpy"], "--device", "cpu", "--backend", "torch", log_dir=tmp_path)
    try:
        answer = httpx.post(f"{server.url}/api/predict", timeout=30,
                            files=[("files", ("x.png", image_bytes(Image.fromarray(image))))])
    finally:
        server.stop()
    assert answer.status_code == 200, answer.text
    (result,) = answer.json()["predictions"]
    expected = host.answer(host.predict_proba(image[None])[0])
    assert result["class"] == expected["class"]
    assert result["probability"] == pytest.approx(expected["probability"], rel=1e-9)
