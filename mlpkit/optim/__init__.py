"""Optimizers (gradient descent, momentum, Nesterov, RMSprop, Adam) with explicit state,
learning-rate schedules, and L-BFGS (scipy's L-BFGS-B on the packed parameters).

Imports NumPy and `mlpkit.nn` only (and scipy, when L-BFGS runs).
"""

from .lbfgs import LBFGS
from .optimizers import OPTIMIZERS, get_optimizer
from .schedules import SCHEDULES, get_schedule

__all__ = ["LBFGS", "OPTIMIZERS", "SCHEDULES", "get_optimizer", "get_schedule"]
