"""Trials on a Dask cluster (the optional extra `mlpkit[dask]`: dask and distributed), run by
the futures runner (`runners.FuturesRunner`) through Dask's own concurrent.futures executor,
`client.get_executor()`. Trials are submitted as they are there and come back as they finish.

What Dask needs beyond any executor lives here (this module imports nothing of `runners`):

- the data is scattered to every worker once (`client.scatter(..., broadcast=True)`) and each
  trial takes it by reference; each worker aligns its copy once (`_aligned`);
- each trial caps its BLAS threads to its own machine's cores divided by the worker threads on
  that machine (`threads_per_host`, from the client);
- a worker that dies costs only the trials it was running: the scheduler runs them again on
  other workers, and a trial that kills `distributed.scheduler.allowed-failures` workers in a
  row (`KilledWorker`) is recorded as failed;
- each trial is a task named after its key in the results file, so that tasks never merge.

Start a cluster with `dask scheduler` on one machine and `dask worker tcp://HOST:8786
--nthreads 1 --nworkers K` on each machine (K = its cores, for one BLAS thread per trial), then
pass the address, a `distributed.Client`, a cluster object or `client.get_executor()` as
`executor`.
"""

from __future__ import annotations

import uuid

from ..data.checks import check_number, one_line
from .trials import execute_trial, tune_malloc

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
    timeout = check_number(timeout, "timeout", min_val=0, include_boundaries="neither")
    from distributed.comm.addressing import parse_address, parse_host_port

    try:  # before Client(), which leaves a half-made client behind on a bad address
        scheme, location = parse_address(address)
        if scheme in ("tcp", "tls"):
            parse_host_port(location)
    except (ValueError, TypeError) as e:
        raise ValueError(
            f"not a Dask scheduler address: {address!r} ({one_line(e)}); expected e.g. "
            "tcp://host:8786"
        ) from None
    try:
        client = distributed.Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as e:
        raise SchedulerUnreachable(
            f"cannot reach the Dask scheduler at {address}: {one_line(e)}"
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


def check_gpu_workers(client, device="cuda"):
    """The addresses of the workers that offer a "GPU" resource (started with `--resources
    GPU=1`); a ValueError at once when none does, instead of trials that wait forever."""
    try:
        info = client.scheduler_info(n_workers=-1)  # every worker, not the first 5
    except TypeError:  # distributed before the n_workers argument
        info = client.scheduler_info()
    found = [address for address, worker in info["workers"].items()
             if (worker.get("resources") or {}).get("GPU", 0) >= 1]
    if not found:
        raise ValueError(
            f"device={device!r}: each trial asks a Dask worker for one GPU (resources "
            f"{{'GPU': 1}}), and none of the cluster's {len(info['workers'])} workers offers "
            "one; start one worker per GPU with: CUDA_VISIBLE_DEVICES=N dask worker ADDRESS "
            "--nthreads 1 --resources GPU=1")
    return found


def dask_executor(executor, retries=2):
    """(client.get_executor(), the client to close when done or None) for `executor`: a
    distributed.Client (left open), a cluster object or a scheduler address (a client made here,
    connected with CONNECT_TIMEOUT). retries: how often Dask reruns a task that raised."""
    distributed = import_distributed()
    retries = check_number(retries, "retries", integer=True, min_val=0)
    if isinstance(executor, distributed.Client):
        client, own = executor, None
    elif isinstance(executor, distributed.deploy.Cluster):
        client = own = distributed.Client(executor, set_as_default=False)
    else:
        client = own = connect(executor)
    return client.get_executor(pure=False, retries=retries), own


class DaskWorkers:
    """The Dask side of running trials through `executor`, a `client.get_executor()`: the data
    scattered once, the trial function, its BLAS caps, its task names, the error that means its
    workers died."""

    def __init__(self, executor):
        from distributed.scheduler import KilledWorker

        self.client = executor._client  # where ClientExecutor keeps it (no public attribute)
        self.lost = (KilledWorker,)  # the trial's workers died allowed-failures times
        self.task = dask_trial
        self.run = uuid.uuid4().hex[:8]
        self._data = None

    def scatter(self, data):
        """The data on every worker, once: the reference that trials take."""
        # a list of one item: the data as one object on each worker
        self._data = self.client.scatter([data], broadcast=True, hash=False)[0]
        return self._data

    def release(self):
        if self._data is not None:
            self._data.release()
            self._data = None

    def blas(self, blas_threads):
        """What dask_trial takes: blas_threads, or {host: worker threads there} (now)."""
        return blas_threads or threads_per_host(self.client)

    def options(self, label):
        """client.submit's options for the trial with results-file key `label`."""
        return {"key": f"mlpkit-{label}-{self.run}"}


def dask_trial(index, params, data, train_fn, fixed, blas, caller=None):
    """One trial on a Dask worker: (index, row, status, the worker's address). blas: the BLAS
    threads, or {host: worker threads on it}, for this machine's cores // the worker threads on
    its host (a host it doesn't list, a worker that joined later, gets 1). caller: (host, pid)
    of the process that submitted it; a worker inside that process
    (LocalCluster(processes=False)) leaves its malloc settings alone."""
    from distributed import get_worker
    from distributed.comm import get_address_host
    from joblib import cpu_count

    worker = get_worker()
    tune_malloc(caller)
    data = _aligned(data)
    if isinstance(blas, dict):
        host = get_address_host(worker.address)
        blas = blas_cap(cpu_count(), blas[host]) if host in blas else 1
    row, status = execute_trial(params, data, train_fn, fixed, blas)
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
