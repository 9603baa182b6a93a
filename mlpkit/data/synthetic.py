"""Small synthetic data sets: the course's planar flower and moons, its extra planar sets (noisy
circles, blobs, gaussian quantiles, as planar_utils' `load_extra_datasets` makes them), TensorFlow
Playground's XOR, spiral and two gaussians, house prices for regression.

The classification sets return X (2, m) and Y (1, m) of class indices, both float64.

A seed may be an int (a NumPy Generator is made from it, mlpkit's own draws) or a legacy
`numpy.random.RandomState`, which draws exactly what the course's `np.random.seed(n)` drew:
`make_flower(seed=np.random.RandomState(1))` and `make_moons(seed=np.random.RandomState(3))` are
the course's data sets, point for point.
"""

from __future__ import annotations

import numpy as np

# Ground truth of make_house_prices: price (in 100k) = bias + weights . features + noise.
HOUSE_FEATURES = ("size_m2", "bedrooms", "wealth_index", "walkability")
HOUSE_PRICE_WEIGHTS = np.array([0.012, 0.15, 1.5, 0.006])
HOUSE_PRICE_BIAS = 0.4
HOUSE_PRICE_NOISE = 0.15


def _generator(seed):
    """A Generator from an int or None; a Generator or legacy RandomState as it is."""
    if isinstance(seed, (np.random.Generator, np.random.RandomState)):
        return seed
    return np.random.default_rng(seed)


def make_flower(m: int = 400, noise: float = 0.2, seed=1):
    """The course's planar "flower": two classes of m/2 points on the petals r = 4 sin(4t).

    Class j (0 or 1), drawn in this order: t = linspace(3.12 j, 3.12 (j+1), N) +
    noise*randn(N), r = 4 sin(4t) + noise*randn(N), point (r sin t, r cos t).
    seed=np.random.RandomState(1) gives the course's data set (its `load_planar_dataset()`).

    Parameters
    ----------
    m : int, default 400
        The number of points, even (m/2 per class).
    noise : float, default 0.2
        The standard deviation of the noise on t and r.
    seed : int, None, numpy.random.Generator or numpy.random.RandomState, default 1
        The random draws (see the module's docstring).

    Returns
    -------
    X : ndarray of shape (2, m), float64
        The points, one per column.
    Y : ndarray of shape (1, m), float64
        Their classes, 0 for the first m/2 points, 1 for the rest.

    Raises
    ------
    ValueError
        If `m` is not an even number >= 2.

    Examples
    --------
    >>> X, Y = make_flower(m=6, seed=0)
    >>> X.shape, Y
    ((2, 6), array([[0., 0., 0., 1., 1., 1.]]))
    """
    if m < 2 or m % 2:
        raise ValueError(f"m must be an even number >= 2, got {m}")
    rng = _generator(seed)
    N, a = m // 2, 4
    X = np.zeros((2, m))
    Y = np.zeros((1, m))
    for j in range(2):
        t = np.linspace(j * 3.12, (j + 1) * 3.12, N) + rng.standard_normal(N) * noise
        r = a * np.sin(4 * t) + rng.standard_normal(N) * noise
        X[:, N * j:N * (j + 1)] = r * np.sin(t), r * np.cos(t)
        Y[0, N * j:N * (j + 1)] = j
    return X, Y


def make_moons(m: int = 300, noise: float = 0.2, seed=None):
    """Two interleaving half circles, scikit-learn's `make_moons(n_samples=m, noise=noise)`, in
    the course's layout: X (2, m), Y (1, m) float64. seed=np.random.RandomState(3) gives the
    course's data set (its `load_dataset()`: np.random.seed(3), then make_moons drawing from the
    global legacy generator).

    Parameters
    ----------
    m : int, default 300
        The number of points (class 1 gets the extra one when m is odd).
    noise : float, default 0.2
        The standard deviation of the gaussian noise added to the points.
    seed : int, None, numpy.random.Generator or numpy.random.RandomState, optional
        The random draws (see the module's docstring); None: fresh ones.

    Returns
    -------
    X : ndarray of shape (2, m), float64
        The points, one per column.
    Y : ndarray of shape (1, m), float64
        Their classes, 0 or 1.

    Raises
    ------
    ValueError
        If `m` < 2.
    """
    from sklearn.datasets import make_moons as sklearn_moons

    if m < 2:
        raise ValueError(f"m must be >= 2, got {m}")
    X, y = sklearn_moons(n_samples=m, noise=noise, random_state=_random_state(seed))
    return _course_layout(X, y)


def _check_m(m, minimum=2):
    if not isinstance(m, (int, np.integer)) or isinstance(m, bool) or m < minimum:
        raise ValueError(f"m must be an integer >= {minimum}, got {m!r}")


def _random_state(seed):
    """scikit-learn's random_state for `seed`: a legacy RandomState as it is (the course's
    np.random.seed draws), else one seeded from mlpkit's Generator."""
    if isinstance(seed, np.random.RandomState):
        return seed
    return np.random.RandomState(_generator(seed).integers(2**31 - 1))


def _course_layout(X, y):
    return np.ascontiguousarray(X.T, dtype=np.float64), y.reshape(1, -1).astype(np.float64)


def make_circles(m: int = 200, noise: float = 0.3, factor: float = 0.5, seed=None):
    """Two concentric circles, scikit-learn's `make_circles(n_samples=m, factor=factor,
    noise=noise)`: planar_utils' "noisy circles" with the defaults; noise=0.05, factor=0.8 is
    the initialization assignment's. Class 1 is the inner circle."""
    from sklearn.datasets import make_circles as sklearn_circles

    _check_m(m)
    X, y = sklearn_circles(n_samples=m, noise=noise, factor=factor,
                           random_state=_random_state(seed))
    return _course_layout(X, y)


