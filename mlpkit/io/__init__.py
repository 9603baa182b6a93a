"""Model files: one `.npz` archive with the arrays and a JSON header, a registry of the model
kinds it can hold, atomic writes; checkpoints of a training run.

Imports `mlpkit.training`, `mlpkit.optim` and `mlpkit.nn`; the kinds above it (image classifier,
estimators) are named in the registry and imported only when a file of theirs is read.
"""

from .files import atomic_write
from .model_files import ModelFileError, load, read_metadata, save

__all__ = ["ModelFileError", "atomic_write", "load", "read_metadata", "save"]
