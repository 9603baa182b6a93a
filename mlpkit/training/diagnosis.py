"""The course's bias/variance diagnosis and its basic recipe.

Human-level error stands in for the Bayes error. With the training and dev errors:

    avoidable bias = train error - human-level error
    variance       = dev error - train error
    dev overfit    = test error - dev error   (when a test error is given)

A gap is high when it exceeds `tolerance` and, for an error rate p measured on n_dev dev
examples, also two binomial standard errors of the dev error, 2 sqrt(p (1 - p) / n_dev): a gap
smaller than that cannot be told from the dev set's sampling noise. The verdict names the high
gaps; the suggestions are the basic recipe for it, most promising first (high bias: a bigger
network, train longer, a better optimizer; high variance: regularization, augmentation, early
stopping, more data), each naming the `mlpkit train` option that applies it.

`diagnose(...)` takes the numbers; `Diagnosis.of(model, train, dev)` measures them on a Network,
an estimator or an ImageClassifier (duck-typed: apps is above this layer);
`Diagnosis.with_run(options, argv)` fills in each suggestion's value from a run's options and
its runnable `mlpkit train` command from the run's own arguments.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from ..nn.backend import np
from ..nn.checks import check_X, check_Y
from .batches import ArraySource, closing_batches
from .validation import SourceValidation, evaluation_batch_size, is_source

HIGH_BIAS = "high bias"
HIGH_VARIANCE = "high variance"
HIGH_BIAS_AND_VARIANCE = "high bias and high variance"
NEITHER = "neither"
VERDICTS = (HIGH_BIAS, HIGH_VARIANCE, HIGH_BIAS_AND_VARIANCE, NEITHER)

ERROR_RATE = "error rate"  # the one metric in [0, 1] with a binomial standard error
MEAN_SQUARED_ERROR = "mean squared error"

PROG = "mlpkit"
DEFAULT_OUT = "model.npz"  # mlpkit train's model file when --out is not given

# `mlpkit train` option -> the course's (and the library's) name of what it sets, for a caller
# that applies a suggestion to its own settings (the playground's "apply")
SETTINGS = {
    "--hidden": "hidden layer sizes (n[1], ..., n[L-1])",
    "--epochs": "epochs",
    "--optimizer": "optimizer",
    "--l2": "lambda (L2 regularization)",
    "--dropout": "1 - keep_prob (dropout)",
    "--augment": "data augmentation",
    "--patience": "early stopping patience",
    "--batch-norm": "batch normalization",
    "--init": "initialization",
}


_TYPES = {"--hidden": lambda text: [int(n) for n in text.split(",")], "--epochs": int,
          "--patience": int, "--l2": float, "--dropout": float}


@dataclass(frozen=True)
class Suggestion:
    """One remedy of the recipe. `setting` is the `mlpkit train` option that applies it (None
    for advice no option can follow, such as collecting more data); `value` what to set it to
    (the option's argument as text, True for a flag, None when the run's options are not
    known); `command` the run's own `mlpkit train` command with that option changed (None
    without the run's arguments, and for advice)."""

    remedy: str
    setting: str | None = None
    value: str | bool | None = None
    command: str | None = None

    def to_dict(self):
        return dataclasses.asdict(self)

    @property
    def typed_value(self):
        """The value as a program sets it: --hidden's sizes as a list of ints, --epochs and
        --patience as ints, --l2 and --dropout as floats, others as they are (None for advice
        or an unknown value)."""
        if not isinstance(self.value, str) or self.setting not in _TYPES:
            return self.value
        return _TYPES[self.setting](self.value)


