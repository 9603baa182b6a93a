"""The results file: one CSV row per finished trial, appended and fsynced as each trial finishes,
so that an interrupted search loses at most the row being written and a rerun skips the trials
already there.

Each row holds the trial's round and index, its parameters and metrics, its status ("ok",
"diverged", "failed"), error message, seconds, the worker that ran it, when it finished (UTC)
and its key: round, index and a hash of the parameters, which identify the trial in a rerun.
Cells are written so that reading them back gives the same Python values: numbers exactly
(repr), lists, booleans and null as JSON (NumPy scalars and arrays as the Python numbers and
lists they hold), other strings as they are (quoted as JSON only when they would read back as
something else); an empty cell is None.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
from datetime import datetime, timezone
from pathlib import Path

from ..io.files import atomic_write
from .distributions import python_value

HEAD = ("round", "trial")
TAIL = ("status", "error", "seconds", "worker", "finished", "key")
BOOKKEEPING = (*HEAD, *TAIL)


def trial_key(round_number, index, params):
    """The trial's identity in a results file: "r<round>-t<index>-<hash of its parameters>"."""
    text = json.dumps(params, sort_keys=True, default=_key_default, allow_nan=True)
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    return f"r{round_number}-t{index}-{digest}"


def _key_default(obj):
    """A value JSON can't hold: a NumPy one as its Python value (so that np.int64(4) and 4 give
    the same key), any other (e.g. an optimizer instance) by its type and content."""
    from joblib import hash as joblib_hash

    value = python_value(obj)
    return f"{type(obj).__qualname__}:{joblib_hash(obj)}" if value is obj else value


