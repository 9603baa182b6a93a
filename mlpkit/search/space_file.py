"""Search spaces in TOML files, for `mlpkit search --space SPACE.toml`, and the default space.

The format: a `[space]` table with one entry per hyperparameter to sample, and an optional
`[fixed]` table with the settings every trial shares. Ranges are given in the hyperparameter's
own values; each kind samples on the scale where the hyperparameter acts:

    [space]
    learning_rate = { log_uniform = [1e-4, 0.1] }     # 10^r, r uniform in [-4, -1]
    l2 = { log_uniform = [1e-4, 1.0] }
    beta1 = { one_minus_log_uniform = [0.9, 0.999] }  # 1 - 10^r: as many betas in
                                                      # [0.9, 0.99] as in [0.99, 0.999]
    keep_prob = { uniform = [0.7, 1.0] }
    hidden = { int_uniform = [8, 64] }                # units per hidden layer, ends included
    layers = { int_uniform = [1, 3] }                 # hidden layers of `hidden` units
    hidden_activation = { choice = ["relu", "tanh"] } # or just ["relu", "tanh"]

    [fixed]
    optimizer = "adam"
    epochs = 100
    batch_size = 64

The names are those of the default trial (`mlpkit.search.train_network`): hidden, layers,
hidden_activation, init, batch_norm, epochs, learning_rate, batch_size, optimizer,
lr_schedule, l2, keep_prob, beta, beta1, beta2, epsilon, seed.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

from ..data.checks import ParameterError, check_number
from .distributions import Choice, IntUniform, LogUniform, OneMinusLogUniform, Uniform
from .trials import TRIAL_KEYS

DEFAULT_SPACE = """\
# mlpkit search's default space: Adam on the learning rate, L2, beta1 and the layer sizes.
[space]
learning_rate = { log_uniform = [1e-4, 0.1] }
l2 = { log_uniform = [1e-4, 1.0] }
beta1 = { one_minus_log_uniform = [0.8, 0.999] }
hidden = { int_uniform = [8, 64] }
layers = { int_uniform = [1, 3] }

[fixed]
optimizer = "adam"
epochs = 100
batch_size = 64
init = "he"
"""

KINDS = ("log_uniform", "one_minus_log_uniform", "uniform", "int_uniform", "choice")

# name: check_number's bounds (min_val, max_val, include_boundaries) and whether it is an integer
BOUNDS = {
    "learning_rate": (0, None, "neither", False),
    "l2": (0, None, "left", False),
    "keep_prob": (0, 1, "right", False),
    "beta": (0, 1, "left", False),
    "beta1": (0, 1, "left", False),
    "beta2": (0, 1, "left", False),
    "epsilon": (0, None, "neither", False),
    "hidden": (1, None, "left", True),
    "layers": (0, None, "left", True),
    "epochs": (1, None, "left", True),
    "batch_size": (1, None, "left", True),
    "seed": (0, None, "left", True),
}
# names that take options, never a numeric range
CATEGORICAL = ("optimizer", "hidden_activation", "output_activation", "init", "lr_schedule",
               "batch_norm")


class SpaceFileError(ValueError):
    """A space file that cannot be read, or that describes no valid space."""


def load_space(path):
    """(space, fixed) from a TOML space file: space {name: distribution}, fixed {name: value}.

    Parameters
    ----------
    path : str or Path
        The TOML file, with a `[space]` table and an optional `[fixed]` one (see the module's
        docstring).

    Returns
    -------
    space : dict
        {name: distribution}, in the file's order.
    fixed : dict
        {name: value} of the settings every trial shares.

    Raises
    ------
    FileNotFoundError
        If `path` does not exist.
    SpaceFileError
        A ValueError naming the file and the entry: not UTF-8 text, not valid TOML, an
        unknown table or hyperparameter, a malformed range, a value out of its bounds, or a
        name both sampled and fixed.

    Examples
    --------
    >>> import tempfile
    >>> lines = ["[space]",
    ...          "learning_rate = { log_uniform = [1e-4, 0.1] }",
    ...          'hidden_activation = ["relu", "tanh"]',
    ...          "[fixed]",
    ...          "epochs = 50"]
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = Path(tmp) / "space.toml"
    ...     _ = path.write_text("\\n".join(lines), encoding="utf-8")
    ...     load_space(path)
    ({'learning_rate': LogUniform(10^[-4, -1]), 'hidden_activation': Choice(['relu', 'tanh'])},
     {'epochs': 50})
    """
    path = Path(path)
    tomllib = _tomllib()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such space file") from None
    except UnicodeDecodeError as e:
        raise SpaceFileError(f"{path}: not a text file ({e})") from None
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise SpaceFileError(f"{path}: not valid TOML: {e}") from None
    return parse_space(table, source=str(path))


def default_space():
    """(space, fixed) of DEFAULT_SPACE: what `mlpkit search` samples without --space.

    Returns
    -------
    space : dict
        {name: distribution}: learning_rate, l2, beta1, hidden, layers.
    fixed : dict
        {name: value}: Adam, 100 epochs, mini-batches of 64, He initialization.
    """
    return parse_space(_tomllib().loads(DEFAULT_SPACE), source="the default space")


def _tomllib():
    """The TOML reader: tomllib (Python 3.11+) or tomli, its backport."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    return tomllib


