"""Array libraries: the engine follows its input. `backend_of(*arrays)` gives the `Backend` of
the arrays it is handed (their array-API namespace and device), resolved per call, never
module-wide, so two networks on two devices work in one process.

NumPy is the default and the reference: NumPy arrays (and scipy.sparse matrices) get the NumPy
backend without importing anything else. Any other array goes through array-api-compat (CuPy,
PyTorch tensors, array-api-strict), which is imported only then. NumPy, CuPy and PyTorch get
fast paths (`out=` and in-place operations); other namespaces compute and copy.

`np` stays exported for what always runs on the host (initial weights, checks of host arrays,
the training state).
"""

import numpy as np

__all__ = ["NUMPY", "Backend", "array_backend", "backend_for", "backend_of", "dtype_name",
           "host_dtype", "is_sparse", "np", "on_host", "to_numpy"]


class Backend:
    """The array library and device of some arrays: `xp` (an array-API namespace), `device`,
    and the few operations the engine writes into existing memory (`out=`).

    name: "numpy", "cupy", "torch", or the namespace's module name (array-api-strict, ...)."""

    def __init__(self, xp, device, name, lib=None):
        self.xp, self.device, self.name = xp, device, name
        self._lib = lib  # the library itself where its functions take out= (NumPy, CuPy, torch)

    def __repr__(self):
        return f"Backend({self.name}, device={self.device!r})"

    def __eq__(self, other):
        return isinstance(other, Backend) and (self.name, str(self.device)) == (
            other.name, str(other.device))

    def __hash__(self):
        return hash((self.name, str(self.device)))

    @property
    def is_numpy(self):
        return self.name == "numpy"

    # ------------------------------------------------------------------ arrays
    def dtype(self, name):
        """The namespace's dtype of that name ("float32", "float64", ...); a ValueError for
        float64 on a device that has float32 but no float64 (Apple's MPS)."""
        name = dtype_name(name)
        if name == "float64" and self.float_dtypes() == (self.xp.float32,):
            raise ValueError(f"{self.name} on device {self.device} has no float64; use "
                             "float32 there")
        return getattr(self.xp, name)

    def float_dtypes(self):
        """The device's float64 and float32, widest first (float32 alone where the device has
        no float64, as Apple's MPS)."""
        if self.is_numpy:
            return (np.float64, np.float32)
        found = self.xp.__array_namespace_info__().dtypes(device=self.device,
                                                         kind="real floating")
        return tuple(found[name] for name in ("float64", "float32") if name in found)

    def empty(self, shape, dtype):
        return self.xp.empty(shape, dtype=dtype, device=self.device) if not self.is_numpy else (
            np.empty(shape, dtype))

    def zeros(self, shape, dtype):
        return self.xp.zeros(shape, dtype=dtype, device=self.device) if not self.is_numpy else (
            np.zeros(shape, dtype))

    def astype(self, x, dtype):
        """x in `dtype` (x itself when it already is)."""
        if self.is_numpy:
            return x.astype(dtype, copy=False)
        return self.xp.astype(x, dtype, copy=False)

    def asarray(self, x, dtype=None):
        """x (an array of any library, or a list) as an array of this backend, on its device."""
        if self.is_numpy:
            return np.asarray(to_numpy(x), dtype=dtype)
        if _is_plain_host(x):
            x = _from_host(self, np.asarray(x))
        elif backend_of(x) != self:
            x = _from_host(self, to_numpy(x))
        return x if dtype is None else self.astype(x, dtype)

    def copy(self, x):
        return x.copy() if self.is_numpy or self.name == "cupy" else (
            x.clone() if self.name == "torch" else self.xp.asarray(x, copy=True))

    def float_dtype_for(self, dtype):
        """A floating dtype for data of `dtype`: float32 and float64 are kept, others become the
        device's default float (float64 on the host, float32 on GPUs and where there is no
        float64)."""
        xp = self.xp
        if dtype in (xp.float32, xp.float64):
            return dtype
        return self.default_float()

    def default_float(self):
        """float64 on the host; float32 on GPUs (and on devices without float64)."""
        if self.is_numpy:
            return np.float64
        gpu = self.name == "cupy" or any(kind in str(self.device) for kind in ("cuda", "mps"))
        return self.xp.float32 if gpu else self.float_dtypes()[0]

    # ------------------------------------------------------------------ writes into out=
    def multiply(self, a, b, out=None):
        """a * b (a an array, b an array or a number)."""
        return self._lib.multiply(a, b, out=out) if self._lib is not None else _into(out, a * b)

    def divide(self, a, b, out=None):
        return self._lib.divide(a, b, out=out) if self._lib is not None else _into(out, a / b)

    def subtract(self, a, b, out=None):
        return self._lib.subtract(a, b, out=out) if self._lib is not None else _into(out, a - b)

    def sqrt(self, a, out=None):
        return self._lib.sqrt(a, out=out) if self._lib is not None else _into(out, self.xp.sqrt(a))

    def exp(self, a, out=None):
        return self._lib.exp(a, out=out) if self._lib is not None else _into(out, self.xp.exp(a))

    def tanh(self, a, out=None):
        return self._lib.tanh(a, out=out) if self._lib is not None else _into(out, self.xp.tanh(a))

    def relu(self, a, out=None):
        """max(a, 0)."""
        if self.name == "torch":
            return self._lib.clamp(a, min=0, out=out)
        if self._lib is not None:
            return self._lib.maximum(a, 0, out=out)
        return _into(out, self.xp.maximum(a, 0.0))

    def matmul(self, a, b, out=None):
        return self._lib.matmul(a, b, out=out) if self._lib is not None else _into(out, a @ b)

    def row_sums(self, a, out=None):
        """sum over axis 1, keeping it: (n, m) -> (n, 1)."""
        if self.name == "torch":
            return self._lib.sum(a, dim=1, keepdim=True, out=out)
        if self._lib is not None:
            return self._lib.sum(a, axis=1, keepdims=True, out=out)
        return _into(out, self.xp.sum(a, axis=1, keepdims=True))

    def dot(self, a, b):
        """sum_ij a_ij b_ij, a 0-d array of this backend (a number for NumPy)."""
        if self.is_numpy or self.name == "cupy":
            return self._lib.vdot(a, b)
        if self.name == "torch":
            return self._lib.dot(a.reshape(-1), b.reshape(-1))
        return self.xp.sum(a * b)

    def scalar(self, value):
        """A 0-d result as a Python float on the host (NumPy) or left on the device, so that no
        step synchronizes: the loop reads the epoch's total once."""
        return float(value) if self.is_numpy else value

    # ------------------------------------------------------------------ random numbers
    def random(self, seed):
        """This library's generator seeded by `seed` (an int): `random(shape, dtype)` (uniform
        in [0, 1)) and `permutation(m)` drawn on the device. NumPy's is a `numpy.random.
        Generator` itself."""
        if self.is_numpy:
            return np.random.default_rng(seed)
        if self.name == "torch":
            return _TorchRandom(self, seed)
        if self.name == "cupy":
            return _CupyRandom(self, seed)
        return _HostRandom(self, seed)


