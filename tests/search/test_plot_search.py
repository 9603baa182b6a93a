"""plot_search: the course's search pictures, from results with or without spaces, failed
trials included; written atomically as PNG."""

import math

import numpy as np
import pytest
from PIL import Image

from mlpkit.apps.plots import plot_search
from mlpkit.search import (
    Choice,
    IntUniform,
    LogUniform,
    OneMinusLogUniform,
    SearchResults,
    coarse_to_fine,
)


def bowl(params, X, Y, X_dev, Y_dev):
    if params["learning_rate"] > 0.1:
        raise FloatingPointError("the cost became inf")
    return -(math.log10(params["learning_rate"]) + 2) ** 2 - (params["hidden"] - 20) ** 2 / 100


def picture(path):
    with Image.open(path) as image:
        return image.size, np.asarray(image.convert("RGB"))


def test_two_panels_with_each_rounds_region(tmp_path):
    space = {"learning_rate": LogUniform(-4, 0), "hidden": IntUniform(1, 60),
             "beta1": OneMinusLogUniform(-3, -1)}
    results = coarse_to_fine(bowl, space, 12, None, None, None, None, rounds=3, seed=0,
                             progress=False)
    assert any(math.isnan(row["dev_score"]) for row in results)  # drawn as crosses
    path = plot_search(results, tmp_path / "search.png", title="bowl")
    size, pixels = picture(path)
    assert size == (1300, 500) and pixels.std() > 10
    other, _ = picture(plot_search(results, tmp_path / "beta.png",
                                   params=("beta1", "learning_rate")))
    assert other == (1300, 500)
    assert not list(tmp_path.glob(".*.tmp"))


def test_rows_without_spaces_and_a_single_hyperparameter(tmp_path):
    rows = [{"learning_rate": 10.0**-k, "optimizer": "adam", "dev_score": 0.1 * k}
            for k in range(1, 6)]
    size, _ = picture(plot_search(SearchResults(rows), tmp_path / "one.png"))
    assert size == (650, 500)
    choices = SearchResults([{"optimizer": o, "dev_score": s} for o, s in
                             (("adam", 0.9), ("gd", 0.5))], spaces=[{"optimizer": Choice(
                                 ["adam", "gd"])}])
    size, _ = picture(plot_search(choices, tmp_path / "choice.png"))
    assert size == (650, 500)


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="no trials to plot"):
        plot_search(SearchResults([]), tmp_path / "x.png")
    rows = SearchResults([{"learning_rate": 0.1, "hidden": 3, "dev_score": 0.5}])
    with pytest.raises(ValueError, match="params must name two numeric hyperparameters"):
        plot_search(rows, tmp_path / "x.png", params=("learning_rate", "optimizer"))
    assert not (tmp_path / "x.png").exists()
