"""The Network: parameters, prediction, logistic regression, symmetry, the flower data, input
checks, divergence, dtype, and the backward pass's skipped dA[0]."""

import copy
import pickle
import warnings

import numpy as np
import pytest

import mlpkit.nn.network
from mlpkit import Network, one_hot
from mlpkit.data import make_flower, make_house_prices

HIDDEN = ("sigmoid", "tanh", "relu", "leaky_relu", "linear")


def classification_data(n_x=3, m=30, n_y=1, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_x, m))
    Y = (rng.random((n_y, m)) < 0.5).astype(float)
    return X, Y


@pytest.fixture(scope="module")
def flower():
    return make_flower()


@pytest.fixture(scope="module")
def unbalanced_flower(flower):
    """200 points of class 0, 100 of class 1: with balanced classes and a sigmoid output that
    starts at 1/2, zeros init would get zero gradients everywhere and never move."""
    X, Y = flower
    return X[:, :300], Y[:, :300]


# ------------------------------------------------------------------ construction & parameters
def test_layers_and_parameter_shapes():
    net = Network([5, 4, 3, 2], hidden_activation="tanh", output_activation="softmax", seed=0)
    assert net.L == 3
    assert net.layer_dims == [5, 4, 3, 2]
    assert net.hidden_activations == ["tanh", "tanh"]
    assert net.activations == ["tanh", "tanh", "softmax"]
    shapes = {k: v.shape for k, v in net.parameters.items()}
    assert shapes == {"W1": (4, 5), "b1": (4, 1), "W2": (3, 4), "b2": (3, 1), "W3": (2, 3),
                      "b3": (2, 1)}
    assert net.dtype == np.float64


def test_hidden_activation_list_and_identity_alias():
    net = Network([2, 3, 3, 1], hidden_activation=["tanh", "relu"], output_activation="identity")
    assert net.hidden_activations == ["tanh", "relu"]
    assert net.output_activation == "linear"
    with pytest.raises(ValueError, match="one name or a list of 2"):
        Network([2, 3, 3, 1], hidden_activation=["tanh"])


def test_softmax_needs_two_outputs():
    with pytest.raises(ValueError, match="n_y >= 2"):
        Network([2, 1], output_activation="softmax")


def test_parameters_assignment_copies_and_is_used():
    net = Network([3, 2, 1], seed=0)
    rng = np.random.default_rng(1)
    P = {k: rng.standard_normal(v.shape) for k, v in net.parameters.items()}
    net.parameters = P
    for k in P:
        np.testing.assert_array_equal(net.parameters[k], P[k])
    P["W1"][...] = 0  # the network holds its own copy
    assert net.parameters["W1"].any()
    X = rng.standard_normal((3, 4))
    W1, b1, W2, b2 = (net.parameters[k] for k in ("W1", "b1", "W2", "b2"))
    expected = 1 / (1 + np.exp(-(W2 @ np.maximum(W1 @ X + b1, 0) + b2)))
    np.testing.assert_allclose(net.predict_proba(X), expected, rtol=1e-12)


def _views_of(packed):
    return all(np.shares_memory(v, packed.vector) for v in packed.values())


@pytest.mark.parametrize("batch_norm", [False, True])
def test_parameters_and_grads_are_views_of_one_vector(batch_norm):
    net = Network([3, 4, 2, 1], seed=0, batch_norm=batch_norm)
    P = net.parameters
    assert P.vector.ndim == 1 and P.vector.flags.c_contiguous
    assert P.vector.size == sum(v.size for v in P.values()) and _views_of(P)
    np.testing.assert_array_equal(P.vector, np.concatenate([v.ravel() for v in P.values()]))
    X, Y = classification_data()
    AL, caches = net.forward(X, training=True)
    grads = net.backward(AL, Y, caches, l2=0.1)
    assert list(grads) == ["d" + k for k in P] and _views_of(grads)
    np.testing.assert_array_equal(grads.vector, np.concatenate([g.ravel() for g in grads.values()]))
    assert np.isfinite(grads.vector).all()  # every part of the vector was written


