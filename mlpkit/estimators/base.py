"""scikit-learn estimators over mlpkit's engine: `MLPClassifier` and `MLPRegressor`.

Drop-in replacements for `sklearn.neural_network`'s: the same constructor parameters, fitted
attributes and training semantics (per-epoch loss_curve_, tol / n_iter_no_change stopping,
'adaptive' and 'invscaling' learning rates, early stopping on a validation split, warm_start,
partial_fit), plus what scikit-learn's MLP lacks: `dropout`, `batch_norm`, `solver='rmsprop'`,
the notes' decay schedules and a choice of `init`.

This module is a thin adapter: it validates (n_samples, n_features) input with scikit-learn's
utilities, encodes targets, and drives `mlpkit.Network` one epoch at a time through
`mlpkit.training`; every forward, backward and update step is the engine's. The engine's
(n_x, m) layout is X.T, a view of the validated array.

Where it differs from scikit-learn: no 'lbfgs' solver, sample_weight, sparse input or
'poisson' loss; momentum must be < 1 (the engine's momentum is an average); the engine's Adam
adds epsilon to sqrt(s_hat) rather than sqrt(s); the engine's velocity holds gradients, not
steps, so when 'adaptive' or 'invscaling' changes the rate under momentum the whole velocity
is rescaled at once; weights start from a normal Glorot draw and biases from zero; the
squared-error loss of a multi-output regressor is summed over outputs, not averaged; early
stopping stratifies every single-label classification split (scikit-learn's only binary).
"""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.multiclass import _check_partial_fit_first_call, type_of_target, unique_labels
from sklearn.utils.validation import check_is_fitted, validate_data

from ..io.model_files import network_from_state, network_to_state
from ..nn.checks import all_finite, check_layer_sizes, keep_prob_from_dropout
from ..nn.initializers import INITIALIZERS
from ..nn.network import Network
from ..optim.optimizers import Adam, GradientDescent, Momentum, NesterovMomentum, RMSprop
from ..optim.schedules import SCHEDULES, get_schedule
from ..training import ArraySource, InverseScaling, Loop, NoImprovement, TrainingState

# scikit-learn's activation names -> the engine's
HIDDEN = {
    "identity": "identity",
    "logistic": "sigmoid",
    "tanh": "tanh",
    "relu": "relu",
    "leaky_relu": "leaky_relu",
}
OUTPUT = {"logistic": "sigmoid", "softmax": "softmax", "identity": "identity"}
SKLEARN_RATES = ("constant", "invscaling", "adaptive")
NOTES_SCHEDULES = tuple(name for name in SCHEDULES if name != "constant")
SEED_RANGE = np.iinfo(np.int32).max


