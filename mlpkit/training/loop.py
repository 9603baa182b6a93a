"""The training loop: for each epoch, for each mini-batch, forward -> cost -> backward -> update,
with learning-rate decay, L2, dropout, a divergence check, callbacks and stopping rules.

`Loop` is the one epoch loop of mlpkit: `Network.fit` (through `fit` below), the
scikit-learn estimators, the `mlpkit` command and the search all configure it and call
`Loop.run`. Its state is explicit (`TrainingState`), so a run can be saved and resumed bit for
bit.
"""

import warnings

from ..nn.backend import np
from ..nn.checks import (
    all_finite,
    check_int,
    check_keep_prob,
    check_non_negative,
    check_positive,
    check_sample_weight,
    check_X,
    check_Y,
)
from ..optim import optimizers as optimizers_module
from ..optim import schedules as schedules_module
from ..optim.optimizers import get_optimizer
from ..optim.schedules import get_schedule
from .batches import ArraySource, get_shuffle
from .state import History, TrainingState
from .stopping import Patience

__all__ = ["DivergenceError", "History", "Loop", "SourceValidation", "TrainingInterrupted", "fit",
           "train_step"]


class DivergenceError(FloatingPointError, ValueError):
    """The cost or the parameters became NaN or infinite; the parameters were restored to their
    values before the call. A FloatingPointError, and a ValueError as scikit-learn raises."""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during training: the network and the training state were put back to the end of
    the last completed epoch (`epochs_done`), so they can be saved and resumed exactly."""

    def __init__(self, epochs_done):
        super().__init__(f"training interrupted after {epochs_done} completed epochs")
        self.epochs_done = epochs_done


def train_step(net, batch, optimizer, optimizer_state, learning_rate, l2=0.0, keep_prob=None,
               rng=None):
    """One gradient step on `batch`; returns the batch's cost before the update."""
    AL, caches = net.forward(batch.X, training=True, keep_prob=keep_prob, rng=rng)
    cost = net.compute_cost(batch.Y, caches, l2, batch.sample_weight)
    grads = net.backward(AL, batch.Y, caches, l2, batch.sample_weight)
    optimizer.update(net.parameters.vector, grads.vector, optimizer_state, learning_rate)
    if net.batch_norm:
        net.update_running_stats(caches)
    return cost


class Validation:
    """Validation data (X (n_x, m), Y (n_y, m), optional weights), checked once; calling it on
    the network gives {"val_cost", "val_score"} in prediction mode."""

    def __init__(self, X, Y, sample_weight=None):
        self.X, self.Y, self.sample_weight = X, Y, sample_weight

    def __call__(self, net):
        AL, caches = net.forward(self.X)
        cost = net.compute_cost(self.Y, caches, sample_weight=self.sample_weight)
        if not all_finite(AL):  # a diverged network has no score
            return {"val_cost": cost, "val_score": np.nan}
        return {"val_cost": cost, "val_score": net.score_outputs(AL, self.Y, self.sample_weight)}


def is_source(data):
    """Whether `data` is a source of mini-batches (see `mlpkit.training.batches`)."""
    return callable(getattr(data, "batches", None)) and hasattr(data, "n_examples")


