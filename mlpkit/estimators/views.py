"""The estimators' `coefs_` and `intercepts_`: scikit-learn's per-layer lists of arrays, as
views of the engine's parameters.

coefs_[i] (n_in, n_out) is W[i+1].T and intercepts_[i] (n_out,) is b[i+1][:, 0], views of the
fitted network's arrays; assigning a whole list or one item (`coefs_[i] = array`) writes into
the network, shapes checked. Under batch norm they are the read-only affine maps prediction
applies. Set on an unfitted estimator they are kept as given (the training set-up,
`fitting.TrainingSetup._user_network`, builds the network to train from them).
"""

import numpy as np


class LayerViews:
    """coefs_ and intercepts_ for an estimator whose fitted network is `network_`."""

    @property
    def coefs_(self):
        """coefs_[i], shape (n_in, n_out): the weights of layer i + 1 as scikit-learn holds them,
        views of network_'s W[i+1].T (assigning an item copies it in). Under batch norm, the
        read-only weights that prediction applies, diag(gamma / sqrt(var + eps)) W[i+1], for
        normalized layers. Before fitting, what was set by hand (partial_fit and a warm-started
        fit train from it)."""
        return self._layers("coefs")

    @coefs_.setter
    def coefs_(self, coefs):
        self._set_layers("coefs", coefs)

    @property
    def intercepts_(self):
        """intercepts_[i], shape (n_out,): the biases of layer i + 1, views of network_'s
        b[i+1]; under batch norm, the read-only beta - gamma mu / sqrt(var + eps) of normalized
        layers (see coefs_)."""
        return self._layers("intercepts")

    @intercepts_.setter
    def intercepts_(self, intercepts):
        self._set_layers("intercepts", intercepts)

    def _layers(self, kind):
        pending = self.__dict__.get(f"_user_{kind}")
        if pending is not None:
            return pending
        if not hasattr(self, "network_"):
            raise AttributeError(
                f"This {type(self).__name__} instance is not fitted yet: it has no {kind}_ "
                f"(fit it, or set coefs_ and intercepts_ before partial_fit)"
            )
        net = self.network_
        if net.batch_norm:
            arrays = []
            for W, b in net.affine_layers():
                layer = W.T if kind == "coefs" else b[:, 0]
                layer.setflags(write=False)
                arrays.append(layer)
            return _Layers(arrays, self._refuse_batch_norm)
        P = net.parameters
        if kind == "coefs":
            arrays = [P[f"W{l}"].T for l in range(1, net.L + 1)]
        else:
            arrays = [P[f"b{l}"][:, 0] for l in range(1, net.L + 1)]
        return _Layers(arrays, lambda i, value: self._write_layer(kind, i, value))

    def _set_layers(self, kind, layers):
        if not hasattr(self, "network_"):  # set by hand before fitting: a network is built
            self.__dict__[f"_user_{kind}"] = list(layers)  # from them when training starts
            return
        self._refuse_batch_norm()
        L = self.network_.L
        if len(layers) != L:
            raise ValueError(f"{kind}_ must be a list of {L} arrays (one per layer)")
        new = dict(self._layer_array(kind, i, value) for i, value in enumerate(layers))
        self.network_.parameters = {**self.network_.parameters, **new}

    def _write_layer(self, kind, i, value):
        key, array = self._layer_array(kind, i, value)
        self.network_.parameters = {**self.network_.parameters, key: array}

    def _layer_array(self, kind, i, value):
        """(key, array in the engine's layout) for coefs_[i] or intercepts_[i] = value, shape
        checked against the fitted network."""
        net = self.network_
        l = range(1, net.L + 1)[i]
        value = np.asarray(value)
        expected = net.parameters[f"W{l}" if kind == "coefs" else f"b{l}"].shape
        shape = expected[::-1] if kind == "coefs" else expected[:1]
        if value.shape != shape:
            raise ValueError(
                f"{kind}_[{i}] must have shape {shape} (layer {l} of the fitted network); got "
                f"{value.shape}"
            )
        return (f"W{l}", value.T) if kind == "coefs" else (f"b{l}", value.reshape(-1, 1))

    def _refuse_batch_norm(self, *args):
        if self.network_.batch_norm:
            raise ValueError(
                "under batch norm, coefs_ and intercepts_ are the affine maps prediction "
                "applies, W' = diag(gamma / sqrt(var + eps)) W and b' = beta - gamma mu / "
                "sqrt(var + eps): they cannot be set; set network_.parameters (W, gamma, beta) "
                "and network_.running_stats instead"
            )


class _Layers(list):
    """coefs_ or intercepts_ of a fitted estimator: a list of arrays whose item assignment,
    `coefs_[i] = array`, is written into the network (as scikit-learn's plain lists take it)."""

    def __init__(self, arrays, write):
        super().__init__(arrays)
        self._write = write

    def __setitem__(self, index, value):
        if isinstance(index, slice):
            raise TypeError("assign coefs_ / intercepts_ one layer at a time, or as a whole list")
        self._write(index, value)
