"""Parameter updates on the packed vector theta, one small class each, in the spirit of
scikit-learn's _stochastic_optimizers and Optax's explicit state.

An optimizer holds only its hyperparameters. Its state (velocities, squares, step t) is a plain
dict that `init(theta)` creates and `update(theta, dtheta, state, learning_rate)` advances in
place, together with theta: the training loop owns the state, saves it and resumes it.
Updates allocate nothing: intermediate terms go to work arrays the optimizer keeps (scratch, not
state: they are dropped on pickling and copying). theta may be any array library's, on any
device (`mlpkit.nn.backend`): the state and the work arrays are made like it, and NumPy, CuPy
and torch write into them (`out=`).
"""

import math

from ..nn.backend import backend_of
from ..nn.checks import check_beta, check_positive


def _moving_average(average, beta, value, work):
    """average = beta average + (1 - beta) value, in place (`work` holds (1 - beta) value)."""
    average *= beta
    average += backend_of(value).multiply(value, 1 - beta, out=work)


class Optimizer:
    """What the optimizers share: their settings as data, and work arrays for in-place updates.

    Subclasses give `name`, `_state_arrays` (the names of the state's arrays, each shaped like
    theta) and `update`."""

    name = ""
    _state_arrays = ()

    def init(self, theta):
        """The state before the first step: t = 0 and zeros shaped like theta."""
        xp = backend_of(theta).xp
        return {"t": 0, **{name: xp.zeros_like(theta) for name in self._state_arrays}}

    def config(self):
        """{"name": ..., hyperparameter: value, ...}: what `from_config` rebuilds it from."""
        return {"name": self.name, **{k: v for k, v in vars(self).items() if not k.startswith("_")}}

    def check_state(self, state, theta):
        """A ValueError unless `state` is a state of this optimizer for theta."""
        missing = [k for k in ("t", *self._state_arrays) if k not in state]
        if missing:
            raise ValueError(f"the {self.name} optimizer state lacks {missing}")
        for name in self._state_arrays:
            if tuple(state[name].shape) != tuple(theta.shape):
                raise ValueError(
                    f"the {self.name} optimizer state {name!r} has shape "
                    f"{tuple(state[name].shape)}; theta has {tuple(theta.shape)}"
                )

    def _work(self, theta, n=1):
        """n work arrays shaped like theta, allocated once and reused at every step."""
        arrays = self.__dict__.get("_work_arrays")
        if arrays is None or len(arrays) < n or arrays[0].shape != theta.shape or (
            arrays[0].dtype != theta.dtype
        ):
            xp = backend_of(theta).xp
            arrays = self.__dict__["_work_arrays"] = [xp.empty_like(theta) for _ in range(n)]
        return arrays[:n]

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_work_arrays", None)
        return state

    def __repr__(self):
        settings = ", ".join(f"{k}={v!r}" for k, v in self.config().items() if k != "name")
        return f"{type(self).__name__}({settings})"


class GradientDescent(Optimizer):
    """theta = theta - alpha dtheta."""

    name = "gd"

    def update(self, theta, dtheta, state, learning_rate):
        (step,) = self._work(theta)
        state["t"] += 1
        theta -= backend_of(theta).multiply(dtheta, learning_rate, out=step)


class Momentum(Optimizer):
    """v = beta v + (1 - beta) dtheta;  theta = theta - alpha v."""

    name = "momentum"
    _state_arrays = ("v",)

    def __init__(self, beta=0.9):
        self.beta = check_beta(beta, "beta")

    def update(self, theta, dtheta, state, learning_rate):
        v = state["v"]
        (work,) = self._work(theta)
        state["t"] += 1
        _moving_average(v, self.beta, dtheta, work)
        theta -= backend_of(theta).multiply(v, learning_rate, out=work)


