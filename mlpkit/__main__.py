"""`python -m mlpkit`: the same as the `mlpkit` command."""

import sys

from .apps.cli import main

if __name__ == "__main__":
    sys.exit(main())
