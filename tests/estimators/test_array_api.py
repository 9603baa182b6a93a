"""The estimators under scikit-learn's array_api_dispatch (issue 22), on the CPU: X of
array-api-strict (its CPU device and its simulated second device) or a PyTorch CPU tensor is
followed, y and sample_weight move to it, the fitted network stays on X's device and the
predictions come back there; scikit-learn's own `check_array_api_input` passes with values
compared to the NumPy fit. (tests/estimators/test_estimator_checks.py also runs scikit-learn's
array API checks that `parametrize_with_checks` yields for the tag.)"""

import numpy as np
import pytest
import sklearn
from sklearn.datasets import make_classification, make_regression
from sklearn.utils.estimator_checks import check_array_api_input

from mlpkit import MLPClassifier, MLPRegressor
from mlpkit.nn.backend import NUMPY, backend_of, to_numpy

torch = pytest.importorskip("torch")
xps = pytest.importorskip("array_api_strict")
pytest.importorskip("array_api_compat")

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
STRICT_CPU, STRICT_OTHER = xps.__array_namespace_info__().devices()[:2]
# (namespace, device, dtype) as scikit-learn's check names them
INPUTS = [
    ("array_api_strict", None, "float64"),
    ("array_api_strict", "device1", "float32"),
    ("torch", "cpu", "float32"),
    ("torch", "cpu", "float64"),
]
ESTIMATORS = [
    MLPClassifier(hidden_layer_sizes=(8,), max_iter=20),
    MLPRegressor(hidden_layer_sizes=(8,), max_iter=20),
    MLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=20),
    MLPRegressor(hidden_layer_sizes=(8, 4), solver="sgd", batch_norm=True, early_stopping=True,
                 max_iter=20),
    MLPClassifier(hidden_layer_sizes=(8,), class_weight="balanced", early_stopping=True,
                  max_iter=20),
]


@pytest.mark.parametrize("namespace,device,dtype", INPUTS)
@pytest.mark.parametrize("estimator", ESTIMATORS, ids=repr)
def test_scikit_learns_check_array_api_input_with_values(estimator, namespace, device, dtype):
    check_array_api_input(type(estimator).__name__, estimator, namespace, device, dtype,
                          check_values=True, check_sample_weight=True)


@pytest.mark.parametrize("namespace,device,dtype", INPUTS[1:3])
def test_dropout_draws_its_masks_on_the_device(namespace, device, dtype):
    """Masks drawn on the device differ from NumPy's draws: namespaces, devices, shapes and
    dtypes are checked, not values (tests/nn/test_array_api.py checks the masks)."""
    estimator = MLPClassifier(hidden_layer_sizes=(8,), dropout=0.2, max_iter=5)
    check_array_api_input("MLPClassifier", estimator, namespace, device, dtype,
                          check_values=False, check_sample_weight=True)


def strict(a, device=STRICT_OTHER):
    return xps.asarray(np.asarray(a), device=device)


@pytest.mark.parametrize("convert", [strict, torch.asarray], ids=["strict-device1", "torch"])
def test_the_fitted_network_and_its_layers_live_on_xs_device(convert):
    X, y = make_classification(n_samples=40, n_features=6, random_state=0)
    X_xp = convert(X.astype(np.float32))
    with sklearn.config_context(array_api_dispatch=True):
        est = MLPClassifier(hidden_layer_sizes=(5,), max_iter=30, random_state=0)
        est.fit(X_xp, y)  # y stays NumPy: moved to X's device
        labels, proba = est.predict(X_xp), est.predict_proba(X_xp)
    b = backend_of(X_xp)
    assert est.network_.backend == b and str(est.network_.dtype).endswith("float32")
    for layer in (*est.coefs_, *est.intercepts_):
        assert backend_of(layer) == b
    theta = est.network_.parameters.vector
    assert backend_of(theta) == b
    assert backend_of(labels) == b and backend_of(proba) == b
    assert labels.shape == (40,) and proba.shape == (40, 2)
    assert to_numpy(labels).dtype == y.dtype
    numpy_est = MLPClassifier(hidden_layer_sizes=(5,), max_iter=30, random_state=0).fit(
        X.astype(np.float32), y)
    np.testing.assert_allclose(to_numpy(proba), numpy_est.predict_proba(X.astype(np.float32)),
                               atol=1e-5)


