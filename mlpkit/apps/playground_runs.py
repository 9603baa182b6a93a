"""The playground's training runs: each trains in its own thread with `Network.fit`, observed
after every epoch by a callback that records the history, publishes the live views a few times a
second, and obeys pause, one step and stop.

`RunManager` bounds them: at most `max_runs` train at once (the next is refused), finished runs
are kept up to `keep` (the oldest dropped), and a run nobody reads is stopped: at once when its
last event stream closes, after `idle_timeout` seconds when none was ever opened. A comparison
(a preset of several settings) is one run whose members train one after another. Imports no web
framework; nothing is written to disk.
"""

from __future__ import annotations

import copy
import itertools
import math
import threading
import time
import warnings

import numpy as np
import sklearn.metrics  # noqa: F401  (the loop's scores use it: loaded before a run waits on it)

from ..nn.gradcheck import gradient_check
from ..training.diagnosis import diagnose
from ..training.loop import DivergenceError
from .playground_data import make_data
from .presets import fit_options, network

UPDATE_INTERVAL = 0.25  # seconds between published views of a training run
GRID = 48  # the decision boundary: GRID x GRID points
BINS = 20  # activation histograms
VIEW_BATCH = 256  # examples for the gradient norms and histograms
GRADCHECK_BATCH = 32
MAX_GRADCHECK_PARAMETERS = 20000
CLOSED_GRACE = 1.0  # seconds a run waits for a closed stream to reconnect before it is stopped
# the `mlpkit train` options of the diagnosis' suggestions that the page can apply
APPLICABLE = ("--hidden", "--epochs", "--optimizer", "--l2", "--dropout", "--patience",
              "--batch-norm", "--init")


class RunsBusy(Exception):
    """max_runs runs are training: the next must wait."""


def finite(value):
    """A float for JSON: None for NaN and infinity."""
    value = float(value)
    return value if math.isfinite(value) else None


def _accuracy(net, AL, Y):
    if net.output_activation == "softmax":
        return float(np.mean(AL.argmax(axis=0) == Y.argmax(axis=0)))
    return float(np.mean((AL > 0.5) == (Y > 0.5)))


class Member:
    """One setting of a run: its settings, status, history and live views."""

    def __init__(self, label, settings):
        self.label, self.settings = label, settings
        self.status = "queued"
        self.history = {"epoch": [], "cost": [], "dev_cost": [], "train_accuracy": [],
                        "dev_accuracy": []}
        self.final = None  # prediction-mode costs and accuracies after training
        self.diagnosis = None
        self.error = None
        self.boundary = None  # the last published decision boundary
        self.layers = None  # the last published gradient norms and activation histograms
        self.views = 0  # how many times the views were published
        self.net = None  # a copy of the network at the last publication (or the end)
        self.data = None  # ((X, Y), dev or None, classes)
        self.points = None  # the points shown under the boundary

    def record(self, since=0):
        return {"label": self.label, "settings": self.settings, "status": self.status,
                "epochs_done": len(self.history["epoch"]),
                "history": {k: v[since:] for k, v in self.history.items()},
                "final": self.final, "diagnosis": self.diagnosis, "error": self.error}


