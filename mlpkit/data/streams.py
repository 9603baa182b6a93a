"""Streaming: the block shuffle, background prefetching, and evaluation and prediction over a
source's mini-batches, so that no path needs the whole data set in memory.

`BlockShuffle` is a shuffle for the loop (`order(epoch, m, rng)`, see `mlpkit.training.batches`)
whose orders a file-backed source reads as a few contiguous ranges. `evaluate_source` and
`predict_source` run a network over a source batch by batch.
"""

from __future__ import annotations

import contextlib
import math
import os
import queue
import threading

import numpy as np

from ..training.batches import close_batches, closing_batches
from ..training.validation import SourceValidation, evaluation_batch_size
from .checks import check_number


def cpu_count() -> int:
    """The CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def available_memory() -> int | None:
    """Bytes of memory available to new allocations without swapping (Linux's MemAvailable:
    free memory plus the page cache the kernel can drop), or None where it is unknown.

    Returns
    -------
    nbytes : int or None
        The bytes available; None where neither /proc/meminfo nor sysconf tells.
    """
    with contextlib.suppress(OSError, StopIteration, ValueError), open("/proc/meminfo") as f:
        line = next(line for line in f if line.startswith("MemAvailable:"))
        return int(line.split()[1]) * 1024
    with contextlib.suppress(OSError, ValueError, AttributeError):
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return None


class BlockShuffle:
    """A shuffle that keeps reads contiguous: random blocks, mixed inside a buffer of blocks.

    Each epoch the m examples are cut into blocks of `block_size` consecutive examples (the last
    may be shorter) and the blocks are put in a random order; then the examples inside each
    window of block_size * buffer_blocks consecutive positions of that order are shuffled
    together. Every example is visited exactly once per epoch, and a window holds pieces of at
    most buffer_blocks + 1 blocks, each a contiguous range of the file: a file-backed source
    reads a window as that many ranges instead of block_size * buffer_blocks scattered rows
    (its read window should hold a whole shuffle window: `HDF5Source.block_shuffle()` sizes one
    to fit).

    The trade-off is the buffer's size against how random the order is. A mini-batch takes its
    examples from one window, that is from a few blocks of neighbours in the file, not from the
    whole set: if the file is sorted (by class, by date, by source), the mini-batches are less
    mixed than under an exact shuffle and their gradients biased towards the window's examples.
    More blocks per buffer (more memory: the defaults hold 4096 examples, 48 MiB of 64 x 64 RGB
    uint8 images) or smaller blocks (more, shorter reads) give orders closer to a uniform
    permutation; block_size * buffer_blocks >= m is one. Files written by `mlpkit convert` are
    stored in a shuffled order, so their blocks already mix the classes. When the data fits in
    memory, the exact shuffle (`shuffle=True`) costs nothing.

    Draws from the loop's generator only, so a run resumes bit for bit.

    Parameters
    ----------
    block_size : int, default 256
        Consecutive examples per block.
    buffer_blocks : int, default 16
        Blocks per shuffle window.

    Raises
    ------
    ValueError
        If either is not an integer >= 1.

    Examples
    --------
    >>> shuffle = BlockShuffle(block_size=3, buffer_blocks=2)
    >>> order = shuffle.order(0, 12, np.random.default_rng(0))
    >>> sorted(order.tolist()) == list(range(12))     # each example once
    True
    >>> [sorted(set((order[i : i + 6] // 3).tolist())) for i in (0, 6)]  # blocks per window
    [[0, 2], [1, 3]]
    """

    def __init__(self, block_size: int = 256, buffer_blocks: int = 16):
        self.block_size = check_number(block_size, "BlockShuffle block_size", integer=True,
                                       min_val=1)
        self.buffer_blocks = check_number(buffer_blocks, "BlockShuffle buffer_blocks",
                                          integer=True, min_val=1)

    @property
    def name(self) -> str:
        return f"block({self.block_size},{self.buffer_blocks})"

    def __repr__(self):
        return f"BlockShuffle(block_size={self.block_size}, buffer_blocks={self.buffer_blocks})"

    def order(self, epoch, m, rng):
        """This epoch's order of the m examples: the blocks permuted, then each window shuffled.

        Parameters
        ----------
        epoch : int
            The epoch (unused: the order comes from `rng` alone).
        m : int
            The number of examples.
        rng : numpy.random.Generator
            The loop's generator, the only source of randomness.

        Returns
        -------
        order : ndarray of shape (m,), int64
            A permutation of 0..m-1.
        """
        size = self.block_size
        blocks = rng.permutation(-(-m // size))
        starts = blocks * size
        lengths = np.minimum(size, m - starts)
        ends = np.cumsum(lengths)
        # the examples of the permuted blocks one after the other: start of its block + offset
        order = np.repeat(starts - (ends - lengths), lengths) + np.arange(m)
        window = size * self.buffer_blocks
        for begin in range(0, m, window):
            rng.shuffle(order[begin : begin + window])
        return order


# ---------------------------------------------------------------------------------------------
# Threads
# ---------------------------------------------------------------------------------------------


def blas_limit(threads):
    """A context capping the BLAS threads at `threads` (None: no change), so that reading or
    decoding threads and BLAS threads together do not oversubscribe the cores."""
    if threads is None:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=threads, user_api="blas")


_DONE = object()


def prefetched(make, depth, name="mlpkit-prefetch"):
    """Iterate over make() (an iterator made and run in a background thread) up to `depth`
    items ahead, through a bounded queue (memory stays flat). An error in the thread is raised
    here; closing this generator (or Ctrl-C here) stops the thread and waits for it."""
    items = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item):
        while not stop.is_set():
            try:
                items.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def work():
        try:
            iterator = make()
            try:
                for item in iterator:
                    if not put((item, None)):
                        return
                put((_DONE, None))
            finally:
                close_batches(iterator)
        except BaseException as error:  # handed to the consumer, which raises it
            put((None, error))

    thread = threading.Thread(target=work, name=name, daemon=True)
    thread.start()
    try:
        while True:
            item, error = items.get()
            if error is not None:
                raise error
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        thread.join()


# ---------------------------------------------------------------------------------------------
# Evaluation and prediction
# ---------------------------------------------------------------------------------------------


def evaluate_source(net, source, batch_size=None):
    """(cost, score) of `net` on a source, in prediction mode, accumulated over its mini-batches
    (in the data's order): the cost without L2, and accuracy (classifiers) or R^2 (a linear
    output), as `Network.evaluate` gives them on the same data held in memory.

    Parameters
    ----------
    net : Network
        The network to evaluate.
    source : source
        Examples with targets (a streaming source or any source of the loop's interface).
    batch_size : int, optional
        Examples per batch; default batches of about 16 MiB of floats.

    Returns
    -------
    cost : float
        The mean cost over the source's examples, without L2.
    score : float
        Accuracy (classifiers) or R^2 (a linear output).
    """
    values = SourceValidation(source, batch_size)(net)
    return values["val_cost"], values["val_score"]


def predict_source(net, source, batch_size=None):
    """(A[L] (n_y, k), index (k,)): the network's outputs for the examples of a source, in the
    data's order, and their positions in the source (k < m when a source skipped unreadable
    examples).

    Parameters
    ----------
    net : Network
        The network.
    source : source
        The examples (targets not needed).
    batch_size : int, optional
        Examples per batch; default batches of about 16 MiB of floats.

    Returns
    -------
    AL : ndarray of shape (n_y, k)
        The network's outputs, one column per example.
    index : ndarray of shape (k,), int64
        The position in the source of each column.
    """
    m = source.n_examples
    if batch_size is None:
        batch_size = evaluation_batch_size(source)
    outputs, index, start = [], [], 0
    with closing_batches(source, np.arange(m), batch_size) as batches:
        for batch in batches:
            AL, _ = net.forward(batch.X)
            outputs.append(AL)
            positions = getattr(batch, "index", None)
            index.append(np.arange(start, start + batch.size) if positions is None else positions)
            start += batch.size
    if not outputs:
        return np.empty((net.layer_dims[-1], 0), net.dtype), np.empty(0, np.int64)
    return np.concatenate(outputs, axis=1), np.concatenate(index).astype(np.int64)


def batch_size_for(m, workers, cap=64):
    """A prediction batch size that keeps `workers` decoding threads busy on m images."""
    return max(1, min(cap, math.ceil(m / max(1, 2 * workers))))
