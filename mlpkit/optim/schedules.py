"""Learning-rate decay: alpha as a function of the epoch (counted from 0) and alpha0.

Each schedule is a small callable `schedule(epoch, learning_rate0) -> learning_rate`; any
function with that signature can be passed to `fit(..., lr_schedule=...)` as well. The named
ones also describe themselves as data (`config()`), so a saved training run can resume them.
"""

import math

from ..nn.checks import check_int, check_non_negative, check_positive


class Schedule:
    """A named schedule whose settings are its attributes."""

    name = ""

    def config(self):
        """{"name": ..., setting: value, ...}: what `from_config` rebuilds it from."""
        return {"name": self.name, **vars(self)}

    def __repr__(self):
        settings = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({settings})"


class Constant(Schedule):
    """alpha = alpha0."""

    name = "constant"

    def __call__(self, epoch, learning_rate0):
        return learning_rate0


class InverseTimeDecay(Schedule):
    """alpha = alpha0 / (1 + decay_rate * epoch).

    Parameters
    ----------
    decay_rate : float, default 1.0
        How fast alpha shrinks; 0 keeps it constant.

    Raises
    ------
    ValueError
        If `decay_rate` is negative (TypeError if it is not a number).

    Examples
    --------
    >>> schedule = InverseTimeDecay(decay_rate=1.0)
    >>> [schedule(epoch, 0.1) for epoch in range(3)]
    [0.1, 0.05, 0.03333333333333333]
    """

    name = "inverse_time"

    def __init__(self, decay_rate=1.0):
        self.decay_rate = check_non_negative(decay_rate, "decay_rate")

    def __call__(self, epoch, learning_rate0):
        return learning_rate0 / (1 + self.decay_rate * epoch)


class ExponentialDecay(Schedule):
    """alpha = alpha0 * rate^epoch.

    Parameters
    ----------
    rate : float, default 0.95
        The factor per epoch (the course's 0.95).

    Raises
    ------
    ValueError
        If `rate` is not positive (TypeError if it is not a number).

    Examples
    --------
    >>> ExponentialDecay(0.5)(2, 0.1)
    0.025
    """

    name = "exponential"

    def __init__(self, rate=0.95):
        self.rate = check_positive(rate, "rate")

    def __call__(self, epoch, learning_rate0):
        return learning_rate0 * self.rate**epoch


class SqrtDecay(Schedule):
    """alpha = k / sqrt(epoch_num) * alpha0, with epoch_num = epoch + 1 counted from 1
    (the first epoch uses k * alpha0).

    Parameters
    ----------
    k : float, default 1.0
        The constant k.

    Raises
    ------
    ValueError
        If `k` is not positive (TypeError if it is not a number).

    Examples
    --------
    >>> SqrtDecay(k=1.0)(3, 0.1)     # 1 / sqrt(4) * 0.1
    0.05
    """

    name = "sqrt"

    def __init__(self, k=1.0):
        self.k = check_positive(k, "k")

    def __call__(self, epoch, learning_rate0):
        return self.k / math.sqrt(epoch + 1) * learning_rate0


class StaircaseDecay(Schedule):
    """alpha = alpha0 / (1 + decay_rate * floor(epoch / interval)): a drop every `interval`
    epochs (the course's fixed-interval scheduling).

    Parameters
    ----------
    decay_rate : float, default 1.0
        How much each drop divides by.
    interval : int, default 1000
        Epochs between drops.

    Raises
    ------
    ValueError
        If `decay_rate` is negative or `interval` is less than 1.

    Examples
    --------
    >>> schedule = StaircaseDecay(decay_rate=1.0, interval=1000)
    >>> schedule(999, 0.1), schedule(1000, 0.1), schedule(2000, 0.1)
    (0.1, 0.05, 0.03333333333333333)
    """

    name = "staircase"

    def __init__(self, decay_rate=1.0, interval=1000):
        self.decay_rate = check_non_negative(decay_rate, "decay_rate")
        self.interval = check_int(interval, "interval", 1)

    def __call__(self, epoch, learning_rate0):
        return learning_rate0 / (1 + self.decay_rate * (epoch // self.interval))


SCHEDULES = {
    "constant": Constant,
    "inverse_time": InverseTimeDecay,
    "exponential": ExponentialDecay,
    "sqrt": SqrtDecay,
    "staircase": StaircaseDecay,
}


def get_schedule(schedule):
    """A schedule from its name (default settings), or `schedule` itself if it is callable.

    Parameters
    ----------
    schedule : str, callable or None
        One of "constant", "inverse_time", "exponential", "sqrt", "staircase"; a callable
        (epoch, learning_rate0) -> learning_rate; None for a constant rate.

    Returns
    -------
    callable
        (epoch, learning_rate0) -> learning_rate.

    Raises
    ------
    ValueError
        If `schedule` is an unknown name or not callable.

    Examples
    --------
    >>> get_schedule("exponential")
    ExponentialDecay(rate=0.95)
    >>> get_schedule(None)(10, 0.01)
    0.01
    """
    if schedule is None:
        return Constant()
    if isinstance(schedule, str) and schedule in SCHEDULES:
        return SCHEDULES[schedule]()
    if callable(schedule) and not isinstance(schedule, type):
        return schedule
    raise ValueError(
        f"unknown lr_schedule {schedule!r}; expected one of {', '.join(SCHEDULES)} "
        "or a callable (epoch, learning_rate0) -> learning_rate"
    )


def from_config(config):
    """The schedule that `Schedule.config()` described."""
    settings = dict(config)
    name = settings.pop("name", None)
    if name not in SCHEDULES:
        raise ValueError(f"unknown lr_schedule {name!r} in a saved state")
    return SCHEDULES[name](**settings)
