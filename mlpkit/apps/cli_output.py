"""What the `mlpkit` commands print besides their results: warnings (above a running progress
bar, not inside it)."""

from __future__ import annotations

import sys

from .cli_options import PROG


def warn(message):
    """One warning line on stderr; above a running progress bar (tqdm's), not inside it."""
    line = f"{PROG}: warning: {message}"
    if "tqdm" in sys.modules:  # a bar may be running: tqdm.write keeps it intact
        from tqdm import tqdm

        tqdm.write(line, file=sys.stderr)
    else:
        print(line, file=sys.stderr)


class Progress:
    """A training run's progress on stderr, after each epoch: on a terminal, a tqdm bar (epochs,
    or images as they are read for a streamed run, with the cost and the monitored set's cost
    and error); into a file or a pipe, at most one line per tenth of the run; quiet: nothing.
    Use as a context manager; on_epoch(epoch, history) is the fit's callback, on_batch(size)
    (None unless a bar counts images) the source's."""

    def __init__(self, epochs, done, m, streamed, name, quiet=False, file=None):
        self.file = sys.stderr if file is None else file
        self.epochs, self.done, self.m, self.streamed, self.name = epochs, done, m, streamed, name
        terminal = callable(getattr(self.file, "isatty", None)) and self.file.isatty()
        self.mode = "quiet" if quiet else "bar" if terminal else "lines"
        self.bar = None
        self.on_batch = None
        self._last = None

    def __enter__(self):
        if self.mode == "bar":
            import time

            from tqdm import tqdm

            if self.streamed:
                self.bar = tqdm(total=self.epochs * self.m, initial=self.done * self.m,
                                desc="training", unit="img", unit_scale=True, file=self.file)
                self.on_batch = self.bar.update
            else:
                self.bar = tqdm(total=self.epochs, initial=self.done, desc="training",
                                unit="epoch", file=self.file)
            self._last = time.perf_counter()
        return self

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.close()

    def _status(self, history):
        status = {"cost": f"{history.costs[-1]:.4f}"}
        if history.val_costs:
            status[f"{self.name}_cost"] = f"{history.val_costs[-1]:.4f}"
            status[f"{self.name}_err"] = f"{1 - history.val_scores[-1]:.3f}"
        return status

    def on_epoch(self, epoch, history):
        n = epoch + 1
        if self.mode == "lines" and (10 * n) // self.epochs > (10 * (n - 1)) // self.epochs:
            status = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in
                               self._status(history).items())
            print(f"epoch {n}/{self.epochs}: {status}", file=self.file, flush=True)
        elif self.mode == "bar":
            import time

            status = self._status(history)
            if self.streamed:
                status = {"epoch": f"{n}/{self.epochs}", **status}
            else:
                now = time.perf_counter()
                status["img/s"] = f"{self.m / max(now - self._last, 1e-9):.0f}"
                self._last = now
                self.bar.update(1)
            self.bar.set_postfix(status, refresh=not self.streamed)
