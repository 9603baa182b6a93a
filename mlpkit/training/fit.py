"""`Network.fit`: the loop configured from fit's options, a new run or a resumed one (and
L-BFGS, which minimizes the full-batch cost instead, in `full_batch`)."""

from ..nn.backend import backend_of
from ..nn.checks import (
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
from .full_batch import fit_lbfgs, is_lbfgs
from .loop import DivergenceError, Loop, source_backend
from .stopping import Patience
from .validation import SourceValidation, Validation, is_source


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


# fit's settings that define a run (a resumed run must be given the same ones)
RUN_SETTINGS = ("learning_rate", "batch_size", "shuffle", "optimizer", "lr_schedule", "l2",
                "keep_prob", "patience", "tol", "seed", "weighted", "validated")


def fit(net, X, Y=None, epochs=1000, learning_rate=0.0075, *, batch_size=None, shuffle=True,
        optimizer="gd", lr_schedule=None, l2=0.0, keep_prob=1.0, sample_weight=None,
        validation_data=None, patience=None, tol=0.0, seed=None, verbose=0, callback=None,
        callbacks=(), resume=False, interruptible=False):
    """Fit `net` to X (n_x, m) and Y (n_y, m) (or to a source of mini-batches given as X, with Y
    None) and return a History.

    The run's state (optimizer moments and step, epochs done, generator, early-stopping
    bookkeeping) is left in net.training_state, which resume=True continues.

    Parameters
    ----------
    net : Network
        The network, trained in place (moved to X's library, device and dtype).
    X : array of shape (n_x, m), scipy.sparse matrix, or a data source
        The examples, one per column, or a source of mini-batches.
    Y : array of shape (n_y, m), optional
        The targets; None only when X is a source.
    epochs : int, default 1000
        The epochs in all (with resume, counting those done); L-BFGS: the most iterations.
    learning_rate : float, default 0.0075
        alpha0, the initial learning rate.
    batch_size : int, optional
        None for full batch, 1 for stochastic, else mini-batches in a new order every epoch.
    shuffle : bool or str, default True
        True draws a permutation from the generator seeded by `seed`, False keeps the data's
        order, "course" takes the course's np.random.seed(seed + 1 + epoch) permutation.
    optimizer : str or object, default "gd"
        "gd", "momentum", "nesterov", "rmsprop", "adam", or an optimizer instance; or "lbfgs"
        / `mlpkit.optim.LBFGS(max_fun=, tol=)`: L-BFGS on the full batch (history.costs[i]:
        the cost after iteration i), which refuses the options of the stochastic loop
        (batch_size, lr_schedule, patience, tol, callbacks, resume, keep_prob < 1).
    lr_schedule : str, callable or None, default None
        A name from `mlpkit.optim.schedules`, a schedule instance or a callable
        (epoch, learning_rate0) -> rate; None keeps the rate constant.
    l2 : float, default 0.0
        lambda, the L2 regularization strength.
    keep_prob : float or list of float, default 1.0
        Dropout's keep probability, one value or one per hidden layer.
    sample_weight : array of shape (m,), optional
        One weight per example (weighted means).
    validation_data : tuple or data source, optional
        (X_val, Y_val), (X_val, Y_val, weights) or a source; records history.val_costs and
        val_scores (a source's accumulated over its mini-batches, see SourceValidation).
    patience : int, optional
        With validation_data: stop when the validation cost has not improved by more than
        tol for `patience` epochs, and restore the best epoch's parameters.
    tol : float, default 0.0
        The improvement of the validation cost that counts, for patience.
    seed : int, optional
        Seeds the shuffles and dropout masks (and is the course's seed for "course").
    verbose : int, default 0
        1 prints the cost every 100 epochs.
    callback : callable, optional
        callback(epoch, history), called after each epoch; True stops.
    callbacks : sequence of object, default ()
        Objects with on_epoch_end(loop), True to stop.
    resume : bool, default False
        Continue net.training_state (from the end of the last fit, or from a file
        `mlpkit.load` read) up to `epochs` epochs in all, with the same settings: the result
        equals one uninterrupted fit bit for bit.
    interruptible : bool, default False
        Ctrl-C puts back the end of the last completed epoch, leaves its state in
        net.training_state and raises TrainingInterrupted.

    Returns
    -------
    mlpkit.training.History
        history.costs[i] is the cost of epoch i.

    Raises
    ------
    ValueError
        If a setting is out of range, the data do not fit the network, patience is given
        without validation_data, L-BFGS is given an option it refuses, or resume finds no
        state or different settings.
    TypeError
        If Y is None and X is not a data source.
    DivergenceError
        If the cost or the parameters become non-finite (without early stopping to fall back
        on); the network and its training state are left as they were before the call.

    Examples
    --------
    >>> import numpy as np
    >>> from mlpkit.nn import Network
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((2, 60))
    >>> Y = (X[0:1] > 0).astype(int)
    >>> net = Network([2, 3, 1], seed=0)
    >>> history = fit(net, X[:, :40], Y[:, :40], epochs=20, learning_rate=0.05,
    ...               batch_size=10, optimizer="adam", seed=0,
    ...               validation_data=(X[:, 40:], Y[:, 40:]), patience=5)
    >>> len(history.costs) == len(history.val_costs) == len(history.val_scores)
    True
    >>> net.training_state.epoch == history.epochs
    True
    """
    source = _source(net, X, Y, sample_weight)
    epochs = check_int(epochs, "epochs", 1)
    learning_rate0 = check_positive(learning_rate, "learning_rate")
    if batch_size is not None:
        batch_size = check_int(batch_size, "batch_size", 1)
    l2 = check_non_negative(l2, "l2")
    tol = check_non_negative(tol, "tol")
    keep_prob = check_keep_prob(keep_prob, net.L - 1)
    if is_lbfgs(optimizer):
        given = {"batch_size": batch_size is not None, "lr_schedule": lr_schedule is not None,
                 "patience": patience is not None, "tol": tol != 0,
                 "callbacks": bool(callbacks), "resume": bool(resume)}
        return fit_lbfgs(
            net, source, epochs, optimizer=optimizer, l2=l2, keep_prob=keep_prob,
            validation=None if validation_data is None else _validation(
                net, validation_data, source),
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
        validation = _validation(net, validation_data, source)
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
        if state.history.stopped_early or state.history.diverged:  # the run ended there
            return state.history
    else:
        net.to(source_backend(source), source.dtype)
        state = loop.new_state(seed, config=settings)
    try:
        loop.run(source, epochs, state)
    except DivergenceError:
        raise  # the network and its training state are as they were before the call
    except BaseException:
        if interruptible:  # the end of the last completed epoch, to save and resume from
            net.training_state = state
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
    b = backend_of(X)  # Y and the weights follow X's library and device
    Y = check_Y(Y, X.shape[1], net.layer_dims[-1], net.output_activation, X.dtype, backend=b)
    return ArraySource(X, Y, check_sample_weight(sample_weight, X.shape[1], X.dtype, backend=b))


def _check_outputs(net, source, name):
    n_y = getattr(source, "n_outputs", None)
    if n_y is not None and n_y != net.layer_dims[-1]:
        raise ValueError(
            f"{name} has targets with {n_y} rows but the network has {net.layer_dims[-1]} "
            "output units"
        )


def _validation(net, validation_data, source):
    """Validation on arrays, moved to the training data's library, device and dtype, or on a
    source."""
    dtype = source.dtype
    if is_source(validation_data):
        if validation_data.n_features != net.layer_dims[0]:
            raise ValueError(
                f"the validation source has {validation_data.n_features} features but the "
                f"network expects n_x = {net.layer_dims[0]}"
            )
        _check_outputs(net, validation_data, "the validation source")
        return SourceValidation(validation_data)
    b = source_backend(source)
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        raise ValueError("validation_data must be (X_val, Y_val), (X_val, Y_val, weights) or a "
                         "data source")
    X_val, Y_val, *weights = validation_data
    X_val = b.astype(b.asarray(check_X(X_val, net.layer_dims[0], "X_val")), dtype)
    Y_val = check_Y(Y_val, X_val.shape[1], net.layer_dims[-1], net.output_activation, dtype,
                    "Y_val", backend=b)
    w_val = check_sample_weight(weights[0] if weights else None, X_val.shape[1], dtype,
                                "validation sample_weight", backend=b)
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
