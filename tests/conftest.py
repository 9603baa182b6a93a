"""Shared pytest fixtures."""

import os
from pathlib import Path

import pytest

# scikit-learn's estimator checks run their array-API checks only when this is set before
# SciPy is imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

CAT_FILES = ("train_catvnoncat.h5", "test_catvnoncat.h5")


def pytest_configure(config):
    """Under pytest-xdist each worker is one more process on the machine's cores: cap its BLAS to
    cores // workers threads, or two workers with a BLAS thread per core each slow every
    product down many times over (the course's deep cat run: 15 s alone, 130 s so)."""
    workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if workers:
        from threadpoolctl import threadpool_limits

        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        config._blas_limit = threadpool_limits(max(1, cores // int(workers)))


@pytest.fixture
def cat_data_dir() -> Path:
    """Folder with the course's cat data ($MLPKIT_DATA, default ../shared/data).

    Skips the test when the files are absent, or fails it if MLPKIT_REQUIRE_DATA=1.
    """
    folder = Path(os.environ.get("MLPKIT_DATA", "../shared/data"))
    missing = [name for name in CAT_FILES if not (folder / name).is_file()]
    if missing:
        msg = f"cat data not found: {missing} missing in {folder.resolve()} (set MLPKIT_DATA)"
        if os.environ.get("MLPKIT_REQUIRE_DATA") == "1":
            pytest.fail(msg)
        pytest.skip(msg)
    return folder
