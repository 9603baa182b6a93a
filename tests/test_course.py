"""The course's published cat/non-cat runs, reproduced exactly from the course's initialization.

Each run takes seconds to minutes, so it happens once per dtype (cached) and every number is
asserted from that one run.
"""

import functools

import numpy as np
import pytest

from mlpkit import Network
from mlpkit.data import flatten_images, load_cat_data, make_flower, make_moons
from mlpkit.training import CourseShuffle

pytestmark = pytest.mark.slow

DEEP = [12288, 20, 7, 5, 1]
TWO_LAYER = [12288, 7, 1]


def course_deep_init(layer_dims):
    """The course's initialize_parameters_deep: np.random.seed(1), then for l = 1..L
    W[l] = randn(n[l], n[l-1]) / sqrt(n[l-1]), b[l] = 0."""
    rng = np.random.RandomState(1)  # the same draws as np.random.seed(1); np.random.randn
    P = {}
    for l in range(1, len(layer_dims)):
        P[f"W{l}"] = rng.randn(layer_dims[l], layer_dims[l - 1]) / np.sqrt(layer_dims[l - 1])
        P[f"b{l}"] = np.zeros((layer_dims[l], 1))
    return P


def course_two_layer_init(n_x, n_h, n_y):
    """The course's initialize_parameters: np.random.seed(1), W = randn * 0.01, b = 0."""
    rng = np.random.RandomState(1)  # the same draws as np.random.seed(1); np.random.randn
    W1 = rng.randn(n_h, n_x) * 0.01
    W2 = rng.randn(n_y, n_h) * 0.01
    return {"W1": W1, "b1": np.zeros((n_h, 1)), "W2": W2, "b2": np.zeros((n_y, 1))}


@functools.cache
def cat_data(folder, dtype):
    train_x, train_y, test_x, test_y, _ = load_cat_data(folder)
    return flatten_images(train_x, dtype), train_y, flatten_images(test_x, dtype), test_y


@functools.cache
def deep_run(folder, dtype):
    """Network([12288, 20, 7, 5, 1]) relu/sigmoid, 2500 full-batch iterations at 0.0075."""
    X, Y, X_test, Y_test = cat_data(folder, dtype)
    net = Network(DEEP, hidden_activation="relu", output_activation="sigmoid")
    net.parameters = course_deep_init(DEEP)
    history = net.fit(X, Y, epochs=2500, learning_rate=0.0075)
    return net, history


@pytest.fixture
def data(cat_data_dir):
    return str(cat_data_dir)


def test_deep_network_reproduces_the_published_run(data):
    net, history = deep_run(data, "float64")
    X, Y, X_test, Y_test = cat_data(data, "float64")
    assert len(history.costs) == 2500
    assert history.costs[0] == pytest.approx(0.7717493, abs=1e-6)
    assert history.costs[2400] == pytest.approx(0.0928782, abs=1e-6)
    train_accuracy, test_accuracy = net.score(X, Y), net.score(X_test, Y_test)
    assert train_accuracy == 206 / 209 and round(train_accuracy, 4) == 0.9856
    assert test_accuracy == 0.80
    np.testing.assert_array_equal(net.predict(X_test), net.predict_proba(X_test) > 0.5)


