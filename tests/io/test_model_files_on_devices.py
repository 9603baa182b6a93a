"""Model files and devices (issue 22): a network trained on another array library's device is
saved from host copies, loads on the host, or onto device= with backend=, and resumes there."""

import numpy as np
import pytest

import mlpkit
from mlpkit import Network
from mlpkit.nn.backend import backend_for, to_numpy

torch = pytest.importorskip("torch")
pytest.importorskip("array_api_compat")


def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((4, 48))
    return X, (X[:1] - X[1:2] > 0).astype(np.float64)


def test_a_network_trained_on_torch_saves_loads_on_the_host_and_resumes_on_torch(tmp_path):
    X, Y = data()
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    options = {"learning_rate": 0.05, "optimizer": "adam", "batch_size": 16, "seed": 3,
               "keep_prob": 0.9}
    whole = Network([4, 5, 1], seed=0, batch_norm=True)
    whole.fit(Xt, Yt, epochs=6, **options)

    net = Network([4, 5, 1], seed=0, batch_norm=True)
    net.fit(Xt, Yt, epochs=3, **options)
    path = mlpkit.save(net, tmp_path / "torch.npz")

    on_host = mlpkit.load(path)
    assert on_host.backend.is_numpy
    for key, value in net.parameters.items():
        np.testing.assert_array_equal(on_host.parameters[key], to_numpy(value))
    np.testing.assert_allclose(on_host.predict_proba(X), to_numpy(net.predict_proba(Xt)),
                               rtol=1e-12)

    on_torch = mlpkit.load(path, device="cpu", backend="torch")
    assert on_torch.backend.name == "torch"
    assert isinstance(on_torch.parameters.vector, torch.Tensor)
    on_torch.fit(Xt, Yt, epochs=6, resume=True, **options)  # the optimizer state follows
    np.testing.assert_array_equal(to_numpy(on_torch.parameters.vector),
                                  to_numpy(whole.parameters.vector))


def test_device_names_are_checked():
    assert backend_for("cpu").is_numpy and backend_for(None).is_numpy
    assert backend_for("cpu", "torch").name == "torch"
    with pytest.raises(ValueError, match="unknown array library 'jax'"):
        backend_for("cpu", "jax")
    with pytest.raises(ValueError, match="NumPy runs on the CPU only"):
        backend_for("cuda", "numpy")
    with pytest.raises(ValueError, match="torch cannot use device='nonsense'"):
        backend_for("nonsense", "torch")