class Run:
    """A run: one member, or the members of a comparison trained one after another."""

    def __init__(self, run_id, members, preset=None, title=None):
        self.id = run_id
        self.preset, self.title = preset, title
        self.members = [Member(label, settings) for label, settings in members]
        self.created = time.time()
        self.cond = threading.Condition()
        self.version = 0  # incremented at every publication
        self.paused = False
        self.steps = 0  # epochs to run before pausing again (one step)
        self.stop_reason = None
        self.done = False
        self.ended = None  # time.monotonic() at the end
        self.last_read = time.monotonic()
        self.readers = 0
        self.released = None  # when the last stream closed
        self.thread = None

    @property
    def status(self):
        if not self.done:
            return "running"
        if self.stop_reason is not None:
            return "stopped"
        if len(self.members) == 1:
            return self.members[0].status
        return "failed" if any(m.status == "failed" for m in self.members) else "finished"

    def touch(self):
        self.last_read = time.monotonic()

    def to_dict(self):
        with self.cond:
            return {"id": self.id, "status": self.status, "paused": self.paused and not self.done,
                    "stop_reason": self.stop_reason, "preset": self.preset, "title": self.title,
                    "created": self.created, "members": [m.record() for m in self.members]}

    # ------------------------------------------------------------------ controls
    def control(self, action):
        """pause, play (resume), step (one epoch, then pause) or stop."""
        with self.cond:
            if action == "pause":
                self.paused = True
            elif action == "play":
                self.paused, self.steps = False, 0
            elif action == "step":
                self.paused, self.steps = False, 1
            elif action == "stop":
                self.stop("stopped by the user")
            self.version += 1
            self.cond.notify_all()

    def stop(self, reason):
        with self.cond:
            if not self.done and self.stop_reason is None:
                self.stop_reason = reason
            self.cond.notify_all()

    def _wait_controls(self):
        """After an epoch: pause while paused; True to stop."""
        with self.cond:
            if self.steps:
                self.steps -= 1
                self.paused = self.steps == 0
            while self.paused and self.stop_reason is None:
                self.cond.wait(0.5)
            return self.stop_reason is not None

    def _publish(self, member, **views):
        with self.cond:
            for key, value in views.items():
                setattr(member, key, value)
            member.views += 1
            self.version += 1
            self.cond.notify_all()

    # ------------------------------------------------------------------ training
    def train(self):
        """The thread's work: each member in turn, until the end or a stop."""
        try:
            for member in self.members:
                if self.stop_reason is not None:
                    member.status = "stopped"
                    continue
                self._train(member)
        finally:
            with self.cond:
                self.done = True
                self.ended = time.monotonic()
                self.version += 1
                self.cond.notify_all()

    def _train(self, member):
        settings = member.settings
        with self.cond:
            member.status = "running"
        try:
            (X, Y), dev, classes = member.data = make_data(settings)
            net = network(settings, len(classes))
            member.points = _points(X, Y, dev)
            observer = _Observer(self, member, X, Y, dev)
            observer.publish(net)
            with warnings.catch_warnings(record=True) as caught:  # a divergence under patience
                warnings.simplefilter("always", RuntimeWarning)
                history = net.fit(X, Y, validation_data=dev, callbacks=[observer],
                                  **fit_options(settings))
            status = "diverged" if history.diverged else (
                "stopped" if self.stop_reason is not None else "finished")
            error = str(caught[-1].message) if history.diverged and caught else None
            final = _final(net, X, Y, dev)
            observer.publish(net)
            diagnosis = None if dev is None or status == "diverged" else _diagnosis(
                settings, final, dev[0].shape[1])
            with self.cond:
                member.final, member.status, member.error = final, status, error
                member.diagnosis = diagnosis
        except DivergenceError as e:
            with self.cond:
                member.status, member.error = "diverged", str(e)
        except Exception as e:  # shown on the page and in the record
            with self.cond:
                member.status, member.error = "failed", f"{type(e).__name__}: {e}"

    def gradient_check(self, index):
        """backprop's gradient against two-sided differences on GRADCHECK_BATCH training
        examples, with the run's l2, at the member's last published parameters."""
        member = self.members[index]
        with self.cond:
            net, data = member.net, member.data
        if net is None or data is None:
            raise ValueError("this member has not started training yet")
        n = net.parameters.vector.size
        if n > MAX_GRADCHECK_PARAMETERS:
            raise ValueError(f"the network has {n} parameters; the gradient check takes two "
                             f"forward passes per parameter and is offered up to "
                             f"{MAX_GRADCHECK_PARAMETERS}")
        (X, Y), _, _ = data
        k = min(GRADCHECK_BATCH, X.shape[1])
        return gradient_check(net, X[:, :k], Y[:, :k], l2=member.settings["l2"])


def _diagnosis(settings, final, n_dev):
    """mlpkit's diagnosis of the final errors, its suggestions for this run's settings."""
    options = {"hidden": settings["hidden"], "epochs": settings["epochs"],
               "optimizer": settings["optimizer"], "l2": settings["l2"],
               "dropout": 1 - settings["keep_prob"], "batch_norm": settings["batch_norm"],
               "init": settings["init"], "patience": settings["patience"]}
    d = diagnose(1 - final["train_accuracy"], 1 - final["dev_accuracy"],
                 human_error=settings["human_error"], n_dev=n_dev)
    return d.with_run(options=options, settings=APPLICABLE).to_dict()


