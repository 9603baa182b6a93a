"""Atomic file writes: a reader of the file sees its old contents or the whole new ones."""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path


def atomic_write(path, write) -> Path:
    """Write `path` with write(f), f a binary file: into a fresh temporary file in the same
    folder (created if missing), fsync it, then os.replace it over `path`. On any failure the
    temporary file is removed and `path` keeps its old contents.

    Parameters
    ----------
    path : str or Path
        The file to write.
    write : callable
        write(f) writes the contents to `f`, a binary file open for writing; it may also
        write the file by its name, `f.name`.

    Returns
    -------
    path : Path
        `path`, written.

    Raises
    ------
    IsADirectoryError
        If `path` is a directory.
    Exception
        Whatever `write` raises, after the temporary file is removed.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = atomic_write(Path(tmp) / "sub" / "notes.txt", lambda f: f.write(b"hello"))
    ...     path.name, path.read_bytes(), sorted(p.name for p in path.parent.iterdir())
    ('notes.txt', b'hello', ['notes.txt'])
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path}: is a directory; expected a file path")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        # "xb": a fresh file with the usual umask permissions, never clobbering another.
        with open(tmp, "xb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return path


def _fsync_dir(folder):
    """Make the rename itself durable (POSIX; a no-op where folders can't be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
