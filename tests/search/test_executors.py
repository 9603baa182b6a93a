"""Trials on concurrent.futures executors, failed trials, and a search recorded in an output
folder: appended as trials finish, continued after an interruption, refused when different."""

import concurrent.futures
import math
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pytest

from mlpkit.search import (
    IntUniform,
    LogUniform,
    coarse_to_fine,
    random_search,
    run_trials,
)
from mlpkit.search.folder import SearchFolderMismatch
from mlpkit.search.results_file import ResultsFile

SPACE = {"learning_rate": LogUniform(-3, -1), "hidden": IntUniform(4, 24)}
FIXED = {"epochs": 8, "optimizer": "adam", "batch_size": 64}
NO_DATA = (None, None, None, None)


def scores(results):
    return [(row["seed"], row["dev_score"]) for row in results]


def what_a_worker_sees(params, X, Y, X_dev, Y_dev):
    from threadpoolctl import threadpool_info

    from mlpkit.search import trials

    blas = max(p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas")
    return {"dev_score": float(X.sum()), "blas_threads": blas, "pid": os.getpid(),
            "memmap": isinstance(X, np.memmap), "malloc_tuned": bool(trials._MALLOC_TUNED)}


def fails_on_odd_hidden(params, X, Y, X_dev, Y_dev):
    if params["hidden"] % 2:
        raise ValueError(f"odd hidden {params['hidden']}")
    if params["hidden"] == 10:
        raise FloatingPointError("the cost became nan")
    return params["hidden"] / 100


CALLS = []


def counted(params, X, Y, X_dev, Y_dev):
    """A stand-in trial that records its call and, once STOP_AFTER calls ran, is interrupted."""
    if len(CALLS) == counted.stop_after:
        raise KeyboardInterrupt
    CALLS.append(params["seed"])
    return -abs(math.log10(params["learning_rate"]) + 2) - abs(params["hidden"] - 12) / 10


counted.stop_after = None


@pytest.fixture
def spawn_pool():
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield pool


def test_thread_and_process_pools_give_the_local_results(digits, spawn_pool):
    local = coarse_to_fine(FIXED, SPACE, 4, *digits, rounds=2, seed=2, progress=False)
    with ThreadPoolExecutor(2) as threads:
        threaded = coarse_to_fine(FIXED, SPACE, 4, *digits, rounds=2, seed=2, progress=False,
                                  executor=threads)
    in_processes = coarse_to_fine(FIXED, SPACE, 4, *digits, rounds=2, seed=2, progress=False,
                                  executor=spawn_pool)
    assert scores(threaded) == scores(local) == scores(in_processes)
    assert len({row["dev_score"] for row in local}) > 1


def test_a_process_pool_gets_the_data_once_and_caps_blas(spawn_pool):
    X = np.ones((3, 4))
    rows = run_trials([{"i": i} for i in range(6)], (X, None, None, None), what_a_worker_sees,
                      progress=False, executor=spawn_pool)
    from joblib import cpu_count

    assert [row["i"] for row in rows] == list(range(6))
    assert all(row["memmap"] and row["dev_score"] == 12.0 for row in rows)  # mapped, not sent
    assert {row["blas_threads"] for row in rows} == {max(1, cpu_count() // 2)}
    assert os.getpid() not in {row["pid"] for row in rows}
    assert all(row["malloc_tuned"] for row in rows)  # glibc's thresholds fixed in the workers


def test_a_thread_pool_caps_blas_for_the_whole_process():
    from joblib import cpu_count

    with ThreadPoolExecutor(2) as threads:
        rows = run_trials([{"i": i} for i in range(4)], (np.ones(2), None, None, None),
                          what_a_worker_sees, progress=False, executor=threads)
    assert {row["blas_threads"] for row in rows} == {max(1, cpu_count() // 2)}
    assert {row["pid"] for row in rows} == {os.getpid()}
    assert not any(row["malloc_tuned"] for row in rows)  # never in the caller's own process


class InlineExecutor(concurrent.futures.Executor):
    """An executor that doesn't say how many workers it has (no _max_workers): it runs each
    task at once, in this process, as if on a machine with `cores` cores."""

    def __init__(self, cores):
        self.cores = cores

    def submit(self, fn, *args, **kwargs):
        import joblib

        future = concurrent.futures.Future()
        real, joblib.cpu_count = joblib.cpu_count, lambda: self.cores
        try:
            future.set_result(fn(*args, **kwargs))
        finally:
            joblib.cpu_count = real
        return future


def test_an_executor_that_does_not_say_its_workers_gets_one_blas_thread_per_trial():
    from joblib import cpu_count

    executor = InlineExecutor(4 * cpu_count())  # a worker machine with more cores than this
    rows = run_trials([{"i": i} for i in range(2)], (np.ones(2), None, None, None),
                      what_a_worker_sees, progress=False, executor=executor)
    assert {row["blas_threads"] for row in rows} == {1}
    executor._max_workers = 2  # one that says: the worker machine's cores // 2
    rows = run_trials([{"i": i} for i in range(2)], (np.ones(2), None, None, None),
                      what_a_worker_sees, progress=False, executor=executor)
    assert {row["blas_threads"] for row in rows} == {2 * cpu_count()}


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_local_worker_processes_fix_mallocs_thresholds_the_caller_keeps_its_own(n_jobs):
    rows = run_trials([{"i": i} for i in range(4)], (np.ones(2), None, None, None),
                      what_a_worker_sees, progress=False, n_jobs=n_jobs)
    in_caller = {row["pid"] == os.getpid() for row in rows}
    assert in_caller == {n_jobs == 1}
    assert {row["malloc_tuned"] for row in rows} == {n_jobs == 2}


def test_failed_trials_are_recorded_and_the_search_goes_on(tmp_path):
    space = {"hidden": IntUniform(1, 12)}
    results = random_search(fails_on_odd_hidden, space, 12, *NO_DATA, seed=0, progress=False,
                            out=tmp_path)
    by_status = {}
    for row in results:
        by_status.setdefault(row["status"], []).append(row)
    assert by_status["failed"] and by_status["ok"]
    for row in by_status["failed"]:
        assert math.isnan(row["dev_score"]) and row["error"] == f"ValueError: odd hidden " \
            f"{row['hidden']}"
    for row in by_status.get("diverged", []):
        assert row["error"] == "the cost became nan"
    assert results[: len(by_status["ok"])] == sorted(by_status["ok"], key=lambda r: -r[
        "dev_score"])
    assert len(ResultsFile(tmp_path / "results.csv")) == 12
    table = results.format_table().splitlines()[0].split()
    assert "status" in table and "error" in table and "worker" not in table


def test_an_interrupted_search_continues_where_it_stopped(tmp_path):
    def search(out, **options):
        return coarse_to_fine(counted, SPACE, 6, *NO_DATA, rounds=2, seed=4, progress=False,
                              out=out, **options)

    CALLS.clear()
    counted.stop_after = None
    full = search(tmp_path / "full")
    assert len(CALLS) == 12 and full.skipped == 0

    for stop_after in (3, 9):  # in round 1, then in round 2
        out = tmp_path / f"stopped{stop_after}"
        CALLS.clear()
        counted.stop_after = stop_after
        with pytest.raises(KeyboardInterrupt):
            search(out)
        assert len(ResultsFile(out / "results.csv")) == stop_after
        counted.stop_after = None
        CALLS.clear()
        resumed = search(out)
        assert len(CALLS) == 12 - stop_after and resumed.skipped == stop_after
        assert scores(resumed) == scores(full)
        assert [(type(s), s.lo, s.hi) for s in resumed.spaces[1].values()] == [
            (type(s), s.lo, s.hi) for s in full.spaces[1].values()]  # the zoom, from the rows
        assert len(ResultsFile(out / "results.csv")) == 12

    CALLS.clear()
    again = coarse_to_fine(counted, SPACE, 6, *NO_DATA, rounds=2, progress=False,
                           out=tmp_path / "full")  # seed None: the recorded one
    assert CALLS == [] and again.skipped == 12 and scores(again) == scores(full)


def test_a_different_search_in_the_folder_is_refused_unless_forced(tmp_path):
    counted.stop_after = None
    random_search(counted, SPACE, 3, *NO_DATA, seed=1, progress=False, out=tmp_path)
    other = {**SPACE, "hidden": IntUniform(4, 30)}
    with pytest.raises(SearchFolderMismatch, match="space: hidden"):
        random_search(counted, other, 3, *NO_DATA, seed=1, progress=False, out=tmp_path)
    with pytest.raises(SearchFolderMismatch, match="n_trials: 3 -> 4"):
        random_search(counted, SPACE, 4, *NO_DATA, seed=1, progress=False, out=tmp_path)
    CALLS.clear()
    forced = random_search(counted, other, 3, *NO_DATA, seed=1, progress=False, out=tmp_path,
                           force=True)
    assert len(CALLS) == 3 and forced.skipped == 0
    assert len(ResultsFile(tmp_path / "results.csv")) == 3


def test_bad_executors(tmp_path):
    with pytest.raises(TypeError, match="executor must be None or 'processes'"):
        random_search(counted, SPACE, 2, *NO_DATA, progress=False, executor=42)
    with pytest.raises(ValueError, match="n_jobs must be a nonzero integer"):
        random_search(counted, SPACE, 2, *NO_DATA, progress=False, n_jobs=0, out=tmp_path / "o")
    assert not (tmp_path / "o").exists()  # checked before anything is written
    with pytest.raises(ValueError, match="blas_threads must be an integer >= 1"):
        run_trials([{"x": 1}], NO_DATA, counted, blas_threads=0, progress=False)
