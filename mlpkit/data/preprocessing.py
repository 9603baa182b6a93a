"""Preprocessing in the course's layout: images to columns, one-hot labels, standardization,
flips. A design matrix X has shape (n_x, m), one column per example; labels Y have shape (n_y, m).
"""

from __future__ import annotations

import numpy as np


def flatten_images(images, dtype=np.float64) -> np.ndarray:
    """Images (m, h, w, c) -> X of shape (h*w*c, m): `images.reshape(m, -1).T / 255`.

    Parameters
    ----------
    images : array_like of shape (m, h, w[, c])
        Pixel values in 0..255 (uint8 or any number type).
    dtype : float32 or float64, default float64
        The dtype of X; the network's math follows it.

    Returns
    -------
    X : ndarray of shape (h*w*c, m)
        One column per image, scaled to [0, 1].

    Raises
    ------
    ValueError
        If `dtype` is not float32 or float64, or `images` has fewer than 2 dimensions.

    Examples
    --------
    >>> import numpy as np
    >>> images = np.full((3, 2, 2, 3), 255, dtype=np.uint8)   # 3 white 2x2 RGB images
    >>> X = flatten_images(images)
    >>> X.shape, float(X.max())
    ((12, 3), 1.0)
    """
    images = np.asarray(images)
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, got {dtype}")
    if images.ndim < 2:
        raise ValueError(f"expected images of shape (m, h, w[, c]), got shape {images.shape}")
    return images.reshape(images.shape[0], -1).T.astype(dtype) / dtype.type(255)



def one_hot(labels, n_classes: int | None = None) -> np.ndarray:
    """Int labels (m,) or (1, m) -> one-hot Y of shape (C, m) with Y[labels[i], i] = 1.

    Parameters
    ----------
    labels : array_like of int, shape (m,) or (1, m)
        Class indices, each in 0..C-1.
    n_classes : int, optional
        C; by default the largest label + 1.

    Returns
    -------
    Y : ndarray of shape (C, m), float64
        One column per example, with a single 1.

    Raises
    ------
    ValueError
        If the labels are not non-negative integers of shape (m,) or (1, m), a label is
        C or more, or C cannot be inferred (no labels).

    Examples
    --------
    >>> one_hot([2, 0, 1])
    array([[0., 1., 0.],
           [0., 0., 1.],
           [1., 0., 0.]])
    """
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[0] == 1:
        labels = labels[0]
    if labels.ndim != 1:
        raise ValueError(f"labels must have shape (m,) or (1, m), got {labels.shape}")
    if labels.size and (not np.issubdtype(labels.dtype, np.number)
                        or np.any(labels != np.round(labels))):
        raise ValueError("labels must be integers")
    labels = labels.astype(np.int64)
    if labels.size and labels.min() < 0:
        raise ValueError(f"labels must be >= 0, got {labels.min()}")
    if n_classes is None:
        if not labels.size:
            raise ValueError("cannot infer n_classes from empty labels")
        n_classes = int(labels.max()) + 1
    if n_classes < 1:
        raise ValueError(f"n_classes must be >= 1, got {n_classes}")
    if labels.size and labels.max() >= n_classes:
        raise ValueError(f"label {labels.max()} out of range for n_classes={n_classes}")
    Y = np.zeros((n_classes, labels.size))
    Y[labels, np.arange(labels.size)] = 1.0
    return Y


def from_one_hot(Y) -> np.ndarray:
    """One-hot (or probability) matrix (C, m) -> int64 labels (m,) = argmax over classes.

    Parameters
    ----------
    Y : array_like of shape (C, m)
        One-hot columns, or a softmax's probabilities.

    Returns
    -------
    labels : ndarray of shape (m,), int64
        The row of each column's largest entry; the inverse of `one_hot`.

    Raises
    ------
    ValueError
        If `Y` is not two-dimensional with at least one row.

    Examples
    --------
    >>> from_one_hot([[0.1, 0.7], [0.9, 0.3]])
    array([1, 0])
    """
    Y = np.asarray(Y)
    if Y.ndim != 2 or Y.shape[0] < 1:
        raise ValueError(f"Y must have shape (C, m), got {Y.shape}")
    return np.argmax(Y, axis=0).astype(np.int64)


