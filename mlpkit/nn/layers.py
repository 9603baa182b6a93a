"""The pieces of one layer, forward and backward: linear step, batch norm, inverted dropout.

Gradients follow the course's convention: dZ, dA hold per-example derivatives (column i is
dL_i/dZ_i) and the 1/m of the cost J = (1/m) sum L_i appears where parameters' gradients are
formed: dW = (1/m) dZ A_prev^T, db = (1/m) sum_i dZ.

The first layer's input A[0] = X may be a scipy.sparse matrix (n_x, m): its two products are
then computed with the sparse matrix on the left (Z^T = X^T W^T, dW^T = X dZ^T / m), so X is
never made dense. Every other layer's input is a dense activation. Dense arrays may be any
array library's (`mlpkit.nn.backend`): each function computes in its input's, on its device.
"""

from .backend import backend_of, is_sparse, np

BN_EPSILON = 1e-5


def linear_forward(A_prev, W, b=None):
    """Z = W A_prev + b  (b is None where batch norm follows: its beta is the bias)."""
    if not is_sparse(A_prev):
        Z = W @ A_prev
    else:  # sparse X: Z = (X^T W^T)^T
        Z = (A_prev.T @ W.T).T
    if b is not None:
        Z += b
    return Z


def linear_backward(dZ, A_prev, W, need_dA_prev=True, need_db=True, dW=None, db=None):
    """dW = (1/m) dZ A_prev^T,  db = (1/m) sum_i dZ,  dA_prev = W^T dZ.

    dA_prev is skipped for the first layer (dA[0] is the input's gradient, never used), and db
    where batch norm's beta replaces b. The 1/m scales dZ (n[l] x m), smaller than dW. Given
    dW and db arrays (the network's gradient vector), the results are written into them.
    """
    b = backend_of(dZ)
    m = A_prev.shape[1]
    dZ_over_m = dZ / m
    if not is_sparse(A_prev):
        dW = b.matmul(dZ_over_m, A_prev.T, out=dW)
    else:  # sparse X: dW = (X dZ^T / m)^T
        dW_T = A_prev @ dZ_over_m.T
        if dW is None:
            dW = np.empty(dW_T.shape[::-1], dW_T.dtype)
        _transpose_into(dW, dW_T)
    db = b.row_sums(dZ_over_m, out=db) if need_db else None
    dA_prev = W.T @ dZ if need_dA_prev else None
    return dA_prev, dW, db


def _transpose_into(out, M, block=512):
    """out[...] = M.T, a block of columns at a time: a wide transposed copy in one step strides
    through memory and runs ~4x slower."""
    for start in range(0, M.shape[0], block):
        out[:, start : start + block] = M[start : start + block].T


def batchnorm_forward(Z, gamma, beta, eps=BN_EPSILON):
    """Training mode: mu = mean_i z,  var = mean_i (z - mu)^2,
    Z_norm = (Z - mu) / sqrt(var + eps),  Z~ = gamma Z_norm + beta.

    Returns Z~ (computed over Z's memory), the cache (Z_norm, 1/sqrt(var + eps), gamma) for
    backward, and the batch's (mu, var) for the running averages used at prediction."""
    b = backend_of(Z)
    xp = b.xp
    mu = xp.mean(Z, axis=1, keepdims=True)
    Z -= mu
    var = xp.mean(Z * Z, axis=1, keepdims=True)
    inv_std = 1 / xp.sqrt(var + eps)
    Z *= inv_std
    Z_norm = b.copy(Z)
    Z *= gamma
    Z += beta
    return Z, (Z_norm, inv_std, gamma), (mu, var)


def batchnorm_predict(Z, gamma, beta, running_mean, running_var, eps=BN_EPSILON):
    """Prediction mode: the same transform with the running mean and variance, so one example's
    output never depends on which other examples share its batch."""
    scale = gamma / backend_of(Z).xp.sqrt(running_var + eps)
    Z -= running_mean
    Z *= scale
    Z += beta
    return Z


def batchnorm_backward(dZ_tilde, cache):
    """dgamma = (1/m) sum_i dZ~ Z_norm,  dbeta = (1/m) sum_i dZ~,  dZ_norm = gamma dZ~,
    dZ = (1/sqrt(var + eps)) (dZ_norm - mean_i dZ_norm - Z_norm mean_i(dZ_norm Z_norm))."""
    Z_norm, inv_std, gamma = cache
    xp = backend_of(dZ_tilde).xp
    dgamma = xp.mean(dZ_tilde * Z_norm, axis=1, keepdims=True)
    dbeta = xp.mean(dZ_tilde, axis=1, keepdims=True)
    dZ = dZ_tilde * gamma  # dZ_norm
    dZ -= xp.mean(dZ, axis=1, keepdims=True)
    dZ -= Z_norm * (gamma * dgamma)  # mean_i(dZ_norm Z_norm) = gamma dgamma
    dZ *= inv_std
    return dZ, dgamma, dbeta


def dropout_forward(A, keep_prob, rng):
    """Inverted dropout: D ~ Bernoulli(keep_prob),  A_dropped = A * D / keep_prob.

    Dividing by keep_prob keeps E[A] unchanged, so prediction needs no rescaling. Returns a
    new array: backward still needs the undropped A for g'. rng draws uniforms on A's device:
    `rng.random(shape, dtype=)` (a NumPy Generator, or `Backend.random`'s)."""
    b = backend_of(A)
    D = rng.random(A.shape, dtype=A.dtype) < keep_prob
    if not b.is_numpy:
        D = b.xp.astype(D, A.dtype)
    A_dropped = A * D
    A_dropped /= keep_prob
    return A_dropped, D


def dropout_backward(dA, D, keep_prob):
    """dA = dA * D / keep_prob  (the forward's mask; in place)."""
    dA *= D
    dA /= keep_prob
    return dA