def test_string_labels_come_back_on_the_host():
    X, y = make_classification(n_samples=30, n_features=5, n_classes=3, n_informative=3,
                               random_state=0)
    names = np.array(["cat", "dog", "owl"])[y]
    with sklearn.config_context(array_api_dispatch=True):
        est = MLPClassifier(hidden_layer_sizes=(5,), max_iter=50, random_state=0)
        labels = est.fit(torch.asarray(X), names).predict(torch.asarray(X))
        score = est.score(torch.asarray(X), names)
    assert isinstance(labels, np.ndarray) and set(labels) <= {"cat", "dog", "owl"}
    assert score == np.mean(labels == names)


def test_weights_of_another_library_follow_x():
    X, y = make_regression(n_samples=30, n_features=4, random_state=0)
    w = np.linspace(0.5, 2.0, 30)
    kwargs = dict(hidden_layer_sizes=(6,), solver="lbfgs", max_iter=30, random_state=0)
    expected = MLPRegressor(**kwargs).fit(X, y, sample_weight=w).predict(X)
    with sklearn.config_context(array_api_dispatch=True):
        est = MLPRegressor(**kwargs).fit(strict(X), torch.asarray(y), sample_weight=list(w))
        got = est.predict(strict(X))
    assert backend_of(got) == backend_of(strict(X))
    np.testing.assert_allclose(to_numpy(got), expected, rtol=1e-9, atol=1e-9)


def test_predicting_on_another_library_or_device_is_refused_with_the_way_out():
    X, y = make_classification(n_samples=30, n_features=5, random_state=0)
    with sklearn.config_context(array_api_dispatch=True):
        est = MLPClassifier(hidden_layer_sizes=(4,), max_iter=5).fit(strict(X), y)
        for other in (X, strict(X, STRICT_CPU), torch.asarray(X)):
            with pytest.raises(ValueError, match=r"MLPClassifier\.predict_proba\(\) must use "
                               r"the same namespace.*network_\.to_like\(X\)"):
                est.predict_proba(other)
        est.network_.to_like(strict(X, STRICT_CPU))
        assert backend_of(est.predict(strict(X, STRICT_CPU))) == backend_of(strict(X, STRICT_CPU))
    # without dispatch, scikit-learn's rule: inputs become NumPy arrays, and so do answers
    assert isinstance(est.predict(X), np.ndarray)
    est = MLPClassifier(hidden_layer_sizes=(4,), max_iter=5).fit(torch.asarray(X), y)
    assert est.network_.backend == NUMPY and isinstance(est.predict(torch.asarray(X)), np.ndarray)


def test_the_tag_says_so():
    assert MLPClassifier().__sklearn_tags__().array_api_support
    assert MLPRegressor().__sklearn_tags__().array_api_support


def test_an_estimator_fitted_on_a_device_saves_and_resumes_on_the_host(tmp_path):
    """The model file is written from host copies, training state included (Adam's moments on
    the device): it loads on the host, predicts what the device did and trains on."""
    import mlpkit

    X, y = make_classification(n_samples=60, n_features=5, random_state=0)
    with sklearn.config_context(array_api_dispatch=True):
        est = MLPClassifier(hidden_layer_sizes=(4,), max_iter=10, random_state=0)
        est.fit(torch.asarray(X), y)
        on_device = to_numpy(est.predict_proba(torch.asarray(X)))
    mlpkit.save(est, tmp_path / "model.npz")
    loaded = mlpkit.load(tmp_path / "model.npz")
    assert loaded.network_.backend == NUMPY
    np.testing.assert_allclose(loaded.predict_proba(X), on_device, rtol=1e-12, atol=1e-15)
    assert loaded.partial_fit(X, y).n_iter_ == 1
