"""The training loop: for each epoch, for each mini-batch, forward -> cost -> backward -> update,
with learning-rate decay, L2, dropout, a divergence check, callbacks and stopping rules.

`Loop` is the one epoch loop of mlpkit: `Network.fit` (`mlpkit.training.fit`), the
scikit-learn estimators, the `mlpkit` command and the search all configure it and call
`Loop.run`. Its state is explicit (`TrainingState`), so a run can be saved and resumed bit for
bit.

The loop runs on its source's array library and device (`source.backend`, NumPy when a source
has none): the network is moved there, shuffles and dropout masks are drawn there (one device
generator per epoch, seeded from the state's NumPy generator, so a run still resumes exactly;
a source that says `host_order`, fed from the host, takes its shuffles from that generator),
and the costs of the steps are summed there and read back once per epoch, where the divergence
check runs: no step waits for the device.
"""

import warnings

from ..nn.backend import NUMPY, np
from ..nn.checks import all_finite
from ..optim.optimizers import get_optimizer
from .batches import close_batches, get_shuffle
from .state import TrainingState

__all__ = ["DivergenceError", "Loop", "TrainingInterrupted", "train_step"]


# scikit-learn's words for it, which its tests match
NON_FINITE = (
    "Solver produced non-finite parameter weights. The input data may contain large values and "
    "need to be preprocessed"
)


