"""Trials: parameter dicts sampled from a space, and `run_trial`, which trains and scores one
(a plain function any executor can map). The default trial builds a `Network` from the sampled
keys."""

import copy
import ctypes
import ctypes.util
import inspect
import math
import numbers
import os
import socket
import time

import numpy as np

from ..data.checks import check_number, one_line
from ..nn.checks import check_layer_sizes, infer_output_activation
from .distributions import check_space, python_value


def _seed_sequence(seed):
    return seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)


def sample_trials(space, n_trials, seed=None, add_seed=True):
    """n_trials parameter dicts drawn at random from `space` (reproducible for an int seed).

    With add_seed (and no "seed" in space), each trial also gets its own "seed" (network init,
    shuffling, dropout), so a trial's dict alone reproduces it.

    Parameters
    ----------
    space : dict
        {name: distribution or list of options} (see `check_space`).
    n_trials : int
        The number of trials, >= 1.
    seed : int or numpy.random.SeedSequence, optional
        The seed of the draws; None: fresh ones.
    add_seed : bool, default True
        Give each trial a "seed" (an int) of its own.

    Returns
    -------
    trials : list of dict
        n_trials dicts {name: value} in the space's order (then "seed"), values as plain
        Python values.

    Raises
    ------
    ValueError
        If the space is invalid or `n_trials` < 1.

    Examples
    --------
    >>> from mlpkit.search import IntUniform, LogUniform
    >>> space = {"learning_rate": LogUniform(-4, 0), "hidden": IntUniform(8, 64)}
    >>> trials = sample_trials(space, 2, seed=0)
    >>> [(round(t["learning_rate"], 5), t["hidden"], t["seed"]) for t in trials]
    [(0.15396, 17, 1421746521), (0.00014, 58, 1454269175)]
    >>> sample_trials(space, 2, seed=0) == trials
    True
    """
    return _sample_trials(check_space(space), n_trials, seed, add_seed)


def _sample_trials(space, n_trials, seed, add_seed):
    """sample_trials for a space that check_space has already checked: scikit-learn's
    ParameterSampler draws the parameters (each trial's dict in the space's order)."""
    from sklearn.model_selection import ParameterSampler

    n_trials = check_number(n_trials, "n_trials", integer=True, min_val=1)
    sample_seq, seed_seq = _seed_sequence(seed).spawn(2)
    sampler = ParameterSampler(space, n_trials,
                               random_state=np.random.RandomState(np.random.MT19937(sample_seq)))
    trial_seeds = np.random.default_rng(seed_seq).integers(0, 2**31 - 1, n_trials)
    trials = []
    for drawn, trial_seed in zip(sampler, trial_seeds, strict=True):
        params = {name: python_value(drawn[name]) for name in space}
        if add_seed and "seed" not in space:
            params["seed"] = int(trial_seed)
        trials.append(params)
    return trials


def run_trial(params, data, train_fn=None, fixed=None, blas_threads=None):
    """Train and score one trial: train_fn({**fixed, **params}, X, Y, X_dev, Y_dev), with data =
    (X, Y, X_dev, Y_dev) and BLAS limited to blas_threads threads (None: no limit).

    train_fn (default `train_network`) returns the dev score (higher is better) or a dict with
    "dev_score" and other metrics. A trial whose training diverges (FloatingPointError) or
    raises gets dev_score NaN and its message under "error".

    Parameters
    ----------
    params : dict
        The trial's sampled parameters.
    data : tuple
        (X, Y, X_dev, Y_dev), handed to `train_fn`.
    train_fn : callable, optional
        train_fn(params, X, Y, X_dev, Y_dev) -> dev score or a dict of metrics with
        "dev_score"; default `train_network`.
    fixed : dict, optional
        Parameters shared by every trial; `params` overrides them.
    blas_threads : int, optional
        The BLAS threads while it trains; None: no limit.

    Returns
    -------
    row : dict
        {**params, **metrics, "seconds": the time it took, "error": None or the message}.

    Raises
    ------
    ValueError
        If `train_fn` returns a dict without "dev_score" (an error of the train function,
        not of the trial).
    """
    return execute_trial(params, data, train_fn, fixed, blas_threads)[0]


