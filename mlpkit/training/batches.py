"""Where the loop's mini-batches come from: a source of examples, and the order it visits them in.

A source has a small interface, which the in-memory `ArraySource` here and the streaming sources
of `mlpkit.data` implement:

- `n_examples` (m), `n_features` (n_x), `n_outputs` (n_y, or None when the source cannot
  say), `dtype`;
- `full_batch()` -> the one `Batch` of all m examples (sources that cannot hold them raise);
- `batches(order, batch_size)` -> the `Batch`es of examples order[0:b], order[b:2b], ... (the
  last may be smaller). A streaming source's iterator holds threads and files until it ends or
  is closed: `closing_batches` / `close_batches` release them at once (Ctrl-C too).

An order is an array of the m example indices. Each epoch the loop asks its shuffle for one:
`NoShuffle` (the data's order), `ExactShuffle` (a permutation drawn from the loop's generator),
`CourseShuffle` (the course's np.random.seed(seed + 1 + epoch) permutation).
"""

import contextlib
from dataclasses import dataclass

from ..nn.backend import backend_of, np
from ..nn.checks import check_int, is_sparse


@dataclass
class Batch:
    """One mini-batch in the course's layout: X (n_x, b), Y (n_y, b), optional weights (b,).

    Parameters
    ----------
    X : array of shape (n_x, b) or scipy.sparse matrix
        The batch's examples, one per column.
    Y : array of shape (n_y, b)
        Their targets.
    sample_weight : array of shape (b,), optional
        Their weights; None weighs them equally.
    """

    X: object
    Y: object
    sample_weight: object = None

    @property
    def size(self):
        return self.X.shape[1]


def close_batches(iterator):
    """Close an iterator of batches now (a generator's close), so a source's threads and files
    are released; a plain iterator has nothing to close."""
    close = getattr(iterator, "close", None)
    if close is not None:
        close()


@contextlib.contextmanager
def closing_batches(source, order, batch_size):
    """source.batches(order, batch_size), closed at the end of the block."""
    batches = source.batches(order, batch_size)
    try:
        yield batches
    finally:
        close_batches(batches)


class ArraySource:
    """Examples held in memory: X (n_x, m), Y (n_y, m), optional sample weights (m,).

    Mini-batches are gathered as rows of X^T (`rows`, C-contiguous, made once when first needed,
    or given) into one reused buffer, so each batch is contiguous for BLAS and no step allocates
    it. A batch is only valid until the next one is gathered.

    X may be a scipy.sparse matrix: its rows are then held as CSR and each batch is the CSR
    matrix of its own rows only (transposed to (n_x, b)), never dense.

    Parameters
    ----------
    X : array of shape (n_x, m) or scipy.sparse matrix
        The examples, one per column (checked by the caller).
    Y : array of shape (n_y, m)
        The targets.
    sample_weight : array of shape (m,), optional
        One weight per example.
    rows : array of shape (m, n_x), optional
        X^T, C-contiguous, when the caller already holds it (see `from_rows`).

    Examples
    --------
    >>> import numpy as np
    >>> source = ArraySource(np.arange(12.0).reshape(2, 6), np.zeros((1, 6)))
    >>> [batch.X.shape for batch in source.batches(np.arange(6), 4)]
    [(2, 4), (2, 2)]
    >>> source.full_batch().size
    6
    """

    def __init__(self, X, Y, sample_weight=None, rows=None):
        self.X, self.Y, self.sample_weight = X, Y, sample_weight
        self._rows = rows
        self._buffer = None

    @classmethod
    def from_rows(cls, X_rows, Y_rows, sample_weight=None):
        """A source over examples given one per row, (m, n_x) and (m, n_y), as scikit-learn
        holds them: the (n_x, m) layout is their transposes, views with no copy."""
        return cls(X_rows.T, Y_rows.T, sample_weight, rows=X_rows)

    @property
    def n_examples(self):
        return self.X.shape[1]

    @property
    def n_features(self):
        return self.X.shape[0]

    @property
    def n_outputs(self):
        return self.Y.shape[0]

    @property
    def dtype(self):
        return self.X.dtype

    @property
    def backend(self):
        """X's array library and device (`mlpkit.nn.backend`): the loop trains there."""
        return backend_of(self.X)

    def full_batch(self):
        """All m examples as one batch (the arrays themselves, no copy).

        Returns
        -------
        Batch
        """
        return Batch(self.X, self.Y, self.sample_weight)

    def batches(self, order, batch_size):
        """The mini-batches of examples order[0:b], order[b:2b], ... (the last may be smaller).
        On the host each batch's X is a view of one reused buffer, valid until the next.

        Parameters
        ----------
        order : array of int of shape (m,)
            The example indices, in the order to visit them.
        batch_size : int
            b, the examples per batch.

        Yields
        ------
        Batch
            X (n_x, b), Y (n_y, b) and the batch's weights.
        """
        rows = self._rows_for_gathering()
        w = self.sample_weight
        if is_sparse(rows):
            for start in range(0, len(order), batch_size):
                index = order[start : start + batch_size]
                yield Batch(rows[index].T, self.Y[:, index], None if w is None else w[index])
            return
        b = backend_of(rows)
        if not b.is_numpy:  # gathered on the device, in the order's copy there
            yield from _device_batches(b, rows, self.Y, w, b.asarray(order), batch_size)
            return
        if self._buffer is None or self._buffer.shape[0] < batch_size:
            self._buffer = np.empty((batch_size, rows.shape[1]), dtype=rows.dtype)
        for start in range(0, len(order), batch_size):
            index = order[start : start + batch_size]
            # mode="clip" (the indices are valid) lets take write straight into the buffer
            X = np.take(rows, index, axis=0, out=self._buffer[: len(index)], mode="clip").T
            yield Batch(X, self.Y[:, index], None if w is None else w[index])

    def _rows_for_gathering(self):
        if self._rows is None:
            X_T = self.X.T
            b = backend_of(self.X)
            self._rows = X_T.tocsr() if is_sparse(X_T) else (
                np.ascontiguousarray(X_T) if b.is_numpy else b.copy(X_T))
        return self._rows


