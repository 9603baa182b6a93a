"""The one training loop: epochs, mini-batches from a source, the learning-rate schedule, the
divergence check, callbacks and stopping rules, and the explicit training state that lets a run
be saved and resumed.

Imports `mlpkit.nn` and `mlpkit.optim` only.
"""

from .loop import History

__all__ = ["History"]
