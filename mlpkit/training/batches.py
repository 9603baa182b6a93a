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
    """One mini-batch in the course's layout: X (n_x, b), Y (n_y, b), optional weights (b,)."""

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
    matrix of its own rows only (transposed to (n_x, b)), never dense."""

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
        return Batch(self.X, self.Y, self.sample_weight)

    def batches(self, order, batch_size):
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
        return np.arange(m)


class ExactShuffle:
    """A uniformly random permutation of the m examples each epoch, from the loop's generator."""

    name = "exact"

    def order(self, epoch, m, rng):
        return rng.permutation(m)


class CourseShuffle:
    """The course's shuffling: epoch e (from 0) seeds a legacy generator with seed + 1 + e (its
    loop adds one to the seed before each epoch) and takes np.random.permutation(m), as the
    course's `random_mini_batches` does after `np.random.seed(seed)`."""

    name = "course"

    def __init__(self, seed):
        self.seed = check_int(seed, "seed (the course's seed, for shuffle='course')", 0)

    def order(self, epoch, m, rng):
        return np.random.RandomState(self.seed + 1 + epoch).permutation(m)


def get_shuffle(shuffle, seed=None):
    """True or "exact" -> ExactShuffle, False or "none" -> NoShuffle, "course" ->
    CourseShuffle(seed); an object with order(epoch, m, rng) is used as it is."""
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
