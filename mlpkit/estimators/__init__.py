"""scikit-learn estimators over mlpkit's engine: `MLPClassifier` and `MLPRegressor`, a thin
adapter that validates (n_samples, n_features) input, encodes targets and configures the one
training loop.

Imports scikit-learn, `mlpkit.io`, `mlpkit.training`, `mlpkit.optim` and `mlpkit.nn`.
"""

from .base import MLPClassifier, MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor"]
