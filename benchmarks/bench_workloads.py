"""bench.py's workloads: their sizes (full and --quick), their data, their learning rates, and
how many FLOPs they cost.

Training FLOPs are counted as 6 x samples x weights per epoch (forward 2, backward 4 per weight
and example).
"""

from dataclasses import dataclass

import numpy as np

from mlpkit.data import flatten_images, load_cat_data


@dataclass(frozen=True)
class Sizes:
    cat_dims: tuple = (12288, 20, 7, 5, 1)
    cat_m: int = 209
    cat_iterations: int = 100
    mlp_dims: tuple = (784, 256, 128, 10)
    mlp_m: int = 20000
    batch_sizes: tuple = (128, 512)
    gemm_n: int = 2048
    repeats: int = 5
    memory_iterations: int = 10
    quick: bool = False


QUICK = Sizes(
    cat_dims=(192, 20, 7, 5, 1),
    cat_m=64,
    cat_iterations=3,
    mlp_dims=(64, 32, 16, 10),
    mlp_m=1024,
    gemm_n=256,
    repeats=1,
    memory_iterations=2,
    quick=True,
)

CAT_LEARNING_RATE = 0.0075
ADAM_LEARNING_RATE = 1e-3


def n_weights(dims):
    return sum(dims[l] * dims[l - 1] for l in range(1, len(dims)))


def training_flops(dims, samples):
    """6 x samples x weights: forward W A (2), backward dW and dA (2 + 2) per weight and example."""
    return 6 * samples * n_weights(dims)


def epoch_product_flops(dims, m, batch_size):
    """FLOPs of an epoch's products: 2 n[l] n[l-1] per example for Z[l] and for dW[l], and
    for dA[l-1] when l > 1."""
    per_example = sum(2 * dims[l] * dims[l - 1] * (3 if l > 1 else 2) for l in range(1, len(dims)))
    return per_example * m


def cat_data(sizes, dtype):
    """(X_rows (m, n_x) C-contiguous, y (m,) int, source). X_rows.T is the course's X (n_x, m):
    every implementation reads the same memory."""
    images, labels, source = None, None, "synthetic data of its shape"
    if sizes.cat_dims[0] == 12288:
        try:
            images, labels, _, _, _ = load_cat_data()
            labels, source = labels[0], "the cat data"
        except OSError:
            images = None
    if images is None:
        rng = np.random.default_rng(0)
        images = rng.integers(0, 256, (sizes.cat_m, sizes.cat_dims[0]), dtype=np.uint8)
        labels = rng.integers(0, 2, sizes.cat_m)
    X_rows = flatten_images(images, dtype).T  # C-contiguous: one row per example
    return X_rows, labels.astype(np.int64), source


def mlp_data(sizes, dtype=np.float32):
    """Synthetic (m, n_x) standard-normal data, labelled by a random linear teacher."""
    rng = np.random.default_rng(0)
    n_x, n_y = sizes.mlp_dims[0], sizes.mlp_dims[-1]
    X_rows = rng.standard_normal((sizes.mlp_m, n_x), dtype=dtype)
    y = (X_rows @ rng.standard_normal((n_x, n_y), dtype=dtype)).argmax(axis=1)
    return X_rows, y
