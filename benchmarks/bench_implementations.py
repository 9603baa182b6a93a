"""bench.py's implementations of each workload: mlpkit and what it is compared against (the
course's straightforward algorithm, scikit-learn's MLPClassifier, PyTorch on the CPU, and the
hand-fused NumPy loop), each from the same data, start, optimizer and dtype.

Each (a) function returns (seconds, final cost) for `iterations` full-batch gradient-descent
steps; each (b), (c) function returns (seconds, the epoch's mean training loss) for one epoch of
Adam. Only the training is timed.
"""

import time
import warnings

import course_reference as course
import fused_numpy
import numpy as np
from bench_workloads import ADAM_LEARNING_RATE, CAT_LEARNING_RATE

import mlpkit

torch = None  # imported by load_torch(): the "bench" extra is optional


def load_torch():
    """Import PyTorch if it is installed (its columns are skipped otherwise)."""
    global torch
    try:
        import torch
    except ImportError:
        torch = None
    return torch


# ---------------------------------------------------------------- (a): one function per variant
def course_cat(X_rows, y, dims, parameters, iterations):
    X, Y = X_rows.T, y.reshape(1, -1).astype(np.float64)
    start = time.perf_counter()
    _, costs = course.L_layer_model(X, Y, parameters, CAT_LEARNING_RATE, iterations)
    return time.perf_counter() - start, float(costs[-1])


def mlpkit_cat(X_rows, y, dims, parameters, iterations):
    net = mlpkit.Network(list(dims))
    net.parameters = parameters
    net.astype(X_rows.dtype)
    Y = y.reshape(1, -1).astype(X_rows.dtype)
    start = time.perf_counter()
    history = net.fit(X_rows.T, Y, epochs=iterations, learning_rate=CAT_LEARNING_RATE)
    return time.perf_counter() - start, history.costs[-1]


def sklearn_cat(X_rows, y, dims, parameters, iterations):
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(
        hidden_layer_sizes=dims[1:-1],
        solver="sgd",
        alpha=0.0,
        batch_size=X_rows.shape[0],
        learning_rate_init=CAT_LEARNING_RATE,
        momentum=0.0,
        nesterovs_momentum=False,
        max_iter=1,
        shuffle=False,
        tol=0.0,
        n_iter_no_change=iterations + 1,
        warm_start=True,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X_rows, y)  # sets the model up; then start from the course's initialization
        layers = range(1, len(dims))
        clf.coefs_ = [parameters[f"W{l}"].T.astype(X_rows.dtype) for l in layers]
        clf.intercepts_ = [parameters[f"b{l}"].ravel().astype(X_rows.dtype) for l in layers]
        clf.set_params(max_iter=iterations)
        start = time.perf_counter()
        clf.fit(X_rows, y)
        seconds = time.perf_counter() - start
    return seconds, float(clf.loss_curve_[-1])


def torch_cat(X_rows, y, dims, parameters, iterations):
    dtype = torch.float64 if X_rows.dtype == np.float64 else torch.float32
    model = _torch_mlp(dims, dtype)
    with torch.no_grad():
        for l, linear in enumerate(_torch_linears(model), start=1):
            linear.weight.copy_(torch.from_numpy(parameters[f"W{l}"]))
            linear.bias.copy_(torch.from_numpy(parameters[f"b{l}"].ravel()))
    X = torch.from_numpy(X_rows)
    Y = torch.from_numpy(y.reshape(-1, 1).astype(X_rows.dtype))
    optimizer = torch.optim.SGD(model.parameters(), lr=CAT_LEARNING_RATE)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    start = time.perf_counter()
    for _ in range(iterations):
        optimizer.zero_grad()
        loss = loss_fn(model(X), Y)
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start, loss.item()


def _torch_mlp(dims, dtype):
    layers = []
    for l in range(1, len(dims)):
        layers.append(torch.nn.Linear(dims[l - 1], dims[l], dtype=dtype))
        if l < len(dims) - 1:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def _torch_linears(model):
    return [m for m in model if isinstance(m, torch.nn.Linear)]


CAT_VARIANTS = {  # "implementation dtype" -> (function, dtype)
    "course's algorithm float64": (course_cat, np.float64),
    "mlpkit float64": (mlpkit_cat, np.float64),
    "mlpkit float32": (mlpkit_cat, np.float32),
    "scikit-learn float64": (sklearn_cat, np.float64),
    "scikit-learn float32": (sklearn_cat, np.float32),
    "PyTorch float64": (torch_cat, np.float64),
    "PyTorch float32": (torch_cat, np.float32),
}


# ------------------------------------------------------------ (b), (c): one epoch of Adam
def mlpkit_epoch(X_rows, y, Y, dims, batch_size, seed):
    net = mlpkit.Network(list(dims), output_activation="softmax", seed=seed).astype(X_rows.dtype)
    start = time.perf_counter()
    history = net.fit(
        X_rows.T,
        Y,
        epochs=1,
        learning_rate=ADAM_LEARNING_RATE,
        batch_size=batch_size,
        optimizer="adam",
        seed=seed,
    )
    return time.perf_counter() - start, history.costs[-1]


def fused_epoch(X_rows, y, Y, dims, batch_size, seed):
    """mlpkit's arithmetic from the same start, as one hand-fused NumPy loop (NumPy's floor)."""
    net = mlpkit.Network(list(dims), output_activation="softmax", seed=seed).astype(X_rows.dtype)
    start = time.perf_counter()
    _, loss = fused_numpy.adam_epoch(
        X_rows, Y, dims, batch_size, seed, net.parameters, ADAM_LEARNING_RATE
    )
    return time.perf_counter() - start, loss


def sklearn_epoch(X_rows, y, Y, dims, batch_size, seed):
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(
        hidden_layer_sizes=dims[1:-1],
        solver="adam",
        alpha=0.0,
        batch_size=batch_size,
        learning_rate_init=ADAM_LEARNING_RATE,
        max_iter=1,
        shuffle=True,
        tol=0.0,
        n_iter_no_change=2,
        random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: one epoch on purpose
        start = time.perf_counter()
        clf.fit(X_rows, y)
        seconds = time.perf_counter() - start
    return seconds, float(clf.loss_)


def torch_epoch(X_rows, y, Y, dims, batch_size, seed):
    torch.manual_seed(seed)
    model = _torch_mlp(dims, torch.float32)
    optimizer = torch.optim.Adam(model.parameters(), lr=ADAM_LEARNING_RATE)
    loss_fn = torch.nn.CrossEntropyLoss()
    X, labels = torch.from_numpy(X_rows), torch.from_numpy(y)
    m = X.shape[0]
    start = time.perf_counter()
    total = 0.0
    permutation = torch.randperm(m)
    for k in range(0, m, batch_size):
        batch = permutation[k : k + batch_size]
        optimizer.zero_grad()
        loss = loss_fn(model(X[batch]), labels[batch])
        loss.backward()
        optimizer.step()
        total += loss.item() * len(batch)
    return time.perf_counter() - start, total / m


EPOCH_VARIANTS = {
    "mlpkit": mlpkit_epoch,
    "scikit-learn": sklearn_epoch,
    "PyTorch": torch_epoch,
    "NumPy hand-fused": fused_epoch,
}
