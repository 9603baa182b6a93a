"""Running trials on an executor: local processes (joblib, the default), or any
`concurrent.futures.Executor`, Dask's included (a `distributed.Client`, a cluster or a
scheduler address runs on `client.get_executor()`; what Dask needs beyond that is in
`dask_runner`). Results come back as trials finish, with a tqdm bar that advances per trial;
with a results file each finished trial is appended at once and a rerun skips the trials
already there. Every runner caps each trial's BLAS threads (threadpoolctl) to the cores of the
machine it runs on divided by the trials running there at once."""

from __future__ import annotations

import concurrent.futures
import math
import os
import shutil
import socket
import sys
import tempfile
from pathlib import Path

from ..data.checks import ParameterError, check_number, one_line
from ..nn.backend import is_sparse, to_numpy
from ..training import devices
from ..training.devices import on_gpu
from .results_file import ResultsFile, trial_key
from .trials import execute_trial, this_process, tune_malloc


def run_trials(trials, data, train_fn=None, fixed=None, n_jobs=1, progress=True,
               blas_threads=None, desc="trials", executor=None, results_file=None,
               round_number=1, retries=2, device=None, backend=None, dtype=None):
    """Run one trial per parameter dict (see `run_trial`) on an executor.

    Parameters
    ----------
    trials : list of dict
        The parameter dicts, e.g. from `sample_trials`.
    data : tuple
        (X, Y, X_dev, Y_dev), sent to the workers once.
    train_fn : callable, optional
        train_fn(params, X, Y, X_dev, Y_dev) -> the dev score or a dict with "dev_score"
        (default: `train_network`).
    fixed : dict, optional
        Parameters every trial takes (the trial's own win).
    n_jobs : int, default 1
        Local processes for executor None (-1: all cores); 1 runs the trials in this process.
    progress : bool, default True
        Show a tqdm bar that advances per trial.
    blas_threads : int, optional
        BLAS threads per trial (default: the cores of the machine a trial runs on // the
        trials running there at once).
    desc : str, default "trials"
        The progress bar's label.
    executor : None, "processes", concurrent.futures.Executor, distributed.Client, cluster or str
        None or "processes": n_jobs local processes (joblib); an Executor; or Dask: a
        distributed.Client, a cluster, or a scheduler address such as "tcp://host:8786".
    results_file : path or ResultsFile, optional
        Each finished trial is appended as round `round_number`; trials already recorded there
        are not run again, and the rows come back as the file holds them (with round, trial,
        status, worker, ...).
    round_number : int, default 1
        The round the trials are recorded as.
    retries : int, default 2
        How often Dask reruns a task that raised.
    device : str, optional
        Where each trial trains ("cpu", "cuda", "cuda:N", "mps"): the data are moved there
        (once per worker process) in `dtype` and the engine follows them. On Dask a trial on a
        GPU asks its worker for one through worker resources (resources={"GPU": 1}) and trains
        on "cuda": start one worker per GPU with `CUDA_VISIBLE_DEVICES=N dask worker ADDRESS
        --nthreads 1 --resources GPU=1`. Local processes share the one device one trial at a
        time (n_jobs must be 1).
    backend : {"numpy", "torch", "cupy"}, optional
        The array library on that device (default: see `mlpkit.nn.backend.backend_for`).
    dtype : {"float32", "float64"}, optional
        The precision there (default: float64 on the host, float32 on GPUs).

    Returns
    -------
    list of dict
        One row per trial, in the order of `trials`: {**params, **metrics, "seconds",
        "error"}.

    Raises
    ------
    ValueError
        For a device no worker can train on: local processes with n_jobs != 1 on a GPU, or a
        Dask cluster none of whose workers offers a GPU resource (at once, not after a wait).
    """
    with open_runner(executor, n_jobs, blas_threads, retries, device=device, backend=backend,
                     dtype=dtype) as runner:
        runner.start(data, train_fn, fixed)
        rows, _ = run_round(runner, trials, results_file, round_number, progress, desc)
    return rows


