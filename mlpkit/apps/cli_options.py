"""The `mlpkit` command's argument parsing: the program name, usage errors, the parser, option
value types (checked by `mlpkit.data.checks.check_number`) and the options several commands
share (argparse parents)."""

from __future__ import annotations

import argparse

from ..data.checks import ParameterError, check_number

PROG = "mlpkit"

IMAGE_SIZE = 64


class UsageError(Exception):
    """Bad command-line usage found after parsing (exit status 2)."""


class Parser(argparse.ArgumentParser):
    """argparse with a one-line error message (no usage block) and exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


# ---------------------------------------------------------------------------------------------
# Option values
# ---------------------------------------------------------------------------------------------


def number(integer=False, min_val=None, max_val=None, include_boundaries="both"):
    """An argparse type: the text as an int (integer=True) or a finite float, checked by
    check_number with these bounds (include_boundaries as scikit-learn's check_scalar)."""

    def parse(text):
        try:
            value = int(text) if integer else float(text)
        except ValueError:
            what = "an integer" if integer else "a number"
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        try:
            return check_number(value, "value", integer=integer, min_val=min_val,
                                max_val=max_val, include_boundaries=include_boundaries)
        except ParameterError as e:  # argparse names the option: "argument --epochs: ..."
            raise argparse.ArgumentTypeError(str(e).removeprefix("value ")) from None

    return parse


def int_at_least(minimum):
    """An integer >= minimum."""
    return number(integer=True, min_val=minimum)


def positive():
    """A finite number > 0."""
    return number(min_val=0, include_boundaries="neither")


def non_negative():
    """A finite number >= 0."""
    return number(min_val=0)


def fraction():
    """A number in [0, 1) (a share of the examples or of the units)."""
    return number(min_val=0, max_val=1, include_boundaries="left")


def hidden_sizes(text):
    """'20,7,5' -> (20, 7, 5); '' or 'none' -> () (no hidden layer: logistic regression)."""
    if text.strip().lower() in ("", "none"):
        return ()
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected layer sizes like 20,7,5 (positive integers, comma-separated), got {text!r}"
        ) from None
    if min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"every layer needs at least 1 unit, got {text!r}")
    return sizes


# ---------------------------------------------------------------------------------------------
# Options several commands share (argparse parents); --workers is not one: decoding processes in
# train, evaluate and convert, trial processes in search
# ---------------------------------------------------------------------------------------------


def _parent():
    return argparse.ArgumentParser(add_help=False)


STRICT = _parent()
STRICT.add_argument("--strict", action="store_true", default=None,
                    help="fail on unreadable image files instead of skipping them")

IMAGE_SIZE_OPTION = _parent()
IMAGE_SIZE_OPTION.add_argument(
    "--image-size", type=int_at_least(1), default=None, metavar="S",
    help=f"resize folder images to SxS (default: {IMAGE_SIZE}; an HDF5 file keeps its size)")

# the images of DATA: how they are read
IMAGES = [STRICT, IMAGE_SIZE_OPTION]

HUMAN_ERROR = _parent()
HUMAN_ERROR.add_argument(
    "--human-error", type=number(min_val=0, max_val=1, include_boundaries="left"), default=None,
    metavar="F", help="human-level error rate, the proxy for the Bayes error that the diagnosis "
    "measures the avoidable bias against (default: 0; diagnose: the one the run recorded)")

# where the network computes: every command that trains or predicts (train, diagnose, search,
# serve); checked by `placement`
DEVICE = _parent()
DEVICE.add_argument("--device", default=None, metavar="DEVICE",
                    help="where the network computes: cpu, cuda, cuda:N, mps (default: cpu); "
                    "a device other than the CPU needs PyTorch or CuPy")
DEVICE.add_argument("--backend", choices=("numpy", "torch", "cupy"), default=None,
                    help="the array library (default: numpy on the CPU; for another device "
                    "torch when it is installed, else cupy)")
DEVICE.add_argument("--dtype", choices=("float32", "float64"), default=None,
                    help="the network's precision there (default: float64 on the CPU, "
                    "float32 on GPUs)")


def placement(args, here=True):
    """{"device", "backend", "dtype"} of --device, --backend and --dtype, for
    `ImageClassifier.to`, or None when none is given (NumPy on the host); a UsageError in one
    line for a device or library that cannot be used (NumPy off the CPU, CUDA not there, a
    library not installed, float64 on a device without it). here=False (the device is on
    other machines: Dask workers) checks only what can be checked without it."""
    from ..training.devices import check_placement

    given = {"device": args.device, "backend": args.backend, "dtype": args.dtype}
    if all(value is None for value in given.values()):
        return None
    try:
        check_placement(**given, here=here)
    except (ValueError, ImportError) as e:
        raise UsageError(f"--device {args.device or 'cpu'}"
                         + (f" --backend {args.backend}" if args.backend else "")
                         + f": {str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
    return given
