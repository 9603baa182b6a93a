"""bench.py's floors: the machine's GEMM peak, and the matrix products alone of each workload,
the time no implementation can beat. Each function returns seconds."""

import time

import numpy as np


def gemm_seconds(A, B, reps=3):
    """Seconds per product A @ B (the mean of `reps` after one warm-up)."""
    A @ B
    start = time.perf_counter()
    for _ in range(reps):
        A @ B
    return (time.perf_counter() - start) / reps


def cat_products_seconds(X_rows, dims, iterations):
    """The floor of (a): only Z[1] = W[1] X and dW[1] = dZ[1] X^T, `iterations` times."""
    rng = np.random.default_rng(0)
    X = X_rows.T
    W1 = rng.standard_normal((dims[1], dims[0])).astype(X.dtype)
    dZ1 = rng.standard_normal((dims[1], X.shape[1])).astype(X.dtype)
    start = time.perf_counter()
    for _ in range(iterations):
        W1 @ X
        dZ1 @ X.T
    return time.perf_counter() - start


def step_products(dims, batch_size, dtype):
    """The matrix products of one mini-batch step, at the workload's shapes: Z[l] = W[l] A[l-1],
    dW[l] = dZ[l] A[l-1]^T and dA[l-1] = W[l]^T dZ[l] for l > 1 (dA[0] is not needed)."""
    rng = np.random.default_rng(0)
    products = []
    for l in range(1, len(dims)):
        W = rng.standard_normal((dims[l], dims[l - 1])).astype(dtype)
        A_prev = rng.standard_normal((dims[l - 1], batch_size)).astype(dtype)
        dZ = rng.standard_normal((dims[l], batch_size)).astype(dtype)
        products += [(W, A_prev), (dZ, A_prev.T)] + ([(W.T, dZ)] if l > 1 else [])
    return products


def epoch_batches(m, batch_size):
    """[(batch size, how many such steps)] of one epoch: full batches, then the rest."""
    return [(batch_size, m // batch_size)] + ([(m % batch_size, 1)] if m % batch_size else [])


def products_seconds(step_groups):
    """Seconds for every product of [(products of one step, steps)]."""
    start = time.perf_counter()
    for products, steps in step_groups:
        for _ in range(steps):
            for A, B in products:
                A @ B
    return time.perf_counter() - start
