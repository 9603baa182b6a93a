"""Tests for mlpkit.plots: every function writes a valid PNG atomically."""

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mlpkit.apps import plots
from mlpkit.apps.plots import (
    plot_costs,
    plot_decision_boundaries,
    plot_decision_boundary,
    plot_learning_curve,
    plot_mislabeled,
)
from mlpkit.data import make_flower

ROOT = Path(__file__).resolve().parents[2]


def assert_png(path, expected):
    """`path` is the returned path, a valid PNG, and the only file left in its folder."""
    assert Path(path) == Path(expected)
    assert Path(path).stat().st_size > 0
    with Image.open(path) as img:
        assert img.format == "PNG"
        assert img.mode in ("RGB", "RGBA")
        assert img.width > 100 and img.height > 100
        img.verify()
    leftovers = [p.name for p in Path(path).parent.iterdir() if p.name != Path(path).name]
    assert leftovers == []


def linear_predict(grid):
    assert grid.ndim == 2 and grid.shape[0] == 2
    return (grid[0:1] + grid[1:2] > 0).astype(float)


def test_plot_costs_single_and_multiple(tmp_path):
    p = plot_costs([0.7, 0.5, 0.4, 0.35], tmp_path / "a" / "cost.png", learning_rate=0.0075,
                   every=100)
    assert_png(p, tmp_path / "a" / "cost.png")

    curves = [np.linspace(1, 0.1, 50), np.linspace(1, 0.3, 30), [0.9, np.nan, np.inf]]
    p = plot_costs(curves, tmp_path / "b" / "cmp.png", title="compare",
                   labels=["lr=0.1", "lr=0.01", "diverged"])
    assert_png(p, tmp_path / "b" / "cmp.png")


def test_plot_costs_errors(tmp_path):
    with pytest.raises(ValueError, match="labels"):
        plot_costs([[1, 2], [3, 4]], tmp_path / "x.png", labels=["one"])
    with pytest.raises(ValueError, match="empty"):
        plot_costs([], tmp_path / "x.png")
    assert list(tmp_path.iterdir()) == []


def test_plot_learning_curve(tmp_path):
    """Training and dev error against the training-set size: both curves drawn (matplotlib's
    first two colors), a clear error for a mismatch, nothing written then."""
    p = plot_learning_curve([20, 52, 104, 156, 209], [0.0, 0.0, 0.01, 0.0, 0.0],
                            [0.5, 0.38, 0.3, 0.28, 0.24], tmp_path / "lc" / "curve.png",
                            title="cat")
    assert_png(p, tmp_path / "lc" / "curve.png")
    with Image.open(p) as img:
        pixels = np.asarray(img.convert("RGB")).reshape(-1, 3).astype(int)
    for color in ((0x1F, 0x77, 0xB4), (0xFF, 0x7F, 0x0E)):  # training, dev
        assert np.sum(np.abs(pixels - color).sum(axis=1) < 30) > 200, color
    with pytest.raises(ValueError, match="one training and one dev error per size"):
        plot_learning_curve([1, 2], [0.1], [0.2, 0.3], tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_plot_decision_boundary(tmp_path):
    X, Y = make_flower(m=100)
    sizes = []

    def predict(grid):
        sizes.append(grid.shape[1])
        return linear_predict(grid)

    p = plot_decision_boundary(predict, X, Y, tmp_path / "db.png", title="linear")
    assert_png(p, tmp_path / "db.png")
    assert len(sizes) == 1 and 10_000 < sizes[0] <= plots.MAX_GRID ** 2


def test_plot_decision_boundary_errors(tmp_path):
    X, Y = make_flower(m=10)
    with pytest.raises(ValueError, match=r"\(2, m\)"):
        plot_decision_boundary(linear_predict, X.T, Y, tmp_path / "x.png")
    with pytest.raises(ValueError, match="labels"):
        plot_decision_boundary(linear_predict, X, Y[:, :5], tmp_path / "x.png")
    with pytest.raises(ValueError, match="predict returned"):
        plot_decision_boundary(lambda g: np.zeros(3), X, Y, tmp_path / "x.png")
    assert list(tmp_path.iterdir()) == []


def test_plot_decision_boundaries(tmp_path):
    X, Y = make_flower(m=60)
    panels = [(f"hidden {h}", lambda g, h=h: (g[0:1] * h > g[1:2]).astype(float), X, Y)
              for h in (1, 2, 3, 4)]
    p = plot_decision_boundaries(panels, tmp_path / "grid.png", ncols=3)
    assert_png(p, tmp_path / "grid.png")
    with Image.open(p) as img:
        assert img.width > img.height  # 3 columns x 2 rows
    with pytest.raises(ValueError, match="no panels"):
        plot_decision_boundaries([], tmp_path / "none.png")


def test_plot_mislabeled(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (30, 16, 16, 3), dtype=np.uint8)
    y_true = rng.integers(0, 2, 30)
    y_pred = y_true.copy()
    y_pred[[1, 5, 7]] = 1 - y_pred[[1, 5, 7]]
    p = plot_mislabeled(images, y_true.reshape(1, -1), y_pred.reshape(1, -1).astype(float),
                        ["non-cat", "cat"], tmp_path / "mis.png")
    assert_png(p, tmp_path / "mis.png")

    y_pred[:] = 1 - y_true
    p = plot_mislabeled(images, y_true, y_pred, None, tmp_path / "many.png", max_images=7)
    assert Path(p).stat().st_size > 0


def test_plot_mislabeled_none_wrong(tmp_path):
    images = np.zeros((4, 8, 8, 3), dtype=np.uint8)
    y = np.array([0, 1, 0, 1])
    p = plot_mislabeled(images, y, y, ["a", "b"], tmp_path / "ok.png")
    with Image.open(p) as img:
        assert img.format == "PNG" and img.width > 0
    with pytest.raises(ValueError, match="labels"):
        plot_mislabeled(images, y[:3], y, ["a", "b"], tmp_path / "bad.png")


def test_failed_save_keeps_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "cost.png"
    target.write_bytes(b"old")

    def broken_savefig(self, f, **kwargs):
        f.write(b"partial")
        raise RuntimeError("disk full")

    monkeypatch.setattr(plots.Figure, "savefig", broken_savefig)
    with pytest.raises(RuntimeError, match="disk full"):
        plot_costs([1.0, 0.5], target)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["cost.png"]


def test_save_fsyncs_before_replacing(tmp_path, monkeypatch):
    calls = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: calls.append("fsync") or real_fsync(fd))
    monkeypatch.setattr(os, "replace", lambda a, b: calls.append("replace") or real_replace(a, b))
    plot_costs([1.0, 0.5], tmp_path / "cost.png")
    assert calls[:2] == ["fsync", "replace"]


def test_overwrite_existing_png(tmp_path):
    target = tmp_path / "c.png"
    target.write_bytes(b"old")
    plot_costs([1.0, 0.5], target)
    assert_png(target, target)


def test_import_does_not_touch_pyplot_or_backend():
    code = (
        "import sys, matplotlib\n"
        "before = matplotlib.get_backend()\n"
        "import mlpkit.apps.plots, mlpkit.data\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'\n"
        "assert matplotlib.get_backend() == before\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "svg"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_decision_boundary_constant_and_probability_predictions(tmp_path):
    X, Y = make_flower(m=40)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plot_decision_boundary(lambda g: np.zeros((1, g.shape[1])), X, Y, tmp_path / "c.png")
        plot_decision_boundary(lambda g: 1 / (1 + np.exp(-g[0:1])), X, Y, tmp_path / "p.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.png", "p.png"]