def evaluation_batch_size(source, target_bytes=16 << 20):
    """Prediction-mode batches of about `target_bytes` of floats (at least 1 example, and at
    least 8 batches, so that a source's reading threads have batches to work on)."""
    itemsize = np.dtype(source.dtype).itemsize
    by_bytes = max(1, target_bytes // max(1, source.n_features * itemsize))
    return max(1, min(by_bytes, -(-source.n_examples // 8)))


class SourceValidation:
    """Validation data given as a source: {"val_cost", "val_score"} accumulated over its
    mini-batches in the data's order, in prediction mode, so that it is never held whole. The
    cost is the (weighted) mean over all examples; the score is accuracy for classifiers (all
    n_y labels right for multi-label sigmoid) and R^2 averaged over outputs for a linear
    output, as `Validation` computes them on the same data in memory."""

    def __init__(self, source, batch_size=None):
        self.source = source
        self.batch_size = evaluation_batch_size(source) if batch_size is None else batch_size

    def __call__(self, net):
        source = self.source
        total_cost = total_weight = correct = 0.0
        regression = net.output_activation not in ("sigmoid", "softmax")
        moments = None  # per output: (weight, mean of y, squared deviations of y, residuals)
        finite = True
        batches = source.batches(np.arange(source.n_examples), self.batch_size)
        try:
            for batch in batches:
                AL, caches = net.forward(batch.X)
                w = batch.sample_weight
                weight = float(batch.size if w is None else np.sum(w))
                total_cost += weight * net.compute_cost(batch.Y, caches, sample_weight=w)
                total_weight += weight
                finite = finite and all_finite(AL)
                if not finite:
                    continue
                if regression:
                    moments = _merge_moments(moments, batch.Y, AL, w)
                    continue
                if net.output_activation == "softmax":
                    right = AL.argmax(axis=0) == batch.Y.argmax(axis=0)
                else:
                    right = ((AL > 0.5) == (batch.Y > 0.5)).all(axis=0)
                correct += float(right.sum() if w is None else w[right].sum())
        finally:
            _close(batches)
        if total_weight == 0:
            raise ValueError("the validation source gave no examples")
        cost = total_cost / total_weight
        if not finite:
            return {"val_cost": cost, "val_score": np.nan}
        if regression:
            return {"val_cost": cost, "val_score": _r2(moments)}
        return {"val_cost": cost, "val_score": correct / total_weight}


def _merge_moments(moments, Y, AL, w):
    """Chan's pairwise update of (weight, mean of y, squared deviations of y, squared residuals)
    per output, in float64."""
    Y, AL = Y.astype(np.float64), AL.astype(np.float64)
    w = np.ones(Y.shape[1]) if w is None else w.astype(np.float64)
    n_b = w.sum()
    mean_b = (Y * w).sum(axis=1) / n_b
    m2_b = (np.square(Y - mean_b[:, None]) * w).sum(axis=1)
    res_b = (np.square(Y - AL) * w).sum(axis=1)
    if moments is None:
        return n_b, mean_b, m2_b, res_b
    n_a, mean_a, m2_a, res_a = moments
    n = n_a + n_b
    delta = mean_b - mean_a
    return n, mean_a + delta * (n_b / n), m2_a + m2_b + delta**2 * (n_a * n_b / n), res_a + res_b


def _r2(moments):
    """R^2 averaged over outputs, as scikit-learn's r2_score: an output with constant targets
    scores 1 if predicted exactly, else 0."""
    _, _, m2, residuals = moments
    scores = np.where(m2 > 0, 1 - residuals / np.where(m2 > 0, m2, 1),
                      np.where(residuals == 0, 1.0, 0.0))
    return float(scores.mean())


def _close(iterator):
    """Close a generator of batches now, so a source's threads and files are released."""
    close = getattr(iterator, "close", None)
    if close is not None:
        close()


class Loop:
    """The epoch loop, configured once and run on a source of mini-batches.

    Each epoch: the learning rate is schedule(epoch, learning_rate0) when a schedule is given,
    else the state's current rate (which rules may change), times rate_scale; the source gives
    the mini-batches (all of it for batch_size None, or in the shuffle's order); each is a
    `train_step`. Then the epoch's cost J = (1/m) sum_b m_b J_b is recorded, the validation
    metrics (if any) computed, `log(loop, record)` called, the divergence check made, the
    rules applied, and the callbacks called (`on_epoch_end(loop)`, True to stop).

    Divergence (a non-finite cost or parameter) is the same everywhere: if a rule holds the
    best epoch's parameters (early stopping), training stops there with a warning; otherwise
    the network and the state are restored to what they were before `run` and
    DivergenceError is raised.
    """

    def __init__(self, net, *, optimizer="gd", learning_rate=0.0075, schedule=None,
                 rate_scale=1.0, batch_size=None, shuffle=True, seed=None, l2=0.0,
                 keep_prob=None, rules=(), validation=None, callbacks=(), log=None,
                 interruptible=False):
        self.net = net
        self.optimizer = get_optimizer(optimizer)
        self.learning_rate0 = learning_rate
        self.schedule = schedule
        self.rate_scale = rate_scale
        self.batch_size = batch_size
        self.shuffle = get_shuffle(shuffle, seed)
        self.l2 = l2
        self.keep_prob = keep_prob if keep_prob and any(p < 1 for p in keep_prob) else None
        self.rules = list(rules)
        self.validation = validation
        self.callbacks = list(callbacks)
        self.log = log
        self.interruptible = interruptible
        self.state = None
        self.epoch = None  # the epoch being run (counted from 0 over the whole run)
        self.stopped = None  # why the last run ended early: "rule", "callback" or "diverged"

    @property
    def history(self):
        return self.state.history

    def new_state(self, seed=None, **fields):
        """A state for a fresh run: the optimizer's initial state, a generator from `seed`."""
        fields.setdefault("learning_rate", self.learning_rate0)
        return TrainingState(
            optimizer=self.optimizer.init(self.net.parameters.vector),
            rng=np.random.default_rng(seed),
            **fields,
        )

    def run(self, source, epochs, state):
        """Train until `state.epoch` reaches `epochs` (or a rule or callback stops it); returns
        the history. `state` is updated in place and kept as `self.state`."""
        net = self.net
        if source.n_features != net.layer_dims[0]:
            raise ValueError(
                f"the data has {source.n_features} features but the network expects n_x = "
                f"{net.layer_dims[0]}"
            )
        net.astype(source.dtype)
        if state.optimizer is None:
            state.optimizer = self.optimizer.init(net.parameters.vector)
        else:
            self.optimizer.check_state(state.optimizer, net.parameters.vector)
            _cast_arrays(state.optimizer, source.dtype)
        self.state = state
        if state.last_network is not None:  # go on from the last epoch, not the best one
            net.restore_state(state.last_network)
            state.last_network = None
        start = (net.copy_state(), state.copy())
        for rule in self.rules:
            rule.start(self, state.rules.setdefault(rule.name, {}))
        snapshot = start if self.interruptible else None
        self.stopped = None
        try:
            while state.epoch < epochs and self.stopped is None:
                self.stopped = self._epoch(source, start)
                if self.interruptible:
                    snapshot = (net.copy_state(), state.copy())
        except KeyboardInterrupt:
            if snapshot is None:
                raise
            net.restore_state(snapshot[0])
            self.state = _restore(state, snapshot[1])
            raise TrainingInterrupted(state.epoch) from None
        if any(rule.holds_best(state.rules[rule.name]) for rule in self.rules):
            state.last_network = net.copy_state()
        for rule in self.rules:
            rule.finish(self, state.rules[rule.name])
        return state.history

    def _epoch(self, source, start):
        """One epoch; returns why training stops after it ("rule", "callback", "diverged"), or
        None."""
        net, state = self.net, self.state
        self.epoch = epoch = state.epoch
        rate = state.learning_rate
        if self.schedule is not None:
            rate = float(self.schedule(epoch, self.learning_rate0))
        m = source.n_examples
        full = self.batch_size is None or self.batch_size >= m
        batches = [source.full_batch()] if full else source.batches(
            self.shuffle.order(epoch, m, state.rng), self.batch_size
        )
        step_rate = rate * self.rate_scale
        total, seen = 0.0, 0
        with np.errstate(over="ignore", invalid="ignore"):
            try:
                for batch in batches:
                    cost = train_step(net, batch, self.optimizer, state.optimizer, step_rate,
                                      self.l2, self.keep_prob, state.rng)
                    total += cost * batch.size
                    seen += batch.size
            finally:
                _close(batches)  # a streaming source's threads and files, now (Ctrl-C too)
            # the examples given: a streaming source may skip unreadable ones
            cost = total / seen
            finite = bool(np.isfinite(cost)) and all_finite(net.parameters.vector[None, :])
            record = {"cost": cost}
            if self.validation is not None:
                record.update(self.validation(net))
        state.samples_seen += seen
        history = state.history
        history.costs.append(cost)
        history.learning_rates.append(rate)
        if "val_cost" in record:
            history.val_costs.append(record["val_cost"])
        if "val_score" in record:
            history.val_scores.append(record["val_score"])
        if self.log is not None:
            self.log(self, record)
        stop = None
        for rule in self.rules:
            if rule.end_epoch(self, record, state.rules[rule.name]):
                stop = "rule"
        if not finite:
            self._diverged(cost, rate, start)
            return "diverged"
        state.epoch += 1
        for callback in self.callbacks:
            if callback.on_epoch_end(self):
                stop = stop or "callback"
        return stop

    def _diverged(self, cost, rate, start):
        state = self.state
        holder = next((r for r in self.rules if r.holds_best(state.rules[r.name])), None)
        message = (
            f"the cost became {cost} at epoch {self.epoch} (learning rate {rate:g}): training "
            "diverged. Try a smaller learning_rate. Solver produced non-finite parameter weights. "
            "The input data may contain large values and need to be preprocessed"
        )
        if holder is not None:
            state.epoch += 1
            state.history.diverged = True
            warnings.warn(
                f"{message}; training stopped and the best epoch's parameters were restored.",
                RuntimeWarning, stacklevel=4,
            )
            return
        self.net.restore_state(start[0])
        self.state = _restore(state, start[1])
        raise DivergenceError(
            f"{message}. The parameters were restored to their values before this call."
        )


def _restore(state, saved):
    """Put the contents of the copy `saved` back into `state` (the caller's object)."""
    vars(state).update(vars(saved.copy()))
    return state


def _cast_arrays(optimizer_state, dtype):
    for key, value in optimizer_state.items():
        if isinstance(value, np.ndarray) and value.dtype != dtype:
            optimizer_state[key] = value.astype(dtype)


class _FunctionCallback:
    """callback(epoch, history) -> True to stop, as an object with on_epoch_end(loop)."""

    def __init__(self, function):
        self.function = function

    def on_epoch_end(self, loop):
        return self.function(loop.epoch, loop.history)


def _print_cost(epochs):
    def log(loop, record):
        if loop.epoch % 100 == 0 or loop.epoch == epochs - 1:
            print(f"Cost after epoch {loop.epoch}: {record['cost']:.6f}")

    return log


# ---------------------------------------------------------------------------------------------
# Network.fit
# ---------------------------------------------------------------------------------------------
# fit's settings that define a run (a resumed run must be given the same ones)
RUN_SETTINGS = ("learning_rate", "batch_size", "shuffle", "optimizer", "lr_schedule", "l2",
                "keep_prob", "patience", "tol", "seed", "weighted", "validated")


def fit(net, X, Y=None, epochs=1000, learning_rate=0.0075, *, batch_size=None, shuffle=True,
        optimizer="gd", lr_schedule=None, l2=0.0, keep_prob=1.0, sample_weight=None,
        validation_data=None, patience=None, tol=0.0, seed=None, verbose=0, callback=None,
        callbacks=(), resume=False, interruptible=False):
    """Fit `net` to X (n_x, m), dense or scipy.sparse, and Y (n_y, m) (or to a source of
    mini-batches given as X, with Y None) and return a History.

    batch_size: None = full batch, 1 = stochastic, else mini-batches in a new order every
    epoch: shuffle=True draws a permutation from the generator seeded by `seed`, False keeps
    the data's order, "course" takes the course's np.random.seed(seed + 1 + epoch) permutation.
    optimizer: "gd", "momentum", "nesterov", "rmsprop", "adam", or an optimizer instance; or
    "lbfgs" / `mlpkit.optim.lbfgs.LBFGS(max_fun=, tol=)`: L-BFGS on the full batch for at most
    `epochs` iterations (history.costs[i]: the cost after iteration i), with l2, sample_weight,
    validation_data, verbose, callback and interruptible; it refuses the options of the
    stochastic loop (batch_size, lr_schedule, patience, tol, callbacks, resume, keep_prob < 1).
    lr_schedule: a name from mlpkit.optim.schedules, a schedule instance or a callable
    (epoch, learning_rate0) -> rate. l2: lambda. keep_prob: dropout's keep probability, one
    value or one per hidden layer. sample_weight: one weight per example (weighted means).
    validation_data=(Xv, Yv) or (Xv, Yv, wv), or a source, records val_costs and val_scores
    (a source's are accumulated over its mini-batches, see SourceValidation); with patience,
    training stops when the validation cost has not improved by more than tol for `patience`
    epochs, and the best epoch's parameters are restored. seed: shuffling and dropout masks.
    verbose=1 prints the cost every 100 epochs; callback(epoch, history) is called after each
    epoch and may return True to stop; callbacks: objects with on_epoch_end(loop).

    The run's state (optimizer moments and step, epochs done, generator, early-stopping
    bookkeeping) is left in net.training_state. resume=True continues it, from the end of the
    last fit or from a file `mlpkit.load` read, up to `epochs` epochs in all, with the same
    settings: the result equals one uninterrupted fit bit for bit. interruptible=True makes
    Ctrl-C put back the end of the last completed epoch and raise TrainingInterrupted.
    """
    source = _source(net, X, Y, sample_weight)
    epochs = check_int(epochs, "epochs", 1)
    learning_rate0 = check_positive(learning_rate, "learning_rate")
    if batch_size is not None:
        batch_size = check_int(batch_size, "batch_size", 1)
    l2 = check_non_negative(l2, "l2")
    keep_prob = check_keep_prob(keep_prob, net.L - 1)
    from .full_batch import fit_lbfgs, is_lbfgs  # full_batch builds on this module

    if is_lbfgs(optimizer):
        given = {"batch_size": batch_size is not None, "lr_schedule": lr_schedule is not None,
                 "patience": patience is not None, "tol": tol != 0,
                 "callbacks": bool(callbacks), "resume": bool(resume)}
        return fit_lbfgs(
            net, source, epochs, optimizer=optimizer, l2=l2, keep_prob=keep_prob,
            validation=None if validation_data is None else _validation(
                net, validation_data, source.dtype),
            weighted=sample_weight is not None, verbose=verbose, callback=callback,
            interruptible=interruptible, refused=[k for k, v in given.items() if v],
        )
    optimizer = get_optimizer(optimizer)
    schedule = get_schedule(lr_schedule)
    shuffle_rule = get_shuffle(shuffle, seed)
    if patience is not None:
        patience = check_int(patience, "patience", 1)
        if validation_data is None:
            raise ValueError("patience (early stopping) needs validation_data=(X_val, Y_val)")
    validation = None
    if validation_data is not None:
        validation = _validation(net, validation_data, source.dtype)
    settings = {
        "learning_rate": learning_rate0, "batch_size": batch_size,
        "shuffle": getattr(shuffle_rule, "name", repr(shuffle_rule)),
        "optimizer": _config(optimizer), "lr_schedule": _config(schedule) if lr_schedule
        is not None else None, "l2": l2, "keep_prob": keep_prob, "patience": patience,
        "tol": float(tol), "seed": seed if isinstance(seed, (int, type(None))) else repr(seed),
        "weighted": sample_weight is not None, "validated": validation is not None,
    }
    loop = Loop(
        net, optimizer=optimizer, learning_rate=learning_rate0,
        schedule=None if lr_schedule is None else schedule, batch_size=batch_size,
        shuffle=shuffle_rule, l2=l2, keep_prob=keep_prob,
        rules=[Patience(patience, tol)] if validation is not None else [],
        validation=validation,
        callbacks=[*([_FunctionCallback(callback)] if callback is not None else []), *callbacks],
        log=_print_cost(epochs) if verbose else None, interruptible=interruptible,
    )
    if resume:
        state = _resumable_state(net, settings)
        if state.history.stopped_early:  # the run ended; there is nothing to go on with
            return state.history
    else:
        net.astype(source.dtype)
        state = loop.new_state(seed, config=settings)
    try:
        loop.run(source, epochs, state)
    except TrainingInterrupted:
        net.training_state = state  # the end of the last completed epoch, to resume from
        raise
    net.training_state = state
    return state.history


def _source(net, X, Y, sample_weight):
    """An ArraySource over checked arrays, or X itself when it is a source."""
    if is_source(X):
        if Y is not None or sample_weight is not None:
            raise ValueError("a data source already holds its targets and weights: give Y=None")
        _check_outputs(net, X, "the data source")
        return X
    if Y is None:
        raise TypeError("fit needs Y (n_y, m), unless X is a data source")
    X = check_X(X, net.layer_dims[0])
    Y = check_Y(Y, X.shape[1], net.layer_dims[-1], net.output_activation, X.dtype)
    return ArraySource(X, Y, check_sample_weight(sample_weight, X.shape[1], X.dtype))


def _check_outputs(net, source, name):
    n_y = getattr(source, "n_outputs", None)
    if n_y is not None and n_y != net.layer_dims[-1]:
        raise ValueError(
            f"{name} has targets with {n_y} rows but the network has {net.layer_dims[-1]} "
            "output units"
        )


def _validation(net, validation_data, dtype):
    if is_source(validation_data):
        if validation_data.n_features != net.layer_dims[0]:
            raise ValueError(
                f"the validation source has {validation_data.n_features} features but the "
                f"network expects n_x = {net.layer_dims[0]}"
            )
        _check_outputs(net, validation_data, "the validation source")
        return SourceValidation(validation_data)
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        raise ValueError("validation_data must be (X_val, Y_val), (X_val, Y_val, weights) or a "
                         "data source")
    X_val, Y_val, *weights = validation_data
    X_val = check_X(X_val, net.layer_dims[0], "X_val").astype(dtype, copy=False)
    Y_val = check_Y(Y_val, X_val.shape[1], net.layer_dims[-1], net.output_activation, dtype,
                    "Y_val")
    w_val = check_sample_weight(weights[0] if weights else None, X_val.shape[1], dtype,
                                "validation sample_weight")
    return Validation(X_val, Y_val, w_val)


def _config(component):
    """An optimizer's or schedule's settings as data, or a description of a custom one."""
    config = getattr(component, "config", None)
    if callable(config) and type(component).__module__ in (
        optimizers_module.__name__, schedules_module.__name__
    ):
        return config()
    return {"name": "custom", "repr": repr(component)}


def _resumable_state(net, settings):
    state = net.training_state
    if state is None:
        raise ValueError(
            "resume=True needs a training state: fit this network first, or load a model file "
            "saved after training"
        )
    recorded = state.config
    different = [k for k in RUN_SETTINGS if recorded.get(k) != settings.get(k)]
    if different:
        changes = ", ".join(f"{k}={settings.get(k)!r} (was {recorded.get(k)!r})" for k in different)
        raise ValueError(
            f"resume=True continues a run with the same settings; these differ: {changes}"
        )
    if any(v.get("name") == "custom" for v in (recorded.get("optimizer"),
                                                recorded.get("lr_schedule")) if v):
        raise ValueError("resume=True needs a named optimizer and lr_schedule (not custom ones)")
    return state