def execute_trial(params, data, train_fn=None, fixed=None, blas_threads=None):
    """run_trial's row and the trial's status: "ok", "diverged" (FloatingPointError) or
    "failed" (any other exception; its type and message go under "error")."""
    from threadpoolctl import threadpool_limits

    train_fn = train_network if train_fn is None else train_fn
    start = time.perf_counter()
    error, status = None, "ok"
    with threadpool_limits(limits=blas_threads):
        try:
            out = train_fn({**(fixed or {}), **params}, *data)
        except FloatingPointError as exc:
            out, error, status = {"dev_score": math.nan}, one_line(exc), "diverged"
        except Exception as exc:  # a failed trial is a result; the search goes on
            out, status = {"dev_score": math.nan}, "failed"
            error = f"{type(exc).__name__}: {one_line(exc)}"
    metrics = dict(out) if isinstance(out, dict) else {"dev_score": out}
    if "dev_score" not in metrics:
        raise ValueError(
            f"train_fn must return the dev score or a dict with 'dev_score'; got {out!r}"
        )
    metrics = {k: python_value(v) for k, v in metrics.items()}
    row = {**params, **metrics, "seconds": time.perf_counter() - start, "error": error}
    return row, status


_MALLOC_TUNED = []  # [True] once tune_malloc ran in this process


def this_process():
    """(host name, pid): which process this is, for a task to tell its caller's apart."""
    return socket.gethostname(), os.getpid()


def tune_malloc(caller=None):
    """Fix glibc's thresholds in a worker process, once: arrays under 32 MiB from the heap, and
    the heap trimmed only past 64 MiB free (the values glibc's dynamic rule tends to on 64-bit
    Linux). Left to the dynamic rule, a small trial's temporaries (about 128 KiB at digits'
    sizes) had the heap trimmed and grown again, with page faults, at nearly every step: 1.28x
    slower trials, and 1.5x under the Dask nanny's MALLOC_TRIM_THRESHOLD_, which turns the rule
    off. Nothing in `caller`'s own process (a `this_process()`: the search's caller, whose
    process is never touched), nor off glibc."""
    if _MALLOC_TUNED or this_process() == caller:
        return
    _MALLOC_TUNED.append(True)
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):  # not glibc
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    mallopt(m_mmap_threshold, 32 * 2**20)
    mallopt(m_trim_threshold, 64 * 2**20)


NETWORK_KEYS = ("hidden", "layers", "hidden_activation", "output_activation", "init", "batch_norm")
FIT_KEYS = ("epochs", "learning_rate", "batch_size", "optimizer", "lr_schedule", "l2", "keep_prob")
OPTIMIZER_KEYS = ("beta", "beta1", "beta2", "epsilon")
TRIAL_KEYS = (*NETWORK_KEYS, *FIT_KEYS, *OPTIMIZER_KEYS, "seed")


def train_network(params, X, Y, X_dev, Y_dev):
    """Build a Network from params (see `build_network`), fit it on (X, Y), score it on
    (X_dev, Y_dev).

    Parameters
    ----------
    params : dict
        The trial's parameters (the keys of `build_network`).
    X : ndarray of shape (n_x, m)
        The training examples, one per column.
    Y : ndarray of shape (n_y, m) or (m,)
        Their targets.
    X_dev : ndarray of shape (n_x, m_dev)
        The dev examples.
    Y_dev : ndarray of shape (n_y, m_dev) or (m_dev,)
        Their targets.

    Returns
    -------
    metrics : dict
        "dev_score" and "train_score" (`Network.score`: accuracy, or R^2 for a linear
        output) and "dev_cost".

    Raises
    ------
    ValueError
        If `params` holds an unknown key or an invalid value.
    """
    net, fit_options = build_network(params, X, Y)
    # fit, evaluate and score take a 1-D Y as one row themselves (check_Y)
    net.fit(X, Y, **fit_options)
    dev_cost, dev_score = net.evaluate(X_dev, Y_dev)
    return {"dev_score": dev_score, "train_score": net.score(X, Y), "dev_cost": dev_cost}


