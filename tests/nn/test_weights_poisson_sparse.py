"""The engine's weighted costs, its Poisson output and its sparse first layer: gradients checked
numerically (two-sided, float64, rel. diff <= 1e-7), and each against its definition."""

import numpy as np
import pytest
import scipy.sparse as sp

from mlpkit import Network, gradient_check, one_hot
from mlpkit.nn import layers
from mlpkit.nn.losses import poisson_deviance

N_X, M = 6, 14
OUTPUTS = {"sigmoid": 2, "softmax": 3, "linear": 2, "exponential": 2}


def targets(output, seed=1):
    rng = np.random.default_rng(seed)
    n_y = OUTPUTS[output]
    if output == "sigmoid":
        return (rng.random((n_y, M)) < 0.5).astype(float)
    if output == "softmax":
        return one_hot(rng.integers(0, n_y, M), n_y)
    if output == "exponential":
        return rng.poisson(2.0, (n_y, M)).astype(float)
    return rng.standard_normal((n_y, M))


def network(output, hidden="tanh", batch_norm=False, seed=0):
    net = Network([N_X, 5, 4, OUTPUTS[output]], hidden, output, init="xavier", seed=seed,
                  batch_norm=batch_norm)
    rng = np.random.default_rng(seed + 10)
    net.parameters = {k: v + 0.1 * rng.standard_normal(v.shape) if k[0] in "bg" else v
                      for k, v in net.parameters.items()}
    return net


def sparse_X(seed=0, density=0.4):
    return sp.random(N_X, M, density=density, format="csc", random_state=seed) * 3


WEIGHTS = np.array([0, 1, 2, 0.5, 3, 1, 0, 4, 1, 1, 2.5, 0, 1, 2], dtype=float)


@pytest.mark.parametrize("batch_norm", [False, True], ids=["plain", "batch_norm"])
@pytest.mark.parametrize("output", list(OUTPUTS))
def test_weighted_cost_gradient(output, batch_norm):
    X = np.random.default_rng(0).standard_normal((N_X, M))
    net = network(output, batch_norm=batch_norm)
    assert gradient_check(net, X, targets(output), l2=0.3, sample_weight=WEIGHTS) <= 1e-7


@pytest.mark.parametrize("hidden", ["relu", "leaky_relu", "sigmoid", "linear"])
def test_poisson_gradient(hidden):
    X = np.random.default_rng(2).standard_normal((N_X, M))
    assert gradient_check(network("exponential", hidden), X, targets("exponential")) <= 1e-7


@pytest.mark.parametrize("batch_norm", [False, True], ids=["plain", "batch_norm"])
@pytest.mark.parametrize("output", ["sigmoid", "softmax", "exponential"])
def test_sparse_input_gradient(output, batch_norm):
    net = network(output, "relu", batch_norm)
    difference = gradient_check(net, sparse_X(), targets(output), l2=0.1, sample_weight=WEIGHTS)
    assert difference <= 1e-7


def test_weighted_cost_is_the_weighted_mean_and_integer_weights_repeat_examples():
    """J_w = sum_i w_i L_i / sum_i w_i (and lambda / (2 sum_i w_i) for L2): a weight of k is k
    copies of the example, a weight of 0 no example, in cost and gradient."""
    rng = np.random.default_rng(3)
    X, Y = rng.standard_normal((N_X, M)), targets("softmax")
    w = rng.integers(0, 4, M)
    net = network("softmax")
    AL, caches = net.forward(X, training=True)
    cost = net.compute_cost(Y, caches, 0.2, w.astype(float))
    grads = net.backward(AL, Y, caches, 0.2, w.astype(float)).vector
    X_rep, Y_rep = np.repeat(X, w, axis=1), np.repeat(Y, w, axis=1)
    AL_rep, caches_rep = net.forward(X_rep, training=True)
    assert cost == pytest.approx(net.compute_cost(Y_rep, caches_rep, 0.2), rel=1e-13)
    np.testing.assert_allclose(grads, net.backward(AL_rep, Y_rep, caches_rep, 0.2).vector,
                               rtol=1e-11, atol=1e-14)


