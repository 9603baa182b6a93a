"""Scalar checks for the layers above the engine (`data`, `search`, `apps`), written once.

They use scikit-learn's `check_scalar` and refuse bools (`True` is an int to Python, never a
count or a rate here). `nn`, `optim` and `training` keep `mlpkit.nn.checks`, which imports no
scikit-learn, so importing the engine stays light.
"""

import numbers

from sklearn.utils import check_scalar


class ParameterError(ValueError, TypeError):
    """A bad scalar: a ValueError (out of range) and a TypeError (wrong type) alike, so callers
    catch either as before."""


def check_number(value, name, *, integer=False, min_val=None, max_val=None,
                 include_boundaries="both"):
    """`value` as an int (integer=True) or a finite float within [min_val, max_val].

    `include_boundaries` is scikit-learn's: "both", "left", "right" or "neither".
    Raises ParameterError naming `name`, what was expected and what was given.
    """
    target = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or (not integer and value != value):  # NaN fails every bound
        raise ParameterError(_expected(name, integer, min_val, max_val, include_boundaries,
                                       value))
    try:
        check_scalar(value, name, target, min_val=min_val, max_val=max_val,
                     include_boundaries=include_boundaries)
    except (TypeError, ValueError):
        raise ParameterError(_expected(name, integer, min_val, max_val, include_boundaries,
                                       value)) from None
    if not integer and abs(float(value)) == float("inf"):
        raise ParameterError(_expected(name, integer, min_val, max_val, include_boundaries,
                                       value))
    return int(value) if integer else float(value)


def _expected(name, integer, min_val, max_val, include_boundaries, value):
    what = "an integer" if integer else "a finite number"
    left = include_boundaries in ("both", "left")
    right = include_boundaries in ("both", "right")
    bounds = []
    if min_val is not None:
        bounds.append(f"{'>=' if left else '>'} {min_val}")
    if max_val is not None:
        bounds.append(f"{'<=' if right else '<'} {max_val}")
    return f"{name} must be {what}{' ' + ' and '.join(bounds) if bounds else ''}; got {value!r}"


def one_line(error):
    """An exception's message on one line (its type's name when it has none): for CLI errors
    and the messages recorded for failed trials."""
    return " ".join(str(error).split()) or type(error).__name__
