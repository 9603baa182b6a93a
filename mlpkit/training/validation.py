"""Validation during training: the metrics {"val_cost", "val_score"} the loop records after each
epoch, from arrays in memory (`Validation`) or from a source streamed batch by batch
(`SourceValidation`)."""

from ..nn.backend import np
from ..nn.checks import all_finite
from .batches import closing_batches


class Validation:
    """Validation data (X (n_x, m), Y (n_y, m), optional weights), checked once; calling it on
    the network gives {"val_cost", "val_score"} in prediction mode."""

    def __init__(self, X, Y, sample_weight=None):
        self.X, self.Y, self.sample_weight = X, Y, sample_weight

    def __call__(self, net):
        AL, caches = net.forward(self.X)
        cost = net.compute_cost(self.Y, caches, sample_weight=self.sample_weight)
        if not all_finite(AL):  # a diverged network has no score
            return {"val_cost": cost, "val_score": np.nan}
        return {"val_cost": cost, "val_score": net.score_outputs(AL, self.Y, self.sample_weight)}


def is_source(data):
    """Whether `data` is a source of mini-batches (see `mlpkit.training.batches`)."""
    return callable(getattr(data, "batches", None)) and hasattr(data, "n_examples")


def evaluation_batch_size(source, target_bytes=16 << 20):
    """Prediction-mode batches of about `target_bytes` of floats (at least 1 example, and at
    least 8 batches, so that a source's reading threads have batches to work on)."""
    itemsize = np.dtype(source.dtype).itemsize
    by_bytes = max(1, target_bytes // max(1, source.n_features * itemsize))
    return max(1, min(by_bytes, -(-source.n_examples // 8)))


class SourceValidation:
    """Validation data given as a source: {"val_cost", "val_score"} accumulated over its
    mini-batches in the data's order, in prediction mode, so that it is never held whole. The
    cost is the (weighted) mean over all examples; the score is accuracy for classifiers (all
    n_y labels right for multi-label sigmoid) and R^2 averaged over outputs for a linear
    output, as `Validation` computes them on the same data in memory."""

    def __init__(self, source, batch_size=None):
        self.source = source
        self.batch_size = evaluation_batch_size(source) if batch_size is None else batch_size

    def __call__(self, net):
        source = self.source
        total_cost = total_weight = correct = 0.0
        regression = net.output_activation not in ("sigmoid", "softmax")
        moments = None  # per output: (weight, mean of y, squared deviations of y, residuals)
        finite = True
        with closing_batches(source, np.arange(source.n_examples), self.batch_size) as batches:
            for batch in batches:
                AL, caches = net.forward(batch.X)
                w = batch.sample_weight
                weight = float(batch.size if w is None else np.sum(w))
                total_cost += weight * net.compute_cost(batch.Y, caches, sample_weight=w)
                total_weight += weight
                finite = finite and all_finite(AL)
                if not finite:
                    continue
                if regression:
                    moments = _merge_moments(moments, batch.Y, AL, w)
                    continue
                if net.output_activation == "softmax":
                    right = AL.argmax(axis=0) == batch.Y.argmax(axis=0)
                else:
                    right = ((AL > 0.5) == (batch.Y > 0.5)).all(axis=0)
                correct += float(right.sum() if w is None else w[right].sum())
        if total_weight == 0:
            raise ValueError("the validation source gave no examples")
        cost = total_cost / total_weight
        if not finite:
            return {"val_cost": cost, "val_score": np.nan}
        if regression:
            return {"val_cost": cost, "val_score": _r2(moments)}
        return {"val_cost": cost, "val_score": correct / total_weight}


def _merge_moments(moments, Y, AL, w):
    """Chan's pairwise update of (weight, mean of y, squared deviations of y, squared residuals)
    per output, in float64."""
    Y, AL = Y.astype(np.float64), AL.astype(np.float64)
    w = np.ones(Y.shape[1]) if w is None else w.astype(np.float64)
    n_b = w.sum()
    mean_b = (Y * w).sum(axis=1) / n_b
    m2_b = (np.square(Y - mean_b[:, None]) * w).sum(axis=1)
    res_b = (np.square(Y - AL) * w).sum(axis=1)
    if moments is None:
        return n_b, mean_b, m2_b, res_b
    n_a, mean_a, m2_a, res_a = moments
    n = n_a + n_b
    delta = mean_b - mean_a
    return n, mean_a + delta * (n_b / n), m2_a + m2_b + delta**2 * (n_a * n_b / n), res_a + res_b


def _r2(moments):
    """R^2 averaged over outputs, as scikit-learn's r2_score: an output with constant targets
    scores 1 if predicted exactly, else 0."""
    _, _, m2, residuals = moments
    scores = np.where(m2 > 0, 1 - residuals / np.where(m2 > 0, m2, 1),
                      np.where(residuals == 0, 1.0, 0.0))
    return float(scores.mean())


