"""L-BFGS on the packed parameters: scipy's L-BFGS-B driving the engine's cost and gradient, as
`LBFGS.minimize` and as `Network.fit(..., optimizer="lbfgs")`."""

import numpy as np
import pytest
from scipy.optimize import minimize

from mlpkit import DivergenceError, Network, TrainingInterrupted, one_hot
from mlpkit.optim.lbfgs import LBFGS, Objective


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((4, 60))
    labels = (X[0] + X[1] ** 2 > 1).astype(int) + (X[2] > 0.5)
    return X, one_hot(labels, 3)


def net_for(batch_norm=False, seed=0):
    return Network([4, 8, 3], "tanh", "softmax", init="xavier", seed=seed, batch_norm=batch_norm)


def test_objective_is_the_engines_cost_and_gradient(data):
    X, Y = data
    net = net_for()
    objective = Objective(net, X, Y, 0.1, None)
    x = net.parameters.vector + 0.01
    cost, grad = objective(x)
    np.testing.assert_array_equal(net.parameters.vector, x)  # the parameters are views of theta
    AL, caches = net.forward(X, training=True)
    assert cost == net.compute_cost(Y, caches, 0.1)
    np.testing.assert_array_equal(grad, net.backward(AL, Y, caches, 0.1).vector)


def test_minimize_is_scipys_lbfgs_on_theta(data):
    """The same iterates as calling scipy.optimize.minimize(method='L-BFGS-B') on the packed
    vector by hand, with scikit-learn's options."""
    X, Y = data
    net, reference = net_for(), net_for()
    result = LBFGS(max_fun=500, tol=1e-6).minimize(net, X, Y, 40, l2=0.01)
    objective = Objective(reference, X, Y, 0.01, None)
    expected = minimize(objective, reference.parameters.vector.copy(), method="L-BFGS-B",
                        jac=True, options={"maxiter": 40, "maxfun": 500, "gtol": 1e-6})
    assert result.nit == expected.nit and result.fun == expected.fun
    np.testing.assert_array_equal(net.parameters.vector, expected.x)


def test_fit_with_lbfgs_records_every_iteration(data):
    X, Y = data
    net = net_for()
    history = net.fit(X, Y, epochs=30, optimizer="lbfgs", l2=0.01,
                      validation_data=(X[:, :20], Y[:, :20]))
    assert 1 <= len(history.costs) <= 30 and len(history.val_scores) == len(history.costs)
    assert history.costs == sorted(history.costs, reverse=True)  # a descent method
    assert history.costs[-1] == pytest.approx(net.evaluate(X, Y)[0] + 0.01 / (2 * 60) * sum(
        float(np.sum(net.parameters[f"W{l}"] ** 2)) for l in (1, 2)), rel=1e-12)
    assert net.training_state.epoch == len(history.costs)
    assert net.training_state.config["optimizer"] == {"name": "lbfgs", "max_fun": 15000,
                                                      "tol": 1e-5, "m": 10}


def test_fit_with_lbfgs_continues_from_the_current_parameters(data):
    X, Y = data
    net = net_for()
    first = net.fit(X, Y, epochs=5, optimizer=LBFGS(tol=0.0)).costs
    second = net.fit(X, Y, epochs=5, optimizer=LBFGS(tol=0.0)).costs
    assert second[0] < first[-1]


def test_lbfgs_callback_stops_and_verbose_prints(data, capsys):
    X, Y = data
    seen = []
    history = net_for().fit(X, Y, epochs=50, optimizer="lbfgs", verbose=1,
                            callback=lambda epoch, h: seen.append(epoch) or epoch == 3)
    assert seen == [0, 1, 2, 3] and len(history.costs) == 4
    assert "Cost after iteration 0:" in capsys.readouterr().out


def test_lbfgs_with_batch_norm_leaves_the_full_batch_statistics(data):
    """Batch norm is minimized with the full batch's statistics, and those become the running
    statistics: prediction on the training data computes the cost that was minimized."""
    X, Y = data
    net = net_for(batch_norm=True)
    history = net.fit(X, Y, epochs=20, optimizer="lbfgs")
    _, caches = net.forward(X, training=True)
    mu, var = caches[0].batch_stats
    np.testing.assert_allclose(net.running_stats["mean1"], mu, rtol=1e-12)
    np.testing.assert_allclose(net.running_stats["var1"], var, rtol=1e-12)
    assert net.evaluate(X, Y)[0] == pytest.approx(history.costs[-1], rel=1e-10)


