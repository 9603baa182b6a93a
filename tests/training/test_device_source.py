"""DeviceSource (the GPU issue's device= part), on the CPU: batches of host sources moved to
another backend (array-api-strict's simulated second device, PyTorch CPU tensors) in order and
in the device's dtype, training that takes NumPy's steps, and float64 refused on a device
without it (faked: there is no MPS here)."""

import numpy as np
import pytest

from mlpkit import Network
from mlpkit.data import NpySource
from mlpkit.nn.backend import NUMPY, Backend, backend_for, backend_of, to_numpy
from mlpkit.training import ArraySource
from mlpkit.training.devices import DeviceSource, float_dtype

torch = pytest.importorskip("torch")
xps = pytest.importorskip("array_api_strict")
array_api_compat = pytest.importorskip("array_api_compat")

DEVICE1 = xps.Device("device1")


def strict_backend():
    return backend_of(xps.asarray(np.zeros(1), device=DEVICE1))


def data(m=40, n_x=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_x, m))
    return X, (X[:1] - 0.5 * X[2:3] > 0).astype(np.float64)


@pytest.mark.parametrize("backend", [strict_backend, lambda: backend_for("cpu", "torch")],
                         ids=["strict-device1", "torch-cpu"])
def test_batches_arrive_on_the_backend_in_order(backend):
    backend = backend()
    X, Y = data()
    w = np.linspace(0.5, 1.5, X.shape[1])
    source = DeviceSource(ArraySource(X, Y, w), backend, "float32")
    assert source.backend == backend and source.host_order
    assert (source.n_examples, source.n_features, source.n_outputs) == (40, 6, 1)
    order = np.random.default_rng(1).permutation(40)
    batches = list(source.batches(order, 16))  # all kept: none shares a reused buffer
    assert [b.size for b in batches] == [16, 16, 8]
    for k, batch in enumerate(batches):
        index = order[16 * k : 16 * (k + 1)]
        for value, expected in ((batch.X, X[:, index]), (batch.Y, Y[:, index]),
                                (batch.sample_weight, w[index])):
            assert backend_of(value) == backend and value.dtype == backend.dtype("float32")
            np.testing.assert_array_equal(to_numpy(value), expected.astype(np.float32))
    full = source.full_batch()
    assert backend_of(full.X) == backend
    assert source.full_batch() is full  # the same host arrays: not copied again


def test_a_streaming_source_keeps_its_batch_fields(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (12, 4, 4, 3), dtype=np.uint8)
    np.save(tmp_path / "x.npy", images)
    host = NpySource(tmp_path / "x.npy", np.arange(12) % 2, classes=["a", "b"])
    source = DeviceSource(host, backend_for("cpu", "torch"))
    order = np.arange(12)[::-1].copy()
    got = list(source.batches(torch.from_numpy(order), 5))  # a device order is taken too
    assert [b.index.tolist() for b in got] == [order[:5].tolist(), order[5:10].tolist(),
                                               order[10:].tolist()]
    assert all(isinstance(b.X, torch.Tensor) and b.X.dtype == torch.float64 for b in got)
    np.testing.assert_array_equal(to_numpy(got[0].X), images[order[:5]].reshape(5, -1).T / 255)


def test_training_through_the_wrapper_takes_numpys_steps():
    X, Y = data(m=48)
    options = dict(epochs=6, batch_size=16, optimizer="adam", learning_rate=0.01, seed=3)
    on_host = Network([6, 5, 1], seed=0)
    on_host.fit(X, Y, **options)
    for backend in (strict_backend(), backend_for("cpu", "torch")):
        net = Network([6, 5, 1], seed=0)
        net.fit(DeviceSource(ArraySource(X, Y), backend, "float64"), **options)
        assert net.backend == backend
        np.testing.assert_allclose(to_numpy(net.parameters.vector), on_host.parameters.vector,
                                   rtol=1e-10, atol=1e-12)


def test_with_dropout_it_equals_training_on_arrays_on_the_device():
    """Same order (the host's), same masks (the device's generator, seeded alike)."""
    X, Y = data(m=48)
    options = dict(epochs=4, batch_size=16, keep_prob=0.8, learning_rate=0.05, seed=5)
    resident = Network([6, 5, 1], seed=0)
    resident.fit(torch.from_numpy(X), torch.from_numpy(Y), shuffle="course", **options)
    fed = Network([6, 5, 1], seed=0)
    fed.fit(DeviceSource(ArraySource(X, Y), backend_for("cpu", "torch")), shuffle="course",
            **options)
    np.testing.assert_allclose(to_numpy(fed.parameters.vector),
                               to_numpy(resident.parameters.vector), rtol=1e-12)


def test_float32_is_the_default_on_a_gpu_and_float64_on_the_host():
    import array_api_compat.torch as xp_torch

    cuda = Backend(xp_torch, "cuda", "torch", torch)  # never used for arrays: no GPU here
    assert float_dtype(cuda) == torch.float32
    assert float_dtype(backend_for("cpu", "torch")) == torch.float64
    assert float_dtype(NUMPY) == np.float64
    with pytest.raises(ValueError, match="float32 or float64"):
        float_dtype(NUMPY, "int8")


def test_float64_on_a_device_without_it_is_a_clear_error(monkeypatch):
    """A device whose namespace info lists float32 but no float64, as torch's lists MPS."""
    real = xps.__array_namespace_info__

    class NoFloat64:
        def __init__(self):
            self._info = real()

        def __getattr__(self, name):
            return getattr(self._info, name)

        def dtypes(self, *, device=None, kind=None):
            found = self._info.dtypes(device=device, kind=kind)
            return found if device != DEVICE1 else {
                k: v for k, v in found.items() if k != "float64"}

    monkeypatch.setattr(xps, "__array_namespace_info__", NoFloat64)
    backend = strict_backend()
    message = "has no float64; use float32 there"
    with pytest.raises(ValueError, match=message):
        DeviceSource(ArraySource(*data()), backend, "float64")
    with pytest.raises(ValueError, match=message):
        Network([6, 1], seed=0).to(backend)  # a float64 network
    assert DeviceSource(ArraySource(*data()), backend).dtype == xps.float32
