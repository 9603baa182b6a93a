"""Input checks for the engine: each bad input becomes one clear ValueError or TypeError that
says what was wrong and what was expected, before any arithmetic runs."""

import numbers

from .backend import NUMPY, array_backend, backend_of, is_sparse, np


def all_finite(X):
    """Whether the 2-D float array X has no NaN or infinity. Its row sums decide first, in one
    matrix-vector product with no temporary the size of X: a NaN or infinity makes its row's
    sum NaN or infinite. Only when some sum is not finite (or overflows) is every element
    checked. (An array on a device: one reduction, read back once.)"""
    b = backend_of(X)
    if not b.is_numpy:
        return bool(b.xp.all(b.xp.isfinite(X)))
    with np.errstate(over="ignore", invalid="ignore"):
        row_sums = X @ np.ones(X.shape[1], X.dtype)
        return bool(np.isfinite(row_sums).all() or np.isfinite(X).all())


def _device_float_X(X, b, name):
    """X of another library (CuPy, torch, ...) as a 2-D float array, kept in its library and
    on its device; integers and bools become the device's default float."""
    xp = b.xp
    if not xp.isdtype(X.dtype, ("bool", "integral", "real floating")):
        raise TypeError(f"{name} must be numeric (float, int or bool); got dtype {X.dtype}")
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D with shape (n_x, m), one column per example; got "
                         f"shape {tuple(X.shape)}")
    if X.shape[0] * X.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {tuple(X.shape)}); expected at least one "
                         "example")
    return b.astype(X, b.float_dtype_for(X.dtype))


def check_X(X, n_x=None, name="X"):
    """X as a float array (n_x, m), one column per example, or a scipy.sparse matrix of that
    shape (kept sparse: only the first layer reads X, with sparse products). float32 and
    float64 keep their dtype; other numeric types become float64. An array of another library
    (CuPy, a torch tensor, ...) stays in it, on its device."""
    if is_sparse(X):
        X = _sparse_float_X(X, name)
        finite = bool(np.isfinite(X.data).all())
    else:
        b = array_backend(X)
        X = _host_float_X(X, name) if b is None else _device_float_X(X, b, name)
        finite = all_finite(X)
    if not finite:
        raise ValueError(f"{name} contains NaN or infinity; expected finite values")
    if n_x is not None and X.shape[0] != n_x:
        raise ValueError(
            f"{name} has {X.shape[0]} rows (features) but the network expects n_x = {n_x}; "
            f"X must have shape ({n_x}, m)"
        )
    return X


def _host_float_X(X, name):
    try:
        X = np.asarray(X)
    except (ValueError, TypeError) as exc:
        raise TypeError(f"{name} must be a numeric array of shape (n_x, m); {exc}") from None
    if X.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be numeric (float, int or bool); got dtype {X.dtype}")
    if X.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D with shape (n_x, m), one column per example; got shape {X.shape}"
        )
    if X.size == 0:
        raise ValueError(f"{name} is empty (shape {X.shape}); expected at least one example")
    return X if X.dtype in (np.float32, np.float64) else X.astype(np.float64)


def _sparse_float_X(X, name):
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D with shape (n_x, m); got shape {X.shape}")
    if X.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be numeric (float, int or bool); got dtype {X.dtype}")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {X.shape}); expected at least one example")
    return X if X.dtype in (np.float32, np.float64) else X.astype(np.float64)