class DivergenceError(FloatingPointError, ValueError):
    """The cost or the parameters became NaN or infinite; the parameters were restored to their
    values before the call. A FloatingPointError, and a ValueError as scikit-learn raises."""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during training: the network and the training state were put back to the end of
    the last completed epoch (`epochs_done`), so they can be saved and resumed exactly.

    Parameters
    ----------
    epochs_done : int
        The epochs completed before the interruption (the state's epoch).
    """

    def __init__(self, epochs_done):
        super().__init__(f"training interrupted after {epochs_done} completed epochs")
        self.epochs_done = epochs_done


def train_step(net, batch, optimizer, optimizer_state, learning_rate, l2=0.0, keep_prob=None,
               rng=None):
    """One gradient step on `batch`: forward, cost, backward, the optimizer's update of theta (and
    batch norm's running statistics).

    Parameters
    ----------
    net : Network
        The network, updated in place.
    batch : Batch
        X (n_x, b), Y (n_y, b) and optional weights, in the network's library and dtype.
    optimizer : object
        An optimizer of `mlpkit.optim` (or one with its update method).
    optimizer_state : dict
        The optimizer's state, advanced in place.
    learning_rate : float
        alpha for this step.
    l2 : float, default 0.0
        lambda, the L2 regularization strength.
    keep_prob : list of float, optional
        Dropout's keep probability per hidden layer; None for no dropout.
    rng : Generator, optional
        Draws the dropout masks.

    Returns
    -------
    float or 0-d array
        The batch's cost before the update (on a device: a 0-d array left there).
    """
    AL, caches = net.forward(batch.X, training=True, keep_prob=keep_prob, rng=rng)
    cost = net.compute_cost(batch.Y, caches, l2, batch.sample_weight)
    grads = net.backward(AL, batch.Y, caches, l2, batch.sample_weight)
    optimizer.update(net.parameters.vector, grads.vector, optimizer_state, learning_rate)
    if net.batch_norm:
        net.update_running_stats(caches)
    return cost


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

    Parameters
    ----------
    net : Network
        The network to train.
    optimizer : str or object, default "gd"
        A name or an optimizer instance (see `mlpkit.optim.get_optimizer`).
    learning_rate : float, default 0.0075
        alpha0, the initial learning rate.
    schedule : callable, optional
        schedule(epoch, learning_rate0) -> the epoch's rate; None uses the state's rate.
    rate_scale : float, default 1.0
        A factor on every step's rate.
    batch_size : int, optional
        The examples per mini-batch; None (or m or more) for full batch.
    shuffle : bool, str or object, default True
        The order of the examples each epoch (see `get_shuffle`).
    seed : int, optional
        The course's seed, for shuffle="course".
    l2 : float, default 0.0
        lambda, the L2 regularization strength.
    keep_prob : list of float, optional
        Dropout's keep probability, one per hidden layer; None (or all 1) for no dropout.
    rules : sequence of Rule, default ()
        Stopping rules (`mlpkit.training.stopping`), applied after each epoch.
    validation : callable, optional
        validation(net) -> {"val_cost", "val_score"}, e.g. a `Validation`.
    callbacks : sequence of object, default ()
        Objects with on_epoch_end(loop), True to stop.
    log : callable, optional
        log(loop, record), called after each epoch with its metrics.
    interruptible : bool, default False
        Ctrl-C puts back the end of the last completed epoch and raises TrainingInterrupted.

    Raises
    ------
    ValueError
        If the optimizer or the shuffle is unknown.

    Examples
    --------
    >>> import numpy as np
    >>> from mlpkit.nn import Network
    >>> from mlpkit.training import ArraySource
    >>> X = np.array([[0.0, 1.0, 2.0, 3.0]])
    >>> net = Network([1, 1], output_activation="linear", init="zeros")
    >>> loop = Loop(net, optimizer="momentum", learning_rate=0.1, batch_size=2, shuffle=False)
    >>> history = loop.run(ArraySource(X, 2 * X), epochs=5, state=loop.new_state(seed=0))
    >>> history.epochs, loop.state.epoch, loop.state.samples_seen, loop.state.optimizer["t"]
    (5, 5, 20, 10)
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
        """A state for a fresh run: the optimizer's initial state, a generator from `seed`.

        Parameters
        ----------
        seed : int, optional
            Seeds the run's generator (shuffles, dropout masks).
        **fields
            Other fields of the `TrainingState` (learning_rate defaults to learning_rate0).

        Returns
        -------
        TrainingState
        """
        fields.setdefault("learning_rate", self.learning_rate0)
        return TrainingState(
            optimizer=self.optimizer.init(self.net.parameters.vector),
            rng=np.random.default_rng(seed),
            **fields,
        )

    def run(self, source, epochs, state):
        """Train until `state.epoch` reaches `epochs` (or a rule or callback stops it).

        Parameters
        ----------
        source : object
            A source of mini-batches, e.g. an `ArraySource`; the network moves to its library,
            device and dtype.
        epochs : int
            The epochs in all, counting those the state has done.
        state : TrainingState
            The run's state, updated in place and kept as `self.state`.

        Returns
        -------
        mlpkit.training.History
            state.history.

        Raises
        ------
        ValueError
            If the source's n_features is not the network's n_x, an epoch gives no examples, or
            the optimizer state does not fit theta.
        DivergenceError
            If the cost or the parameters become non-finite and no rule holds the best epoch
            (the network and state are restored to their values before the call).
        TrainingInterrupted
            On Ctrl-C when interruptible.
        """
        net = self.net
        if source.n_features != net.layer_dims[0]:
            raise ValueError(
                f"the data has {source.n_features} features but the network expects n_x = "
                f"{net.layer_dims[0]}"
            )
        backend = source_backend(source)
        net.to(backend, source.dtype)
        if state.optimizer is None:
            state.optimizer = self.optimizer.init(net.parameters.vector)
        else:
            check_state = getattr(self.optimizer, "check_state", None)  # optional for custom ones
            if check_state is not None:
                check_state(state.optimizer, net.parameters.vector)
            _cast_arrays(state.optimizer, backend, source.dtype)
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
            # a non-finite parameter makes the next epoch's cost non-finite: only the last
            # step of a run can leave one behind a finite cost
            if self.stopped != "diverged" and self.epoch is not None and not all_finite(
                net.parameters.vector[None, :]
            ):
                self.stopped = "diverged"
                rate = state.history.learning_rates[-1]
                self._diverged("the parameters became NaN or infinite", rate, start)
        except DivergenceError:
            raise  # already put back to the start
        except BaseException as error:
            # Ctrl-C or an error mid-epoch (a data file gone, say) leaves nothing half-trained:
            # the last completed epoch when it was kept (interruptible), else the start of the run
            back = snapshot if snapshot is not None else start
            net.restore_state(back[0])
            self.state = _restore(state, back[1])
            if isinstance(error, KeyboardInterrupt) and snapshot is not None:
                self._end_run()  # stopped after its last completed epoch, as a rule stops it
                raise TrainingInterrupted(state.epoch) from None
            raise
        self._end_run()
        return state.history

    def _end_run(self):
        """The rules' end of a run (the best epoch's parameters put back), keeping the last
        epoch's parameters to resume from when they differ (not after a divergence: NaN)."""
        state = self.state
        if self.stopped != "diverged" and any(
            rule.holds_best(state.rules[rule.name]) for rule in self.rules
        ):
            state.last_network = self.net.copy_state()
        for rule in self.rules:
            rule.finish(self, state.rules[rule.name])

    def _epoch(self, source, start):
        """One epoch; returns why training stops after it ("rule", "callback", "diverged"), or
        None."""
        net, state = self.net, self.state
        self.epoch = epoch = state.epoch
        rate = state.learning_rate
        if self.schedule is not None:
            rate = float(self.schedule(epoch, self.learning_rate0))
        m = source.n_examples
        backend = source_backend(source)
        full = self.batch_size is None or self.batch_size >= m
        # Everything is drawn from the state's NumPy generator, except what a device draws
        # itself (dropout masks; the order of data that lives there), from a generator of its
        # library seeded from the state's. A source fed from the host (DeviceSource) is
        # shuffled on the host, so without dropout it takes the NumPy run's steps.
        host_order = backend.is_numpy or getattr(source, "host_order", False)
        order = self.shuffle.order(epoch, m, state.rng) if host_order and not full else None
        shuffled_there = not full and not host_order
        on_device = not backend.is_numpy and (self.keep_prob is not None or shuffled_there)
        rng = backend.random(state.rng.integers(2**63)) if on_device else state.rng
        if shuffled_there:
            order = self.shuffle.order(epoch, m, rng)
        batches = [source.full_batch()] if full else source.batches(order, self.batch_size)
        step_rate = rate * self.rate_scale
        total, seen = 0.0, 0
        with np.errstate(over="ignore", invalid="ignore"):
            try:
                for batch in batches:
                    cost = train_step(net, batch, self.optimizer, state.optimizer, step_rate,
                                      self.l2, self.keep_prob, rng)
                    total += cost * batch.size
                    seen += batch.size
            finally:
                close_batches(batches)  # a streaming source's threads and files, now (Ctrl-C too)
            if not seen:
                raise ValueError(f"the data source gave no examples in epoch {epoch}")
            # the examples given: a streaming source may skip unreadable ones; on a device the
            # one read of the epoch
            cost = float(total) / seen
            finite = bool(np.isfinite(cost))
            record = {"cost": cost}
            if self.validation is not None:
                record.update({k: float(v) for k, v in self.validation(net).items()})
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
        if not finite:  # before the rules: they never see a NaN
            self._diverged(f"the cost became {cost}", rate, start)
            return "diverged"
        stop = None
        for rule in self.rules:
            if rule.end_epoch(self, record, state.rules[rule.name]):
                stop = "rule"
        state.epoch += 1
        for callback in self.callbacks:
            if callback.on_epoch_end(self):
                stop = stop or "callback"
        return stop

    def _diverged(self, what, rate, start):
        state = self.state
        holder = next((r for r in self.rules if r.holds_best(state.rules[r.name])), None)
        message = (
            f"{what} at epoch {self.epoch} (learning rate {rate:g}): training diverged. Try a "
            f"smaller learning_rate. {NON_FINITE}"
        )
        if holder is not None:
            state.epoch = self.epoch + 1  # this epoch is done; training stops after it
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


def source_backend(source):
    """The array library and device of a source's batches (NumPy unless it says otherwise)."""
    return getattr(source, "backend", None) or NUMPY


def _cast_arrays(optimizer_state, backend, dtype):
    """The optimizer state's arrays in the network's library, device and dtype (a state loaded
    from a file is NumPy's)."""
    for key, value in optimizer_state.items():
        if hasattr(value, "shape") and hasattr(value, "dtype") and getattr(value, "ndim", 0):
            value = backend.asarray(value)
            if value.dtype != dtype:
                value = backend.astype(value, dtype)
            optimizer_state[key] = value
