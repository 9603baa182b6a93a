"""Backprop against two-sided finite differences: every hidden activation x every output/cost
pairing x one and two hidden layers, in float64."""

import numpy as np
import pytest

from mlpkit import Network, gradient_check, one_hot
from mlpkit.nn import network as network_module

HIDDEN = ("sigmoid", "tanh", "relu", "leaky_relu", "linear")
OUTPUTS = ("sigmoid", "softmax", "linear")
N_X, M = 4, 12
N_Y = {"sigmoid": 2, "softmax": 3, "linear": 2}  # sigmoid with 2 units: multi-label


def targets(output, m=M, seed=1):
    rng = np.random.default_rng(seed)
    if output == "sigmoid":
        return (rng.random((N_Y[output], m)) < 0.5).astype(float)
    if output == "softmax":
        return one_hot(rng.integers(0, N_Y[output], m), N_Y[output])
    return rng.standard_normal((N_Y[output], m))


def random_network(hidden_dims, hidden, output, seed=0):
    """A network whose weights and biases are all random: nonzero biases keep every Z[l] away
    from relu's kink at exactly 0 (where a dead layer below would put it)."""
    net = Network([N_X, *hidden_dims, N_Y[output]], hidden, output, init="xavier", seed=seed)
    rng = np.random.default_rng(seed + 100)
    net.parameters = {
        k: v + 0.1 * rng.standard_normal(v.shape) if k.startswith("b") else v
        for k, v in net.parameters.items()
    }
    return net


@pytest.mark.parametrize("hidden_dims", [[5], [5, 3]], ids=["1hidden", "2hidden"])
@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_gradient_check(hidden, output, hidden_dims):
    X = np.random.default_rng(0).standard_normal((N_X, M))
    net = random_network(hidden_dims, hidden, output)
    before = {k: v.copy() for k, v in net.parameters.items()}
    difference = gradient_check(net, X, targets(output))
    assert difference <= 1e-7
    for k, v in net.parameters.items():  # gradient_check leaves the network unchanged
        np.testing.assert_array_equal(v, before[k])


def test_gradient_check_per_layer_activations_and_logistic_regression():
    X = np.random.default_rng(0).standard_normal((N_X, M))
    net = random_network([5, 4, 3], ["tanh", "relu", "leaky_relu"], "softmax")
    assert gradient_check(net, X, targets("softmax")) <= 1e-7
    logistic = Network([N_X, 1], init="zeros")
    assert gradient_check(logistic, X, targets("sigmoid")[:1]) <= 1e-7


def test_gradient_check_with_l2():
    X = np.random.default_rng(0).standard_normal((N_X, M))
    net = random_network([5, 3], "tanh", "sigmoid")
    assert gradient_check(net, X, targets("sigmoid"), l2=0.7) <= 1e-7


def test_gradient_check_detects_a_wrong_derivative(monkeypatch):
    """The check has teeth: a derivative that is slightly wrong gives a large difference."""
    X = np.random.default_rng(0).standard_normal((N_X, M))
    net = random_network([5, 3], "tanh", "sigmoid")
    monkeypatch.setitem(network_module.DERIVATIVES, "tanh", lambda A: 1.05 * (1 - A * A))
    assert gradient_check(net, X, targets("sigmoid")) > 1e-3


def test_gradient_check_rejects_unknown_options():
    net = Network([N_X, 1])
    X = np.ones((N_X, 2))
    with pytest.raises(TypeError, match="unexpected keyword argument .lerning_rate."):
        gradient_check(net, X, np.array([[0, 1]]), lerning_rate=0.1)
