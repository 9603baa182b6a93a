"""Training on a device where the data is on the host: `DeviceSource` moves each batch of any
source (an `ArraySource` over NumPy arrays, a streaming source of `mlpkit.data`) to a
`Backend`, and says so (`backend`), so that the loop trains there. `float_dtype` is the dtype
a run on a device computes in; `placement` resolves a device, library and dtype named by a user
(the CLI, ImageClassifier, the search) and `check_placement` checks them up front.

With torch on CUDA each batch is copied into pinned (page-locked) host memory and sent with
non_blocking=True on a stream of its own, and the next batch's copy is started before the
current one is handed to the loop: the copy of batch k+1 runs while the device computes on
batch k. Elsewhere (torch on the CPU, CuPy, array-api-strict) each batch is a plain copy.
"""

import dataclasses

from ..nn.backend import backend_for, backend_of, dtype_name, host_dtype, is_sparse, np, to_numpy
from .batches import closing_batches

__all__ = ["DeviceSource", "check_placement", "float_dtype", "on_gpu", "placement"]


def float_dtype(backend, dtype=None):
    """The backend's floating dtype for `dtype` ("float32", "float64", a NumPy or backend
    dtype; None: the device's default, float64 on the host and float32 on GPUs). A ValueError
    for float64 on a device without it (Apple's MPS)."""
    if dtype is None:
        return backend.default_float()
    return backend.dtype(_float_name(dtype))


def _float_name(dtype):
    name = dtype_name(dtype)
    if name not in ("float32", "float64"):
        raise ValueError(f"dtype must be float32 or float64; got {dtype!r}")
    return name


def placement(device=None, backend=None, dtype=None):
    """(Backend, dtype) of a device ("cpu", "cuda", "cuda:1", "mps"), an array library
    ("numpy", "torch", "cupy"; see `backend_for`) and a dtype ("float32", "float64"; see
    `float_dtype`): a ValueError or ImportError now for a pair that cannot work."""
    target = backend_for(device, backend)
    return target, float_dtype(target, dtype)


def on_gpu(device):
    """Whether `device` names one other than the host's CPU ("cuda", "cuda:1", "mps")."""
    return device is not None and not str(device).startswith("cpu")


def check_placement(device=None, backend=None, dtype=None, here=True):
    """`placement`'s errors, raised up front; a GPU of other machines (here=False: Dask
    workers) is checked by name only: NumPy cannot run there, and the dtype must be a float."""
    if here or not on_gpu(device):
        placement(device, backend, dtype)
        return
    if backend not in (None, "torch", "cupy"):
        backend_for(device, backend)  # NumPy off the CPU, an unknown library: its error
    if dtype is not None:
        _float_name(dtype)


