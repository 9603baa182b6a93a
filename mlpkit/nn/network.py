"""The L-layer network: X -> [LINEAR -> (BATCHNORM) -> ACTIVATION -> (DROPOUT)] x (L-1)
-> LINEAR -> OUTPUT ACTIVATION -> cost, and backward through the same layers.

Course notation throughout: X is (n_x, m), one column per example; W[l] is (n[l], n[l-1]),
b[l] is (n[l], 1); parameters is the mapping {"W1", "b1", ..., "WL", "bL"}, views of one vector
theta (`Packed`).

The network lives in one array library on one device (`backend`: NumPy at creation, the initial
weights drawn on the host). `fit` moves it to its data's library, device and dtype; `forward`,
`predict` and the rest compute in their input's library and on its device and return arrays of
it (copying the parameters there when the network lives elsewhere), so two networks on two
devices work side by side.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from .activations import (
    ACTIVATIONS,
    DERIVATIVES,
    HIDDEN_ACTIVATIONS,
    OUTPUT_ACTIVATIONS,
    check_activation,
)
from .backend import backend_of, np, to_numpy
from .checks import all_finite, check_layer_sizes, check_sample_weight, check_X, check_Y
from .initializers import get_initializer, initialize_parameters
from .layers import (
    BN_EPSILON,
    batchnorm_backward,
    batchnorm_forward,
    batchnorm_predict,
    dropout_backward,
    dropout_forward,
    linear_backward,
    linear_forward,
)
from .losses import LOSSES, l2_penalty
from .packed import Packed

BN_MOMENTUM = 0.9


@dataclass
class Cache:
    """What backward needs of one layer's forward pass."""

    A_prev: np.ndarray  # the layer's input A[l-1]
    A: np.ndarray = None  # its activation g(Z[l]) (before dropout)
    Z: np.ndarray = None  # kept for the output layer only: the cost uses the logits
    D: np.ndarray = None  # dropout mask applied to A
    keep_prob: float = 1.0
    bn: tuple = None  # batch norm's backward cache
    batch_stats: tuple = None  # batch norm's (mu, var) of this batch


