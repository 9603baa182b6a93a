"""The results file (append as trials finish, read back exactly, survive a torn last line) and
the output folder (a different search is refused unless forced)."""

import csv
import hashlib
import json
import math

import pytest

from mlpkit.search.folder import SearchFolder, SearchFolderMismatch
from mlpkit.search.results_file import ResultsFile, trial_key

PARAMS = {"learning_rate": 0.0031622776601683794, "hidden": [32, 16], "optimizer": "adam",
          "batch_norm": True, "tag": "1e-3", "seed": 7}


def row(score, **extra):
    return {**PARAMS, "dev_score": score, "train_score": 0.5, "seconds": 0.25, "error": None,
            **extra}


def test_rows_read_back_as_the_same_values(tmp_path):
    path = tmp_path / "results.csv"
    results = ResultsFile(path)
    stored = results.record(1, 0, PARAMS, row(0.875), "ok", "host:11")
    assert stored["dev_score"] == 0.875 and stored["hidden"] == [32, 16]
    failed = {**PARAMS, "dev_score": math.nan, "seconds": 0.1,
              "error": "ValueError: bad, very bad\nreally"}
    results.record(1, 1, {**PARAMS, "seed": 8}, failed, "failed", "host:12")
    again = ResultsFile(path).rows()
    assert [r["trial"] for r in again] == [0, 1]
    first, second = again
    for name, value in PARAMS.items():
        assert first[name] == value and type(first[name]) is type(value)
    assert first["status"] == "ok" and first["error"] is None and first["worker"] == "host:11"
    assert first["key"] == trial_key(1, 0, PARAMS) and first["round"] == 1
    assert math.isnan(second["dev_score"]) and second["status"] == "failed"
    assert second["error"] == "ValueError: bad, very bad\nreally"
    assert second["train_score"] is None  # a column it lacks reads as None
    with open(path, newline="") as f:
        lines = list(csv.reader(f))
    assert lines[0][:2] == ["round", "trial"] and lines[0][-6:] == [
        "status", "error", "seconds", "worker", "finished", "key"]
    assert len(path.read_text().splitlines()) == 3  # one line per trial, even with a newline


def test_a_torn_last_line_is_dropped_and_each_key_kept_once(tmp_path):
    path = tmp_path / "results.csv"
    results = ResultsFile(path)
    for i in range(3):
        results.record(1, i, {**PARAMS, "seed": i}, row(0.1 * i), "ok", "w")
    results.record(1, 2, {**PARAMS, "seed": 2}, row(0.9), "ok", "w")  # already there: kept once
    text = path.read_text()
    path.write_text(text[: len(text) - 20])  # a crash in the middle of the last row
    reopened = ResultsFile(path)
    assert len(reopened) == 2 and trial_key(1, 2, {**PARAMS, "seed": 2}) not in reopened
    reopened.record(1, 2, {**PARAMS, "seed": 2}, row(0.2), "ok", "w")
    rows = ResultsFile(path).rows()
    assert [r["dev_score"] for r in rows] == [0.0, 0.1, 0.2]


def test_new_columns_widen_the_header(tmp_path):
    path = tmp_path / "results.csv"
    results = ResultsFile(path)
    results.record(1, 0, {"x": 1}, {"x": 1, "dev_score": math.nan, "seconds": 0.0,
                                    "error": "FloatingPointError: inf"}, "diverged", "w")
    results.record(1, 1, {"x": 2}, {"x": 2, "dev_score": 0.5, "dev_cost": 0.7, "seconds": 0.0,
                                    "error": None}, "ok", "w")
    rows = ResultsFile(path).rows()
    assert rows[0]["dev_cost"] is None and rows[1]["dev_cost"] == 0.7
    assert rows[0]["status"] == "diverged"


def test_not_a_results_file(tmp_path):
    path = tmp_path / "results.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not an mlpkit results file"):
        ResultsFile(path)


DESCRIPTION = {"strategy": "coarse_to_fine", "space": {"learning_rate": {"log_uniform": [
    1e-4, 0.1]}, "hidden": {"int_uniform": [8, 64]}}, "fixed": {"epochs": 10}, "data": "abc",
    "n_trials": 4, "rounds": 2, "seed": 3}


