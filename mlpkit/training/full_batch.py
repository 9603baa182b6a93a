"""Full-batch training by L-BFGS (`mlpkit.optim.lbfgs`): the run around the minimizer, as `Loop`
is the run around the stochastic optimizers: one History entry per iteration, validation
metrics, logging, the divergence check, the training state.

`Network.fit(..., optimizer="lbfgs")` and the estimators' solver='lbfgs' both call `run_lbfgs`.
"""

from ..nn.backend import np
from ..nn.checks import all_finite
from ..optim.lbfgs import LBFGS, set_solution
from .loop import NON_FINITE, DivergenceError, TrainingInterrupted, _restore, source_backend
from .state import TrainingState


def run_lbfgs(net, source, max_iter, state=None, *, lbfgs=None, l2=0.0, validation=None,
              log=None, callback=None, interruptible=False):
    """Minimize the full-batch cost of `net` on `source` (its `full_batch()`) with L-BFGS for at
    most max_iter iterations from the current parameters.

    Parameters
    ----------
    net : Network
        The network, trained in place (moved to the source's library, device and dtype).
    source : object
        A source that can give its `full_batch()`, e.g. an `ArraySource`.
    max_iter : int
        The most iterations.
    state : TrainingState, optional
        Records the iterations (new if None): history.costs[i] is the cost after iteration
        i, and state.epoch counts the iterations.
    lbfgs : LBFGS, optional
        The solver's settings; LBFGS() by default.
    l2 : float, default 0.0
        lambda, the L2 regularization strength.
    validation : callable, optional
        validation(net) -> {"val_cost", "val_score"}, recorded in the history after each
        iteration.
    log : callable, optional
        log(n, record), called after each iteration n = 0, 1, ....
    callback : callable, optional
        callback(n, history), called after each iteration; True stops.
    interruptible : bool, default False
        Ctrl-C restores the last completed iteration and raises TrainingInterrupted.

    Returns
    -------
    scipy.optimize.OptimizeResult
        scipy's result.

    Raises
    ------
    ValueError
        If the source's n_features is not the network's n_x, or max_iter is not >= 1.
    DivergenceError
        If the result is not finite; the parameters and the state are restored first.
    TrainingInterrupted
        On Ctrl-C when interruptible.
    """
    lbfgs = LBFGS() if lbfgs is None else lbfgs
    if source.n_features != net.layer_dims[0]:
        raise ValueError(
            f"the data has {source.n_features} features but the network expects n_x = "
            f"{net.layer_dims[0]}"
        )
    batch = source.full_batch()
    net.to(source_backend(source), source.dtype)
    state = TrainingState() if state is None else state
    start = net.copy_state(), state.copy()
    last = net.parameters.backend.copy(net.parameters.vector) if interruptible else None

    def after_iteration(n, cost):
        history = state.history
        record = {"cost": cost}
        if validation is not None:
            if net.batch_norm:  # prediction uses the running statistics: the full batch's, here
                set_solution(net, batch.X, net.parameters.vector)
            record.update(validation(net))
            history.val_costs.append(record["val_cost"])
            history.val_scores.append(record["val_score"])
        history.costs.append(cost)
        epoch = state.epoch
        state.epoch += 1
        if interruptible:
            last[...] = net.parameters.vector
        if log is not None:
            log(epoch, record)
        return bool(callback is not None and callback(epoch, history))

    try:
        result = lbfgs.minimize(net, batch.X, batch.Y, max_iter, l2=l2,
                                sample_weight=batch.sample_weight, callback=after_iteration)
    except KeyboardInterrupt:
        if not interruptible:
            _restore_start(net, state, start)
            raise
        set_solution(net, batch.X, last)  # the history holds the completed iterations only
        raise TrainingInterrupted(state.epoch) from None
    except Exception:  # a failing callback, say: nothing half-trained is left behind
        _restore_start(net, state, start)
        raise
    if not (np.isfinite(result.fun) and all_finite(net.parameters.vector[None, :])):
        _restore_start(net, state, start)
        raise DivergenceError(
            f"L-BFGS reached a cost of {result.fun}: training diverged. {NON_FINITE}. The "
            "parameters were restored to their values before this call."
        )
    return result


def _restore_start(net, state, start):
    net.restore_state(start[0])
    _restore(state, start[1])


def is_lbfgs(optimizer):
    """Whether fit's `optimizer` asks for L-BFGS ("lbfgs" or an LBFGS instance)."""
    return isinstance(optimizer, LBFGS) or (isinstance(optimizer, str) and optimizer == "lbfgs")


def fit_lbfgs(net, source, epochs, *, optimizer, l2, keep_prob, validation, weighted, verbose,
              callback, interruptible, refused=()):
    """`Network.fit(..., optimizer="lbfgs" or an LBFGS)`: at most `epochs` L-BFGS iterations on
    the full batch of `source`, from the current parameters. `refused` names the options given
    that only the stochastic loop has (an error)."""
    if refused:
        raise ValueError(
            f"optimizer='lbfgs' minimizes the full-batch cost and takes no {', '.join(refused)}: "
            "it runs up to `epochs` iterations from the current parameters (fit again to "
            "continue), with its tolerance and evaluation budget in LBFGS(tol=..., max_fun=...)"
        )
    if any(p < 1 for p in keep_prob):
        raise ValueError(
            "optimizer='lbfgs' needs a deterministic cost: dropout (keep_prob < 1) makes it "
            "random; use keep_prob=1, or a stochastic optimizer with dropout"
        )
    lbfgs = LBFGS() if isinstance(optimizer, str) else optimizer
    state = TrainingState(config={
        "optimizer": lbfgs.config(), "l2": l2, "weighted": weighted,
        "validated": validation is not None,
    })

    def log(epoch, record):
        if epoch % 100 == 0 or epoch == epochs - 1:
            print(f"Cost after iteration {epoch}: {record['cost']:.6f}")

    try:
        run_lbfgs(net, source, epochs, state, lbfgs=lbfgs, l2=l2, validation=validation,
                  log=log if verbose else None, callback=callback, interruptible=interruptible)
    except TrainingInterrupted:
        net.training_state = state  # the last completed iteration, to save
        raise
    net.training_state = state
    return state.history
