"""Rules the loop applies at the end of every epoch: stop early, restore the best epoch, change
the learning rate.

A rule is configuration only. Its bookkeeping (best value, epochs without improvement, a copy of
the best parameters) lives in the training state, `memory = state.rules[rule.name]`, so it is
saved, copied and resumed with the rest of the run. The loop calls

- `start(loop, memory)` when a run starts (a fresh memory is an empty dict);
- `end_epoch(loop, record, memory) -> bool` after each epoch, with record = {"cost": J, and
  "val_cost" / "val_score" when there is validation}; True stops training;
- `finish(loop, memory)` when the run ends (restore the best parameters);
- `holds_best(memory)`: whether stopping now would leave the best epoch's parameters (then a
  diverging run stops here instead of raising).
"""

import math

MIN_ADAPTIVE_RATE = 1e-6  # 'adaptive' stops once the rate is this small


class Rule:
    """What every rule shares: a rule that keeps the best epoch's parameters keeps them in
    memory["best_state"], and the end of the run puts them back."""

    name = None

    def start(self, loop, memory):
        """Nothing to set up unless a rule says otherwise."""

    def end_epoch(self, loop, record, memory):
        raise TypeError(f"{type(self).__name__} must define end_epoch(loop, record, memory)")

    def holds_best(self, memory):
        return memory.get("best_state") is not None

    def finish(self, loop, memory):
        if memory.get("best_state") is not None:
            loop.net.restore_state(memory["best_state"])


class Patience(Rule):
    """Early stopping on the validation cost: an epoch improves when its val_cost is below the
    best by more than tol; after `patience` epochs without improvement training stops, and the
    best epoch's parameters are restored.

    Parameters
    ----------
    patience : int, optional
        Epochs without improvement before stopping; None only records the best epoch
        (history.best_epoch) and never stops.
    tol : float, default 0.0
        The improvement that counts.
    """

    name = "patience"

    def __init__(self, patience=None, tol=0.0):
        self.patience, self.tol = patience, tol

    def start(self, loop, memory):
        """Set up a fresh memory (best val_cost inf, no epoch waited); a resumed one is kept.

        Parameters
        ----------
        loop : Loop
            The loop that starts a run.
        memory : dict
            This rule's bookkeeping in the training state, updated in place.
        """
        memory.setdefault("best", math.inf)
        memory.setdefault("waited", 0)
        memory.setdefault("best_state", None)

    def end_epoch(self, loop, record, memory):
        """Record an improvement (and, with a patience, copy the parameters), or count one more
        epoch without.

        Parameters
        ----------
        loop : Loop
            The running loop (its network, state and history).
        record : dict
            The epoch's metrics; "val_cost" is used.
        memory : dict
            This rule's bookkeeping, updated in place.

        Returns
        -------
        bool
            True to stop: `patience` epochs in a row without improvement.
        """
        if record["val_cost"] < memory["best"] - self.tol:
            memory["best"], memory["waited"] = record["val_cost"], 0
            loop.history.best_epoch = loop.state.epoch
            if self.patience is not None:
                memory["best_state"] = loop.net.copy_state()
        else:
            memory["waited"] += 1
        if self.patience is not None and memory["waited"] >= self.patience:
            loop.history.stopped_early = True
            return True
        return False