class Standardizer:
    """Per-feature standardization x := (x - mu) / sigma, statistics over examples (axis 1).

    `fit` learns mu = mean(X, axis=1) and sigma2 = var(X, axis=1) on the training set;
    `transform` applies exactly those statistics to any later data (dev/test), so every set
    goes through the same mapping. Constant features (sigma2 = 0) use sigma = 1 and map to 0.
    Output dtype follows X (float32 stays float32; integer input becomes float64).

    Attributes
    ----------
    mean_ : ndarray of shape (n_x, 1), float64
        mu, the mean of each feature over the examples seen.
    var_ : ndarray of shape (n_x, 1), float64
        sigma2, their variance (0 for a constant feature).
    scale_ : ndarray of shape (n_x, 1), float64
        sigma, the divisor `transform` uses (1 for a constant feature).
    n_samples_seen_ : int
        The number of examples the statistics are over.

    Examples
    --------
    >>> X_train = np.array([[1.0, 2.0, 3.0], [5.0, 5.0, 5.0]])
    >>> scaler = Standardizer().fit(X_train)
    >>> scaler.mean_.ravel(), scaler.var_.ravel()
    (array([2., 5.]), array([0.66666667, 0.        ]))
    >>> scaler.transform(np.array([[2.0], [5.0]]))
    array([[0.],
           [0.]])
    """

    def __init__(self):
        self.mean_: np.ndarray | None = None
        self.var_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None
        self.n_samples_seen_ = 0
        self._sums = None  # partial_fit's (mean, sum of squared deviations, min, max)

    @staticmethod
    def _as_float(X) -> np.ndarray:
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(f"X must have shape (n_x, m), got {X.shape}")
        return X if np.issubdtype(X.dtype, np.floating) else X.astype(np.float64)

    def fit(self, X) -> Standardizer:
        """Learn mean_ and var_ (each (n_x, 1), float64) from X of shape (n_x, m).

        Parameters
        ----------
        X : array_like of shape (n_x, m)
            The training examples, one per column.

        Returns
        -------
        self : Standardizer
            This standardizer, fitted.

        Raises
        ------
        ValueError
            If `X` is not two-dimensional, has no example, or holds NaN or infinite values.
        """
        X = self._as_float(X)
        if X.shape[1] == 0:
            raise ValueError("cannot fit a Standardizer on 0 examples")
        if not np.all(np.isfinite(X)):
            raise ValueError("X contains NaN or infinite values")
        constant = np.ptp(X, axis=1, keepdims=True) == 0
        # Constant rows take their value as mean, so they map to exactly 0 (no rounding).
        self.mean_ = np.where(constant, X[:, :1], X.mean(axis=1, keepdims=True, dtype=np.float64))
        self.var_ = np.where(constant, 0.0, X.var(axis=1, keepdims=True, dtype=np.float64))
        self.scale_ = np.where(constant, 1.0, np.sqrt(self.var_))
        self.n_samples_seen_ = X.shape[1]
        self._sums = None  # partial_fit's running sums start again from these statistics
        return self

    def partial_fit(self, X) -> Standardizer:
        """Update mean_ and var_ with a further batch X (n_x, b): they become the statistics of
        every example seen so far (after `fit`, its examples too), so a data set too big for
        memory is standardized in one streaming pass. Chan et al.'s pairwise update of the count,
        mean and sum of squared deviations, in float64; equal to `fit` on all the batches at
        once up to rounding (constant features exactly as in `fit`).

        Parameters
        ----------
        X : array_like of shape (n_x, b)
            The next batch of examples, one per column; an empty batch (b = 0) changes nothing.

        Returns
        -------
        self : Standardizer
            This standardizer, with the statistics of every example seen.

        Raises
        ------
        ValueError
            If `X` is not two-dimensional or holds NaN or infinite values.

        Examples
        --------
        >>> X = np.array([[1.0, 2.0, 3.0, 6.0]])
        >>> streamed = Standardizer().partial_fit(X[:, :1]).partial_fit(X[:, 1:])
        >>> streamed.mean_.ravel(), streamed.var_.ravel(), streamed.n_samples_seen_
        (array([3.]), array([3.5]), 4)
        """
        X = self._as_float(X)
        if X.shape[1] == 0:
            return self
        if not np.all(np.isfinite(X)):
            raise ValueError("X contains NaN or infinite values")
        n_b = X.shape[1]
        mean_b = X.mean(axis=1, keepdims=True, dtype=np.float64)
        m2_b = np.square(X - mean_b).sum(axis=1, keepdims=True)
        low_b, high_b = X.min(axis=1, keepdims=True), X.max(axis=1, keepdims=True)
        sums = self._sums
        if sums is None and self.n_samples_seen_:  # continue from fit's statistics
            constant = self.var_ == 0  # fit kept no minimum and maximum: only constancy counts
            sums = (self.mean_, self.var_ * self.n_samples_seen_,
                    np.where(constant, self.mean_, -np.inf), np.where(constant, self.mean_, np.inf))
        n_a = self.n_samples_seen_
        if sums is None:
            mean, m2, low, high = mean_b, m2_b, low_b, high_b
        else:
            mean_a, m2_a, low_a, high_a = sums
            n = n_a + n_b
            delta = mean_b - mean_a
            mean = mean_a + delta * (n_b / n)
            m2 = m2_a + m2_b + np.square(delta) * (n_a * n_b / n)
            low, high = np.minimum(low_a, low_b), np.maximum(high_a, high_b)
        self.n_samples_seen_ = n_a + n_b
        self._sums = (mean, m2, low, high)
        constant = low == high
        self.mean_ = np.where(constant, low, mean).astype(np.float64)
        self.var_ = np.where(constant, 0.0, m2 / self.n_samples_seen_)
        self.scale_ = np.where(constant, 1.0, np.sqrt(self.var_))
        return self

    def transform(self, X) -> np.ndarray:
        """Return (X - mean_) / sqrt(var_) using the fitted (training) statistics.

        Parameters
        ----------
        X : array_like of shape (n_x, m)
            Examples with the features the standardizer was fitted on.

        Returns
        -------
        X_std : ndarray of shape (n_x, m)
            The standardized examples, in X's float dtype (float64 for integer input).

        Raises
        ------
        ValueError
            If the standardizer is not fitted, or `X` is not two-dimensional with n_x rows.
        """
        if self.mean_ is None:
            raise ValueError("Standardizer is not fitted; call fit(X_train) first")
        X = self._as_float(X)
        if X.shape[0] != self.mean_.shape[0]:
            raise ValueError(
                f"X has {X.shape[0]} features, the Standardizer was fitted on {self.mean_.shape[0]}"
            )
        return (X - self.mean_.astype(X.dtype)) / self.scale_.astype(X.dtype)

    def fit_transform(self, X) -> np.ndarray:
        """fit(X) then transform(X).

        Parameters
        ----------
        X : array_like of shape (n_x, m)
            The training examples, one per column.

        Returns
        -------
        X_std : ndarray of shape (n_x, m)
            `X` standardized with its own statistics.

        Raises
        ------
        ValueError
            As `fit`.
        """
        return self.fit(X).transform(X)


