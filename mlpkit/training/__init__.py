"""The one training loop: epochs, mini-batches from a source, the learning-rate schedule, the
divergence check, callbacks and stopping rules, and the explicit training state that lets a run
be saved and resumed; and full-batch training by L-BFGS (`run_lbfgs`).

`loop` (Loop, train_step), `batches` (sources, shuffles), `validation` (the metrics after each
epoch), `stopping` (rules), `state` (TrainingState, History), `fit` (Network.fit), `full_batch`
(L-BFGS's run).

Imports `mlpkit.optim` and `mlpkit.nn` only.
"""

from .batches import ArraySource, Batch, CourseShuffle, ExactShuffle, NoShuffle, get_shuffle
from .fit import fit
from .full_batch import run_lbfgs
from .loop import DivergenceError, Loop, TrainingInterrupted, train_step
from .state import History, TrainingState
from .stopping import InverseScaling, NoImprovement, Patience
from .validation import SourceValidation, Validation

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
