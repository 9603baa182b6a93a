"""The search on a device (the GPU issue's device= part), on the CPU: trials train on PyTorch CPU
tensors and give NumPy's scores, a Dask trial on a GPU asks its worker for one through worker
resources, a cluster without a GPU resource fails at once, and local processes share one GPU
one trial at a time."""

import time

import distributed
import pytest
from dask_cluster import local_client

from mlpkit.data.checks import ParameterError
from mlpkit.search import IntUniform, LogUniform, random_search, run_trials
from mlpkit.search.runners import LocalProcesses, OnDevice

torch = pytest.importorskip("torch")
pytest.importorskip("array_api_compat")

SPACE = {"learning_rate": LogUniform(-2, 0), "hidden": IntUniform(4, 12)}
FIXED = {"epochs": 15, "optimizer": "adam"}  # full batches: no shuffle, the same steps


def library_of(params, X, Y, X_dev, Y_dev):
    """Where the trial's data is: its array library and device."""
    return {"dev_score": 0.0, "library": type(X).__module__.split(".")[0],
            "device": str(getattr(X, "device", "host")), "dtype": str(X.dtype)}


def test_trials_on_torch_give_numpys_scores(digits):
    on_host = random_search(FIXED, SPACE, 3, *digits, seed=4, progress=False)
    on_torch = random_search(FIXED, SPACE, 3, *digits, seed=4, progress=False, device="cpu",
                             backend="torch")
    assert [r["error"] for r in on_torch] == [None] * 3
    assert [(r["seed"], r["dev_score"]) for r in on_torch] == [
        (r["seed"], r["dev_score"]) for r in on_host]
    assert all(isinstance(r["dev_cost"], float) for r in on_torch)
    rows = run_trials([{"x": 1}], digits, library_of, device="cpu", backend="torch",
                      dtype="float32", progress=False)
    assert (rows[0]["library"], rows[0]["device"], rows[0]["dtype"]) == (
        "torch", "cpu", "torch.float32")


@pytest.fixture(scope="module")
def gpu_cluster(tmp_path_factory):
    """A client of an in-process LocalCluster whose one worker offers resources {"GPU": 1}."""
    with local_client(tmp_path_factory.mktemp("gpu-cluster"), n_workers=1,
                      threads_per_worker=2, processes=False, resources={"GPU": 1}) as client:
        yield client


def gpu_held(params, X, Y, X_dev, Y_dev):
    """The GPUs the trial's worker has left while the trial runs (0: the trial holds it)."""
    return {"dev_score": 0.0,
            "gpus_left": distributed.get_worker().state.available_resources["GPU"]}


def test_dask_trials_on_a_gpu_ask_their_worker_for_one(gpu_cluster, digits, tmp_path,
                                                       monkeypatch):
    (worker,) = gpu_cluster.scheduler_info()["workers"]
    rows = run_trials([{"x": 1}, {"x": 2}], digits, library_of, executor=gpu_cluster,
                      device="cpu", backend="torch", progress=False)
    assert [r["library"] for r in rows] == ["torch", "torch"]
    # "cuda": each trial runs on the worker that offers a GPU; this machine has none, which
    # each trial reports as its error (on a GPU worker it trains there)
    rows = run_trials([{"x": 1}, {"x": 2}], digits, library_of, executor=gpu_cluster,
                      device="cuda", backend="torch", progress=False,
                      results_file=tmp_path / "cuda.csv")
    assert [r["worker"] for r in rows] == [worker, worker]
    if not torch.cuda.is_available():
        assert all("torch cannot use device='cuda'" in r["error"] for r in rows), rows
        # the worker runs in this process: the data stays on the host, to see the resource
        monkeypatch.setattr(OnDevice, "_moved", lambda self, data: data)
    rows = run_trials([{"x": 1}, {"x": 2}, {"x": 3}], digits, gpu_held, executor=gpu_cluster,
                      device="cuda", progress=False)
    assert [r["gpus_left"] for r in rows] == [0, 0, 0]  # one trial at a time on the one GPU


def test_a_cluster_without_a_gpu_resource_fails_at_once(local_cluster, digits):
    start = time.monotonic()
    with pytest.raises(ValueError, match=r"none of the cluster's 2 workers offers one; start one "
                       r"worker per GPU with: CUDA_VISIBLE_DEVICES=N dask worker ADDRESS "
                       r"--nthreads 1 --resources GPU=1"):
        random_search(FIXED, SPACE, 2, *digits, executor=local_cluster, device="cuda",
                      progress=False)
    assert time.monotonic() - start < 10


def test_local_processes_share_one_gpu_one_trial_at_a_time():
    with pytest.raises(ParameterError, match="n_jobs must be 1 .got 4."):
        LocalProcesses(4, placement=("cuda", "torch", None))
    assert LocalProcesses(4, placement=("cpu", "torch", None)).n_jobs == 4
