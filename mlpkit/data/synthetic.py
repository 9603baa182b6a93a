"""Small synthetic data sets: the course's planar flower and moons, house prices for regression.

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
    noise*randn(N), r = 4 sin(4t) + noise*randn(N), point (r sin t, r cos t). Returns X (2, m)
    and Y (1, m), both float64. seed=np.random.RandomState(1) gives the course's data set
    (its `load_planar_dataset()`).
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
    global legacy generator)."""
    from sklearn.datasets import make_moons as sklearn_moons

    if m < 2:
        raise ValueError(f"m must be >= 2, got {m}")
    rng = seed if isinstance(seed, np.random.RandomState) else np.random.RandomState(
        _generator(seed).integers(2**31 - 1))
    X, y = sklearn_moons(n_samples=m, noise=noise, random_state=rng)
    return X.T, y.reshape(1, -1).astype(np.float64)


def make_house_prices(m: int = 200, seed: int = 0):
    """Synthetic house prices for linear-output regression. Returns X (4, m), Y (1, m).

    Features (rows, see HOUSE_FEATURES): size in m^2 ~ U(40, 250); bedrooms 1..6, about one
    per 40 m^2; zip-code wealth index ~ U(0, 1); walkability score ~ U(0, 100).
    Ground truth, price in units of 100k:
    y = HOUSE_PRICE_BIAS + HOUSE_PRICE_WEIGHTS . x + N(0, HOUSE_PRICE_NOISE^2).
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