def test_deep_network_float32_stays_float32(data):
    """The published run in float32: float32 data, parameters, activations, gradients and
    outputs, and the same optimization as float64 where that is determined.

    While the cost falls smoothly (iterations 0-249) float32 follows float64 to about 1e-7
    (measured 1.3e-7 and 1.4e-7 on two processors; first past 1e-5 at iteration 278). From about
    280 this run's cost oscillates, which amplifies rounding, so what follows depends on more
    than the dtype: the processor's BLAS kernel, its threads and memory alignment. The final
    test accuracy is 0.76-0.80 on some machines and 0.74 on an AMD EPYC (3 of 50 examples), so
    it is not asserted. What holds everywhere: the float32 run ends where float64's does, its
    final cost within the range float64's cost spans over iterations 2000-2499 widened by that
    range's width (0.088-0.117 measured; float32's final cost 0.085), and its training accuracy
    is at least what that cost guarantees, 1 - J / ln 2 (a misclassified example costs at least
    ln 2).
    """
    net, history = deep_run(data, "float32")
    _, history64 = deep_run(data, "float64")
    X, Y, X_test, Y_test = cat_data(data, "float32")
    assert X.dtype == np.float32
    assert net.dtype == np.float32
    assert {v.dtype for v in net.parameters.values()} == {np.dtype(np.float32)}
    assert net.predict_proba(X_test).dtype == np.float32
    AL, caches = net.forward(X, training=True)
    assert {c.A.dtype for c in caches} == {np.dtype(np.float32)}
    assert {g.dtype for g in net.backward(AL, Y, caches).values()} == {np.dtype(np.float32)}
    costs32, costs64 = np.array(history.costs), np.array(history64.costs)
    assert history.costs[0] == pytest.approx(0.7717493, abs=1e-6)
    np.testing.assert_allclose(costs32[:250], costs64[:250], rtol=0, atol=1e-5)
    low, high = costs64[2000:].min(), costs64[2000:].max()
    final_cost = float(net.compute_cost(Y, caches))
    assert low - (high - low) <= final_cost <= high + (high - low)
    assert net.score(X, Y) >= 1 - final_cost / np.log(2)


def test_two_layer_network_reproduces_the_published_run(data):
    """[12288, 7, 1] relu/sigmoid, 2500 iterations at 0.0075: cost 0.693049735659989 at
    iteration 0, 0.048554785628770206 at 2400; train accuracy 1.0, test 0.72."""
    X, Y, X_test, Y_test = cat_data(data, "float64")
    net = Network(TWO_LAYER)
    net.parameters = course_two_layer_init(12288, 7, 1)
    history = net.fit(X, Y, epochs=2500, learning_rate=0.0075)
    assert history.costs[0] == pytest.approx(0.6930497356599888, abs=1e-9)
    assert history.costs[2400] == pytest.approx(0.048554785628770206, abs=1e-9)
    assert net.score(X, Y) == 1.0
    assert net.score(X_test, Y_test) == 0.72


def test_logistic_regression_reproduces_the_published_run(data):
    """The course's logistic regression: zeros init, 2000 iterations at 0.005: cost 0.693147 at
    iteration 0 and 0.140872 at 1900; train accuracy 99.04%, test 70%."""
    X, Y, X_test, Y_test = cat_data(data, "float64")
    net = Network([12288, 1], output_activation="sigmoid", init="zeros")
    history = net.fit(X, Y, epochs=2000, learning_rate=0.005)
    assert history.costs[0] == pytest.approx(np.log(2), abs=1e-12)
    assert history.costs[100] == pytest.approx(0.584508, abs=1e-6)
    assert history.costs[1900] == pytest.approx(0.140872, abs=1e-6)
    assert net.score(X, Y) == 207 / 209
    assert net.score(X_test, Y_test) == 0.70


def test_a_legacy_random_state_seed_gives_the_course_initialization():
    """Network(..., seed=np.random.RandomState(1)) draws the course's weights: "xavier" is its
    randn / sqrt(n[l-1]) (equal up to rounding: sqrt(1/n) vs 1/sqrt(n)), "random" its
    randn * 0.01 (bit for bit)."""
    deep = Network(DEEP, init="xavier", seed=np.random.RandomState(1)).parameters
    expected = course_deep_init(DEEP)
    assert deep.keys() == expected.keys()
    for key, value in expected.items():
        np.testing.assert_allclose(deep[key], value, rtol=1e-15, atol=0)

    two_layer = Network(TWO_LAYER, init="random", seed=np.random.RandomState(1)).parameters
    for key, value in course_two_layer_init(12288, 7, 1).items():
        np.testing.assert_array_equal(two_layer[key], value)


