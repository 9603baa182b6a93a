"""Random hyperparameter search as the notes teach it: sample at random (no grid), on the scale
where each hyperparameter acts (learning rate a = 10^r, averaging beta = 1 - 10^r), then zoom into
the region of the best trials and sample again (coarse to fine).

The pieces are separate so other runners can reuse them:
- distributions with `rvs(size=None, random_state=None)` (scipy.stats' interface), so scikit-learn's
  `ParameterSampler` / `RandomizedSearchCV` accept them, and `zoom(values)` for coarse to fine;
- `sample_trials(space, n, seed)` -> list of parameter dicts;
- `run_trial(params, data)` -> one result row, a plain function any executor can map;
- `SearchResults`, the rows sorted by dev score, printed as a table.
`random_search` and `coarse_to_fine` run trials over local processes with joblib, each worker
capped to cores // workers BLAS threads (threadpoolctl), with a tqdm progress bar.
"""

import copy
import inspect
import math
import numbers
import time

import numpy as np

from .validation import check_int


# ---------------------------------------------------------------------------------------------
# Distributions
# ---------------------------------------------------------------------------------------------
def _unit_uniform(random_state, size):
    """u ~ U[0, 1) from a numpy Generator, a RandomState (what scikit-learn passes), an int or
    None."""
    if isinstance(random_state, (np.random.Generator, np.random.RandomState)):
        rng = random_state
    else:
        rng = np.random.default_rng(random_state)
    return rng.uniform(0.0, 1.0, size)


def _check_range(lo, hi, what):
    for name, value in (("lo", lo), ("hi", hi)):
        real = isinstance(value, numbers.Real) and not isinstance(value, bool)
        if not real or not math.isfinite(value):
            raise ValueError(f"{what}: {name} must be a finite number; got {value!r}")
    if not lo < hi:
        raise ValueError(f"{what}: needs lo < hi; got lo={lo!r}, hi={hi!r}")
    return float(lo), float(hi)


def _zoomed_interval(points, lo, hi, margin):
    """[min(points) - margin (hi - lo), max(points) + margin (hi - lo)], kept inside [lo, hi]."""
    points = np.asarray(points, dtype=float)
    if points.size == 0 or not np.isfinite(points).all():
        raise ValueError("zoom needs at least one finite value")
    if not 0 < margin <= 1:
        raise ValueError(
            f"margin must be in (0, 1] (a fraction of the current range); got {margin!r}"
        )
    pad = margin * (hi - lo)
    new_lo, new_hi = max(lo, points.min() - pad), min(hi, points.max() + pad)
    return new_lo, new_hi


class _Distribution:
    """rvs(size=None, random_state=None): one value (size None) or an array of `size` values."""

    def rvs(self, size=None, random_state=None):
        values = self._from_unit(_unit_uniform(random_state, size))
        return _plain(values) if size is None else values


class _ScaledUniform(_Distribution):
    """x = value(r),  r ~ U[lo, hi]: a uniform exponent r mapped onto the scale where the
    hyperparameter acts. Subclasses give the map, _value(r), and its inverse, _exponent(x),
    which also checks that x is in the map's range."""

    _what = ""  # how error messages name the distribution

    def __init__(self, lo, hi):
        self.lo, self.hi = _check_range(lo, hi, self._what)

    @property
    def bounds(self):
        """The range of x: (min, max) of value(lo) and value(hi)."""
        ends = self._value(self.lo), self._value(self.hi)
        return min(ends), max(ends)

    def _from_unit(self, u):
        return self._value(self.lo + u * (self.hi - self.lo))

    def zoom(self, values, margin=0.1):
        """The same distribution over the exponents r = exponent(x) of `values`, padded by
        margin x the old exponent width."""
        return type(self)(*_zoomed_interval(self._exponent(values), self.lo, self.hi, margin))


class Uniform(_ScaledUniform):
    """x ~ U[lo, hi] (for hyperparameters that act linearly, e.g. keep_prob)."""

    _what = "Uniform"

    def __repr__(self):
        return f"Uniform({self.lo:g}, {self.hi:g})"

    def _value(self, r):
        return r

    def _exponent(self, x):
        return x


