"""Activations a = g(z) and their derivatives g'(z).

Each derivative is written in terms of the activation a = g(z) rather than z, so a hidden
layer can compute g in place over Z and backward needs only A (as in scikit-learn's MLP).
Every function keeps the dtype of its input and stays finite for any finite z, and computes in
its input's array library and on its device (`backend_of`).
"""

from .backend import backend_of, np

LEAKY_SLOPE = 0.01


def sigmoid(Z, out=None):
    """sigma(z) = 1 / (1 + e^-z), evaluated as e^z / (1 + e^z) for z < 0 so nothing overflows."""
    b = backend_of(Z)
    xp = b.xp
    E = xp.exp(-xp.abs(Z))  # in (0, 1]
    return b.divide(xp.where(Z < 0, E, 1.0), 1 + E, out=out)


def tanh(Z, out=None):
    """tanh(z) = (e^z - e^-z) / (e^z + e^-z)."""
    return backend_of(Z).tanh(Z, out=out)


def relu(Z, out=None):
    """relu(z) = max(0, z)."""
    return backend_of(Z).relu(Z, out=out)


def leaky_relu(Z, out=None, slope=LEAKY_SLOPE):
    """leaky_relu(z) = z if z > 0 else slope * z."""
    b = backend_of(Z)
    if b.is_numpy:
        return np.multiply(Z, np.where(Z > 0, 1, Z.dtype.type(slope)), out=out)
    return b.multiply(Z, b.xp.where(Z > 0, 1.0, slope * b.xp.ones_like(Z)), out=out)


def linear(Z, out=None):
    """linear(z) = z (the identity; the output of a regression network)."""
    if out is None or out is Z:
        return Z
    out[...] = Z
    return out


def softmax(Z, out=None):
    """softmax(z)_i = e^(z_i) / sum_j e^(z_j), over each column; shifted by max_j z_j for
    stability."""
    b = backend_of(Z)
    xp = b.xp
    out = b.subtract(Z, xp.max(Z, axis=0, keepdims=True), out=out)
    out = b.exp(out, out=out)
    out /= xp.sum(out, axis=0, keepdims=True)
    return out


def exponential(Z, out=None):
    """exp(z) = e^z (the log link's inverse: a Poisson regression's mean, always > 0)."""
    return backend_of(Z).exp(Z, out=out)


def sigmoid_derivative(A):
    """sigma'(z) = a (1 - a)."""
    return A * (1 - A)


def tanh_derivative(A):
    """tanh'(z) = 1 - a^2."""
    return 1 - A * A


def relu_derivative(A):
    """relu'(z) = 1 if z > 0 else 0  (a > 0 exactly when z > 0; NumPy's as booleans)."""
    b = backend_of(A)
    return A > 0 if b.is_numpy else b.xp.astype(A > 0, A.dtype)


def leaky_relu_derivative(A, slope=LEAKY_SLOPE):
    """leaky_relu'(z) = 1 if z > 0 else slope."""
    b = backend_of(A)
    if b.is_numpy:
        return np.where(A > 0, 1, A.dtype.type(slope))
    return b.xp.where(A > 0, 1.0, slope * b.xp.ones_like(A))


def linear_derivative(A):
    """linear'(z) = 1."""
    return backend_of(A).xp.ones_like(A)


ACTIVATIONS = {
    "sigmoid": sigmoid,
    "tanh": tanh,
    "relu": relu,
    "leaky_relu": leaky_relu,
    "linear": linear,
    "identity": linear,
    "softmax": softmax,
    "exponential": exponential,
}

DERIVATIVES = {
    "sigmoid": sigmoid_derivative,
    "tanh": tanh_derivative,
    "relu": relu_derivative,
    "leaky_relu": leaky_relu_derivative,
    "linear": linear_derivative,
    "identity": linear_derivative,
}

HIDDEN_ACTIVATIONS = tuple(DERIVATIVES)
OUTPUT_ACTIVATIONS = ("sigmoid", "softmax", "linear", "identity", "exponential")


def check_activation(name, allowed, role):
    """Return `name` if it is one of `allowed`, else raise a ValueError naming the choices."""
    if not isinstance(name, str) or name not in allowed:
        raise ValueError(
            f"unknown {role} activation {name!r}; expected one of {', '.join(allowed)}"
        )
    return name
