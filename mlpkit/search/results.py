"""Search results: the trial rows, best dev score first, printed as a table."""

import math

from .results_file import BOOKKEEPING

UNSHOWN = ("trial", "key", "worker", "finished")


class SearchResults(list):
    """The trial rows (dicts), best dev score first (NaN last); `print(results)` shows the table.

    spaces: the space sampled in each round; fixed: the parameters shared by every trial;
    skipped: how many trials were found already done in the output folder (not run again)."""

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
        """The best trial's sampled parameters with the fixed ones: what reproduces it."""
        if self.spaces:
            sampled = {name for space in self.spaces for name in space} | {"seed"}
        else:
            sampled = set(self.best) - {*BOOKKEEPING, "dev_score", "train_score", "dev_cost"}
        return {**self.fixed, **{k: v for k, v in self.best.items() if k in sampled}}

    def columns(self):
        """The table's columns: every key of the rows but the results file's bookkeeping
        (trial, key, worker, finished), with error and status only where a trial failed."""
        names = []
        for row in self:
            names += [k for k in row if k not in names and k not in UNSHOWN]
        if not any(row.get("error") for row in self):
            names = [k for k in names if k not in ("error", "status")]
        return names

    def format_table(self, max_rows=None, columns=None):
        """The rows as an aligned text table, ranked by dev score."""
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