class LogUniform(_ScaledUniform):
    """a = 10^r,  r ~ U[lo, hi]: the learning rate's scale. lo and hi are exponents:
    LogUniform(-4, 0) samples a in [0.0001, 1], as many values in [0.0001, 0.001] as in [0.1, 1]."""

    _what = "LogUniform (exponents: a = 10^r, r in [lo, hi])"

    def __repr__(self):
        return f"LogUniform(10^[{self.lo:g}, {self.hi:g}])"

    def _value(self, r):
        return 10.0**r

    def _exponent(self, a):
        """r = log10(a), for a > 0."""
        a = np.asarray(a, dtype=float)
        if (a <= 0).any():
            raise ValueError("LogUniform.zoom needs values > 0")
        return np.log10(a)


class OneMinusLogUniform(_ScaledUniform):
    """beta = 1 - 10^r,  r ~ U[lo, hi] (hi <= 0): an averaging beta's scale, where 1/(1 - beta)
    is the window averaged over. OneMinusLogUniform(-3, -1) samples beta in [0.9, 0.999], as
    many in [0.9, 0.99] as in [0.99, 0.999]."""

    _what = "OneMinusLogUniform (exponents: beta = 1 - 10^r, r in [lo, hi])"

    def __init__(self, lo, hi):
        super().__init__(lo, hi)
        if self.hi > 0:
            raise ValueError(f"{self._what}: needs hi <= 0 so that beta >= 0; got hi={hi!r}")

    def __repr__(self):
        return f"OneMinusLogUniform(1 - 10^[{self.lo:g}, {self.hi:g}])"

    def _value(self, r):
        return 1 - 10.0**r

    def _exponent(self, beta):
        """r = log10(1 - beta), for beta < 1."""
        beta = np.asarray(beta, dtype=float)
        if (beta >= 1).any():
            raise ValueError("OneMinusLogUniform.zoom needs values < 1")
        return np.log10(1 - beta)


class IntUniform(_Distribution):
    """n ~ uniform over the integers lo, lo + 1, ..., hi (both included): hidden units, layers."""

    def __init__(self, lo, hi):
        for name, value in (("lo", lo), ("hi", hi)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise ValueError(f"IntUniform: {name} must be an integer; got {value!r}")
        if lo > hi:
            raise ValueError(f"IntUniform: needs lo <= hi; got lo={lo!r}, hi={hi!r}")
        self.lo, self.hi = int(lo), int(hi)

    def __repr__(self):
        return f"IntUniform({self.lo}, {self.hi})"

    @property
    def bounds(self):
        return self.lo, self.hi

    def _from_unit(self, u):
        n = np.minimum(np.floor(u * (self.hi - self.lo + 1)), self.hi - self.lo)
        return (self.lo + n).astype(np.int64)

    def zoom(self, values, margin=0.1):
        """The integers spanned by `values`, padded by margin x the old width (rounded outward)."""
        lo, hi = _zoomed_interval(values, self.lo, self.hi, margin)
        return IntUniform(math.floor(lo), math.ceil(hi))


class Choice(_Distribution):
    """One of `options`, each with probability 1/len(options) (an activation, an optimizer,
    a list of layer sizes, ...)."""

    def __init__(self, options):
        if isinstance(options, (str, bytes)) or not hasattr(options, "__iter__"):
            raise ValueError(f"Choice needs a list of options; got {options!r}")
        self.options = list(options)
        if not self.options:
            raise ValueError("Choice needs at least one option; got an empty list")

    def __repr__(self):
        return f"Choice({self.options!r})"

    def _from_unit(self, u):
        k = np.minimum(np.floor(np.asarray(u) * len(self.options)), len(self.options) - 1)
        if k.ndim == 0:
            return self.options[int(k)]
        out = np.empty(k.shape, dtype=object)
        for index, i in np.ndenumerate(k.astype(np.int64)):
            out[index] = self.options[i]
        return out

    def zoom(self, values, margin=None):
        """The options that occur among `values` (in their original order); margin is unused."""
        kept = [option for option in self.options if any(_same(option, v) for v in values)]
        return Choice(kept or self.options)


def _same(a, b):
    try:
        return bool(np.all(a == b)) and np.shape(a) == np.shape(b)
    except (TypeError, ValueError):
        return False


def check_space(space):
    """The search space as {name: distribution}; a list or tuple becomes Choice(list)."""
    if not isinstance(space, dict) or not space:
        raise ValueError("space must be a non-empty dict {name: distribution or list of options}")
    checked = {}
    for name, dist in space.items():
        if not isinstance(name, str):
            raise ValueError(f"space keys must be parameter names (str); got {name!r}")
        if isinstance(dist, (list, tuple)):
            dist = Choice(dist)
        if not callable(getattr(dist, "rvs", None)):
            raise ValueError(
                f"space[{name!r}] must be a distribution with rvs(size, random_state) (LogUniform, "
                f"OneMinusLogUniform, Uniform, IntUniform, Choice, scipy.stats) or a list of "
                f"options; got {dist!r}"
            )
        checked[name] = dist
    return checked


# ---------------------------------------------------------------------------------------------
# Trials
# ---------------------------------------------------------------------------------------------
def _seed_sequence(seed):
    return seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)