def horizontal_flip(images, labels):
    """Augment training images (m, h, w, c) with their mirror images (left-right flip).

    Returns (images + flipped copies, labels repeated): 2m examples. Labels may be (m,) or
    (1, m); they are concatenated along the example axis. Use on training data only.

    Parameters
    ----------
    images : array_like of shape (m, h, w) or (m, h, w, c)
        The training images.
    labels : array_like of shape (m,) or (1, m)
        Their labels.

    Returns
    -------
    images : ndarray of shape (2m, h, w[, c])
        The images, then their mirror images in the same order.
    labels : ndarray of shape (2m,) or (1, 2m)
        The labels, twice.

    Raises
    ------
    ValueError
        If `images` is not 3- or 4-dimensional, or the labels are not one per image.

    Examples
    --------
    >>> images = np.arange(4).reshape(1, 1, 4)      # one image of one row of 4 pixels
    >>> flipped, labels = horizontal_flip(images, np.array([1]))
    >>> flipped[:, 0], labels
    (array([[0, 1, 2, 3],
           [3, 2, 1, 0]]), array([1, 1]))
    """
    images = np.asarray(images)
    labels = np.asarray(labels)
    if images.ndim not in (3, 4):
        raise ValueError(f"images must have shape (m, h, w, c), got {images.shape}")
    if labels.shape[-1:] != images.shape[:1]:
        raise ValueError(f"labels shape {labels.shape} does not match {images.shape[0]} images")
    flipped = images[:, :, ::-1, ...]
    return np.concatenate([images, flipped]), np.concatenate([labels, labels], axis=-1)
