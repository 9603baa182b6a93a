"""skl2onnx: mlpkit's converter, registered with skl2onnx, exports mlpkit's estimators (in a
pipeline, string labels, nocl, ZipMap) with mlpkit's probabilities (1e-5) and labels; the stock
converter for scikit-learn's MLP is right on batch norm (folded into coefs_) and refuses
leaky_relu."""

import warnings

import numpy as np
import pytest
import skl2onnx
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler

import mlpkit
from mlpkit import MLPClassifier, MLPRegressor

from .onnx_checks import TOL, assert_labels_agree, run

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.mark.parametrize("activation", ["leaky_relu", "tanh"])
def test_skl2onnx_converts_mlpkit_estimators_in_a_pipeline(activation):
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType
    from sklearn.pipeline import make_pipeline

    mlpkit.register_skl2onnx()
    mlpkit.register_skl2onnx()  # idempotent
    X, y = load_digits(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), MLPClassifier((16,), activation=activation,
                                                         batch_norm=True, max_iter=5,
                                                         random_state=0)).fit(X, y)
    proto = skl2onnx.convert_sklearn(pipe, initial_types=[("X", FloatTensorType([None, 64]))],
                                     options={"zipmap": False})
    label, proba = run(proto, X=X.astype(np.float32))
    expected = pipe.predict_proba(X)
    np.testing.assert_allclose(proba, expected, atol=TOL)
    assert_labels_agree(label, pipe.predict(X), expected)
    regressor = MLPRegressor(hidden_layer_sizes=(8,), loss="poisson", max_iter=5,
                             random_state=0).fit(X, y)
    (variable,) = run(skl2onnx.to_onnx(regressor, X[:1].astype(np.float32)),
                      X=X.astype(np.float32))
    np.testing.assert_allclose(variable[:, 0], regressor.predict(X), rtol=TOL)
    with pytest.raises(TypeError, match="FloatTensorType"):
        skl2onnx.convert_sklearn(regressor, initial_types=[("X", DoubleTensorType([None, 64]))])


def test_skl2onnxs_stock_converter_is_right_or_refuses(digits):
    """Registered by hand for mlpkit's class, skl2onnx's converter for scikit-learn's MLP reads
    coefs_ / intercepts_: batch norm is folded into them, so its probabilities are right; it has
    no operator for leaky_relu and refuses it."""
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import calculate_linear_classifier_output_shapes
    from skl2onnx.operator_converters.multilayer_perceptron import (
        convert_sklearn_mlp_classifier,
    )

    class Stock(MLPClassifier):
        """Its own class: the stock registration stays out of the other tests."""

    update_registered_converter(Stock, "StockMLP", calculate_linear_classifier_output_shapes,
                                convert_sklearn_mlp_classifier,
                                options={"zipmap": [True, False], "nocl": [True, False]})
    X, y = digits
    X32 = X[:1].astype(np.float32)
    model = Stock((16, 8), batch_norm=True, max_iter=5, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        proto = skl2onnx.to_onnx(model, X32, options={"zipmap": False})
    _, proba = run(proto, X=X.astype(np.float32))
    np.testing.assert_allclose(proba, model.predict_proba(X), atol=TOL)
    leaky = Stock((16,), activation="leaky_relu", max_iter=2, random_state=0).fit(X, y)
    with pytest.raises(KeyError, match="leaky_relu"):
        skl2onnx.to_onnx(leaky, X32, options={"zipmap": False})


@pytest.mark.parametrize("n_classes", [2, 3])
def test_skl2onnx_string_labels_and_nocl(n_classes, digits):
    """String classes travel as a string initializer (skl2onnx copies only a TensorProto's
    raw_data); nocl=True gives the class's index as an int64 label."""
    mlpkit.register_skl2onnx()
    X, y = digits
    y = np.array(["a", "b", "c"])[y % n_classes]
    model = MLPClassifier((12,), max_iter=5, random_state=0).fit(X, y)
    X32 = X.astype(np.float32)
    label, proba = run(skl2onnx.to_onnx(model, X32[:1], options={"zipmap": False}), X=X32)
    expected = model.predict_proba(X)
    np.testing.assert_allclose(proba, expected, atol=TOL)
    assert label.dtype == object
    assert_labels_agree(label, model.predict(X), expected)
    label, _ = run(skl2onnx.to_onnx(model, X32[:1], options={"nocl": True, "zipmap": False}),
                   X=X32)
    assert label.dtype == np.int64
    np.testing.assert_array_equal(label, np.argmax(proba, axis=1))
    (label, probabilities) = run(skl2onnx.to_onnx(model, X32[:1]), X=X32)  # with ZipMap
    assert_labels_agree(label, model.predict(X), expected)
    assert set(probabilities[0]) == set(model.classes_)


