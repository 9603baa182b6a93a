"""Issue 3, "Training well": mini-batches, optimizers, decay, L2, dropout, batch norm, softmax,
each checked by its equation, by a gradient check, or by the result the notes show."""


import numpy as np
import pytest
from sklearn.datasets import load_digits, make_circles, make_moons
from sklearn.model_selection import train_test_split

from mlpkit import Network, gradient_check, one_hot
from mlpkit.optim.optimizers import Adam, GradientDescent, Momentum, RMSprop
from mlpkit.optim.schedules import (
    ExponentialDecay,
    InverseTimeDecay,
    SqrtDecay,
    StaircaseDecay,
)
from mlpkit.training import ArraySource, Batch, ExactShuffle, NoShuffle, train_step


def columns(X, y):
    """scikit-learn's (m, n_x), (m,) as the course's (n_x, m), (1, m)."""
    return X.T, y.reshape(1, -1).astype(np.float64)


# ------------------------------------------------------------------------- gradient checks
def shifted_biases(net, seed=0):
    """Random nonzero biases (and gamma, beta): with b = 0 an example whose relu inputs are all
    dropped has Z = b = 0 exactly, relu's kink, where finite differences are one-sided."""
    rng = np.random.default_rng(seed)
    for key, value in net.parameters.items():
        if key.startswith(("b", "gamma")):
            value[...] = rng.uniform(0.3, 1.0, value.shape) * rng.choice([-1, 1], value.shape)
        if key.startswith("gamma"):
            value += 2.0
    return net


