"""Parameter updates, one small class each, in the spirit of scikit-learn's _stochastic_optimizers.

`update(parameters, grads, learning_rate)` changes every parameter theta in place using its
gradient grads["d" + name]; each optimizer keeps its own state (velocities, squares, step t).
When parameters and grads are a network's packed dicts (`mlpkit.network.Packed`), the update
runs once over the whole vector theta (state key "theta") instead of once per array.
Updates allocate nothing: the state is updated in place and intermediate terms go to work arrays
kept per parameter (scratch, not state: they are dropped on pickling and copying).
"""

import math

import numpy as np

from ..nn.checks import check_beta, check_positive


def _state(store, key, theta):
    """store[key], zeros shaped like theta on first use."""
    if key not in store:
        store[key] = np.zeros_like(theta)
    return store[key]


def _vectors(parameters, grads):
    """[(key, theta, dtheta)] to update: all of theta at once when parameters and grads are
    packed alike (grads.vector holds "d" + key for each key, in the same order, and every value
    is still a view of its vector), else one entry per parameter."""
    theta, dtheta = getattr(parameters, "vector", None), getattr(grads, "vector", None)
    if (
        theta is not None
        and dtheta is not None
        and theta.shape == dtheta.shape
        and list(grads) == ["d" + key for key in parameters]
        and all(p.base is theta for p in parameters.values())
        and all(g.base is dtheta for g in grads.values())
    ):
        return [("theta", theta, dtheta)]
    return [(key, theta, grads["d" + key]) for key, theta in parameters.items()]


def _moving_average(average, beta, value, work):
    """average = beta average + (1 - beta) value, in place (`work` holds (1 - beta) value)."""
    average *= beta
    average += np.multiply(1 - beta, value, out=work)


class _Optimizer:
    """What the optimizers share: per-parameter work arrays for their in-place updates."""

    def _work(self, key, theta, n=1):
        """n work arrays shaped like theta, allocated once and reused at every step."""
        work = self.__dict__.setdefault("_work_arrays", {})
        arrays = work.get(key)
        if arrays is None or arrays[0].shape != theta.shape or arrays[0].dtype != theta.dtype:
            arrays = work[key] = [np.empty_like(theta) for _ in range(n)]
        return arrays

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_work_arrays", None)
        return state


class GradientDescent(_Optimizer):
    """theta = theta - alpha dtheta."""

    name = "gd"

    def update(self, parameters, grads, learning_rate):
        for key, theta, g in _vectors(parameters, grads):
            (step,) = self._work(key, theta)
            theta -= np.multiply(learning_rate, g, out=step)


class Momentum(_Optimizer):
    """v = beta v + (1 - beta) dtheta;  theta = theta - alpha v."""

    name = "momentum"

    def __init__(self, beta=0.9):
        self.beta = check_beta(beta, "beta")
        self.v = {}

    def update(self, parameters, grads, learning_rate):
        for key, theta, g in _vectors(parameters, grads):
            v = _state(self.v, key, theta)
            (work,) = self._work(key, theta)
            _moving_average(v, self.beta, g, work)
            theta -= np.multiply(learning_rate, v, out=work)


class NesterovMomentum(Momentum):
    """Nesterov's look-ahead (the form scikit-learn uses):
    v = beta v + (1 - beta) dtheta;  theta = theta - alpha (beta v + (1 - beta) dtheta)."""

    name = "nesterov"

    def update(self, parameters, grads, learning_rate):
        for key, theta, g in _vectors(parameters, grads):
            v = _state(self.v, key, theta)
            step, work = self._work(key, theta, 2)
            _moving_average(v, self.beta, g, work)
            step = np.multiply(self.beta, v, out=step)
            step += work  # beta v + (1 - beta) dtheta
            step *= learning_rate
            theta -= step


class RMSprop(_Optimizer):
    """s = beta2 s + (1 - beta2) dtheta^2;  theta = theta - alpha dtheta / (sqrt(s) + eps)."""

    name = "rmsprop"

    def __init__(self, beta2=0.999, epsilon=1e-8):
        self.beta2 = check_beta(beta2, "beta2")
        self.epsilon = check_positive(epsilon, "epsilon")
        self.s = {}

    def update(self, parameters, grads, learning_rate):
        for key, theta, g in _vectors(parameters, grads):
            s = _state(self.s, key, theta)
            step, work = self._work(key, theta, 2)
            _moving_average(s, self.beta2, np.multiply(g, g, out=step), work)
            denominator = np.sqrt(s, out=work)
            denominator += self.epsilon
            step = np.multiply(learning_rate, g, out=step)
            step /= denominator
            theta -= step


class Adam(_Optimizer):
    """t = t + 1;  v = beta1 v + (1 - beta1) dtheta;  s = beta2 s + (1 - beta2) dtheta^2;
    v_hat = v / (1 - beta1^t);  s_hat = s / (1 - beta2^t);
    theta = theta - alpha v_hat / (sqrt(s_hat) + eps).

    Evaluated in fewer passes over memory, the same values up to rounding: the state keeps
    v' = v / (1 - beta1) and s' = s / (1 - beta2), so v' = beta1 v' + dtheta and
    s' = beta2 s' + dtheta^2, and the constant factors move into two scalars:
    theta = theta - alpha_t v' / (sqrt(s') + eps_t),
    alpha_t = alpha (1 - beta1) sqrt(c2) / (1 - beta1^t),  eps_t = eps sqrt(c2),
    c2 = (1 - beta2^t) / (1 - beta2)."""

    name = "adam"

    def __init__(self, beta1=0.9, beta2=0.999, epsilon=1e-8):
        self.beta1 = check_beta(beta1, "beta1")
        self.beta2 = check_beta(beta2, "beta2")
        self.epsilon = check_positive(epsilon, "epsilon")
        self.t = 0
        self.v = {}
        self.s = {}

    def update(self, parameters, grads, learning_rate):
        self.t += 1
        c2 = (1 - self.beta2**self.t) / (1 - self.beta2)
        alpha_t = learning_rate * (1 - self.beta1) * math.sqrt(c2) / (1 - self.beta1**self.t)
        epsilon_t = self.epsilon * math.sqrt(c2)
        for key, theta, g in _vectors(parameters, grads):
            v, s = _state(self.v, key, theta), _state(self.s, key, theta)
            (work,) = self._work(key, theta)
            v *= self.beta1
            v += g
            s *= self.beta2
            s += np.multiply(g, g, out=work)
            denominator = np.sqrt(s, out=work)
            denominator += epsilon_t
            step = np.divide(v, denominator, out=work)
            step *= alpha_t
            theta -= step


OPTIMIZERS = {
    "gd": GradientDescent,
    "sgd": GradientDescent,
    "momentum": Momentum,
    "nesterov": NesterovMomentum,
    "rmsprop": RMSprop,
    "adam": Adam,
}


def get_optimizer(optimizer):
    """A fresh optimizer from its name, or the given instance itself (its state is kept)."""
    if isinstance(optimizer, str) and optimizer in OPTIMIZERS:
        return OPTIMIZERS[optimizer]()
    if hasattr(optimizer, "update") and not isinstance(optimizer, (str, type)):
        return optimizer
    raise ValueError(
        f"unknown optimizer {optimizer!r}; expected one of {', '.join(OPTIMIZERS)} "
        "or an object with update(parameters, grads, learning_rate)"
    )
