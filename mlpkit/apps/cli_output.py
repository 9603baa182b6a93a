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

