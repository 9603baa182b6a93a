"""Random search and coarse to fine, as the notes teach them: sample at random (no grid), on
the scale where each hyperparameter acts, then zoom into the region of the best trials and sample
again."""

import math

import numpy as np

from ..data.checks import check_number
from .distributions import check_space
from .results import SearchResults, _rank_key
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
                  progress=True, blas_threads=None, executor=None, out=None, force=False,
                  device=None, backend=None, dtype=None):
    """Sample n_trials parameter dicts from `space` and train one model per dict.

    train_fn_or_spec: a function (params, X, Y, X_dev, Y_dev) -> dev score (or dict with
    "dev_score"), or a dict of fixed parameters for `train_network` (e.g. {"epochs": 500,
    "optimizer": "adam"}). space: {name: distribution or list}. executor: None (n_jobs local
    processes with joblib), a concurrent.futures.Executor or Dask (a distributed.Client, a
    cluster or a scheduler address); blas_threads per trial (default: the cores of the machine
    it runs on // the trials running there). out: a folder for results.csv (each trial appended
    as it finishes) and search.json; a rerun with the same folder runs only the trials missing
    there (seed None: the recorded one), a different search there is refused unless force.
    device, backend, dtype: each trial trains there (see `run_trials`; on Dask one GPU per
    trial). Returns SearchResults, best dev score first; the same seed gives the same results on any
    executor."""
    return _search("random_search", train_fn_or_spec, space, n_trials, (X, Y, X_dev, Y_dev),
                   rounds=1, zoom=None, margin=None, n_jobs=n_jobs, seed=seed,
                   progress=progress, blas_threads=blas_threads, executor=executor, out=out,
                   force=force, placement=(device, backend, dtype))


def _search(strategy, train_fn_or_spec, space, n_trials, data, rounds, zoom, margin, n_jobs,
            seed, progress, blas_threads, executor, out, force, placement=(None, None, None)):
    """Random search in `rounds` rounds (coarse to fine after each but the last): the rows of
    every round, recorded in `out` if given."""
    from .folder import SearchFolder, fresh_seed
    from .runners import open_runner, run_round
    from .space_file import describe_space

    rounds = check_number(rounds, "rounds", integer=True, min_val=1)
    n_trials = check_number(n_trials, "n_trials", integer=True, min_val=1)
    train_fn, fixed = _train_fn_and_fixed(train_fn_or_spec)
    space = check_space(space)
    if zoom is not None:
        zoom = _check_zoom(zoom)
    device, backend, dtype = placement
    with open_runner(executor, n_jobs, blas_threads, device=device, backend=backend,
                     dtype=dtype) as runner:  # checked before out is
        folder = None
        if out is not None:
            if seed is None:
                seed = SearchFolder.stored_seed(out) if not force else None
                seed = fresh_seed() if seed is None else seed
            folder = SearchFolder(out, _description(strategy, space, fixed, train_fn, data,
                                                    n_trials, rounds, zoom, margin, seed), force)
        record = folder.results if folder else None
        rows, spaces, skipped = [], [], 0
        runner.start(data, train_fn, fixed)
        # random_search samples with the seed itself, as it always has
        seeds = [seed] if strategy == "random_search" else _seed_sequence(seed).spawn(rounds)
        for r, round_seed in enumerate(seeds):
            spaces.append(space)
            if folder:
                folder.record_rounds([describe_space(s) for s in spaces])
            trials = _sample_trials(space, n_trials, round_seed, add_seed="seed" not in fixed)
            desc = "trials" if rounds == 1 else f"round {r + 1}/{rounds}"
            found, done = run_round(runner, trials, record, r + 1, progress, desc)
            skipped += done
            if record is None and strategy == "coarse_to_fine":
                found = [{"round": r + 1, **row} for row in found]
            rows += found
            if r < rounds - 1:
                space = _zoom_space(space, found, zoom, margin)
    return SearchResults(rows, spaces, fixed, skipped=skipped)


def _description(strategy, space, fixed, train_fn, data, n_trials, rounds, zoom, margin, seed):
    """What identifies a search in its output folder (search.json)."""
    from joblib import hash as joblib_hash

    from .space_file import describe_space

    if isinstance(seed, np.random.SeedSequence):
        seed = {"entropy": seed.entropy, "spawn_key": list(seed.spawn_key)}
    name = getattr(train_fn, "__qualname__", type(train_fn).__qualname__)
    return {
        "strategy": strategy, "space": describe_space(space), "fixed": fixed,
        "train_fn": f"{getattr(train_fn, '__module__', '?')}.{name}",
        "data": joblib_hash(data), "n_trials": n_trials, "rounds": rounds, "zoom": zoom,
        "margin": margin, "seed": seed,
    }


def zoom_space(space, results, zoom=0.25, margin=0.1):
    """The space narrowed to the region of the best trials: each distribution's zoom() over the
    values of the best ceil(zoom x n) trials (at least 2 where there are; NaN scores left out),
    padded by margin x the current width. Distributions without zoom() stay as they are."""
    return _zoom_space(check_space(space), results, zoom, margin)


def _check_zoom(zoom):
    return check_number(zoom, "zoom (the fraction of best trials kept)", min_val=0, max_val=1,
                        include_boundaries="right")


def _zoom_space(space, results, zoom, margin):
    """zoom_space for a space that check_space has already checked."""
    zoom = _check_zoom(zoom)
    ranked = sorted(((_rank_key(row), row) for row in results), key=lambda pair: pair[0])
    finite = [row for (bad, _), row in ranked if not bad]
    if not finite:
        errors = [row.get("error") for row in results if row.get("error")]
        first = f"; the first error: {errors[0]}" if errors else ""
        raise ValueError(
            f"no trial has a finite dev score, so there is no best region to zoom into{first}"
        )
    best = finite[: max(min(2, len(finite)), math.ceil(zoom * len(finite)))]
    return {
        name: dist.zoom([row[name] for row in best], margin) if hasattr(dist, "zoom") else dist
        for name, dist in space.items()
    }


def coarse_to_fine(train_fn_or_spec, space, n_trials, X, Y, X_dev, Y_dev, rounds=2, zoom=0.25,
                   margin=0.1, n_jobs=1, seed=None, progress=True, blas_threads=None,
                   executor=None, out=None, force=False, device=None, backend=None, dtype=None):
    """Random search in `rounds` rounds of n_trials: after each round the space is zoomed into
    the region of its best trials (see zoom_space) and sampled again. executor, blas_threads,
    out, force, device, backend and dtype as in random_search (a rerun recomputes each zoom
    from the recorded rows).

    Returns SearchResults over all rounds (each row has its "round", counted from 1); its
    `spaces` holds the space of each round."""
    return _search("coarse_to_fine", train_fn_or_spec, space, n_trials, (X, Y, X_dev, Y_dev),
                   rounds=rounds, zoom=zoom, margin=margin, n_jobs=n_jobs, seed=seed,
                   progress=progress, blas_threads=blas_threads, executor=executor, out=out,
                   force=force, placement=(device, backend, dtype))