def parse_space(table, source="space"):
    """(space, fixed) from a space file's parsed tables ({"space": {...}, "fixed": {...}})."""
    if not isinstance(table, dict):
        raise SpaceFileError(f"{source}: expected tables [space] and [fixed]; got {table!r}")
    unknown = sorted(set(table) - {"space", "fixed"})
    if unknown:
        raise SpaceFileError(
            f"{source}: unknown table(s) {unknown}; expected [space] (required) and [fixed]"
        )
    entries, fixed_entries = table.get("space"), table.get("fixed", {})
    if not isinstance(entries, dict) or not entries:
        raise SpaceFileError(
            f"{source}: needs a [space] table with at least one hyperparameter, e.g. "
            "learning_rate = { log_uniform = [1e-4, 0.1] }"
        )
    if not isinstance(fixed_entries, dict):
        raise SpaceFileError(f"{source}: [fixed] must be a table of name = value")
    space = {name: _distribution(name, spec, source) for name, spec in entries.items()}
    fixed = {name: _fixed_value(name, value, source) for name, value in fixed_entries.items()}
    both = sorted(set(space) & set(fixed))
    if both:
        raise SpaceFileError(
            f"{source}: {both} appear in both [space] and [fixed]; each hyperparameter is "
            "either sampled or fixed"
        )
    return space, fixed


def _check_name(name, source, where):
    if name not in TRIAL_KEYS:
        raise SpaceFileError(
            f"{source}: unknown hyperparameter {name!r} in [{where}]; expected one of "
            f"{', '.join(TRIAL_KEYS)}"
        )


def _distribution(name, spec, source):
    _check_name(name, source, "space")
    what = f"{source}: space.{name}"
    if isinstance(spec, list):
        spec = {"choice": spec}
    if not isinstance(spec, dict) or len(spec) != 1 or next(iter(spec)) not in KINDS:
        raise SpaceFileError(
            f"{what}: expected one of {{ {' | '.join(f'{k} = [...]' for k in KINDS)} }} or a "
            f"list of options; got {spec!r}"
        )
    kind, values = next(iter(spec.items()))
    if not isinstance(values, list):
        raise SpaceFileError(f"{what}: {kind} takes a list; got {values!r}")
    if kind == "choice":
        if not values:
            raise SpaceFileError(f"{what}: empty choice; give at least one option")
        for option in values:
            _check_value(name, option, what)
        return Choice(values)
    if name in CATEGORICAL:
        raise SpaceFileError(f"{what}: {name} takes options; use choice = [...], not {kind}")
    integer = kind == "int_uniform"
    if len(values) != 2:
        raise SpaceFileError(f"{what}: {kind} takes a range [low, high] of two numbers; "
                             f"got {values!r}")
    try:
        lo, hi = (check_number(v, f"{kind}'s {end}", integer=integer)
                  for end, v in zip(("low", "high"), values, strict=True))
    except ParameterError as e:
        raise SpaceFileError(f"{what}: {e}") from None
    if integer and lo > hi:
        raise SpaceFileError(f"{what}: empty range [{lo}, {hi}]; expected low <= high")
    if not integer:
        if BOUNDS.get(name, (None,) * 4)[3]:
            raise SpaceFileError(
                f"{what}: {name} takes whole numbers; use int_uniform or choice, not {kind}"
            )
        if not lo < hi:
            raise SpaceFileError(f"{what}: empty range [{lo:g}, {hi:g}]; expected low < high")
    for value in values:
        _check_value(name, value, what)
    if kind == "log_uniform":
        if lo <= 0:
            raise SpaceFileError(f"{what}: log_uniform needs values > 0; got [{lo:g}, {hi:g}]")
        return LogUniform(math.log10(lo), math.log10(hi))
    if kind == "one_minus_log_uniform":
        if lo < 0 or hi >= 1:
            raise SpaceFileError(f"{what}: one_minus_log_uniform samples beta = 1 - 10^r and "
                                 f"needs 0 <= low < high < 1; got [{lo:g}, {hi:g}]")
        return OneMinusLogUniform(math.log10(1 - hi), math.log10(1 - lo))
    if kind == "uniform":
        return Uniform(lo, hi)
    return IntUniform(lo, hi)


def _fixed_value(name, value, source):
    _check_name(name, source, "fixed")
    _check_value(name, value, f"{source}: fixed.{name}")
    return value


def _check_value(name, value, what):
    """A value of hyperparameter `name` inside its bounds (numbers) or of the right type."""
    if name == "hidden" and isinstance(value, list):  # one size per hidden layer
        for size in value:
            _check_value(name, size, what)
        return
    if name in BOUNDS:
        min_val, max_val, include, integer = BOUNDS[name]
        try:
            check_number(value, name, integer=integer, min_val=min_val, max_val=max_val,
                         include_boundaries=include)
        except ParameterError as e:
            raise SpaceFileError(f"{what}: {e}") from None
    elif name == "batch_norm" and not isinstance(value, bool):
        raise SpaceFileError(f"{what}: batch_norm takes true or false; got {value!r}")
    elif name in CATEGORICAL and name != "batch_norm" and not isinstance(value, str):
        raise SpaceFileError(f"{what}: {name} takes a name (a string); got {value!r}")


def describe_space(space):
    """The space as plain data in the space file's terms ({name: {kind: [low, high]}}), for
    search.json and for comparing spaces; distributions of other kinds are named by their
    class and a hash of their state."""
    return {name: _describe(dist) for name, dist in space.items()}


def _describe(dist):
    if isinstance(dist, LogUniform):
        return {"log_uniform": [10.0**dist.lo, 10.0**dist.hi]}
    if isinstance(dist, OneMinusLogUniform):
        return {"one_minus_log_uniform": [1 - 10.0**dist.hi, 1 - 10.0**dist.lo]}
    if isinstance(dist, Uniform):
        return {"uniform": [dist.lo, dist.hi]}
    if isinstance(dist, IntUniform):
        return {"int_uniform": [dist.lo, dist.hi]}
    if isinstance(dist, Choice):
        return {"choice": list(dist.options)}
    from joblib import hash as joblib_hash

    return {"other": type(dist).__name__, "hash": joblib_hash(dist)}
