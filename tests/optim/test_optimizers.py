"""Optimizers on the packed vector theta, each checked by its equation over three hand-computed
steps, with explicit state; schedules by their formulas."""

import math
import pickle

import numpy as np
import pytest

from mlpkit import Network
from mlpkit.optim.optimizers import (
    OPTIMIZERS,
    Adam,
    GradientDescent,
    Momentum,
    NesterovMomentum,
    RMSprop,
    from_config,
    get_optimizer,
)
from mlpkit.optim.schedules import (
    SCHEDULES,
    Constant,
    ExponentialDecay,
    InverseTimeDecay,
    SqrtDecay,
    StaircaseDecay,
    get_schedule,
)
from mlpkit.optim.schedules import from_config as schedule_from_config

# theta = [W11, W12, b]: three steps of gradients
TINY_GRADS = [np.array([0.5, -1.0, 0.2]), np.array([-0.3, 0.8, 0.1]), np.array([0.4, 0.0, -0.6])]


def run_three_steps(optimizer, learning_rate=0.1):
    theta = np.array([1.0, -2.0, 0.5])
    state = optimizer.init(theta)
    for g in TINY_GRADS:
        optimizer.update(theta, g, state, learning_rate)
    return theta, state


def by_hand(step):
    """Apply `step(theta, g, state, t) -> theta` to each scalar parameter over the 3 steps."""
    result = []
    for i, theta in enumerate([1.0, -2.0, 0.5]):
        state = {}
        for t, g in enumerate(TINY_GRADS, start=1):
            theta = step(theta, float(g[i]), state, t)
        result.append(theta)
    return result


def test_optimizer_defaults_are_the_notes():
    assert get_optimizer("momentum").beta == 0.9
    rmsprop = get_optimizer("rmsprop")
    assert (rmsprop.beta2, rmsprop.epsilon) == (0.999, 1e-8)
    adam = get_optimizer("adam")
    assert (adam.beta1, adam.beta2, adam.epsilon) == (0.9, 0.999, 1e-8)
    assert adam.init(np.zeros(3))["t"] == 0
    assert isinstance(get_optimizer("gd"), GradientDescent)


def test_gradient_descent_by_hand():
    expected = by_hand(lambda theta, g, state, t: theta - 0.1 * g)
    theta, state = run_three_steps(GradientDescent())
    np.testing.assert_allclose(theta, expected, rtol=1e-13)
    assert state == {"t": 3}


def test_momentum_by_hand():
    def step(theta, g, state, t):
        state["v"] = 0.9 * state.get("v", 0.0) + 0.1 * g
        return theta - 0.1 * state["v"]

    np.testing.assert_allclose(run_three_steps(Momentum())[0], by_hand(step), rtol=1e-13)


def test_nesterov_by_hand():
    def step(theta, g, state, t):
        state["v"] = 0.9 * state.get("v", 0.0) + 0.1 * g
        return theta - 0.1 * (0.9 * state["v"] + 0.1 * g)

    np.testing.assert_allclose(run_three_steps(NesterovMomentum())[0], by_hand(step), rtol=1e-13)


def test_rmsprop_by_hand():
    def step(theta, g, state, t):
        state["s"] = 0.999 * state.get("s", 0.0) + 0.001 * g * g
        return theta - 0.1 * g / (math.sqrt(state["s"]) + 1e-8)

    np.testing.assert_allclose(run_three_steps(RMSprop())[0], by_hand(step), rtol=1e-13)


def test_adam_by_hand():
    def step(theta, g, state, t):
        state["v"] = 0.9 * state.get("v", 0.0) + 0.1 * g
        state["s"] = 0.999 * state.get("s", 0.0) + 0.001 * g * g
        v_hat = state["v"] / (1 - 0.9**t)
        s_hat = state["s"] / (1 - 0.999**t)
        return theta - 0.1 * v_hat / (math.sqrt(s_hat) + 1e-8)

    theta, state = run_three_steps(Adam())
    np.testing.assert_allclose(theta, by_hand(step), rtol=1e-13)
    assert state["t"] == 3 and set(state) == {"t", "v", "s"}


