"""Random search and coarse to fine, as the notes teach them: sample at random (no grid), on
the scale where each hyperparameter acts, then zoom into the region of the best trials and sample
again."""

import math

from ..nn.checks import check_int
from .distributions import check_space
from .results import SearchResults, _rank_key
from .runners import run_trials
from .trials import _sample_trials, _seed_sequence, train_network


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
