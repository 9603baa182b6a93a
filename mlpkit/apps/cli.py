"""The `mlpkit` command: train, evaluate and use image classifiers; convert image folders to HDF5;
gradient check; demo.

Each command is a module `cmd_<name>` with `add_parser(commands)` and `run(args)`. Errors a
person can cause print one line `mlpkit: error: ...` on stderr: exit status 2 for bad
command-line usage, 1 for failures (missing or unreadable files, data that doesn't fit).
"""

from __future__ import annotations

import os
import sys

from ..data.checks import one_line
from . import (
    cmd_convert,
    cmd_demo,
    cmd_diagnose,
    cmd_evaluate,
    cmd_gradcheck,
    cmd_playground,
    cmd_predict,
    cmd_search,
    cmd_serve,
    cmd_train,
)
from .cli_options import PROG, Parser, UsageError

COMMANDS = (cmd_train, cmd_diagnose, cmd_evaluate, cmd_predict, cmd_convert, cmd_search,
            cmd_serve, cmd_playground, cmd_gradcheck, cmd_demo)


def build_parser():
    parser = Parser(
        prog=PROG,
        description="Deep neural networks from scratch in NumPy: train and use image "
        "classifiers (e.g. a cat recognizer).",
        epilog="exit status: 0 success, 1 failure (missing or unreadable files, data that does "
        "not fit the model), 2 bad usage",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(commands)
    return parser


def main(argv=None):
    """Run the command line `argv` (default sys.argv[1:]); returns the exit status."""
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    args.argv = argv  # the command line, for the commands a diagnosis suggests
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return args.run(args)
    except UsageError as e:
        print(f"{PROG} {args.command}: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader went away (`mlpkit evaluate ... | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # for the exit's flush
        return 141
    except (ValueError, TypeError, OSError, FloatingPointError) as e:
        print(f"{PROG}: error: {one_line(e)}", file=sys.stderr)
        return 1
    except MemoryError:
        print(f"{PROG}: error: out of memory (try a smaller --image-size or fewer images)",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
