"""The engine on other array libraries (issue 22), on the CPU: array-api-strict (its CPU device
and its simulated second device) and PyTorch CPU tensors give NumPy's parameters, keep the
parameters as views of theta, and answer in the input's library and on its device."""

import numpy as np
import pytest

from mlpkit import Network, gradient_check
from mlpkit.nn.backend import NUMPY, backend_of, to_numpy
from mlpkit.nn.layers import dropout_forward

torch = pytest.importorskip("torch")
xps = pytest.importorskip("array_api_strict")
pytest.importorskip("array_api_compat")

DEVICES = xps.__array_namespace_info__().devices()
STRICT_CPU, STRICT_OTHER = DEVICES[0], DEVICES[1]  # 'CPU_DEVICE' and the simulated 'device1'


def on_strict(device):
    return lambda a: xps.asarray(np.asarray(a), device=device)


CONVERTERS = {
    "strict-cpu": on_strict(STRICT_CPU),
    "strict-device1": on_strict(STRICT_OTHER),
    "torch-cpu": lambda a: torch.from_numpy(np.array(a)),
}


def data(output, m=64, n_x=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_x, m))
    if output == "sigmoid":
        Y = (X[:1] + 0.5 * X[1:2] > 0).astype(np.float64)
    elif output == "softmax":
        Y = np.eye(3)[(X[0] > 0).astype(int) + (X[1] > 0.5).astype(int)].T
    else:
        Y = np.vstack([X[:1] - 2 * X[2:3], X[1:2] * X[3:4]])
    return X, Y


N_Y = {"sigmoid": 1, "softmax": 3, "linear": 2}

# (output, network options, fit options): 50 steps each (epochs x batches)
CASES = {
    "gd": ("sigmoid", {}, {"optimizer": "gd", "epochs": 50}),
    "momentum": ("softmax", {}, {"optimizer": "momentum", "epochs": 50}),
    "rmsprop": ("linear", {}, {"optimizer": "rmsprop", "epochs": 50, "learning_rate": 0.001}),
    "adam-minibatch-l2": ("softmax", {}, {"optimizer": "adam", "epochs": 25, "batch_size": 32,
                                          "shuffle": False, "l2": 0.3, "learning_rate": 0.01}),
    "adam-batchnorm": ("sigmoid", {"batch_norm": True},
                       {"optimizer": "adam", "epochs": 10, "batch_size": 16, "shuffle": False,
                        "learning_rate": 0.01}),
    "gd-weighted-linear": ("linear", {"hidden_activation": "tanh"},
                           {"optimizer": "gd", "epochs": 50, "learning_rate": 0.01,
                            "weighted": True}),
    "nesterov-leaky": ("sigmoid", {"hidden_activation": ["leaky_relu", "sigmoid"]},
                       {"optimizer": "nesterov", "epochs": 50}),
    "lbfgs": ("softmax", {"batch_norm": True}, {"optimizer": "lbfgs", "epochs": 50, "l2": 0.1}),
}


def fit_case(case, convert):
    output, net_options, fit_options = CASES[case]
    fit_options = dict(fit_options)
    X, Y = data(output)
    if fit_options.pop("weighted", False):
        fit_options["sample_weight"] = convert(np.linspace(0.5, 2, X.shape[1]))
    epochs = fit_options.pop("epochs")
    fit_options.setdefault("learning_rate", 0.1)
    net = Network([X.shape[0], 6, 4, N_Y[output]], output_activation=output, seed=3,
                  **net_options)
    history = net.fit(convert(X), convert(Y), epochs=epochs, **fit_options)
    return net, history


@pytest.fixture(scope="module")
def numpy_results():
    return {case: fit_case(case, np.asarray) for case in CASES}


@pytest.mark.parametrize("where", CONVERTERS)
@pytest.mark.parametrize("case", CASES)
def test_50_steps_in_float64_give_numpys_parameters(case, where, numpy_results):
    reference, reference_history = numpy_results[case]
    net, history = fit_case(case, CONVERTERS[where])
    assert net.backend.name == ("torch" if where == "torch-cpu" else "array_api_strict")
    for key, value in reference.parameters.items():
        np.testing.assert_allclose(to_numpy(net.parameters[key]), value, rtol=0, atol=1e-10,
                                   err_msg=key)
    for key, value in reference.running_stats.items():
        np.testing.assert_allclose(to_numpy(net.running_stats[key]), value, rtol=0, atol=1e-10)
    np.testing.assert_allclose(history.costs, reference_history.costs, rtol=1e-10, atol=1e-12)
    assert all(type(c) is float for c in history.costs)


