"""The estimators' training set-up: scikit-learn's parameters turned into the engine's training.

From the parameters: the network (its layer sizes, activations, and scikit-learn's draw of the
initial weights or one of mlpkit's initializers), the optimizer, the learning-rate rule, the
stopping rules, dropout's keep_prob; warm_start / partial_fit continuing the fitted network or
the coefs_ / intercepts_ set by hand; sample weights and the early-stopping split. Then it runs
the engine: the one epoch loop (`mlpkit.training.Loop`) for the stochastic solvers,
`mlpkit.training.run_lbfgs` for 'lbfgs', and sets scikit-learn's fitted attributes (n_iter_, t_,
loss_curve_, loss_, best_loss_, validation_scores_, ...) from the training state.
"""

import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.optimize import _check_optimize_result
from sklearn.utils.validation import _check_sample_weight

from ..nn.backend import backend_of, on_host, to_numpy
from ..nn.checks import all_finite, check_layer_sizes, keep_prob_from_dropout
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


class TrainingSetup:
    """BaseMLP's training: `_fit` and what it configures. A subclass gives `_validate_input`,
    `_out_activation` and `_score_outputs`."""

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
            self._initialize(layer_dims, Y.dtype)
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
        """The examples' weights (n_samples,) on the host in the targets' dtype (X's), or None:
        the costs and gradients become weighted means, as scikit-learn's."""
        if sample_weight is None:
            return None
        return _check_sample_weight(on_host(sample_weight), Y, dtype=Y.dtype,
                                    ensure_non_negative=True)

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
        source = _source(X, Y, sample_weight)
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
        source = _source(X, Y, sample_weight)
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
        Y_train, Y_val, w_train, w_val (the w are None without weights). The split is drawn
        on the examples' indices (the same split as of the arrays), so X stays where it is."""
        split = dict(random_state=self._random_state, test_size=self.validation_fraction)
        stratify, required = self._stratify_labels(Y)
        index = np.arange(Y.shape[0])
        try:
            train, val = train_test_split(index, stratify=stratify, **split)
        except ValueError:
            if stratify is None or required:
                raise
            train, val = train_test_split(index, **split)
        if val.shape[0] < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' or the size "
                "of your dataset."
            )
        parts = (_rows(X, train), _rows(X, val), Y[train], Y[val])
        if sample_weight is None:
            return (*parts, None, None)
        parts = (*parts, sample_weight[train], sample_weight[val])
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
        return self._score_outputs(to_numpy(out), y, sample_weight)


def _rows(X, index):
    """X's rows at `index` (host integers), in X's library and on its device."""
    b = backend_of(X)
    return X[index] if b.is_numpy else b.xp.take(X, b.asarray(index), axis=0)


def _source(X, Y, sample_weight):
    """The engine's source over examples given as rows; the targets and weights, prepared on
    the host, move to X's library and device (contiguous rows on the host: the engine gathers
    mini-batches from them)."""
    b = backend_of(X)
    if b.is_numpy:
        if not sp.issparse(X):
            X = np.ascontiguousarray(X)
        return ArraySource.from_rows(X, Y, sample_weight)
    return ArraySource.from_rows(
        X, b.asarray(Y), None if sample_weight is None else b.asarray(sample_weight))
