"""Fixtures of the search tests: small digits data, a Dask LocalCluster, and a Dask scheduler
with two workers as separate processes on 127.0.0.1 (each stopped by its fixture).

Unlike the other test folders this one is not a package: Dask workers unpickle trial functions
defined here, importing these modules by their own names (`dask_cluster`, `test_dask`)."""

import pytest
from dask_cluster import LOCALHOST, DaskProcesses, local_client
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import mlpkit.search  # noqa: F401  (imports mlpkit.nn before mlpkit.optim, as a user would)
from mlpkit.data.preprocessing import one_hot


@pytest.fixture(scope="session")
def digits():
    """(X, Y, X_dev, Y_dev) from 600 of scikit-learn's digits: 64 inputs, one-hot 10 classes."""
    data = load_digits()
    X, X_dev, y, y_dev = train_test_split(data.data[:600] / 16.0, data.target[:600],
                                          test_size=0.3, random_state=0,
                                          stratify=data.target[:600])
    return X.T, one_hot(y, 10), X_dev.T, one_hot(y_dev, 10)


@pytest.fixture(scope="module")
def local_cluster(tmp_path_factory):
    """A distributed.Client on LocalCluster(n_workers=2, threads_per_worker=1, processes=True)."""
    with local_client(tmp_path_factory.mktemp("local-cluster"), n_workers=2,
                      threads_per_worker=1, processes=True, host=LOCALHOST,
                      scheduler_kwargs={"dashboard_address": f"{LOCALHOST}:0"}) as client:
        yield client


@pytest.fixture(scope="module")
def dask_processes(tmp_path_factory):
    """A `dask scheduler` and two `dask worker --nthreads 1` processes on 127.0.0.1."""
    cluster = DaskProcesses(tmp_path_factory.mktemp("dask"))
    try:
        yield cluster
    finally:
        cluster.stop()
