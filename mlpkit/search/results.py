"""Search results: the trial rows, best dev score first, printed as a table."""

import math

from .results_file import BOOKKEEPING

UNSHOWN = ("trial", "key", "worker", "finished")


class SearchResults(list):
    """The trial rows (dicts), best dev score first (NaN last); `print(results)` shows the table.

    Parameters
    ----------
    rows : iterable of dict
        The trial rows: parameters, metrics ("dev_score", ...) and bookkeeping.
    spaces : iterable of dict, optional
        The space sampled in each round, {name: distribution}.
    fixed : dict, optional
        The parameters shared by every trial.
    skipped : int, default 0
        How many trials were found already done in the output folder (not run again).

    Attributes
    ----------
    spaces : list of dict
        The space of each round.
    fixed : dict
        The fixed parameters.
    skipped : int
        The trials not run again.

    Examples
    --------
    >>> rows = [{"learning_rate": 0.01, "seed": 1, "dev_score": 0.8, "error": None},
    ...         {"learning_rate": 0.1, "seed": 2, "dev_score": 0.9, "error": None},
    ...         {"learning_rate": 1.0, "seed": 3, "dev_score": float("nan"),
    ...          "error": "FloatingPointError: overflow"}]
    >>> from mlpkit.search import LogUniform
    >>> results = SearchResults(rows, spaces=[{"learning_rate": LogUniform(-3, 0)}],
    ...                         fixed={"epochs": 100})
    >>> print(results)
    rank  learning_rate  seed  dev_score                         error
       1            0.1     2        0.9                             -
       2           0.01     1        0.8                             -
       3              1     3        nan  FloatingPointError: overflow
    >>> results.best_params()
    {'epochs': 100, 'learning_rate': 0.1, 'seed': 2}
    """

    def __init__(self, rows=(), spaces=(), fixed=None, skipped=0):
        super().__init__(sorted(rows, key=_rank_key))
        self.spaces = list(spaces)
        self.fixed = dict(fixed or {})
        self.skipped = skipped

    @property
    def best(self):
        """The row with the highest dev score."""
        if not self:
            raise ValueError("no trials")
        return self[0]

    def best_params(self):
        """The best trial's sampled parameters with the fixed ones: what reproduces it.

        Returns
        -------
        params : dict
            The fixed parameters, then the best row's values of the sampled names (those of
            `spaces` and "seed"; without spaces, every key but the metrics and bookkeeping).

        Raises
        ------
        ValueError
            If there are no trials.
        """
        if self.spaces:
            sampled = {name for space in self.spaces for name in space} | {"seed"}
        else:
            sampled = set(self.best) - {*BOOKKEEPING, "dev_score", "train_score", "dev_cost"}
        return {**self.fixed, **{k: v for k, v in self.best.items() if k in sampled}}

    def columns(self):
        """The table's columns: every key of the rows but the results file's bookkeeping
        (trial, key, worker, finished), with error and status only where a trial failed.

        Returns
        -------
        columns : list of str
            The names, in the order first seen in the rows.
        """
        names = []
        for row in self:
            names += [k for k in row if k not in names and k not in UNSHOWN]
        if not any(row.get("error") for row in self):
            names = [k for k in names if k not in ("error", "status")]
        return names

    def format_table(self, max_rows=None, columns=None):
        """The rows as an aligned text table, ranked by dev score.

        Parameters
        ----------
        max_rows : int, optional
            Show only the best `max_rows` rows (a last line counts the others); default all.
        columns : list of str, optional
            The columns to show after the rank; default `columns()`.

        Returns
        -------
        table : str
            The lines of the table, a header first; floats with 4 significant digits, None
            as "-", long values cut at 40 characters.
        """
        columns = self.columns() if columns is None else list(columns)
        rows = self if max_rows is None else self[:max_rows]
        cells = [["rank", *columns]]
        cells += [[str(i + 1), *(_cell(row.get(k)) for k in columns)] for i, row in enumerate(rows)]
        widths = [max(len(r[j]) for r in cells) for j in range(len(cells[0]))]
        lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
        if len(rows) < len(self):
            lines.append(f"... {len(self) - len(rows)} more")
        return "\n".join(lines)

    def __str__(self):
        return self.format_table()


def _rank_key(row):
    score = row.get("dev_score")
    bad = score is None or not math.isfinite(score)
    return (bad, 0.0 if bad else -score)


def _cell(value):
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."
