"""Weight initializers W[l] of shape (n[l], n[l-1]); biases always start at zero.

Each takes (n_out, n_in, rng) with a `numpy.random.Generator` (or a legacy
`numpy.random.RandomState`), so a seed reproduces the draw.
"""

from .backend import np


def zeros(n_out, n_in, rng):
    """W = 0: every unit of a layer computes the same thing and stays so (the symmetry problem)."""
    return np.zeros((n_out, n_in))


def random(n_out, n_in, rng, scale=0.01):
    """W ~ N(0, 1) * scale  (scale 0.01 keeps tanh/sigmoid units out of their flat regions)."""
    return rng.standard_normal((n_out, n_in)) * scale


def he(n_out, n_in, rng):
    """W ~ N(0, 1) * sqrt(2 / n[l-1])  (He et al. 2015, for relu)."""
    return rng.standard_normal((n_out, n_in)) * np.sqrt(2 / n_in)


def xavier(n_out, n_in, rng):
    """W ~ N(0, 1) * sqrt(1 / n[l-1])  (for tanh)."""
    return rng.standard_normal((n_out, n_in)) * np.sqrt(1 / n_in)


def glorot(n_out, n_in, rng):
    """W ~ N(0, 1) * sqrt(2 / (n[l-1] + n[l]))  (Glorot & Bengio 2010)."""
    return rng.standard_normal((n_out, n_in)) * np.sqrt(2 / (n_in + n_out))


INITIALIZERS = {"zeros": zeros, "random": random, "he": he, "xavier": xavier, "glorot": glorot}


def get_initializer(init):
    """An initializer from its name, or `init` itself if it is a callable
    (n_out, n_in, rng) -> W."""
    if callable(init):
        return init
    if isinstance(init, str) and init in INITIALIZERS:
        return INITIALIZERS[init]
    raise ValueError(
        f"unknown init {init!r}; expected one of {', '.join(INITIALIZERS)} "
        "or a callable (n_out, n_in, rng) -> W"
    )


def initialize_parameters(layer_dims, init="he", seed=None, batch_norm=False, dtype=np.float64):
    """{"W1", "b1", ..., "WL", "bL"}; with batch norm, hidden layers get gamma[l] = 1, beta[l] = 0
    in place of b[l] (beta plays the bias's role).

    seed: an int, None, a Generator, or a `numpy.random.RandomState`: RandomState(1) draws what
    the course's `np.random.seed(1); np.random.randn(...)` draws, layer by layer."""
    initializer = get_initializer(init)
    rng = seed if isinstance(seed, (np.random.Generator, np.random.RandomState)) else (
        np.random.default_rng(seed)
    )
    L = len(layer_dims) - 1
    parameters = {}
    for l in range(1, L + 1):
        n_out, n_in = layer_dims[l], layer_dims[l - 1]
        parameters[f"W{l}"] = np.asarray(initializer(n_out, n_in, rng), dtype=dtype)
        if batch_norm and l < L:
            parameters[f"gamma{l}"] = np.ones((n_out, 1), dtype=dtype)
            parameters[f"beta{l}"] = np.zeros((n_out, 1), dtype=dtype)
        else:
            parameters[f"b{l}"] = np.zeros((n_out, 1), dtype=dtype)
    return parameters
