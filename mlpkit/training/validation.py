"""Validation during training: the metrics {"val_cost", "val_score"} the loop records after each
epoch, from arrays in memory (`Validation`) or from a source streamed batch by batch
(`SourceValidation`)."""

from ..nn.backend import np
from ..nn.checks import all_finite
from .batches import closing_batches


class Validation:
    """Validation data (X (n_x, m), Y (n_y, m), optional weights), checked once; calling it on
    the network gives {"val_cost", "val_score"} in prediction mode.

    Parameters
    ----------
    X : array of shape (n_x, m)
        The validation examples, checked, in the training data's library and dtype.
    Y : array of shape (n_y, m)
        Their targets, checked.
    sample_weight : array of shape (m,), optional
        One weight per example.

    Examples
    --------
    >>> import numpy as np
    >>> from mlpkit.nn import Network
    >>> net = Network([2, 1], init="zeros")            # predicts 0.5 everywhere
    >>> metrics = Validation(np.ones((2, 4)), np.array([[0.0, 1.0, 1.0, 1.0]]))(net)
    >>> round(float(metrics["val_cost"]), 4), metrics["val_score"]      # log 2, 1 of 4 right
    (0.6931, 0.25)
    """

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
    """Validation data given as a source: {"val_cost", "val_score"} over its mini-batches in the
    data's order, in prediction mode, so that its examples are never held whole. The cost is
    the (weighted) mean over all examples; the score is `Network.score_outputs`, the function
    `Validation` uses in memory, on the outputs and targets gathered batch by batch (2 n_y
    floats per example: 16 bytes for two classes in float64, against 98 KB of 128 x 128 RGB
    floats).

    Parameters
    ----------
    source : object
        A source of mini-batches (see `mlpkit.training.batches`).
    batch_size : int, optional
        The examples per batch; by default about 16 MB of floats, and at least 8 batches.
    """

    def __init__(self, source, batch_size=None):
        self.source = source
        self.batch_size = evaluation_batch_size(source) if batch_size is None else batch_size

    def __call__(self, net):
        source = self.source
        total_cost = total_weight = 0.0
        outputs, targets, weights = [], [], []
        with closing_batches(source, np.arange(source.n_examples), self.batch_size) as batches:
            for batch in batches:
                AL, caches = net.forward(batch.X)
                w = batch.sample_weight
                weight = float(batch.size if w is None else np.sum(w))
                total_cost += weight * net.compute_cost(batch.Y, caches, sample_weight=w)
                total_weight += weight
                outputs.append(AL)
                targets.append(np.array(batch.Y))  # a source may reuse its buffers
                weights.append(None if w is None else np.array(w))
        if total_weight == 0:
            raise ValueError("the validation source gave no examples")
        cost = total_cost / total_weight
        AL = np.concatenate(outputs, axis=1)
        if not all_finite(AL):  # a diverged network has no score
            return {"val_cost": cost, "val_score": np.nan}
        w = None if weights[0] is None else np.concatenate(weights)
        return {"val_cost": cost,
                "val_score": net.score_outputs(AL, np.concatenate(targets, axis=1), w)}