@dataclass(frozen=True)
class Diagnosis:
    """Bias and variance from the training, dev and human-level errors (see the module's
    docstring). Errors are error rates in [0, 1] (`metric="error rate"`), or, for any other
    `metric` (a regressor's "mean squared error"), values >= 0 in the metric's units, with
    `tolerance` in the same units and no `n_dev`.

    Parameters
    ----------
    train_error : float
        The training set's error.
    dev_error : float
        The dev set's error.
    human_error : float, default 0.0
        Human-level error, the stand-in for the Bayes error.
    test_error : float, optional
        The test set's error, for the dev-overfit gap.
    n_dev : int, optional
        The number of dev examples (error rates only): a gap must also exceed two binomial
        standard errors of the dev error.
    tolerance : float, default 0.02
        The size a gap must exceed to be high, in the metric's units.
    metric : str, default "error rate"
        The error's name; any other than "error rate" is a metric >= 0, not a rate.
    baseline : tuple of float, optional
        (train, dev): the error rates of always predicting the training set's most frequent
        class. When the two differ, the sets' class balance differs, and part of a dev gap
        comes from that rather than from overfitting: the report says so.
    suggestions : sequence of Suggestion or dict, optional
        The remedies; computed from the verdict when not given (`with_run` fills in values
        and commands from a run).

    Raises
    ------
    ValueError
        If an error is not finite or below 0 (or, for an error rate, above 1), the tolerance
        is out of range, n_dev is not an integer >= 1, or n_dev or baseline is given for a
        metric that is not an error rate.
    TypeError
        If metric is not a non-empty string.
    """

    train_error: float
    dev_error: float
    human_error: float = 0.0
    test_error: float | None = None
    n_dev: int | None = None
    tolerance: float = 0.02
    metric: str = ERROR_RATE
    baseline: tuple[float, float] | None = None
    suggestions: tuple[Suggestion, ...] | None = None

    def __post_init__(self):
        if not isinstance(self.metric, str) or not self.metric.strip():
            raise TypeError(f"metric must be a name such as {ERROR_RATE!r} or "
                            f"{MEAN_SQUARED_ERROR!r}; got {self.metric!r}")
        set_ = object.__setattr__  # frozen: the checked values are set once, here
        for name in ("train_error", "dev_error", "human_error", "test_error"):
            value = getattr(self, name)
            if value is not None or name != "test_error":
                set_(self, name, _check_error(value, name, self.is_rate))
        set_(self, "tolerance", _check_tolerance(self.tolerance, self.is_rate))
        if self.n_dev is not None:
            if not self.is_rate:
                raise ValueError(
                    f"n_dev sets the binomial rule of error rates; a {self.metric} is not a "
                    "rate (leave n_dev out and give tolerance in its units)")
            if (isinstance(self.n_dev, bool) or not isinstance(self.n_dev, numbers.Integral)
                    or self.n_dev < 1):
                raise ValueError(f"n_dev must be the number of dev examples, an integer >= 1; "
                                 f"got {self.n_dev!r}")
            set_(self, "n_dev", int(self.n_dev))
        if self.baseline is not None:
            if not self.is_rate:
                raise ValueError(f"baseline holds error rates of a classifier; a {self.metric} "
                                 "has none")
            if isinstance(self.baseline, (str, bytes)) or len(self.baseline) != 2:
                raise ValueError(f"baseline must be a pair (train, dev) of error rates; got "
                                 f"{self.baseline!r}")
            train, dev = self.baseline
            set_(self, "baseline", (_check_error(train, "baseline train", True),
                                    _check_error(dev, "baseline dev", True)))
        if self.suggestions is None:
            set_(self, "suggestions", _recipe(self))
        else:
            set_(self, "suggestions", tuple(
                s if isinstance(s, Suggestion) else Suggestion(**s) for s in self.suggestions))

    # ------------------------------------------------------------------ the gaps
    @property
    def is_rate(self):
        return self.metric == ERROR_RATE

    @property
    def avoidable_bias(self):
        """train error - human-level error (negative below human level)."""
        return self.train_error - self.human_error

    @property
    def variance(self):
        """dev error - train error."""
        return self.dev_error - self.train_error

    @property
    def dev_overfit(self):
        """test error - dev error, or None without a test error: a gap means the choices made
        on the dev set fit it."""
        return None if self.test_error is None else self.test_error - self.dev_error

    @property
    def noise(self):
        """Two binomial standard errors of the dev error, 2 sqrt(p (1 - p) / n_dev), or None
        without n_dev."""
        if self.n_dev is None:
            return None
        p = self.dev_error
        return 2 * math.sqrt(p * (1 - p) / self.n_dev)

    @property
    def threshold(self):
        """The size a gap must exceed to count as high: tolerance, or two standard errors of
        the dev error when that is larger."""
        return self.tolerance if self.noise is None else max(self.tolerance, self.noise)

    def is_high(self, gap):
        """Whether a gap exceeds the threshold (by more than rounding).

        Parameters
        ----------
        gap : float or None
            A gap such as `variance`; None (a gap not measured) is not high.

        Returns
        -------
        bool
        """
        return gap is not None and _exceeds(gap, self.threshold)

    @property
    def high_bias(self):
        return self.is_high(self.avoidable_bias)

    @property
    def high_variance(self):
        return self.is_high(self.variance)

    @property
    def verdict(self):
        """One of VERDICTS."""
        if self.high_bias:
            return HIGH_BIAS_AND_VARIANCE if self.high_variance else HIGH_BIAS
        return HIGH_VARIANCE if self.high_variance else NEITHER

    def undecided(self):
        """The gaps over the tolerance that the dev set is too small to tell from noise.

        Returns
        -------
        list of tuple
            (name, gap) pairs, e.g. ("variance", 0.04); empty without n_dev.

        Examples
        --------
        >>> d = diagnose(0.05, 0.09, n_dev=100)      # two standard errors: 5.7 points
        >>> d.verdict, [name for name, gap in d.undecided()]
        ('neither', ['avoidable bias', 'variance'])
        """
        return [(name, gap) for name, gap in self._gaps()
                if _exceeds(gap, self.tolerance) and not self.is_high(gap)]

    def _gaps(self):
        gaps = [("avoidable bias", self.avoidable_bias), ("variance", self.variance)]
        return gaps + ([("dev overfit", self.dev_overfit)] if self.test_error is not None else [])

    @property
    def learned_nothing(self):
        """Whether the training error is no better (by more than the tolerance) than always
        predicting the training set's most frequent class (False without a baseline)."""
        return self.baseline is not None and not _exceeds(self.baseline[0] - self.train_error,
                                                          self.tolerance)

    @property
    def notes(self):
        """What the numbers alone do not say: below human level, a dev set too small to tell,
        classes balanced differently in train and dev, a network no better than the baseline."""
        notes = []
        if self.avoidable_bias < 0:
            notes.append(
                f"below human level: the training error is {self._gap(-self.avoidable_bias)} "
                "under the human-level error, so human level no longer estimates the Bayes "
                "error and the bias left to remove is unknown")
        undecided = self.undecided()
        if undecided:
            notes.append(
                f"the dev set is too small to tell: on {self.n_dev} examples, "
                + ", ".join(f"the {name} of {self._gap(gap)}" for name, gap in undecided)
                + f" cannot be told from noise (two standard errors: {self._gap(self.noise)})")
        if self.baseline is not None:
            train, dev = self.baseline
            if self.is_high(abs(dev - train)):
                notes.append(
                    "the classes are balanced differently: always predicting the training "
                    f"set's most frequent class errs {self._value(train)} on train and "
                    f"{self._value(dev)} on dev, so {self._gap(abs(dev - train))} of a dev gap "
                    "can come from the balance rather than from overfitting")
            if self.learned_nothing:
                notes.append(
                    f"the training error is no better than always predicting the most frequent "
                    f"class ({self._value(train)}): the network has learned next to nothing")
        return tuple(notes)

    # ------------------------------------------------------------------ the run
    def with_run(self, options=None, argv=None, settings=None):
        """This diagnosis with the suggestions of a known run.

        Parameters
        ----------
        options : dict, optional
            The run's options as `mlpkit train` records them (keys hidden, epochs, optimizer,
            l2, dropout, augment, patience, batch_norm, init; a missing key is taken as the
            option left out). Each value is derived from them: lambda 0 -> 0.1, lambda x ->
            10x; dropout 0 -> 0.2, d -> d + 0.1; hidden sizes and epochs doubled; remedies the
            run already applies (adam, flip, batch norm, He, early stopping) are left out; for
            high bias, a run's own lambda becomes lambda / 10 and its dropout d / 2.
        argv : list of str, optional
            The run's `mlpkit` arguments (sys.argv[1:], "train" first); each command is them
            with the one option replaced, or added, shell-quoted.
        settings : collection of str, optional
            The options the caller can apply (keys of SETTINGS, e.g. a page without
            augmentation); the suggestions for others are left out. None: all.

        Returns
        -------
        Diagnosis
            A copy with the new suggestions.

        Raises
        ------
        TypeError
            If options is not a dict or argv not a list of strings.
        ValueError
            If settings names an unknown option, or options holds sizes, epochs, l2 or
            dropout that are not numbers.

        Examples
        --------
        >>> d = diagnose(0.02, 0.11, human_error=0.01)
        >>> s = d.with_run({"hidden": [20], "l2": 0.0}, ["train", "--hidden", "20"]).suggestions
        >>> s[0].remedy, s[0].command
        ('L2 regularization: lambda 0 -> 0.1',
         'mlpkit train --hidden 20 --l2 0.1 --out model_l2-0.1.npz')
        """
        if options is not None and not isinstance(options, dict):
            raise TypeError(f"options must be a dict of the run's options; got {options!r}")
        if argv is not None and (isinstance(argv, str)
                                 or not all(isinstance(a, str) for a in argv)):
            raise TypeError("argv must be the run's arguments as a list of strings "
                            f"(sys.argv[1:]); got {argv!r}")
        suggestions = _recipe(self, options, None if argv is None else list(argv))
        if settings is not None:
            unknown = set(settings) - set(SETTINGS)
            if unknown:
                raise ValueError(f"unknown settings {sorted(unknown)}; expected some of "
                                 f"{', '.join(SETTINGS)}")
            suggestions = tuple(s for s in suggestions
                                if s.setting is None or s.setting in settings)
        return dataclasses.replace(self, suggestions=suggestions)

    # ------------------------------------------------------------------ measuring a model
    @classmethod
    def of(cls, model, train, dev, human_error=0.0, *, test=None, tolerance=None):
        """The diagnosis of a trained model on its training and dev data (and test data, scored
        for the dev-overfit gap only), each error from a full pass in prediction mode.

        model: a Network (data: (X (n_x, m), Y (n_y, m) or labels (m,)) or a source), an
        MLPClassifier / MLPRegressor or other scikit-learn estimator ((X (n_samples,
        n_features), y)), an ImageClassifier ((images (m, s, s, 3) uint8, class indices (m,))
        or a source of its preprocessed images). Classifiers are diagnosed on the error rate
        (1 - accuracy, the dev set's size giving n_dev, tolerance 0.02 unless given);
        regressors on the mean squared error, with human_error and tolerance (required) in
        its units."""
        measure, is_rate = _measure(model)
        if tolerance is None:
            if not is_rate:
                raise ValueError(
                    "a regressor is diagnosed on the mean squared error: give tolerance in its "
                    "units (the smallest gap in MSE that matters)")
            tolerance = 0.02
        train_error, _, train_labels = measure(train, "train")
        dev_error, n_dev, dev_labels = measure(dev, "dev")
        test_error = None if test is None else measure(test, "test")[0]
        baseline = None
        if is_rate and train_labels is not None and dev_labels is not None:
            baseline = _majority_errors(train_labels, dev_labels)
        return cls(train_error, dev_error, human_error, test_error,
                   n_dev=n_dev if is_rate else None, tolerance=tolerance,
                   metric=ERROR_RATE if is_rate else MEAN_SQUARED_ERROR, baseline=baseline)

    # ------------------------------------------------------------------ reports
    def to_dict(self):
        """The diagnosis as JSON-safe data (`from_dict` reads it back).

        Returns
        -------
        dict
            verdict, the errors, the gaps (None where not measured), suggestions (dicts
            remedy, setting, value, command), and metric, n_dev, tolerance, threshold,
            baseline ({"train", "dev"} or None), notes.
        """
        return {
            "verdict": self.verdict,
            "train_error": self.train_error,
            "dev_error": self.dev_error,
            "human_error": self.human_error,
            "test_error": self.test_error,
            "avoidable_bias": self.avoidable_bias,
            "variance": self.variance,
            "dev_overfit": self.dev_overfit,
            "suggestions": [s.to_dict() for s in self.suggestions],
            "metric": self.metric,
            "n_dev": self.n_dev,
            "tolerance": self.tolerance,
            "threshold": self.threshold,
            "baseline": None if self.baseline is None else {"train": self.baseline[0],
                                                            "dev": self.baseline[1]},
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, record):
        """The Diagnosis that `to_dict` wrote (the derived keys are recomputed)."""
        try:
            baseline = record.get("baseline")
            return cls(record["train_error"], record["dev_error"], record["human_error"],
                       record.get("test_error"), n_dev=record.get("n_dev"),
                       tolerance=record.get("tolerance", 0.02),
                       metric=record.get("metric", ERROR_RATE),
                       baseline=None if baseline is None else (baseline["train"],
                                                               baseline["dev"]),
                       suggestions=record.get("suggestions"))
        except (KeyError, TypeError) as error:
            raise ValueError(f"not a diagnosis record ({error!r}); expected the dict of "
                             "Diagnosis.to_dict()") from None

    def __str__(self):
        rows = [("human-level", self.human_error, ""),
                ("train", self.train_error, self._gap_text(
                    "avoidable bias (train - human)", self.avoidable_bias)),
                ("dev", self.dev_error, self._gap_text("variance (dev - train)", self.variance))]
        if self.test_error is not None:
            rows.append(("test", self.test_error,
                         self._gap_text("dev overfit (test - dev)", self.dev_overfit)))
        lines = [f"bias and variance ({self.metric}):"]
        lines += [f"  {name + ' error':<18}{self._value(error):>8}{gap}" for name, error, gap
                  in rows]
        if self.baseline is not None:
            train, dev = (self._value(e) for e in self.baseline)
            lines.append(f"  always the training set's most frequent class: {train} on train, "
                         f"{dev} on dev")
        why = "the tolerance"
        if self.noise is not None and self.noise > self.tolerance:
            why = (f"two standard errors of the dev error on {self.n_dev} examples: a dev set this "
                   f"small cannot tell smaller gaps from noise; the tolerance is "
                   f"{self._gap(self.tolerance)}")
        elif self.noise is not None:
            why += f"; two standard errors of the dev error are {self._gap(self.noise)}"
        lines.append(f"  a gap is high above {self._gap(self.threshold)} ({why})")
        lines.append(f"verdict: {self.verdict}")
        lines += [f"  note: {note}" for note in self.notes]
        lines.append("suggestions, most promising first:" if self.suggestions
                     else "suggestions: none (no gap is high)")
        for i, s in enumerate(self.suggestions, 1):
            how = ("" if s.setting is None else f" ({s.setting})" if s.value is None
                   else f": {s.setting}" + ("" if s.value is True else f" {s.value}"))
            lines.append(f"  {i}. {s.remedy}{how}")
            if s.command is not None:
                lines.append(f"     {s.command}")
        return "\n".join(lines)

    def _gap_text(self, name, gap):
        return f"   {name}: {self._gap(gap)}" + ("  high" if self.is_high(gap) else "")

    def _value(self, error):
        return f"{100 * error:.1f}%" if self.is_rate else f"{error:.4g}"

    def _gap(self, gap):
        return f"{100 * gap:.1f} points" if self.is_rate else f"{gap:.4g}"