def test_lbfgs_weights_zero_are_dropped_examples(data):
    X, Y = data
    w = np.tile([1.0, 0.0, 2.0], 20)
    weighted, kept = net_for(), net_for()
    weighted.fit(X, Y, epochs=25, optimizer="lbfgs", sample_weight=w)
    keep = w > 0
    kept.fit(X[:, keep], Y[:, keep], epochs=25, optimizer="lbfgs", sample_weight=w[keep])
    np.testing.assert_allclose(weighted.parameters.vector, kept.parameters.vector, rtol=1e-10,
                               atol=1e-12)


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(batch_size=10), "batch_size"),
        (dict(patience=3, validation_data=None), "patience"),
        (dict(lr_schedule="sqrt"), "lr_schedule"),
        (dict(keep_prob=0.5), "deterministic"),
        (dict(tol=0.1), "tol"),
        (dict(resume=True), "resume"),
    ],
)
def test_lbfgs_refuses_the_stochastic_loops_options(data, options, message):
    X, Y = data
    with pytest.raises(ValueError, match=message):
        net_for().fit(X, Y, epochs=5, optimizer="lbfgs", **options)


def test_lbfgs_settings_are_checked():
    with pytest.raises(ValueError, match="max_fun"):
        LBFGS(max_fun=0)
    with pytest.raises(ValueError, match="tol"):
        LBFGS(tol=-1)


def test_lbfgs_divergence_restores_the_parameters(data):
    X, Y = data
    net = Network([4, 3], output_activation="exponential", init="xavier", seed=0)
    net.parameters = {"W1": np.full((3, 4), 400.0), "b1": np.zeros((3, 1))}
    before = net.parameters.vector.copy()
    with pytest.raises(DivergenceError, match="Solver produced non-finite parameter weights"):
        net.fit(X, Y, epochs=5, optimizer="lbfgs")
    np.testing.assert_array_equal(net.parameters.vector, before)


def test_ctrl_c_in_lbfgs_keeps_the_last_completed_iteration(data, monkeypatch):
    X, Y = data
    net = net_for()
    calls = {"n": 0}
    original = Objective.__call__

    def interrupted(self, x):
        calls["n"] += 1
        if calls["n"] == 8:
            raise KeyboardInterrupt
        return original(self, x)

    monkeypatch.setattr(Objective, "__call__", interrupted)
    with pytest.raises(TrainingInterrupted) as info:
        net.fit(X, Y, epochs=50, optimizer="lbfgs", interruptible=True)
    history = net.training_state.history
    assert info.value.epochs_done == len(history.costs) >= 1
    monkeypatch.setattr(Objective, "__call__", original)
    assert net.evaluate(X, Y)[0] == pytest.approx(history.costs[-1], rel=1e-12)


def test_lbfgs_validation_under_batch_norm_scores_the_current_point(data):
    """Each iteration's validation metrics predict with the full batch's statistics at that
    point: validated on the training data, val_cost is the training cost."""
    X, Y = data
    net = net_for(batch_norm=True)
    history = net.fit(X, Y, epochs=15, optimizer="lbfgs", validation_data=(X, Y))
    np.testing.assert_allclose(history.val_costs, history.costs, rtol=1e-8)


def test_an_error_during_lbfgs_leaves_nothing_half_trained(data):
    X, Y = data
    net = net_for()
    net.fit(X, Y, epochs=3, optimizer="lbfgs")
    before, state = net.parameters.vector.copy(), net.training_state

    def fails(epoch, history):
        if epoch == 2:
            raise RuntimeError("a callback failed")

    with pytest.raises(RuntimeError, match="a callback failed"):
        net.fit(X, Y, epochs=10, optimizer="lbfgs", callback=fails)
    np.testing.assert_array_equal(net.parameters.vector, before)
    assert net.training_state is state and state.epoch == 3
