"""ONNX export: onnxruntime's outputs equal mlpkit's predictions (1e-5, float32) on the digits data
for every hidden activation, with and without batch norm, for a Network, both estimators and an
ImageClassifier fed raw uint8 images; skl2onnx converts mlpkit's estimators right."""

import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler

import mlpkit
from mlpkit import ImageClassifier, MLPClassifier, MLPRegressor, Network, Standardizer, one_hot

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
ACTIVATIONS = ["relu", "tanh", "logistic", "identity", "leaky_relu"]  # scikit-learn's names
ENGINE = {"logistic": "sigmoid", "identity": "linear"}
TOL = 1e-5


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def run(proto, **inputs):
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, inputs)


@pytest.mark.parametrize("batch_norm", [False, True], ids=["plain", "batch_norm"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_network(activation, batch_norm, digits):
    X, y = digits
    net = Network([64, 24, 12, 10], ENGINE.get(activation, activation), "softmax",
                  batch_norm=batch_norm, seed=0)
    net.fit(X.T, one_hot(y), epochs=3, batch_size=128, optimizer="adam", learning_rate=0.01,
            seed=0)
    (output,) = run(mlpkit.to_onnx(net), X=X.astype(np.float32))
    assert output.dtype == np.float32
    np.testing.assert_allclose(output, net.predict_proba(X.T).T, atol=TOL)


@pytest.mark.parametrize("batch_norm", [False, True], ids=["plain", "batch_norm"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("target", ["multiclass", "binary", "multilabel"])
def test_classifier(target, activation, batch_norm, digits):
    X, y = digits
    if target == "binary":
        y = np.array(["even", "odd"])[y % 2]
    elif target == "multilabel":
        y = np.column_stack([y % 2, y > 4, y % 3 == 0]).astype(int)
    model = MLPClassifier((20, 10), activation=activation, batch_norm=batch_norm, max_iter=4,
                          random_state=0).fit(X, y)
    label, proba = run(mlpkit.to_onnx(model), X=X.astype(np.float32))
    np.testing.assert_allclose(proba, model.predict_proba(X), atol=TOL)
    agree = np.mean(np.all(np.reshape(label == model.predict(X), (len(X), -1)), axis=1))
    assert agree >= 0.995  # a probability within 1e-5 of 0.5 may round either way


@pytest.mark.parametrize("batch_norm", [False, True], ids=["plain", "batch_norm"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("loss", ["squared_error", "poisson"])
def test_regressor(loss, activation, batch_norm, digits):
    X, y = digits
    Y = np.column_stack([y, y % 3]).astype(float)
    model = MLPRegressor(hidden_layer_sizes=(20,), loss=loss, activation=activation,
                         batch_norm=batch_norm, max_iter=4, random_state=0).fit(X, Y)
    (variable,) = run(mlpkit.to_onnx(model), X=X.astype(np.float32))
    expected = model.predict(X)
    np.testing.assert_allclose(variable, expected, rtol=TOL, atol=TOL * np.abs(expected).max())


def digit_images():
    """The digits as raw 8x8 RGB images, uint8."""
    digits = load_digits()
    gray = np.round(digits.images * (255 / 16)).astype(np.uint8)
    return np.repeat(gray[..., None], 3, axis=3), digits.target


@pytest.mark.parametrize("standardize", [False, True], ids=["scaled", "standardized"])
@pytest.mark.parametrize("batch_norm", [False, True], ids=["plain", "batch_norm"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_image_classifier_on_raw_images(activation, batch_norm, standardize):
    images, labels = digit_images()
    n_classes = 2 if standardize else 10  # the two-class sigmoid output and softmax
    labels = labels % n_classes
    model = ImageClassifier.build([str(c) for c in range(n_classes)], 8, hidden=(16,),
                                  hidden_activation=ENGINE.get(activation, activation),
                                  batch_norm=batch_norm, seed=0)
    if standardize:
        model.standardizer = Standardizer().fit(model.preprocess(images))
    model.network.fit(model.preprocess(images), model.targets(labels), epochs=3,
                      batch_size=128, optimizer="adam", learning_rate=0.01, seed=0)
    proto = mlpkit.to_onnx(model)
    label, proba = run(proto, images=images)
    np.testing.assert_allclose(proba, model.predict_proba(images), atol=TOL)
    assert np.mean(label == model.predict(images)) >= 0.995
    assert {p.key: p.value for p in proto.metadata_props}["classes"] == ",".join(model.classes)


def test_to_onnx_writes_the_file_and_checks_its_argument(tmp_path, digits):
    X, y = digits
    model = MLPClassifier((8,), max_iter=2, random_state=0).fit(X, y)
    proto = mlpkit.to_onnx(model, tmp_path / "digits.onnx")
    assert onnx.load(tmp_path / "digits.onnx") == proto
    assert [i.name for i in proto.graph.input] == ["X"]
    assert [o.name for o in proto.graph.output] == ["label", "probabilities"]
    with pytest.raises(TypeError, match="to_onnx expects an mlpkit Network"):
        mlpkit.to_onnx(StandardScaler())
    with pytest.raises(Exception, match="not fitted"):
        mlpkit.to_onnx(MLPClassifier())


def test_onnx_is_imported_only_on_export():
    code = (
        "import sys, mlpkit\n"
        "from mlpkit import MLPClassifier, MLPRegressor, Network\n"
        "import mlpkit.io.onnx\n"
        "mods = [m for m in ('onnx', 'onnxruntime', 'skl2onnx') if m in sys.modules]\n"
        "assert not mods, mods\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------------- skl2onnx
skl2onnx = pytest.importorskip("skl2onnx")


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
    np.testing.assert_allclose(proba, pipe.predict_proba(X), atol=TOL)
    assert np.mean(label == pipe.predict(X)) >= 0.995
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
    np.testing.assert_allclose(proba, model.predict_proba(X), atol=TOL)
    assert label.dtype == object and np.mean(label == model.predict(X)) >= 0.995
    label, _ = run(skl2onnx.to_onnx(model, X32[:1], options={"nocl": True, "zipmap": False}),
                   X=X32)
    assert label.dtype == np.int64
    np.testing.assert_array_equal(label, np.argmax(proba, axis=1))
    (label, probabilities) = run(skl2onnx.to_onnx(model, X32[:1]), X=X32)  # with ZipMap
    assert np.mean(label == model.predict(X)) >= 0.995
    assert set(probabilities[0]) == set(model.classes_)


def test_opset_and_ir_version_agree():
    """IR_VERSION is the one ONNX released with OPSET (onnx.helper.VERSION_TABLE)."""
    from mlpkit.io.onnx import IR_VERSION, OPSET

    assert any(row[1] == IR_VERSION and row[2] == OPSET for row in onnx.helper.VERSION_TABLE)