@pytest.mark.parametrize("where", CONVERTERS)
def test_outputs_come_back_in_the_inputs_library_and_on_its_device(where):
    convert = CONVERTERS[where]
    X, Y = data("softmax")
    net = Network([5, 4, 3], output_activation="softmax", seed=0, batch_norm=True)
    reference = net.predict_proba(X)
    Xd = convert(X)
    device = backend_of(Xd).device
    for output in (net.predict_proba(Xd), net.predict(Xd), net.forward(Xd)[0]):
        assert backend_of(output) == backend_of(Xd)
        assert backend_of(output).device == device
    np.testing.assert_allclose(to_numpy(net.predict_proba(Xd)), reference, atol=1e-12)
    assert net.backend is NUMPY  # predicting elsewhere does not move the network
    net.fit(Xd, convert(Y), epochs=2, learning_rate=0.1)
    assert backend_of(net.parameters["W1"]) == backend_of(Xd)
    assert backend_of(net.predict(Xd)) == backend_of(Xd)
    cost, score = net.evaluate(Xd, convert(Y))
    assert np.isfinite(float(cost))
    assert 0 <= score <= 1


def test_two_networks_on_two_devices_train_side_by_side():
    X, Y = data("sigmoid")
    nets = {}
    for device in (STRICT_CPU, STRICT_OTHER):
        nets[device] = Network([5, 4, 1], seed=1)
    for _ in range(3):  # interleaved fits: nothing about the device is module-wide
        for device, net in nets.items():
            net.fit(on_strict(device)(X), on_strict(device)(Y), epochs=2, learning_rate=0.1,
                    resume=net.training_state is not None)
    for device, net in nets.items():
        assert net.parameters.vector.device == device
    a, b = (to_numpy(net.parameters.vector) for net in nets.values())
    np.testing.assert_array_equal(a, b)


def test_parameters_stay_views_of_theta_after_fit_numpy_and_torch():
    X, Y = data("sigmoid")
    net = Network([5, 4, 1], seed=0)
    net.fit(X, Y, epochs=3, optimizer="adam")
    theta = net.parameters.vector
    pointer = theta.ctypes.data
    net.fit(X, Y, epochs=3, optimizer="adam")
    assert net.parameters.vector.ctypes.data == pointer
    assert all(np.shares_memory(v, theta) for v in net.parameters.values())

    net = Network([5, 4, 1], seed=0)
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    net.fit(Xt, Yt, epochs=3, optimizer="adam")
    theta = net.parameters.vector
    pointer = theta.data_ptr()
    net.fit(Xt, Yt, epochs=3, optimizer="adam", resume=True)
    assert net.parameters.vector.data_ptr() == pointer
    storage = theta.untyped_storage().data_ptr()
    for v in net.parameters.values():
        assert v.untyped_storage().data_ptr() == storage
    net.parameters["W1"][0, 0] = 7.0  # a view: theta sees it
    assert float(theta[0]) == 7.0


def test_float32_data_trains_in_float32_on_torch():
    X, Y = data("sigmoid")
    net = Network([5, 4, 1], seed=0)
    net.fit(torch.from_numpy(X.astype(np.float32)), torch.from_numpy(Y), epochs=50,
            optimizer="adam", learning_rate=0.01)
    assert net.dtype == torch.float32
    reference = Network([5, 4, 1], seed=0)
    reference.fit(X.astype(np.float32), Y, epochs=50, optimizer="adam", learning_rate=0.01)
    np.testing.assert_allclose(to_numpy(net.parameters.vector), reference.parameters.vector,
                               atol=1e-4)


class GivenUniforms:
    """A generator that hands out fixed uniform draws, converted to the array's library."""

    def __init__(self, draws, convert):
        self.draws, self.convert = draws, convert

    def random(self, shape, dtype):
        assert tuple(shape) == self.draws.shape
        return self.convert(self.draws)


@pytest.mark.parametrize("where", CONVERTERS)
def test_dropout_on_the_device_equals_numpys_given_the_same_masks(where):
    convert = CONVERTERS[where]
    rng = np.random.default_rng(0)
    A = rng.standard_normal((20, 30))
    draws = rng.random((20, 30))
    expected, expected_mask = dropout_forward(A, 0.7, GivenUniforms(draws, np.asarray))
    dropped, mask = dropout_forward(convert(A), 0.7, GivenUniforms(draws, convert))
    assert backend_of(dropped) == backend_of(convert(A))
    np.testing.assert_array_equal(to_numpy(dropped), expected)
    np.testing.assert_array_equal(to_numpy(mask), expected_mask.astype(np.float64))


