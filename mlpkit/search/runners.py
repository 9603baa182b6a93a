"""Running trials: over local processes with joblib, each worker capped to cores // workers
BLAS threads (threadpoolctl), with a tqdm progress bar."""

import numbers

from ..nn.checks import check_int
from .trials import run_trial


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
