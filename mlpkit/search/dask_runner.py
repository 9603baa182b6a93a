"""Trials on a Dask cluster (the optional extra `mlpkit[dask]`: dask and distributed).

The data is scattered to every worker once (`client.scatter(..., broadcast=True)`) and each
trial is a task that takes it by reference. Trials come back as they finish
(`distributed.as_completed`). A worker that dies costs only the trials it was running: the
scheduler runs them again on other workers (a trial that kills `distributed.scheduler.
allowed-failures` workers in a row is recorded as failed). Each trial caps its BLAS threads to
its own machine's cores divided by the worker threads on that machine.

Start a cluster with `dask scheduler` on one machine and `dask worker tcp://HOST:8786
--nthreads 1 --nworkers K` on each machine (K = its cores, for one BLAS thread per trial), then
pass the address, a `distributed.Client` or a cluster object as `executor`.
"""

from __future__ import annotations

import math
import uuid

from .runners import _Runner
from .trials import _one_line, execute_trial, this_process, tune_malloc

CONNECT_TIMEOUT = 10  # seconds to wait for a scheduler


class SchedulerUnreachable(OSError):
    """The Dask scheduler at the given address did not answer in time."""


def import_distributed():
    """The distributed module, or an ImportError that says how to install it."""
    try:
        import distributed
    except ImportError as e:
        raise ImportError(
            "running trials on Dask needs dask and distributed: "
            "pip install 'mlpkit[dask]'" + (f" ({e})" if e.name != "distributed" else "")
        ) from e
    return distributed


def connect(address, timeout=CONNECT_TIMEOUT):
    """A distributed.Client connected to the scheduler at `address` ("tcp://host:8786") that
    has at least one worker, or SchedulerUnreachable after `timeout` seconds (for each); a
    ValueError for an address that isn't one."""
    distributed = import_distributed()
    if not isinstance(timeout, (int, float)) or not timeout > 0 or not math.isfinite(timeout):
        raise ValueError(f"timeout must be a number of seconds > 0; got {timeout!r}")
    from distributed.comm.addressing import parse_address, parse_host_port

    try:  # before Client(), which leaves a half-made client behind on a bad address
        scheme, location = parse_address(address)
        if scheme in ("tcp", "tls"):
            parse_host_port(location)
    except (ValueError, TypeError) as e:
        raise ValueError(
            f"not a Dask scheduler address: {address!r} ({_one_line(e)}); expected e.g. "
            "tcp://host:8786"
        ) from None
    try:
        client = distributed.Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as e:
        raise SchedulerUnreachable(
            f"cannot reach the Dask scheduler at {address}: {_one_line(e)}"
        ) from None
    try:
        client.wait_for_workers(1, timeout=timeout)
    except (OSError, TimeoutError):
        client.close()
        raise SchedulerUnreachable(
            f"the Dask scheduler at {address} has no workers (waited {timeout:g} s); start "
            f"some with: dask worker {address}"
        ) from None
    return client


def threads_per_host(client):
    """{host: worker threads on that host} over the workers the scheduler knows now (from
    client.nthreads(): scheduler_info() lists only 5 workers in some distributed versions)."""
    from distributed.comm import get_address_host

    hosts = {}
    for address, nthreads in client.nthreads().items():
        host = get_address_host(address)
        hosts[host] = hosts.get(host, 0) + int(nthreads)
    return hosts


def blas_cap(cores, host_threads):
    """BLAS threads per trial so that worker threads x BLAS threads <= the machine's cores."""
    return max(1, cores // max(1, host_threads))


def dask_trial(index, params, data, train_fn, fixed, blas_threads, hosts, caller=None):
    """One trial on a Dask worker: (index, row, status, the worker's address). blas_threads
    None: this machine's cores // the worker threads on its host (hosts, from the client; a
    host it doesn't list, a worker that joined later, gets 1). caller: (host, pid) of the
    process that submitted it; a worker inside that process (LocalCluster(processes=False))
    leaves its malloc settings alone."""
    from distributed import get_worker
    from distributed.comm import get_address_host
    from joblib import cpu_count

    worker = get_worker()
    tune_malloc(caller)
    data = _aligned(data)
    if blas_threads is None:
        host = get_address_host(worker.address)
        blas_threads = blas_cap(cpu_count(), hosts[host]) if host in hosts else 1
    row, status = execute_trial(params, data, train_fn, fixed, blas_threads)
    return index, row, status, worker.address


_ALIGNED = {}  # id(scattered data) -> (that data, its aligned copy): the last one, per worker


def _aligned(data):
    """The scattered data with every array aligned: Dask may deserialize an array at an
    unaligned offset of its network frame, which made trials 2x slower. The copy is made once
    per worker and data."""
    import numpy as np

    arrays = [a for a in data if isinstance(a, np.ndarray)] if isinstance(data, tuple) else []
    if all(a.flags.aligned for a in arrays):
        return data
    hit = _ALIGNED.get(id(data))
    if hit is None or hit[0] is not data:
        _ALIGNED.clear()
        copy = tuple(np.array(a, order="K") if isinstance(a, np.ndarray) and not a.flags.aligned
                     else a for a in data)
        hit = _ALIGNED[id(data)] = (data, copy)
    return hit[1]


class DaskRunner(_Runner):
    """Trials as tasks on a Dask cluster: executor is a distributed.Client, a cluster object
    or a scheduler address (connected with CONNECT_TIMEOUT and closed at the end)."""

    def __init__(self, executor, blas_threads=None, retries=2, timeout=CONNECT_TIMEOUT):
        distributed = import_distributed()
        self.retries = retries
        self.blas_threads = blas_threads
        self._own = not isinstance(executor, distributed.Client)
        if isinstance(executor, str):
            self.client = connect(executor, timeout)
        elif isinstance(executor, distributed.deploy.Cluster):
            self.client = distributed.Client(executor, set_as_default=False)
        else:
            self.client = executor
        self._data = None

    def start(self, data, train_fn, fixed):
        self.train_fn, self.fixed = train_fn, fixed
        # a list of one item: the data as one object on each worker
        self._data = self.client.scatter([data], broadcast=True, hash=False)[0]

    def close(self):
        if self._data is not None:
            self._data.release()
            self._data = None
        if self._own:
            self.client.close()

    def run(self, tasks):
        """Yields (index, row, status, worker) for each (index, params, label) as it finishes;
        the tasks still running when the caller stops are cancelled."""
        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        if not tasks:
            return
        hosts = threads_per_host(self.client)
        run = uuid.uuid4().hex[:8]
        futures = {}
        for index, params, label in tasks:
            future = self.client.submit(
                dask_trial, index, params, self._data, self.train_fn, self.fixed,
                self.blas_threads, hosts, this_process(), key=f"mlpkit-{label}-{run}",
                pure=False, retries=self.retries,
            )
            futures[future] = (index, params)
        try:
            for future in as_completed(futures, loop=self.client.loop):
                try:
                    yield future.result()
                except KilledWorker as e:
                    index, params = futures[future]
                    row = {**params, "dev_score": math.nan, "seconds": math.nan,
                           "error": f"KilledWorker: {_one_line(e)}"}
                    yield index, row, "failed", ""
        finally:
            self.client.cancel([f for f in futures if not f.done()])
