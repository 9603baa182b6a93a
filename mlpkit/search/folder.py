"""A search's output folder: `results.csv` (one row per finished trial, see results_file) and
`search.json`, which says what the search is (strategy, space, fixed settings, trials, rounds,
seed, train function and a hash of the data) and holds each round's space. A rerun with the
same folder continues the search; a different search is refused unless forced."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..io.files import atomic_write
from .distributions import python_value
from .results_file import ResultsFile

STATE = "search.json"
RESULTS = "results.csv"
FORMAT = "mlpkit-search"
# 2: trials drawn by scipy.stats through scikit-learn's ParameterSampler, so a version-1 folder's
# seed stands for other trials than this version would run
VERSION = 2


class SearchFolderMismatch(ValueError):
    """The output folder holds the results of a different search."""


def fresh_seed():
    """A new random seed (an int, so that it can be recorded and reused)."""
    return int(np.random.SeedSequence().entropy % 2**31)


class SearchFolder:
    """Open `out` for the search `description` (a JSON-able dict of what identifies it).

    A folder holding another search's results raises SearchFolderMismatch (naming what
    differs), and an unreadable search.json (or one of another version) a ValueError, unless
    force, which discards them."""

    def __init__(self, out, description, force=False):
        self.path = Path(out)
        if self.path.exists() and not self.path.is_dir():
            raise NotADirectoryError(f"{self.path}: exists and is not a folder")
        self.description = _as_json(description)
        try:
            state = self.read_state(self.path)
        except ValueError as e:
            if not force:
                raise ValueError(f"{e}; use force (--force) to discard it and its {RESULTS} "
                                 "and start over, or another output folder") from None
            state = None  # discarded with results.csv below
        results = self.path / RESULTS
        if state is None and results.exists() and not force:
            raise SearchFolderMismatch(
                f"{self.path} holds a {RESULTS} but no {STATE}, so it cannot be continued; "
                "use force (--force) to discard it and start over, or another output folder"
            )
        if state is not None:
            differ = _differences(state.get("search", {}), self.description)
            if differ and not force:
                raise SearchFolderMismatch(
                    f"{self.path} holds the results of a different search ({'; '.join(differ)}"
                    "); use force (--force) to discard them and start over, or another "
                    "output folder"
                )
            if differ:
                state = None
        if state is None:
            results.unlink(missing_ok=True)
            state = {"format": FORMAT, "version": VERSION, "search": self.description,
                     "rounds": []}
        self.state = state
        self._write_state()
        self.results = ResultsFile(results)

    @staticmethod
    def read_state(out):
        """search.json of folder `out` as a dict (None if there is none)."""
        path = Path(out) / STATE
        if not path.exists():
            return None
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            raise ValueError(f"{path}: not a readable search state ({e})") from None
        if not isinstance(state, dict) or state.get("format") != FORMAT:
            raise ValueError(f"{path}: not an mlpkit search state (format {FORMAT!r})")
        if state.get("version") != VERSION:
            raise ValueError(
                f"{path}: search state version {state.get('version')!r}; this mlpkit reads "
                f"version {VERSION}"
            )
        return state

    @classmethod
    def stored_seed(cls, out):
        """The seed recorded in folder `out`'s search.json (None if none)."""
        try:
            state = cls.read_state(out)
        except ValueError:
            return None
        return None if state is None else state.get("search", {}).get("seed")

    def record_rounds(self, spaces):
        """Store each round's space (already described) in search.json."""
        self.state["rounds"] = _as_json(spaces)
        self._write_state()

    def _write_state(self):
        text = json.dumps(self.state, indent=2) + "\n"
        atomic_write(self.path / STATE, lambda f: f.write(text.encode("utf-8")))


def _as_json(value):
    """value as JSON would give it back (tuples as lists, NumPy values as Python ones, other
    objects by type and hash)."""
    return json.loads(json.dumps(value, default=_object_id))


def _object_id(obj):
    from joblib import hash as joblib_hash

    value = python_value(obj)
    if value is not obj:
        return value
    return {"object": f"{type(obj).__module__}.{type(obj).__qualname__}",
            "hash": joblib_hash(obj)}


def _differences(old, new):
    """What differs between two descriptions, one phrase per part."""
    phrases = []
    for part in sorted(set(old) | set(new)):
        a, b = old.get(part), new.get(part)
        if a == b:
            continue
        if part == "data":
            phrases.append("the data differ")
        elif isinstance(a, dict) and isinstance(b, dict):
            names = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
            details = []
            for name in names:
                if name not in a:
                    details.append(f"{name} added")
                elif name not in b:
                    details.append(f"{name} removed")
                else:
                    details.append(f"{name} {_short(a[name])} -> {_short(b[name])}")
            phrases.append(f"{part}: {', '.join(details)}")
        else:
            phrases.append(f"{part}: {_short(a)} -> {_short(b)}")
    return phrases


def _short(value):
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."