class DeviceSource:
    """A source whose batches are moved to `backend` (a `mlpkit.nn.backend.Backend`) in
    `dtype` (see `float_dtype`): the loop trains on `backend`.

    It keeps the wrapped source's interface (`n_examples`, `n_features`, `n_outputs`,
    `full_batch()`, `batches(order, batch_size)`, the batches' other fields such as a
    StreamBatch's `index`); `dtype` is the backend's. Orders are drawn on the host
    (`host_order`: the loop shuffles with its NumPy generator, as a NumPy run does), so a
    shuffle written for NumPy (BlockShuffle) works and, without dropout, the run takes the
    NumPy run's steps. Casting to `dtype` happens on the host, before the copy. A full batch
    given again as the same arrays (an ArraySource's) is not copied again.

    Validation data stays where it is: arrays are moved by `Network.fit`, a validation source
    is read on the host."""

    host_order = True

    def __init__(self, source, backend, dtype=None):
        if is_sparse(getattr(source, "X", None)):
            raise TypeError("scipy.sparse data cannot be moved to a device; give dense arrays")
        self.source, self.backend = source, backend
        self.dtype = float_dtype(backend, dtype)
        self._host_dtype = host_dtype(self.dtype)
        self.n_examples, self.n_features = source.n_examples, source.n_features
        self.n_outputs = getattr(source, "n_outputs", None)
        self._full = None  # (host batch, its device copy)
        self._pinned = _is_cuda_torch(backend)
        self._stream = None

    @classmethod
    def of(cls, net, X, Y=None, sample_weight=None, *, backend, dtype=None):
        """A DeviceSource over `net`'s training data: a source X, or the arrays X (n_x, m),
        Y (n_y, m) and sample_weight, checked as `Network.fit` checks them."""
        from .fit import _source

        return cls(_source(net, X, Y, sample_weight), backend, dtype)

    def __repr__(self):
        return f"DeviceSource({self.source!r}, {self.backend!r}, dtype={self.dtype})"

    def full_batch(self):
        batch = self.source.full_batch()
        if self._full is not None and all(a is b for a, b in zip(
                _arrays(batch), _arrays(self._full[0]), strict=True)):
            return self._handed((self._full[1], ()))
        moved = self._handed(self._send(batch, slot=0))
        self._full = (batch, moved)
        return moved

    def batches(self, order, batch_size):
        """The wrapped source's batches of `order` (NumPy's, or copied to the host), on the
        device, one batch ahead."""
        with closing_batches(self.source, to_numpy(order), batch_size) as batches:
            batches = iter(batches)
            ahead = next(batches, None)
            if ahead is None:
                return
            ahead, slot = self._send(ahead, 0), 1
            for batch in batches:
                current, ahead, slot = ahead, self._send(batch, slot), 1 - slot
                yield self._handed(current)
            yield self._handed(ahead)

    def _send(self, batch, slot):
        """Start the copy of a host batch to the device (the host arrays are copied out at
        once, before the source reuses its buffers): (the batch with its device arrays, the
        events that mark the ends of their copies)."""
        moved, events = {}, []
        for field in ("X", "Y", "sample_weight"):
            value = getattr(batch, field)
            if value is not None:
                moved[field], event = self._copy(value, slot, field)
                if event is not None:
                    events.append(event)
        return dataclasses.replace(batch, **moved), events

    def _copy(self, value, slot, field):
        b = self.backend
        if backend_of(value) == b:  # already there (a copy: the loop may keep it)
            return b.astype(b.copy(value), self.dtype), None
        host = to_numpy(value)
        if self._pinned:
            return self._pinned_copy(host, slot, field)
        # a fresh host array: torch on the CPU would otherwise share the source's buffer
        return b.asarray(np.array(host, dtype=self._host_dtype, order="C")), None

    def _pinned_copy(self, host, slot, field):
        import torch

        if self._stream is None:
            self._stream = torch.cuda.Stream(device=self.backend.device)
            self._buffers = {}  # (slot, field) -> (pinned tensor, event of its last copy)
        key = (slot, field)
        pinned, event = self._buffers.get(key, (None, None))
        if event is not None:
            event.synchronize()  # its previous copy (two batches ago) is done
        if pinned is None or pinned.shape != host.shape:
            pinned = torch.empty(host.shape, dtype=self.dtype, pin_memory=True)
        np.copyto(pinned.numpy(), host, casting="unsafe")
        with torch.cuda.stream(self._stream):
            moved = pinned.to(self.backend.device, non_blocking=True)
            event = torch.cuda.Event()
            event.record(self._stream)
        self._buffers[key] = (pinned, event)
        return moved, event

    def _handed(self, sent):
        """The batch of `_send` as the loop may use it: the loop's stream waits for its copies
        (on the device, not here), not for the next batch's."""
        batch, events = sent
        if self._pinned:
            import torch

            current = torch.cuda.current_stream(self.backend.device)
            for event in events:
                current.wait_event(event)
            for value in _arrays(batch):
                if value is not None:
                    value.record_stream(current)  # its memory is reused only after the loop's use
        return batch


def _arrays(batch):
    return batch.X, batch.Y, batch.sample_weight


def _is_cuda_torch(backend):
    return backend.name == "torch" and getattr(backend.device, "type", None) == "cuda"