@pytest.mark.parametrize("name", ["gd", "momentum", "nesterov", "rmsprop", "adam"])
def test_the_state_is_explicit_and_continues_exactly(name):
    """All an optimizer changes is theta and the state dict it was given: two steps, then a
    copy of (theta, state) and a fresh optimizer object, give what four steps give."""
    theta_a, theta_b = np.array([1.0, -2.0, 0.5]), None
    optimizer = get_optimizer(name)
    state = optimizer.init(theta_a)
    for g in TINY_GRADS[:2]:
        optimizer.update(theta_a, g, state, 0.1)
    theta_b = theta_a.copy()
    state_b = pickle.loads(pickle.dumps(state))
    other = from_config(optimizer.config())
    for g in TINY_GRADS[2:]:
        optimizer.update(theta_a, g, state, 0.1)
        other.update(theta_b, g, state_b, 0.1)
    np.testing.assert_array_equal(theta_a, theta_b)
    assert pickle.loads(pickle.dumps(optimizer)).config() == optimizer.config()


def test_the_network_trains_its_vector_in_one_pass():
    """The network hands the optimizer theta and dtheta, views of its parameters and gradients."""
    net = Network([4, 3, 1], seed=0)
    X, Y = np.ones((4, 5)), np.ones((1, 5))
    AL, caches = net.forward(X, training=True)
    grads = net.backward(AL, Y, caches)
    adam = Adam()
    state = adam.init(net.parameters.vector)
    before = net.parameters.vector.copy()
    adam.update(net.parameters.vector, grads.vector, state, 0.1)
    assert state["v"].shape == net.parameters.vector.shape
    assert not np.array_equal(net.parameters["W1"], before[:12].reshape(3, 4))


def test_a_state_of_the_wrong_shape_is_refused():
    adam = Adam()
    with pytest.raises(ValueError, match=r"state 'v' has shape \(2,\); theta has \(3,\)"):
        adam.check_state(adam.init(np.zeros(2)), np.zeros(3))
    with pytest.raises(ValueError, match="lacks"):
        adam.check_state({"t": 0}, np.zeros(3))


def test_unknown_optimizers():
    with pytest.raises(ValueError, match="unknown optimizer 'adagrad'; expected one of gd"):
        get_optimizer("adagrad")
    with pytest.raises(ValueError, match="unknown optimizer"):
        from_config({"name": "adagrad"})
    assert set(OPTIMIZERS) >= {"gd", "momentum", "nesterov", "rmsprop", "adam"}


# ------------------------------------------------------------------------- schedules
SCHEDULE_FORMULAS = [
    (Constant(), lambda e, a0: a0),
    (InverseTimeDecay(0.5), lambda e, a0: a0 / (1 + 0.5 * e)),
    (ExponentialDecay(0.9), lambda e, a0: a0 * 0.9**e),
    (SqrtDecay(2.0), lambda e, a0: 2.0 / math.sqrt(e + 1) * a0),
    (StaircaseDecay(0.5, interval=5), lambda e, a0: a0 / (1 + 0.5 * math.floor(e / 5))),
]


@pytest.mark.parametrize("schedule, formula", SCHEDULE_FORMULAS, ids=lambda s: type(s).__name__)
def test_schedule_formula(schedule, formula):
    for epoch in (0, 1, 10):
        assert schedule(epoch, 0.2) == pytest.approx(formula(epoch, 0.2), rel=1e-15)
    rebuilt = schedule_from_config(schedule.config())
    assert type(rebuilt) is type(schedule) and rebuilt.config() == schedule.config()


def test_schedule_values_named_in_the_notes():
    assert InverseTimeDecay(1.0)(1, 0.2) == pytest.approx(0.1)  # alpha0 = 0.2, decay 1: 0.1
    assert StaircaseDecay(1.0, interval=1000)(999, 0.1) == 0.1
    assert StaircaseDecay(1.0, interval=1000)(1000, 0.1) == pytest.approx(0.05)
    assert set(SCHEDULES) >= {"inverse_time", "exponential", "sqrt", "staircase"}
    assert isinstance(get_schedule("exponential"), ExponentialDecay)