def run_round(runner, trials, results_file, round_number, progress, desc):
    """The rows of `trials` run on an open runner, in the order of `trials`, and how many were
    already in results_file (those are not run again)."""
    from tqdm.auto import tqdm

    record = ResultsFile(results_file) if isinstance(results_file, (str, os.PathLike)) \
        else results_file
    done = {}
    if record is not None:
        for index, params in enumerate(trials):
            row = record.get(trial_key(round_number, index, params))
            if row is not None:
                done[index] = row
    skipped = len(done)
    labels = {i: trial_key(round_number, i, p) for i, p in enumerate(trials) if i not in done}
    pending = [(i, trials[i], label) for i, label in labels.items()]
    with tqdm(total=len(trials), initial=skipped, desc=desc, unit="trial",
              disable=not progress) as bar:
        for index, row, status, worker in runner.run(pending):
            if record is not None:
                row = record.record(round_number, index, trials[index], row, status, worker)
            done[index] = row
            bar.update(1)
    return [done[i] for i in range(len(trials))], skipped


def open_runner(executor=None, n_jobs=1, blas_threads=None, retries=2, device=None,
                backend=None, dtype=None):
    """The runner for `executor` (see run_trials), a context manager: start(data, train_fn,
    fixed) sends the data to the workers once, run(tasks) yields (index, row, status, worker)
    as trials finish, leaving it closes what it opened. device, backend, dtype: where the
    trials train (see run_trials)."""
    if blas_threads is not None:
        blas_threads = check_number(blas_threads, "blas_threads", integer=True, min_val=1)
    local = executor is None or (isinstance(executor, str) and executor == "processes")
    placement = None
    if (device, backend, dtype) != (None, None, None):
        # now, rather than as a failed row per trial
        devices.check_placement(device, backend, dtype, here=local)
        placement = (device, backend, dtype)
    if local:
        return LocalProcesses(n_jobs, blas_threads, placement)
    if isinstance(executor, concurrent.futures.Executor):
        return FuturesRunner(executor, blas_threads, placement=placement)
    if isinstance(executor, str) or _is_dask(executor):
        from .dask_runner import dask_executor

        executor, own_client = dask_executor(executor, retries)
        try:
            return FuturesRunner(executor, blas_threads, closing=own_client, placement=placement)
        except BaseException:
            if own_client is not None:
                own_client.close()
            raise
    raise TypeError(
        "executor must be None or 'processes' (local processes), a concurrent.futures.Executor, "
        "a distributed.Client or cluster, or a Dask scheduler address like 'tcp://host:8786'; "
        f"got {executor!r}"
    )


def _is_dask(obj):
    """A distributed.Client or cluster (Dask is imported only where the caller did)."""
    distributed = sys.modules.get("distributed")
    return distributed is not None and isinstance(obj, (distributed.Client,
                                                        distributed.deploy.Cluster))


def _is_dask_executor(executor):
    """Dask's concurrent.futures executor, `client.get_executor()`."""
    cfexecutor = sys.modules.get("distributed.cfexecutor")
    return cfexecutor is not None and isinstance(executor, cfexecutor.ClientExecutor)


def _local_worker():
    return f"{socket.gethostname()}:{os.getpid()}"


def _local_task(index, params, data, train_fn, fixed, blas_threads, caller=None):
    tune_malloc(caller)  # in a worker process only
    row, status = execute_trial(params, data, train_fn, fixed, blas_threads)
    return index, row, status, _local_worker()


