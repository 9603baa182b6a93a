"""Distributions to sample hyperparameters from, on the scale where each acts: a = 10^r for a
learning rate, beta = 1 - 10^r for an averaging coefficient, integers for units and layers, a
choice among options. Each draws with scipy.stats (`uniform`, `loguniform`, `randint`) through
`rvs(size=None, random_state=None)`, so scikit-learn's `ParameterSampler` /
`RandomizedSearchCV` accept them, and adds what scipy lacks: the 1 - 10^r scale, exponents as
the bounds (LogUniform(-4, -1) is 10^-4 to 10^-1), and `zoom(values)` for coarse to fine."""

import math

import numpy as np
from scipy import stats

from ..data.checks import check_number


def python_value(value):
    """A NumPy scalar or array as the Python value it holds (readable tables, exact pickling,
    JSON, int checks pass); anything else as it is."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def _check_range(lo, hi, what):
    lo, hi = (check_number(value, f"{what}: {name}") for name, value in (("lo", lo), ("hi", hi)))
    if not lo < hi:
        raise ValueError(f"{what}: needs lo < hi; got lo={lo!r}, hi={hi!r}")
    return lo, hi


def _zoomed_interval(points, lo, hi, margin):
    """[min(points) - margin (hi - lo), max(points) + margin (hi - lo)], kept inside [lo, hi]."""
    points = np.asarray(points, dtype=float)
    if points.size == 0 or not np.isfinite(points).all():
        raise ValueError("zoom needs at least one finite value")
    margin = check_number(margin, "margin (a fraction of the current range)", min_val=0,
                          max_val=1, include_boundaries="right")
    pad = margin * (hi - lo)
    new_lo, new_hi = max(lo, points.min() - pad), min(hi, points.max() + pad)
    return new_lo, new_hi


class _Distribution:
    """rvs(size=None, random_state=None): one value (size None, as a Python value) or an array
    of `size` values, drawn by scipy.stats distribution `_scipy` and mapped by `_map`."""

    _scipy = None  # a frozen scipy.stats distribution, set by __init__

    def rvs(self, size=None, random_state=None):
        values = self._map(self._scipy.rvs(size=size, random_state=random_state))
        return python_value(values) if size is None else values

    def _map(self, x):
        return x


class _ScaledUniform(_Distribution):
    """x = value(r),  r ~ U[lo, hi]: a uniform exponent r mapped onto the scale where the
    hyperparameter acts. Subclasses give the map, _value(r), its inverse, _exponent(x), which
    also checks that x is in the map's range, and the scipy.stats distribution that samples
    it."""

    _what = ""  # how error messages name the distribution

    def __init__(self, lo, hi):
        self.lo, self.hi = _check_range(lo, hi, self._what)
        self._scipy = self._frozen()

    @property
    def bounds(self):
        """The range of x: (min, max) of value(lo) and value(hi)."""
        ends = self._value(self.lo), self._value(self.hi)
        return min(ends), max(ends)

    def zoom(self, values, margin=0.1):
        """The same distribution over the exponents r = exponent(x) of `values`, padded by
        margin x the old exponent width."""
        return type(self)(*_zoomed_interval(self._exponent(values), self.lo, self.hi, margin))


class Uniform(_ScaledUniform):
    """x ~ U[lo, hi] (for hyperparameters that act linearly, e.g. keep_prob)."""

    _what = "Uniform"

    def __repr__(self):
        return f"Uniform({self.lo:g}, {self.hi:g})"

    def _frozen(self):
        return stats.uniform(self.lo, self.hi - self.lo)

    def _value(self, r):
        return r

    def _exponent(self, x):
        return x


class LogUniform(_ScaledUniform):
    """a = 10^r,  r ~ U[lo, hi]: the learning rate's scale. lo and hi are exponents:
    LogUniform(-4, 0) samples a in [0.0001, 1], as many values in [0.0001, 0.001] as in [0.1, 1]."""

    _what = "LogUniform (exponents: a = 10^r, r in [lo, hi])"

    def __repr__(self):
        return f"LogUniform(10^[{self.lo:g}, {self.hi:g}])"

    def _frozen(self):
        return stats.loguniform(10.0**self.lo, 10.0**self.hi)

    def _value(self, r):
        return 10.0**r

    def _exponent(self, a):
        """r = log10(a), for a > 0."""
        a = np.asarray(a, dtype=float)
        if (a <= 0).any():
            raise ValueError("LogUniform.zoom needs values > 0")
        return np.log10(a)


class OneMinusLogUniform(_ScaledUniform):
    """beta = 1 - 10^r,  r ~ U[lo, hi] (hi <= 0): an averaging beta's scale, where 1/(1 - beta)
    is the window averaged over. OneMinusLogUniform(-3, -1) samples beta in [0.9, 0.999], as
    many in [0.9, 0.99] as in [0.99, 0.999]."""

    _what = "OneMinusLogUniform (exponents: beta = 1 - 10^r, r in [lo, hi])"

    def __init__(self, lo, hi):
        super().__init__(lo, hi)
        if self.hi > 0:
            raise ValueError(f"{self._what}: needs hi <= 0 so that beta >= 0; got hi={hi!r}")

    def __repr__(self):
        return f"OneMinusLogUniform(1 - 10^[{self.lo:g}, {self.hi:g}])"

    def _frozen(self):
        return stats.loguniform(10.0**self.lo, 10.0**self.hi)  # 1 - beta

    def _map(self, one_minus_beta):
        return 1 - one_minus_beta

    def _value(self, r):
        return 1 - 10.0**r

    def _exponent(self, beta):
        """r = log10(1 - beta), for beta < 1."""
        beta = np.asarray(beta, dtype=float)
        if (beta >= 1).any():
            raise ValueError("OneMinusLogUniform.zoom needs values < 1")
        return np.log10(1 - beta)


class IntUniform(_Distribution):
    """n ~ uniform over the integers lo, lo + 1, ..., hi (both included): hidden units, layers."""

    def __init__(self, lo, hi):
        lo, hi = (check_number(v, f"IntUniform: {name}", integer=True)
                  for name, v in (("lo", lo), ("hi", hi)))
        if lo > hi:
            raise ValueError(f"IntUniform: needs lo <= hi; got lo={lo!r}, hi={hi!r}")
        self.lo, self.hi = lo, hi
        self._scipy = stats.randint(lo, hi + 1)

    def __repr__(self):
        return f"IntUniform({self.lo}, {self.hi})"

    @property
    def bounds(self):
        return self.lo, self.hi

    def zoom(self, values, margin=0.1):
        """The integers spanned by `values`, padded by margin x the old width (rounded outward)."""
        lo, hi = _zoomed_interval(values, self.lo, self.hi, margin)
        return IntUniform(math.floor(lo), math.ceil(hi))


class Choice(_Distribution):
    """One of `options`, each with probability 1/len(options) (an activation, an optimizer,
    a list of layer sizes, ...)."""

    def __init__(self, options):
        if isinstance(options, (str, bytes)) or not hasattr(options, "__iter__"):
            raise ValueError(f"Choice needs a list of options; got {options!r}")
        self.options = list(options)
        if not self.options:
            raise ValueError("Choice needs at least one option; got an empty list")
        self._scipy = stats.randint(0, len(self.options))  # the option's index

    def __repr__(self):
        return f"Choice({self.options!r})"

    def _map(self, k):
        if np.ndim(k) == 0:
            return self.options[int(k)]
        out = np.empty(np.shape(k), dtype=object)
        for index, i in np.ndenumerate(k):
            out[index] = self.options[i]
        return out

    def zoom(self, values, margin=None):
        """The options that occur among `values` (in their original order); margin is unused."""
        kept = [option for option in self.options if any(_same(option, v) for v in values)]
        return Choice(kept or self.options)


def _same(a, b):
    try:
        return bool(np.all(a == b)) and np.shape(a) == np.shape(b)
    except (TypeError, ValueError):
        return False


def check_space(space):
    """The search space as {name: distribution}; a list or tuple becomes Choice(list)."""
    if not isinstance(space, dict) or not space:
        raise ValueError("space must be a non-empty dict {name: distribution or list of options}")
    checked = {}
    for name, dist in space.items():
        if not isinstance(name, str):
            raise ValueError(f"space keys must be parameter names (str); got {name!r}")
        if isinstance(dist, (list, tuple)):
            dist = Choice(dist)
        if not callable(getattr(dist, "rvs", None)):
            raise ValueError(
                f"space[{name!r}] must be a distribution with rvs(size, random_state) (LogUniform, "
                f"OneMinusLogUniform, Uniform, IntUniform, Choice, scipy.stats) or a list of "
                f"options; got {dist!r}"
            )
        checked[name] = dist
    return checked
