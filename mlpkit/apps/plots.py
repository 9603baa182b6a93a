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
from matplotlib import colormaps
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


def plot_learning_curve(sizes, train_errors, dev_errors, path, title: str | None = None) -> Path:
    """Error against training-set size, training and dev (a learning curve, drawn as
    scikit-learn's LearningCurveDisplay draws one): where the curves meet is what more data can
    still give; a gap between them that closes as data grows is variance."""
    sizes = np.asarray(sizes, dtype=float).ravel()
    curves = [np.asarray(c, dtype=float).ravel() for c in (train_errors, dev_errors)]
    if sizes.size == 0 or any(c.shape != sizes.shape for c in curves):
        raise ValueError(f"a learning curve needs one training and one dev error per size; got "
                         f"{sizes.size} sizes, {curves[0].size} and {curves[1].size} errors")
    fig = _figure(7, 4.5)
    ax = fig.add_subplot()
    for errors, label in zip(curves, ("training error", "dev error"), strict=True):
        ax.plot(sizes, errors, "o-", label=label)
    ax.set_xlabel("number of examples in the training set")
    ax.set_ylabel("error rate")
    if title is not None:
        ax.set_title(title)
    ax.legend(loc="best")
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


# ---------------------------------------------------------------------------------------------
# Hyperparameter search
# ---------------------------------------------------------------------------------------------

_NOT_HYPERPARAMETERS = ("round", "trial", "seed", "dev_score", "train_score", "dev_cost",
                        "seconds", "error", "status", "worker", "finished", "key")


def _search_axes(results):
    """{name: (scale, transform, label)} of the numeric hyperparameters, in the space's order:
    log axes for LogUniform, 1 - beta on a log axis for OneMinusLogUniform."""
    from ..search.distributions import Choice, LogUniform, OneMinusLogUniform

    space = results.spaces[0] if getattr(results, "spaces", None) else {}
    names = list(space) or [k for k in (results[0] if results else {})
                            if k not in _NOT_HYPERPARAMETERS]
    axes = {}
    for name in names:
        values = [row.get(name) for row in results]
        if not values or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                 for v in values):
            continue
        dist = space.get(name)
        if isinstance(dist, LogUniform):
            axes[name] = ("log", lambda v: v, name)
        elif isinstance(dist, OneMinusLogUniform):
            axes[name] = ("log", lambda v: 1 - np.asarray(v, dtype=float), f"1 - {name}")
        elif dist is None or isinstance(dist, Choice) or hasattr(dist, "bounds"):
            positive = all(v > 0 for v in values)
            spread = positive and max(values) / min(values) > 100
            axes[name] = ("log" if spread else "linear", lambda v: v, name)
    return axes


def _region(dist, transform):
    """The (low, high) a round's distribution covers, on the plotted scale (None: no range)."""
    from ..search.distributions import OneMinusLogUniform

    if not hasattr(dist, "bounds"):
        return None
    if isinstance(dist, OneMinusLogUniform):
        return 10.0**dist.lo, 10.0**dist.hi
    lo, hi = dist.bounds
    return float(transform(lo)), float(transform(hi))


