"""scikit-learn estimators over mlpkit's engine: what `MLPClassifier` and `MLPRegressor` share.

Drop-in replacements for `sklearn.neural_network`'s: the same constructor parameters, fitted
attributes and training semantics (solver='lbfgs' with max_fun, per-epoch loss_curve_, tol /
n_iter_no_change stopping, 'adaptive' and 'invscaling' learning rates, early stopping on a
validation split, warm_start, partial_fit, sample_weight, scipy.sparse X, multi-label and
multi-output targets, loss='poisson', coefs_ / intercepts_ set by hand before partial_fit),
plus what scikit-learn's MLP lacks: `class_weight`, `dropout`, `batch_norm`,
`solver='rmsprop'`, the notes' decay schedules, a choice of `init`, and ONNX export
(`mlpkit.to_onnx`).

This package is a thin adapter: it validates (n_samples, n_features) input with scikit-learn's
utilities, encodes targets and weights, and configures the engine's training: the one epoch
loop (`mlpkit.training.Loop`) for the stochastic solvers, `mlpkit.training.run_lbfgs` (scipy's
L-BFGS-B on the packed parameters theta, with the engine's cost and gradient) for 'lbfgs'.
Every forward, backward and update step is the engine's. The engine's (n_x, m) layout is X.T,
a view of the validated array; a sparse X stays sparse (only the first layer reads it).

The default init='sklearn' draws scikit-learn's initial weights from random_state in its order,
so the same random_state starts both from the same weights (solver='lbfgs' then ends at the
same parameters, to rounding).

Where it differs from scikit-learn: momentum must be < 1 (the engine's momentum is an
average); the engine's Adam adds epsilon to sqrt(s_hat) rather than sqrt(s); the engine's
velocity holds gradients, not steps, so when 'adaptive' or 'invscaling' changes the rate under
momentum the whole velocity is rescaled at once; the squared-error loss of a multi-output
regressor is summed over outputs, not averaged (scikit-learn averages the loss it reports, but
its gradient is the sum's); early stopping also stratifies multiclass splits when every class
has 2 members (scikit-learn's only binary ones); negative sample weights are refused;
class_weight='balanced' counts the classes with the sample weights; with solver='lbfgs'
loss_curve_ holds the loss after each iteration (scikit-learn sets none) and partial_fit is
absent from the regressor too (scikit-learn's regressor keeps it by mistake); loss='poisson'
starts its output bias at log(mean y); predict_proba keeps sigmoid outputs within
[eps, 1 - eps]. Under batch norm, coefs_ / intercepts_ are the affine maps prediction applies
(the normalization folded in) and cannot be set, and batch statistics are unweighted, so zero
weights equal dropped rows only without batch norm. L-BFGS refuses dropout (a random cost);
under batch norm it minimizes the full-batch cost and leaves the full batch's statistics as the
running ones.

This module owns the parameters (their constraints), prediction, scikit-learn's tags and the
ONNX spec; the rest of BaseMLP is three mixins, one concern each: `views` (coefs_ and
intercepts_), `fitting` (the training set-up) and `persistence` (the saved state).
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import column_or_1d
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ..nn.initializers import INITIALIZERS
from .fitting import (
    HIDDEN,
    NOTES_SCHEDULES,
    SKLEARN_INIT,
    SKLEARN_RATES,
    STOCHASTIC_SOLVERS,
    TrainingSetup,
)
from .persistence import Persistence
from .views import LayerViews


class BaseMLP(LayerViews, TrainingSetup, Persistence, BaseEstimator):
    """What MLPClassifier and MLPRegressor share: parameters, the training configuration, the
    coefs_/intercepts_ views and the persistence state. Use the subclasses."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(HIDDEN))],
        "solver": [StrOptions({"lbfgs", *STOCHASTIC_SOLVERS})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({*SKLEARN_RATES, *NOTES_SCHEDULES}), callable],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        # the engine's momentum is an average, v = mu v + (1 - mu) g, so mu = 1 is excluded
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [
            Interval(Integral, 1, None, closed="left"),
            Options(Real, {np.inf}),
        ],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left"), "array-like"],
        "batch_norm": ["boolean"],
        "init": [StrOptions({SKLEARN_INIT, *INITIALIZERS}), callable],
    }

    def _set_params_from(self, params):
        for name, value in params.items():
            setattr(self, name, value)

    def __sklearn_is_fitted__(self):
        return hasattr(self, "network_")

    # ------------------------------------------------------------------ prediction
    def _forward(self, X):
        """A[L]^T, shape (n_samples, n_outputs), for validated X (n_samples, n_features), dense
        or sparse."""
        AL, _ = self.network_.forward(X.T)
        return AL.T

    def _forward_checked(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=["csr", "csc"], dtype=(np.float64, np.float32),
                          reset=False)
        return self._forward(X)

    def _validate_X_y(self, X, y, reset, **check_params):
        X, y = validate_data(
            self, X, y, accept_sparse=["csr", "csc"], multi_output=True,
            dtype=(np.float64, np.float32), reset=reset, **check_params,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        return X, y

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.input_tags.sparse = True
        return tags

    # ------------------------------------------------------------------ ONNX
    def _onnx_spec(self):
        """What `mlpkit.to_onnx` exports: the network and the estimator's outputs."""
        from ..io.onnx import OnnxSpec

        check_is_fitted(self)
        return OnnxSpec(self.network_, n_features=self.n_features_in_, **self._onnx_outputs())