def test_a_folder_refuses_a_different_search_unless_forced(tmp_path):
    folder = SearchFolder(tmp_path / "out", DESCRIPTION)
    folder.results.record(1, 0, {"x": 1}, {"x": 1, "dev_score": 0.5, "seconds": 0.0,
                                           "error": None}, "ok", "w")
    assert SearchFolder.stored_seed(tmp_path / "out") == 3
    assert len(SearchFolder(tmp_path / "out", DESCRIPTION).results) == 1  # the same search
    other = {**DESCRIPTION, "space": {"learning_rate": {"log_uniform": [1e-3, 0.1]},
                                      "l2": {"log_uniform": [1e-4, 1.0]}}, "data": "xyz"}
    with pytest.raises(SearchFolderMismatch) as info:
        SearchFolder(tmp_path / "out", other)
    message = str(info.value)
    assert "holds the results of a different search" in message and "--force" in message
    assert "space: hidden removed, l2 added, learning_rate" in message
    assert "the data differ" in message
    assert len(SearchFolder(tmp_path / "out", DESCRIPTION).results) == 1  # still there
    forced = SearchFolder(tmp_path / "out", other, force=True)
    assert len(forced.results) == 0
    assert SearchFolder.read_state(tmp_path / "out")["search"]["data"] == "xyz"


def test_a_folder_with_results_but_no_state_is_refused(tmp_path):
    (tmp_path / "results.csv").write_text("round,trial,key\n")
    with pytest.raises(SearchFolderMismatch, match="no search.json"):
        SearchFolder(tmp_path, DESCRIPTION)
    (tmp_path / "search.json").write_text("{not json")
    with pytest.raises(ValueError, match="not a readable search state"):
        SearchFolder(tmp_path, DESCRIPTION)
    (tmp_path / "file").write_text("")
    with pytest.raises(NotADirectoryError):
        SearchFolder(tmp_path / "file", DESCRIPTION)


@pytest.mark.parametrize("state", [
    "{not json", '{"format": "mlpkit-search", "version": 99}',
    '{"format": "mlpkit-search", "version": 1}',  # sampled otherwise: its seed means other trials
])
def test_force_discards_an_unreadable_state_and_its_results(tmp_path, state):
    folder = SearchFolder(tmp_path, DESCRIPTION)
    folder.results.record(1, 0, {"x": 1}, {"x": 1, "dev_score": 0.5, "seconds": 0.0,
                                           "error": None}, "ok", "w")
    (tmp_path / "search.json").write_text(state)
    with pytest.raises(ValueError, match="search.json: .*; use force"):
        SearchFolder(tmp_path, DESCRIPTION)
    forced = SearchFolder(tmp_path, DESCRIPTION, force=True)
    assert len(forced.results) == 0 and not (tmp_path / "results.csv").exists()
    assert SearchFolder.read_state(tmp_path)["search"] == DESCRIPTION


def test_numpy_params_read_back_as_python_values_with_the_same_key(tmp_path):
    import numpy as np

    from mlpkit.search import run_trials

    calls = []

    def score(params, X, Y, X_dev, Y_dev):
        calls.append(params)
        return float(params["hidden"])

    trials = [{"hidden": h, "sizes": np.arange(h), "on": np.bool_(h % 2),
               "rate": np.float32(0.5)} for h in np.arange(1, 4)]
    path = tmp_path / "results.csv"
    rows = run_trials(trials, (None,) * 4, score, progress=False, results_file=path)
    for h, row in enumerate(rows, start=1):
        assert row["hidden"] == h and type(row["hidden"]) is int
        assert row["sizes"] == list(range(h)) and row["on"] is bool(h % 2)
        assert row["rate"] == 0.5
    assert ResultsFile(path).rows() == rows
    plain = [{"hidden": int(t["hidden"]), "sizes": t["sizes"].tolist(), "on": bool(t["on"]),
              "rate": 0.5} for t in trials]
    assert [trial_key(1, i, p) for i, p in enumerate(plain)] == [row["key"] for row in rows]
    calls.clear()
    again = run_trials(plain, (None,) * 4, score, progress=False, results_file=path)
    assert again == rows and calls == []  # found in the file, not run again
    # plain Python values keep the keys that files written before hold
    digest = hashlib.sha256(json.dumps(PARAMS, sort_keys=True).encode()).hexdigest()[:12]
    assert trial_key(2, 3, PARAMS) == f"r2-t3-{digest}"


def test_rows_recorded_before_get_the_columns_added_later(tmp_path):
    results = ResultsFile(tmp_path / "results.csv")
    first = results.record(1, 0, {"x": 1}, {"x": 1, "dev_score": 0.1, "seconds": 0.0,
                                            "error": None}, "ok", "w")
    results.record(1, 1, {"x": 2, "y": 3}, {"x": 2, "y": 3, "dev_score": 0.5, "dev_cost": 0.7,
                                            "seconds": 0.0, "error": None}, "ok", "w")
    assert first["y"] is None and first["dev_cost"] is None
    assert results.rows() == ResultsFile(tmp_path / "results.csv").rows()
    assert [list(row) for row in results.rows()] == [list(row) for row in ResultsFile(
        tmp_path / "results.csv").rows()]
