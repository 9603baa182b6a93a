"""Packed parameters: a mapping that owns its vector theta; no operation can unpack it."""

import copy
import pickle

import numpy as np
import pytest

from mlpkit import Network
from mlpkit.nn import Packed


def packed():
    return Packed({"W1": np.arange(6.0).reshape(3, 2), "b1": np.zeros((3, 1))})


def in_vector(P):
    return all(np.shares_memory(v, P.vector) for v in P.values()) and P.vector.size == sum(
        v.size for v in P.values())


def test_every_mapping_operation_keeps_the_values_in_the_vector():
    P = packed()
    vector = P.vector
    P.update({"W1": np.ones((3, 2))})
    P.update(b1=np.full((3, 1), 2.0))
    P["W1"] += 1
    P.setdefault("b1", np.zeros((3, 1)))
    P["b1"] = 5.0  # a scalar fills the view
    assert P.vector is vector and in_vector(P)
    np.testing.assert_array_equal(vector, [2.0] * 6 + [5.0] * 3)
    assert dict(P)["W1"].base is vector


@pytest.mark.parametrize("operation, error, message", [
    (lambda P: P.update({"W2": np.ones((1, 3))}), KeyError, "fixed keys W1, b1"),
    (lambda P: P.__setitem__("W9", 1.0), KeyError, "fixed keys"),
    (lambda P: P.setdefault("W2", np.ones(2)), KeyError, "fixed keys"),
    (lambda P: P.pop("W1"), TypeError, "cannot be removed"),
    (lambda P: P.popitem(), TypeError, "cannot be removed"),
    (lambda P: P.clear(), TypeError, "cannot be removed"),
    (lambda P: P.__delitem__("b1"), TypeError, "cannot be removed"),
    (lambda P: P.__setitem__("W1", np.ones((2, 3))), ValueError, r"shape \(3, 2\)"),
])
def test_operations_that_would_unpack_it_are_refused(operation, error, message):
    P = packed()
    before = P.vector.copy()
    with pytest.raises(error, match=message):
        operation(P)
    assert in_vector(P) and list(P) == ["W1", "b1"]
    np.testing.assert_array_equal(P.vector, before)


def test_copies_pickles_and_dtype_changes_are_packed_anew():
    P = packed()
    for clone in (P.copy(), copy.deepcopy(P), pickle.loads(pickle.dumps(P)), P.astype(np.float32)):
        assert in_vector(clone) and not np.shares_memory(clone.vector, P.vector)
        np.testing.assert_array_equal(clone.vector, P.vector)
    assert P.astype(np.float64) is P and P.astype(np.float32).dtype == np.float32


def test_network_parameters_assignment_and_update_stay_in_theta():
    net = Network([3, 4, 1], seed=0)
    theta = net.parameters.vector
    net.parameters.update({"W1": np.zeros((4, 3))})
    net.parameters = {k: np.ones(v.shape) for k, v in net.parameters.items()}
    assert net.parameters.vector is theta and (theta == 1).all()
    assert in_vector(net.parameters)
