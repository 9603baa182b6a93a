"""`ImageFilesSource` and `ImageFolderSource`: image files decoded on the fly (Pillow, as
`load_image`), by worker processes a few batches ahead (`mlpkit.data.decode_pool`) or in the
calling thread, unreadable files skipped with a warning or refused under strict."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..checks import check_number
from ..h5 import check_labels
from ..streams import blas_limit, cpu_count
from .base import StreamBatch, StreamingSource


class NoReadableImages(ValueError):
    """None of the image files of a pass could be read (each had its warning)."""



class ImageFilesSource(StreamingSource):
    """Image files decoded on the fly (Pillow, as `load_image`: RGB, resized to image_size),
    by `workers` processes (default one per CPU) that decode the next `prefetch` batches
    (default 2 per worker) into shared memory while the loop does the math (a `DecodePool`,
    started at the first pass and kept until `close()` or the source's end).

    labels (one class index per file) and classes (names) make the targets. workers=0
    decodes in the calling thread. While the workers decode, BLAS is capped at blas_threads
    (default: the CPUs the workers leave, at least 1), so that decoding and BLAS together do not
    oversubscribe the cores; the workers' own BLAS has 1 thread. An unreadable file is skipped
    with a warning naming it (once per file: `warn(message)`, default warnings.warn), or raises
    a ValueError under strict=True. A pass left early (an error, Ctrl-C) stops the workers. The
    images decoded do not depend on the workers: the same order gives the same batches.

    Parameters
    ----------
    paths : sequence of str or Path
        The image files, one example each.
    labels : array_like of int, shape (m,), optional
        The class index of each file; without labels the source has no targets.
    classes : list of str, optional
        The class names; default "0".."max(labels)".
    image_size : int, default 64
        s: each image is resized (stretched) to s x s, so n_x = s * s * 3.
    workers : int, optional
        Decoding processes; default one per CPU; 0 decodes in the calling thread.
    prefetch : int, optional
        Batches decoded ahead; default 2 per worker.
    strict : bool, default False
        If True an unreadable file raises ValueError; else it is skipped with a warning.
    warn : callable, optional
        warn(message) reports a skipped file; default `warnings.warn`.
    dtype : float64 or float32, default float64
        The dtype of the batches' X and Y.
    standardizer : Standardizer, optional
        A fitted standardizer applied after the 1/255 scaling.
    targets : callable, optional
        targets(labels) -> Y (n_y, b); default a 0/1 row for 2 classes, one-hot for more.
    blas_threads : int, None or "auto", default "auto"
        The BLAS cap while workers decode; "auto": the CPUs the workers leave (at least 1),
        None: no cap.
    name : str, optional
        What messages call the source; default "<m> image files".

    Attributes
    ----------
    paths : list of Path
        The image files.
    n_examples : int
        m, the examples of this source.
    n_features : int
        n_x = s * s * 3.

    Raises
    ------
    ValueError
        If no file is given, the labels are not one non-negative integer per file or exceed
        the classes, or a number option is out of range.
    """

    def __init__(self, paths, labels=None, classes=None, image_size=64, *, workers=None,
                 prefetch=None, strict=False, warn=None, dtype=np.float64, standardizer=None,
                 targets=None, blas_threads="auto", name=None):
        from ..images import _check_size

        self.paths = [Path(p) for p in paths]
        if not self.paths:
            raise ValueError("no image files given")
        self.image_size = _check_size(image_size)
        name = name or f"{len(self.paths)} image files"
        if labels is not None:
            labels, found = check_labels(labels, len(self.paths), name, "the file list",
                                         "labels")
            if classes is None:
                classes = found
            elif int(labels.max()) >= len(classes):
                raise ValueError(f"{name}: label {int(labels.max())} has no class among the "
                                 f"{len(classes)} classes {list(classes)}; expected labels "
                                 f"0..{len(classes) - 1}")
        self.workers = cpu_count() if workers is None else check_number(
            workers, "workers", integer=True, min_val=0)
        self.prefetch = (2 * self.workers if prefetch is None
                         else check_number(prefetch, "prefetch", integer=True, min_val=1))
        if blas_threads == "auto":
            blas_threads = max(1, cpu_count() - self.workers) if self.workers else None
        self.blas_threads = None if blas_threads is None else check_number(
            blas_threads, "blas_threads", integer=True, min_val=1)
        self.strict = bool(strict)
        import warnings

        self.warn = warnings.warn if warn is None else warn
        self._warned = set()  # files already reported (shared by subsets)
        self._pool = None
        size = self.image_size
        super().__init__(name, len(self.paths), (size, size, 3), np.uint8, labels=labels,
                         classes=classes, targets=targets, dtype=dtype, standardizer=standardizer)

    def images(self, positions):
        """The images at `positions`, decoded (uint8 (k, s, s, 3)), e.g. to show a few.

        Parameters
        ----------
        positions : array_like of int, shape (k,)
            Positions of examples in this source, each in 0..m-1.

        Returns
        -------
        images : ndarray of shape (k, s, s, 3), uint8
            The images, decoded in the calling thread.

        Raises
        ------
        ValueError
            If a position is out of range, or a file is unreadable (whatever `strict`).
        """
        from ..images import _read_image

        rows = self._file_rows(self._check_order(positions))
        return np.stack([_read_image(self.paths[r], self.image_size) for r in rows])

    def decoded(self, order, batch_size):
        """(uint8 images (b, s, s, 3), positions) for the examples of `order`, batch by batch,
        without the float scaling (e.g. to store them); unreadable files are left out.

        Parameters
        ----------
        order : array_like of int, shape (k,)
            Positions of examples in this source, in the order wanted.
        batch_size : int
            The examples asked for per batch (fewer come back where files were skipped).

        Yields
        ------
        images : ndarray of shape (b, s, s, 3), uint8
            The batch's readable images, in a buffer reused for the next batch.
        positions : ndarray of shape (b,), int64
            Their positions in the source.

        Raises
        ------
        ValueError
            If `order` or `batch_size` is invalid, or a file is unreadable under `strict`.
        NoReadableImages
            If none of the files of the pass could be read.
        """
        order = self._check_order(order)
        batch_size = check_number(batch_size, "batch_size", integer=True, min_val=1)
        for raw, _, positions in self._pipeline(order, batch_size, floats=False):
            yield raw, positions

    def _batches(self, order, batch_size):
        for _, X_rows, positions in self._pipeline(order, batch_size, floats=True):
            yield StreamBatch(X_rows.T, self._targets(positions), index=positions)

    def close(self):
        """Stop the decoding workers (a later pass starts new ones)."""
        if self._pool is not None:
            self._pool.close()

    def __getstate__(self):
        return {**self.__dict__, "_pool": None}  # processes stay with their parent

    def _pipeline(self, order, batch_size, floats):
        """(uint8 images, float rows or None, positions kept) per batch of `order`."""
        s, n_x = self.image_size, self.n_features
        out = np.empty((batch_size, n_x), self.dtype) if floats else None
        to_float = self._scaler()
        starts = range(0, order.size, batch_size)
        files = [[self.paths[r] for r in self._file_rows(order[a : a + batch_size])]
                 for a in starts]
        if self.workers:
            if self._pool is None:
                from ..decode_pool import DecodePool

                self._pool = DecodePool(self.workers)
            decoded = self._pool.decode(files, s, self.prefetch)
        else:
            decoded = _decode_here(files, s)
        seen = 0
        try:
            with blas_limit(self.blas_threads if self.workers else None):
                for start, batch_files, (raw, failures) in zip(starts, files, decoded,
                                                                strict=True):
                    positions = order[start : start + batch_size]
                    ok = np.ones(positions.size, bool)
                    for i, message in failures:
                        if self.strict:
                            raise ValueError(message)
                        ok[i] = False
                        if batch_files[i] not in self._warned:
                            self._warned.add(batch_files[i])
                            self.warn(f"skipping {message}")
                    images = raw if ok.all() else raw[ok]
                    n = len(images)
                    if not n:
                        continue
                    rows = to_float(images.reshape(n, n_x), out[:n]) if floats else None
                    seen += n
                    yield images, rows, positions[ok]
        finally:
            decoded.close()
        if order.size and not seen:
            raise NoReadableImages(f"{self.name}: none of the image files could be read")


def _decode_here(files, s):
    """What DecodePool.decode gives, decoded in the calling thread into one reused buffer."""
    from ..images import _read_image

    raw = np.empty((max((len(f) for f in files), default=0), s, s, 3), np.uint8)
    for batch in files:
        failures = []
        for i, path in enumerate(batch):
            try:
                raw[i] = _read_image(path, s)
            except ValueError as e:
                failures.append((i, str(e)))
        yield raw[: len(batch)], failures


class ImageFolderSource(ImageFilesSource):
    """The images of a folder with one subfolder per class (listed as `load_image_folder`
    does: sorted class names, image files directly inside), decoded on the fly; options as
    ImageFilesSource's.

    Parameters
    ----------
    folder : str or Path
        The folder of class folders.
    image_size : int, default 64
        s: each image is resized (stretched) to s x s.
    **options
        ImageFilesSource's keyword arguments (workers, prefetch, strict, warn, dtype,
        standardizer, targets, blas_threads).

    Attributes
    ----------
    folder : Path
        The folder.
    classes : list of str
        The class folders' names, sorted.

    Raises
    ------
    FileNotFoundError, ValueError
        As `list_image_folder`.
    """

    def __init__(self, folder, image_size=64, **options):
        from ..images import list_image_folder

        self.folder = Path(folder)
        classes, files = list_image_folder(self.folder)
        paths = [p for c in classes for p in files[c]]
        labels = np.repeat(np.arange(len(classes)), [len(files[c]) for c in classes])
        super().__init__(paths, labels, classes, image_size, name=str(self.folder), **options)