def diagnose(train_error, dev_error, *, human_error=0.0, test_error=None, n_dev=None,
             tolerance=0.02, metric=ERROR_RATE, baseline=None):
    """The `Diagnosis` of these errors: avoidable_bias = train - human, variance = dev - train,
    dev_overfit = test - dev; a gap is high above tolerance and, with n_dev dev examples, two
    binomial standard errors of the dev error.

    Parameters
    ----------
    train_error : float
        The training set's error: an error rate in [0, 1] (metric "error rate"), or a value
        >= 0 of another metric (e.g. "mean squared error").
    dev_error : float
        The dev set's error.
    human_error : float, default 0.0
        Human-level error, the stand-in for the Bayes error.
    test_error : float, optional
        The test set's error, for the dev-overfit gap.
    n_dev : int, optional
        The number of dev examples (error rates only).
    tolerance : float, default 0.02
        The size a gap must exceed to be high, in the metric's units.
    metric : str, default "error rate"
        The error's name.
    baseline : tuple of float, optional
        (train, dev) error rates of always predicting the training set's most frequent class,
        for the report.

    Returns
    -------
    Diagnosis
        Its verdict, gaps, notes and suggestions; str() gives the report.

    Raises
    ------
    ValueError
        If an error, the tolerance, n_dev or baseline is out of range (see `Diagnosis`).
    TypeError
        If metric is not a non-empty string.

    Examples
    --------
    >>> d = diagnose(0.15, 0.16, human_error=0.01)
    >>> d.verdict, round(d.avoidable_bias, 4), round(d.variance, 4)
    ('high bias', 0.14, 0.01)
    >>> [s.setting for s in d.suggestions][:3]
    ['--hidden', '--epochs', '--optimizer']
    >>> diagnose(0.02, 0.11, human_error=0.01).verdict
    'high variance'
    """
    return Diagnosis(train_error, dev_error, human_error, test_error, n_dev=n_dev,
                     tolerance=tolerance, metric=metric, baseline=baseline)