class NoImprovement(Rule):
    """scikit-learn's rule: an epoch without improvement is one whose training loss is not below
    the best by more than tol (monitor="loss"), or whose validation score is not above the best
    by more than tol (monitor="val_score", early stopping, which also restores the best epoch's
    parameters at the end). After more than n_iter_no_change such epochs in a row training
    stops, or with adaptive=True the learning rate is divided by 5 (stopping once it is at most
    1e-6) and the count starts again.

    Parameters
    ----------
    n_iter_no_change : int, default 10
        The epochs without improvement allowed.
    tol : float, default 1e-4
        The improvement that counts.
    monitor : {"loss", "val_score"}, default "loss"
        The training cost, or the validation score (early stopping).
    adaptive : bool, default False
        Divide the learning rate by 5 at a plateau instead of stopping.
    verbose : bool, default False
        Print scikit-learn's messages (scores, plateaus).
    """

    name = "no_improvement"

    def __init__(self, n_iter_no_change=10, tol=1e-4, monitor="loss", adaptive=False,
                 verbose=False):
        self.n_iter_no_change, self.tol, self.monitor = n_iter_no_change, tol, monitor
        self.adaptive, self.verbose = adaptive, verbose

    def start(self, loop, memory):
        """Set up a fresh memory, keeping a resumed one's counts; with monitor="val_score",
        the starting parameters are the best so far.

        Parameters
        ----------
        loop : Loop
            The loop that starts a run.
        memory : dict
            This rule's bookkeeping in the training state, updated in place.
        """
        memory.setdefault("count", 0)
        if self.monitor == "val_score":
            memory.setdefault("scores", [])
            memory.setdefault("best_score", -math.inf)
            memory["best_loss"] = None
            memory["best_state"] = loop.net.copy_state()
        else:
            if memory.get("best_loss") is None:
                memory["best_loss"] = math.inf
            memory.pop("best_state", None)

    def end_epoch(self, loop, record, memory):
        """Count the epoch as an improvement or not; at a plateau stop, or (adaptive) divide the
        learning rate by 5.

        Parameters
        ----------
        loop : Loop
            The running loop (its network, state and history).
        record : dict
            The epoch's metrics; "cost", or "val_score" with monitor="val_score".
        memory : dict
            This rule's bookkeeping, updated in place.

        Returns
        -------
        bool
            True to stop.
        """
        if self.monitor == "val_score":
            score = record["val_score"]
            memory["scores"].append(score)
            if self.verbose:
                print(f"Validation score: {score:f}")
            memory["count"] = memory["count"] + 1 if score < memory["best_score"] + self.tol else 0
            if score > memory["best_score"]:
                memory["best_score"] = score
                memory["best_state"] = loop.net.copy_state()
        else:
            loss = record["cost"]
            memory["count"] = memory["count"] + 1 if loss > memory["best_loss"] - self.tol else 0
            if loss < memory["best_loss"]:
                memory["best_loss"] = loss
        if memory["count"] <= self.n_iter_no_change:
            return False
        return self._plateau(loop, memory)

    def _plateau(self, loop, memory):
        what = "Validation score" if self.monitor == "val_score" else "Training loss"
        msg = (
            f"{what} did not improve more than tol={self.tol:f} for "
            f"{self.n_iter_no_change} consecutive epochs."
        )
        if not self.adaptive:
            if self.verbose:
                print(msg + " Stopping.")
            loop.history.stopped_early = True
            return True
        if loop.state.learning_rate <= MIN_ADAPTIVE_RATE:
            if self.verbose:
                print(msg + " Learning rate too small. Stopping.")
            loop.history.stopped_early = True
            return True
        loop.state.learning_rate /= 5.0
        if self.verbose:
            print(msg + f" Setting learning rate to {loop.state.learning_rate:f}")
        memory["count"] = 0
        return False


class InverseScaling(Rule):
    """scikit-learn's 'invscaling' rate: after each epoch, alpha = alpha0 / (t + 1)^power_t with
    t the examples seen so far.

    Parameters
    ----------
    power_t : float, default 0.5
        The exponent.
    """

    name = "invscaling"

    def __init__(self, power_t=0.5):
        self.power_t = power_t

    def end_epoch(self, loop, record, memory):
        """Set the state's learning rate for the next epoch.

        Parameters
        ----------
        loop : Loop
            The running loop (its learning_rate0 and state).
        record : dict
            The epoch's metrics (not used).
        memory : dict
            This rule's bookkeeping (not used).

        Returns
        -------
        bool
            False: this rule never stops training.
        """
        loop.state.learning_rate = loop.learning_rate0 / (loop.state.samples_seen + 1) ** (
            self.power_t
        )
        return False