def _device_batches(b, rows, Y, w, order, batch_size):
    xp = b.xp
    for start in range(0, order.shape[0], batch_size):
        index = order[start : start + batch_size]
        X = xp.take(rows, index, axis=0).T
        yield Batch(X, xp.take(Y, index, axis=1),
                    None if w is None else xp.take(w, index, axis=0))


class NoShuffle:
    """The data's own order, every epoch."""

    name = "none"

    def order(self, epoch, m, rng):
        """The examples' order in this epoch: 0, 1, ..., m - 1.

        Parameters
        ----------
        epoch : int
            The epoch, counted from 0 over the whole run.
        m : int
            The number of examples.
        rng : numpy.random.Generator
            The loop's generator.

        Returns
        -------
        ndarray of shape (m,)
            np.arange(m).
        """
        return np.arange(m)


class ExactShuffle:
    """A uniformly random permutation of the m examples each epoch, from the loop's generator."""

    name = "exact"

    def order(self, epoch, m, rng):
        """The examples' order in this epoch: a permutation drawn from `rng`.

        Parameters
        ----------
        epoch : int
            The epoch, counted from 0 over the whole run.
        m : int
            The number of examples.
        rng : numpy.random.Generator
            The loop's generator.

        Returns
        -------
        ndarray of shape (m,)
            rng.permutation(m).
        """
        return rng.permutation(m)


class CourseShuffle:
    """The course's shuffling: epoch e (from 0) seeds a legacy generator with seed + 1 + e (its
    loop adds one to the seed before each epoch) and takes np.random.permutation(m), as the
    course's `random_mini_batches` does after `np.random.seed(seed)`.

    Parameters
    ----------
    seed : int
        The course's seed, >= 0.

    Raises
    ------
    ValueError
        If seed is not an integer >= 0 (None included).

    Examples
    --------
    >>> CourseShuffle(seed=0).order(epoch=0, m=5, rng=None)   # np.random.seed(1) permutation
    array([2, 1, 4, 0, 3])
    """

    name = "course"

    def __init__(self, seed):
        self.seed = check_int(seed, "seed (the course's seed, for shuffle='course')", 0)

    def order(self, epoch, m, rng):
        """The examples' order in this epoch: RandomState(seed + 1 + epoch).permutation(m).

        Parameters
        ----------
        epoch : int
            The epoch, counted from 0 over the whole run.
        m : int
            The number of examples.
        rng : object
            Not used (the course's order depends on the seed and the epoch only).

        Returns
        -------
        ndarray of shape (m,)
            The permutation.
        """
        return np.random.RandomState(self.seed + 1 + epoch).permutation(m)


def get_shuffle(shuffle, seed=None):
    """True or "exact" -> ExactShuffle, False or "none" -> NoShuffle, "course" ->
    CourseShuffle(seed); an object with order(epoch, m, rng) is used as it is.

    Parameters
    ----------
    shuffle : bool, str or object
        True, "exact", False, "none", "course", or an object with order(epoch, m, rng).
    seed : int, optional
        The course's seed; needed for "course" only.

    Returns
    -------
    object
        The shuffle: an object with order(epoch, m, rng) -> the m example indices.

    Raises
    ------
    ValueError
        If `shuffle` is none of these, or is "course" without an integer seed >= 0.
    """
    if shuffle is True or shuffle == "exact":
        return ExactShuffle()
    if shuffle is False or shuffle == "none":
        return NoShuffle()
    if shuffle == "course":
        return CourseShuffle(seed)
    if callable(getattr(shuffle, "order", None)):
        return shuffle
    raise ValueError(
        f"unknown shuffle {shuffle!r}; expected True (or 'exact'), False (or 'none'), 'course', "
        "or an object with order(epoch, m, rng)"
    )