def plot_search(results, path, params: Sequence[str] | None = None,
                title: str | None = None) -> Path:
    """The course's pictures of a random search (SearchResults or rows with "dev_score"):
    dev score against the learning rate on a log axis, coloured by round; and a scatter of two
    hyperparameters coloured by dev score, with each round's sampled region drawn and the best
    trial starred. params: the two hyperparameters (default: learning_rate and the next numeric
    one of the space). Failed trials (no finite score) are drawn as red crosses."""
    from matplotlib.patches import Rectangle

    rows = list(results)
    if not rows:
        raise ValueError("no trials to plot")
    axes = _search_axes(results)
    if params is not None:
        unknown = [p for p in params if p not in axes]
        if len(params) != 2 or unknown:
            raise ValueError(f"params must name two numeric hyperparameters of {list(axes)}; "
                             f"got {list(params)}")
        names = list(params)
    else:
        names = sorted(axes, key=lambda n: n != "learning_rate")[:2]
    scores = np.array([_score(row) for row in rows])
    ok = np.isfinite(scores)
    rounds = np.array([row.get("round") or 1 for row in rows])
    spaces = list(getattr(results, "spaces", []) or [])

    fig = _figure(13 if len(names) > 1 else 6.5, 5)
    ax = fig.add_subplot(1, max(1, len(names)), 1)
    if names:
        x_name = names[0]
        scale, transform, label = axes[x_name]
        x = np.asarray(transform([row[x_name] for row in rows]), dtype=float)
    else:  # nothing numeric was sampled: the scores in trial order
        scale, label = "linear", "trial"
        x = np.arange(len(rows), dtype=float)
    low = scores[ok].min() if ok.any() else 0.0
    colors = colormaps["tab10"]
    for k, r in enumerate(np.unique(rounds)):
        mine = (rounds == r) & ok
        color = colors(k % 10)
        ax.scatter(x[mine], scores[mine], s=28, color=color, edgecolors="k", linewidths=0.3,
                   label=f"round {r}", zorder=3)
    if (~ok).any():
        ax.scatter(x[~ok], np.full((~ok).sum(), low), marker="x", color="red", s=36,
                   label="failed", zorder=3)
    ax.set_xscale(scale)
    if names and spaces:
        _show_range(ax.set_xlim, _region(spaces[0].get(names[0]), transform), scale)
    ax.set_xlabel(label + (" (log scale)" if scale == "log" else ""))
    ax.set_ylabel("dev score")
    ax.set_title(f"dev score against {label}")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)

    if len(names) > 1:
        y_name = names[1]
        y_scale, y_transform, y_label = axes[y_name]
        y = np.asarray(y_transform([row[y_name] for row in rows]), dtype=float)
        ax2 = fig.add_subplot(1, 2, 2)
        norm = Normalize(vmin=scores[ok].min(), vmax=scores[ok].max()) if ok.any() else None
        points = ax2.scatter(x[ok], y[ok], c=scores[ok], cmap="viridis", norm=norm, s=32,
                             edgecolors="k", linewidths=0.3, zorder=3)
        if (~ok).any():
            ax2.scatter(x[~ok], y[~ok], marker="x", color="red", s=36, zorder=3,
                        label="failed")
        if ok.any():
            fig.colorbar(points, ax=ax2, label="dev score")
            best = int(np.argmax(np.where(ok, scores, -np.inf)))
            ax2.scatter([x[best]], [y[best]], marker="*", s=260, color="gold", edgecolors="k",
                        linewidths=0.8, zorder=4, label="best")
        for k, space in enumerate(spaces):
            x_range = _region(space.get(x_name), transform)
            y_range = _region(space.get(y_name), y_transform)
            if x_range is None or y_range is None:
                continue
            color = colors(k % 10)
            (x0, x1), (y0, y1) = sorted(x_range), sorted(y_range)
            ax2.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, lw=1.6,
                                    ls="--" if k else "-", edgecolor=color,
                                    label=f"round {k + 1} region", zorder=2))
        ax2.set_xscale(scale)
        ax2.set_yscale(y_scale)
        if spaces:
            _show_range(ax2.set_xlim, _region(spaces[0].get(x_name), transform), scale)
            _show_range(ax2.set_ylim, _region(spaces[0].get(y_name), y_transform), y_scale)
        ax2.set_xlabel(label + (" (log scale)" if scale == "log" else ""))
        ax2.set_ylabel(y_label + (" (log scale)" if y_scale == "log" else ""))
        ax2.set_title(f"{y_label} against {label}, coloured by dev score")
        ax2.grid(True, which="both", alpha=0.3)
        ax2.legend(fontsize=8, loc="best")
    if title is not None:
        fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path)


def _show_range(set_limits, bounds, scale, pad=0.04):
    """Show the whole sampled range (the first round's), padded by `pad` of its width."""
    if bounds is None:
        return
    lo, hi = sorted(bounds)
    if scale == "log" and lo > 0:
        ratio = (hi / lo) ** pad
        set_limits(lo / ratio, hi * ratio)
    elif hi > lo:
        set_limits(lo - pad * (hi - lo), hi + pad * (hi - lo))


def _score(row):
    score = row.get("dev_score")
    return float(score) if isinstance(score, (int, float)) and score is not None else math.nan
