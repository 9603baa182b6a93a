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
        margin x the old exponent width.

        Parameters
        ----------
        values : array_like of float
            Values of the hyperparameter (e.g. those of the best trials), at least one.
        margin : float, default 0.1
            The padding on each side, a fraction in [0, 1] of the current exponent range.

        Returns
        -------
        zoomed : same type as self
            The distribution over [min(r) - pad, max(r) + pad], kept inside [lo, hi].

        Raises
        ------
        ValueError
            If `values` is empty, not finite or outside the scale's range, or `margin` is not
            in [0, 1].
        """
        return type(self)(*_zoomed_interval(self._exponent(values), self.lo, self.hi, margin))


class Uniform(_ScaledUniform):
    """x ~ U[lo, hi] (for hyperparameters that act linearly, e.g. keep_prob).

    Parameters
    ----------
    lo, hi : float
        The range, lo < hi.

    Raises
    ------
    ValueError
        If lo >= hi or either is not a finite number.
    """

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
    LogUniform(-4, 0) samples a in [0.0001, 1], as many values in [0.0001, 0.001] as in [0.1, 1].

    Parameters
    ----------
    lo, hi : float
        The exponents of the range [10^lo, 10^hi], lo < hi.

    Raises
    ------
    ValueError
        If lo >= hi or either is not a finite number.

    Examples
    --------
    >>> learning_rate = LogUniform(-4, -1)
    >>> learning_rate.bounds
    (0.0001, 0.1)
    >>> a = learning_rate.rvs(size=4, random_state=0)     # the same seed, the same values
    >>> a.round(5)
    array([0.00443, 0.01398, 0.00643, 0.00431])
    >>> learning_rate.zoom([0.001, 0.003])                # around the best trials' values
    LogUniform(10^[-3.3, -2.22288])
    """

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
    many in [0.9, 0.99] as in [0.99, 0.999].

    Parameters
    ----------
    lo, hi : float
        The exponents of 1 - beta's range [10^lo, 10^hi], lo < hi <= 0.

    Raises
    ------
    ValueError
        If lo >= hi, hi > 0, or either is not a finite number.

    Examples
    --------
    >>> beta1 = OneMinusLogUniform(-3, -1)
    >>> beta1.bounds
    (0.9, 0.999)
    >>> beta1.rvs(size=3, random_state=0).round(4)
    array([0.9875, 0.9731, 0.9839])
    """

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
    """n ~ uniform over the integers lo, lo + 1, ..., hi (both included): hidden units, layers.

    Parameters
    ----------
    lo, hi : int
        The smallest and largest value, lo <= hi.

    Raises
    ------
    ValueError
        If lo > hi or either is not an integer.

    Examples
    --------
    >>> hidden = IntUniform(8, 64)
    >>> hidden.rvs(size=4, random_state=0)
    array([52, 55, 61,  8])
    >>> hidden.zoom([20, 30])
    IntUniform(14, 36)
    """

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
        """The integers spanned by `values`, padded by margin x the old width (rounded outward).

        Parameters
        ----------
        values : array_like of int
            Values of the hyperparameter (e.g. those of the best trials), at least one.
        margin : float, default 0.1
            The padding on each side, a fraction in [0, 1] of hi - lo.

        Returns
        -------
        zoomed : IntUniform
            The integers of [min - pad, max + pad], kept inside [lo, hi].

        Raises
        ------
        ValueError
            If `values` is empty or not finite, or `margin` is not in [0, 1].
        """
        lo, hi = _zoomed_interval(values, self.lo, self.hi, margin)
        return IntUniform(math.floor(lo), math.ceil(hi))


class Choice(_Distribution):
    """One of `options`, each with probability 1/len(options) (an activation, an optimizer,
    a list of layer sizes, ...).

    Parameters
    ----------
    options : iterable
        The values to choose from (not a string), at least one.

    Attributes
    ----------
    options : list
        The options.

    Raises
    ------
    ValueError
        If `options` is a string, not iterable, or empty.

    Examples
    --------
    >>> activation = Choice(["relu", "tanh", "sigmoid"])
    >>> activation.rvs(random_state=0)
    'relu'
    >>> activation.zoom(["tanh", "relu", "tanh"])
    Choice(['relu', 'tanh'])
    """

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
        """The options that occur among `values` (in their original order); margin is unused.

        Parameters
        ----------
        values : sequence
            Values of the hyperparameter (e.g. those of the best trials).
        margin : object, optional
            Ignored (the other distributions' zoom takes it).

        Returns
        -------
        zoomed : Choice
            A Choice of those options; all of them if none occurs.
        """
        kept = [option for option in self.options if any(_same(option, v) for v in values)]
        return Choice(kept or self.options)


def _same(a, b):
    try:
        return bool(np.all(a == b)) and np.shape(a) == np.shape(b)
    except (TypeError, ValueError):
        return False


def check_space(space):
    """The search space as {name: distribution}; a list or tuple becomes Choice(list).

    Parameters
    ----------
    space : dict
        {name: distribution or list of options}; a distribution is anything with
        rvs(size, random_state) (the ones here, or scipy.stats').

    Returns
    -------
    space : dict
        {name: distribution}, in the order given.

    Raises
    ------
    ValueError
        If `space` is not a non-empty dict, a name is not a string, or an entry is neither
        a distribution nor a list or tuple of options.
    """
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