def test_packed_parameters_stay_packed_through_assignment_copy_and_dtype():
    net = Network([3, 4, 1], seed=0)
    net.parameters["W1"] = 7.0  # item assignment writes into the view
    assert (net.parameters.vector[:12] == 7).all()
    with pytest.raises(KeyError, match="fixed keys W1, b1, W2, b2"):
        net.parameters["W3"] = np.zeros((1, 1))
    net.parameters = {k: np.ones(v.shape, dtype=int) for k, v in net.parameters.items()}
    assert net.parameters.vector.dtype == np.float64 and _views_of(net.parameters)
    for clone in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        assert _views_of(clone.parameters)
        assert not np.shares_memory(clone.parameters.vector, net.parameters.vector)
        np.testing.assert_array_equal(clone.parameters.vector, net.parameters.vector)
    net.astype(np.float32)
    assert net.parameters.vector.dtype == np.float32 and _views_of(net.parameters)
    net.restore_state(net.copy_state())
    assert _views_of(net.parameters)


# ------------------------------------------------------------------ forward / backward
def test_forward_caches_and_backward_grads():
    net = Network([3, 4, 2, 1], hidden_activation="tanh", seed=0)
    X, Y = classification_data()
    AL, caches = net.forward(X)
    assert AL.shape == (1, 30) and len(caches) == 3
    assert caches[0].A_prev is X
    assert [c.A.shape for c in caches] == [(4, 30), (2, 30), (1, 30)]
    assert caches[1].A_prev is caches[0].A
    grads = net.backward(AL, Y, caches)
    assert sorted(grads) == ["dW1", "dW2", "dW3", "db1", "db2", "db3"]
    for k, v in net.parameters.items():
        assert grads["d" + k].shape == v.shape


def test_backward_never_computes_dA0(monkeypatch):
    """dA[0], the input's gradient, is wasted work: layer 1's linear_backward must skip it."""
    calls = []
    real = mlpkit.nn.network.linear_backward

    def spy(dZ, A_prev, W, need_dA_prev=True, **options):
        result = real(dZ, A_prev, W, need_dA_prev=need_dA_prev, **options)
        calls.append((W.shape, need_dA_prev, result[0] is None))
        return result

    monkeypatch.setattr(mlpkit.nn.network, "linear_backward", spy)
    X, Y = classification_data()
    for dims in ([3, 4, 2, 1], [3, 1]):
        calls.clear()
        net = Network(dims, seed=0)
        AL, caches = net.forward(X)
        net.backward(AL, Y, caches)
        L = len(dims) - 1
        # backward runs l = L..1: dA_prev wanted for every layer but the first
        assert [need for _, need, _ in calls] == [True] * (L - 1) + [False]
        assert [none for _, _, none in calls] == [False] * (L - 1) + [True]
        assert calls[-1][0] == (dims[1], dims[0])  # the last call is layer 1's W
    calls.clear()
    Network([3, 4, 2, 1], seed=0).fit(X, Y, epochs=3, learning_rate=0.1)
    assert [need for _, need, _ in calls] == [True, True, False] * 3


def test_history_costs_are_before_each_update():
    X, Y = classification_data()
    net = Network([3, 4, 1], seed=0)
    _, caches = net.forward(X)
    initial_cost = net.compute_cost(Y, caches)
    history = net.fit(X, Y, epochs=5, learning_rate=0.1)
    assert history.epochs == 5 and len(history.costs) == 5
    assert history.costs[0] == initial_cost
    assert history.learning_rates == [0.1] * 5
    _, caches = net.forward(X)
    assert net.compute_cost(Y, caches) < history.costs[-1] < history.costs[0]


# ------------------------------------------------------------------ logistic regression
def test_logistic_regression_is_the_courses():
    """Network([n_x, 1], sigmoid, zeros) reproduces the course's propagate/optimize exactly:
    A = sigma(w^T X + b), dw = X (A - Y)^T / m, db = mean(A - Y)."""
    X, Y = classification_data(n_x=5, m=40, seed=3)
    net = Network([5, 1], output_activation="sigmoid", init="zeros")
    assert net.L == 1 and net.hidden_activations == []
    assert not net.parameters["W1"].any() and not net.parameters["b1"].any()
    history = net.fit(X, Y, epochs=50, learning_rate=0.3)

    w, b, m, costs = np.zeros((5, 1)), 0.0, X.shape[1], []
    for _ in range(50):
        A = 1 / (1 + np.exp(-(w.T @ X + b)))
        costs.append(-np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m)
        dw, db = X @ (A - Y).T / m, np.sum(A - Y) / m
        w, b = w - 0.3 * dw, b - 0.3 * db
    np.testing.assert_allclose(history.costs, costs, rtol=1e-12)
    np.testing.assert_allclose(net.parameters["W1"], w.T, rtol=1e-12)
    assert net.parameters["b1"][0, 0] == pytest.approx(b, rel=1e-12)
    np.testing.assert_array_equal(net.predict(X), (w.T @ X + b > 0).astype(int))


