"""Packed parameters: named arrays that are views of one vector theta."""

import math

import numpy as np


class Packed(dict):
    """A dict of arrays stored back to back in one contiguous 1-D array, `vector` (the course's
    theta), each value a view of its part. An optimizer then updates all of theta in one pass
    per operation instead of array by array. Assigning to a key copies into its view, so the
    vector stays where the values live."""

    def __init__(self, arrays, dtype=None):
        arrays = {k: np.asarray(v) for k, v in arrays.items()}
        dtype = np.result_type(*arrays.values()) if dtype is None else dtype
        self._pack({k: a.shape for k, a in arrays.items()}, dtype)
        for key, a in arrays.items():
            self[key][...] = a

    @classmethod
    def empty(cls, shapes, dtype):
        """Uninitialized arrays {key: shape} of `dtype` in one vector (for gradients)."""
        packed = cls.__new__(cls)
        packed._pack(shapes, dtype)
        return packed

    def _pack(self, shapes, dtype):
        sizes = [math.prod(shape) for shape in shapes.values()]
        self.vector = np.empty(sum(sizes), dtype)
        offset = 0
        for (key, shape), size in zip(shapes.items(), sizes, strict=True):
            super().__setitem__(key, self.vector[offset : offset + size].reshape(shape))
            offset += size

    def __setitem__(self, key, value):
        if key not in self:
            raise KeyError(f"{key!r}: a Packed dict has the fixed keys {', '.join(self)}")
        self[key][...] = value

    def __reduce__(self):  # a copy or pickle packs copies of the arrays into a new vector
        return type(self), (dict(self),)
