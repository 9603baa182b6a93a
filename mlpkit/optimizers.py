"""Parameter updates, one small class each, in the spirit of scikit-learn's _stochastic_optimizers.

`update(parameters, grads, learning_rate)` changes every parameter theta in place using its
gradient grads["d" + name]; each optimizer keeps its own state (velocities, squares, step t).
Updates allocate nothing: the state is updated in place and intermediate terms go to work arrays
kept per parameter (scratch, not state: they are dropped on pickling and copying).
"""

import math

import numpy as np

from .validation import check_beta, check_positive


def _state(store, key, theta):
    """store[key], zeros shaped like theta on first use."""
    if key not in store:
        store[key] = np.zeros_like(theta)
    return store[key]


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
        for key, theta in parameters.items():
            (step,) = self._work(key, theta)
            theta -= np.multiply(learning_rate, grads["d" + key], out=step)


class Momentum(_Optimizer):
    """v = beta v + (1 - beta) dtheta;  theta = theta - alpha v."""

    name = "momentum"

    def __init__(self, beta=0.9):
        self.beta = check_beta(beta, "beta")
        self.v = {}

    def update(self, parameters, grads, learning_rate):
        for key, theta in parameters.items():
            v = _state(self.v, key, theta)
            (work,) = self._work(key, theta)
            _moving_average(v, self.beta, grads["d" + key], work)
            theta -= np.multiply(learning_rate, v, out=work)


class NesterovMomentum(Momentum):
    """Nesterov's look-ahead (the form scikit-learn uses):
    v = beta v + (1 - beta) dtheta;  theta = theta - alpha (beta v + (1 - beta) dtheta)."""

    name = "nesterov"

    def update(self, parameters, grads, learning_rate):
        for key, theta in parameters.items():
            v = _state(self.v, key, theta)
            step, work = self._work(key, theta, 2)
            _moving_average(v, self.beta, grads["d" + key], work)
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
        for key, theta in parameters.items():
            g = grads["d" + key]
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

    The last line is evaluated with the bias corrections taken out of the arrays (the same
    value up to rounding, in fewer passes over memory):
    theta = theta - alpha_t v / (sqrt(s) + eps_t),
    alpha_t = alpha sqrt(1 - beta2^t) / (1 - beta1^t),  eps_t = eps sqrt(1 - beta2^t)."""

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
        correction1 = 1 - self.beta1**self.t
        correction2 = 1 - self.beta2**self.t
        alpha_t = learning_rate * math.sqrt(correction2) / correction1
        epsilon_t = self.epsilon * math.sqrt(correction2)
        for key, theta in parameters.items():
            g = grads["d" + key]
            v, s = _state(self.v, key, theta), _state(self.s, key, theta)
            (work,) = self._work(key, theta)
            _moving_average(v, self.beta1, g, work)
            _moving_average(s, self.beta2, np.multiply(g, g, out=work), work)
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