class ResultsFile:
    """An append-only CSV of trial rows at `path` (created with its parent folder on the first
    row). A truncated last line (a crash while writing it) is dropped when the file is opened.

    Parameters
    ----------
    path : str or Path
        The CSV file; an existing one is read (and continued).

    Attributes
    ----------
    path : Path
        The file.

    Raises
    ------
    ValueError
        If an existing file is not an mlpkit results file (no header with a "key" column, or
        a line with another number of cells than the header).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     results = ResultsFile(Path(tmp) / "results.csv")
    ...     row = results.record(1, 0, {"l2": 0.01}, {"dev_score": 0.9, "seconds": 2.5},
    ...                          status="ok", worker="host-1")
    ...     reopened = ResultsFile(Path(tmp) / "results.csv")    # as a rerun reads it
    ...     row["key"], reopened.get(row["key"]) == row, len(reopened)
    ('r1-t0-...', True, 1)
    """

    def __init__(self, path):
        self.path = Path(path)
        self._header = None
        self._rows = {}  # key -> decoded row, in file order
        if self.path.exists():
            self._read()

    def __contains__(self, key):
        return key in self._rows

    def __len__(self):
        return len(self._rows)

    def get(self, key):
        """The row recorded under `key` (None if there is none).

        Parameters
        ----------
        key : str
            A trial's key, "r<round>-t<index>-<hash of its parameters>".

        Returns
        -------
        row : dict or None
            The row as read back from the file.
        """
        return self._rows.get(key)

    def rows(self):
        """Every row, in the order written (each key once: the first row recorded for it).

        Returns
        -------
        rows : list of dict
            The rows as read back from the file, one column per key.
        """
        return list(self._rows.values())

    def record(self, round_number, index, params, row, status, worker):
        """Append the finished trial (params, its row from run_trial, status, worker) and
        fsync; returns the row as it reads back from the file. A row that brings new columns
        adds them (None) to the rows recorded before, the dicts already returned included.
        A trial already recorded (the same key) is not written again.

        Parameters
        ----------
        round_number : int
            The trial's round, counted from 1.
        index : int
            The trial's index in its round.
        params : dict
            The trial's sampled parameters.
        row : dict
            Its row from `run_trial`: metrics, "seconds" and "error".
        status : str
            "ok", "diverged" or "failed".
        worker : str
            The worker that ran it.

        Returns
        -------
        row : dict
            The row as recorded: "round", "trial", the parameters and metrics, "status",
            "error", "seconds", "worker", "finished" (UTC, ISO 8601) and "key".
        """
        key = trial_key(round_number, index, params)
        if key in self._rows:
            return self._rows[key]
        full = {"round": round_number, "trial": index, **params}
        full.update({k: v for k, v in row.items() if k not in TAIL})
        full.update(status=status, error=row.get("error"), seconds=row.get("seconds"),
                    worker=worker, finished=_now(), key=key)
        header = _header_for(self._header or (), full)
        if header != self._header:
            self._rewrite(header, [*self._rows.values(), full])
            for stored in self._rows.values():  # as they would read back from the file now
                widened = {name: stored.get(name) for name in header}
                stored.clear()
                stored.update(widened)
        else:
            self._append(full)
        stored = self._decode({name: _encode(full.get(name)) for name in self._header})
        self._rows[key] = stored
        return stored

    # ------------------------------------------------------------------ reading
    def _read(self):
        text = self._repair_tail()
        if not text:
            return
        reader = csv.reader(io.StringIO(text))
        header = next(reader, None)
        if not header or "key" not in header:
            raise ValueError(
                f"{self.path}: not an mlpkit results file (its first line must be a header "
                f"with a 'key' column); got {header!r}"
            )
        self._header = tuple(header)
        for number, cells in enumerate(reader, start=2):
            if len(cells) != len(header):
                raise ValueError(
                    f"{self.path}: line {number} has {len(cells)} cells for the header's "
                    f"{len(header)} columns"
                )
            row = self._decode(dict(zip(header, cells, strict=True)))
            self._rows.setdefault(row["key"], row)

    def _repair_tail(self):
        """The file's complete lines; a last line without its newline is cut off the file."""
        data = self.path.read_bytes()
        end = data.rfind(b"\n") + 1
        if end < len(data):
            with open(self.path, "r+b") as f:
                f.truncate(end)
                os.fsync(f.fileno())
        return data[:end].decode("utf-8")

    def _decode(self, cells):
        return {name: _decode(cell) for name, cell in cells.items()}

    # ------------------------------------------------------------------ writing
    def _line(self, row):
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerow(
            [_encode(row.get(name)) for name in self._header]
        )
        return out.getvalue()

    def _append(self, row):
        with open(self.path, "a", encoding="utf-8", newline="") as f:
            f.write(self._line(row))
            f.flush()
            os.fsync(f.fileno())

    def _rewrite(self, header, rows):
        """The whole file with a wider header (a row brought new columns), atomically."""
        self._header = tuple(header)
        text = self._line(dict(zip(header, header, strict=True)))
        text += "".join(self._line(row) for row in rows)
        atomic_write(self.path, lambda f: f.write(text.encode("utf-8")))


def _header_for(header, row):
    """The columns HEAD, then every other column in the order first seen, then TAIL."""
    body = [name for name in header if name not in BOOKKEEPING]
    body += [name for name in row if name not in BOOKKEEPING and name not in body]
    return (*HEAD, *body, *TAIL)


def _now():
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _encode(value):
    if value is None:
        return ""
    if isinstance(value, str):
        plain = value and "\n" not in value and "\r" not in value and not _reads_as_json(value)
        return value if plain else json.dumps(value)
    if isinstance(value, float) and not math.isfinite(value):
        return json.dumps(value)  # NaN, Infinity, -Infinity
    return json.dumps(value, default=_cell_default)


def _cell_default(obj):
    """A value JSON can't hold: a NumPy one as its Python value, any other as its repr."""
    value = python_value(obj)
    return repr(obj) if value is obj else value


def _reads_as_json(text):
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _decode(cell):
    if cell == "":
        return None
    try:
        return json.loads(cell)
    except ValueError:
        return cell
