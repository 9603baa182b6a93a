"""L-BFGS on the packed parameter vector theta: scipy's L-BFGS-B minimizes the engine's full-batch
cost J(theta), with backpropagation's gradient dtheta, as scikit-learn's solver='lbfgs' does.

The parameters are views of theta (`Packed`), so evaluating J at a point is copying the point
into theta and running forward, cost and backward on the whole batch. What is deterministic
only is minimized: dropout (a random cost) is refused; batch norm uses the full batch's
statistics, and at the end the running statistics are set to them, so that prediction on the
training data computes exactly the cost that was minimized.

scipy works on the host: on another array library (a GPU), theta is copied to the host and back
at each evaluation (as scikit-learn's LogisticRegression does), in float64 for scipy.
"""

from ..nn.backend import np, to_numpy
from ..nn.checks import check_int, check_non_negative


class LBFGS:
    """Settings of L-BFGS-B as scikit-learn passes them. The iterations come from the caller
    (fit's epochs, the estimators' max_iter).

    Parameters
    ----------
    max_fun : int, default 15000
        The most cost evaluations (scipy's maxfun).
    tol : float, default 1e-5
        scipy's gtol: stop when every |dtheta_i| of the projected gradient is at most tol.
    m : int, default 10
        The number of corrections kept (scipy's maxcor).

    Raises
    ------
    ValueError
        If max_fun or m is not an integer >= 1, or tol is negative.

    Examples
    --------
    >>> import numpy as np
    >>> from mlpkit.nn import Network
    >>> X = np.array([[0.0, 1.0, 2.0, 3.0]])
    >>> net = Network([1, 1], output_activation="linear", init="zeros")
    >>> result = LBFGS(tol=1e-10).minimize(net, X, 2 * X + 1, max_iter=50)
    >>> [round(float(v[0, 0]), 4) for v in net.parameters.values()]      # W1, b1
    [2.0, 1.0]
    """

    name = "lbfgs"

    def __init__(self, max_fun=15000, tol=1e-5, m=10):
        self.max_fun = check_int(max_fun, "max_fun", 1)
        self.tol = check_non_negative(tol, "tol")
        self.m = check_int(m, "m", 1)

    def config(self):
        """The settings as data, which a saved training state records.

        Returns
        -------
        dict
            {"name": "lbfgs", "max_fun": ..., "tol": ..., "m": ...}.
        """
        return {"name": self.name, "max_fun": self.max_fun, "tol": self.tol, "m": self.m}

    def __repr__(self):
        return f"LBFGS(max_fun={self.max_fun}, tol={self.tol}, m={self.m})"

    def minimize(self, net, X, Y, max_iter, *, l2=0.0, sample_weight=None, callback=None):
        """Minimize J(theta) on the batch X (n_x, m), Y (n_y, m) from the network's current
        parameters, for at most max_iter iterations.

        Leaves the result in the network (its parameters, and the batch-norm statistics of the
        full batch).

        Parameters
        ----------
        net : Network
            The network whose parameters theta are minimized over, in place.
        X : array of shape (n_x, m)
            The whole batch, checked, in the network's library and dtype.
        Y : array of shape (n_y, m)
            The targets, checked.
        max_iter : int
            The most iterations.
        l2 : float, default 0.0
            lambda, the L2 regularization strength.
        sample_weight : array of shape (m,), optional
            One weight per example.
        callback : callable, optional
            callback(n, cost), called after iteration n (1, 2, ...) with the cost at the new
            point; returning True stops.

        Returns
        -------
        scipy.optimize.OptimizeResult
            scipy's result (x, fun, nit, message, ...).

        Raises
        ------
        ValueError
            If max_iter is not an integer >= 1.
        """
        from scipy.optimize import minimize  # scipy loads only when L-BFGS runs

        max_iter = check_int(max_iter, "max_iter", 1)
        objective = Objective(net, X, Y, l2, sample_weight)
        iterations = []

        def on_iteration(intermediate_result):
            objective.put(intermediate_result.x)  # the callback sees the new point
            iterations.append(float(intermediate_result.fun))
            if callback is not None and callback(len(iterations), iterations[-1]):
                raise StopIteration

        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            result = minimize(
                objective, to_numpy(objective.theta).astype(np.float64), method="L-BFGS-B",
                jac=True,
                callback=on_iteration,
                options={"maxiter": max_iter, "maxfun": self.max_fun, "gtol": self.tol,
                         "maxcor": self.m},
            )
            set_solution(net, X, result.x)
        return result


class Objective:
    """J(theta) and dtheta on one full batch, for scipy: objective(x) -> (J, dtheta), float64."""

    def __init__(self, net, X, Y, l2, sample_weight):
        self.net, self.X, self.Y, self.l2, self.w = net, X, Y, l2, sample_weight
        self.theta = net.parameters.vector

    def put(self, x):
        """theta = x (x on the host; theta on the network's device)."""
        put(self.net, x)

    def __call__(self, x):
        self.put(x)  # the parameters are views of theta
        net = self.net
        AL, caches = net.forward(self.X, training=True)
        cost = net.compute_cost(self.Y, caches, self.l2, self.w)
        grads = net.backward(AL, self.Y, caches, self.l2, self.w)
        # a new float64 host vector each call
        return float(cost), to_numpy(grads.vector).astype(np.float64, copy=False)


def put(net, x):
    """Copy the host vector x into the network's theta (its parameters are views of it)."""
    theta = net.parameters.vector
    b = net.parameters.backend
    theta[...] = x if b.is_numpy else b.asarray(x, theta.dtype)


def set_solution(net, X, x):
    """Put the point x into theta and, under batch norm, set the running statistics to the full
    batch X's at x (so prediction computes the cost that was minimized)."""
    put(net, x)
    if net.batch_norm:
        with np.errstate(over="ignore", invalid="ignore"):
            _, caches = net.forward(X, training=True)
        net.update_running_stats(caches, momentum=0.0)