class NesterovMomentum(Momentum):
    """Nesterov's look-ahead (the form scikit-learn uses):
    v = beta v + (1 - beta) dtheta;  theta = theta - alpha (beta v + (1 - beta) dtheta)."""

    name = "nesterov"

    def update(self, theta, dtheta, state, learning_rate):
        v = state["v"]
        step, work = self._work(theta, 2)
        state["t"] += 1
        _moving_average(v, self.beta, dtheta, work)
        step = backend_of(theta).multiply(v, self.beta, out=step)
        step += work  # beta v + (1 - beta) dtheta
        step *= learning_rate
        theta -= step


class RMSprop(Optimizer):
    """s = beta2 s + (1 - beta2) dtheta^2;  theta = theta - alpha dtheta / (sqrt(s) + eps)."""

    name = "rmsprop"
    _state_arrays = ("s",)

    def __init__(self, beta2=0.999, epsilon=1e-8):
        self.beta2 = check_beta(beta2, "beta2")
        self.epsilon = check_positive(epsilon, "epsilon")

    def update(self, theta, dtheta, state, learning_rate):
        s = state["s"]
        b = backend_of(theta)
        step, work = self._work(theta, 2)
        state["t"] += 1
        _moving_average(s, self.beta2, b.multiply(dtheta, dtheta, out=step), work)
        denominator = b.sqrt(s, out=work)
        denominator += self.epsilon
        step = b.multiply(dtheta, learning_rate, out=step)
        step /= denominator
        theta -= step


class Adam(Optimizer):
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
    _state_arrays = ("v", "s")

    def __init__(self, beta1=0.9, beta2=0.999, epsilon=1e-8):
        self.beta1 = check_beta(beta1, "beta1")
        self.beta2 = check_beta(beta2, "beta2")
        self.epsilon = check_positive(epsilon, "epsilon")

    def update(self, theta, dtheta, state, learning_rate):
        v, s = state["v"], state["s"]
        state["t"] = t = state["t"] + 1
        c2 = (1 - self.beta2**t) / (1 - self.beta2)
        alpha_t = learning_rate * (1 - self.beta1) * math.sqrt(c2) / (1 - self.beta1**t)
        epsilon_t = self.epsilon * math.sqrt(c2)
        b = backend_of(theta)
        (work,) = self._work(theta)
        v *= self.beta1
        v += dtheta
        s *= self.beta2
        s += b.multiply(dtheta, dtheta, out=work)
        denominator = b.sqrt(s, out=work)
        denominator += epsilon_t
        step = b.divide(v, denominator, out=work)
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
    """A fresh optimizer from its name, or the given instance itself.

    Parameters
    ----------
    optimizer : str or object
        One of "gd" (or "sgd"), "momentum", "nesterov", "rmsprop", "adam" (default
        settings); or an object with init(theta) -> state and
        update(theta, dtheta, state, learning_rate).

    Returns
    -------
    object
        The optimizer.

    Raises
    ------
    ValueError
        If `optimizer` is an unknown name, a class, or lacks init and update.

    Examples
    --------
    >>> import numpy as np
    >>> adam = get_optimizer("adam")
    >>> adam
    Adam(beta1=0.9, beta2=0.999, epsilon=1e-08)
    >>> theta = np.array([1.0, -1.0])
    >>> state = adam.init(theta)
    >>> adam.update(theta, np.array([0.5, -2.0]), state, learning_rate=0.1)
    >>> theta.round(4), state["t"]      # Adam's first step: alpha * sign(dtheta)
    (array([ 0.9, -0.9]), 1)
    """
    if isinstance(optimizer, str) and optimizer in OPTIMIZERS:
        return OPTIMIZERS[optimizer]()
    if all(callable(getattr(optimizer, m, None)) for m in ("init", "update")) and not isinstance(
        optimizer, (str, type)
    ):
        return optimizer
    raise ValueError(
        f"unknown optimizer {optimizer!r}; expected one of {', '.join(OPTIMIZERS)} "
        "or an object with init(theta) -> state and update(theta, dtheta, state, learning_rate)"
    )


def from_config(config):
    """The optimizer that `Optimizer.config()` described."""
    settings = dict(config)
    name = settings.pop("name", None)
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r} in a saved state")
    return OPTIMIZERS[name](**settings)
