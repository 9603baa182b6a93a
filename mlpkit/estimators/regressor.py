"""`MLPRegressor`: scikit-learn's MLPRegressor on mlpkit's engine (see `base` for what it shares
with the classifier and where it differs from scikit-learn)."""

import numpy as np
from sklearn.base import RegressorMixin, _fit_context
from sklearn.metrics import r2_score
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import available_if

from ..nn.backend import host_dtype
from .base import BaseMLP, docstring


class MLPRegressor(RegressorMixin, BaseMLP):
    """Multi-layer perceptron regressor on mlpkit's engine: scikit-learn's MLPRegressor
    parameters and attributes, plus activation='leaky_relu', solver='rmsprop', the notes'
    learning-rate schedules, dropout, batch_norm and init (see MLPClassifier).

    loss='squared_error': identity output, J = (1/2m) sum ||a - y||^2; loss='poisson': the log
    link, a = e^z (out_activation_ 'exp'), and half the Poisson deviance
    J = (1/m) sum [y log(y / a) - y + a], for targets y >= 0 (counts, rates); the output bias
    starts at log(mean y) rather than scikit-learn's random draw. Under scikit-learn's
    array_api_dispatch, an X of another array library (a PyTorch tensor, a CuPy array) is
    followed by training and prediction.

    Examples
    --------
    >>> import numpy as np
    >>> from mlpkit import MLPRegressor
    >>> X = np.linspace(-1, 1, 100).reshape(-1, 1)
    >>> reg = MLPRegressor(hidden_layer_sizes=(16,), solver="lbfgs", random_state=0)
    >>> reg.fit(X, X[:, 0] ** 2).score(X, X[:, 0] ** 2) > 0.99
    True
    """

    __doc__ = docstring(__doc__, ("""loss : {'squared_error', 'poisson'}, default='squared_error'
    The cost J: half the mean squared error, or half the Poisson deviance (log link).""", ""),
        "")

    _parameter_constraints: dict = {
        **BaseMLP._parameter_constraints,
        "loss": [StrOptions({"squared_error", "poisson"})],
    }

    def __init__(
        self,
        loss="squared_error",
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        dropout=0.0,
        batch_norm=False,
        init="sklearn",
    ):
        self._set_params_from({k: v for k, v in locals().items() if k != "self"})

    def _out_activation(self):
        return "exp" if self.loss == "poisson" else "identity"

    def _validate_input(self, X, y, incremental, reset):
        X, y = self._validate_X_y(X, y, reset, y_numeric=True)
        if self.loss == "poisson" and (y < 0).any():
            raise ValueError(
                "Some value(s) of y are negative which is not allowed for Poisson regression."
            )
        return X, y.reshape(X.shape[0], -1).astype(host_dtype(X.dtype))

    def _check_continuation(self, net, layer_dims):
        """As BaseMLP's, and the same loss (its output activation) as the fitted network."""
        super()._check_continuation(net, layer_dims)
        if hasattr(self, "out_activation_") and self._out_activation() != self.out_activation_:
            fitted = "poisson" if self.out_activation_ == "exp" else "squared_error"
            raise ValueError(
                f"loss={self.loss!r}, but the fitted network was trained with loss={fitted!r} "
                f"(out_activation_={self.out_activation_!r}): warm_start and partial_fit "
                f"continue the fitted network. Set loss={fitted!r}, or fit anew "
                "(warm_start=False) to change it"
            )

    def _initialize_output(self, Y, sample_weight):
        """Poisson: the output bias starts at log of the (weighted) mean target, the best
        constant model e^b = mean(y), so training starts from the right scale."""
        if self.loss != "poisson":
            return
        mean = np.average(Y, axis=0, weights=sample_weight)
        bias = np.log(np.maximum(mean, np.finfo(np.float32).tiny))
        self.network_.parameters[f"b{self.network_.L}"] = bias.reshape(-1, 1)

    def _score_outputs(self, out, y, sample_weight=None):
        return r2_score(y, out, sample_weight=sample_weight)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train on (X, y): up to max_iter epochs (iterations for 'lbfgs').

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            One row per example (the engine trains on X.T, a view).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The targets (>= 0 for loss='poisson').
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the examples' losses (a weighted mean).

        Returns
        -------
        self : MLPRegressor
            Fitted.

        Raises
        ------
        ValueError
            For a parameter or input scikit-learn's MLPRegressor refuses, negative targets
            with loss='poisson', weights that sum to zero, dropout with 'lbfgs', or a warm
            start whose architecture or loss differs.
        """
        return self._fit(X, y, sample_weight, incremental=False)

    @available_if(lambda estimator: estimator._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over (X, y), continuing the optimizer's state. Only for the stochastic
        solvers.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            One row per example.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the examples' losses.

        Returns
        -------
        self : MLPRegressor
            Trained one more epoch.
        """
        self._check_partial_fit()
        return self._fit(X, y, sample_weight, incremental=True)

    def predict(self, X):
        """The output layer's A[L], one row per example.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            One row per example.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The predictions; in X's library and on its device under array_api_dispatch.
        """
        out = self._forward_checked(X, "predict")
        if out.shape[1] == 1:
            return out[:, 0]
        return np.ascontiguousarray(out) if isinstance(out, np.ndarray) else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if self.loss == "poisson":
            tags.target_tags.positive_only = True
            # multi-output y >= 0 works, but scikit-learn's multi-output check feeds negative
            # targets, which no Poisson model takes
            tags.target_tags.multi_output = False
        return tags

    def _onnx_outputs(self):
        return {"output": "regressor"}
