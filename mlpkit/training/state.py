"""The training run as data: its `History`, and the `TrainingState` that lets it continue exactly.

A `TrainingState` holds everything the loop changes besides the network itself: epochs done
(the schedule's position), the current learning rate, examples seen, the optimizer's state
(moments, step t), the random generator (shuffling, dropout masks), the stopping rules'
bookkeeping (best score, epochs without improvement, a copy of the best parameters), the
history, the run's configuration, and, when the best epoch's parameters were put back at the
end of a run, the last epoch's (where a resumed run goes on from). `to_arrays` / `from_arrays`
turn it into JSON metadata plus NumPy arrays and back, with no pickling, for model files.
`float_to_json` / `float_from_json` are the one codec for the floats JSON lacks (NaN, +-inf),
which the estimators' saved parameters use too.
"""

import copy
from dataclasses import dataclass, field

from ..nn.backend import array_backend, np, to_numpy


@dataclass
class History:
    """What happened in training: costs[i] is epoch i's cost (for full batch, the cost of
    iteration i's forward pass before its update, as the course prints it; for L-BFGS, the
    cost after iteration i).

    Parameters
    ----------
    costs : list of float
        The training cost J of each epoch.
    learning_rates : list of float
        The learning rate of each epoch (empty for L-BFGS).
    val_costs : list of float
        The validation cost of each epoch (empty without validation).
    val_scores : list of float
        The validation score (accuracy or R^2) of each epoch.
    best_epoch : int, optional
        The epoch with the lowest validation cost, under early stopping.
    stopped_early : bool, default False
        Whether a stopping rule ended training.
    diverged : bool, default False
        Whether training stopped on a non-finite cost, the best epoch's parameters restored.

    Examples
    --------
    >>> import numpy as np
    >>> from mlpkit.nn import Network
    >>> X = np.array([[0.0, 1.0, 2.0, 3.0]])
    >>> net = Network([1, 1], output_activation="linear", init="zeros")
    >>> history = net.fit(X, 2 * X, epochs=3, learning_rate=0.1)
    >>> history.epochs, [round(c, 4) for c in history.costs], history.learning_rates
    (3, [7.0, 2.4175, 0.8735], [0.1, 0.1, 0.1])
    """

    costs: list = field(default_factory=list)
    learning_rates: list = field(default_factory=list)
    val_costs: list = field(default_factory=list)
    val_scores: list = field(default_factory=list)
    best_epoch: int = None
    stopped_early: bool = False
    diverged: bool = False

    @property
    def epochs(self):
        return len(self.costs)


