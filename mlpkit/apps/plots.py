"""PNG plots: cost curves, decision boundaries, misclassified-image galleries.

Figures are built with `matplotlib.figure.Figure` and rendered by the Agg canvas, so importing
or using this module never touches pyplot or changes the user's matplotlib backend. Every
function writes its PNG atomically (`files.atomic_write`: temporary file in the same
directory, fsync, then `os.replace`) and returns the path written.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from ..io.files import atomic_write

CMAP = "Spectral"  # the course's plt.cm.Spectral
MAX_GRID = 500  # decision-boundary mesh points per axis, at most
GRID_STEP = 0.01


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path) -> Path:
    """Write `fig` as PNG to `path` atomically; create missing parent folders."""
    return atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=100))


def plot_costs(costs, path, title: str | None = None, labels: Sequence[str] | None = None,
               learning_rate: float | None = None, every: int = 1) -> Path:
    """Plot cost against epoch; `costs` is one curve or a list of curves to compare.

    Point i of a curve is drawn at epoch i * `every` (costs recorded every `every` epochs).
    `labels` name the curves in a legend; `learning_rate`, if given, is shown in the title.
    """
    if len(costs) == 0:
        raise ValueError("costs is empty")
    single = all(np.ndim(c) == 0 for c in costs)
    curves = [np.asarray(costs, dtype=float)] if single else [
        np.asarray(c, dtype=float).ravel() for c in costs
    ]
    if labels is not None and len(labels) != len(curves):
        raise ValueError(f"{len(labels)} labels for {len(curves)} cost curves")
    if every < 1:
        raise ValueError(f"every must be >= 1, got {every}")

    fig = _figure(7, 4.5)
    ax = fig.add_subplot()
    for i, c in enumerate(curves):
        ax.plot(np.arange(c.size) * every, c, label=None if labels is None else labels[i])
    ax.set_xlabel("epoch")
    ax.set_ylabel("cost")
    if learning_rate is not None:
        lr = f"learning rate = {learning_rate:g}"
        title = lr if title is None else f"{title} ({lr})"
    if title is not None:
        ax.set_title(title)
    if labels is not None:
        ax.legend()
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    return _save(fig, path)


def _draw_boundary(ax, predict: Callable[[np.ndarray], np.ndarray], X, Y,
                   title: str | None) -> None:
    """Filled contour of `predict` over a mesh covering X (margin 1) plus the points of X."""
    X = np.asarray(X, dtype=float)
    y = np.asarray(Y).ravel()
    if X.ndim != 2 or X.shape[0] != 2:
        raise ValueError(f"X must have shape (2, m) for a decision boundary, got {X.shape}")
    if y.size != X.shape[1]:
        raise ValueError(f"Y has {y.size} labels for {X.shape[1]} points")
    axes = []
    for row in X:
        lo, hi = row.min() - 1.0, row.max() + 1.0
        n = min(MAX_GRID, math.ceil((hi - lo) / GRID_STEP) + 1)
        axes.append(np.linspace(lo, hi, n))
    xx, yy = np.meshgrid(*axes)
    grid = np.stack([xx.ravel(), yy.ravel()])  # (2, k), one column per mesh point
    Z = np.asarray(predict(grid), dtype=float)
    if Z.size != xx.size:
        raise ValueError(f"predict returned {Z.size} values for {xx.size} points")
    # One color scale for regions and points, so class k has the same color in both even when
    # predict outputs only some of the classes.
    y = y.astype(float)
    lo, hi = min(Z.min(), y.min()), max(Z.max(), y.max())
    norm = Normalize(vmin=lo, vmax=hi if hi > lo else lo + 1.0)
    integral = np.all(Z == np.round(Z))
    levels = np.arange(np.round(lo), np.round(hi) + 2) - 0.5 if integral else None
    ax.contourf(xx, yy, Z.reshape(xx.shape), levels=levels, cmap=CMAP, norm=norm)
    ax.scatter(X[0], X[1], c=y, cmap=CMAP, norm=norm, s=20, edgecolors="k", linewidths=0.3)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title is not None:
        ax.set_title(title)


def plot_decision_boundary(predict: Callable[[np.ndarray], np.ndarray], X, Y, path,
                           title: str | None = None) -> Path:
    """Decision regions of `predict` ((2, k) points -> (1, k) labels) with the data X (2, m)."""
    fig = _figure(6, 5)
    _draw_boundary(fig.add_subplot(), predict, X, Y, title)
    fig.tight_layout()
    return _save(fig, path)


def plot_decision_boundaries(panels, path, ncols: int = 3) -> Path:
    """Several decision-boundary panels (title, predict, X, Y) in one grid figure."""
    panels = list(panels)
    if not panels:
        raise ValueError("no panels to plot")
    if ncols < 1:
        raise ValueError(f"ncols must be >= 1, got {ncols}")
    ncols = min(ncols, len(panels))
    nrows = math.ceil(len(panels) / ncols)
    fig = _figure(4.5 * ncols, 4 * nrows)
    for i, (title, predict, X, Y) in enumerate(panels):
        _draw_boundary(fig.add_subplot(nrows, ncols, i + 1), predict, X, Y, title)
    fig.tight_layout()
    return _save(fig, path)


def plot_mislabeled(images, y_true, y_pred, classes, path, max_images: int = 20) -> Path:
    """Gallery of the misclassified images among uint8 `images` (m, h, w, 3) (an array, or an
object with shape, ndim and images[i], e.g. read from disk as they are shown).

    Labels may be (m,) or (1, m); each shown image is titled "true: X / pred: Y" with names
    from `classes` (or the label numbers if classes is None). At most `max_images` are shown;
    with no mistakes the figure just says so.
    """
    if max_images < 1:
        raise ValueError(f"max_images must be >= 1, got {max_images}")
    if not hasattr(images, "shape"):  # else an array, or images read one by one when shown
        images = np.asarray(images)
    y_true = np.asarray(y_true).ravel()
    y_pred = np.asarray(y_pred).ravel()
    m = images.shape[0]
    if y_true.size != m or y_pred.size != m:
        raise ValueError(f"{m} images but {y_true.size} true and {y_pred.size} predicted labels")
    y_true = np.rint(y_true).astype(np.int64)
    y_pred = np.rint(y_pred).astype(np.int64)

    def name(label: int) -> str:
        return str(label) if classes is None else str(classes[label])

    wrong = np.flatnonzero(y_true != y_pred)
    if wrong.size == 0:
        fig = _figure(5, 2)
        fig.text(0.5, 0.5, "no misclassified images", ha="center", va="center", fontsize=14)
        return _save(fig, path)

    shown = wrong[:max_images]
    ncols = min(5, shown.size)
    nrows = math.ceil(shown.size / ncols)
    fig = _figure(2.6 * ncols, 2.8 * nrows + 0.4)
    for k, i in enumerate(shown):
        ax = fig.add_subplot(nrows, ncols, k + 1)
        ax.imshow(images[i], interpolation="nearest", cmap="gray" if images.ndim == 3 else None)
        ax.set_title(f"true: {name(y_true[i])} / pred: {name(y_pred[i])}", fontsize=9)
        ax.axis("off")
    fig.suptitle(f"{wrong.size} of {m} misclassified (showing {shown.size})")
    fig.tight_layout()
    return _save(fig, path)
