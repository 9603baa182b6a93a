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

    The same seed gives the same results on any executor. A trial that diverges or raises is
    a row with dev_score NaN and its "error"; the search goes on.

    Parameters
    ----------
    train_fn_or_spec : callable, dict or None
        A function (params, X, Y, X_dev, Y_dev) -> dev score (or a dict with "dev_score"),
        or a dict of fixed parameters for `train_network` (e.g. {"epochs": 500,
        "optimizer": "adam"}); None: `train_network` with no fixed parameters.
    space : dict
        {name: distribution or list of options} (see `check_space`).
    n_trials : int
        The number of trials, >= 1.
    X, Y : array_like
        The training data handed to the train function: X (n_x, m), Y (n_y, m) for
        `train_network`.
    X_dev, Y_dev : array_like
        The dev data it is scored on.
    n_jobs : int, default 1
        Local processes (joblib; -1: all cores; 1 runs the trials in this process).
    seed : int or numpy.random.SeedSequence, optional
        The seed of the sampling; None: fresh (with `out`: the one recorded there).
    progress : bool, default True
        Show a progress bar (tqdm).
    blas_threads : int, optional
        BLAS threads per trial; default the cores of the machine it runs on // the trials
        running there.
    executor : optional
        None (`n_jobs` local processes), a concurrent.futures.Executor, or Dask (a
        distributed.Client, a cluster or a scheduler address).
    out : str or Path, optional
        A folder for results.csv (each trial appended as it finishes) and search.json; a
        rerun with the same folder runs only the trials missing there.
    force : bool, default False
        Discard the results of a different search found in `out` instead of refusing.
    device : str, optional
        Train each trial there ("cpu", "cuda", "cuda:1"; see `run_trials`); on Dask each
        trial asks for one GPU through the workers' resources.
    backend : {"numpy", "torch", "cupy"}, optional
        The array library for `device` (default: torch when installed, else CuPy).
    dtype : str, optional
        The trials' float dtype (default float32 on a GPU).

    Returns
    -------
    results : SearchResults
        One row per trial (its parameters, metrics, "seconds" and "error"), best dev score
        first.

    Raises
    ------
    TypeError
        If `train_fn_or_spec` or `executor` is of none of the kinds above.
    ValueError
        If `n_trials`, `n_jobs` or `blas_threads` is out of range, the space is invalid, or
        `out` holds another search (a SearchFolderMismatch) and not `force`.

    Examples
    --------
    >>> from mlpkit.search import LogUniform
    >>> def closeness(params, X, Y, X_dev, Y_dev):     # a stand-in for training: best at 0.01
    ...     return -abs(np.log10(params["learning_rate"]) + 2)
    >>> results = random_search(closeness, {"learning_rate": LogUniform(-4, 0)}, 6,
    ...                         None, None, None, None, seed=0, progress=False)
    >>> print(results.format_table(max_rows=2, columns=["learning_rate", "dev_score"]))
    rank  learning_rate  dev_score
       1       0.002846    -0.5457
       2          0.155      -1.19
    ... 4 more
    """
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
    padded by margin x the current width. Distributions without zoom() stay as they are.

    Parameters
    ----------
    space : dict
        The space the trials were sampled from, {name: distribution or list of options}.
    results : iterable of dict
        The trial rows, each with "dev_score" and a value for every name of `space`.
    zoom : float, default 0.25
        The fraction of the trials kept, in (0, 1].
    margin : float, default 0.1
        The padding on each side, a fraction in [0, 1] of each distribution's current width.

    Returns
    -------
    space : dict
        {name: the zoomed distribution}.

    Raises
    ------
    ValueError
        If no trial has a finite dev score, `zoom` or `margin` is out of range, or the space
        is invalid.
    """
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

    Parameters
    ----------
    train_fn_or_spec : callable, dict or None
        The train function, or fixed parameters for `train_network` (as in random_search).
    space : dict
        {name: distribution or list of options}, the first round's space.
    n_trials : int
        The trials per round, >= 1.
    X, Y : array_like
        The training data handed to the train function.
    X_dev, Y_dev : array_like
        The dev data it is scored on.
    rounds : int, default 2
        The number of rounds, >= 1.
    zoom : float, default 0.25
        The fraction of a round's best trials the next round zooms into (see zoom_space).
    margin : float, default 0.1
        The padding of each zoom (see zoom_space).
    n_jobs : int, default 1
        Local processes, as in random_search.
    seed : int or numpy.random.SeedSequence, optional
        The seed of the sampling (each round gets its own, spawned from it).
    progress : bool, default True
        Show a progress bar per round.
    blas_threads : int, optional
        BLAS threads per trial, as in random_search.
    executor : optional
        Where the trials run, as in random_search.
    out : str or Path, optional
        The output folder, as in random_search.
    force : bool, default False
        Discard a different search found in `out`.
    device, backend, dtype : optional
        Where and in which dtype the trials train, as in random_search.

    Returns
    -------
    results : SearchResults
        The rows of all rounds (each with its "round", counted from 1), best first; its
        `spaces` holds the space of each round.

    Raises
    ------
    TypeError, ValueError
        As random_search; ValueError also if `rounds` or `zoom` is out of range, or a round
        but the last has no finite dev score to zoom into.
    """
    return _search("coarse_to_fine", train_fn_or_spec, space, n_trials, (X, Y, X_dev, Y_dev),
                   rounds=rounds, zoom=zoom, margin=margin, n_jobs=n_jobs, seed=seed,
                   progress=progress, blas_threads=blas_threads, executor=executor, out=out,
                   force=force, placement=(device, backend, dtype))