@dataclass
class TrainingState:
    """Everything a run needs, besides the network, to continue where it stopped.

    Parameters
    ----------
    epoch : int, default 0
        Epochs done: the schedule's position.
    learning_rate : float, optional
        The rate now (rules such as NoImprovement(adaptive=True) change it).
    samples_seen : int, default 0
        The examples trained on so far.
    optimizer : dict, optional
        The optimizer's state, {"t": steps, name: array, ...}; None before the first run.
    rng : numpy.random.Generator, optional
        Draws the shuffles and dropout masks.
    rules : dict, optional
        Each stopping rule's bookkeeping, by the rule's name.
    history : History, optional
        What happened so far; a new, empty one by default.
    config : dict, optional
        The run's settings, as data (a resumed run must have the same).
    last_network : tuple, optional
        The network at the end of the last epoch when a rule then put the best epoch's
        parameters back (`Network.copy_state`'s tuple): where a resumed run goes on from.
    """

    epoch: int = 0  # epochs done: the schedule's position
    learning_rate: float = None  # the rate now (rules such as 'adaptive' change it)
    samples_seen: int = 0
    optimizer: dict = None  # the optimizer's state: {"t": steps, name: array, ...}
    rng: np.random.Generator = None  # shuffling and dropout masks
    rules: dict = field(default_factory=dict)  # rule name -> its bookkeeping
    history: History = field(default_factory=History)
    config: dict = field(default_factory=dict)  # the run's settings, as data
    # the network at the end of the last epoch when a rule then put the best epoch's parameters
    # back: a resumed run continues from these, as the uninterrupted run would have
    last_network: tuple = None

    def copy(self):
        """A deep copy (arrays, generator and history included). Taken after every epoch of an
        interruptible run, so written out field by field: copy.deepcopy of the whole took 8% of
        a digits-size epoch.

        Returns
        -------
        TrainingState
        """
        new = copy.copy(self)
        new.optimizer = _copied(self.optimizer)
        new.rng = None if self.rng is None else _copied_generator(self.rng)
        new.rules = copy.deepcopy(self.rules)
        new.history = History(**{name: list(value) if isinstance(value, list) else value
                                 for name, value in vars(self.history).items()})
        new.config = copy.deepcopy(self.config)
        new.last_network = copy.deepcopy(self.last_network)
        return new

    def to_arrays(self, prefix="training"):
        """The state as JSON data and NumPy arrays, with nothing to pickle (`from_arrays` reads
        it back).

        Parameters
        ----------
        prefix : str, default "training"
            The start of the arrays' names ("training.optimizer.v", ...).

        Returns
        -------
        meta : dict
            JSON-serializable; each array is replaced by {"$array": its name}.
        arrays : dict of str to ndarray
            The arrays, by name.

        Raises
        ------
        TypeError
            If the state holds something that is not data (a callable schedule, say) or a
            dict with a non-string key.
        """
        arrays = {}
        data = {
            "epoch": self.epoch,
            "learning_rate": self.learning_rate,
            "samples_seen": self.samples_seen,
            "optimizer": self.optimizer,
            "rng": None if self.rng is None else self.rng.bit_generator.state,
            "rules": self.rules,
            "history": vars(self.history),
            "config": self.config,
            "last_network": self.last_network,
        }
        return _encode(data, f"{prefix}.", arrays, "training state"), arrays

    @classmethod
    def from_arrays(cls, meta, arrays):
        """The state that `to_arrays` described."""
        data = _decode(meta, arrays)
        rng = None
        if data["rng"] is not None:
            rng = np.random.Generator(getattr(np.random, data["rng"]["bit_generator"])())
            rng.bit_generator.state = data["rng"]
        return cls(
            epoch=int(data["epoch"]),
            learning_rate=data["learning_rate"],
            samples_seen=int(data["samples_seen"]),
            optimizer=data["optimizer"],
            rng=rng,
            rules=data["rules"],
            history=History(**data["history"]),
            config=data["config"],
            last_network=data.get("last_network"),
        )


FLOAT_TAG = "$float"


def float_to_json(value):
    """A float as JSON data: itself when finite, else {"$float": "nan" | "inf" | "-inf"}
    (JSON has no NaN or infinity)."""
    return value if np.isfinite(value) else {FLOAT_TAG: repr(float(value))}


def float_from_json(value):
    """The float that `float_to_json` encoded; any other value as it is."""
    if isinstance(value, dict) and set(value) == {FLOAT_TAG}:
        return float(value[FLOAT_TAG])
    return value


def _encode(value, path, arrays, what):
    """JSON data with every array moved into `arrays` under its path, leaving {"$array": key};
    an array on a device is moved as its host copy (a state saves from any device)."""
    if not isinstance(value, np.ndarray) and array_backend(value) is not None:
        value = to_numpy(value)
    if isinstance(value, np.ndarray):
        arrays[path.rstrip(".")] = value
        return {"$array": path.rstrip(".")}
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise TypeError(f"the {what} has a non-string key {key!r}")
        return {key: _encode(v, f"{path}{key}.", arrays, what) for key, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v, f"{path}{i}.", arrays, what) for i, v in enumerate(value)]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return float_to_json(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(
        f"the {what} holds {value!r} at {path.rstrip('.')}, which is not data (use named "
        "optimizers, schedules and settings to save it)"
    )


def _decode(value, arrays):
    value = float_from_json(value)
    if isinstance(value, dict):
        if set(value) == {"$array"}:
            key = value["$array"]
            if key not in arrays:
                raise ValueError(f"array {key} is missing")
            return np.array(arrays[key])
        return {key: _decode(v, arrays) for key, v in value.items()}
    if isinstance(value, list):
        return [_decode(v, arrays) for v in value]
    return value


def _copied(value):
    """A copy of nested dicts, lists and arrays (numbers and strings are shared)."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: _copied(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copied(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str, np.generic)):
        return value
    return copy.deepcopy(value)


def _copied_generator(rng):
    """An independent Generator in the same state (what deepcopy gives, faster)."""
    if not isinstance(rng, np.random.Generator):
        return copy.deepcopy(rng)
    bit_generator = type(rng.bit_generator)()
    bit_generator.state = rng.bit_generator.state
    return np.random.Generator(bit_generator)