class Network:
    """An L-layer fully connected network in the course's notation.

    layer_dims = [n_x, n1, ..., n_y] gives L = len(layer_dims) - 1 layers; the output
    activation fixes the cost: sigmoid + binary cross-entropy, softmax + categorical
    cross-entropy, linear + squared error, exponential (a = e^z) + half the Poisson deviance.

    Parameters
    ----------
    layer_dims : list of int
        [n_x, n[1], ..., n[L]]: the input size, then the units of each layer (at least two
        entries, each >= 1).
    hidden_activation : str or list of str, default "relu"
        g[1..L-1]: one of "relu", "tanh", "sigmoid", "leaky_relu", "linear" ("identity")
        for every hidden layer, or a list with one name per hidden layer.
    output_activation : str, default "sigmoid"
        g[L]: "sigmoid", "softmax", "linear" ("identity") or "exponential".
    init : str or callable, default "he"
        The initializer of W[l]: "he", "xavier", "glorot", "random" (randn * 0.01),
        "zeros", or a callable (n_out, n_in, rng) -> W; b[l] starts at 0.
    seed : int, numpy.random.Generator, numpy.random.RandomState or None, default None
        Draws the initial weights; np.random.RandomState(1) gives the course's draws
        (init="xavier" is its randn / sqrt(n[l-1])).
    batch_norm : bool, default False
        Batch normalization in each hidden layer: gamma[l] and beta[l] replace b[l].

    Attributes
    ----------
    L : int
        The number of layers, len(layer_dims) - 1.
    parameters : Packed
        {"W1", "b1", ..., "WL", "bL"}, views of one vector theta.
    running_stats : dict
        Batch norm's running {"mean1", "var1", ...}, used at prediction.
    training_state : TrainingState or None
        The last fit's state (what `fit(..., resume=True)` continues).

    Raises
    ------
    ValueError
        If layer_dims has fewer than two sizes or a size below 1, hidden_activation does not
        give one name per hidden layer, an activation or init is unknown, or a softmax output
        has fewer than 2 units.

    Examples
    --------
    >>> import numpy as np
    >>> net = Network([4, 5, 3], hidden_activation="tanh", output_activation="softmax",
    ...               seed=0)
    >>> net.L, {k: v.shape for k, v in net.parameters.items()}
    (2, {'W1': (5, 4), 'b1': (5, 1), 'W2': (3, 5), 'b2': (3, 1)})
    >>> AL, caches = net.forward(np.ones((4, 10)))
    >>> AL.shape, round(float(AL[:, 0].sum()), 4)      # softmax columns sum to 1
    ((3, 10), 1.0)
    """

    def __init__(
        self,
        layer_dims,
        hidden_activation="relu",
        output_activation="sigmoid",
        init="he",
        seed=None,
        batch_norm=False,
    ):
        self.layer_dims = check_layer_sizes(
            layer_dims, "layer_dims", "at least [n_x, n_y] (integers)", minimum_count=2
        )
        self.L = len(self.layer_dims) - 1
        n_hidden = self.L - 1
        names = [hidden_activation] * n_hidden if isinstance(hidden_activation, str) else list(
            hidden_activation
        )
        if len(names) != n_hidden:
            raise ValueError(
                f"hidden_activation must be one name or a list of {n_hidden} (one per hidden "
                f"layer); got {len(names)}"
            )
        self.hidden_activations = [check_activation(g, HIDDEN_ACTIVATIONS, "hidden") for g in names]
        self.output_activation = check_activation(output_activation, OUTPUT_ACTIVATIONS, "output")
        if self.output_activation == "identity":
            self.output_activation = "linear"
        if self.output_activation == "softmax" and self.layer_dims[-1] < 2:
            raise ValueError("a softmax output needs n_y >= 2 units (one per class)")
        get_initializer(init)
        self.init = init
        self.seed = seed
        self.batch_norm = bool(batch_norm)
        self._parameters = Packed(
            initialize_parameters(self.layer_dims, init, seed, self.batch_norm)
        )
        self.running_stats = {}
        for l in self._bn_layers():
            self.running_stats[f"mean{l}"] = np.zeros((self.layer_dims[l], 1))
            self.running_stats[f"var{l}"] = np.ones((self.layer_dims[l], 1))
        self.training_state = None  # the last fit's state (mlpkit.training), to resume it

    def __repr__(self):
        return (
            f"Network({self.layer_dims}, hidden_activation={self.hidden_activations!r}, "
            f"output_activation={self.output_activation!r}, batch_norm={self.batch_norm})"
        )

    @property
    def activations(self):
        """g[1], ..., g[L]."""
        return [*self.hidden_activations, self.output_activation]

    @property
    def dtype(self):
        return self._parameters["W1"].dtype

    @property
    def backend(self):
        """The array library and device the parameters live in (`mlpkit.nn.backend.Backend`)."""
        return self._parameters.backend

    # ------------------------------------------------------------------ parameters
    @property
    def parameters(self):
        """The live dict {"W1", "b1", ..., "WL", "bL"} (gamma[l], beta[l] replace b[l] under
        batch norm), views of one vector theta (a `Packed` mapping: parameters.vector). Assigning
        a dict checks every key and shape, then copies it in."""
        return self._parameters

    @parameters.setter
    def parameters(self, new):
        expected = {k: v.shape for k, v in self._parameters.items()}
        if not isinstance(new, Mapping):
            raise TypeError(f"parameters must be a dict with keys {', '.join(expected)}")
        missing = [k for k in expected if k not in new]
        extra = [k for k in new if k not in expected]
        if missing or extra:
            raise ValueError(
                f"parameters must have exactly the keys {', '.join(expected)}; "
                f"missing {missing or 'none'}, unexpected {extra or 'none'}"
            )
        b = self._parameters.backend
        if not b.is_numpy:
            self._set_device_parameters(new, expected, b)
            return
        arrays = {}
        for k, shape in expected.items():
            v = np.asarray(to_numpy(new[k]))
            if v.dtype.kind not in "biuf":
                raise TypeError(f"parameters[{k!r}] must be numeric; got dtype {v.dtype}")
            if v.shape != shape:
                raise ValueError(f"parameters[{k!r}] must have shape {shape}; got {v.shape}")
            if not np.isfinite(v).all():
                raise ValueError(f"parameters[{k!r}] contains NaN or infinity")
            arrays[k] = v if v.dtype.kind == "f" else v.astype(np.float64)
        dtype = np.result_type(*arrays.values())
        if dtype == self.dtype:
            self._parameters.update(arrays)  # copied into the vector theta
        else:
            self._parameters = Packed(arrays, dtype)

    def _set_device_parameters(self, new, expected, b):
        arrays = {}
        for k, shape in expected.items():
            v = b.asarray(new[k])
            if not b.xp.isdtype(v.dtype, ("bool", "integral", "real floating")):
                raise TypeError(f"parameters[{k!r}] must be numeric; got dtype {v.dtype}")
            if tuple(v.shape) != shape:
                raise ValueError(f"parameters[{k!r}] must have shape {shape}; got "
                                 f"{tuple(v.shape)}")
            if not all_finite(v):
                raise ValueError(f"parameters[{k!r}] contains NaN or infinity")
            arrays[k] = b.astype(v, self.dtype)
        self._parameters.update(arrays)

    def astype(self, dtype):
        """Convert parameters and running statistics to `dtype` (no copy if equal).

        Parameters
        ----------
        dtype : dtype
            The new floating dtype, of the library the network lives in (e.g. np.float32).

        Returns
        -------
        self : Network
        """
        self._parameters = self._parameters.astype(dtype)
        b = self._parameters.backend
        for k, v in self.running_stats.items():
            self.running_stats[k] = b.astype(v, dtype)
        return self

    def to(self, backend, dtype=None):
        """Move the parameters (one vector theta on the device, the parameters views of it) and
        the running statistics to `backend`, in `dtype`.

        Parameters
        ----------
        backend : mlpkit.nn.backend.Backend
            The array library and device to move to.
        dtype : dtype, optional
            That library's floating dtype; by default the same precision as now.

        Returns
        -------
        self : Network
        """
        self._parameters = self._parameters.to(backend, dtype)
        dtype = self._parameters.dtype
        self.running_stats = {k: backend.asarray(v, dtype) for k, v in self.running_stats.items()}
        return self

    def to_like(self, X):
        """Move the network to X's library, device and dtype (`to`).

        Parameters
        ----------
        X : array of shape (n_x, m)
            An array of any supported library (NumPy, CuPy, a torch tensor, ...).

        Returns
        -------
        self : Network
        """
        return self.to(backend_of(X), X.dtype)

    def _parameters_for(self, X):
        """The parameters in X's library, device and dtype (a copy unless they live there)."""
        b = backend_of(X)
        if b == self._parameters.backend:
            return self._parameters.astype(X.dtype)
        return self._parameters.to(b, X.dtype)

    def _running_stat(self, key, X):
        b = backend_of(X)
        value = self.running_stats[key]
        return b.astype(value, X.dtype) if b == self._parameters.backend else b.asarray(
            value, X.dtype)

    def _bn_layers(self):
        return range(1, self.L) if self.batch_norm else range(0)

    # ------------------------------------------------------------------ forward
    def forward(self, X, training=False, keep_prob=None, rng=None):
        """A[0] = X;  Z[l] = W[l] A[l-1] + b[l];  A[l] = g[l](Z[l])  for l = 1..L.

        Parameters
        ----------
        X : array of shape (n_x, m)
            One column per example, already checked (`predict_proba` checks it). The
            computation runs in X's library, device and dtype.
        training : bool, default False
            Use each batch's statistics in batch norm (else the running ones) and apply
            dropout.
        keep_prob : list of float, optional
            With training=True, inverted dropout's keep probability, one per hidden layer;
            None for no dropout.
        rng : Generator, optional
            Draws the dropout masks (needed when a keep_prob is below 1).

        Returns
        -------
        AL : array of shape (n[L], m)
            The output A[L].
        caches : list
            One cache per layer, what `compute_cost` and `backward` need.
        """
        P = self._parameters_for(X)
        L = self.L
        caches = []
        A = X
        for l in range(1, L + 1):
            cache = Cache(A_prev=A)
            bn = self.batch_norm and l < L
            Z = linear_forward(A, P[f"W{l}"], None if bn else P[f"b{l}"])
            if bn and training:
                Z, cache.bn, cache.batch_stats = batchnorm_forward(
                    Z, P[f"gamma{l}"], P[f"beta{l}"]
                )
            elif bn:
                Z = batchnorm_predict(
                    Z,
                    P[f"gamma{l}"],
                    P[f"beta{l}"],
                    self._running_stat(f"mean{l}", X),
                    self._running_stat(f"var{l}", X),
                )
            if l < L:
                # g' is written in terms of A, so A can take Z's memory
                A = ACTIVATIONS[self.hidden_activations[l - 1]](Z, out=Z)
                cache.A = A
                if training and keep_prob is not None and keep_prob[l - 1] < 1:
                    cache.keep_prob = keep_prob[l - 1]
                    A, cache.D = dropout_forward(A, cache.keep_prob, rng)
            else:
                A = ACTIVATIONS[self.output_activation](Z)
                cache.A, cache.Z = A, Z
            caches.append(cache)
        return A, caches

    # ------------------------------------------------------------------ cost
    def compute_cost(self, Y, caches, l2=0.0, sample_weight=None):
        """J = (1/m) sum_i L(a_i, y_i) + (lambda / 2m) sum_l ||W[l]||_F^2; with sample weights w,
        J = sum_i w_i L(a_i, y_i) / sum_i w_i + (lambda / 2 sum_i w_i) sum_l ||W[l]||_F^2.

        Parameters
        ----------
        Y : array of shape (n[L], m)
            The targets, checked (0/1 labels, one-hot columns or values).
        caches : list
            The caches of `forward` on the same m examples.
        l2 : float, default 0.0
            lambda, the L2 regularization strength.
        sample_weight : array of shape (m,), optional
            One weight per example; None weighs them equally.

        Returns
        -------
        float or 0-d array
            The cost J (a 0-d array of the device's library when the computation ran
            there).
        """
        b = backend_of(caches[-1].Z)
        m = Y.shape[1] if sample_weight is None else b.scalar(b.xp.sum(sample_weight))
        cost = LOSSES[self.output_activation](Y, caches[-1].Z, sample_weight)
        P = self._parameters if b == self.backend else self._parameters_for(caches[-1].Z)
        return cost + l2_penalty(P, self.L, l2, m)

    def backward(self, AL, Y, caches, l2=0.0, sample_weight=None):
        """dZ[L] = A[L] - Y; then for l = L..1:  dW[l] = (1/m) dZ[l] A[l-1]^T + (lambda/m) W[l],
        db[l] = (1/m) sum_i dZ[l],  dA[l-1] = W[l]^T dZ[l],  dZ[l-1] = dA[l-1] * g'[l-1](Z[l-1]).

        With sample weights w the means are weighted: column i of dZ[L] is scaled by
        m w_i / sum_j w_j, and lambda/m becomes lambda / sum_j w_j.

        Parameters
        ----------
        AL : array of shape (n[L], m)
            The output of `forward`.
        Y : array of shape (n[L], m)
            The targets.
        caches : list
            The caches of that `forward`.
        l2 : float, default 0.0
            lambda, the L2 regularization strength.
        sample_weight : array of shape (m,), optional
            One weight per example.

        Returns
        -------
        grads : Packed
            {"dW1", "db1", ...} (with "dgamma1", "dbeta1", ... under batch norm), packed like
            the parameters: grads.vector is dtheta.
        """
        P = self._parameters_for(AL)
        b = P.backend
        m = Y.shape[1]
        grads = Packed.empty({"d" + k: v for k, v in P.shapes.items()}, AL.dtype, b)
        dA = None
        if b.is_numpy:
            dZ = np.subtract(AL, Y, dtype=AL.dtype)  # integer or float64 labels keep A's dtype
        else:
            dZ = AL - b.astype(Y, AL.dtype)
        if sample_weight is not None:
            total = b.scalar(b.xp.sum(sample_weight))  # on a device: left there
            dZ *= b.astype(sample_weight * (m / total), AL.dtype)
            m = total
        for l in range(self.L, 0, -1):
            cache = caches[l - 1]
            if l < self.L:
                dZ = dA
                dZ *= DERIVATIVES[self.hidden_activations[l - 1]](cache.A)
                if cache.bn is not None:
                    dZ, grads[f"dgamma{l}"], grads[f"dbeta{l}"] = batchnorm_backward(dZ, cache.bn)
            W = P[f"W{l}"]
            dA, dW, _ = linear_backward(
                dZ, cache.A_prev, W, need_dA_prev=l > 1, need_db=cache.bn is None,
                dW=grads[f"dW{l}"], db=grads.get(f"db{l}"),
            )
            if l2:
                dW += (l2 / m) * W
            if l > 1 and caches[l - 2].D is not None:
                dA = dropout_backward(dA, caches[l - 2].D, caches[l - 2].keep_prob)
        return grads

    def affine_layers(self):
        """The affine map (W'[l], b'[l]) that prediction applies in each layer, Z[l] =
        W'[l] A[l-1] + b'[l]: (W[l], b[l]) itself, or under batch norm the normalization with
        the running statistics folded in,

            W' = diag(gamma / sqrt(var + eps)) W,   b' = beta - gamma mu / sqrt(var + eps).

        Returns
        -------
        list of tuple of ndarray
            [(W'[1], b'[1]), ..., (W'[L], b'[L])], W'[l] of shape (n[l], n[l-1]) and b'[l] of
            shape (n[l], 1): copies in the network's dtype (folded in float64), NumPy arrays
            on the host.
        """
        P = {k: to_numpy(v) for k, v in self._parameters.items()}
        running_stats = {k: to_numpy(v) for k, v in self.running_stats.items()}
        layers = []
        for l in range(1, self.L + 1):
            W = P[f"W{l}"]
            if f"gamma{l}" in P:
                mean = running_stats[f"mean{l}"].astype(np.float64)
                var = running_stats[f"var{l}"].astype(np.float64)
                scale = P[f"gamma{l}"].astype(np.float64) / np.sqrt(var + BN_EPSILON)
                W_folded = (scale * W).astype(W.dtype)
                b_folded = (P[f"beta{l}"] - scale * mean).astype(W.dtype)
                layers.append((W_folded, b_folded))
            else:
                layers.append((W.copy(), P[f"b{l}"].copy()))
        return layers

    def update_running_stats(self, caches, momentum=BN_MOMENTUM):
        """Batch norm's exponentially weighted averages of mu and var, used at prediction:
        running = momentum * running + (1 - momentum) * batch (momentum=0: the batch's own
        statistics, as full-batch training sets them).

        Parameters
        ----------
        caches : list
            The caches of a `forward` with training=True (they hold each batch's mu and var).
        momentum : float, default 0.9
            The weight of the running value.
        """
        for l in self._bn_layers():
            mu, var = caches[l - 1].batch_stats
            for key, batch_value in ((f"mean{l}", mu), (f"var{l}", var)):
                running = self.running_stats[key]
                running *= momentum
                running += (1 - momentum) * batch_value

    # ------------------------------------------------------------------ training
    def fit(self, X, Y=None, epochs=1000, learning_rate=0.0075, **options):
        """Train on X (n_x, m), Y (n_y, m) with mlpkit's training loop, or by L-BFGS
        (optimizer="lbfgs"): `mlpkit.training.fit(self, X, Y, ...)`.

        The loop's state is kept in `training_state`, which `mlpkit.save` stores and
        `resume=True` continues. X may be a CuPy array or a torch tensor: the network moves to
        its device and trains there (Y and the weights follow X).

        Parameters
        ----------
        X : array of shape (n_x, m), scipy.sparse matrix, or a data source
            The training examples, one per column (or a source of mini-batches, with Y None).
        Y : array of shape (n_y, m), optional
            The targets; None only when X is a source.
        epochs : int, default 1000
            The number of epochs in all (L-BFGS: the most iterations).
        learning_rate : float, default 0.0075
            alpha0, the initial learning rate.
        **options
            The other options of `mlpkit.training.fit`: batch_size, shuffle, optimizer,
            lr_schedule, l2, keep_prob, sample_weight, validation_data, patience, tol, seed,
            verbose, callback, callbacks, resume, interruptible.

        Returns
        -------
        mlpkit.training.History
            history.costs[i] is the cost of epoch i.

        Examples
        --------
        >>> import numpy as np
        >>> X = np.random.default_rng(0).standard_normal((2, 40))
        >>> Y = (X[0:1] + X[1:2] > 0).astype(int)
        >>> net = Network([2, 4, 1], seed=1)
        >>> history = net.fit(X, Y, epochs=200, learning_rate=0.5, optimizer="adam", seed=0)
        >>> history.epochs, history.costs[-1] < history.costs[0], net.score(X, Y) > 0.9
        (200, True, True)
        """
        # the loop sits above the math: nn's one import of another subpackage, made on use
        from ..training.fit import fit

        return fit(self, X, Y, epochs=epochs, learning_rate=learning_rate, **options)

    # ------------------------------------------------------------------ prediction
    def predict_proba(self, X):
        """A[L] for X (n_x, m), in prediction mode: probabilities for sigmoid/softmax, values
        for a linear or exponential output.

        Parameters
        ----------
        X : array of shape (n_x, m) or scipy.sparse matrix
            One column per example.

        Returns
        -------
        AL : array of shape (n_y, m)
            In X's library and dtype (float64 for integer inputs).

        Raises
        ------
        ValueError
            If X is not 2-D with n_x rows, is empty, or holds NaN or infinity (TypeError if
            it is not numeric).
        """
        X = check_X(X, self.layer_dims[0])
        AL, _ = self.forward(X)
        return AL

    def predict(self, X):
        """Labels (n_y, m) of 0/1 for sigmoid (a > 0.5), class indices (1, m) for softmax,
        values (n_y, m) for a linear or exponential output.

        Parameters
        ----------
        X : array of shape (n_x, m) or scipy.sparse matrix
            One column per example.

        Returns
        -------
        array of shape (n_y, m) or (1, m)
            int64 labels or class indices for a classifier, A[L] itself for a regressor.

        Raises
        ------
        ValueError
            If X is not a finite array of shape (n_x, m) (see `predict_proba`).

        Examples
        --------
        >>> import numpy as np
        >>> net = Network([3, 4], output_activation="softmax", seed=0)
        >>> net.predict(np.eye(3)).shape
        (1, 3)
        """
        return self._labels(self.predict_proba(X))

    def _labels(self, AL):
        xp = backend_of(AL).xp
        if self.output_activation == "sigmoid":
            return xp.astype(AL > 0.5, xp.int64) if xp is not np else (AL > 0.5).astype(np.int64)
        if self.output_activation == "softmax":
            return xp.reshape(xp.argmax(AL, axis=0), (1, -1))
        return AL

    def evaluate(self, X, Y, sample_weight=None):
        """(cost, score) on (X, Y) in prediction mode; the cost has no L2 term.

        Parameters
        ----------
        X : array of shape (n_x, m) or scipy.sparse matrix
            One column per example.
        Y : array of shape (n_y, m)
            The targets (0/1 labels, one-hot columns or values, as the output requires).
        sample_weight : array of shape (m,), optional
            One weight per example, for weighted means.

        Returns
        -------
        cost : float or 0-d array
            J without the L2 term.
        score : float
            As `score`.

        Raises
        ------
        ValueError
            If X, Y or sample_weight have the wrong shape, non-finite values, or targets the
            output activation does not take.
        """
        X = check_X(X, self.layer_dims[0])
        b = backend_of(X)
        Y = check_Y(Y, X.shape[1], self.layer_dims[-1], self.output_activation, X.dtype,
                    backend=b)
        sample_weight = check_sample_weight(sample_weight, X.shape[1], X.dtype, backend=b)
        AL, caches = self.forward(X)
        cost = self.compute_cost(Y, caches, sample_weight=sample_weight)
        return cost, self.score_outputs(AL, Y, sample_weight)

    def score(self, X, Y, sample_weight=None):
        """Accuracy for classifiers (all n_y labels right for multi-label sigmoid); R^2 for a
        linear or exponential output (averaged over outputs, as scikit-learn's r2_score).

        Parameters
        ----------
        X : array of shape (n_x, m) or scipy.sparse matrix
            One column per example.
        Y : array of shape (n_y, m)
            The targets.
        sample_weight : array of shape (m,), optional
            One weight per example.

        Returns
        -------
        float
            The accuracy or R^2.

        Raises
        ------
        ValueError
            As `evaluate`.
        """
        return self.evaluate(X, Y, sample_weight)[1]

    def score_outputs(self, AL, Y, sample_weight=None):
        """The score of outputs A[L] against targets Y, by scikit-learn's accuracy_score (on
        class indices, or on 0/1 label columns) or r2_score, on the host (arrays of another
        library are read back once).

        Parameters
        ----------
        AL : array of shape (n_y, m)
            The outputs A[L].
        Y : array of shape (n_y, m)
            The targets.
        sample_weight : array of shape (m,), optional
            One weight per example.

        Returns
        -------
        float
            The accuracy (classifiers) or R^2 (regressors).
        """
        from sklearn.metrics import accuracy_score, r2_score  # imported when a score is asked

        AL, Y, sample_weight = to_numpy(AL), to_numpy(Y), to_numpy(sample_weight)
        if self.output_activation == "softmax":
            truth, predicted = Y.argmax(axis=0), AL.argmax(axis=0)
        elif self.output_activation == "sigmoid":
            truth, predicted = Y.T.astype(np.int64), self._labels(AL).T
            if truth.shape[1] == 1:
                truth, predicted = truth[:, 0], predicted[:, 0]
        else:
            return float(r2_score(Y.T, AL.T, sample_weight=sample_weight))
        return float(accuracy_score(truth, predicted, sample_weight=sample_weight))

    def copy_state(self):
        """A copy of the parameters and running statistics (for restoring a best epoch).

        Returns
        -------
        tuple of dict
            (parameters, running_stats), copies of the arrays, what `restore_state` takes.
        """
        b = self._parameters.backend
        return (
            {k: b.copy(v) for k, v in self._parameters.items()},
            {k: b.copy(v) for k, v in self.running_stats.items()},
        )

    def restore_state(self, state):
        """Put back what `copy_state` copied.

        Parameters
        ----------
        state : tuple of dict
            (parameters, running_stats), as `copy_state` returns them.

        Raises
        ------
        ValueError
            If the parameters' keys or shapes are not the network's, or hold NaN or infinity.
        """
        parameters, running_stats = state
        self.parameters = parameters
        b = self._parameters.backend
        self.running_stats = {k: b.copy(b.asarray(v)) for k, v in running_stats.items()}
