"""Decode a folder of images once into a chunked HDF5 file in the course's layout, so that training
streams raw uint8 pixels instead of decoding every image every epoch."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..io.files import atomic_write
from .sources import ImageFolderSource

CHUNK_BYTES = 1 << 20  # about 1 MiB of images per HDF5 chunk


def convert_image_folder(folder, out, image_size=64, *, prefix="train", strict=False,
                         workers=None, shuffle=True, seed=0, warn=None, progress=None):
    """Decode the class folders of `folder` (as `load_image_folder` lists and reads them) into
    the HDF5 file `out`: `<prefix>_set_x` uint8 (m, s, s, 3) in chunks of about 1 MiB,
    uncompressed (reads are plain copies), `<prefix>_set_y` int64 (m,), `list_classes` (the
    class names as bytes, like the course's files) and `<prefix>_set_paths` (each image's file,
    relative to `folder`).

    The images are stored in a random order (from `seed`) unless shuffle=False (the folder's
    order, class by class): a `BlockShuffle` then mixes classes even with a small buffer.
    Decoding runs on `workers` threads. An unreadable image is skipped with a warning (`warn`),
    or is an error under strict=True. The file is written under a temporary name in the same
    folder and renamed at the end, so `out` is either absent (or its old contents) or
    complete.

    Parameters
    ----------
    folder : str or Path
        The folder of class folders (see `list_image_folder`).
    out : str or Path
        The HDF5 file to write (its parent folder is created if missing).
    image_size : int, default 64
        s: each image is resized (stretched) to s x s.
    prefix : str, default "train"
        The datasets' prefix: `<prefix>_set_x`, `<prefix>_set_y`, `<prefix>_set_paths`.
    strict : bool, default False
        If True an unreadable image raises ValueError; else it is skipped with a warning.
    workers : int, optional
        Decoding processes (`ImageFolderSource`'s; default one per CPU, 0: this thread).
    shuffle : bool, default True
        Store the images in a random order; False keeps the folder's order.
    seed : int, default 0
        The seed of that order.
    warn : callable, optional
        warn(message) reports a skipped image; default `warnings.warn`.
    progress : callable, optional
        progress(n) is called with the number of images just done (read or skipped: m in
        all).

    Returns
    -------
    summary : dict
        "images" (stored), "skipped", "classes" (list of str), "image_size", "chunk_images"
        (images per HDF5 chunk), "bytes" (the file's size) and "path" (`out` as a Path).

    Raises
    ------
    FileNotFoundError
        If `folder` does not exist.
    ValueError
        As `list_image_folder`; if a class folder holds no readable image; or if an image is
        unreadable under `strict`. `out` is then left as it was.
    """
    import h5py

    source = ImageFolderSource(folder, image_size, workers=workers, strict=strict, warn=warn,
                               blas_threads=None)
    m, s = source.n_examples, source.image_size
    order = np.arange(m)
    if shuffle:
        order = np.random.default_rng(seed).permutation(m)
    per_chunk = max(1, min(m, CHUNK_BYTES // (s * s * 3)))
    batch = per_chunk * max(1, 256 // per_chunk)
    root = Path(folder)
    summary = {}

    def write(f):
        # h5py writes the temporary file atomic_write made (same inode), by its name
        with h5py.File(f.name, "w") as h5:
            x = h5.create_dataset(f"{prefix}_set_x", (m, s, s, 3), np.uint8,
                                  chunks=(per_chunk, s, s, 3), maxshape=(None, s, s, 3))
            labels = np.empty(m, np.int64)
            kept = np.empty(m, np.int64)
            rank = np.empty(m, np.int64)  # where each image comes in `order`
            rank[order] = np.arange(m)
            n = attempted = 0
            for images, positions in source.decoded(order, batch):
                k = positions.size
                x[n : n + k] = images
                labels[n : n + k] = source.labels[positions]
                kept[n : n + k] = positions
                n += k
                if progress is not None:  # the images tried so far, skipped ones included
                    done = int(rank[positions[-1]]) + 1
                    progress(done - attempted)
                    attempted = done
            if progress is not None and attempted < m:  # unreadable images at the end
                progress(m - attempted)
            if n < m:
                x.resize(n, axis=0)
            counts = np.bincount(labels[:n], minlength=len(source.classes))
            empty = [c for c, count in zip(source.classes, counts, strict=True) if count == 0]
            if empty:
                raise ValueError(f"{root}: class folder(s) {empty} hold no readable images")
            h5.create_dataset(f"{prefix}_set_y", data=labels[:n])
            h5.create_dataset("list_classes", data=np.array([c.encode() for c in source.classes]))
            names = [str(source.paths[i].relative_to(root)) for i in kept[:n]]
            h5.create_dataset(f"{prefix}_set_paths", data=names, dtype=h5py.string_dtype())
        summary.update(images=n, skipped=m - n, classes=source.classes, image_size=s,
                       chunk_images=per_chunk)

    path = atomic_write(out, write)
    summary["bytes"] = path.stat().st_size
    summary["path"] = path
    return summary