def _points(X, Y, dev):
    """The points under the boundary (train and dev) with their class indices, and the box."""
    def pack(X, Y):
        labels = Y[0] if Y.shape[0] == 1 else Y.argmax(axis=0)
        return {"x": np.round(X[0], 4).tolist(), "y": np.round(X[1], 4).tolist(),
                "label": labels.astype(int).tolist()}

    every = X if dev is None else np.concatenate([X, dev[0]], axis=1)
    low, high = every.min(axis=1), every.max(axis=1)
    margin = np.maximum((high - low) * 0.1, 0.5)
    box = [float(low[0] - margin[0]), float(high[0] + margin[0]),
           float(low[1] - margin[1]), float(high[1] + margin[1])]
    return {"train": pack(X, Y), "dev": None if dev is None else pack(*dev), "box": box}


def _final(net, X, Y, dev):
    with np.errstate(all="ignore"):
        result = {}
        for name, data in (("train", (X, Y)), ("dev", dev)):
            if data is None:
                result[f"{name}_cost"] = result[f"{name}_accuracy"] = None
                continue
            AL, caches = net.forward(data[0])
            result[f"{name}_cost"] = finite(net.compute_cost(data[1], caches))
            result[f"{name}_accuracy"] = _accuracy(net, AL, data[1])
    return result


class _Observer:
    """The loop's callback: records each epoch, publishes the views, obeys the controls."""

    def __init__(self, run, member, X, Y, dev):
        self.run, self.member = run, member
        self.X, self.Y, self.dev = X, Y, dev
        self.last = -math.inf
        box = member.points["box"]
        gx, gy = np.meshgrid(np.linspace(box[0], box[1], GRID), np.linspace(box[2], box[3], GRID))
        self.grid = np.stack([gx.ravel(), gy.ravel()])
        self.view_X, self.view_Y = X[:, :VIEW_BATCH], Y[:, :VIEW_BATCH]

    def on_epoch_end(self, loop):
        net, history = loop.net, loop.history
        with np.errstate(all="ignore"):
            AL, _ = net.forward(self.X)
            accuracy = _accuracy(net, AL, self.Y)
        run, h = self.run, self.member.history
        with run.cond:
            h["epoch"].append(loop.epoch + 1)
            h["cost"].append(finite(history.costs[-1]))
            h["dev_cost"].append(finite(history.val_costs[-1]) if self.dev else None)
            h["train_accuracy"].append(accuracy)
            h["dev_accuracy"].append(finite(history.val_scores[-1]) if self.dev else None)
            pausing = run.paused or run.steps == 1
        now = time.monotonic()
        if now - self.last >= UPDATE_INTERVAL or pausing:
            self.publish(net)
        return run._wait_controls()

    def publish(self, net):
        """The boundary on the grid, per-layer gradient norms and activation histograms on
        VIEW_BATCH examples (a training-mode forward and backward, no dropout), a copy of the
        network."""
        self.last = time.monotonic()
        with np.errstate(all="ignore"):
            P = net.predict_proba(self.grid)
            if P.shape[0] == 1:
                boundary = {"classes": 2, "p": np.round(P[0], 3).tolist()}
            else:
                boundary = {"classes": int(P.shape[0]),
                            "class": P.argmax(axis=0).astype(int).tolist(),
                            "p": np.round(P.max(axis=0), 3).tolist()}
            boundary.update(size=GRID, box=self.member.points["box"])
            AL, caches = net.forward(self.view_X, training=True)
            grads = net.backward(AL, self.view_Y, caches)
            layers = []
            for l in range(1, net.L + 1):
                entry = {"layer": l, "units": int(net.layer_dims[l]),
                         "grad_norm": finite(np.linalg.norm(grads[f"dW{l}"])),
                         "weight_norm": finite(np.linalg.norm(net.parameters[f"W{l}"]))}
                if l < net.L:
                    entry.update(_histogram(caches[l - 1].A, net.hidden_activations[l - 1]))
                layers.append(entry)
        self.run._publish(self.member, boundary=boundary, layers=layers,
                          net=copy.deepcopy(net))