def sample_trials(space, n_trials, seed=None, add_seed=True):
    """n_trials parameter dicts drawn at random from `space` (reproducible for an int seed).

    With add_seed (and no "seed" in space), each trial also gets its own "seed" (network init,
    shuffling, dropout), so a trial's dict alone reproduces it."""
    return _sample_trials(check_space(space), n_trials, seed, add_seed)


def _sample_trials(space, n_trials, seed, add_seed):
    """sample_trials for a space that check_space has already checked."""
    n_trials = check_int(n_trials, "n_trials", 1)
    sample_seq, seed_seq = _seed_sequence(seed).spawn(2)
    rng = np.random.default_rng(sample_seq)
    trial_seeds = np.random.default_rng(seed_seq).integers(0, 2**31 - 1, n_trials)
    trials = []
    for i in range(n_trials):
        params = {name: _plain(dist.rvs(random_state=rng)) for name, dist in space.items()}
        if add_seed and "seed" not in space:
            params["seed"] = int(trial_seeds[i])
        trials.append(params)
    return trials


def _plain(value):
    """numpy scalars as Python numbers (readable tables, exact pickling, int checks pass)."""
    return value.item() if isinstance(value, np.generic) else value


def run_trial(params, data, train_fn=None, fixed=None, blas_threads=None):
    """Train and score one trial: train_fn({**fixed, **params}, X, Y, X_dev, Y_dev), with data =
    (X, Y, X_dev, Y_dev) and BLAS limited to blas_threads threads (None: no limit).

    train_fn (default `train_network`) returns the dev score (higher is better) or a dict with
    "dev_score" and other metrics. A trial whose training diverges (FloatingPointError) gets
    dev_score NaN and its message under "error". Returns {**params, **metrics, "seconds",
    "error"}."""
    from threadpoolctl import threadpool_limits

    train_fn = train_network if train_fn is None else train_fn
    start = time.perf_counter()
    error = None
    with threadpool_limits(limits=blas_threads):
        try:
            out = train_fn({**(fixed or {}), **params}, *data)
        except FloatingPointError as exc:
            out, error = {"dev_score": math.nan}, str(exc)
    metrics = dict(out) if isinstance(out, dict) else {"dev_score": out}
    if "dev_score" not in metrics:
        raise ValueError(
            f"train_fn must return the dev score or a dict with 'dev_score'; got {out!r}"
        )
    metrics = {k: _plain(v) for k, v in metrics.items()}
    return {**params, **metrics, "seconds": time.perf_counter() - start, "error": error}


