"""The one place where the engine's array library is chosen: today NumPy.

Every module of `mlpkit.nn` takes its array functions from here (`from .backend import np`), so
an array-API namespace (CuPy, PyTorch tensors through array-api-compat) can replace NumPy in
this module later without touching the equations. Optimizers and the training loop take theirs
from here too.
"""

import numpy as np

__all__ = ["np"]