def check_Y(Y, m, n_y, output_activation, dtype, name="Y", backend=NUMPY):
    """Y as an array (n_y, m) of X's dtype: 0/1 labels for sigmoid, one-hot columns for softmax,
    finite targets for a linear output, counts or rates >= 0 for an exponential (Poisson)
    output. A 1-D Y of length m is taken as (1, m) when n_y = 1. Y follows X: with X's
    `backend` (another library or device), Y is moved there."""
    if not backend.is_numpy:
        return _check_device_Y(backend.asarray(Y), m, n_y, output_activation, dtype, name,
                               backend)
    try:
        Y = np.asarray(Y)
    except (ValueError, TypeError) as exc:
        raise TypeError(f"{name} must be a numeric array of shape ({n_y}, m); {exc}") from None
    if Y.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be numeric; got dtype {Y.dtype}")
    if Y.ndim == 1 and n_y == 1:
        Y = Y.reshape(1, -1)
    if Y.ndim != 2 or Y.shape[0] != n_y:
        raise ValueError(f"{name} must have shape ({n_y}, m) for this network; got {Y.shape}")
    if Y.shape[1] != m:
        raise ValueError(
            f"{'X_val' if name == 'Y_val' else 'X'} has {m} columns (examples) but {name} has "
            f"{Y.shape[1]}; they must be equal"
        )
    Y = Y.astype(dtype, copy=False)
    if not all_finite(Y):
        raise ValueError(f"{name} contains NaN or infinity; expected finite values")
    if output_activation == "sigmoid" and not np.isin(Y, (0, 1)).all():
        raise ValueError(f"{name} must hold labels 0 or 1 for a sigmoid output; found other values")
    if output_activation == "exponential" and (Y < 0).any():
        raise ValueError(
            f"{name} must be >= 0 for an exponential output (Poisson regression: counts or "
            "rates); found negative values"
        )
    if output_activation == "softmax" and not (
        np.isin(Y, (0, 1)).all() and (Y.sum(axis=0) == 1).all()
    ):
        raise ValueError(
            f"{name} must be one-hot for a softmax output: each column a single 1 among 0s "
            "(use mlpkit.one_hot(labels) to encode class indices)"
        )
    return Y


def _check_device_Y(Y, m, n_y, output_activation, dtype, name, b):
    xp = b.xp
    if not xp.isdtype(Y.dtype, ("bool", "integral", "real floating")):
        raise TypeError(f"{name} must be numeric; got dtype {Y.dtype}")
    if Y.ndim == 1 and n_y == 1:
        Y = xp.reshape(Y, (1, -1))
    if Y.ndim != 2 or Y.shape[0] != n_y:
        raise ValueError(f"{name} must have shape ({n_y}, m) for this network; got "
                         f"{tuple(Y.shape)}")
    if Y.shape[1] != m:
        raise ValueError(
            f"{'X_val' if name == 'Y_val' else 'X'} has {m} columns (examples) but {name} has "
            f"{Y.shape[1]}; they must be equal"
        )
    Y = b.astype(Y, dtype)
    if not all_finite(Y):
        raise ValueError(f"{name} contains NaN or infinity; expected finite values")
    labels = bool(xp.all((Y == 0) | (Y == 1))) if output_activation in (
        "sigmoid", "softmax") else True
    if output_activation == "sigmoid" and not labels:
        raise ValueError(f"{name} must hold labels 0 or 1 for a sigmoid output; found other values")
    if output_activation == "exponential" and bool(xp.any(Y < 0)):
        raise ValueError(
            f"{name} must be >= 0 for an exponential output (Poisson regression: counts or "
            "rates); found negative values"
        )
    if output_activation == "softmax" and not (labels and bool(xp.all(xp.sum(Y, axis=0) == 1))):
        raise ValueError(
            f"{name} must be one-hot for a softmax output: each column a single 1 among 0s "
            "(use mlpkit.one_hot(labels) to encode class indices)"
        )
    return Y


