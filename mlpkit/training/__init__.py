"""The one training loop: epochs, mini-batches from a source, the learning-rate schedule, the
divergence check, callbacks and stopping rules, and the explicit training state that lets a run
be saved and resumed; and full-batch training by L-BFGS (`run_lbfgs`).

Imports `mlpkit.optim` and `mlpkit.nn` only.
"""

from .batches import ArraySource, Batch, CourseShuffle, ExactShuffle, NoShuffle, get_shuffle
from .full_batch import run_lbfgs
from .loop import (
    DivergenceError,
    Loop,
    SourceValidation,
    TrainingInterrupted,
    Validation,
    fit,
    train_step,
)
from .state import History, TrainingState
from .stopping import InverseScaling, NoImprovement, Patience

__all__ = [
    "ArraySource",
    "Batch",
    "CourseShuffle",
    "DivergenceError",
    "ExactShuffle",
    "History",
    "InverseScaling",
    "Loop",
    "NoImprovement",
    "NoShuffle",
    "Patience",
    "SourceValidation",
    "TrainingInterrupted",
    "TrainingState",
    "Validation",
    "fit",
    "get_shuffle",
    "run_lbfgs",
    "train_step",
]
