"""ONNX export: onnxruntime's outputs equal mlpkit's predictions (1e-5, float32) on the digits data
for every hidden activation, with and without batch norm, for a Network, both estimators and an
ImageClassifier fed raw uint8 images; labels equal mlpkit's except within the tolerance of a
decision (skl2onnx's converters: test_skl2onnx.py)."""

import subprocess
import sys

import numpy as np
import onnx
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import NotFittedError
from sklearn.preprocessing import StandardScaler

import mlpkit
from mlpkit import ImageClassifier, MLPClassifier, MLPRegressor, Network, Standardizer, one_hot

from .onnx_checks import TOL, assert_labels_agree, run

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
ACTIVATIONS = ["relu", "tanh", "logistic", "identity", "leaky_relu"]  # scikit-learn's names
ENGINE = {"logistic": "sigmoid", "identity": "linear"}


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
    expected = model.predict_proba(X)
    np.testing.assert_allclose(proba, expected, atol=TOL)
    assert_labels_agree(label, model.predict(X), expected, multilabel=target == "multilabel")


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
    expected = model.predict_proba(images)
    np.testing.assert_allclose(proba, expected, atol=TOL)
    assert_labels_agree(label, model.predict(images), expected)
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
    with pytest.raises(NotFittedError, match="not fitted"):
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


def test_opset_and_ir_version_agree():
    """IR_VERSION is the one ONNX released with OPSET (onnx.helper.VERSION_TABLE)."""
    from mlpkit.io.onnx import IR_VERSION, OPSET

    assert any(row[1] == IR_VERSION and row[2] == OPSET for row in onnx.helper.VERSION_TABLE)
