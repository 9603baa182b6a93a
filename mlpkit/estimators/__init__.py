"""scikit-learn estimators over mlpkit's engine: `MLPClassifier` and `MLPRegressor`, a thin
adapter that validates (n_samples, n_features) input, encodes targets and weights and
configures the engine's training (the one epoch loop, or L-BFGS on the full batch).

Imports scikit-learn, `mlpkit.io`, `mlpkit.training`, `mlpkit.optim` and `mlpkit.nn`.
"""

from .classifier import MLPClassifier
from .regressor import MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor"]