def test_poisson_loss_is_half_the_deviance_and_zero_at_a_perfect_fit():
    """J = (1/m) sum [y log(y / a) - y + a] with a = e^z (0 log 0 = 0), scikit-learn's
    'poisson' loss; the exponential output gives a = e^z > 0."""
    from sklearn.neural_network._base import poisson_loss

    Y = np.array([[0.0, 1.0, 3.0, 7.0, 0.0]])
    Z = np.array([[-1.0, 0.2, 1.0, 2.0, 0.5]])
    assert poisson_deviance(Y, Z) == pytest.approx(poisson_loss(Y.T, np.exp(Z).T), rel=1e-13)
    assert poisson_deviance(Y[:, 1:4], np.log(Y[:, 1:4])) == pytest.approx(0, abs=1e-15)
    net = Network([3, 2], output_activation="exponential", init="zeros")
    np.testing.assert_array_equal(net.predict_proba(np.ones((3, 4))), 1.0)


def test_poisson_targets_must_not_be_negative():
    net = Network([3, 1], output_activation="exponential")
    with pytest.raises(ValueError, match=">= 0 for an exponential output"):
        net.fit(np.ones((3, 2)), np.array([[1.0, -1.0]]), epochs=1)


class Densified(Exception):
    """X was made dense (toarray was called on it)."""


def test_sparse_forward_and_backward_equal_the_dense_ones_without_densifying(monkeypatch):
    """W X and dZ X^T with X sparse: the same numbers as with X dense, computed with the sparse
    matrix on the left; X is never converted to a dense array."""
    X = sparse_X(1).tocsr()
    net = network("softmax", "relu")
    Y = targets("softmax")
    AL_dense, caches_dense = net.forward(X.toarray(), training=True)
    grads_dense = net.backward(AL_dense, Y, caches_dense).vector
    for method in ("toarray", "todense"):
        monkeypatch.setattr(type(X), method, lambda self, *a, **k: (_ for _ in ()).throw(
            Densified()))
    AL, caches = net.forward(X, training=True)
    np.testing.assert_allclose(AL, AL_dense, rtol=1e-13)
    np.testing.assert_allclose(net.backward(AL, Y, caches).vector, grads_dense, rtol=1e-12,
                               atol=1e-15)
    np.testing.assert_allclose(net.predict_proba(X), net.predict_proba(X.T.T.tocsc()),
                               rtol=1e-13)


def test_sparse_linear_backward_writes_into_the_gradient_vector():
    X = sparse_X(2)
    W = np.random.default_rng(0).standard_normal((3, N_X))
    dZ = np.random.default_rng(1).standard_normal((3, M))
    dW = np.empty((3, N_X))
    _, result, _ = layers.linear_backward(dZ, X, W, need_dA_prev=False, dW=dW)
    assert result is dW
    np.testing.assert_allclose(dW, dZ @ X.toarray().T / M, rtol=1e-12)


def test_sparse_input_checks():
    net = Network([N_X, 2])
    with pytest.raises(ValueError, match="NaN or infinity"):
        net.predict_proba(sp.csr_matrix(np.full((N_X, 2), np.nan)))
    with pytest.raises(ValueError, match="n_x = 6"):
        net.predict_proba(sp.random(4, 3, density=0.5, format="csr"))
    X = sp.random(N_X, 3, density=0.5, format="csr", dtype=np.float32)
    assert net.predict_proba(X).dtype == np.float32


def test_affine_layers_fold_batch_norm_into_what_prediction_computes():
    """W' = diag(gamma / sqrt(var + eps)) W, b' = beta - gamma mu / sqrt(var + eps): the
    prediction forward pass with batch norm is a plain affine network with (W', b')."""
    rng = np.random.default_rng(5)
    X = rng.standard_normal((N_X, 30))
    net = network("softmax", "relu", batch_norm=True)
    net.fit(X, one_hot(rng.integers(0, 3, 30), 3), epochs=5, batch_size=10, seed=0)
    plain = Network(net.layer_dims, "relu", "softmax")
    plain.parameters = {k: v for l, (W, b) in enumerate(net.affine_layers(), start=1)
                        for k, v in ((f"W{l}", W), (f"b{l}", b))}
    np.testing.assert_allclose(plain.predict_proba(X), net.predict_proba(X), rtol=1e-12)
