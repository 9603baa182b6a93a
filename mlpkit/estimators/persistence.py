"""Saving and loading the estimators as data: `_to_state` / `_from_state`, the (meta, arrays)
form `mlpkit.save` and `mlpkit.load` write into a model file, with no pickling.

meta is JSON (class, get_params(), the network's configuration, the fitted attributes, the
training state); arrays holds the network's parameters, batch-norm statistics and the training
state's arrays, so a loaded estimator predicts identically and resumes training exactly.
`to_json` / `from_json` carry parameter values JSON lacks (arrays, tuples, dicts with non-string
keys, and through `training.state`'s float codec NaN and infinities).
"""

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ..io.model_files import network_from_state, network_to_state
from ..training import TrainingState
from ..training.state import float_from_json, float_to_json


class Persistence:
    """`_to_state` and `_from_state` for BaseMLP; subclasses add to them through
    `_extra_state` / `_restore_extra_state`."""

    def _to_state(self):
        """(meta, arrays) for `mlpkit.save`: meta is JSON-serializable (class, get_params(),
        the network's configuration, the fitted attributes, the training state); arrays holds
        the network's parameters and batch-norm running statistics
        (`io.model_files.network_to_state`) and the training state's arrays (optimizer
        moments, the best epoch's parameters), so training resumes exactly."""
        check_is_fitted(self)
        net = self.network_
        if not isinstance(net.init, str) or callable(self.learning_rate):
            raise ValueError(
                "a model with a callable init or learning_rate cannot be saved as data; "
                "use one of the named initializers and learning rates"
            )
        network_meta, arrays = network_to_state(net)
        if self._training is None:
            self._start_solver()
        training_meta, training_arrays = self._training.to_arrays()
        arrays.update(training_arrays)
        fitted = {
            name: to_json(getattr(self, name))
            for name in (
                "n_features_in_", "n_iter_", "t_", "n_layers_", "n_outputs_",
                "out_activation_", "loss_", "loss_curve_",
            )
            if hasattr(self, name)
        }
        if hasattr(self, "feature_names_in_"):
            fitted["feature_names_in_"] = to_json(self.feature_names_in_)
        meta = {
            "class": type(self).__name__,
            "params": {k: to_json(v) for k, v in self.get_params().items()},
            "network": network_meta,
            "training": training_meta,
            "fitted": fitted,
            **self._extra_state(),
        }
        if not isinstance(meta["params"]["random_state"], (int, type(None))):
            meta["params"]["random_state"] = None  # a RandomState instance is not data
        return meta, arrays

    @classmethod
    def _from_state(cls, meta, arrays):
        """The fitted estimator that `_to_state` described (identical predictions)."""
        if meta.get("class") != cls.__name__:
            raise ValueError(f"this state describes a {meta.get('class')!r}, not a {cls.__name__}")
        params = {k: from_json(v) for k, v in meta["params"].items()}
        for name in ("hidden_layer_sizes", "dropout"):
            if isinstance(params[name], list):
                params[name] = tuple(params[name])
        estimator = cls(**params)
        estimator.network_ = network_from_state(meta["network"], arrays)
        fitted = {name: from_json(value) for name, value in meta["fitted"].items()}
        if "feature_names_in_" in fitted:
            fitted["feature_names_in_"] = np.asarray(fitted["feature_names_in_"], dtype=object)
        for name, value in fitted.items():
            setattr(estimator, name, value)
        estimator._training = TrainingState.from_arrays(meta["training"], arrays)
        estimator._restore_extra_state(meta)
        return estimator

    def _extra_state(self):
        """What a subclass adds to the saved state (the classifier: its classes)."""
        return {}

    def _restore_extra_state(self, meta):
        """Restore what `_extra_state` saved; nothing here."""


def to_json(value):
    """numpy arrays and scalars -> lists and Python numbers; tuples -> lists; a dict (a
    class_weight) -> {"$dict": [[key, value], ...]}, since JSON keys are strings only; a NaN or
    infinite float (n_iter_no_change=np.inf) -> `float_to_json`'s {"$float": repr}."""
    if isinstance(value, (np.ndarray, np.generic)):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {"$dict": [[to_json(k), to_json(v)] for k, v in value.items()]}
    if isinstance(value, float):
        return float_to_json(value)
    return value


def from_json(value):
    """What `to_json` encoded, at any depth (a list of class_weight dicts, say)."""
    if isinstance(value, list):
        return [from_json(v) for v in value]
    if isinstance(value, dict) and set(value) == {"$dict"}:
        return {from_json(k): from_json(v) for k, v in value["$dict"]}
    return float_from_json(value)
