"""Optimizers (gradient descent, momentum, Nesterov, RMSprop, Adam) with explicit state, and
learning-rate schedules.

Imports NumPy and `mlpkit.nn` only.
"""

from .optimizers import OPTIMIZERS, get_optimizer
from .schedules import SCHEDULES, get_schedule

__all__ = ["OPTIMIZERS", "SCHEDULES", "get_optimizer", "get_schedule"]
