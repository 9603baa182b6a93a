"""Workloads (b) and (c) as one hand-fused NumPy loop: what NumPy itself allows on this machine.

Not part of mlpkit, and not how to write a library: no input checks, no caches, dicts or
per-layer calls, every buffer allocated once, parameters, gradients and Adam's state in flat
vectors, and Adam in 10 passes over memory. The benchmark runs it beside mlpkit to separate
NumPy's own floor (matrix products, then single-threaded element-wise passes) from the engine's
overhead. The arithmetic is mlpkit's (relu hidden layers, softmax + cross-entropy, Adam), the
same batches from the same seed; tests/test_benchmarks.py checks that the two agree.
"""

import math

import numpy as np


def adam_epoch(X_rows, Y, dims, batch_size, seed, parameters, learning_rate=1e-3,
               beta1=0.9, beta2=0.999, epsilon=1e-8):
    """One epoch of mini-batch Adam on X_rows (m, n_x) and one-hot Y (n_y, m), starting from
    `parameters` {"W1", "b1", ...}; returns (the trained parameters, the epoch's mean cost)."""
    dtype, (m, n_x), L = X_rows.dtype, X_rows.shape, len(dims) - 1
    shapes = [(dims[l], dims[l - 1]) for l in range(1, L + 1)]
    n = sum(r * c + r for r, c in shapes)
    theta, dtheta = np.empty(n, dtype), np.empty(n, dtype)
    v, s, work = np.zeros(n, dtype), np.zeros(n, dtype), np.empty(n, dtype)
    W, b, dW, db, offset = [], [], [], [], 0
    for rows, cols in shapes:
        for vector, Ws in ((theta, W), (dtheta, dW)):
            Ws.append(vector[offset : offset + rows * cols].reshape(rows, cols))
        offset += rows * cols
        for vector, bs in ((theta, b), (dtheta, db)):
            bs.append(vector[offset : offset + rows].reshape(rows, 1))
        offset += rows
    for l in range(L):
        W[l][...], b[l][...] = parameters[f"W{l + 1}"], parameters[f"b{l + 1}"]

    buffer = np.empty((batch_size, n_x), dtype)
    permutation = np.random.default_rng(seed).permutation(m)
    total = 0.0
    for t, k in enumerate(range(0, m, batch_size), start=1):
        batch = permutation[k : k + batch_size]
        size = len(batch)
        A = [np.take(X_rows, batch, axis=0, out=buffer[:size], mode="clip").T]
        for l in range(L):
            Z = W[l] @ A[l]
            Z += b[l]
            A.append(np.maximum(Z, 0, out=Z) if l < L - 1 else Z)
        Z = A[L]
        Y_batch = Y[:, batch]
        z_max = Z.max(axis=0, keepdims=True)
        dZ = np.exp(Z - z_max)
        sums = dZ.sum(axis=0, keepdims=True)
        total += float(np.log(sums).sum() + z_max.sum() - np.vdot(Y_batch, Z))
        dZ /= sums
        dZ -= Y_batch
        dZ *= 1 / size
        for l in range(L - 1, -1, -1):
            np.matmul(dZ, A[l].T, out=dW[l])
            np.sum(dZ, axis=1, keepdims=True, out=db[l])
            if l > 0:
                dZ = W[l].T @ dZ
                dZ *= A[l] > 0

        c2 = (1 - beta2**t) / (1 - beta2)
        alpha_t = learning_rate * (1 - beta1) * math.sqrt(c2) / (1 - beta1**t)
        v *= beta1
        v += dtheta
        s *= beta2
        s += np.multiply(dtheta, dtheta, out=work)
        np.sqrt(s, out=work)
        work += epsilon * math.sqrt(c2)
        np.divide(v, work, out=work)
        work *= alpha_t
        theta -= work
    trained = {}
    for l in range(L):
        trained[f"W{l + 1}"], trained[f"b{l + 1}"] = W[l], b[l]
    return trained, total / m