def small_problem(n_y=1, m=7, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((4, m))
    if n_y == 1:
        return X, (rng.random((1, m)) > 0.5).astype(float)
    return X, one_hot(rng.integers(0, n_y, m), n_y)


GRADIENT_CASES = {
    "l2": ({}, {"l2": 0.7}),
    "batch_norm": ({"batch_norm": True}, {}),
    "batch_norm + l2, tanh": ({"batch_norm": True, "hidden_activation": "tanh"}, {"l2": 0.3}),
    "softmax": ({"output_activation": "softmax"}, {}),
    "softmax + l2": ({"output_activation": "softmax"}, {"l2": 0.5}),
    "dropout": ({}, {"keep_prob": 0.7, "seed": 3}),
    "dropout per layer": ({}, {"keep_prob": [0.6, 0.9], "seed": 1}),
    "dropout, seed None": ({}, {"keep_prob": 0.7, "seed": None}),
    "dropout + l2 + batch_norm": ({"batch_norm": True}, {"keep_prob": 0.8, "l2": 0.2, "seed": 2}),
    "all, softmax": (
        {"batch_norm": True, "output_activation": "softmax"},
        {"keep_prob": [0.8, 0.7], "l2": 0.4, "seed": 5},
    ),
}


@pytest.mark.parametrize("case", GRADIENT_CASES)
def test_gradient_check(case):
    net_options, fit_options = GRADIENT_CASES[case]
    n_y = 3 if net_options.get("output_activation") == "softmax" else 1
    X, Y = small_problem(n_y)
    net = shifted_biases(Network([4, 5, 3, n_y], seed=1, **net_options))
    assert gradient_check(net, X, Y, **fit_options) <= 1e-7


def test_gradient_check_catches_a_missing_l2_term(monkeypatch):
    X, Y = small_problem()
    net = shifted_biases(Network([4, 5, 3, 1], seed=1))
    backward = Network.backward
    monkeypatch.setattr(
        Network, "backward",
        lambda self, AL, Y, caches, l2=0.0, w=None: backward(self, AL, Y, caches, 0.0, w),
    )
    assert gradient_check(net, X, Y, l2=0.7) > 1e-3


def test_dropout_only_on_hidden_layers_and_off_in_predict():
    X, _ = small_problem(m=200)
    net = Network([4, 50, 50, 1], seed=0)
    _, caches = net.forward(X, training=True, keep_prob=[0.5, 0.5], rng=np.random.default_rng(0))
    assert caches[0].D is not None and caches[1].D is not None and caches[2].D is None
    assert 0.4 < caches[0].D.mean() < 0.6
    # inverted dropout: kept units are scaled by 1 / keep_prob, dropped ones are 0
    A1 = caches[1].A_prev
    np.testing.assert_allclose(A1, caches[0].A * caches[0].D / 0.5)


def test_a_network_trained_with_dropout_predicts_without_it():
    """After fitting with keep_prob 0.5, prediction is the plain forward pass written out over
    the parameters, sigma(W3 relu(W2 relu(W1 X + b1) + b2) + b3), with no unit dropped and no
    1 / keep_prob scaling, while a training pass with the same parameters does drop units."""
    X, Y = small_problem(m=200)
    net = Network([4, 50, 50, 1], seed=0)
    net.fit(X, Y, epochs=20, learning_rate=0.1, keep_prob=0.5, seed=0)
    P = net.parameters
    A1 = np.maximum(0, P["W1"] @ X + P["b1"])
    A2 = np.maximum(0, P["W2"] @ A1 + P["b2"])
    expected = 1 / (1 + np.exp(-(P["W3"] @ A2 + P["b3"])))
    np.testing.assert_allclose(net.predict_proba(X), expected, rtol=1e-12, atol=0)
    np.testing.assert_allclose(net.forward(X)[0], expected, rtol=1e-12, atol=0)
    dropped, _ = net.forward(X, training=True, keep_prob=[0.5, 0.5], rng=np.random.default_rng(1))
    assert np.abs(dropped - expected).max() > 1e-3


def test_l2_cost_term():
    X, Y = small_problem()
    net = Network([4, 5, 3, 1], seed=1)
    _, caches = net.forward(X)
    squares = sum(np.sum(net.parameters[f"W{l}"] ** 2) for l in (1, 2, 3))
    difference = net.compute_cost(Y, caches, l2=0.6) - net.compute_cost(Y, caches)
    assert difference == pytest.approx(0.6 / (2 * X.shape[1]) * squares, rel=1e-12)


# ------------------------------------------------------------------------- initialization
@pytest.fixture(scope="module")
def circles():
    """The course's data: np.random.seed(1) / seed(2) before make_circles(300 / 100, noise=.05)."""
    train = columns(*make_circles(n_samples=300, noise=0.05, random_state=1))
    test = columns(*make_circles(n_samples=100, noise=0.05, random_state=2))
    return train, test


def test_zeros_init_stays_symmetric_at_chance(circles):
    (X, Y), (X_test, Y_test) = circles
    net = Network([2, 10, 5, 1], init="zeros", seed=0)
    net.fit(X, Y, epochs=15000, learning_rate=0.01)
    assert net.score(X, Y) == 0.5
    assert net.score(X_test, Y_test) == 0.5
    for l in (1, 2):  # every unit of a layer still computes the same thing
        W = net.parameters[f"W{l}"]
        np.testing.assert_array_equal(W, np.broadcast_to(W[:1], W.shape))


def test_he_init_learns_the_circles(circles):
    (X, Y), (X_test, Y_test) = circles
    net = Network([2, 10, 5, 1], init="he", seed=0)
    history = net.fit(X, Y, epochs=15000, learning_rate=0.01)
    assert history.costs[-1] < 0.2
    assert net.score(X_test, Y_test) >= 0.93


# ------------------------------------------------------------------------- optimizers
@pytest.mark.slow
def test_adam_beats_minibatch_gd_on_moons():
    """The notes' comparison: [2, 5, 2, 1], He, batch 64, rate 0.0007, 5000 epochs."""
    X, Y = columns(*make_moons(n_samples=300, noise=0.2, random_state=3))
    accuracy = {}
    for optimizer in ("gd", "adam"):
        scores = []
        for seed in (0, 1, 2):
            net = Network([2, 5, 2, 1], init="he", seed=seed)
            net.fit(X, Y, epochs=5000, learning_rate=0.0007, batch_size=64, optimizer=optimizer,
                    seed=seed)
            scores.append(net.score(X, Y))
        accuracy[optimizer] = np.mean(scores)
    assert accuracy["adam"] >= 0.90
    assert accuracy["gd"] <= accuracy["adam"] - 0.05


class RecordingOptimizer(GradientDescent):
    """Gradient descent that records the learning rate of every update."""

    def __init__(self):
        self.rates = []

    def update(self, theta, dtheta, state, learning_rate):
        self.rates.append(learning_rate)
        super().update(theta, dtheta, state, learning_rate)


def test_history_records_the_rate_used_each_epoch():
    X, Y = small_problem(m=10)
    optimizer = RecordingOptimizer()
    schedule = ExponentialDecay(0.5)
    history = Network([4, 3, 1], seed=0).fit(
        X, Y, epochs=4, learning_rate=0.1, batch_size=5, optimizer=optimizer,
        lr_schedule=schedule,
    )
    expected = [0.1 * 0.5**e for e in range(4)]
    assert history.learning_rates == pytest.approx(expected, rel=1e-15)
    assert optimizer.rates == pytest.approx([r for r in expected for _ in range(2)], rel=1e-15)
    callable_history = Network([4, 3, 1], seed=0).fit(
        X, Y, epochs=3, learning_rate=0.3, lr_schedule=lambda epoch, a0: a0 / (epoch + 2)
    )
    assert callable_history.learning_rates == pytest.approx([0.15, 0.1, 0.075])


# ------------------------------------------------------------------------- mini-batches
class FrozenOptimizer:
    """Changes nothing, counts updates: the parameters stay fixed for a whole epoch."""

    def __init__(self):
        self.updates = 0

    def init(self, theta):
        return {}

    def check_state(self, state, theta):
        pass

    def update(self, theta, dtheta, state, learning_rate):
        self.updates += 1


class BatchSpy(Network):
    """A Network that records the size of each training batch."""

    def forward(self, X, training=False, keep_prob=None, rng=None):
        if training:
            self.batch_sizes.append(X.shape[1])
        return super().forward(X, training, keep_prob, rng)


def test_epoch_cost_is_the_average_over_all_examples():
    X, Y = small_problem(m=10, seed=4)
    net = Network([4, 5, 1], seed=0)
    full_cost, _ = net.evaluate(X, Y)
    for batch_size in (1, 3, 4, 10, None):
        history = net.fit(X, Y, epochs=2, batch_size=batch_size, optimizer=FrozenOptimizer(),
                          seed=0)
        assert history.costs == pytest.approx([full_cost, full_cost], rel=1e-12)


def test_mini_batches_partition_the_examples_and_the_last_is_smaller():
    X, Y = small_problem(m=10)
    order = ExactShuffle().order(0, 10, np.random.default_rng(0))
    batches = list(ArraySource(X, Y).batches(order, 4))
    assert [b.size for b in batches] == [4, 4, 2]
    gathered = np.concatenate([b.X for b in ArraySource(X, Y).batches(order, 10)], axis=1)
    np.testing.assert_array_equal(gathered, X[:, order])
    assert sorted(order) == list(range(10))
    net = BatchSpy([4, 3, 1], seed=0)
    net.batch_sizes = []
    optimizer = FrozenOptimizer()
    net.fit(X, Y, epochs=2, batch_size=4, optimizer=optimizer, seed=0)
    assert net.batch_sizes == [4, 4, 2, 4, 4, 2]
    assert optimizer.updates == 6
    net.batch_sizes = []
    net.fit(X, Y, epochs=3, batch_size=None, seed=0)
    assert net.batch_sizes == [10, 10, 10]  # None: full batch, one step per epoch


def test_batch_size_one_is_stochastic_gradient_descent():
    X, Y = small_problem(m=8)
    net = BatchSpy([4, 3, 1], seed=0)
    net.batch_sizes = []
    net.fit(X, Y, epochs=1, learning_rate=0.05, batch_size=1, seed=7)
    assert net.batch_sizes == [1] * 8
    # the same: one update per example, in the order of the seeded shuffle
    by_hand = Network([4, 3, 1], seed=0)
    gd = GradientDescent()
    state = gd.init(by_hand.parameters.vector)
    for i in np.random.default_rng(7).permutation(8):
        train_step(by_hand, Batch(X[:, [i]], Y[:, [i]]), gd, state, 0.05)
    for key, value in by_hand.parameters.items():
        np.testing.assert_allclose(net.parameters[key], value, rtol=1e-12)


def test_seeded_shuffling_is_reproducible():
    X, Y = small_problem(m=30)

    def fit(seed):
        net = Network([4, 6, 1], seed=0)
        history = net.fit(X, Y, epochs=5, learning_rate=0.1, batch_size=8, seed=seed)
        return history.costs, net.parameters

    costs_a, params_a = fit(5)
    costs_b, params_b = fit(5)
    costs_c, params_c = fit(6)
    assert costs_a == costs_b
    for key in params_a:
        np.testing.assert_array_equal(params_a[key], params_b[key])
    assert costs_a != costs_c


# ------------------------------------------------------------------------- regularization
@pytest.fixture(scope="module")
def overfitting_moons():
    """80 noisy training points, 1000 test points: a [2, 64, 64, 1] network memorizes them."""
    train = columns(*make_moons(n_samples=80, noise=0.35, random_state=0))
    test = columns(*make_moons(n_samples=1000, noise=0.35, random_state=1))
    return train, test


def gap(data, **options):
    (X, Y), (X_test, Y_test) = data
    net = Network([2, 64, 64, 1], seed=0)
    net.fit(X, Y, epochs=3000, learning_rate=0.01, optimizer="adam", seed=0, **options)
    return net.score(X, Y) - net.score(X_test, Y_test)


def test_l2_and_dropout_narrow_the_overfitting_gap(overfitting_moons):
    plain = gap(overfitting_moons)
    assert plain >= 0.05
    assert gap(overfitting_moons, l2=0.3) <= plain - 0.05
    assert gap(overfitting_moons, keep_prob=0.5) <= plain - 0.03


def test_early_stopping_restores_the_best_parameters(overfitting_moons):
    (X, Y), (X_val, Y_val) = overfitting_moons
    snapshots = []
    net = Network([2, 64, 64, 1], seed=0)
    history = net.fit(
        X, Y, epochs=3000, learning_rate=0.01, optimizer="adam", seed=0,
        validation_data=(X_val, Y_val), patience=20,
        callback=lambda epoch, h: snapshots.append(net.copy_state()[0]),
    )
    assert history.stopped_early
    assert history.best_epoch == int(np.argmin(history.val_costs))
    assert history.epochs == history.best_epoch + 20 + 1
    best = snapshots[history.best_epoch]
    for key, value in net.parameters.items():
        np.testing.assert_array_equal(value, best[key])
    assert net.evaluate(X_val, Y_val)[0] == pytest.approx(min(history.val_costs), rel=1e-12)


# ------------------------------------------------------------------------- batch norm
def test_batch_norm_parameters_replace_hidden_biases():
    net = Network([4, 5, 3, 1], batch_norm=True, seed=0)
    assert set(net.parameters) == {"W1", "gamma1", "beta1", "W2", "gamma2", "beta2", "W3", "b3"}
    assert set(net.running_stats) == {"mean1", "var1", "mean2", "var2"}


def test_batch_norm_predicts_with_running_statistics():
    X, Y = small_problem(m=64, seed=1)
    net = Network([4, 8, 6, 1], batch_norm=True, seed=0)
    net.fit(X, Y, epochs=50, learning_rate=0.05, batch_size=16, seed=0)
    alone = np.hstack([net.predict_proba(X[:, [i]]) for i in range(5)])
    in_batch = net.predict_proba(X)[:, :5]
    in_other_batch = net.predict_proba(X[:, [4, 3, 2, 1, 0, 40, 50]])[:, :5][:, ::-1]
    np.testing.assert_allclose(alone, in_batch, rtol=1e-12)
    np.testing.assert_allclose(in_other_batch, in_batch, rtol=1e-12)
    # whereas training mode normalizes with the batch's own statistics
    with_others = net.forward(X[:, :5], training=True)[0]
    with_fewer = net.forward(X[:, :3], training=True)[0]
    assert not np.allclose(with_others[:, :3], with_fewer)


def test_running_statistics_move_toward_the_batch_statistics():
    X, Y = small_problem(m=32, seed=2)
    X = X * 3 + 2
    net = Network([4, 5, 1], batch_norm=True, seed=0)
    Z1 = net.parameters["W1"] @ X
    mu, var = Z1.mean(axis=1, keepdims=True), Z1.var(axis=1, keepdims=True)
    net.fit(X, Y, epochs=1, learning_rate=1e-12)
    np.testing.assert_allclose(net.running_stats["mean1"], 0.1 * mu, rtol=1e-9)
    np.testing.assert_allclose(net.running_stats["var1"], 0.9 + 0.1 * var, rtol=1e-9)
    distances = []
    net.fit(X, Y, epochs=60, learning_rate=1e-12,
            callback=lambda e, h: distances.append(np.abs(net.running_stats["mean1"] - mu).max()))
    assert (np.diff(distances) < 0).all()
    np.testing.assert_allclose(net.running_stats["mean1"], mu, atol=1e-2 * np.abs(mu).max())
    np.testing.assert_allclose(net.running_stats["var1"], var, rtol=1e-2)


# ------------------------------------------------------------------------- softmax
def test_softmax_digits_with_adam():
    digits = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(
        digits.data / 16.0, digits.target, test_size=0.3, random_state=0, stratify=digits.target
    )
    net = Network([64, 64, 10], output_activation="softmax", seed=0)
    net.fit(X_train.T, one_hot(y_train, 10), epochs=100, learning_rate=0.001, batch_size=64,
            optimizer="adam", seed=0)
    assert net.predict(X_test.T).shape == (1, len(y_test))
    assert net.score(X_test.T, one_hot(y_test, 10)) >= 0.96  # measured 0.978 (540 examples)


# ------------------------------------------------------------------------- bad options
@pytest.mark.parametrize(
    "options, message",
    [
        ({"keep_prob": 0}, r"keep_prob must be in \(0, 1\]"),
        ({"keep_prob": 1.5}, r"keep_prob must be in \(0, 1\]"),
        ({"keep_prob": -0.2}, r"keep_prob must be in \(0, 1\]"),
        ({"keep_prob": [0.5, 1.2]}, r"keep_prob must be in \(0, 1\]"),
        ({"l2": -0.1}, r"l2 must be a finite number >= 0"),
        ({"batch_size": 0}, r"batch_size must be an integer >= 1"),
        ({"batch_size": -3}, r"batch_size must be an integer >= 1"),
        ({"optimizer": "adamw"}, r"gd, sgd, momentum, nesterov, rmsprop, adam"),
        ({"lr_schedule": "cosine"}, r"constant, inverse_time, exponential, sqrt, staircase"),
        ({"tol": -1}, r"tol must be a finite number >= 0"),
        ({"tol": "abc"}, r"tol must be a finite number >= 0"),
    ],
)
def test_bad_training_options_name_the_allowed_values(options, message):
    X, Y = small_problem()
    net = Network([4, 5, 3, 1], seed=0)
    before = {k: v.copy() for k, v in net.parameters.items()}
    with pytest.raises(ValueError, match=message):
        net.fit(X, Y, epochs=2, **options)
    for key, value in before.items():
        np.testing.assert_array_equal(net.parameters[key], value)


def test_dropout_needs_hidden_layers():
    X, Y = small_problem()
    net = Network([4, 1], seed=0)
    before = {k: v.copy() for k, v in net.parameters.items()}
    with pytest.raises(ValueError, match="keep_prob = 0.5 needs hidden layers.*has none"):
        net.fit(X, Y, epochs=2, keep_prob=0.5)
    with pytest.raises(ValueError, match="keep_prob = 0.5 needs hidden layers"):
        gradient_check(net, X, Y, keep_prob=0.5)
    with pytest.raises(ValueError, match=r"a list of 0 \(one per hidden layer\)"):
        net.fit(X, Y, epochs=2, keep_prob=[0.5])
    for key, value in before.items():
        np.testing.assert_array_equal(net.parameters[key], value)
    net.fit(X, Y, epochs=2, keep_prob=1.0)  # no dropout: fine


def test_gradient_check_rejects_bad_options():
    X, Y = small_problem()
    net = Network([4, 5, 3, 1], seed=0)
    with pytest.raises(ValueError, match=r"keep_prob must be in \(0, 1\]"):
        gradient_check(net, X, Y, keep_prob=2)
    with pytest.raises(ValueError, match=r"l2 must be a finite number >= 0"):
        gradient_check(net, X, Y, l2=-1)
    with pytest.raises(ValueError, match=r"epsilon must be"):
        gradient_check(net, X, Y, epsilon=0)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Momentum(beta=1.5), "beta must be in"),
        (lambda: RMSprop(beta2=1.0), "beta2 must be in"),
        (lambda: Adam(beta1=-0.1), "beta1 must be in"),
        (lambda: Adam(epsilon=0), "epsilon must be"),
        (lambda: InverseTimeDecay(decay_rate=-1), "decay_rate must be"),
        (lambda: ExponentialDecay(rate=0), "rate must be"),
        (lambda: SqrtDecay(k=-2), "k must be"),
        (lambda: StaircaseDecay(interval=0), "interval must be"),
    ],
)
def test_optimizer_and_schedule_settings_are_checked(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_shuffle_false_takes_batches_in_order():
    X7, Y7 = small_problem(m=7)
    order = NoShuffle().order(0, 7, np.random.default_rng(0))
    batches = [b.X.copy() for b in ArraySource(X7, Y7).batches(order, 3)]
    for batch, columns_ in zip(batches, [[0, 1, 2], [3, 4, 5], [6]], strict=True):
        np.testing.assert_array_equal(batch, X7[:, columns_])
    X, Y = small_problem(m=20)

    def two_epochs(shuffle, seed):
        net = Network([4, 3, 1], seed=0)
        return net.fit(X, Y, epochs=2, learning_rate=0.5, batch_size=6, shuffle=shuffle,
                       seed=seed).costs

    assert two_epochs(False, 0) == two_epochs(False, 1)  # in order: the seed changes nothing
    assert two_epochs(True, 0) != two_epochs(True, 1)


def test_the_dropout_fraction_needs_hidden_layers_too():
    from mlpkit.nn.checks import keep_prob_from_dropout

    for dropout in (0.5, [0.5]):
        with pytest.raises(ValueError, match="dropout needs hidden layers.*has none"):
            keep_prob_from_dropout(dropout, 0)
    assert keep_prob_from_dropout(0.0, 0) is None


class PlainSGD:
    """A custom optimizer with only init and update (no check_state, config)."""

    def init(self, theta):
        return {}

    def update(self, theta, dtheta, state, learning_rate):
        theta -= learning_rate * dtheta


def test_a_custom_optimizer_needs_only_init_and_update():
    X, Y = small_problem()
    net, reference = Network([4, 5, 1], seed=0), Network([4, 5, 1], seed=0)
    net.fit(X, Y, epochs=3, learning_rate=0.1, optimizer=PlainSGD())
    reference.fit(X, Y, epochs=3, learning_rate=0.1, optimizer="gd")
    np.testing.assert_allclose(net.parameters.vector, reference.parameters.vector, rtol=1e-12)


def test_a_source_with_targets_of_the_wrong_size_is_refused():
    from mlpkit.training.batches import ArraySource

    X, Y = small_problem()
    net = Network([4, 5, 1], seed=0)
    with pytest.raises(ValueError, match="targets with 2 rows but the network has 1 output"):
        net.fit(ArraySource(X, np.vstack([Y, Y])), epochs=1)


def test_an_epoch_with_no_examples_is_a_clear_error():
    from mlpkit.training.batches import ArraySource

    class Empty(ArraySource):
        def batches(self, order, batch_size):
            return iter(())

    X, Y = small_problem()
    net = Network([4, 5, 1], seed=0)
    before = net.parameters.vector.copy()
    with pytest.raises(ValueError, match="the data source gave no examples in epoch 0"):
        net.fit(Empty(X, Y), epochs=2, batch_size=4)
    np.testing.assert_array_equal(net.parameters.vector, before)