# ------------------------------------------------------------------ prediction
def test_predict_sigmoid_thresholds_at_half():
    X, Y = classification_data(n_y=2)
    net = Network([3, 4, 2], seed=0)
    net.fit(X, Y, epochs=20, learning_rate=0.5)
    proba, labels = net.predict_proba(X), net.predict(X)
    assert proba.shape == labels.shape == (2, 30)
    assert np.issubdtype(labels.dtype, np.integer)
    np.testing.assert_array_equal(labels, (proba > 0.5).astype(int))
    assert 0 < labels.sum() < labels.size
    # exactly 0.5 is class 0 (the course's "A > 0.5")
    np.testing.assert_array_equal(Network([3, 1], init="zeros").predict(X), np.zeros((1, 30)))


def test_predict_softmax_gives_class_indices():
    rng = np.random.default_rng(0)
    X, labels = rng.standard_normal((3, 40)), rng.integers(0, 4, 40)
    net = Network([3, 5, 4], output_activation="softmax", seed=0)
    net.fit(X, one_hot(labels, 4), epochs=30, learning_rate=0.5)
    proba, predicted = net.predict_proba(X), net.predict(X)
    assert proba.shape == (4, 40) and predicted.shape == (1, 40)
    np.testing.assert_allclose(proba.sum(axis=0), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(predicted[0], proba.argmax(axis=0))
    assert net.score(X, one_hot(labels, 4)) == np.mean(predicted[0] == labels)


def test_predict_linear_gives_values():
    X, Y = make_house_prices(m=50, seed=1)
    net = Network([4, 3, 1], output_activation="linear", seed=0)
    values = net.predict(X)
    assert values.shape == (1, 50) and values.dtype == np.float64
    np.testing.assert_array_equal(values, net.predict_proba(X))
    W1, b1, W2, b2 = (net.parameters[k] for k in ("W1", "b1", "W2", "b2"))
    np.testing.assert_allclose(values, W2 @ np.maximum(W1 @ X + b1, 0) + b2, rtol=1e-12)


def test_predict_accepts_lists_and_leaves_input_alone():
    net = Network([2, 3, 1], seed=0)
    X = np.array([[0.5, -1.0, 2.0], [1.0, 0.0, -3.0]])
    X_before = X.copy()
    np.testing.assert_array_equal(net.predict(X.tolist()), net.predict(X))
    np.testing.assert_array_equal(X, X_before)


# ------------------------------------------------------------------ symmetry
def hidden_units_identical(W, rtol=1e-10):
    return np.allclose(W, W[:1], rtol=rtol, atol=1e-14)


@pytest.mark.parametrize("hidden", ["tanh", "sigmoid", "relu"])
def test_zeros_init_keeps_hidden_units_identical(hidden, unbalanced_flower):
    X, Y = unbalanced_flower
    net = Network([2, 4, 3, 1], hidden_activation=hidden, init="zeros")
    net.fit(X, Y, epochs=200, learning_rate=0.5)
    P = net.parameters
    for l in (1, 2):
        assert hidden_units_identical(P[f"W{l}"]), f"W{l}"
        assert hidden_units_identical(P[f"b{l}"]), f"b{l}"
    # layer 2 and the output see 4 (then 3) copies of one unit: their weights on them are equal
    assert hidden_units_identical(P["W2"].T) and hidden_units_identical(P["W3"].T)
    _, caches = net.forward(X)
    for cache in caches[:-1]:
        assert hidden_units_identical(cache.A)
    if hidden == "sigmoid":  # g(0) = 1/2: the weights do move, all units alike
        assert np.abs(P["W1"]).min() > 1e-3 and np.abs(P["W2"]).min() > 1e-3


@pytest.mark.parametrize("hidden", ["tanh", "relu"])
def test_equal_nonzero_init_keeps_hidden_units_identical(hidden, unbalanced_flower):
    """Not just zeros staying zero: any symmetric start stays symmetric."""
    X, Y = unbalanced_flower
    net = Network([2, 4, 3, 1], hidden_activation=hidden,
                  init=lambda n_out, n_in, rng: np.full((n_out, n_in), 0.3))
    net.fit(X, Y, epochs=200, learning_rate=0.1)
    for l in (1, 2):
        W = net.parameters[f"W{l}"]
        assert not np.allclose(W, 0.3)  # it trained
        assert hidden_units_identical(W), f"W{l}"


@pytest.mark.parametrize("hidden", ["tanh", "sigmoid", "relu"])
def test_random_init_breaks_symmetry(hidden, unbalanced_flower):
    X, Y = unbalanced_flower
    net = Network([2, 4, 3, 1], hidden_activation=hidden, init="xavier", seed=0)
    net.fit(X, Y, epochs=200, learning_rate=0.5)
    _, caches = net.forward(X)
    for l in (1, 2):
        assert min_row_gap(net.parameters[f"W{l}"]) > 1e-3
        if hidden != "relu":  # (dead relu units all output 0, alike but harmless)
            assert min_row_gap(caches[l - 1].A) > 1e-3


def min_row_gap(M):
    """The smallest max-abs difference between two rows of M."""
    n = M.shape[0]
    return min(np.abs(M[i] - M[j]).max() for i in range(n) for j in range(i + 1, n))


# ------------------------------------------------------------------ planar flower
def test_flower_four_tanh_units_beat_logistic_regression(flower):
    """The course's planar-data result: 4 tanh units (init N(0, 1) * 0.01, 10000 iterations
    at learning rate 1.2) fit the petals; logistic regression cannot (a line)."""
    X, Y = flower
    net = Network([2, 4, 1], hidden_activation="tanh", init="random", seed=1)
    net.fit(X, Y, epochs=10000, learning_rate=1.2)
    assert net.score(X, Y) >= 0.92  # measured 0.9425 (400 points: 9 points margin)
    logistic = Network([2, 1], init="zeros")
    logistic.fit(X, Y, epochs=2000, learning_rate=1.2)
    assert logistic.score(X, Y) < 0.60


# ------------------------------------------------------------------ bad input
def _net():
    return Network([3, 4, 1], seed=0)


X_OK = np.ones((3, 5))
Y_OK = np.array([[0, 1, 0, 1, 1]])

BAD_INPUTS = {
    "column counts differ": (
        lambda: _net().fit(X_OK, Y_OK[:, :4]), ValueError,
        r"X has 5 columns \(examples\) but Y has 4; they must be equal"),
    "X rows != n_x": (
        lambda: _net().fit(np.ones((2, 5)), Y_OK), ValueError,
        r"X has 2 rows .* expects n_x = 3; X must have shape \(3, m\)"),
    "NaN in X": (
        lambda: _net().fit(np.where(X_OK > 0, np.nan, 0), Y_OK), ValueError,
        "NaN or infinity; expected finite values"),
    "inf in X": (
        lambda: _net().fit(np.pad(X_OK[:, 1:], ((0, 0), (1, 0)), constant_values=np.inf), Y_OK),
        ValueError, "NaN or infinity; expected finite values"),
    "labels outside {0, 1}": (
        lambda: _net().fit(X_OK, Y_OK * 2), ValueError,
        "must hold labels 0 or 1 for a sigmoid output"),
    "Y not one-hot": (
        lambda: Network([3, 4, 3], output_activation="softmax").fit(X_OK, np.ones((3, 5))),
        ValueError, "must be one-hot for a softmax output"),
    "Y wrong number of rows": (
        lambda: _net().fit(X_OK, np.zeros((2, 5))), ValueError,
        r"Y must have shape \(1, m\)"),
    "empty X": (
        lambda: _net().fit(np.ones((3, 0)), np.ones((1, 0))), ValueError,
        "X is empty .* expected at least one example"),
    "non-numeric X": (
        lambda: _net().fit(np.array([["a", "b"], ["c", "d"], ["e", "f"]]), [[0, 1]]), TypeError,
        r"X must be numeric \(float, int or bool\); got dtype <U1"),
    "1-D X": (
        lambda: _net().fit(np.ones(3), [[1]]), ValueError,
        r"X must be 2-D with shape \(n_x, m\), one column per example; got shape \(3,\)"),
    "zero-width layer": (
        lambda: Network([3, 0, 1]), ValueError, "every layer needs at least 1 unit"),
    "non-integer layer": (
        lambda: Network([3, 2.5, 1]), ValueError, r"layer_dims must be at least \[n_x, n_y\]"),
    "one layer size only": (
        lambda: Network([3]), ValueError, r"at least \[n_x, n_y\]"),
    "unknown hidden activation": (
        lambda: Network([3, 4, 1], hidden_activation="swish"), ValueError,
        "unknown hidden activation 'swish'; expected one of sigmoid, tanh, relu"),
    "unknown output activation": (
        lambda: Network([3, 4, 1], output_activation="relu"), ValueError,
        "unknown output activation 'relu'; expected one of sigmoid, softmax, linear"),
    "unknown init": (
        lambda: Network([3, 4, 1], init="orthogonal"), ValueError,
        "unknown init 'orthogonal'; expected one of zeros, random, he, xavier, glorot"),
    "learning rate 0": (
        lambda: _net().fit(X_OK, Y_OK, learning_rate=0), ValueError,
        "learning_rate must be a finite number > 0; got 0"),
    "learning rate < 0": (
        lambda: _net().fit(X_OK, Y_OK, learning_rate=-0.1), ValueError,
        "learning_rate must be a finite number > 0"),
    "epochs 0": (
        lambda: _net().fit(X_OK, Y_OK, epochs=0), ValueError,
        "epochs must be an integer >= 1; got 0"),
    "epochs not an integer": (
        lambda: _net().fit(X_OK, Y_OK, epochs=2.5), ValueError, "epochs must be an integer >= 1"),
    "parameters missing a key": (
        lambda: setattr(_net(), "parameters", {"W1": np.zeros((4, 3)), "b1": np.zeros((4, 1)),
                                               "W2": np.zeros((1, 4))}),
        ValueError, r"exactly the keys W1, b1, W2, b2; missing \['b2'\]"),
    "parameters with a wrong shape": (
        lambda: setattr(_net(), "parameters", {"W1": np.zeros((3, 4)), "b1": np.zeros((4, 1)),
                                               "W2": np.zeros((1, 4)), "b2": np.zeros((1, 1))}),
        ValueError, r"parameters\['W1'\] must have shape \(4, 3\); got \(3, 4\)"),
    "parameters not a dict": (
        lambda: setattr(_net(), "parameters", [np.zeros((4, 3))]), TypeError,
        "parameters must be a dict with keys W1, b1, W2, b2"),
    "predict with the wrong number of features": (
        lambda: _net().predict(np.ones((4, 5))), ValueError,
        r"X has 4 rows .* expects n_x = 3"),
    "predict_proba with 1-D X": (
        lambda: _net().predict_proba(np.ones(3)), ValueError, "X must be 2-D"),
}


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_is_rejected_with_a_clear_message(case):
    call, error, message = BAD_INPUTS[case]
    with pytest.raises(error, match=message):
        call()


def test_bad_input_leaves_parameters_untouched():
    net = _net()
    before = {k: v.copy() for k, v in net.parameters.items()}
    with pytest.raises(ValueError, match="Y must hold labels 0 or 1 for a sigmoid output"):
        net.fit(X_OK, Y_OK * 2)
    for k, v in net.parameters.items():
        np.testing.assert_array_equal(v, before[k])


# ------------------------------------------------------------------ divergence
@pytest.mark.parametrize("dims", [[4, 1], [4, 8, 1]], ids=["linear_regression", "deep"])
def test_divergence_raises_and_keeps_parameters(dims):
    """Unscaled house prices (sizes ~ 100 m^2) at learning rate 1: the cost explodes."""
    X, Y = make_house_prices(m=100)
    net = Network(dims, hidden_activation="leaky_relu", output_activation="linear", seed=0)
    before = {k: v.copy() for k, v in net.parameters.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning (overflow, invalid) may leak
        with pytest.raises(FloatingPointError, match="diverged. Try a smaller learning_rate"):
            net.fit(X, Y, epochs=1000, learning_rate=1.0)
    for k, v in net.parameters.items():
        assert np.isfinite(v).all(), k
        np.testing.assert_array_equal(v, before[k])
    # the same network trains fine at a reasonable rate on standardized features
    Xs = (X - X.mean(axis=1, keepdims=True)) / X.std(axis=1, keepdims=True)
    history = net.fit(Xs, Y, epochs=200, learning_rate=0.05)
    assert np.isfinite(history.costs).all() and history.costs[-1] < history.costs[0]


def test_divergence_message_names_the_cost():
    X, Y = make_house_prices(m=100)
    net = Network([4, 1], output_activation="linear", init="zeros")
    with pytest.raises(FloatingPointError, match=r"the cost became (inf|nan) at epoch \d+"):
        net.fit(X, Y, epochs=1000, learning_rate=1.0)


# ------------------------------------------------------------------ dtype follows the data
OUTPUT_TARGETS = {
    "sigmoid": lambda m, rng: (rng.random((1, m)) < 0.5).astype(float),
    "softmax": lambda m, rng: one_hot(rng.integers(0, 3, m), 3),
    "linear": lambda m, rng: rng.standard_normal((2, m)),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("output", OUTPUT_TARGETS)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_dtype_follows_data(hidden, output, dtype):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 20)).astype(dtype)
    Y = OUTPUT_TARGETS[output](20, rng)  # float64 labels: X decides
    net = Network([3, 4, 3, Y.shape[0]], hidden, output, init="xavier", seed=0)
    history = net.fit(X, Y, epochs=3, learning_rate=0.1)
    assert all(isinstance(c, float) and np.isfinite(c) for c in history.costs)
    assert net.dtype == dtype
    assert {v.dtype for v in net.parameters.values()} == {np.dtype(dtype)}
    AL, caches = net.forward(X, training=True)
    assert AL.dtype == dtype
    assert all(c.A.dtype == dtype for c in caches)
    grads = net.backward(AL, Y, caches)  # float64 labels: the gradients still follow X
    assert {g.dtype for g in grads.values()} == {np.dtype(dtype)}
    assert net.predict_proba(X).dtype == dtype
    if output == "linear":
        assert net.predict(X).dtype == dtype


def test_float32_network_predicts_float32_and_float64():
    X64, Y = classification_data()
    net = Network([3, 4, 1], seed=0)
    net.fit(X64.astype(np.float32), Y, epochs=2, learning_rate=0.1)
    assert net.predict_proba(X64.astype(np.float32)).dtype == np.float32
    assert net.predict_proba(X64).dtype == np.float64
    assert net.dtype == np.float32  # prediction never converts the stored parameters


def test_backward_with_integer_labels_keeps_dtype():
    X, Y = classification_data()
    net = Network([3, 4, 1], seed=0).astype(np.float32)
    AL, caches = net.forward(X.astype(np.float32), training=True)
    grads = net.backward(AL, Y.astype(np.int64), caches)
    assert {g.dtype for g in grads.values()} == {np.dtype(np.float32)}
    expected = net.backward(AL, Y.astype(np.float32), caches)
    for k in grads:
        np.testing.assert_array_equal(grads[k], expected[k])


def test_integer_X_becomes_float64():
    X = np.random.default_rng(0).integers(0, 5, (3, 10))
    Y = (X[:1] > 2).astype(int)
    net = Network([3, 2, 1], seed=0)
    net.fit(X, Y, epochs=2, learning_rate=0.1)
    assert net.dtype == np.float64 and net.predict_proba(X).dtype == np.float64


def test_all_finite_uses_row_sums_and_falls_back_when_they_overflow():
    from mlpkit.nn.checks import all_finite

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for dtype in (np.float32, np.float64):
            big = np.full((3, 4), np.finfo(dtype).max / 2, dtype)  # row sums overflow to inf
            assert all_finite(big)
            for bad in (np.nan, np.inf, -np.inf):
                X = np.ones((3, 4), dtype)
                X[2, 1] = bad
                assert not all_finite(X)
                big[0, 0] = bad
                assert not all_finite(big)
                big[0, 0] = 1