class OnDevice:
    """A trial function that trains on a device: the trial's arrays (X, Y, X_dev, Y_dev) are
    moved there in the device's dtype, once per process and data, and `train_fn` gets them
    (`Network.fit` follows its input); its metrics come back as host values."""

    _last = None  # (the data last moved in this process, where to, its copies there)

    def __init__(self, train_fn, device, backend=None, dtype=None):
        self.train_fn, self.where = train_fn, (device, backend, dtype)

    def __call__(self, params, *data):
        out = self.train_fn(params, *self._moved(data))
        if isinstance(out, dict):
            return {k: _host_value(v) for k, v in out.items()}
        return _host_value(out)

    def _moved(self, data):
        last = OnDevice._last
        if last is None or last[1] != self.where or any(
                a is not b for a, b in zip(last[0], data, strict=True)):
            b, dtype = devices.placement(*self.where)
            moved = tuple(b.asarray(a, dtype) if hasattr(a, "shape") and not is_sparse(a)
                          else a for a in data)
            last = OnDevice._last = (data, self.where, moved)
        return last[2]


def _host_value(value):
    """A metric as a host value (a 0-d device array as a NumPy one)."""
    return to_numpy(value) if hasattr(value, "shape") and hasattr(value, "dtype") else value


class _Runner:
    placement = None  # (device, backend, dtype) where the trials train, or None: the host

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def start(self, data, train_fn, fixed):
        if self.placement is not None:
            from .trials import train_network

            train_fn = OnDevice(train_fn or train_network, *self.placement)
        self.data, self.train_fn, self.fixed = data, train_fn, fixed

    def close(self):
        """Release what `start` took (nothing, unless a runner says otherwise)."""