def run_trials(trials, data, train_fn=None, fixed=None, n_jobs=1, progress=True,
               blas_threads=None, desc="trials"):
    """run_trial for each parameter dict, over n_jobs local processes (joblib; -1 = all cores),
    each limited to blas_threads BLAS threads (default cores // workers, so workers x threads <=
    cores). Returns the rows in the order of `trials`."""
    from joblib import Parallel, cpu_count, delayed, effective_n_jobs
    from tqdm.auto import tqdm

    if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral) or n_jobs == 0:
        raise ValueError(f"n_jobs must be a nonzero integer (-1 = all cores); got {n_jobs!r}")
    workers = max(1, min(effective_n_jobs(n_jobs), len(trials)))
    # loky caps its workers alike, but only for *_NUM_THREADS variables unset in this process
    if blas_threads is None:
        blas_threads = max(1, cpu_count() // workers)
    else:
        blas_threads = check_int(blas_threads, "blas_threads", 1)
    jobs = (delayed(run_trial)(params, data, train_fn, fixed, blas_threads) for params in trials)
    rows = Parallel(n_jobs=workers, return_as="generator")(jobs)
    return list(tqdm(rows, total=len(trials), desc=desc, unit="trial", disable=not progress))


# ---------------------------------------------------------------------------------------------
# The default trial: a Network from the sampled keys
# ---------------------------------------------------------------------------------------------
NETWORK_KEYS = ("hidden", "layers", "hidden_activation", "output_activation", "init", "batch_norm")
FIT_KEYS = ("epochs", "learning_rate", "batch_size", "optimizer", "lr_schedule", "l2", "keep_prob")
OPTIMIZER_KEYS = ("beta", "beta1", "beta2", "epsilon")
TRIAL_KEYS = (*NETWORK_KEYS, *FIT_KEYS, *OPTIMIZER_KEYS, "seed")


def train_network(params, X, Y, X_dev, Y_dev):
    """Build a Network from params (see `build_network`), fit it on (X, Y), score it on
    (X_dev, Y_dev). Returns {"dev_score", "train_score", "dev_cost"}."""
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
    beta2, epsilon (the optimizer's); seed (init, shuffling, dropout)."""
    from .network import Network

    unknown = sorted(set(params) - set(TRIAL_KEYS))
    if unknown:
        raise ValueError(
            f"unknown trial parameter(s) {unknown}; expected some of {list(TRIAL_KEYS)}"
        )
    Y = _label_rows(Y)
    seed = params.get("seed")
    net = Network(
        [np.shape(X)[0], *_hidden_dims(params), Y.shape[0]],
        hidden_activation=params.get("hidden_activation", "relu"),
        output_activation=params.get("output_activation") or _output_activation(Y),
        init=params.get("init", "he"),
        seed=seed,
        batch_norm=params.get("batch_norm", False),
    )
    fit_options = {k: params[k] for k in FIT_KEYS if k in params}
    fit_options.update(optimizer=make_optimizer(params), seed=seed)
    return net, fit_options


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
        return [int(hidden)] * (1 if layers is None else check_int(layers, "layers", 0))
    hidden = list(hidden)
    if layers is not None and layers != len(hidden):
        raise ValueError(f"'layers' = {layers} but 'hidden' lists {len(hidden)} layers: {hidden}")
    return hidden


def _output_activation(Y):
    if np.isin(Y, (0, 1)).all():
        return "softmax" if Y.shape[0] > 1 and (Y.sum(axis=0) == 1).all() else "sigmoid"
    return "linear"


def make_optimizer(params):
    """params["optimizer"] (default "gd") built with the params' beta / beta1 / beta2 / epsilon
    that its class takes (the others are ignored); an instance is copied, never shared."""
    from .optimizers import OPTIMIZERS, get_optimizer

    optimizer = params.get("optimizer", "gd")
    if not isinstance(optimizer, str):
        return copy.deepcopy(get_optimizer(optimizer))
    if optimizer not in OPTIMIZERS:
        get_optimizer(optimizer)  # raises the error that lists the known names
    cls = OPTIMIZERS[optimizer]
    accepted = inspect.signature(cls).parameters
    return cls(**{k: params[k] for k in OPTIMIZER_KEYS if k in params and k in accepted})


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------
class SearchResults(list):
    """The trial rows (dicts), best dev score first (NaN last); `print(results)` shows the table.

    spaces: the space sampled in each round; fixed: the parameters shared by every trial."""

    def __init__(self, rows=(), spaces=(), fixed=None):
        super().__init__(sorted(rows, key=_rank_key))
        self.spaces = list(spaces)
        self.fixed = dict(fixed or {})

    @property
    def best(self):
        """The row with the highest dev score."""
        if not self:
            raise ValueError("no trials")
        return self[0]

    def best_params(self):
        """The best trial's sampled parameters with the fixed ones: what reproduces it."""
        if self.spaces:
            sampled = {name for space in self.spaces for name in space} | {"seed"}
        else:
            sampled = set(self.best) - {"round", "dev_score", "train_score", "dev_cost",
                                        "seconds", "error"}
        return {**self.fixed, **{k: v for k, v in self.best.items() if k in sampled}}

    def columns(self):
        names = []
        for row in self:
            names += [k for k in row if k not in names]
        if not any(row.get("error") for row in self):
            names = [k for k in names if k != "error"]
        return names

    def format_table(self, max_rows=None, columns=None):
        """The rows as an aligned text table, ranked by dev score."""
        columns = self.columns() if columns is None else list(columns)
        rows = self if max_rows is None else self[:max_rows]
        cells = [["rank", *columns]]
        cells += [[str(i + 1), *(_cell(row.get(k)) for k in columns)] for i, row in enumerate(rows)]
        widths = [max(len(r[j]) for r in cells) for j in range(len(cells[0]))]
        lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
        if len(rows) < len(self):
            lines.append(f"... {len(self) - len(rows)} more")
        return "\n".join(lines)

    def __str__(self):
        return self.format_table()


def _rank_key(row):
    score = row.get("dev_score")
    bad = score is None or not math.isfinite(score)
    return (bad, 0.0 if bad else -score)


def _cell(value):
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


# ---------------------------------------------------------------------------------------------
# Search
# ---------------------------------------------------------------------------------------------
def _train_fn_and_fixed(train_fn_or_spec):
    """A callable is the train function; a dict (or None) holds fixed parameters for
    train_network."""
    if train_fn_or_spec is None:
        return train_network, {}
    if isinstance(train_fn_or_spec, dict):
        return train_network, dict(train_fn_or_spec)
    if callable(train_fn_or_spec):
        return train_fn_or_spec, {}
    raise TypeError(
        "train_fn_or_spec must be a function (params, X, Y, X_dev, Y_dev) -> dev score, or a "
        f"dict of fixed parameters for train_network; got {train_fn_or_spec!r}"
    )


def random_search(train_fn_or_spec, space, n_trials, X, Y, X_dev, Y_dev, n_jobs=1, seed=None,
                  progress=True, blas_threads=None):
    """Sample n_trials parameter dicts from `space` and train one model per dict.

    train_fn_or_spec: a function (params, X, Y, X_dev, Y_dev) -> dev score (or dict with
    "dev_score"), or a dict of fixed parameters for `train_network` (e.g. {"epochs": 500,
    "optimizer": "adam"}). space: {name: distribution or list}. n_jobs local processes
    (joblib), blas_threads per process (default cores // workers). Returns SearchResults,
    best dev score first; the same seed gives the same results for any n_jobs."""
    train_fn, fixed = _train_fn_and_fixed(train_fn_or_spec)
    space = check_space(space)
    rows = _search_round(space, n_trials, seed, (X, Y, X_dev, Y_dev), train_fn, fixed,
                         n_jobs=n_jobs, progress=progress, blas_threads=blas_threads)
    return SearchResults(rows, [space], fixed)


def _search_round(space, n_trials, seed, data, train_fn, fixed, **run_options):
    """One round: n_trials sampled from the checked `space` with `seed`, then run_trials
    (run_options: n_jobs, progress, blas_threads, desc). The rows in the trials' order."""
    trials = _sample_trials(space, n_trials, seed, add_seed="seed" not in fixed)
    return run_trials(trials, data, train_fn, fixed, **run_options)


def zoom_space(space, results, zoom=0.25, margin=0.1):
    """The space narrowed to the region of the best trials: each distribution's zoom() over the
    values of the best ceil(zoom x n) trials (at least 2 where there are; NaN scores left out),
    padded by margin x the current width. Distributions without zoom() stay as they are."""
    return _zoom_space(check_space(space), results, zoom, margin)


def _zoom_space(space, results, zoom, margin):
    """zoom_space for a space that check_space has already checked."""
    if not 0 < zoom <= 1:
        raise ValueError(f"zoom must be in (0, 1] (the fraction of best trials kept); got {zoom!r}")
    ranked = sorted(((_rank_key(row), row) for row in results), key=lambda pair: pair[0])
    finite = [row for (bad, _), row in ranked if not bad]
    if not finite:
        raise ValueError("no trial has a finite dev score, so there is no best region to zoom into")
    best = finite[: max(min(2, len(finite)), math.ceil(zoom * len(finite)))]
    return {
        name: dist.zoom([row[name] for row in best], margin) if hasattr(dist, "zoom") else dist
        for name, dist in space.items()
    }


def coarse_to_fine(train_fn_or_spec, space, n_trials, X, Y, X_dev, Y_dev, rounds=2, zoom=0.25,
                   margin=0.1, n_jobs=1, seed=None, progress=True, blas_threads=None):
    """Random search in `rounds` rounds of n_trials: after each round the space is zoomed into
    the region of its best trials (see zoom_space) and sampled again.

    Returns SearchResults over all rounds (each row has its "round", counted from 1); its
    `spaces` holds the space of each round."""
    rounds = check_int(rounds, "rounds", 1)
    train_fn, fixed = _train_fn_and_fixed(train_fn_or_spec)
    space = check_space(space)
    rows, spaces = [], []
    for r, round_seed in enumerate(_seed_sequence(seed).spawn(rounds)):
        spaces.append(space)
        found = _search_round(space, n_trials, round_seed, (X, Y, X_dev, Y_dev), train_fn, fixed,
                              n_jobs=n_jobs, progress=progress, blas_threads=blas_threads,
                              desc=f"round {r + 1}/{rounds}")
        rows += [{"round": r + 1, **row} for row in found]
        if r < rounds - 1:
            space = _zoom_space(space, found, zoom, margin)
    return SearchResults(rows, spaces, fixed)
