"""Costs J(A[L], Y) averaged over the m examples (columns), each paired with its output activation.

Cross-entropies are computed from the output pre-activation Z[L] (the logits), never from
log(a), so a saturated a = 0 or 1 gives a large finite cost instead of inf or NaN. With each
pairing below the output layer's gradient is simply dZ[L] = A[L] - Y.
"""

import numpy as np


def binary_cross_entropy(Y, Z):
    """J = -(1/m) sum[y log a + (1 - y) log(1 - a)],  a = sigmoid(z).

    Since -log sigma(z) = log(1 + e^-z):  J = (1/m) sum[log(1 + e^z) - y z].
    """
    m = Y.shape[1]
    return float(np.sum(np.logaddexp(0, Z) - Y * Z) / m)


def categorical_cross_entropy(Y, Z):
    """J = -(1/m) sum_i sum_k y_k log a_k,  a = softmax(z).

    Since log a_k = z_k - log sum_j e^(z_j):  J = (1/m) sum_i [logsumexp(z) - sum_k y_k z_k].
    """
    m = Y.shape[1]
    z_max = Z.max(axis=0, keepdims=True)
    log_sum_exp = z_max + np.log(np.exp(Z - z_max).sum(axis=0, keepdims=True))
    return float((log_sum_exp.sum() - np.sum(Y * Z)) / m)


def mean_squared_error(Y, Z):
    """J = (1/2m) sum (a - y)^2,  a = z (linear output)."""
    m = Y.shape[1]
    D = Z - Y
    return float(np.vdot(D, D) / (2 * m))


LOSSES = {
    "sigmoid": binary_cross_entropy,
    "softmax": categorical_cross_entropy,
    "linear": mean_squared_error,
    "identity": mean_squared_error,
}


def l2_penalty(parameters, n_layers, lambd, m):
    """(lambda / 2m) sum_l ||W[l]||_F^2."""
    if lambd == 0:
        return 0.0
    total = sum(float(np.vdot(W, W)) for W in (parameters[f"W{l}"] for l in range(1, n_layers + 1)))
    return lambd / (2 * m) * total