def make_blobs(m: int = 200, classes: int = 2, centers: int = 6, noise: float = 1.0, seed=None):
    """planar_utils' blobs: scikit-learn's `make_blobs(n_samples=m, centers=centers,
    cluster_std=noise)`, blob k labelled k mod `classes` (the course keeps Y % 2)."""
    from sklearn.datasets import make_blobs as sklearn_blobs

    _check_m(m)
    if not 2 <= classes <= centers:
        raise ValueError(f"classes must be in [2, centers={centers}], got {classes}")
    X, y = sklearn_blobs(n_samples=m, n_features=2, centers=centers, cluster_std=noise,
                         random_state=_random_state(seed))
    return _course_layout(X, y % classes)


def make_gaussian_quantiles(m: int = 200, classes: int = 2, cov: float = 0.5, seed=None):
    """planar_utils' gaussian quantiles: scikit-learn's `make_gaussian_quantiles(cov=cov,
    n_samples=m, n_features=2, n_classes=classes)`: one gaussian cut into `classes` shells of
    equal counts."""
    from sklearn.datasets import make_gaussian_quantiles as sklearn_quantiles

    _check_m(m)
    X, y = sklearn_quantiles(cov=cov, n_samples=m, n_features=2, n_classes=classes,
                             random_state=_random_state(seed))
    return _course_layout(X, y)


def make_xor(m: int = 400, noise: float = 0.0, seed=None):
    """TensorFlow Playground's XOR: x, y ~ U(-5, 5) pushed 0.3 away from the axes; the label is
    1 where (x + nx)(y + ny) >= 0, with nx, ny ~ U(-5, 5) * noise (the points stay put, their
    labels flip near the axes)."""
    _check_m(m, 1)
    rng = _generator(seed)
    P = rng.uniform(-5, 5, (2, m))
    P += np.where(P > 0, 0.3, -0.3)
    shifted = P + rng.uniform(-5, 5, (2, m)) * noise
    Y = (shifted[0] * shifted[1] >= 0).astype(np.float64)
    return P, Y.reshape(1, m)


def make_spiral(m: int = 400, noise: float = 0.0, classes: int = 2, seed=None):
    """TensorFlow Playground's spiral, with `classes` arms (it has 2): arm k has m / classes
    points i = 0..n-1 at r = 5 i / n, t = 1.75 * 2 pi i / n + 2 pi k / classes, point
    (r sin t, r cos t) + U(-1, 1) * noise in each coordinate."""
    _check_m(m)
    if not 2 <= classes <= m:
        raise ValueError(f"classes must be in [2, m={m}], got {classes}")
    rng = _generator(seed)
    sizes = np.full(classes, m // classes)
    sizes[: m % classes] += 1
    X, Y = np.empty((2, m)), np.empty((1, m))
    start = 0
    for k, n in enumerate(sizes):
        i = np.arange(n)
        r = i / n * 5
        t = 1.75 * i / n * 2 * np.pi + 2 * np.pi * k / classes
        X[:, start:start + n] = r * np.sin(t), r * np.cos(t)
        X[:, start:start + n] += rng.uniform(-1, 1, (2, n)) * noise
        Y[0, start:start + n] = k
        start += n
    return X, Y


def make_gaussians(m: int = 400, noise: float = 0.0, seed=None):
    """TensorFlow Playground's two gaussians: m/2 points of class 1 around (2, 2), m/2 of
    class 0 around (-2, -2), each coordinate with variance 0.5 + 7 noise (its scale maps noise
    0..0.5 to variance 0.5..4)."""
    _check_m(m)
    rng = _generator(seed)
    n = m // 2
    std = np.sqrt(0.5 + 7 * noise)
    X = np.concatenate([rng.normal(2, std, (2, n)), rng.normal(-2, std, (2, m - n))], axis=1)
    Y = np.concatenate([np.ones(n), np.zeros(m - n)]).reshape(1, m)
    return X, Y


def make_house_prices(m: int = 200, seed: int = 0):
    """Synthetic house prices for linear-output regression. Returns X (4, m), Y (1, m).

    Features (rows, see HOUSE_FEATURES): size in m^2 ~ U(40, 250); bedrooms 1..6, about one
    per 40 m^2; zip-code wealth index ~ U(0, 1); walkability score ~ U(0, 100).
    Ground truth, price in units of 100k:
    y = HOUSE_PRICE_BIAS + HOUSE_PRICE_WEIGHTS . x + N(0, HOUSE_PRICE_NOISE^2).

    Parameters
    ----------
    m : int, default 200
        The number of houses.
    seed : int, default 0
        The seed of the NumPy Generator that draws them.

    Returns
    -------
    X : ndarray of shape (4, m), float64
        The features, one house per column, rows in the order of HOUSE_FEATURES.
    Y : ndarray of shape (1, m), float64
        The prices, in units of 100k.

    Raises
    ------
    ValueError
        If `m` < 1.
    """
    if m < 1:
        raise ValueError(f"m must be >= 1, got {m}")
    rng = np.random.default_rng(seed)
    size = rng.uniform(40.0, 250.0, m)
    bedrooms = np.clip(np.round(size / 40.0 + rng.normal(0.0, 0.7, m)), 1, 6)
    wealth = rng.uniform(0.0, 1.0, m)
    walk = rng.uniform(0.0, 100.0, m)
    X = np.stack([size, bedrooms, wealth, walk])
    Y = HOUSE_PRICE_BIAS + HOUSE_PRICE_WEIGHTS @ X + rng.normal(0.0, HOUSE_PRICE_NOISE, m)
    return X, Y.reshape(1, m)
