"""Activations, their derivatives, costs and initializers: values against the definitions,
stability at saturation (|z| up to 1e4), dtype preservation, initializer scales and seeding."""

import warnings
from contextlib import contextmanager

import numpy as np
import pytest

from mlpkit import Network
from mlpkit.nn import activations as act
from mlpkit.nn import initializers as init
from mlpkit.nn import losses

DTYPES = (np.float32, np.float64)
ELEMENTWISE = ("sigmoid", "tanh", "relu", "leaky_relu", "linear", "identity")
EXTREME = np.array([-1e4, -1e3, -100.0, -30.0, -1.0, 0.0, 1.0, 30.0, 100.0, 1e3, 1e4])

DEFINITIONS = {
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    "tanh": lambda z: (np.exp(z) - np.exp(-z)) / (np.exp(z) + np.exp(-z)),
    "relu": lambda z: np.where(z > 0, z, 0.0),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
    "linear": lambda z: z,
    "identity": lambda z: z,
}


@contextmanager
def no_floating_point_trouble():
    """Any warning becomes an error, and so do overflow, division by zero and invalid (NaN)
    results. Underflow to 0 is the correct answer for e^-1e4 (NumPy ignores it by default)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            yield


def moderate_z(shape=(3, 50), seed=0):
    """z in [-8, 8], kept away from 0 (relu's kink) by at least 1e-3."""
    z = np.random.default_rng(seed).uniform(-8, 8, shape)
    return np.where(np.abs(z) < 1e-3, 0.5, z)


# ------------------------------------------------------------------ activations: values
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_activation_matches_definition(name):
    z = moderate_z()
    np.testing.assert_allclose(act.ACTIVATIONS[name](z.copy()), DEFINITIONS[name](z), rtol=1e-12)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_derivative_matches_finite_difference(name):
    """g'(z), computed from a = g(z), against (g(z + h) - g(z - h)) / 2h."""
    z, h = moderate_z(), 1e-6
    g = DEFINITIONS[name]
    numerical = (g(z + h) - g(z - h)) / (2 * h)
    a = act.ACTIVATIONS[name](z.copy())
    np.testing.assert_allclose(act.DERIVATIVES[name](a), numerical, rtol=1e-6, atol=1e-9)


def test_leaky_relu_default_slope_is_0_01():
    z = np.array([[-2.0, 3.0]])
    np.testing.assert_array_equal(act.leaky_relu(z), [[-0.02, 3.0]])
    np.testing.assert_array_equal(act.leaky_relu_derivative(act.leaky_relu(z)), [[0.01, 1.0]])
    np.testing.assert_array_equal(act.leaky_relu(z, slope=0.2), [[-0.4, 3.0]])


def test_activation_out_argument_writes_in_place():
    """Hidden layers compute g over Z's memory (out=Z)."""
    for name in ELEMENTWISE:
        z = moderate_z()
        expected = DEFINITIONS[name](z)
        result = act.ACTIVATIONS[name](z, out=z)
        assert result is z, name
        np.testing.assert_allclose(z, expected, rtol=1e-12)


def test_softmax_matches_definition_and_sums_to_one():
    z = moderate_z((4, 30))
    e = np.exp(z)
    a = act.softmax(z.copy())
    np.testing.assert_allclose(a, e / e.sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(a.sum(axis=0), 1.0, rtol=1e-12)
    # invariant to adding a constant to each column
    np.testing.assert_allclose(act.softmax(z + np.arange(30) * 100.0), a, rtol=1e-10)


def test_unknown_activation_name():
    with pytest.raises(ValueError, match="unknown hidden activation 'swish'; expected one of"):
        act.check_activation("swish", act.HIDDEN_ACTIVATIONS, "hidden")
    assert act.check_activation("tanh", act.HIDDEN_ACTIVATIONS, "hidden") == "tanh"


# ------------------------------------------------------------------ activations: saturation
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_activation_finite_and_warning_free_at_saturation(name, dtype):
    z = EXTREME.astype(dtype).reshape(1, -1)
    with no_floating_point_trouble():
        a = act.ACTIVATIONS[name](z.copy())
        d = act.DERIVATIVES[name](a)
    assert a.dtype == dtype
    assert np.result_type(d, z) == dtype  # dZ *= g'(A) keeps dZ's dtype
    assert np.isfinite(a).all() and np.isfinite(d).all()
    with np.errstate(over="ignore"):  # the textbook formula: 1 / (1 + inf) = 0 is still right
        expected = np.tanh(EXTREME) if name == "tanh" else DEFINITIONS[name](EXTREME)
    np.testing.assert_allclose(a[0], expected, rtol=1e-6, atol=1e-30)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_limits(dtype):
    z = np.array([[-1e4, 1e4]], dtype=dtype)
    with no_floating_point_trouble():
        a = act.sigmoid(z)
        d = act.sigmoid_derivative(a)
    np.testing.assert_array_equal(a, [[0, 1]])
    np.testing.assert_array_equal(d, [[0, 0]])


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_finite_and_warning_free_at_saturation(dtype):
    z = np.array([[1e4, -1e4, 0.0, 5.0], [0.0, 1e4, -1e4, 5.0], [-1e4, 0.0, 1e4, 5.0]], dtype=dtype)
    with no_floating_point_trouble():
        a = act.softmax(z.copy())
    assert a.dtype == dtype
    expected = np.array([[1, 0, 0, 1 / 3], [0, 1, 0, 1 / 3], [0, 0, 1, 1 / 3]])
    np.testing.assert_allclose(a, expected, rtol=1e-6, atol=0)


# ------------------------------------------------------------------ costs
def binary_labels(shape, seed=1):
    return (np.random.default_rng(seed).random(shape) < 0.5).astype(float)


def test_binary_cross_entropy_matches_definition():
    z, y = moderate_z((2, 40)), binary_labels((2, 40))
    a = 1 / (1 + np.exp(-z))
    m = z.shape[1]
    expected = -np.sum(y * np.log(a) + (1 - y) * np.log(1 - a)) / m
    assert losses.binary_cross_entropy(y, z) == pytest.approx(expected, rel=1e-12)


def test_categorical_cross_entropy_matches_definition():
    z = moderate_z((3, 40))
    labels = np.random.default_rng(2).integers(0, 3, 40)
    y = np.eye(3)[:, labels]
    a = np.exp(z) / np.exp(z).sum(axis=0)
    expected = -np.sum(y * np.log(a)) / 40
    assert losses.categorical_cross_entropy(y, z) == pytest.approx(expected, rel=1e-12)


def test_mean_squared_error_matches_definition():
    z, y = moderate_z((2, 40)), moderate_z((2, 40), seed=3)
    assert losses.mean_squared_error(y, z) == pytest.approx(np.sum((z - y) ** 2) / 80, rel=1e-12)


def test_losses_are_paired_with_output_activations():
    assert losses.LOSSES["sigmoid"] is losses.binary_cross_entropy
    assert losses.LOSSES["softmax"] is losses.categorical_cross_entropy
    assert losses.LOSSES["linear"] is losses.mean_squared_error


@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_cross_entropy_saturated(dtype):
    """-log sigma(z) ~ -z as z -> -inf and ~ e^-z -> 0 as z -> +inf: a confidently wrong
    prediction costs |z|, a confidently right one costs 0 (never inf or NaN)."""
    z = np.array([[1e4, -1e4]], dtype=dtype)
    with no_floating_point_trouble():
        right = losses.binary_cross_entropy(np.array([[1, 0]], dtype=dtype), z)
        wrong = losses.binary_cross_entropy(np.array([[0, 1]], dtype=dtype), z)
        half = losses.binary_cross_entropy(np.array([[0, 1]], dtype=dtype), z * 1e-3)
    assert right == 0.0
    assert wrong == pytest.approx(1e4, rel=1e-6)  # (1e4 + 1e4) / 2
    assert half == pytest.approx(10.0 + np.log1p(np.exp(-10.0)), rel=1e-5)


@pytest.mark.parametrize("dtype", DTYPES)
def test_categorical_cross_entropy_saturated(dtype):
    z = np.array([[1e4], [0.0], [-1e4]], dtype=dtype)
    with no_floating_point_trouble():
        Ys = [np.eye(3, dtype=dtype)[:, [k]] for k in range(3)]
        costs = [losses.categorical_cross_entropy(Y, z) for Y in Ys]
    assert costs[0] == 0.0
    assert costs[1] == pytest.approx(1e4, rel=1e-6)
    assert costs[2] == pytest.approx(2e4, rel=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_mean_squared_error_large_values(dtype):
    z = np.array([[1e4, -1e4]], dtype=dtype)
    with no_floating_point_trouble():
        cost = losses.mean_squared_error(np.zeros((1, 2), dtype=dtype), z)
    assert cost == pytest.approx(1e8 / 2, rel=1e-6)


def test_l2_penalty():
    P = {"W1": np.full((2, 3), 2.0), "b1": np.ones((2, 1)), "W2": np.ones((1, 2)),
         "b2": np.ones((1, 1))}
    # (lambda / 2m) (6 * 4 + 2 * 1) with lambda = 0.7, m = 5
    assert losses.l2_penalty(P, 2, 0.7, 5) == pytest.approx(0.7 / 10 * 26)
    assert losses.l2_penalty(P, 2, 0.0, 5) == 0.0


# ------------------------------------------------------------------ initializers
N_OUT, N_IN = 400, 2000
SCALES = {
    "random": 0.01,
    "he": np.sqrt(2 / N_IN),
    "xavier": np.sqrt(1 / N_IN),
    "glorot": np.sqrt(2 / (N_IN + N_OUT)),
}


@pytest.mark.parametrize("name", SCALES)
def test_initializer_scale(name):
    P = init.initialize_parameters([N_IN, N_OUT, 1], name, seed=0)
    W = P["W1"]
    assert W.shape == (N_OUT, N_IN)
    assert W.std() == pytest.approx(SCALES[name], rel=0.02)
    assert abs(W.mean()) < 5 * SCALES[name] / np.sqrt(W.size)
    assert P["W2"].std() == pytest.approx(
        {"random": 0.01, "he": np.sqrt(2 / N_OUT), "xavier": np.sqrt(1 / N_OUT),
         "glorot": np.sqrt(2 / (N_OUT + 1))}[name], rel=0.2)
    for b, n in ((P["b1"], N_OUT), (P["b2"], 1)):
        assert b.shape == (n, 1)
        assert not b.any()


def test_zeros_initializer():
    P = Network([5, 4, 3, 2], init="zeros").parameters
    assert sorted(P) == ["W1", "W2", "W3", "b1", "b2", "b3"]
    for k, v in P.items():
        assert not v.any(), k
    assert P["W2"].shape == (3, 4)


@pytest.mark.parametrize("name", ["random", "he", "xavier", "glorot"])
def test_initializer_seeded_reproducible(name):
    a = Network([6, 5, 1], init=name, seed=42).parameters
    b = Network([6, 5, 1], init=name, seed=42).parameters
    c = Network([6, 5, 1], init=name, seed=43).parameters
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert not np.array_equal(a["W1"], c["W1"])
    unseeded = [Network([6, 5, 1], init=name).parameters["W1"] for _ in range(2)]
    assert not np.array_equal(*unseeded)


def test_initializer_dtype_and_callable():
    P = init.initialize_parameters([3, 2, 1], "he", seed=0, dtype=np.float32)
    assert {v.dtype for v in P.values()} == {np.dtype(np.float32)}
    P = init.initialize_parameters([3, 2], lambda n_out, n_in, rng: np.full((n_out, n_in), 0.5))
    np.testing.assert_array_equal(P["W1"], np.full((2, 3), 0.5))


def test_unknown_init_name():
    with pytest.raises(ValueError, match=r"unknown init 'uniform'; expected one of zeros, random"):
        init.get_initializer("uniform")
