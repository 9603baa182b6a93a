"""Packed parameters: named arrays that are views of one contiguous vector, the course's theta."""

import math
from collections.abc import MutableMapping

from .backend import NUMPY, backend_of, dtype_name


class Packed(MutableMapping):
    """A mapping {name: array} whose arrays are views of one contiguous 1-D array, `vector`
    (theta = [W1.ravel(), b1.ravel(), ..., WL.ravel(), bL.ravel()]). An optimizer then updates
    all of theta in one pass per operation, and L-BFGS sees theta directly.

    The mapping owns its vector and its keys are fixed: assigning to a key (also through
    `update`, `setdefault` or `|=`) copies the value into that key's view, an unknown key is
    a KeyError and deleting a key is a TypeError. No operation can put an array outside the
    vector.

    Parameters
    ----------
    arrays : dict of str to array
        The named arrays, copied into the vector in this order.
    dtype : dtype, optional
        The vector's dtype; by default the arrays' common type.
    backend : mlpkit.nn.backend.Backend, optional
        The array library and device of the vector; by default the arrays'.

    Examples
    --------
    >>> import numpy as np
    >>> theta = Packed({"W1": np.ones((2, 3)), "b1": np.zeros((2, 1))})
    >>> theta.vector.shape
    (8,)
    >>> theta["b1"] = [[5.0], [6.0]]      # copied into its view of the vector
    >>> theta.vector
    array([1., 1., 1., 1., 1., 1., 5., 6.])
    """

    __slots__ = ("_backend", "_vector", "_views")

    def __init__(self, arrays, dtype=None, backend=None):
        if backend is None:
            backend = backend_of(*arrays.values())
        arrays = {k: backend.asarray(v) for k, v in arrays.items()}
        dtype = backend.xp.result_type(*arrays.values()) if dtype is None else dtype
        self._pack({k: tuple(a.shape) for k, a in arrays.items()}, dtype, backend)
        for key, a in arrays.items():
            self._views[key][...] = backend.astype(a, dtype)

    @classmethod
    def empty(cls, shapes, dtype, backend=NUMPY):
        """Uninitialized arrays {key: shape} of `dtype` in one vector (for gradients)."""
        packed = cls.__new__(cls)
        packed._pack(shapes, dtype, backend)
        return packed

    def _pack(self, shapes, dtype, backend):
        sizes = [math.prod(shape) for shape in shapes.values()]
        self._backend = backend
        self._vector = backend.empty(sum(sizes), dtype)
        self._views = {}
        offset = 0
        reshape = backend.xp.reshape
        for (key, shape), size in zip(shapes.items(), sizes, strict=True):
            self._views[key] = reshape(self._vector[offset : offset + size], shape)
            offset += size

    @property
    def vector(self):
        """theta: every array of the mapping, back to back (the arrays are views of it)."""
        return self._vector

    @property
    def backend(self):
        """The array library and device of the vector (`mlpkit.nn.backend.Backend`)."""
        return self._backend

    @property
    def shapes(self):
        """{key: shape}, in the vector's order."""
        return {k: tuple(v.shape) for k, v in self._views.items()}

    @property
    def dtype(self):
        return self._vector.dtype

    def __getitem__(self, key):
        return self._views[key]

    def __setitem__(self, key, value):
        view = self._views.get(key)
        if view is None:
            raise KeyError(f"{key!r}: a Packed mapping has the fixed keys {', '.join(self)}")
        value = self._backend.asarray(value)
        if tuple(value.shape) != tuple(view.shape) and value.ndim:
            raise ValueError(f"{key!r} has shape {tuple(view.shape)}; got an array of shape "
                             f"{tuple(value.shape)}")
        if value is not view:
            view[...] = value

    def __delitem__(self, key):
        raise TypeError(f"the keys of a Packed mapping are fixed; {key!r} cannot be removed")

    def __iter__(self):
        return iter(self._views)

    def __len__(self):
        return len(self._views)

    def __contains__(self, key):
        return key in self._views

    def __repr__(self):
        shapes = ", ".join(f"{k}: {tuple(v.shape)}" for k, v in self._views.items())
        return f"Packed({{{shapes}}}, dtype={self.dtype})"

    def copy(self):
        """A Packed copy with its own vector.

        Returns
        -------
        Packed
        """
        return Packed(self._views, self.dtype, self._backend)

    def astype(self, dtype):
        """A Packed copy in `dtype` (self when the dtype is already `dtype`).

        Parameters
        ----------
        dtype : dtype
            The new dtype, of the vector's library.

        Returns
        -------
        Packed
        """
        return self if self.dtype == dtype else Packed(self._views, dtype, self._backend)

    def to(self, backend, dtype=None):
        """A Packed copy in another array library or device (and `dtype`), or self when it is
        already there.

        Parameters
        ----------
        backend : mlpkit.nn.backend.Backend
            The array library and device to copy to.
        dtype : dtype, optional
            The backend's dtype; by default the same precision as now.

        Returns
        -------
        Packed
        """
        dtype = self.dtype if dtype is None and backend == self._backend else dtype
        if backend == self._backend:
            return self.astype(dtype)
        if dtype is None:
            dtype = backend.dtype(dtype_name(self.dtype))
        return Packed(self._views, dtype, backend)

    def __reduce__(self):  # a copy or pickle packs copies of the arrays into a new vector
        return type(self), (dict(self._views),)