# ---------------------------------------------------------------------------------------------
# checks


def _exceeds(gap, threshold):
    """gap > threshold, not counting a difference of rounding (0.05 - 0.03 > 0.02)."""
    return gap > threshold and not math.isclose(gap, threshold, rel_tol=1e-9, abs_tol=1e-12)


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_error(value, name, is_rate):
    if not _is_real(value) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number; got {value!r}")
    if is_rate and not 0 <= value <= 1:
        hint = f" (for {value}%, give {value / 100:g})" if 1 < value <= 100 else ""
        raise ValueError(f"{name} must be an error rate in [0, 1], a fraction such as 0.05 "
                         f"for 5%; got {value!r}{hint}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0 (an error); got {value!r}")
    return float(value)


def _check_tolerance(tolerance, is_rate):
    if not _is_real(tolerance) or not math.isfinite(tolerance) or tolerance < 0 or (
            is_rate and tolerance >= 1):
        expected = ("a fraction in [0, 1) (0.02: gaps over 2 points are high)" if is_rate
                    else "a finite number >= 0, in the metric's units")
        raise ValueError(f"tolerance must be {expected}; got {tolerance!r}")
    return float(tolerance)


# ---------------------------------------------------------------------------------------------
# the recipe


def _recipe(d, options=None, argv=None):
    """The suggestions for d's verdict, most promising first: the bias remedies before the
    variance ones (the course fixes bias first), then advice on the dev set."""
    known = options is not None
    o = options or {}
    hidden = o.get("hidden") or []
    if isinstance(hidden, str):  # as --hidden takes it
        hidden = [part for part in hidden.split(",") if part.strip()]
    try:
        hidden = [int(n) for n in hidden]
        epochs = None if o.get("epochs") is None else int(o["epochs"])
        l2 = float(o.get("l2") or 0.0)
        dropout = float(o.get("dropout") or 0.0)
    except (TypeError, ValueError):
        raise ValueError("options must hold the run's hidden sizes, epochs, l2 and dropout as "
                         f"numbers (as mlpkit train records them); got {options!r}") from None
    items = []  # (remedy, setting, value); value None: unknown without the run's options

    if d.high_bias:
        bigger = ",".join(str(2 * n) for n in hidden) if hidden else "7"
        bias = []
        bias.append(("a bigger network: more hidden units"
                      + (f" ({','.join(map(str, hidden)) or 'none'} -> {bigger})" if known
                         else ", twice the units per layer"),
                      "--hidden", bigger if known else None))
        bias.append(("train longer" + (f" ({epochs} -> {2 * epochs} epochs)" if known and epochs
                                         else ": twice the epochs"),
                       "--epochs", str(2 * epochs) if known and epochs else None))
        if d.learned_nothing:  # training has barely begun: training longer comes first
            bias.reverse()
        items += bias
        if o.get("optimizer") != "adam":
            items.append(("a better optimizer: Adam (momentum and RMSprop together)",
                          "--optimizer", "adam"))
        # less regularization, unless the variance is high too (it comes next, with more)
        if l2 > 0 and not d.high_variance:
            items.append((f"less L2 regularization: lambda {_num(l2)} -> {_num(l2 / 10)}",
                          "--l2", _num(l2 / 10)))
        if dropout > 0 and not d.high_variance:
            items.append((f"less dropout: keep_prob {_num(1 - dropout)} -> "
                          f"{_num(1 - dropout / 2)}", "--dropout", _num(dropout / 2)))
        if not o.get("batch_norm"):
            items.append(("batch normalization: faster, steadier training of deep networks",
                          "--batch-norm", True))
        if o.get("init") != "he":
            items.append(("He initialization, made for ReLU layers", "--init", "he"))

    if d.high_variance:
        new_l2 = 0.1 if l2 == 0 else 10 * l2
        items.append(("L2 regularization: lambda" + (f" {_num(l2)} -> {_num(new_l2)}" if known
                                                      else " 0 -> 0.1, or 10x"),
                      "--l2", _num(new_l2) if known else None))
        if not known or (hidden and dropout < 0.9):
            new_dropout = 0.2 if dropout == 0 else min(dropout + 0.1, 0.9)
            items.append(("dropout: keep_prob" + (f" {_num(1 - dropout)} -> "
                                                  f"{_num(1 - new_dropout)}" if known
                                                  else " 1 -> 0.8, or 0.1 less")
                          + "; --dropout is 1 - keep_prob",
                          "--dropout", _num(new_dropout) if known else None))
        if o.get("augment") != "flip":
            items.append(("data augmentation, the runnable form of more data: each image "
                          "flipped left-right at random each epoch", "--augment", "flip"))
        if not o.get("patience"):
            patience = max(10, epochs // 10) if known and epochs else None
            items.append(("early stopping: stop when the dev cost has not improved for N "
                          "epochs, keeping the best epoch", "--patience",
                          None if patience is None else str(patience)))
        items.append(("collect more training data (advice: no option does it)", None, None))

    if d.is_high(d.dev_overfit):
        items.append(("a bigger dev set: the choices made on it fit it (the test error is "
                      f"{d._gap(d.dev_overfit)} higher)", None, None))
    elif d.undecided():
        items.append(("a bigger dev set, to tell the gaps from noise", None, None))

    return tuple(Suggestion(remedy, setting, value, _command(argv, setting, value))
                 for remedy, setting, value in items)


def _num(x):
    """A float as a short option argument: 0.30000000000000004 -> '0.3', 7.0 -> '7'."""
    return format(x, ".6g")


def _command(argv, setting, value):
    """The `mlpkit` command of argv with `setting value` (a flag when value is True) in place
    of any `setting ...` or `setting=...` there, else added; None without argv or value. A
    `train` command also writes its own model file, named after the change (`--out
    model_l2-0.1.npz`), so running it keeps the diagnosed model."""
    if argv is None or setting is None or value is None:
        return None
    end = argv.index("--") if "--" in argv else len(argv)
    flag = value is True
    words = _replaced(argv[:end], setting, [setting] if flag else [setting, str(value)], flag)
    if words[:1] == ["train"]:
        out = Path(_value_of(words, "--out") or DEFAULT_OUT)
        change = "-".join([setting.lstrip("-"), *([] if flag else [str(value)])])
        renamed = out.with_name(f"{out.stem}_{re.sub(r'[^A-Za-z0-9.-]+', '-', change)}"
                                f"{out.suffix or '.npz'}")
        words = _replaced(words, "--out", ["--out", str(renamed)], False)
    return shlex.join([PROG, *words, *argv[end:]])


def _replaced(words, option, new, flag):
    """words with every `option ...` / `option=...` (one word for a flag) replaced by the words
    `new`, once; `new` added at the end when the option is absent."""
    out, placed, i = [], False, 0
    while i < len(words):
        word = words[i]
        if word == option or word.startswith(option + "="):
            if not placed:
                out += new
                placed = True
            i += 1 if flag or word != option else 2
            continue
        out.append(word)
        i += 1
    return out if placed else out + new


def _value_of(words, option):
    """The argument of the last `option X` / `option=X` in words, None when absent."""
    found = None
    for i, word in enumerate(words):
        if word == option and i + 1 < len(words):
            found = words[i + 1]
        elif word.startswith(option + "="):
            found = word[len(option) + 1:]
    return found


# ---------------------------------------------------------------------------------------------
# measuring a model


def _measure(model):
    """(measure(data, name) -> (error, n, class labels or None), whether the error is a rate)
    for this model."""
    if all(hasattr(model, a) for a in ("network", "preprocess", "targets")):  # ImageClassifier
        net = model.network

        def image_source(data, name):
            if is_source(data):
                if model.standardizer is not None and getattr(data, "standardizer", 0) is None:
                    raise ValueError(
                        f"{name}: the source gives unstandardized images but the model "
                        "standardizes its inputs; give the source the model's standardizer "
                        "(source.standardizer = model.standardizer)")
                return data, _source_labels(net, data)
            images, labels = _pair(data, name, "(images, class indices)")
            source = ArraySource(model.preprocess(images, net.dtype), model.targets(labels))
            return source, np.asarray(labels)

        return _network_measure(net, image_source), True
    if all(hasattr(model, a) for a in ("forward", "output_activation", "layer_dims")):
        def network_source(data, name):
            if is_source(data):
                return data, _source_labels(model, data)
            X, Y = _pair(data, name, "(X (n_x, m), Y (n_y, m))")
            X = check_X(X, model.layer_dims[0], name=f"{name} X")
            Y = check_Y(Y, X.shape[1], model.layer_dims[-1], model.output_activation, X.dtype,
                        name=f"{name} Y")
            return ArraySource(X, Y), _class_labels(model, Y)

        return _network_measure(model, network_source), model.output_activation in (
            "sigmoid", "softmax")
    if callable(getattr(model, "predict", None)) and callable(getattr(model, "get_params", None)):
        return _estimator_measure(model)
    raise TypeError(
        "Diagnosis.of takes a Network, an MLPClassifier or MLPRegressor (or another fitted "
        f"scikit-learn classifier or regressor), or an ImageClassifier; got {type(model).__name__}")


def _pair(data, name, expected):
    if isinstance(data, (tuple, list)) and len(data) == 2:
        return data
    raise TypeError(f"{name} must be a pair {expected} or a source of mini-batches; "
                    f"got {type(data).__name__}")


def _class_labels(net, Y):
    """The class of each column of Y for a one-output sigmoid or a softmax network, else None
    (a regressor, or several sigmoid labels at once)."""
    if net.output_activation == "softmax":
        return Y.argmax(axis=0)
    if net.output_activation == "sigmoid" and Y.shape[0] == 1:
        return Y[0]
    return None


def _source_labels(net, source):
    """The class of each example of a source: its targets' for examples in memory, a streaming
    source's `labels` (class indices), else None."""
    if isinstance(source, ArraySource):
        return _class_labels(net, source.Y)
    return getattr(source, "labels", None)


def _majority_errors(train_labels, dev_labels):
    """(train, dev) error rates of always predicting the training set's most frequent class."""
    classes, counts = np.unique(np.asarray(train_labels), return_counts=True)
    majority = classes[counts.argmax()]
    return (float(1 - counts.max() / counts.sum()),
            float(np.mean(np.asarray(dev_labels) != majority)))


def _network_measure(net, to_source):
    classifier = net.output_activation in ("sigmoid", "softmax")

    def measure(data, name):
        source, labels = to_source(data, name)
        error = (1 - SourceValidation(source)(net)["val_score"] if classifier
                 else _mean_squared_error(net, source))
        return _finite(error, name), source.n_examples, labels if classifier else None

    return measure


def _mean_squared_error(net, source):
    """The (weighted) mean over examples of the squared error averaged over outputs (scikit-
    learn's mean_squared_error), streamed over the source in prediction mode."""
    total = weight = 0.0
    with closing_batches(source, np.arange(source.n_examples),
                         evaluation_batch_size(source)) as batches:
        for batch in batches:
            AL, _ = net.forward(batch.X)
            per_example = np.square(AL.astype(np.float64) - batch.Y).mean(axis=0)
            w = batch.sample_weight
            total += float(per_example.sum() if w is None else per_example @ w)
            weight += float(batch.size if w is None else np.sum(w))
    if weight == 0:
        raise ValueError("the source gave no examples")
    return total / weight


def _estimator_measure(model):
    from sklearn.base import is_classifier, is_regressor  # the estimators' own library
    from sklearn.metrics import accuracy_score, mean_squared_error

    if not (is_classifier(model) or is_regressor(model)):
        raise TypeError(f"Diagnosis.of needs a classifier or a regressor; "
                        f"{type(model).__name__} is neither")
    classifier = is_classifier(model)

    def measure(data, name):
        if is_source(data):
            raise TypeError(f"{name}: a scikit-learn estimator takes (X, y) arrays, not a "
                            "source (diagnose its network, or load the source into arrays)")
        X, y = _pair(data, name, "(X (n_samples, n_features), y)")
        predicted = model.predict(X)
        error = (1 - accuracy_score(y, predicted) if classifier
                 else mean_squared_error(y, predicted))
        y = np.asarray(y)
        labels = y if classifier and y.ndim == 1 else None  # one label per sample
        return _finite(error, name), len(predicted), labels

    return measure, classifier


def _finite(error, name):
    if not math.isfinite(error):
        raise ValueError(f"the model's outputs on the {name} data are not finite (a diverged "
                         "network): there is no error to diagnose")
    return float(error)