def _histogram(A, activation):
    """Counts of a layer's activations in BINS bins, and the fraction of saturated units
    (tanh |a| > 0.99, sigmoid a < 0.01 or > 0.99) or dead ones (relu: 0 on every example)."""
    A = A[np.isfinite(A)] if not np.isfinite(A).all() else A
    if activation == "tanh":
        low, high = -1.0, 1.0
        saturated = float(np.mean(np.abs(A) > 0.99)) if A.size else 0.0
    elif activation == "sigmoid":
        low, high = 0.0, 1.0
        saturated = float(np.mean((A < 0.01) | (A > 0.99))) if A.size else 0.0
    else:
        low, high = (float(A.min()), float(A.max())) if A.size else (0.0, 1.0)
        high = high if high > low else low + 1.0
        dead = (A <= 0).all(axis=1) if A.ndim == 2 else np.zeros(1, bool)
        saturated = float(np.mean(dead))
    counts, edges = np.histogram(np.clip(A, low, high), bins=BINS, range=(low, high))
    return {"activation": activation, "histogram": counts.tolist(),
            "range": [finite(edges[0]), finite(edges[-1])],
            "saturated": saturated,
            "saturated_means": "dead units (0 on every example)" if activation in (
                "relu", "leaky_relu") else "activations within 1% of the flat ends"}


class RunManager:
    """The runs of one server, bounded; see the module's docstring."""

    def __init__(self, max_runs=4, keep=32, idle_timeout=60.0, watch_interval=0.5):
        self.max_runs, self.keep, self.idle_timeout = max_runs, keep, idle_timeout
        self.runs = {}  # id -> Run, oldest first
        self.lock = threading.Lock()
        self._ids = itertools.count(1)
        self._closed = threading.Event()
        self._watcher = threading.Thread(target=self._watch, args=(watch_interval,),
                                         name="playground-watch", daemon=True)
        self._watcher.start()

    def active(self):
        return [r for r in self.runs.values() if not r.done]

    def create(self, members, preset=None, title=None):
        """Start a run of [(label, settings)]; RunsBusy when max_runs are training."""
        with self.lock:
            busy = len(self.active())
            if busy >= self.max_runs:
                raise RunsBusy(f"{busy} runs are training, the most this server runs at once "
                               f"(mlpkit playground --max-runs {self.max_runs}); stop one or "
                               "wait for one to finish")
            run_id = f"r{next(self._ids)}"
            run = Run(run_id, members, preset, title)
            self.runs[run_id] = run
            self._prune()
        run.thread = threading.Thread(target=run.train, name=f"playground-{run_id}", daemon=True)
        run.thread.start()
        return run

    def get(self, run_id):
        """The run, or KeyError."""
        with self.lock:
            return self.runs[run_id]

    def delete(self, run_id):
        with self.lock:
            run = self.runs.pop(run_id)
        run.stop("deleted")
        return run

    def _prune(self):
        finished = sorted((r for r in self.runs.values() if r.done), key=lambda r: r.ended)
        for run in finished[:max(0, len(finished) - self.keep)]:
            del self.runs[run.id]

    def _watch(self, interval):
        while not self._closed.wait(interval):
            now = time.monotonic()
            with self.lock:
                runs = self.active()
                self._prune()
            for run in runs:
                if run.readers:
                    continue
                if run.released is not None and now - run.released > CLOSED_GRACE:
                    run.stop("its page was closed (no event stream reads it)")
                elif now - run.last_read > self.idle_timeout:
                    run.stop(f"nobody read it for {self.idle_timeout:g} s")

    def close(self, timeout=5.0):
        """Stop every run and wait for their threads."""
        self._closed.set()
        with self.lock:
            runs = list(self.runs.values())
        for run in runs:
            run.stop("the server stopped")
        for run in runs:
            if run.thread is not None:
                run.thread.join(timeout)
