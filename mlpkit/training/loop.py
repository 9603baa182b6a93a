"""The training loop: for each epoch, for each mini-batch,
forward -> cost -> backward -> update, with learning-rate decay, L2, dropout and early stopping.
"""

from dataclasses import dataclass, field

import numpy as np

from ..nn.checks import (
    check_int,
    check_keep_prob,
    check_non_negative,
    check_positive,
    check_X,
    check_Y,
)
from ..optim.optimizers import get_optimizer
from ..optim.schedules import get_schedule


@dataclass
class History:
    """What happened in `fit`: costs[i] is epoch i's cost (for full batch, the cost of
    iteration i's forward pass before its update, as the course prints it)."""

    costs: list = field(default_factory=list)
    learning_rates: list = field(default_factory=list)
    val_costs: list = field(default_factory=list)
    val_scores: list = field(default_factory=list)
    best_epoch: int = None
    stopped_early: bool = False

    @property
    def epochs(self):
        return len(self.costs)


def random_mini_batches(m, batch_size, rng, shuffle=True):
    """Shuffle the m example indices (unless shuffle=False), then cut them into batches of
    batch_size (the last may be smaller)."""
    order = rng.permutation(m) if shuffle else np.arange(m)
    return [order[k : k + batch_size] for k in range(0, m, batch_size)]


def train_step(net, X, Y, optimizer, learning_rate, l2=0.0, keep_prob=None, rng=None):
    """One gradient step on the batch (X, Y); returns the batch's cost before the update."""
    AL, caches = net.forward(X, training=True, keep_prob=keep_prob, rng=rng)
    cost = net.compute_cost(Y, caches, l2)
    grads = net.backward(AL, Y, caches, l2)
    optimizer.update(net.parameters, grads, learning_rate)
    if net.batch_norm:
        net.update_running_stats(caches)
    return cost


def train_epoch(net, X, Y, optimizer, learning_rate, batch_size=None, l2=0.0, keep_prob=None,
                rng=None, examples_first=None, shuffle=True):
    """One pass over the data; returns the epoch's cost, the batch costs averaged over examples.
    shuffle=False takes the mini-batches in the data's order.

    Full batch (batch_size None or >= m) uses X as it is. For mini-batches the examples are
    gathered as rows of `examples_first` = X^T (C-contiguous, computed once per fit) into one
    reused buffer, so each batch is contiguous for BLAS and no step allocates it."""
    m = X.shape[1]
    if batch_size is None or batch_size >= m:
        return train_step(net, X, Y, optimizer, learning_rate, l2, keep_prob, rng)
    if examples_first is None:
        examples_first = np.ascontiguousarray(X.T)
    buffer = np.empty((batch_size, X.shape[0]), dtype=examples_first.dtype)
    total = 0.0
    for batch in random_mini_batches(m, batch_size, rng, shuffle):
        # mode="clip" (the indices are valid) lets take write straight into the buffer
        X_batch = np.take(examples_first, batch, axis=0, out=buffer[: len(batch)], mode="clip").T
        cost = train_step(net, X_batch, Y[:, batch], optimizer, learning_rate, l2, keep_prob, rng)
        total += cost * len(batch)
    return total / m


def train(
    net,
    X,
    Y,
    epochs=1000,
    learning_rate=0.0075,
    batch_size=None,
    shuffle=True,
    optimizer="gd",
    lr_schedule=None,
    l2=0.0,
    keep_prob=1.0,
    validation_data=None,
    patience=None,
    tol=0.0,
    seed=None,
    verbose=0,
    callback=None,
):
    """Fit `net` to X (n_x, m), Y (n_y, m) and return a History.

    batch_size: None = full batch, 1 = stochastic, else mini-batches reshuffled every epoch
    (shuffle=False keeps the data's order).
    optimizer: "gd", "momentum", "rmsprop", "adam" (or "nesterov"), or an optimizer instance
    (its state is kept across calls). lr_schedule: a name from mlpkit.schedules or a callable
    (epoch, learning_rate0) -> rate. l2: lambda. keep_prob: dropout's keep probability, one
    value or one per hidden layer. validation_data=(Xv, Yv) records val_costs and val_scores;
    with patience, training stops when the validation cost has not improved by more than tol
    for `patience` epochs, and the best epoch's parameters are restored. seed: shuffling and
    dropout masks. verbose=1 prints the cost every 100 epochs; callback(epoch, history) is
    called after each epoch and may return True to stop.
    """
    X = check_X(X, net.layer_dims[0])
    Y = check_Y(Y, X.shape[1], net.layer_dims[-1], net.output_activation, X.dtype)
    epochs = check_int(epochs, "epochs", 1)
    learning_rate0 = check_positive(learning_rate, "learning_rate")
    if batch_size is not None:
        batch_size = check_int(batch_size, "batch_size", 1)
    l2 = check_non_negative(l2, "l2")
    keep_prob = check_keep_prob(keep_prob, net.L - 1)
    dropout = keep_prob if any(p < 1 for p in keep_prob) else None
    optimizer = get_optimizer(optimizer)
    schedule = get_schedule(lr_schedule)
    if patience is not None:
        patience = check_int(patience, "patience", 1)
        if validation_data is None:
            raise ValueError("patience (early stopping) needs validation_data=(X_val, Y_val)")
    if validation_data is not None:
        X_val, Y_val = validation_data
        X_val = check_X(X_val, net.layer_dims[0], "X_val").astype(X.dtype, copy=False)
        Y_val = check_Y(
            Y_val, X_val.shape[1], net.layer_dims[-1], net.output_activation, X.dtype, "Y_val"
        )

    rng = np.random.default_rng(seed)
    net.astype(X.dtype)
    start_state = net.copy_state()
    examples_first = (
        np.ascontiguousarray(X.T) if batch_size is not None and batch_size < X.shape[1] else None
    )
    history = History()
    best_val, best_state, waited = np.inf, None, 0
    for epoch in range(epochs):
        rate = float(schedule(epoch, learning_rate0))
        with np.errstate(over="ignore", invalid="ignore"):
            cost = train_epoch(
                net, X, Y, optimizer, rate, batch_size, l2, dropout, rng, examples_first, shuffle
            )
        if not np.isfinite(cost):
            net.restore_state(start_state)
            raise FloatingPointError(
                f"the cost became {cost} at epoch {epoch} (learning rate {rate:g}): training "
                "diverged. Try a smaller learning_rate. The parameters were restored to their "
                "values before fit."
            )
        history.costs.append(cost)
        history.learning_rates.append(rate)
        if verbose and (epoch % 100 == 0 or epoch == epochs - 1):
            print(f"Cost after epoch {epoch}: {cost:.6f}")
        if validation_data is not None:
            val_cost, val_score = net.evaluate(X_val, Y_val)
            history.val_costs.append(val_cost)
            history.val_scores.append(val_score)
            if val_cost < best_val - tol:
                best_val, waited, history.best_epoch = val_cost, 0, epoch
                if patience is not None:
                    best_state = net.copy_state()
            else:
                waited += 1
        if callback is not None and callback(epoch, history):
            break
        if patience is not None and waited >= patience:
            history.stopped_early = True
            break
    if best_state is not None:
        net.restore_state(best_state)
    return history