class LocalProcesses(_Runner):
    """n_jobs local processes (joblib's loky, reused between rounds), each trial capped to
    cores // processes BLAS threads; n_jobs=1 runs the trials in this process. On a GPU
    (placement) the trials share the one device, one at a time: n_jobs must be 1."""

    def __init__(self, n_jobs=1, blas_threads=None, placement=None):
        self.n_jobs = check_number(n_jobs, "n_jobs", integer=True)
        if self.n_jobs == 0:
            raise ParameterError("n_jobs must be a nonzero integer (-1 = all cores); got 0")
        self.blas_threads, self.placement = blas_threads, placement
        if placement is not None and on_gpu(placement[0]) and self.n_jobs != 1:
            raise ParameterError(
                f"device={placement[0]!r}: local trials share the one device, one at a time; "
                f"n_jobs must be 1 (got {self.n_jobs}). For parallel trials, run them on a Dask "
                "cluster with one worker per GPU (see run_trials)")

    def run(self, tasks):
        from joblib import Parallel, cpu_count, delayed, effective_n_jobs

        if not tasks:
            return
        workers = max(1, min(effective_n_jobs(self.n_jobs), len(tasks)))
        # loky caps its workers alike, but only for *_NUM_THREADS variables unset in this process
        blas = self.blas_threads or max(1, cpu_count() // workers)
        caller = this_process()
        jobs = (delayed(_local_task)(i, p, self.data, self.train_fn, self.fixed, blas, caller)
                for i, p, _ in tasks)
        yield from Parallel(n_jobs=workers, return_as="generator_unordered")(jobs)


class FuturesRunner(_Runner):
    """Any concurrent.futures.Executor, Dask's `client.get_executor()` included: every trial
    submitted at once, the rows yielded as trials finish, the rest cancelled if the caller
    stops. Where the data goes and how a trial caps BLAS depend on where the workers are:

    - a thread pool shares the data and one process-wide cap, cores // threads;
    - Dask scatters the data to every worker once and caps each trial to its machine's cores //
      the worker threads on that host; a trial whose workers kept dying is a failed row (see
      `dask_runner`);
    - other executors get the data once as a file each worker process memory-maps (so their
      workers must share this machine's file system), each trial capped to its machine's cores
      // the executor's max_workers (1 if it doesn't say).

    closing: something to close with the runner (the Dask client made for an address).
    placement: (device, backend, dtype) where the trials train; on Dask, a GPU device makes
    each trial ask for one GPU (resources={"GPU": 1}), and a cluster without a worker that
    offers one is a ValueError at once."""

    def __init__(self, executor, blas_threads=None, closing=None, placement=None):
        self.executor, self.blas_threads, self.closing = executor, blas_threads, closing
        self.placement = placement
        self.threads = isinstance(executor, concurrent.futures.ThreadPoolExecutor)
        self.dask = None
        self.resources = None
        if _is_dask_executor(executor):
            from .dask_runner import DaskWorkers, check_gpu_workers

            self.dask = DaskWorkers(executor)
            if placement is not None and on_gpu(placement[0]):
                check_gpu_workers(self.dask.client, placement[0])
                self.resources = {"GPU": 1}
        self.folder = None

    def start(self, data, train_fn, fixed):
        super().start(data, train_fn, fixed)
        if self.dask is not None:
            self.data = self.dask.scatter(data)
        elif not self.threads:
            import joblib

            self.folder = tempfile.mkdtemp(prefix="mlpkit-search-")
            path = Path(self.folder) / "data.joblib"
            joblib.dump(data, path)
            self.data = DataFile(str(path))

    def close(self):
        try:
            if self.dask is not None:
                self.dask.release()
            if self.folder is not None:
                shutil.rmtree(self.folder, ignore_errors=True)
                self.folder = None
        finally:
            if self.closing is not None:
                self.closing.close()

    def run(self, tasks):
        from joblib import cpu_count
        from threadpoolctl import threadpool_limits

        if not tasks:
            return
        # ProcessPoolExecutor, ThreadPoolExecutor and loky's executor keep it there
        workers = getattr(self.executor, "_max_workers", None)
        if self.dask is not None:
            yield from self._collect(tasks, self.dask.blas(self.blas_threads))
        elif self.threads:
            cap = self.blas_threads or max(1, cpu_count() // min(workers or 1, len(tasks)))
            with threadpool_limits(limits=cap):
                yield from self._collect(tasks, None)
        else:
            # cores // workers on the worker's machine; 1 where the executor doesn't say
            yield from self._collect(tasks, self.blas_threads or (-workers if workers else 1))

    def _collect(self, tasks, blas):
        task, lost = (_futures_task, ()) if self.dask is None else (self.dask.task, self.dask.lost)
        caller = this_process()
        futures = {}
        for index, params, label in tasks:
            options = {} if self.dask is None else self.dask.options(label)
            if self.resources is not None:
                options["resources"] = self.resources
            future = self.executor.submit(task, index, params, self.data, self.train_fn,
                                          self.fixed, blas, caller, **options)
            futures[future] = index, params
        try:
            for future in concurrent.futures.as_completed(futures):
                try:
                    yield future.result()
                except lost as e:
                    index, params = futures[future]
                    row = {**params, "dev_score": math.nan, "seconds": math.nan,
                           "error": f"{type(e).__name__}: {one_line(e)}"}
                    yield index, row, "failed", ""
        finally:
            for future in futures:
                future.cancel()


def _futures_task(index, params, data, train_fn, fixed, blas, caller):
    """A trial on a concurrent.futures worker: data may be a DataFile; blas < 0 means
    "cores // -blas", computed on the machine the trial runs on."""
    from joblib import cpu_count

    if isinstance(data, DataFile):
        data = data.load()
    if blas is not None and blas < 0:
        blas = max(1, cpu_count() // -blas)
    return _local_task(index, params, data, train_fn, fixed, blas, caller)


class DataFile:
    """The search data in a joblib file, memory-mapped once per worker process."""

    _cache = {}  # path -> data, the last one loaded in this process

    def __init__(self, path):
        self.path = path

    def load(self):
        if self.path not in DataFile._cache:
            import joblib

            DataFile._cache.clear()
            DataFile._cache[self.path] = joblib.load(self.path, mmap_mode="r")
        return DataFile._cache[self.path]
