"""Gradient checking: backprop's gradient against two-sided finite differences of the cost."""

import copy

from .backend import backend_of, np, to_numpy
from .checks import (
    check_keep_prob,
    check_non_negative,
    check_positive,
    check_sample_weight,
    check_X,
    check_Y,
)


def gradient_check(net, X, Y, epsilon=1e-7, *, l2=0.0, keep_prob=1.0, seed=None,
                   sample_weight=None):
    """Relative difference between backprop's gradient dtheta and the numerical one:

        dtheta_approx[i] = (J(theta + eps e_i) - J(theta - eps e_i)) / (2 eps)
        difference = ||dtheta_approx - dtheta||_2 / (||dtheta_approx||_2 + ||dtheta||_2)

    theta is every parameter flattened (in the order of net.parameters), in float64. The
    options are fit's that enter J: l2, keep_prob, seed and sample_weight; dropout uses one
    fixed mask (drawn from `seed`) for every evaluation, and batch norm uses the batch's
    statistics (training mode). `net` is unchanged. A difference below 1e-7 means the
    gradient is right. X may be any array library's (a torch tensor, ...): the costs are
    computed there, on its device, and the differences on the host.

    Parameters
    ----------
    net : Network
        The network to check; it is not changed (the check runs on a float64 copy).
    X : array of shape (n_x, m)
        The examples, one per column.
    Y : array of shape (n_y, m)
        The targets.
    epsilon : float, default 1e-7
        eps, the step of the finite differences.
    l2 : float, default 0.0
        lambda, the L2 regularization strength.
    keep_prob : float or list of float, default 1.0
        Dropout's keep probability, one value or one per hidden layer.
    seed : int, optional
        Draws the one dropout mask; None uses 0.
    sample_weight : array of shape (m,), optional
        One weight per example.

    Returns
    -------
    float
        The relative difference, in [0, 1] (0.0 when both gradients are zero).

    Raises
    ------
    ValueError
        If epsilon is not > 0, l2 is negative, keep_prob is not in (0, 1], or X, Y or
        sample_weight are not valid for the network.

    Examples
    --------
    >>> import numpy as np
    >>> from mlpkit.nn import Network
    >>> rng = np.random.default_rng(0)
    >>> X, Y = rng.standard_normal((3, 5)), np.array([[0, 1, 1, 0, 1]])
    >>> net = Network([3, 4, 1], hidden_activation="tanh", seed=0)
    >>> gradient_check(net, X, Y, l2=0.1) < 1e-7
    True
    """
    epsilon = check_positive(epsilon, "epsilon")
    l2 = check_non_negative(l2, "l2")
    keep_prob = check_keep_prob(keep_prob, net.L - 1)
    if seed is None:  # fit's seed=None means "any mask"; the check still needs one fixed mask
        seed = 0

    X = check_X(X, net.layer_dims[0])
    b = backend_of(X)
    float64 = b.dtype("float64")
    net = copy.deepcopy(net).to(b, float64)
    X = b.astype(X, float64)
    Y = check_Y(Y, X.shape[1], net.layer_dims[-1], net.output_activation, float64, backend=b)
    w = check_sample_weight(sample_weight, X.shape[1], float64, backend=b)

    # the parameters are views of theta (Packed), so changing theta[i] moves one of them
    theta = net.parameters.vector

    def cost_and_caches():
        rng = b.random(seed)
        AL, caches = net.forward(X, training=True, keep_prob=keep_prob, rng=rng)
        return net.compute_cost(Y, caches, l2, w), AL, caches

    _, AL, caches = cost_and_caches()
    grads = net.backward(AL, Y, caches, l2, w)
    dtheta = to_numpy(grads.vector)

    dtheta_approx = np.empty(theta.shape[0])
    for i in range(theta.shape[0]):
        saved = float(theta[i])
        theta[i] = saved + epsilon
        J_plus = float(cost_and_caches()[0])
        theta[i] = saved - epsilon
        J_minus = float(cost_and_caches()[0])
        theta[i] = saved
        dtheta_approx[i] = (J_plus - J_minus) / (2 * epsilon)

    numerator = np.linalg.norm(dtheta_approx - dtheta)
    denominator = np.linalg.norm(dtheta_approx) + np.linalg.norm(dtheta)
    return float(numerator / denominator) if denominator > 0 else 0.0
