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
"""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.optimize import _check_optimize_result
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ..io.model_files import network_from_state, network_to_state
from ..nn.checks import all_finite, check_layer_sizes, keep_prob_from_dropout
from ..nn.initializers import INITIALIZERS
from ..nn.network import Network
from ..optim.lbfgs import LBFGS
from ..optim.optimizers import Adam, GradientDescent, Momentum, NesterovMomentum, RMSprop
from ..optim.schedules import SCHEDULES, get_schedule
from ..training import (
    ArraySource,
    InverseScaling,
    Loop,
    NoImprovement,
    TrainingInterrupted,
    TrainingState,
)
from ..training.full_batch import run_lbfgs

# scikit-learn's activation names -> the engine's
HIDDEN = {
    "identity": "identity",
    "logistic": "sigmoid",
    "tanh": "tanh",
    "relu": "relu",
    "leaky_relu": "leaky_relu",
}
OUTPUT = {"logistic": "sigmoid", "softmax": "softmax", "identity": "identity",
          "exp": "exponential"}
STOCHASTIC_SOLVERS = ("sgd", "adam", "rmsprop")
SKLEARN_RATES = ("constant", "invscaling", "adaptive")
NOTES_SCHEDULES = tuple(name for name in SCHEDULES if name != "constant")
SEED_RANGE = np.iinfo(np.int32).max
SKLEARN_INIT = "sklearn"  # scikit-learn's own draw of the initial weights and biases


class BaseMLP(BaseEstimator):
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

    # ------------------------------------------------------------------ coefs_, intercepts_
    @property
    def coefs_(self):
        """coefs_[i], shape (n_in, n_out): the weights of layer i + 1 as scikit-learn holds them,
        views of network_'s W[i+1].T (assigning an item copies it in). Under batch norm, the
        read-only weights that prediction applies, diag(gamma / sqrt(var + eps)) W[i+1], for
        normalized layers. Before fitting, what was set by hand (partial_fit and a warm-started
        fit train from it)."""
        return self._layers("coefs")

    @coefs_.setter
    def coefs_(self, coefs):
        self._set_layers("coefs", coefs)

    @property
    def intercepts_(self):
        """intercepts_[i], shape (n_out,): the biases of layer i + 1, views of network_'s
        b[i+1]; under batch norm, the read-only beta - gamma mu / sqrt(var + eps) of normalized
        layers (see coefs_)."""
        return self._layers("intercepts")

    @intercepts_.setter
    def intercepts_(self, intercepts):
        self._set_layers("intercepts", intercepts)

    def _layers(self, kind):
        pending = self.__dict__.get(f"_user_{kind}")
        if pending is not None:
            return pending
        if not hasattr(self, "network_"):
            raise AttributeError(
                f"This {type(self).__name__} instance is not fitted yet: it has no {kind}_ "
                f"(fit it, or set coefs_ and intercepts_ before partial_fit)"
            )
        net = self.network_
        if net.batch_norm:
            arrays = []
            for W, b in net.affine_layers():
                layer = W.T if kind == "coefs" else b[:, 0]
                layer.setflags(write=False)
                arrays.append(layer)
            return _Layers(arrays, self._refuse_batch_norm)
        P = net.parameters
        if kind == "coefs":
            arrays = [P[f"W{l}"].T for l in range(1, net.L + 1)]
        else:
            arrays = [P[f"b{l}"][:, 0] for l in range(1, net.L + 1)]
        return _Layers(arrays, lambda i, value: self._write_layer(kind, i, value))

    def _set_layers(self, kind, layers):
        if not hasattr(self, "network_"):  # set by hand before fitting: a network is built
            self.__dict__[f"_user_{kind}"] = list(layers)  # from them when training starts
            return
        self._refuse_batch_norm()
        L = self.network_.L
        if len(layers) != L:
            raise ValueError(f"{kind}_ must be a list of {L} arrays (one per layer)")
        new = dict(self._layer_array(kind, i, value) for i, value in enumerate(layers))
        self.network_.parameters = {**self.network_.parameters, **new}

    def _write_layer(self, kind, i, value):
        key, array = self._layer_array(kind, i, value)
        self.network_.parameters = {**self.network_.parameters, key: array}

    def _layer_array(self, kind, i, value):
        """(key, array in the engine's layout) for coefs_[i] or intercepts_[i] = value, shape
        checked against the fitted network."""
        net = self.network_
        l = range(1, net.L + 1)[i]
        value = np.asarray(value)
        expected = net.parameters[f"W{l}" if kind == "coefs" else f"b{l}"].shape
        shape = expected[::-1] if kind == "coefs" else expected[:1]
        if value.shape != shape:
            raise ValueError(
                f"{kind}_[{i}] must have shape {shape} (layer {l} of the fitted network); got "
                f"{value.shape}"
            )
        return (f"W{l}", value.T) if kind == "coefs" else (f"b{l}", value.reshape(-1, 1))

    def _refuse_batch_norm(self, *args):
        if self.network_.batch_norm:
            raise ValueError(
                "under batch norm, coefs_ and intercepts_ are the affine maps prediction "
                "applies, W' = diag(gamma / sqrt(var + eps)) W and b' = beta - gamma mu / "
                "sqrt(var + eps): they cannot be set; set network_.parameters (W, gamma, beta) "
                "and network_.running_stats instead"
            )

    def _user_network(self):
        """The network that coefs_ and intercepts_ set by hand on an unfitted estimator define
        (their shapes give the layer sizes, their dtype the network's), as scikit-learn trains
        from them. Only checks: `_adopt_user_network` takes it on once the call's data fit."""
        coefs = self.__dict__.get("_user_coefs")
        intercepts = self.__dict__.get("_user_intercepts")
        if coefs is None or intercepts is None:
            raise ValueError(
                "to train from weights set by hand, set both coefs_ and intercepts_ (one array "
                f"per layer); only {'coefs_' if coefs is not None else 'intercepts_'} was set"
            )
        coefs = [np.asarray(c) for c in coefs]
        intercepts = [np.ravel(b) for b in intercepts]
        if len(coefs) != len(intercepts) or not coefs or any(c.ndim != 2 for c in coefs):
            raise ValueError(
                "coefs_ must be a list of 2-D arrays (n_in, n_out), one per layer, and "
                "intercepts_ a list of as many 1-D arrays (n_out,)"
            )
        dims = [coefs[0].shape[0], *(c.shape[1] for c in coefs)]
        shapes_ok = all(c.shape == (dims[i], dims[i + 1]) for i, c in enumerate(coefs)) and all(
            b.shape == (dims[i + 1],) for i, b in enumerate(intercepts)
        )
        if not shapes_ok:
            raise ValueError(
                f"coefs_ and intercepts_ do not chain: coefs_ shapes {[c.shape for c in coefs]}, "
                f"intercepts_ shapes {[b.shape for b in intercepts]} (layer i maps n_i inputs "
                "to n_(i+1) outputs: coefs_[i] (n_i, n_(i+1)), intercepts_[i] (n_(i+1),))"
            )
        if self.batch_norm:
            raise ValueError(
                "coefs_ and intercepts_ set by hand define a network without batch norm; use "
                "batch_norm=False to train from them"
            )
        net = Network(dims, hidden_activation=HIDDEN[self.activation],
                      output_activation=OUTPUT[self._out_activation()], init="zeros")
        net.init = self.init
        parameters = {}
        for l, (W, b) in enumerate(zip(coefs, intercepts, strict=True), start=1):
            parameters[f"W{l}"], parameters[f"b{l}"] = W.T, b.reshape(-1, 1)
        net.parameters = parameters
        return net

    def _adopt_user_network(self, net):
        """Train from `net` (`_user_network`): network_ and scikit-learn's attributes."""
        self.__dict__.pop("_user_coefs", None)
        self.__dict__.pop("_user_intercepts", None)
        self.out_activation_ = self._out_activation()
        self.network_ = net
        self.n_outputs_, self.n_layers_ = net.layer_dims[-1], len(net.layer_dims)
        for name, value in (("n_iter_", 0), ("t_", 0), ("loss_curve_", [])):
            if not hasattr(self, name):
                setattr(self, name, value)
        if "_training" not in self.__dict__:
            self._training = None

    def _check_continuation(self, net, layer_dims):
        """warm_start and partial_fit continue `net` as it is: its layer sizes, batch norm and
        activations must be the ones this call asks for."""
        if net.layer_dims != layer_dims or net.batch_norm != self.batch_norm:
            raise ValueError(
                f"warm_start/partial_fit needs the same architecture: the model has layers "
                f"{net.layer_dims} (batch_norm={net.batch_norm}), this call gives "
                f"{layer_dims} (batch_norm={self.batch_norm})"
            )
        hidden = HIDDEN[self.activation]
        if any(g != hidden for g in net.hidden_activations):
            fitted = next((k for k, v in HIDDEN.items() if v == net.hidden_activations[0]),
                          net.hidden_activations[0])
            raise ValueError(
                f"activation={self.activation!r}, but the fitted network's hidden layers use "
                f"{fitted!r}: warm_start and partial_fit continue the fitted network. Set "
                f"activation={fitted!r}, or fit anew (warm_start=False) to change it"
            )

    # ------------------------------------------------------------------ parameters
    def _hidden_sizes(self):
        """hidden_layer_sizes as a list of ints; scikit-learn's error for sizes <= 0, else
        check_layer_sizes's (non-integers, say)."""
        try:
            sizes = np.ravel(np.asarray(self.hidden_layer_sizes, dtype=float))
        except (TypeError, ValueError):
            sizes = np.array([])
        if (sizes <= 0).any():
            raise ValueError(
                f"hidden_layer_sizes must be > 0, got {self.hidden_layer_sizes!r} (expected "
                "positive integers, one per hidden layer)."
            )
        return check_layer_sizes(self.hidden_layer_sizes, "hidden_layer_sizes")

    def _keep_prob(self, n_hidden):
        """dropout (fraction dropped) -> the engine's keep_prob = 1 - dropout per hidden layer,
        or None when nothing is dropped."""
        keep_prob = keep_prob_from_dropout(self.dropout, n_hidden)
        if keep_prob is not None and self.solver == "lbfgs":
            raise ValueError(
                f"solver='lbfgs' minimizes a deterministic full-batch loss; dropout="
                f"{self.dropout!r} makes it random. Use dropout=0 with 'lbfgs', or a stochastic "
                "solver ('sgd', 'adam', 'rmsprop') with dropout."
            )
        return keep_prob

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

    def _check_solver(self):
        """partial_fit exists for the stochastic solvers only (scikit-learn's rule)."""
        if self.solver not in STOCHASTIC_SOLVERS:
            raise AttributeError(
                "partial_fit is only available for stochastic optimizers. "
                f"{self.solver} is not stochastic."
            )
        return True

    # ------------------------------------------------------------------ fit
    def _fit(self, X, y, sample_weight=None, incremental=False):
        hidden = self._hidden_sizes()
        keep_prob = self._keep_prob(len(hidden))
        set_up = hasattr(self, "network_") or "_user_coefs" in self.__dict__ or (
            "_user_intercepts" in self.__dict__
        )
        first_pass = not set_up or (not self.warm_start and not incremental)
        # weights set by hand: n_features_in_ is X's until a call takes them on
        reset = first_pass or not hasattr(self, "network_") or not hasattr(self, "n_features_in_")
        X, Y = self._validate_input(X, y, incremental, reset=reset)
        if sp.issparse(X):
            X = X.tocsr()  # mini-batches are rows
        sample_weight = self._sample_weight(sample_weight, X, Y)
        if sample_weight is not None and not sample_weight.sum() > 0:
            raise ValueError(
                "the sample weights (times the class weights) sum to zero; at least one "
                "example needs a positive weight"
            )
        layer_dims = [X.shape[1], *hidden, Y.shape[1]]
        self._random_state = check_random_state(self.random_state)
        if first_pass:
            self.__dict__.pop("_user_coefs", None)
            self.__dict__.pop("_user_intercepts", None)
            self._initialize(layer_dims, X.dtype)
            self._initialize_output(Y, sample_weight)
        elif hasattr(self, "network_"):
            self._check_continuation(self.network_, layer_dims)
        else:  # coefs_ and intercepts_ set by hand: kept until they fit the data
            net = self._user_network()
            self._check_continuation(net, layer_dims)
            self._adopt_user_network(net)
        if self.solver == "lbfgs":
            self._fit_lbfgs(X, Y, sample_weight)
        else:
            self._fit_stochastic(X, Y, sample_weight, keep_prob, incremental)
        return self

    def _check_partial_fit(self):
        """partial_fit trains on all of its data, so it has no validation split (checked once
        per call, by partial_fit)."""
        if self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")

    def _sample_weight(self, sample_weight, X, Y):
        """The examples' weights (n_samples,) in X's dtype, or None: the costs and gradients
        become weighted means, as scikit-learn's."""
        if sample_weight is None:
            return None
        return _check_sample_weight(sample_weight, X, dtype=X.dtype, ensure_non_negative=True)

    def _initialize(self, layer_dims, dtype):
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = layer_dims[-1]
        self.n_layers_ = len(layer_dims)
        self.out_activation_ = self._out_activation()
        sklearn_init = isinstance(self.init, str) and self.init == SKLEARN_INIT
        self.network_ = Network(
            layer_dims,
            hidden_activation=HIDDEN[self.activation],
            output_activation=OUTPUT[self.out_activation_],
            init="zeros" if sklearn_init else self.init,
            seed=None if sklearn_init else self._random_state.randint(SEED_RANGE),
            batch_norm=self.batch_norm,
        )
        if sklearn_init:
            self.network_.parameters = self._sklearn_draw(self.network_)
            self.network_.init = SKLEARN_INIT
        self.network_.astype(dtype)
        self.loss_curve_ = []
        self._training = None

    def _initialize_output(self, Y, sample_weight):
        """A hook for what the targets say about the initial output layer (the regressor's
        Poisson bias); nothing here."""

    def _sklearn_draw(self, net):
        """scikit-learn's initialization, drawn from random_state in its order: for each layer,
        coefs ~ U(-r, r) of shape (n_in, n_out), then intercepts ~ U(-r, r), with
        r = sqrt(6 / (n_in + n_out)) (sqrt(2 / ...) for logistic units). So the same
        random_state starts from scikit-learn's weights. Under batch norm gamma = 1, beta = 0
        replace the drawn intercepts of normalized layers."""
        factor = 2.0 if self.activation == "logistic" else 6.0
        parameters = dict(net.parameters)
        for l in range(1, net.L + 1):
            n_out, n_in = net.layer_dims[l], net.layer_dims[l - 1]
            bound = np.sqrt(factor / (n_in + n_out))
            parameters[f"W{l}"] = self._random_state.uniform(-bound, bound, (n_in, n_out)).T
            intercepts = self._random_state.uniform(-bound, bound, n_out)
            if f"b{l}" in parameters:
                parameters[f"b{l}"] = intercepts.reshape(-1, 1)
        return parameters

    def _fit_lbfgs(self, X, Y, sample_weight):
        """scipy's L-BFGS-B on the full batch from the current parameters, with scikit-learn's
        settings (maxiter=max_iter, maxfun=max_fun, gtol=tol), n_iter_ and ConvergenceWarning;
        loss_curve_ gets the loss after each iteration."""
        self._start_solver()
        source = ArraySource.from_rows(X, Y, sample_weight)
        log = None
        if self.verbose:
            def log(iteration, record):
                print(f"Iteration {iteration + 1}, loss = {record['cost']:.8f}")
        result = run_lbfgs(
            self.network_, source, self.max_iter, self._training,
            lbfgs=LBFGS(max_fun=self.max_fun, tol=self.tol), l2=self.alpha, log=log,
        )
        self.n_iter_ = _check_optimize_result("lbfgs", result, self.max_iter)
        self.loss_ = float(result.fun)
        self.loss_curve_.extend(self._training.history.costs)

    def _fit_stochastic(self, X, Y, sample_weight, keep_prob, incremental):
        """Configure the engine's training loop for scikit-learn's semantics and run it: one
        epoch for partial_fit, up to max_iter epochs for fit."""
        if not incremental or getattr(self, "_training", None) is None:
            self._start_solver()
        X_val = y_val = w_val = None
        if self.early_stopping:
            X, X_val, Y, Y_val, sample_weight, w_val = self._validation_split(X, Y, sample_weight)
            y_val = self._validation_targets(Y_val)
        if not sp.issparse(X):
            X = np.ascontiguousarray(X)  # the engine gathers mini-batches from its rows
        source = ArraySource.from_rows(X, Y, sample_weight)
        schedule = self._schedule()
        loop = Loop(
            self.network_, optimizer=self._optimizer(), learning_rate=self.learning_rate_init,
            schedule=schedule if callable(schedule) else None,
            rate_scale=self._engine_rate(1.0), batch_size=self._batch_size(X.shape[0]),
            shuffle=self.shuffle, l2=self.alpha, keep_prob=keep_prob,
            rules=self._rules(schedule),
            validation=None if X_val is None else (
                lambda net: {"val_score": self._validation_score(X_val, y_val, w_val)}
            ),
            log=self._print_loss if self.verbose else None,
            interruptible=True,
        )
        state = self._training
        if state.rng is None:
            state.rng = np.random.default_rng(self._random_state.randint(SEED_RANGE))
        start_epoch = state.epoch
        epochs = start_epoch + (1 if incremental else self.max_iter)
        self.n_iter_ = 0
        try:
            loop.run(source, epochs, state)
        except TrainingInterrupted:  # at the last completed epoch, early stopping's best put back
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

    def _validation_split(self, X, Y, sample_weight):
        """scikit-learn's train_test_split, the weights split with the examples (as
        scikit-learn does); stratified as `_stratify_labels` says. Returns X_train, X_val,
        Y_train, Y_val, w_train, w_val (the w are None without weights)."""
        split = dict(random_state=self._random_state, test_size=self.validation_fraction)
        stratify, required = self._stratify_labels(Y)
        arrays = (X, Y) if sample_weight is None else (X, Y, sample_weight)
        try:
            parts = train_test_split(*arrays, stratify=stratify, **split)
        except ValueError:
            if stratify is None or required:
                raise
            parts = train_test_split(*arrays, **split)
        if parts[1].shape[0] < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' or the size "
                "of your dataset."
            )
        if sample_weight is None:
            return (*parts, None, None)
        if not parts[4].sum() > 0:
            raise ValueError(
                "the training part of the validation split has only zero sample weights; "
                "give more examples nonzero weights or change validation_fraction"
            )
        return parts

    def _stratify_labels(self, Y):
        """(labels to stratify the validation split by, or None; whether a split that cannot
        be stratified is an error rather than falling back to a plain split)."""
        return None, False

    def _validation_targets(self, Y_val):
        """The validation targets `_score_outputs` compares with: Y_val here."""
        return Y_val

    def _validation_score(self, X, y, sample_weight=None):
        """Accuracy (classifier) or R^2 (regressor) against the validation targets y from
        `_validation_targets`, weighted by the validation split's weights; NaN when the
        predictions are not finite."""
        out = self._forward(X)
        if not all_finite(out):
            return np.nan
        return self._score_outputs(out, y, sample_weight)

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
        if self._training is None:
            self._start_solver()
        training_meta, training_arrays = self._training.to_arrays()
        arrays.update(training_arrays)
        fitted = {
            name: _to_json(getattr(self, name))
            for name in (
                "n_features_in_", "n_iter_", "t_", "n_layers_", "n_outputs_",
                "out_activation_", "loss_", "loss_curve_",
            )
            if hasattr(self, name)
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
        params = {k: _from_json(v) for k, v in meta["params"].items()}
        for name in ("hidden_layer_sizes", "dropout"):
            if isinstance(params[name], list):
                params[name] = tuple(params[name])
        estimator = cls(**params)
        estimator.network_ = network_from_state(meta["network"], arrays)
        fitted = {name: _from_json(value) for name, value in meta["fitted"].items()}
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


class _Layers(list):
    """coefs_ or intercepts_ of a fitted estimator: a list of arrays whose item assignment,
    `coefs_[i] = array`, is written into the network (as scikit-learn's plain lists take it)."""

    def __init__(self, arrays, write):
        super().__init__(arrays)
        self._write = write

    def __setitem__(self, index, value):
        if isinstance(index, slice):
            raise TypeError("assign coefs_ / intercepts_ one layer at a time, or as a whole list")
        self._write(index, value)


def _to_json(value):
    """numpy arrays and scalars -> lists and Python numbers; tuples -> lists; a dict (a
    class_weight) -> {"$dict": [[key, value], ...]}, since JSON keys are strings only; a NaN or
    infinite float (n_iter_no_change=np.inf) -> {"$float": repr}, as the training state's
    (`training.state._encode`), since JSON has neither."""
    if isinstance(value, (np.ndarray, np.generic)):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return [_to_json(v) for v in value]
    if isinstance(value, dict):
        return {"$dict": [[_to_json(k), _to_json(v)] for k, v in value.items()]}
    if isinstance(value, float) and not np.isfinite(value):
        return {"$float": repr(value)}
    return value


def _from_json(value):
    """What `_to_json` encoded, at any depth (a list of class_weight dicts, say)."""
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    if isinstance(value, dict) and set(value) == {"$dict"}:
        return {_from_json(k): _from_json(v) for k, v in value["$dict"]}
    if isinstance(value, dict) and set(value) == {"$float"}:
        return float(value["$float"])
    return value
