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

Under scikit-learn's `array_api_dispatch=True`, an X of another array library (a PyTorch
tensor, a CuPy array, array-api-strict) is followed: the network trains on X's device, in X's
library and dtype; the encoded targets and the sample weights are moved there (the labels'
bookkeeping, classes_ and class weights, runs on the host); the fitted network stays on that
device, and predict, predict_proba and predict_log_proba return X's kind of array on X's
device (class labels that are not numbers come back as NumPy). solver='lbfgs' hands theta to
scipy on the host at each iteration (as scikit-learn's LogisticRegression does), so each
iteration copies theta and its gradient across once.

This module owns the parameters (their constraints), prediction, scikit-learn's tags and the
ONNX spec; the rest of BaseMLP is three mixins, one concern each: `views` (coefs_ and
intercepts_), `fitting` (the training set-up) and `persistence` (the saved state).
"""

import inspect
from numbers import Integral, Real

import numpy as np
from sklearn import get_config
from sklearn.base import BaseEstimator
from sklearn.utils import column_or_1d
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ..nn.backend import NUMPY, array_backend, on_host
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

    def _forward_checked(self, X, method):
        """`_forward` of X checked: fitted, X's features, and under array_api_dispatch X in the
        library and on the device of the fitted network (scikit-learn's rule)."""
        check_is_fitted(self)
        if get_config()["array_api_dispatch"]:
            self._check_same_namespace(X, method)
        X = validate_data(self, X, accept_sparse=["csr", "csc"], dtype=float_dtypes(X),
                          reset=False)
        return self._forward(X)

    def _check_same_namespace(self, X, method):
        fitted, given = self.network_.backend, array_backend(X) or NUMPY
        if given != fitted:
            raise ValueError(
                f"Inputs passed to {type(self).__name__}.{method}() must use the same namespace "
                "and the same device as those passed to fit(): the network was fitted on "
                f"{fitted.name} arrays on {fitted.device}, {method} got {given.name} arrays on "
                f"{given.device}. Move the fitted network to X's: estimator.network_.to_like(X)"
            )

    def _validate_X_y(self, X, y, reset, **check_params):
        """X validated in its library (float32 or float64), y as a NumPy array on the host."""
        X, y = validate_data(
            self, X, on_host(y), accept_sparse=["csr", "csc"], multi_output=True,
            dtype=float_dtypes(X), reset=reset, **check_params,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        return X, y

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.input_tags.sparse = True
        tags.array_api_support = True
        return tags

    # ------------------------------------------------------------------ ONNX
    def _onnx_spec(self):
        """What `mlpkit.to_onnx` exports: the network and the estimator's outputs."""
        from ..io.onnx import OnnxSpec

        check_is_fitted(self)
        return OnnxSpec(self.network_, n_features=self.n_features_in_, **self._onnx_outputs())


def float_dtypes(X):
    """The floating dtypes X may keep: under scikit-learn's array_api_dispatch, when X is an
    array of another library than NumPy (everything then follows X), its device's float64 and
    float32 (`Backend.float_dtypes`); else NumPy's."""
    b = array_backend(X) if get_config()["array_api_dispatch"] else None
    return (np.float64, np.float32) if b is None else b.float_dtypes()


# The estimators' docstrings: what both take and hold, in scikit-learn's order.
PARAMETERS = """hidden_layer_sizes : array-like of int, default=(100,)
    n[1], ..., n[L-1]: the units of each hidden layer.
activation : {'identity', 'logistic', 'tanh', 'relu', 'leaky_relu'}, default='relu'
    The hidden layers' g(z).
solver : {'lbfgs', 'sgd', 'adam', 'rmsprop'}, default='adam'
    'sgd' (with momentum / Nesterov's), Adam, RMSprop (beta_2, epsilon) on mini-batches, or
    scipy's L-BFGS-B on the full batch (theta on the host at each iteration).
alpha : float, default=0.0001
    The L2 penalty lambda: J += (alpha / 2m) sum ||W[l]||_F^2.
batch_size : int or 'auto', default='auto'
    Examples per mini-batch; 'auto' is min(200, m). Ignored by 'lbfgs'.
learning_rate : {'constant', 'invscaling', 'adaptive', 'inverse_time', 'exponential', \
'sqrt', 'staircase'} or callable, default='constant'
    The rate's rule: scikit-learn's three, the notes' decay schedules (by epoch), or a callable
    (epoch, learning_rate_init) -> rate. Adam ignores 'invscaling' and 'adaptive', as
    scikit-learn's.
learning_rate_init : float, default=0.001
    alpha_0, the first rate of the stochastic solvers.
power_t : float, default=0.5
    The exponent of 'invscaling': rate = learning_rate_init / (t + 1)^power_t.
max_iter : int, default=200
    Epochs of the stochastic solvers; iterations of 'lbfgs'.
shuffle : bool, default=True
    Shuffle the examples every epoch.
random_state : int, RandomState instance or None, default=None
    Seeds the initial weights, the shuffles, dropout's masks and the early-stopping split.
tol : float, default=1e-4
    The loss (or validation score) must improve by tol within n_iter_no_change epochs.
verbose : bool, default=False
    Print the loss after every epoch.
warm_start : bool, default=False
    Continue from the fitted network instead of initializing anew.
momentum : float in [0, 1), default=0.9
    beta of 'sgd''s momentum, v = beta v + (1 - beta) dW (the rate scaled to match
    scikit-learn's).
nesterovs_momentum : bool, default=True
    Nesterov's momentum for 'sgd' when momentum > 0.
early_stopping : bool, default=False
    Hold out validation_fraction of the data (a dev set) and stop when its score stops
    improving; the best parameters are kept.
validation_fraction : float in [0, 1), default=0.1
    The dev set's share of the data under early_stopping.
beta_1 : float in [0, 1), default=0.9
    Adam's first-moment decay.
beta_2 : float in [0, 1), default=0.999
    Adam's and RMSprop's second-moment decay.
epsilon : float, default=1e-8
    Adam's and RMSprop's epsilon, added to sqrt(s).
n_iter_no_change : int, default=10
    Epochs without a tol improvement before stopping (or, for 'adaptive', dividing the rate by
    5).
max_fun : int, default=15000
    The most loss evaluations of 'lbfgs'.
dropout : float in [0, 1) or array-like, default=0.0
    Inverted dropout: the share of hidden units dropped in training (keep_prob = 1 - dropout),
    one number or one per hidden layer. Not with 'lbfgs'.
batch_norm : bool, default=False
    Batch normalization of each hidden layer's Z before its activation (gamma, beta learned;
    running means and variances used in prediction).
init : {'sklearn', 'he', 'xavier', 'glorot', 'random', 'zeros'} or callable, \
default='sklearn'
    The initial weights: scikit-learn's own draw from random_state (the same random_state
    starts both from the same weights) or one of mlpkit's initializers (biases zero)."""

ATTRIBUTES = """loss_ : float
    The loss after the last epoch (iteration for 'lbfgs').
best_loss_ : float or None
    The best training loss (None under early_stopping).
loss_curve_ : list of float
    The loss after each epoch (iteration).
validation_scores_ : list of float or None
    The dev set's score after each epoch under early_stopping.
best_validation_score_ : float or None
    The best of validation_scores_.
t_ : int
    Examples seen in training.
coefs_ : list of ndarray of shape (n_in, n_out)
    W[l].T, views of the network's parameters.
intercepts_ : list of ndarray of shape (n_out,)
    b[l], views of the network's parameters.
n_features_in_ : int
    Features seen in fit.
feature_names_in_ : ndarray of shape (n_features_in_,)
    The features' names, when X had string column names.
n_iter_ : int
    Epochs (iterations for 'lbfgs') the last fit ran.
n_layers_ : int
    L + 1: the input layer, the hidden layers and the output layer.
n_outputs_ : int
    Units of the output layer.
out_activation_ : str
    The output layer's activation.
network_ : mlpkit.Network
    The trained network, in the course's notation (X of shape (n_x, m))."""


def docstring(summary, parameters, attributes):
    """An estimator's numpydoc docstring from its own (the summary and the Examples): its
    Parameters and Attributes around the shared ones, then the Examples."""
    def section(title, *blocks):
        text = "\n".join(b for b in blocks if b)
        return f"{title}\n{'-' * len(title)}\n{text}"

    summary, _, examples = inspect.cleandoc(summary).partition("Examples\n--------\n")
    first, last = parameters
    parts = [summary.strip(), section("Parameters", first, PARAMETERS, last),
             section("Attributes", attributes, ATTRIBUTES)]
    if examples:
        parts.append(section("Examples", examples.strip()))
    return "\n\n".join(parts) + "\n"
