"""Explicit training state: a run saved and resumed (in memory, or through a model file) ends bit
for bit where one uninterrupted run ends, for every optimizer, with dropout, batch norm,
shuffling, schedules and early-stopping bookkeeping; Ctrl-C puts back the last completed epoch."""

import numpy as np
import pytest

import mlpkit
from mlpkit import Network, one_hot
from mlpkit.training import TrainingInterrupted

OPTIMIZERS = ["gd", "momentum", "nesterov", "rmsprop", "adam"]


def data(m=50, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((4, m))
    return X, one_hot(rng.integers(0, 3, m), 3), rng.standard_normal((4, 20))


def network(batch_norm=True):
    return Network([4, 6, 5, 3], output_activation="softmax", batch_norm=batch_norm, seed=1)


def options(X_val, Y_val, **changes):
    return {"learning_rate": 0.05, "batch_size": 16, "keep_prob": 0.8, "lr_schedule": "sqrt",
            "l2": 0.01, "validation_data": (X_val, Y_val), "patience": 100, "seed": 7,
            **changes}


def assert_same_run(a, b):
    np.testing.assert_array_equal(a.parameters.vector, b.parameters.vector)
    for key, value in a.running_stats.items():
        np.testing.assert_array_equal(b.running_stats[key], value)
    assert a.training_state.history.costs == b.training_state.history.costs
    assert a.training_state.history.val_scores == b.training_state.history.val_scores
    assert a.training_state.epoch == b.training_state.epoch


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("shuffle", [True, "course"])
def test_a_saved_and_resumed_fit_equals_one_fit(tmp_path, optimizer, shuffle):
    X, Y, X_val = data()
    Y_val = one_hot(np.arange(20) % 3, 3)
    fit = options(X_val, Y_val, optimizer=optimizer, shuffle=shuffle)
    whole = network()
    whole.fit(X, Y, epochs=9, **fit)

    part = network()
    part.fit(X, Y, epochs=4, **fit)
    assert part.training_state.epoch == 4
    path = mlpkit.save(part, tmp_path / "part.npz")
    loaded = mlpkit.load(path)
    loaded.fit(X, Y, epochs=9, resume=True, **fit)
    assert_same_run(whole, loaded)

    part.fit(X, Y, epochs=9, resume=True, **fit)  # in memory, no file
    assert_same_run(whole, part)


def test_resuming_after_the_run_ended_changes_nothing():
    X, Y, X_val = data()
    Y_val = one_hot(np.arange(20) % 3, 3)
    fit = options(X_val, Y_val, patience=2, learning_rate=0.5)
    net = network()
    history = net.fit(X, Y, epochs=200, **fit)
    assert history.stopped_early and history.epochs < 200
    before = net.parameters.vector.copy()
    net.fit(X, Y, epochs=200, resume=True, **fit)
    np.testing.assert_array_equal(net.parameters.vector, before)
    assert net.training_state.history.epochs == history.epochs


def test_resume_needs_a_state_and_the_same_settings():
    X, Y, X_val = data()
    net = network(batch_norm=False)
    with pytest.raises(ValueError, match="resume=True needs a training state"):
        net.fit(X, Y, epochs=3, resume=True)
    net.fit(X, Y, epochs=2, learning_rate=0.1, optimizer="adam", seed=0)
    with pytest.raises(ValueError, match=r"learning_rate=0.2 \(was 0.1\)"):
        net.fit(X, Y, epochs=3, learning_rate=0.2, optimizer="adam", seed=0, resume=True)
    with pytest.raises(ValueError, match="optimizer="):
        net.fit(X, Y, epochs=3, learning_rate=0.1, optimizer="rmsprop", seed=0, resume=True)


class InterruptingNetwork(Network):
    """Raises KeyboardInterrupt (as Ctrl-C would) at its n-th training forward pass."""

    def forward(self, X, training=False, keep_prob=None, rng=None):
        if training:
            self.calls += 1
            if self.calls == self.interrupt_at:
                raise KeyboardInterrupt
        return super().forward(X, training, keep_prob, rng)


@pytest.mark.parametrize("patience", [None, 100])
def test_ctrl_c_puts_back_the_last_completed_epoch(tmp_path, patience):
    """Ctrl-C ends the run after its last completed epoch as a finished run ends: with early
    stopping (patience) its best epoch is put back and the last one kept to resume from."""
    X, Y, X_val = data()
    Y_val = one_hot(np.arange(20) % 3, 3)
    fit = options(X_val, Y_val, optimizer="adam", patience=patience)
    whole = network()
    whole.fit(X, Y, epochs=6, **fit)
    after_three = network()
    after_three.fit(X, Y, epochs=3, **fit)

    net = InterruptingNetwork([4, 6, 5, 3], output_activation="softmax", batch_norm=True, seed=1)
    net.calls, net.interrupt_at = 0, 3 * 4 + 2  # 4 batches an epoch: in the 4th epoch
    with pytest.raises(TrainingInterrupted) as interrupted:
        net.fit(X, Y, epochs=6, interruptible=True, **fit)
    assert interrupted.value.epochs_done == 3
    assert_same_run(after_three, net)
    loaded = mlpkit.load(mlpkit.save(net, tmp_path / "stopped.npz"))
    loaded.fit(X, Y, epochs=6, resume=True, **fit)
    assert_same_run(whole, loaded)


def test_without_interruptible_ctrl_c_propagates_mid_epoch():
    X, Y, _ = data()
    net = InterruptingNetwork([4, 6, 3], output_activation="softmax", seed=1)
    net.calls, net.interrupt_at = 0, 2
    with pytest.raises(KeyboardInterrupt) as interrupted:
        net.fit(X, Y, epochs=3, batch_size=16)
    assert not isinstance(interrupted.value, TrainingInterrupted)


def test_divergence_puts_the_state_back_too():
    """A resumed run that diverges leaves the network and its training state as they were."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 40)) * 100
    Y = X.sum(axis=0, keepdims=True) ** 2
    net = Network([3, 5, 1], output_activation="linear", seed=0)
    fit = {"learning_rate": 0.01, "optimizer": "momentum", "seed": 0}
    net.fit(X, Y, epochs=1, **fit)
    before, state = net.parameters.vector.copy(), net.training_state.copy()
    with pytest.raises(mlpkit.DivergenceError, match="restored to their values before"):
        net.fit(X, Y, epochs=500, resume=True, **fit)
    np.testing.assert_array_equal(net.parameters.vector, before)
    assert net.training_state.epoch == state.epoch == 1
    np.testing.assert_array_equal(net.training_state.optimizer["v"], state.optimizer["v"])
    assert net.training_state.history.costs == state.history.costs
    with pytest.raises(mlpkit.DivergenceError):  # a new run: the old state stays
        net.fit(X, Y, epochs=500, learning_rate=0.02, optimizer="gd")
    assert net.training_state.config["optimizer"]["name"] == "momentum"


class FailingNetwork(InterruptingNetwork):
    """Raises OSError (a data file gone, say) at its n-th training forward pass."""

    def forward(self, X, training=False, keep_prob=None, rng=None):
        try:
            return super().forward(X, training, keep_prob, rng)
        except KeyboardInterrupt:
            raise OSError("the data went away") from None


@pytest.mark.parametrize("interruptible, epochs_kept", [(True, 3), (False, 0)])
def test_an_error_mid_epoch_leaves_nothing_half_trained(interruptible, epochs_kept):
    """The last completed epoch when it was kept (interruptible=True, as the command runs),
    else the network as it was before the call."""
    X, Y, _ = data()
    fit = {"learning_rate": 0.05, "batch_size": 16, "optimizer": "adam", "seed": 7}
    reference = network(batch_norm=False)
    if epochs_kept:
        reference.fit(X, Y, epochs=epochs_kept, **fit)
    net = FailingNetwork([4, 6, 5, 3], output_activation="softmax", seed=1)
    net.calls, net.interrupt_at = 0, 3 * 4 + 2
    with pytest.raises(OSError, match="the data went away"):
        net.fit(X, Y, epochs=6, interruptible=interruptible, **fit)
    np.testing.assert_array_equal(net.parameters.vector, reference.parameters.vector)
    if epochs_kept:
        assert net.training_state.epoch == epochs_kept
    else:
        assert net.training_state is None


def test_parameters_made_non_finite_by_the_last_step_are_caught():
    """The last step of a run can leave an infinite weight behind a finite cost (the cost is
    computed before the step): the end of the run checks theta too."""
    X = np.array([[1.0, 2.0, 3.0]])
    net = Network([1, 1], output_activation="linear", seed=0)
    before = net.parameters.vector.copy()
    with pytest.raises(mlpkit.DivergenceError, match="the parameters became NaN or infinite at "
                                                     "epoch 0"):
        net.fit(X, X * 1e5, epochs=1, learning_rate=1e306)
    np.testing.assert_array_equal(net.parameters.vector, before)


def test_ctrl_c_without_interruptible_puts_a_resumed_run_back_where_it_was():
    """A KeyboardInterrupt that is not caught as TrainingInterrupted leaves the network and its
    training state as they were before the call, so a later resume is still exact."""
    X, Y, _ = data()
    net, whole = network(), network()
    fit = {"learning_rate": 0.05, "batch_size": 16, "seed": 7, "optimizer": "adam"}
    whole.fit(X, Y, epochs=6, **fit)
    net.fit(X, Y, epochs=3, **fit)
    before = net.parameters.vector.copy(), net.training_state.epoch

    def interrupt(epoch, history):
        if epoch == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        net.fit(X, Y, epochs=6, resume=True, callback=interrupt, **fit)
    np.testing.assert_array_equal(net.parameters.vector, before[0])
    assert net.training_state.epoch == before[1] == 3
    net.fit(X, Y, epochs=6, resume=True, **fit)
    np.testing.assert_array_equal(net.parameters.vector, whole.parameters.vector)


def test_a_run_stopped_by_divergence_under_early_stopping_resumes_to_nothing():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 40))
    Y = X[:1] * 3.0
    net = Network([3, 4, 1], output_activation="linear", seed=0)
    with pytest.warns(RuntimeWarning, match="training diverged"):
        net.fit(X, Y, epochs=50, learning_rate=3.0, validation_data=(X, Y), patience=1000)
    state = net.training_state
    assert state.history.diverged and state.last_network is None
    assert np.isfinite(net.parameters.vector).all()  # the best epoch's
    best, epochs_done = net.parameters.vector.copy(), state.epoch
    net.fit(X, Y, epochs=50, learning_rate=3.0, validation_data=(X, Y), patience=1000,
            resume=True)
    np.testing.assert_array_equal(net.parameters.vector, best)
    assert net.training_state.epoch == epochs_done


def test_the_float_codec_carries_nan_and_infinities_through_strict_json():
    """JSON has no NaN or infinity: `float_to_json` writes them as {"$float": repr}, which
    `float_from_json` reads back; finite floats and other values pass through both unchanged.
    The training state and the estimators' parameters (n_iter_no_change=inf) use it."""
    import json

    from mlpkit.estimators.persistence import from_json, to_json
    from mlpkit.training import TrainingState
    from mlpkit.training.state import float_from_json, float_to_json

    for value in (np.nan, np.inf, -np.inf, 0.25):
        encoded = json.loads(json.dumps(float_to_json(value), allow_nan=False))
        np.testing.assert_equal(float_from_json(encoded), value)
    assert float_to_json(-np.inf) == {"$float": "-inf"} and float_from_json("x") == "x"
    state = TrainingState(rules={"patience": {"best": np.inf, "scores": [np.nan, 0.5]}})
    meta, arrays = state.to_arrays()
    restored = TrainingState.from_arrays(json.loads(json.dumps(meta, allow_nan=False)), arrays)
    assert restored.rules["patience"]["best"] == np.inf
    np.testing.assert_equal(restored.rules["patience"]["scores"], [np.nan, 0.5])
    params = {"n_iter_no_change": np.inf, "class_weight": {0: 1.0, 1: np.float64(2.5)}}
    assert from_json(json.loads(json.dumps(to_json(params["n_iter_no_change"])))) == np.inf
    assert from_json(json.loads(json.dumps(to_json(params["class_weight"])))) == {0: 1.0, 1: 2.5}