def _into(out, value):
    if out is None:
        return value
    out[...] = value
    return out


def _is_plain_host(x):
    return isinstance(x, (np.ndarray, np.generic, list, tuple, int, float))


class _TorchRandom:
    """torch.Generator on the tensor's device."""

    def __init__(self, backend, seed):
        import torch

        self._torch, self._device = torch, backend.device
        self._generator = torch.Generator(device=backend.device)
        self._generator.manual_seed(int(seed))

    def random(self, shape, dtype):
        return self._torch.rand(shape, generator=self._generator, dtype=dtype, device=self._device)

    def permutation(self, m):
        return self._torch.randperm(m, generator=self._generator, device=self._device)


class _CupyRandom:
    """CuPy's generator (on the current GPU)."""

    def __init__(self, backend, seed):
        import cupy

        self._rng = cupy.random.RandomState(int(seed))

    def random(self, shape, dtype):
        return self._rng.random_sample(shape, dtype=dtype)

    def permutation(self, m):
        return self._rng.permutation(m)


class _HostRandom:
    """A namespace without a generator of its own (array-api-strict): NumPy draws, copied to
    the device."""

    def __init__(self, backend, seed):
        self._backend, self._rng = backend, np.random.default_rng(seed)

    def random(self, shape, dtype):
        host = self._rng.random(shape, dtype=host_dtype(dtype))
        return self._backend.asarray(host)

    def permutation(self, m):
        return self._backend.asarray(self._rng.permutation(m))


NUMPY = Backend(np, "cpu", "numpy", np)
_BACKENDS = {}


