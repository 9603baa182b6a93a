"""Shared pytest fixtures."""

import os
from pathlib import Path

import pytest

# scikit-learn's estimator checks run their array-API checks only when this is set before
# SciPy is imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

CAT_FILES = ("train_catvnoncat.h5", "test_catvnoncat.h5")


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
