"""The data the ONNX tests export models for."""

import pytest
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler


@pytest.fixture(scope="module")
def digits():
    """The digits (1797 x 64), standardized, and their labels 0-9."""
    X, y = load_digits(return_X_y=True)
    return StandardScaler().fit_transform(X), y