def backend_of(*arrays):
    """The Backend of the given arrays (None and scipy.sparse matrices are NumPy's); a
    TypeError when they mix libraries or devices."""
    for a in arrays:  # NumPy's, quickly: this runs a few times in every step
        if type(a) is not np.ndarray and a is not None:
            break
    else:
        return NUMPY
    arrays = [a for a in arrays if a is not None and not isinstance(a, (np.ndarray, np.generic))
              and not is_sparse(a)]
    if not arrays:
        return NUMPY
    try:
        import array_api_compat
    except ImportError:
        raise ImportError(
            f"arrays of {type(arrays[0]).__module__.split('.')[0]} need array-api-compat: "
            "pip install 'mlpkit[torch]' or 'mlpkit[cupy]'"
        ) from None
    xp = array_api_compat.array_namespace(*arrays)
    device = array_api_compat.device(arrays[0])
    for a in arrays[1:]:
        if array_api_compat.device(a) != device:
            raise TypeError(f"arrays on different devices: {device} and "
                            f"{array_api_compat.device(a)}; move them to one device")
    key = (xp.__name__, str(device))
    backend = _BACKENDS.get(key)
    if backend is None:
        if array_api_compat.is_torch_namespace(xp):
            import torch

            backend = Backend(xp, device, "torch", torch)
        elif array_api_compat.is_cupy_namespace(xp):
            import cupy

            backend = Backend(xp, device, "cupy", cupy)
        elif array_api_compat.is_numpy_namespace(xp):
            backend = NUMPY
        else:
            backend = Backend(xp, device, xp.__name__.split(".")[-1])
        _BACKENDS[key] = backend
    return backend


def backend_for(device=None, library=None):
    """The Backend for a device named by the user ("cpu", "cuda", "cuda:1", ...) and a library
    ("numpy", "torch", "cupy", or None: NumPy for "cpu" and no device, else torch when it is
    installed, else CuPy)."""
    if library not in (None, "numpy", "torch", "cupy"):
        raise ValueError(f"unknown array library {library!r}; expected numpy, torch or cupy")
    if library == "numpy" or (library is None and device in (None, "cpu")):
        if device not in (None, "cpu"):
            raise ValueError(f"NumPy runs on the CPU only; got device={device!r}")
        return NUMPY
    if library is None:
        library = "torch" if _installed("torch") else "cupy" if _installed("cupy") else None
        if library is None:
            raise ImportError(f"device={device!r} needs PyTorch or CuPy: pip install "
                              "'mlpkit[torch]' or 'mlpkit[cupy]'")
    try:
        if library == "torch":
            import torch

            return backend_of(torch.empty(0, device="cpu" if device is None else device))
        import cupy

        index = 0 if device in (None, "cuda") else int(str(device).rsplit(":", 1)[-1])
        with cupy.cuda.Device(index):
            return backend_of(cupy.empty(0))
    except ImportError:
        raise ImportError(f"{library} is not installed: pip install 'mlpkit[{library}]'") from None
    except (RuntimeError, ValueError, AssertionError) as error:  # torch without CUDA: assert
        raise ValueError(f"{library} cannot use device={device!r}: {error}") from None


def _installed(name):
    import importlib.util

    return importlib.util.find_spec(name) is not None


def dtype_name(dtype):
    """A dtype's name in any library: "float32" for np.float32, torch.float32 or CuPy's."""
    return str(dtype).rsplit(".", 1)[-1]


def host_dtype(dtype):
    """NumPy's dtype of the same name as a dtype of any library (torch.float32 -> float32)."""
    return np.dtype(dtype_name(dtype))


def is_sparse(x):
    """Whether x is a scipy.sparse matrix or array (recognized by its interface; NumPy's
    backend only)."""
    return hasattr(x, "tocsr") and hasattr(x, "nnz")


def array_backend(x):
    """The Backend of x when x is an array of a library other than NumPy (one that array-api-
    compat knows: CuPy, torch, array-api-strict, ...), else None (NumPy arrays, lists, data
    frames: what np.asarray takes)."""
    if isinstance(x, (np.ndarray, np.generic, list, tuple)) or is_sparse(x):
        return None
    if hasattr(x, "__array_namespace__") or type(x).__module__.split(".")[0] in (
        "torch", "cupy", "jax", "dask"
    ):
        backend = backend_of(x)
        return None if backend.is_numpy else backend
    return None


def to_numpy(x):
    """x as a NumPy array on the host (a copy from a device; NumPy arrays as they are)."""
    if x is None or isinstance(x, np.ndarray) or is_sparse(x):
        return x
    if isinstance(x, (np.generic, list, tuple, int, float)):
        return np.asarray(x)
    backend = backend_of(x)
    if backend.name == "torch":
        return x.detach().cpu().numpy()
    if backend.name == "cupy":
        return x.get()
    xp = backend.xp
    if xp.__name__ == "array_api_strict":
        return np.asarray(xp.asarray(x, device=xp.Device("CPU_DEVICE")))
    return np.asarray(x)


def on_host(x):
    """x on the host: an array of a library other than NumPy as its NumPy copy (`to_numpy`);
    anything else (NumPy arrays, lists, data frames, None) as it is."""
    return x if array_backend(x) is None else to_numpy(x)


def _from_host(backend, host):
    """A NumPy array onto the backend's device (torch: through its own from_numpy)."""
    if backend.name == "torch":
        import torch

        return torch.from_numpy(np.ascontiguousarray(host)).to(backend.device)
    return backend.xp.asarray(host, device=backend.device)