@pytest.mark.parametrize("where", CONVERTERS)
def test_dropout_masks_drawn_on_the_device_keep_units_with_keep_prob(where):
    convert = CONVERTERS[where]
    A = convert(np.ones((200, 500)))
    backend = backend_of(A)
    generator = backend.random(123)
    for keep_prob in (0.5, 0.8):
        _, mask = dropout_forward(A, keep_prob, generator)
        assert backend_of(mask) == backend
        mask = to_numpy(mask)
        # the mean of 100,000 Bernoulli(p) draws: standard deviation <= 0.0016
        assert abs(mask.mean() - keep_prob) < 0.008
        # and each row (unit) keeps its share too, independently
        assert abs(mask.mean(axis=1).std() - np.sqrt(keep_prob * (1 - keep_prob) / 500)) < 0.006
    order = to_numpy(generator.permutation(1000))
    np.testing.assert_array_equal(np.sort(order), np.arange(1000))


@pytest.mark.parametrize("where", CONVERTERS)
def test_fit_with_dropout_and_shuffling_draws_on_the_device(where):
    convert = CONVERTERS[where]
    X, Y = data("sigmoid", m=96)
    net = Network([5, 8, 8, 1], seed=0)
    history = net.fit(convert(X), convert(Y), epochs=30, batch_size=16, keep_prob=0.8, seed=4,
                      optimizer="adam", learning_rate=0.01)
    assert history.costs[-1] < history.costs[0]
    again = Network([5, 8, 8, 1], seed=0)
    again.fit(convert(X), convert(Y), epochs=30, batch_size=16, keep_prob=0.8, seed=4,
              optimizer="adam", learning_rate=0.01)
    np.testing.assert_array_equal(to_numpy(again.parameters.vector),
                                  to_numpy(net.parameters.vector))  # the seed decides


@pytest.mark.parametrize("batch_norm", [False, True])
def test_gradient_check_passes_on_torch_tensors(batch_norm):
    X, Y = data("softmax", m=12, n_x=4)
    net = Network([4, 5, 3], output_activation="softmax", seed=2, batch_norm=batch_norm,
                  hidden_activation="tanh")
    difference = gradient_check(net, torch.from_numpy(X), torch.from_numpy(Y), l2=0.2,
                                keep_prob=0.8, seed=1,
                                sample_weight=torch.linspace(0.5, 1.5, 12, dtype=torch.float64))
    assert difference < 1e-7


def test_device_inputs_are_checked_like_numpys():
    net = Network([5, 3, 1], seed=0)
    bad = torch.from_numpy(np.full((5, 4), np.nan))
    with pytest.raises(ValueError, match="NaN or infinity"):
        net.predict(bad)
    with pytest.raises(ValueError, match="expects n_x = 5"):
        net.predict(torch.zeros((4, 3), dtype=torch.float64))
    with pytest.raises(ValueError, match="labels 0 or 1"):
        net.fit(torch.zeros((5, 4), dtype=torch.float64), torch.full((1, 4), 2.0), epochs=1)
    with pytest.raises(ValueError, match="sample_weight must hold finite values"):
        net.fit(torch.zeros((5, 4), dtype=torch.float64), torch.zeros((1, 4)), epochs=1,
                sample_weight=torch.tensor([1.0, -1.0, 1.0, 1.0]))
    ints = torch.ones((5, 4), dtype=torch.int64)
    assert net.predict_proba(ints).dtype == torch.float64  # the device's default float


def test_a_step_leaves_its_cost_on_the_device_and_the_epoch_reads_it_once():
    from mlpkit.optim.optimizers import get_optimizer
    from mlpkit.training.batches import Batch
    from mlpkit.training.loop import train_step

    X, Y = data("softmax")
    net = Network([5, 4, 3], output_activation="softmax", seed=0, batch_norm=True)
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    net.to_like(Xt)
    optimizer = get_optimizer("adam")
    state = optimizer.init(net.parameters.vector)
    cost = train_step(net, Batch(Xt, Yt, torch.ones(X.shape[1], dtype=torch.float64)),
                      optimizer, state, 0.01, l2=0.1, keep_prob=[0.9],
                      rng=net.backend.random(0))
    assert isinstance(cost, torch.Tensor) and cost.ndim == 0  # not read back: no sync
    assert isinstance(state["v"], torch.Tensor)
    history = net.fit(Xt, Yt, epochs=2, learning_rate=0.1)
    assert all(type(c) is float for c in history.costs)  # read once per epoch


def test_divergence_on_the_device_is_caught_at_the_end_of_the_epoch():
    from mlpkit.training.loop import DivergenceError

    X, Y = data("linear")
    net = Network([5, 8, 2], output_activation="linear", seed=0)
    Xt, Yt = torch.from_numpy(X * 1e3), torch.from_numpy(Y * 1e3)
    net.fit(Xt, Yt, epochs=1, learning_rate=1e-9)
    before = to_numpy(net.parameters.vector).copy()
    with pytest.raises(DivergenceError, match="diverged"):
        net.fit(Xt, Yt, epochs=50, learning_rate=10.0)
    np.testing.assert_array_equal(to_numpy(net.parameters.vector), before)