# ------------------------------------------------------------------ course 1: the planar flower
def course_flower_by_hand():
    """The course's load_planar_dataset(), transcribed: np.random.seed(1), then per class j
    t = linspace(3.12 j, 3.12 (j + 1), 200) + 0.2 randn, r = 4 sin(4 t) + 0.2 randn."""
    rng = np.random.RandomState(1)
    X, Y = np.zeros((400, 2)), np.zeros((400, 1))
    for j in range(2):
        ix = range(200 * j, 200 * (j + 1))
        t = np.linspace(j * 3.12, (j + 1) * 3.12, 200) + rng.randn(200) * 0.2
        r = 4 * np.sin(4 * t) + rng.randn(200) * 0.2
        X[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
        Y[ix] = j
    return X.T, Y.T


def test_the_course_flower_and_its_planar_run():
    """4 tanh units from the course's seed 2, rate 1.2, 10000 iterations. The course prints
    the costs every 1000 iterations and 'Accuracy: 90%' (90.75% by %d). Its published copies
    agree to 6 decimals up to iteration 7000, then differ among themselves by up to 5e-5
    (rounding, amplified): 8000 and 9000 are checked to that spread."""
    X, Y = make_flower(seed=np.random.RandomState(1))
    X_hand, Y_hand = course_flower_by_hand()
    np.testing.assert_array_equal(X, X_hand)
    np.testing.assert_array_equal(Y, Y_hand)
    net = Network([2, 4, 1], hidden_activation="tanh", init="random",
                  seed=np.random.RandomState(2))
    costs = net.fit(X, Y, epochs=10000, learning_rate=1.2).costs
    published = [0.693048, 0.288083, 0.254385, 0.233864, 0.226792, 0.222644, 0.219731, 0.217504]
    assert [round(costs[i], 6) for i in range(0, 8000, 1000)] == published
    assert costs[8000] == pytest.approx(0.21946, abs=5e-5)
    assert costs[9000] == pytest.approx(0.21859, abs=5e-5)
    assert net.score(X, Y) == 0.9075 and int(net.score(X, Y) * 100) == 90


# ------------------------------------------------------------------ course 2: optimizers on moons
@pytest.mark.parametrize("optimizer, accuracy", [("gd", 0.797), ("momentum", 0.797),
                                                 ("adam", 0.94)])
def test_the_course_optimization_comparison_on_moons(optimizer, accuracy):
    """The course's model(): moons after np.random.seed(3), [2, 5, 2, 1] relu/sigmoid with He
    init from seed 3, rate 0.0007, mini-batches of 64 shuffled with seed 10 + 1 + epoch, 10000
    epochs. It prints training accuracy 0.7966666666666666 for gradient descent and momentum
    (beta 0.9) and 0.94 for Adam."""
    X, Y = make_moons(300, noise=0.2, seed=np.random.RandomState(3))
    net = Network([2, 5, 2, 1], init="he", seed=np.random.RandomState(3))
    net.fit(X, Y, epochs=10000, learning_rate=0.0007, batch_size=64, optimizer=optimizer,
            shuffle="course", seed=10)
    assert net.score(X, Y) == pytest.approx(accuracy, abs=5e-4)


def test_the_course_shuffle_is_its_random_mini_batches():
    """Epoch e's mini-batches are those of the course's random_mini_batches(X, Y, 64, seed)
    with seed = 10 + 1 + e: np.random.seed(seed), then np.random.permutation(m)."""
    order = CourseShuffle(10).order(4, 300, rng=None)
    saved = np.random.get_state()  # noqa: NPY002 (the course calls the global generator)
    try:
        np.random.seed(15)  # noqa: NPY002
        np.testing.assert_array_equal(order, np.random.permutation(300))  # noqa: NPY002
    finally:
        np.random.set_state(saved)  # noqa: NPY002