class BaseMLP(BaseEstimator):
    """What MLPClassifier and MLPRegressor share: parameters, the training loop, the
    coefs_/intercepts_ views and the persistence state. Use the subclasses."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(HIDDEN))],
        "solver": [StrOptions({"sgd", "adam", "rmsprop"})],
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
        "dropout": [Interval(Real, 0, 1, closed="left"), "array-like"],
        "batch_norm": ["boolean"],
        "init": [StrOptions(set(INITIALIZERS)), callable],
    }

    def _set_params_from(self, params):
        for name, value in params.items():
            setattr(self, name, value)

    # ------------------------------------------------------------------ coefs_, intercepts_
    @property
    def coefs_(self):
        """coefs_[i] = W[i+1].T, shape (n_in, n_out): views of network_'s weights."""
        P = self.network_.parameters
        return [P[f"W{l}"].T for l in range(1, self.network_.L + 1)]

    @coefs_.setter
    def coefs_(self, coefs):
        L = self.network_.L
        if len(coefs) != L:
            raise ValueError(f"coefs_ must be a list of {L} arrays (one per layer)")
        new = {f"W{l}": np.asarray(c).T for l, c in enumerate(coefs, start=1)}
        self.network_.parameters = {**self.network_.parameters, **new}

    @property
    def intercepts_(self):
        """intercepts_[i] = b[i+1] as (n_out,) views (batch norm's beta for normalized layers)."""
        P = self.network_.parameters
        return [P[self._bias_key(l)][:, 0] for l in range(1, self.network_.L + 1)]

    @intercepts_.setter
    def intercepts_(self, intercepts):
        L = self.network_.L
        if len(intercepts) != L:
            raise ValueError(f"intercepts_ must be a list of {L} arrays (one per layer)")
        new = {self._bias_key(l): np.reshape(b, (-1, 1)) for l, b in enumerate(intercepts, 1)}
        self.network_.parameters = {**self.network_.parameters, **new}

    def _bias_key(self, l):
        return f"b{l}" if f"b{l}" in self.network_.parameters else f"beta{l}"

    # ------------------------------------------------------------------ parameters
    def _hidden_sizes(self):
        try:
            return check_layer_sizes(self.hidden_layer_sizes, "hidden_layer_sizes")
        except ValueError:
            raise ValueError(
                f"hidden_layer_sizes must be > 0, got {self.hidden_layer_sizes!r} (expected "
                "positive integers, one per hidden layer)."
            ) from None

    def _keep_prob(self, n_hidden):
        """dropout (fraction dropped) -> the engine's keep_prob = 1 - dropout per hidden layer,
        or None when nothing is dropped."""
        return keep_prob_from_dropout(self.dropout, n_hidden)

    def _optimizer(self):
        """The engine's optimizer for `solver`. scikit-learn's momentum v = mu v - lr g is the
        engine's v = mu v + (1 - mu) g with lr scaled by 1 / (1 - mu) (see `_engine_rate`)."""
        if self.solver == "adam":
            return Adam(self.beta_1, self.beta_2, self.epsilon)
        if self.solver == "rmsprop":
            return RMSprop(self.beta_2, self.epsilon)
        if self.momentum == 0:
            return GradientDescent()
        return (NesterovMomentum if self.nesterovs_momentum else Momentum)(self.momentum)

    def _engine_rate(self, rate):
        """lr' = lr / (1 - mu) for sgd with momentum mu, else lr."""
        if self.solver == "sgd" and self.momentum > 0:
            return rate / (1 - self.momentum)
        return rate

    def _schedule(self):
        """The rate's rule: scikit-learn's names, the notes' schedules, or a callable
        (epoch, learning_rate_init) -> rate. Like scikit-learn's, Adam ignores 'invscaling'
        and 'adaptive'."""
        rule = self.learning_rate
        if callable(rule):
            return rule
        if rule in NOTES_SCHEDULES:
            return get_schedule(rule)
        return "constant" if self.solver == "adam" else rule

    # ------------------------------------------------------------------ fit
    def _fit(self, X, y, incremental=False):
        if incremental:
            self._check_partial_fit()
        hidden = self._hidden_sizes()
        keep_prob = self._keep_prob(len(hidden))
        first_pass = not hasattr(self, "network_") or (not self.warm_start and not incremental)
        X, Y = self._validate_input(X, y, incremental, reset=first_pass)
        layer_dims = [X.shape[1], *hidden, Y.shape[1]]
        self._random_state = check_random_state(self.random_state)
        if first_pass:
            self._initialize(layer_dims, X.dtype)
        elif self.network_.layer_dims != layer_dims or self.network_.batch_norm != self.batch_norm:
            raise ValueError(
                f"warm_start/partial_fit needs the same architecture: the model has layers "
                f"{self.network_.layer_dims} (batch_norm={self.network_.batch_norm}), "
                f"this call gives {layer_dims} (batch_norm={self.batch_norm})"
            )
        self._fit_stochastic(X, Y, keep_prob, incremental)
        return self

    def _check_partial_fit(self):
        """partial_fit trains on all of its data, so it has no validation split."""
        if self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")

    def _initialize(self, layer_dims, dtype):
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = layer_dims[-1]
        self.n_layers_ = len(layer_dims)
        self.out_activation_ = self._out_activation()
        self.network_ = Network(
            layer_dims,
            hidden_activation=HIDDEN[self.activation],
            output_activation=OUTPUT[self.out_activation_],
            init=self.init,
            seed=self._random_state.randint(SEED_RANGE),
            batch_norm=self.batch_norm,
        ).astype(dtype)
        self.loss_curve_ = []
        self._training = None

    def _fit_stochastic(self, X, Y, keep_prob, incremental):
        """Configure the engine's training loop for scikit-learn's semantics and run it: one
        epoch for partial_fit, up to max_iter epochs for fit."""
        if not incremental or getattr(self, "_training", None) is None:
            self._start_solver()
        X_val = y_val = None
        if self.early_stopping:
            X, X_val, Y, Y_val = self._validation_split(X, Y)
            y_val = self._validation_targets(Y_val)
        X = np.ascontiguousarray(X)  # the engine gathers mini-batches from its rows
        source = ArraySource.from_rows(X, Y)
        schedule = self._schedule()
        loop = Loop(
            self.network_, optimizer=self._optimizer(), learning_rate=self.learning_rate_init,
            schedule=schedule if callable(schedule) else None,
            rate_scale=self._engine_rate(1.0), batch_size=self._batch_size(X.shape[0]),
            shuffle=self.shuffle, l2=self.alpha, keep_prob=keep_prob,
            rules=self._rules(schedule),
            validation=None if X_val is None else (
                lambda net: {"val_score": self._validation_score(X_val, y_val)}
            ),
            log=self._print_loss if self.verbose else None,
        )
        state = self._training
        if state.rng is None:
            state.rng = np.random.default_rng(self._random_state.randint(SEED_RANGE))
        start_epoch = state.epoch
        epochs = start_epoch + (1 if incremental else self.max_iter)
        self.n_iter_ = 0
        try:
            loop.run(source, epochs, state)
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.", stacklevel=4)
        finally:
            self._epochs_done(state, start_epoch)
        if not incremental and loop.stopped is None and self.n_iter_ == self.max_iter:
            warnings.warn(
                f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and the "
                "optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=4,
            )

    def _start_solver(self):
        """A new training state (a new optimizer at learning_rate_init, epoch 0); partial_fit
        calls keep it. The stopping rule's bookkeeping carries over a warm start."""
        previous = getattr(self, "_training", None)
        self._training = TrainingState(
            learning_rate=float(self.learning_rate_init), samples_seen=getattr(self, "t_", 0),
            rules=previous.rules if previous is not None else {},
        )

    def _rules(self, schedule):
        """scikit-learn's end-of-epoch rules: the no-improvement count on the training loss or,
        with early stopping, the validation score ('adaptive' divides the rate by 5 instead of
        stopping), and 'invscaling''s rate lr_init / (t + 1)^power_t."""
        rules = [NoImprovement(
            self.n_iter_no_change, self.tol,
            monitor="val_score" if self.early_stopping else "loss",
            adaptive=schedule == "adaptive", verbose=self.verbose,
        )]
        if schedule == "invscaling":
            rules.insert(0, InverseScaling(self.power_t))
        return rules

    def _print_loss(self, loop, record):
        print(f"Iteration {self.n_iter_ + 1}, loss = {record['cost']:.8f}")
        self.n_iter_ += 1

    def _epochs_done(self, state, start_epoch):
        """scikit-learn's attributes after a run: n_iter_, t_, loss_curve_, loss_."""
        costs = state.history.costs[start_epoch:]
        self.n_iter_ = len(costs)
        self.t_ = state.samples_seen
        self.loss_curve_.extend(costs)
        if costs:
            self.loss_ = costs[-1]

    # scikit-learn's stopping bookkeeping, kept by the no-improvement rule in the training state
    def _memory(self):
        if getattr(self, "_training", None) is None:
            self._start_solver()
        return self._training.rules.setdefault(NoImprovement.name, {})

    def _remembered(name):  # noqa: N805 (a property factory, used in the class body)
        def get(self):
            if getattr(self, "_training", None) is None:
                raise AttributeError(f"{type(self).__name__} is not fitted: no {name}")
            return self._memory().get(name)

        def set_(self, value):
            self._memory()[name] = value

        return property(get, set_)

    _no_improvement_count = _remembered("count")
    best_loss_ = _remembered("best_loss")
    validation_scores_ = _remembered("scores")
    best_validation_score_ = _remembered("best_score")
    del _remembered

    def _batch_size(self, n_samples):
        """'auto' = min(200, n); an int larger than n is clipped to n, with scikit-learn's
        warning."""
        if self.batch_size == "auto":
            return min(200, n_samples)
        if self.batch_size > n_samples:
            warnings.warn(
                "Got `batch_size` less than 1 or larger than sample size. It is going to be "
                "clipped",
                stacklevel=6,
            )
        return min(self.batch_size, n_samples)

    def _validation_split(self, X, Y):
        """scikit-learn's train_test_split; stratified for single-label classification when
        every class can appear on both sides."""
        split = dict(random_state=self._random_state, test_size=self.validation_fraction)
        stratify = self._stratify_labels(Y)
        try:
            parts = train_test_split(X, Y, stratify=stratify, **split)
        except ValueError:
            if stratify is None:
                raise
            parts = train_test_split(X, Y, **split)
        if parts[1].shape[0] < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' or the size "
                "of your dataset."
            )
        return parts

    def _stratify_labels(self, Y):
        return None

    def _validation_targets(self, Y_val):
        """The validation targets `_score_outputs` compares with: Y_val here."""
        return Y_val

    def _validation_score(self, X, y):
        """Accuracy (classifier) or R^2 (regressor) against the validation targets y from
        `_validation_targets`; NaN when the predictions are not finite."""
        out = self._forward(X)
        if not all_finite(out):
            return np.nan
        return self._score_outputs(out, y)

    # ------------------------------------------------------------------ prediction
    def _forward(self, X):
        """A[L]^T, shape (n_samples, n_outputs), for validated X (n_samples, n_features)."""
        AL, _ = self.network_.forward(X.T)
        return AL.T

    def _forward_checked(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=(np.float64, np.float32), reset=False)
        return self._forward(X)

    def _validate_X_y(self, X, y, reset, **check_params):
        X, y = validate_data(
            self, X, y, multi_output=True, dtype=(np.float64, np.float32), reset=reset,
            **check_params,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        return X, y

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    # ------------------------------------------------------------------ persistence
    def _to_state(self):
        """(meta, arrays) for `mlpkit.save`: meta is JSON-serializable (class, get_params(),
        the network's configuration, the fitted attributes, the training state); arrays holds
        the network's parameters and batch-norm running statistics
        (`io.model_files.network_to_state`) and the training state's arrays (optimizer
        moments, the best epoch's parameters), so training resumes exactly."""
        check_is_fitted(self)
        net = self.network_
        if not isinstance(net.init, str) or callable(self.learning_rate):
            raise ValueError(
                "a model with a callable init or learning_rate cannot be saved as data; "
                "use one of the named initializers and learning rates"
            )
        network_meta, arrays = network_to_state(net)
        training_meta, training_arrays = self._training.to_arrays()
        arrays.update(training_arrays)
        fitted = {
            name: _to_json(getattr(self, name))
            for name in (
                "n_features_in_", "n_iter_", "t_", "n_layers_", "n_outputs_",
                "out_activation_", "loss_", "loss_curve_",
            )
        }
        if hasattr(self, "feature_names_in_"):
            fitted["feature_names_in_"] = _to_json(self.feature_names_in_)
        meta = {
            "class": type(self).__name__,
            "params": {k: _to_json(v) for k, v in self.get_params().items()},
            "network": network_meta,
            "training": training_meta,
            "fitted": fitted,
            **self._extra_state(),
        }
        if not isinstance(meta["params"]["random_state"], (int, type(None))):
            meta["params"]["random_state"] = None  # a RandomState instance is not data
        return meta, arrays

    @classmethod
    def _from_state(cls, meta, arrays):
        """The fitted estimator that `_to_state` described (identical predictions)."""
        if meta.get("class") != cls.__name__:
            raise ValueError(f"this state describes a {meta.get('class')!r}, not a {cls.__name__}")
        params = dict(meta["params"])
        for name in ("hidden_layer_sizes", "dropout"):
            if isinstance(params[name], list):
                params[name] = tuple(params[name])
        estimator = cls(**params)
        estimator.network_ = network_from_state(meta["network"], arrays)
        fitted = dict(meta["fitted"])
        if "feature_names_in_" in fitted:
            fitted["feature_names_in_"] = np.asarray(fitted["feature_names_in_"], dtype=object)
        for name, value in fitted.items():
            setattr(estimator, name, value)
        estimator._training = TrainingState.from_arrays(meta["training"], arrays)
        estimator._restore_extra_state(meta)
        return estimator

    def _extra_state(self):
        """What a subclass adds to the saved state (the classifier: its classes)."""
        return {}

    def _restore_extra_state(self, meta):
        """Restore what `_extra_state` saved; nothing here."""


class MLPClassifier(ClassifierMixin, BaseMLP):
    """Multi-layer perceptron classifier on mlpkit's engine: scikit-learn's MLPClassifier
    parameters and attributes (see sklearn.neural_network.MLPClassifier), plus

    activation='leaky_relu'; solver='rmsprop' (beta_2, epsilon);
    learning_rate in 'inverse_time', 'exponential', 'sqrt', 'staircase' (mlpkit.schedules, by
    epoch) or a callable (epoch, learning_rate_init) -> rate;
    dropout: fraction of hidden units dropped in training, one number or one per hidden layer;
    batch_norm: batch normalization before each hidden activation;
    init: weight initializer ('glorot' default: the variance of scikit-learn's Glorot draw).

    Output: one sigmoid unit for two classes, softmax for more, one sigmoid per label for a
    multilabel indicator y. network_ is the trained mlpkit.Network; coefs_ and intercepts_
    are views of its parameters.
    """

    def __init__(
        self,
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
        dropout=0.0,
        batch_norm=False,
        init="glorot",
    ):
        self._set_params_from({k: v for k, v in locals().items() if k != "self"})

    def _out_activation(self):
        return "softmax" if self._label_binarizer.y_type_ == "multiclass" else "logistic"

    def _validate_input(self, X, y, incremental, reset):
        """X as float32/float64 (n_samples, n_features); y binarized to (n_samples, n_outputs)
        in X's dtype, with scikit-learn's rules for classes_ across warm starts and
        partial_fit."""
        X, y = self._validate_X_y(X, y, reset)
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same classes as in the "
                        f"previous call to fit. Previously got {self.classes_}, `y` has {classes}"
                    )
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(
                    f"`y` has classes not in `self.classes_`. `self.classes_` has "
                    f"{self.classes_}. 'y' has {classes}."
                )
        return X, self._label_binarizer.transform(y).astype(X.dtype)

    def _stratify_labels(self, Y):
        if self._label_binarizer.y_type_ == "multilabel-indicator":
            return None
        return Y.argmax(axis=1) if Y.shape[1] > 1 else Y[:, 0]

    def _validation_targets(self, Y_val):
        """The validation labels, decoded once per fit."""
        return self._decode(Y_val)

    def _score_outputs(self, out, y):
        return accuracy_score(y, self._decode(out))

    def _decode(self, out):
        return self._label_binarizer.inverse_transform(out.ravel() if out.shape[1] == 1 else out)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the model to X (n_samples, n_features) and labels y (n_samples,) or a multilabel
        indicator (n_samples, n_labels)."""
        return self._fit(X, y, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None):
        """One epoch over (X, y), continuing the optimizer's state; `classes` (all labels) is
        required on the first call."""
        self._check_partial_fit()  # before classes_ is set
        if _check_partial_fit_first_call(self, classes):
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
        return self._fit(X, y, incremental=True)

    def predict(self, X):
        """Class labels (n_samples,), or an indicator (n_samples, n_labels) for multilabel."""
        return self._decode(self._forward_checked(X))

    def predict_proba(self, X):
        """Probabilities (n_samples, n_classes) in the order of classes_; one output unit p
        (binary) gives [1 - p, p]."""
        out = self._forward_checked(X)
        if self.n_outputs_ == 1:
            return np.column_stack([1 - out[:, 0], out[:, 0]])
        return np.ascontiguousarray(out)

    def predict_log_proba(self, X):
        """log(predict_proba(X))."""
        proba = self.predict_proba(X)
        return np.log(proba, out=proba)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    def _extra_state(self):
        lb = self._label_binarizer
        return {
            "classes": _to_json(self.classes_),
            "classes_dtype": str(self.classes_.dtype),
            "y_type": lb.y_type_,
        }

    def _restore_extra_state(self, meta):
        classes = np.asarray(meta["classes"], dtype=np.dtype(meta["classes_dtype"]))
        lb = LabelBinarizer()
        lb.classes_, lb.y_type_, lb.sparse_input_ = classes, meta["y_type"], False
        self._label_binarizer, self.classes_ = lb, classes


class MLPRegressor(RegressorMixin, BaseMLP):
    """Multi-layer perceptron regressor on mlpkit's engine (identity output, squared error):
    scikit-learn's MLPRegressor parameters and attributes, plus activation='leaky_relu',
    solver='rmsprop', the notes' learning-rate schedules, dropout, batch_norm and init (see
    MLPClassifier). loss supports 'squared_error' only."""

    _parameter_constraints: dict = {
        **BaseMLP._parameter_constraints,
        "loss": [StrOptions({"squared_error"})],
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
        dropout=0.0,
        batch_norm=False,
        init="glorot",
    ):
        self._set_params_from({k: v for k, v in locals().items() if k != "self"})

    def _out_activation(self):
        return "identity"

    def _validate_input(self, X, y, incremental, reset):
        X, y = self._validate_X_y(X, y, reset, y_numeric=True)
        return X, y.reshape(X.shape[0], -1).astype(X.dtype)

    def _score_outputs(self, out, y):
        return r2_score(y, out)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the model to X (n_samples, n_features) and targets y (n_samples,) or
        (n_samples, n_outputs)."""
        return self._fit(X, y, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y):
        """One epoch over (X, y), continuing the optimizer's state."""
        return self._fit(X, y, incremental=True)

    def predict(self, X):
        """Predictions (n_samples,), or (n_samples, n_outputs) for several targets."""
        out = self._forward_checked(X)
        return out[:, 0] if out.shape[1] == 1 else np.ascontiguousarray(out)


def _to_json(value):
    """numpy arrays and scalars -> lists and Python numbers; tuples -> lists."""
    if isinstance(value, (np.ndarray, np.generic)):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_to_json(v) for v in value]
    return value