def build_network(params, X, Y):
    """The Network that trial `params` describes for data X (n_x, m), Y (n_y, m), and the
    options for its fit: `net.fit(X, Y, **fit_options)` trains it as the trial did.

    Keys (all optional): hidden (units of each hidden layer: an int, repeated `layers` times
    (default 1), or a list), hidden_activation, output_activation (default: sigmoid for 0/1
    labels, softmax for one-hot columns, else linear), init, batch_norm; epochs, learning_rate,
    batch_size, optimizer, lr_schedule, l2, keep_prob (as in fit); beta (momentum), beta1,
    beta2, epsilon (the optimizer's); seed (init, shuffling, dropout).

    Parameters
    ----------
    params : dict
        The trial's parameters, the keys above.
    X : array_like of shape (n_x, m)
        The training examples (only n_x is used).
    Y : array_like of shape (n_y, m) or (m,)
        Their targets (n_y and, for the default output activation, their values).

    Returns
    -------
    net : Network
        The network, initialized, not trained.
    fit_options : dict
        The keyword arguments of `net.fit`, the optimizer built by `make_optimizer`.

    Raises
    ------
    ValueError
        If `params` holds an unknown key, "layers" without "hidden", or layer sizes that
        disagree.

    Examples
    --------
    >>> X, Y = np.zeros((2, 10)), np.array([[0, 1] * 5])
    >>> net, fit_options = build_network({"hidden": 4, "layers": 2, "learning_rate": 0.1}, X, Y)
    >>> net.layer_dims, net.output_activation, fit_options["learning_rate"]
    ([2, 4, 4, 1], 'sigmoid', 0.1)
    """
    from ..nn.network import Network

    hidden, network_options, fit_options = trial_settings(params)
    Y = _label_rows(Y)
    net = Network(
        [np.shape(X)[0], *hidden, Y.shape[0]],
        output_activation=params.get("output_activation") or infer_output_activation(Y),
        **network_options,
    )
    return net, fit_options


def trial_settings(params):
    """What trial `params` sets, checked: (hidden layer sizes, Network options other than the
    output activation, fit options), so that another builder (e.g. an image classifier) can
    make the same network and train it the same way."""
    unknown = sorted(set(params) - set(TRIAL_KEYS))
    if unknown:
        raise ValueError(
            f"unknown trial parameter(s) {unknown}; expected some of {list(TRIAL_KEYS)}"
        )
    seed = params.get("seed")
    network_options = {
        "hidden_activation": params.get("hidden_activation", "relu"),
        "init": params.get("init", "he"),
        "seed": seed,
        "batch_norm": params.get("batch_norm", False),
    }
    fit_options = {k: params[k] for k in FIT_KEYS if k in params}
    fit_options.update(optimizer=make_optimizer(params), seed=seed)
    return _hidden_dims(params), network_options, fit_options


def _label_rows(Y):
    Y = np.asarray(Y)
    return Y.reshape(1, -1) if Y.ndim == 1 else Y


def _hidden_dims(params):
    hidden, layers = params.get("hidden"), params.get("layers")
    if hidden is None:
        if layers is not None:
            raise ValueError("'layers' needs 'hidden' (the units of each hidden layer)")
        return []
    if isinstance(hidden, numbers.Integral):
        layers = 1 if layers is None else check_number(layers, "layers", integer=True, min_val=0)
        return [int(hidden)] * layers
    hidden = check_layer_sizes(hidden, "'hidden'")
    if layers is not None and layers != len(hidden):
        raise ValueError(f"'layers' = {layers} but 'hidden' lists {len(hidden)} layers: {hidden}")
    return hidden


def make_optimizer(params):
    """params["optimizer"] (default "gd") built with the params' beta / beta1 / beta2 / epsilon
    that its class takes (the others are ignored); an instance is copied, never shared.

    Parameters
    ----------
    params : dict
        The trial's parameters; "optimizer" is a name ("gd", "sgd", "momentum", "nesterov",
        "rmsprop", "adam") or an optimizer instance.

    Returns
    -------
    optimizer : Optimizer
        A new optimizer.

    Raises
    ------
    ValueError
        If the optimizer is an unknown name or not an optimizer.

    Examples
    --------
    >>> make_optimizer({"optimizer": "adam", "beta1": 0.8, "beta": 0.5})
    Adam(beta1=0.8, beta2=0.999, epsilon=1e-08)
    """
    from ..optim.optimizers import OPTIMIZERS, get_optimizer

    optimizer = params.get("optimizer", "gd")
    if not isinstance(optimizer, str):
        return copy.deepcopy(get_optimizer(optimizer))
    if optimizer not in OPTIMIZERS:
        get_optimizer(optimizer)  # raises the error that lists the known names
    cls = OPTIMIZERS[optimizer]
    accepted = inspect.signature(cls).parameters
    return cls(**{k: params[k] for k in OPTIMIZER_KEYS if k in params and k in accepted})