def check_int(value, name, minimum):
    """An integer >= minimum."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return int(value)


def check_positive(value, name):
    """A finite real number > 0."""
    if not _is_real(value) or not (np.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0; got {value!r}")
    return float(value)


def check_non_negative(value, name):
    """A finite real number >= 0."""
    if not _is_real(value) or not (np.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a finite number >= 0; got {value!r}")
    return float(value)


def check_beta(value, name):
    """An averaging coefficient beta in [0, 1)."""
    if not _is_real(value) or not 0 <= value < 1:
        raise ValueError(f"{name} must be in [0, 1) (an averaging coefficient); got {value!r}")
    return float(value)


def check_keep_prob(keep_prob, n_hidden):
    """keep_prob as one float per hidden layer, each in (0, 1]; a single float applies to all
    (and must be 1 when there is no hidden layer to drop units from)."""
    single = _is_real(keep_prob)
    values = [keep_prob] if single else list(np.ravel(keep_prob))
    if not single and len(values) != n_hidden:
        raise ValueError(
            f"keep_prob must be a number or a list of {n_hidden} (one per hidden layer); "
            f"got {len(values)} values"
        )
    for p in values:
        if not _is_real(p) or not 0 < p <= 1:
            raise ValueError(f"keep_prob must be in (0, 1] (1 = no dropout); got {p!r}")
    if single and n_hidden == 0 and keep_prob < 1:
        raise ValueError(
            f"keep_prob = {keep_prob!r} needs hidden layers to drop units from; this network "
            "has none (use keep_prob=1)"
        )
    return [float(p) for p in values] * (n_hidden if single else 1)


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_sample_weight(sample_weight, m, dtype, name="sample_weight", backend=NUMPY):
    """None, or the weights as a 1-D array of m finite values >= 0 (not all 0) in `dtype`, in
    X's `backend` (moved there)."""
    if sample_weight is None:
        return None
    if not backend.is_numpy:
        xp = backend.xp
        w = backend.asarray(sample_weight, dtype)
        if w.ndim == 0:
            w = w * xp.ones(m, dtype=dtype, device=backend.device)
        if tuple(w.shape) != (m,):
            raise ValueError(f"{name} must have shape ({m},), one weight per example; got "
                             f"{tuple(w.shape)}")
        if not bool(xp.all(xp.isfinite(w)) & xp.all(w >= 0)):
            raise ValueError(f"{name} must hold finite values >= 0")
        if not bool(xp.sum(w) > 0):
            raise ValueError(f"{name} must not be all zero (the weighted mean needs a total > 0)")
        return w
    try:
        w = np.asarray(sample_weight, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be numeric, one weight per example; {exc}") from None
    if w.ndim == 0:
        w = np.full(m, w, dtype=dtype)
    if w.shape != (m,):
        raise ValueError(f"{name} must have shape ({m},), one weight per example; got {w.shape}")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError(f"{name} must hold finite values >= 0")
    if not w.sum() > 0:
        raise ValueError(f"{name} must not be all zero (the weighted mean needs a total > 0)")
    return w


def check_layer_sizes(sizes, name="hidden_layer_sizes", expected="integers >= 1, one per layer",
                      minimum_count=0):
    """Layer widths as a list of ints >= 1, from a list, tuple or array of integral numbers;
    a ValueError saying `name must be <expected>` otherwise."""
    try:
        values = list(np.ravel(np.asarray(sizes, dtype=object)))
        exact = all(_is_real(v) and float(v) == int(v) for v in values)
    except (TypeError, ValueError, OverflowError):
        exact = False
    if not exact or len(values) < minimum_count:
        raise ValueError(f"{name} must be {expected}; got {sizes!r}")
    widths = [int(v) for v in values]
    if widths and min(widths) < 1:
        raise ValueError(
            f"every layer needs at least 1 unit; got {name} {widths} (a 0-width layer)"
        )
    return widths


def keep_prob_from_dropout(dropout, n_hidden):
    """Dropout fractions (one number or one per hidden layer, each in [0, 1)) as the engine's
    keep_prob = 1 - dropout per hidden layer, or None when nothing is dropped."""
    try:
        fractions = np.ravel(np.asarray(dropout, dtype=float))
    except (TypeError, ValueError):
        raise ValueError(
            f"dropout must be a number or one number per hidden layer; got {dropout!r}"
        ) from None
    if n_hidden == 0 and np.any(fractions > 0):
        raise ValueError("dropout needs hidden layers to drop units from; this network has none")
    if fractions.size == 1:
        fractions = np.repeat(fractions, n_hidden)
    if fractions.size != n_hidden:
        raise ValueError(
            f"dropout must be one number or one per hidden layer ({n_hidden}); "
            f"got {fractions.size} values"
        )
    if not np.all((fractions >= 0) & (fractions < 1)):
        raise ValueError(f"dropout must be in [0, 1) (the fraction dropped); got {dropout!r}")
    return [float(p) for p in 1 - fractions] if np.any(fractions > 0) else None


def output_layer(n_classes):
    """(units, activation) of a classifier's output layer: one sigmoid unit for 2 classes, one
    softmax unit per class for more."""
    return (1, "sigmoid") if n_classes == 2 else (n_classes, "softmax")


def infer_output_activation(Y):
    """The output activation that targets Y (n_y, m) call for: softmax for one-hot columns,
    sigmoid for 0/1 labels (one unit per label), linear otherwise."""
    Y = np.asarray(Y)
    if np.isin(Y, (0, 1)).all():
        return "softmax" if Y.shape[0] > 1 and (Y.sum(axis=0) == 1).all() else "sigmoid"
    return "linear"
