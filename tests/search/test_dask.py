"""Trials on real Dask clusters: a LocalCluster of two worker processes, and a `dask scheduler`
with two `dask worker` processes on 127.0.0.1. The same seed gives the local results, the data
goes to each worker once, BLAS is capped from the worker's machine, a failed trial is a row,
a killed worker costs only its running trials, and scikit-learn runs on Dask through joblib."""

import os
import socket
import sys
import threading
import time
from functools import partial

import distributed
import numpy as np
import psutil
import pytest
from dask_cluster import DaskProcesses

from mlpkit.search import (
    IntUniform,
    LogUniform,
    OneMinusLogUniform,
    coarse_to_fine,
    random_search,
    run_trials,
)
from mlpkit.search.dask_runner import (
    SchedulerUnreachable,
    blas_cap,
    connect,
    threads_per_host,
)
from mlpkit.search.results_file import ResultsFile

SPACE = {"learning_rate": LogUniform(-3, -1), "hidden": IntUniform(4, 24),
         "beta1": OneMinusLogUniform(-2, -1)}
FIXED = {"epochs": 8, "optimizer": "adam", "batch_size": 64}


def scores(results):
    return [(row["seed"], row["dev_score"]) for row in results]


def what_a_worker_sees(params, X, Y, X_dev, Y_dev):
    """Whether X is the very object the worker holds in memory (the scattered data or the
    worker's one aligned copy of it, not a copy sent with the task), whether it is aligned,
    and the BLAS threads the trial runs with."""
    from threadpoolctl import threadpool_info

    from mlpkit.search import dask_runner

    stored = [v for v in distributed.get_worker().data.values() if isinstance(v, tuple) and v]
    copies = [copy for data, copy in dask_runner._ALIGNED.values()
              if any(data is v for v in stored)]
    blas = max(p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas")
    return {"dev_score": 0.0, "shared": any(X is data[0] for data in stored + copies),
            "aligned": X.flags.aligned, "blas_threads": blas}


def fails_on_odd_hidden(params, X, Y, X_dev, Y_dev):
    if params["hidden"] % 2:
        raise ValueError(f"odd hidden {params['hidden']}")
    return params["hidden"] / 100


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_local_cluster_gives_the_local_results(local_cluster, digits):
    local = coarse_to_fine(FIXED, SPACE, 8, *digits, rounds=2, seed=11, progress=False)
    on_dask = coarse_to_fine(FIXED, SPACE, 8, *digits, rounds=2, seed=11, progress=False,
                             executor=local_cluster)
    assert len(local) == 16 and scores(on_dask) == scores(local)
    assert len({row["dev_score"] for row in local}) > 4
    assert local_cluster.status == "running"  # a client we were given stays open


@pytest.mark.parametrize("as_executor", [False, True], ids=["client", "client.get_executor()"])
def test_each_worker_gets_the_data_once_and_caps_blas_from_its_machine(local_cluster,
                                                                       as_executor):
    from joblib import cpu_count

    X = np.random.default_rng(0).random((64, 3000))
    executor = local_cluster.get_executor() if as_executor else local_cluster
    rows = run_trials([{"i": i} for i in range(8)], (X, None, None, None), what_a_worker_sees,
                      progress=False, executor=executor, results_file=None)
    assert all(row["shared"] and row["aligned"] for row in rows)
    # two one-thread workers on this host: cores // 2 BLAS threads each
    assert {row["blas_threads"] for row in rows} == {blas_cap(cpu_count(), 2)}
    assert threads_per_host(local_cluster) == {"127.0.0.1": 2}
    assert blas_cap(16, 4) == 4 and blas_cap(2, 2) == 1 and blas_cap(2, 8) == 1


class SixWorkerClient:
    """A client with 6 one-thread workers on one host and a 4-thread one on another, whose
    scheduler_info() lists only 5 workers (as distributed 2025.4 to mid-2026 do)."""

    def nthreads(self):
        workers = {f"tcp://10.0.0.1:{4000 + i}": 1 for i in range(6)}
        return {**workers, "tcp://10.0.0.2:4000": 4}

    def scheduler_info(self):
        workers = list(self.nthreads().items())[:5]
        return {"workers": {address: {"nthreads": n} for address, n in workers}}


def test_threads_per_host_counts_every_worker():
    assert threads_per_host(SixWorkerClient()) == {"10.0.0.1": 6, "10.0.0.2": 4}


def test_in_process_workers_leave_the_callers_malloc_alone(tmp_path):
    from mlpkit.search import trials

    cluster = distributed.LocalCluster(n_workers=6, threads_per_worker=1, processes=False,
                                       dashboard_address=None, local_directory=tmp_path)
    before = list(trials._MALLOC_TUNED)
    trials._MALLOC_TUNED.clear()
    try:
        with distributed.Client(cluster, set_as_default=False) as client:
            assert list(threads_per_host(client).values()) == [6]
        rows = run_trials([{"i": i} for i in range(6)], (np.ones((2, 3)), None, None, None),
                          what_a_worker_sees, progress=False, executor=cluster)
        assert len(rows) == 6 and all(row["shared"] for row in rows)
        assert trials._MALLOC_TUNED == []  # the trials ran in this process: never tuned here
    finally:
        trials._MALLOC_TUNED[:] = before
        cluster.close()


def test_failed_trials_on_dask_are_rows(local_cluster, tmp_path):
    results = random_search(fails_on_odd_hidden, {"hidden": IntUniform(1, 9)}, 10,
                            None, None, None, None, seed=0, progress=False,
                            executor=local_cluster, out=tmp_path)
    failed = [row for row in results if row["status"] == "failed"]
    assert failed and len(failed) < 10
    assert all(row["status"] == ("failed" if row["hidden"] % 2 else "ok") for row in results)
    assert all(row["error"] == f"ValueError: odd hidden {row['hidden']}" for row in failed)
    workers = set(local_cluster.scheduler_info()["workers"])
    assert {row["worker"] for row in results} <= workers


def test_dask_processes_give_the_local_results(dask_processes, digits, tmp_path):
    for proc in dask_processes.processes():  # nothing listens beyond this machine
        for conn in proc.net_connections("tcp"):
            if conn.status == psutil.CONN_LISTEN:
                assert conn.laddr.ip == "127.0.0.1", (proc.cmdline(), conn)
    local = coarse_to_fine(FIXED, SPACE, 8, *digits, rounds=2, seed=5, progress=False)
    out = tmp_path / "out"
    on_dask = coarse_to_fine(FIXED, SPACE, 8, *digits, rounds=2, seed=5, progress=False,
                             executor=dask_processes.address, out=out)
    assert len(on_dask) == 16 and scores(on_dask) == scores(local)
    rows = ResultsFile(out / "results.csv").rows()
    assert len(rows) == 16 and len({row["key"] for row in rows}) == 16
    with distributed.Client(dask_processes.address, set_as_default=False) as client:
        workers = set(client.scheduler_info()["workers"])
    assert {row["worker"] for row in rows} <= workers and len(workers) == 2


def test_an_unreachable_scheduler_is_a_clear_error_in_bounded_time():
    address = f"tcp://127.0.0.1:{free_port()}"
    start = time.monotonic()
    with pytest.raises(SchedulerUnreachable, match=f"cannot reach the Dask scheduler at "
                                                   f"{address}"):
        connect(address, timeout=1)
    assert time.monotonic() - start < 8
    with pytest.raises(ValueError, match="not a Dask scheduler address: 'nowhere'"):
        connect("nowhere", timeout=1)
    with pytest.raises(ValueError, match="timeout must be"):
        connect(address, timeout=0)


def gated(params, X, Y, X_dev, Y_dev, gate):
    """train_network, then, until the test opens the gate, report the trial as running (a file
    named after its seed and the worker's pid) and wait: so that a worker can be killed while
    it is certainly in the middle of a trial."""
    from pathlib import Path

    from mlpkit.search import train_network

    gate = Path(gate)
    params = {"epochs": 10, "optimizer": "adam", "batch_size": 64, **params}
    out = train_network(params, X, Y, X_dev, Y_dev)
    if not (gate / "open").exists():
        (gate / f"running-{params['seed']}-{os.getpid()}").touch()
        deadline = time.monotonic() + 120
        while not (gate / "open").exists() and time.monotonic() < deadline:
            time.sleep(0.01)
    return out


def test_a_killed_worker_costs_only_its_running_trials(tmp_path, digits):
    """Kill one `dask worker` (nanny and worker process) while it runs a trial: the search
    completes with every trial exactly once, the lost trial runs again on the other worker."""
    cluster = DaskProcesses(tmp_path / "dask")
    try:
        gate = tmp_path / "gate"
        gate.mkdir()
        space = {"learning_rate": LogUniform(-3, -2), "hidden": IntUniform(8, 32)}
        out, box, n = tmp_path / "out", {}, 8

        def search():
            try:
                box["results"] = random_search(partial(gated, gate=str(gate)), space, n,
                                               *digits, seed=3,
                                               progress=False, executor=cluster.address,
                                               out=out)
            except BaseException as e:  # reported by the assertion below
                box["error"] = e

        with distributed.Client(cluster.address, set_as_default=False) as client:
            address = {pid: addr for addr, pid in client.run(os.getpid).items()}
        thread = threading.Thread(target=search, daemon=True)
        thread.start()
        deadline = time.monotonic() + 120
        while len(running := sorted(gate.glob("running-*"))) < 2:  # both workers are busy
            assert time.monotonic() < deadline and thread.is_alive(), box
            time.sleep(0.01)
        _, lost_seed, pid = running[0].name.split("-")
        victim = address[int(pid)]
        worker = next(proc for proc in cluster.workers if int(pid) in
                      {p.pid for p in psutil.Process(proc.pid).children(recursive=True)})
        for proc in [psutil.Process(worker.pid), *psutil.Process(worker.pid).children(True)]:
            proc.kill()
        worker.wait(timeout=30)
        (gate / "open").touch()
        thread.join(timeout=180)
        assert not thread.is_alive() and "error" not in box, box
        results = box["results"]
        assert len(results) == n and all(row["status"] == "ok" for row in results)
        rows = ResultsFile(out / "results.csv").rows()
        assert len(rows) == n and sorted(row["trial"] for row in rows) == list(range(n))
        [lost] = [row for row in rows if row["seed"] == int(lost_seed)]
        assert lost["worker"] != victim  # it ran again on the other worker
        assert victim not in {row["worker"] for row in rows}
    finally:
        cluster.stop()


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_randomized_search_cv_on_dask_through_joblib(local_cluster, digits):
    import joblib
    from sklearn.model_selection import RandomizedSearchCV

    import mlpkit

    X, Y = digits[0].T, digits[1].argmax(axis=0)

    def search(n_jobs):
        return RandomizedSearchCV(
            mlpkit.MLPClassifier(hidden_layer_sizes=(16,), max_iter=15, random_state=0),
            {"learning_rate_init": LogUniform(-3, -1), "alpha": LogUniform(-5, -2)},
            n_iter=4, cv=2, random_state=0, n_jobs=n_jobs,
        ).fit(X, Y)

    alone = search(1)
    with local_cluster.as_current(), joblib.parallel_backend("dask"):
        on_dask = search(-1)
    np.testing.assert_array_equal(on_dask.cv_results_["mean_test_score"],
                                  alone.cv_results_["mean_test_score"])
    assert on_dask.best_params_ == alone.best_params_
    ran_there = local_cluster.run(lambda: "mlpkit.estimators" in sys.modules)
    assert any(ran_there.values()), ran_there
