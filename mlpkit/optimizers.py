"""Parameter updates, one small class each, in the spirit of scikit-learn's _stochastic_optimizers.

`update(parameters, grads, learning_rate)` changes every parameter theta in place using its
gradient grads["d" + name]; each optimizer keeps its own state (velocities, squares, step t).
"""

import numpy as np


class GradientDescent:
    """theta = theta - alpha dtheta."""

    name = "gd"

    def update(self, parameters, grads, learning_rate):
        for key, theta in parameters.items():
            theta -= learning_rate * grads["d" + key]


class Momentum:
    """v = beta v + (1 - beta) dtheta;  theta = theta - alpha v."""

    name = "momentum"

    def __init__(self, beta=0.9):
        self.beta = beta
        self.v = {}

    def update(self, parameters, grads, learning_rate):
        for key, theta in parameters.items():
            g = grads["d" + key]
            v = self.v.setdefault(key, np.zeros_like(theta))
            v *= self.beta
            v += (1 - self.beta) * g
            theta -= learning_rate * v


class NesterovMomentum(Momentum):
    """Nesterov's look-ahead (the form scikit-learn uses):
    v = beta v + (1 - beta) dtheta;  theta = theta - alpha (beta v + (1 - beta) dtheta)."""

    name = "nesterov"

    def update(self, parameters, grads, learning_rate):
        for key, theta in parameters.items():
            g = grads["d" + key]
            v = self.v.setdefault(key, np.zeros_like(theta))
            v *= self.beta
            v += (1 - self.beta) * g
            theta -= learning_rate * (self.beta * v + (1 - self.beta) * g)


class RMSprop:
    """s = beta2 s + (1 - beta2) dtheta^2;  theta = theta - alpha dtheta / (sqrt(s) + eps)."""

    name = "rmsprop"

    def __init__(self, beta2=0.999, epsilon=1e-8):
        self.beta2 = beta2
        self.epsilon = epsilon
        self.s = {}

    def update(self, parameters, grads, learning_rate):
        for key, theta in parameters.items():
            g = grads["d" + key]
            s = self.s.setdefault(key, np.zeros_like(theta))
            s *= self.beta2
            s += (1 - self.beta2) * (g * g)
            theta -= learning_rate * g / (np.sqrt(s) + self.epsilon)


class Adam:
    """t = t + 1;  v = beta1 v + (1 - beta1) dtheta;  s = beta2 s + (1 - beta2) dtheta^2;
    v_hat = v / (1 - beta1^t);  s_hat = s / (1 - beta2^t);
    theta = theta - alpha v_hat / (sqrt(s_hat) + eps)."""

    name = "adam"

    def __init__(self, beta1=0.9, beta2=0.999, epsilon=1e-8):
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.t = 0
        self.v = {}
        self.s = {}

    def update(self, parameters, grads, learning_rate):
        self.t += 1
        correction1 = 1 - self.beta1**self.t
        correction2 = 1 - self.beta2**self.t
        for key, theta in parameters.items():
            g = grads["d" + key]
            v = self.v.setdefault(key, np.zeros_like(theta))
            s = self.s.setdefault(key, np.zeros_like(theta))
            v *= self.beta1
            v += (1 - self.beta1) * g
            s *= self.beta2
            s += (1 - self.beta2) * (g * g)
            v_hat = v / correction1
            s_hat = s / correction2
            theta -= learning_rate * v_hat / (np.sqrt(s_hat) + self.epsilon)


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
