"""Costs J(A[L], Y) averaged over the m examples (columns), each paired with its output activation.

Cross-entropies are computed from the output pre-activation Z[L] (the logits), never from
log(a), so a saturated a = 0 or 1 gives a large finite cost instead of inf or NaN. With each
pairing below the output layer's gradient is simply dZ[L] = A[L] - Y.

With sample weights w (one per example) every mean over examples becomes a weighted mean, as
in scikit-learn: J = sum_i w_i L_i / sum_i w_i, and the L2 term is
(lambda / 2 sum_i w_i) sum ||W||^2.

Costs are computed in Z's array library and on its device; on NumPy they are Python floats, on
other libraries 0-d arrays left on the device (`Backend.scalar`), so a training step never
waits for the device: the loop reads an epoch's total once.
"""

from .backend import backend_of, np


def _mean(per_element, sample_weight):
    """(1/m) sum over all elements (per_element is (n_y, m)), or, with weights w (m,), the
    weighted mean over examples of each example's sum over outputs."""
    b = backend_of(per_element)
    xp = b.xp
    if sample_weight is None:
        return b.scalar(xp.sum(per_element) / per_element.shape[1])
    per_example = xp.sum(per_element, axis=0)
    if b.is_numpy:
        return float(np.dot(per_example, sample_weight) / np.sum(sample_weight))
    return xp.sum(per_example * sample_weight) / xp.sum(sample_weight)


def binary_cross_entropy(Y, Z, sample_weight=None):
    """J = -(1/m) sum[y log a + (1 - y) log(1 - a)],  a = sigmoid(z).

    Since -log sigma(z) = log(1 + e^-z):  J = (1/m) sum[log(1 + e^z) - y z].
    """
    xp = backend_of(Z).xp
    zero = 0 if xp is np else xp.zeros_like(Z)
    return _mean(xp.logaddexp(zero, Z) - Y * Z, sample_weight)


def categorical_cross_entropy(Y, Z, sample_weight=None):
    """J = -(1/m) sum_i sum_k y_k log a_k,  a = softmax(z).

    Since log a_k = z_k - log sum_j e^(z_j):  J = (1/m) sum_i [logsumexp(z) - sum_k y_k z_k].
    """
    b = backend_of(Z)
    xp = b.xp
    z_max = xp.max(Z, axis=0, keepdims=True)
    log_sum_exp = z_max + xp.log(xp.sum(xp.exp(Z - z_max), axis=0, keepdims=True))
    if sample_weight is None:
        m = Y.shape[1]
        return b.scalar((xp.sum(log_sum_exp) - xp.sum(Y * Z)) / m)
    return _mean(log_sum_exp - xp.sum(Y * Z, axis=0, keepdims=True), sample_weight)


def mean_squared_error(Y, Z, sample_weight=None):
    """J = (1/2m) sum (a - y)^2,  a = z (linear output)."""
    b = backend_of(Z)
    D = Z - Y
    if sample_weight is None:
        return b.scalar(b.dot(D, D) / (2 * Y.shape[1]))
    return _mean(D * D, sample_weight) / 2


def poisson_deviance(Y, Z, sample_weight=None):
    """Half the Poisson deviance with the log link, a = e^z (scikit-learn's 'poisson' loss):

        J = (1/m) sum[y log(y / a) - y + a] = (1/m) sum[e^z - y z + y log y - y],

    with 0 log 0 = 0. The terms y log y - y do not depend on the parameters (dZ[L] = A - Y
    still), but they make J = 0 for a perfect fit, as scikit-learn reports it.
    """
    xp = backend_of(Z).xp
    y_log_y = Y * xp.log(xp.where(Y > 0, Y, 1.0))
    return _mean(xp.exp(Z) - Y * Z + y_log_y - Y, sample_weight)


LOSSES = {
    "sigmoid": binary_cross_entropy,
    "softmax": categorical_cross_entropy,
    "linear": mean_squared_error,
    "identity": mean_squared_error,
    "exponential": poisson_deviance,
}


def l2_penalty(parameters, n_layers, lambd, m):
    """(lambda / 2m) sum_l ||W[l]||_F^2  (m: the examples, or the sum of their weights)."""
    if lambd == 0:
        return 0.0
    b = backend_of(parameters["W1"])
    total = sum(b.scalar(b.dot(W, W)) for W in (parameters[f"W{l}"]
                                               for l in range(1, n_layers + 1)))
    return lambd / (2 * m) * total
