"""What a user of scikit-learn's MLP meets when swapping the import: solver='lbfgs' (equal to
scikit-learn's from the same random_state), sample_weight and class_weight, sparse X, multi-label
and multi-output targets, loss='poisson', coefs_ / intercepts_ set by hand, batch norm's folded
coefs_."""

import json
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    make_classification,
    make_multilabel_classification,
    make_regression,
)
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier
from sklearn.neural_network import MLPRegressor as SklearnMLPRegressor
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_sample_weight
from threadpoolctl import threadpool_limits

import mlpkit
from mlpkit import MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return StandardScaler().fit_transform(X[:400]), y[:400]


@pytest.fixture(scope="module")
def binary():
    X, y = make_classification(n_samples=120, n_features=6, random_state=1)
    return X, y


@pytest.fixture(scope="module")
def regression():
    X, y = make_regression(n_samples=100, n_features=5, n_targets=2, noise=0.5, random_state=0)
    return X, y / y.std(axis=0)


def parameters(model):
    return np.concatenate([a.ravel() for a in model.coefs_ + model.intercepts_])


# ---------------------------------------------------------------------- lbfgs
@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_lbfgs_equals_sklearns_from_the_same_random_state(task, activation, digits, regression):
    """init='sklearn' draws scikit-learn's initial weights from random_state, and L-BFGS runs
    scipy's minimizer on the same cost and gradient: the fitted parameters agree to rounding."""
    if task == "regression":  # one output: scikit-learn's multi-output loss is not its
        # gradient's (it averages the loss over outputs, not the gradient)
        X, y, classes = regression[0], regression[1][:, 0], (SklearnMLPRegressor, MLPRegressor)
    else:
        X, y = digits
        y = y % 2 if task == "binary" else y
        classes = (SklearnMLPClassifier, MLPClassifier)
    params = dict(hidden_layer_sizes=(12,), activation=activation, solver="lbfgs", alpha=1e-3,
                  max_iter=25, random_state=0)
    theirs, ours = (cls(**params).fit(X, y) for cls in classes)
    assert ours.n_iter_ == theirs.n_iter_ and ours.out_activation_ == theirs.out_activation_
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-9)
    np.testing.assert_allclose(parameters(ours), parameters(theirs), rtol=1e-7, atol=1e-9)


def test_lbfgs_attributes_warning_and_no_partial_fit(binary):
    X, y = binary
    with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge after 3 iteration"):
        model = MLPClassifier(solver="lbfgs", max_iter=3, random_state=0).fit(X, y)
    assert model.n_iter_ == 3 == len(model.loss_curve_) and model.t_ == 0
    assert model.loss_ == model.loss_curve_[-1]
    assert model.best_loss_ is None and model.validation_scores_ is None
    for cls in (MLPClassifier, MLPRegressor):
        assert not hasattr(cls(solver="lbfgs"), "partial_fit")
        with pytest.raises(AttributeError, match="has no attribute 'partial_fit'") as info:
            cls(solver="lbfgs").partial_fit  # noqa: B018
        assert "lbfgs is not stochastic" in str(info.value.__cause__)
    model.set_params(warm_start=True, max_iter=5).fit(X, y)
    assert model.n_iter_ == 5 and len(model.loss_curve_) == 8
    loaded = MLPClassifier._from_state(*model._to_state())
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


@pytest.mark.parametrize("loader", [load_breast_cancer, load_digits])
def test_lbfgs_accuracy_matches_sklearns(loader):
    """Standardized data, 5 seeds, the same splits: solver='lbfgs' test accuracy within 1 point
    of scikit-learn's lbfgs or better."""
    X, y = loader(return_X_y=True)
    scores = {"sklearn": [], "mlpkit": []}
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for seed in range(5):
            X_train, X_test, y_train, y_test = train_test_split(
                X, y, test_size=0.25, random_state=seed, stratify=y)
            scaler = StandardScaler().fit(X_train)
            X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
            for name, cls in (("sklearn", SklearnMLPClassifier), ("mlpkit", MLPClassifier)):
                model = cls(solver="lbfgs", random_state=seed).fit(X_train, y_train)
                scores[name].append(model.score(X_test, y_test))
    means = {name: float(np.mean(s)) for name, s in scores.items()}
    print(f"{loader.__name__}: lbfgs mean test accuracy {means} per seed {scores}")
    assert means["mlpkit"] >= means["sklearn"] - 0.01


# ---------------------------------------------------------------------- sample_weight
@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_zero_weights_are_dropped_rows_and_integer_weights_repeated_rows(cls, digits, regression):
    """lbfgs, full batch, float64: the same parameters to 1e-10."""
    X, y = digits if cls is MLPClassifier else regression
    w = np.random.default_rng(0).integers(0, 3, len(y))
    params = dict(hidden_layer_sizes=(10,), solver="lbfgs", max_iter=30, random_state=0)
    weighted = cls(**params).fit(X, y, sample_weight=w)
    dropped = cls(**params).fit(X[w > 0], y[w > 0], sample_weight=w[w > 0])
    repeated = cls(**params).fit(np.repeat(X, w, axis=0), np.repeat(y, w, axis=0))
    np.testing.assert_allclose(parameters(weighted), parameters(dropped), rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_allclose(parameters(weighted), parameters(repeated), rtol=1e-10,
                               atol=1e-12)


def test_weights_in_the_stochastic_solvers_and_partial_fit(binary):
    X, y = binary
    w = np.where(y == 1, 3.0, 1.0)
    full = dict(hidden_layer_sizes=(8,), solver="sgd", batch_size=len(y), random_state=0,
                shuffle=False, max_iter=5, learning_rate_init=0.05)
    fitted = MLPClassifier(**full).fit(X, y, sample_weight=w)
    stepped = MLPClassifier(**full)
    for _ in range(5):
        stepped.partial_fit(X, y, w, classes=[0, 1])  # scikit-learn's positional order
    np.testing.assert_allclose(parameters(fitted), parameters(stepped), rtol=1e-12)
    repeated = MLPClassifier(**{**full, "batch_size": int(w.sum())}).fit(
        np.repeat(X, w.astype(int), axis=0), np.repeat(y, w.astype(int)))
    np.testing.assert_allclose(parameters(fitted), parameters(repeated), rtol=1e-9)
    assert not np.allclose(parameters(fitted), parameters(MLPClassifier(**full).fit(X, y)))


def test_weighted_validation_split_and_score(binary):
    """The weights are split with the examples (train_test_split, as scikit-learn) and the
    validation score is weighted."""
    X, y = binary
    w = np.linspace(0.5, 2, len(y))
    model = MLPClassifier(hidden_layer_sizes=(8,), early_stopping=True, max_iter=3,
                          validation_fraction=0.25, random_state=0).fit(X, y, sample_weight=w)
    rs = np.random.RandomState(0)
    for n_in, n_out in ((6, 8), (8, 1)):
        rs.uniform(size=(n_in, n_out)), rs.uniform(size=n_out)
    _, X_val, _, y_val, _, w_val = train_test_split(
        X, y, w, test_size=0.25, random_state=rs, stratify=y.reshape(-1, 1).astype(bool))
    assert model.best_validation_score_ == model.score(X_val, y_val, sample_weight=w_val)
    assert model.best_validation_score_ != model.score(X_val, y_val)
    with pytest.raises(ValueError, match="Negative values in data passed to `sample_weight`"):
        MLPClassifier().fit(X, y, sample_weight=-w)
    with pytest.raises(ValueError, match="sample_weight"):
        MLPClassifier().fit(X, y, sample_weight=w[:-1])


# ---------------------------------------------------------------------- class_weight
def test_class_weight_dict_is_sample_weight(digits):
    X, y = digits
    cw = {c: 1.0 + c / 3 for c in range(10)}
    params = dict(hidden_layer_sizes=(10,), solver="lbfgs", max_iter=20, random_state=0)
    by_class = MLPClassifier(class_weight=cw, **params).fit(X, y)
    by_sample = MLPClassifier(**params).fit(X, y, sample_weight=compute_sample_weight(cw, y))
    np.testing.assert_allclose(parameters(by_class), parameters(by_sample), rtol=1e-12)


def test_class_weight_balanced_counts_with_the_sample_weights(binary):
    """'balanced': w_i n / (n_classes count(y_i)) with weighted n and counts (times the sample
    weight), so zero weights are dropped rows here too."""
    X, y = binary
    w = np.random.default_rng(1).integers(0, 3, len(y)).astype(float)
    model = MLPClassifier(class_weight="balanced")
    model._label_binarizer = mlpkit.estimators.classifier.LabelBinarizer().fit(y)
    Y = model._label_binarizer.transform(y).astype(float)
    counts = np.array([w[y == c].sum() for c in (0, 1)])
    np.testing.assert_allclose(model._sample_weight(w, X, Y), w * w.sum() / (2 * counts[y]))
    np.testing.assert_allclose(model._sample_weight(None, X, Y),
                               compute_sample_weight("balanced", y))
    params = dict(hidden_layer_sizes=(6,), solver="lbfgs", max_iter=15, random_state=0,
                  class_weight="balanced")
    kept = w > 0
    np.testing.assert_allclose(
        parameters(MLPClassifier(**params).fit(X, y, sample_weight=w)),
        parameters(MLPClassifier(**params).fit(X[kept], y[kept], sample_weight=w[kept])),
        rtol=1e-10, atol=1e-12)


def test_class_weight_shifts_predictions_and_multilabel_lists():
    X, y = make_classification(n_samples=200, weights=[0.9], flip_y=0.1, random_state=0)
    plain = MLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=50, random_state=0)
    balanced = MLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=50,
                             random_state=0, class_weight="balanced")
    assert balanced.fit(X, y).predict(X).mean() > plain.fit(X, y).predict(X).mean()
    assert not hasattr(balanced, "partial_fit")
    # multi-label: a dict per label, each example weighted by the product over its labels
    X, Y = make_multilabel_classification(n_samples=60, n_classes=3, random_state=0)
    cw = [{0: 1, 1: 2}, {0: 1, 1: 1}, {0: 2, 1: 1}]
    params = dict(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=20, random_state=0)
    by_label = MLPClassifier(class_weight=cw, **params).fit(X, Y)
    products = np.prod([np.where(Y[:, k] == 1, w[1], w[0]) for k, w in enumerate(cw)], axis=0)
    assert set(products) == {1, 2, 4}
    by_sample = MLPClassifier(**params).fit(X, Y, sample_weight=products)
    np.testing.assert_allclose(parameters(by_label), parameters(by_sample), rtol=1e-12)
    assert not np.allclose(parameters(by_label), parameters(MLPClassifier(**params).fit(X, Y)))
    with pytest.raises(ValueError, match="list of dicts"):
        MLPClassifier(class_weight={0: 1, 1: 2}, max_iter=5).fit(X, Y)


def test_partial_fit_weighs_by_dict_batches_lacking_a_class(digits):
    """A dict class_weight weighs classes_, not the classes one batch holds: a batch without
    some weighted class trains, as with those weights given as sample_weight."""
    X, y = digits
    cw = {1: 2.0, 2: 3.0}  # the other classes weigh 1
    params = dict(hidden_layer_sizes=(8,), random_state=0)
    batch = np.isin(y, [0, 1])
    by_class = MLPClassifier(class_weight=cw, **params)
    by_class.partial_fit(X[batch], y[batch], classes=np.arange(10))
    by_sample = MLPClassifier(**params).partial_fit(
        X[batch], y[batch], classes=np.arange(10),
        sample_weight=[cw.get(c, 1.0) for c in y[batch]])
    np.testing.assert_allclose(parameters(by_class), parameters(by_sample), rtol=1e-12)
    X, Y = make_multilabel_classification(n_samples=60, n_classes=3, random_state=0)
    multilabel = MLPClassifier(class_weight=[{1: 2.0}] * 3, **params)
    multilabel.partial_fit(X, Y, classes=[0, 1, 2])
    multilabel.partial_fit(X[:5], np.zeros((5, 3), dtype=int))  # no label set in this batch
    assert multilabel.n_iter_ == 1


def test_class_weight_dict_survives_save_and_load(tmp_path, binary):
    X, y = binary
    model = MLPClassifier(hidden_layer_sizes=(4,), class_weight={0: 1.0, 1: 2.5}, max_iter=3)
    model.fit(X, y)
    meta, arrays = model._to_state()
    loaded = MLPClassifier._from_state(json.loads(json.dumps(meta)), arrays)
    assert loaded.class_weight == {0: 1.0, 1: 2.5}
    loaded = mlpkit.load(mlpkit.save(model, tmp_path / "cw.npz"))
    assert loaded.get_params() == model.get_params()


# ---------------------------------------------------------------------- sparse X
@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
@pytest.mark.parametrize("container", [sp.csr_matrix, sp.csc_array])
def test_sparse_X_gives_the_parameters_of_its_dense_copy(solver, container):
    rng = np.random.default_rng(0)
    X = sp.random(150, 40, density=0.1, format="csr", random_state=0, dtype=np.float64) * 3
    y = (X @ rng.standard_normal(40) > 0).astype(int)
    params = dict(hidden_layer_sizes=(10,), solver=solver, max_iter=20, random_state=0,
                  batch_size=32, alpha=1e-3)
    dense = MLPClassifier(**params).fit(X.toarray(), y)
    sparse = MLPClassifier(**params).fit(container(X), y)
    np.testing.assert_allclose(parameters(sparse), parameters(dense), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sparse.predict_proba(container(X)), dense.predict_proba(
        X.toarray()), rtol=1e-10)


class Densified(AssertionError):
    """X was made dense (toarray was called on it)."""


def refuse_densifying_X(n_features):
    """toarray / todense raise for any matrix with the data's features on an axis (X, its
    rows, its transposes); other sparse matrices (scikit-learn's label binarizing) may."""

    def densify(self, *args, **kwargs):
        if n_features in self.shape:
            raise Densified(f"a sparse {self.shape} matrix was made dense")
        return original[type(self), "toarray"](self, *args, **kwargs)

    return densify


original = {}


def test_sparse_X_is_never_densified(monkeypatch):
    """fit (mini-batches, early stopping's split, weights), partial_fit and predict read the
    sparse matrix through sparse products only."""
    X = sp.random(300, 50, density=0.05, format="csr", random_state=1)
    y = np.random.default_rng(0).integers(0, 3, 300)
    for cls in (sp.csr_matrix, sp.csc_matrix, sp.csr_array, sp.csc_array):
        original[cls, "toarray"] = cls.toarray
        for method in ("toarray", "todense"):
            monkeypatch.setattr(cls, method, refuse_densifying_X(50))
    model = MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, batch_size=64,
                          early_stopping=True, random_state=0)
    model.fit(X, y, sample_weight=np.ones(300))
    MLPClassifier(hidden_layer_sizes=(8,), random_state=0).partial_fit(X, y, classes=[0, 1, 2])
    MLPRegressor(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=3).fit(X.tocsc(), y)
    assert model.predict_proba(X).shape == (300, 3)


# ---------------------------------------------------------------------- targets
def test_multilabel_and_multioutput(regression):
    X, Y = make_multilabel_classification(n_samples=80, n_classes=4, random_state=0)
    clf = MLPClassifier(hidden_layer_sizes=(20,), solver="lbfgs", max_iter=100,
                        random_state=0).fit(X, Y)
    proba = clf.predict_proba(X)
    assert proba.shape == Y.shape and clf.out_activation_ == "logistic"
    np.testing.assert_array_equal(clf.predict(X), (proba > 0.5).astype(int))
    assert not np.allclose(proba.sum(axis=1), 1) and 0 < proba.min() and proba.max() < 1
    X, Y = regression
    reg = MLPRegressor(hidden_layer_sizes=(20,), solver="lbfgs", random_state=0).fit(X, Y)
    assert reg.predict(X).shape == Y.shape and reg.score(X, Y) > 0.999  # R^2 measured 0.99998


def test_poisson_regression():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 3))
    y = rng.poisson(np.exp(0.5 * X[:, 0] - 0.3 * X[:, 1] + 0.5))
    model = MLPRegressor(loss="poisson", hidden_layer_sizes=(8,), solver="lbfgs",
                         random_state=0).fit(X, y)
    assert model.out_activation_ == "exp" and model.predict(X).min() > 0
    assert model.loss_ == pytest.approx(np.mean(
        np.where(y > 0, y * np.log(np.where(y > 0, y, 1) / model.predict(X)), 0)
        - y + model.predict(X)) + 0.5e-4 / 300 * sum(float(np.sum(c ** 2))
                                                       for c in model.coefs_), rel=1e-6)
    with pytest.raises(ValueError, match="not allowed for Poisson regression"):
        MLPRegressor(loss="poisson").fit(X, y - 1.0)
    adam = MLPRegressor(loss="poisson", hidden_layer_sizes=(8,), max_iter=1, random_state=0)
    adam.fit(X, y)  # the output bias starts at log(mean y)
    assert np.exp(adam.network_.parameters["b2"][0, 0]) == pytest.approx(y.mean(), rel=0.05)


# ---------------------------------------------------------------------- coefs_, intercepts_
def test_coefs_set_by_hand_are_trained_from(binary):
    X, y = binary
    rng = np.random.default_rng(0)
    coefs = [rng.standard_normal((6, 4)), rng.standard_normal((4, 1))]
    intercepts = [rng.standard_normal(4), rng.standard_normal(1)]
    model = MLPClassifier(hidden_layer_sizes=(4,), solver="sgd", warm_start=True, max_iter=2)
    model.coefs_ = [c.copy() for c in coefs]
    model.intercepts_ = [b.copy() for b in intercepts]
    model.coefs_[0] = coefs[0] * 2  # scikit-learn's coefs_ is a list the user may edit
    assert model.coefs_[0] is not coefs[0]
    model.fit(X, y)
    reference = MLPClassifier(hidden_layer_sizes=(4,), solver="sgd", warm_start=True,
                              max_iter=1).fit(X, y)
    reference.coefs_ = [coefs[0] * 2, coefs[1]]
    reference.intercepts_ = intercepts
    reference.set_params(max_iter=2).fit(X, y)
    np.testing.assert_allclose(parameters(model), parameters(reference), rtol=1e-12)
    model.coefs_[1] = np.zeros((4, 1))  # item assignment on a fitted model writes through
    np.testing.assert_array_equal(model.network_.parameters["W2"], 0)
    with pytest.raises(ValueError, match=r"coefs_\[1\] must have shape \(4, 1\)"):
        model.coefs_[1] = np.zeros((1, 4))


def test_coefs_set_by_hand_must_be_complete_and_consistent(binary):
    X, y = binary
    model = MLPClassifier(hidden_layer_sizes=(4,))
    model.coefs_ = [np.zeros((6, 4)), np.zeros((4, 1))]
    with pytest.raises(ValueError, match="set both coefs_ and intercepts_"):
        model.partial_fit(X, y, classes=[0, 1])
    model = MLPClassifier(hidden_layer_sizes=(4,))
    model.coefs_, model.intercepts_ = [np.zeros((6, 4)), np.zeros((3, 1))], [np.zeros(4)] * 2
    with pytest.raises(ValueError, match="do not chain"):
        model.partial_fit(X, y, classes=[0, 1])
    model = MLPClassifier(hidden_layer_sizes=(4,), batch_norm=True)
    model.coefs_, model.intercepts_ = [np.zeros((6, 4)), np.zeros((4, 1))], [np.zeros(4),
                                                                             np.zeros(1)]
    with pytest.raises(ValueError, match="batch_norm=False"):
        model.partial_fit(X, y, classes=[0, 1])


def test_coefs_set_by_hand_are_kept_until_they_fit(binary):
    """A refused call changes nothing: setting the missing half then trains, and weights whose
    inputs do not match X's features leave the model unfitted, ready for data that fit."""
    X, y = binary
    coefs, intercepts = [np.zeros((6, 4)), np.zeros((4, 1))], [np.zeros(4), np.zeros(1)]
    model = MLPClassifier(hidden_layer_sizes=(4,), solver="sgd")
    model.coefs_ = coefs
    with pytest.raises(ValueError, match="only coefs_ was set"):
        model.partial_fit(X, y, classes=[0, 1])
    model.intercepts_ = intercepts
    model.partial_fit(X, y)
    assert model.network_.layer_dims == [6, 4, 1] and model.n_iter_ == 1
    model = MLPClassifier(hidden_layer_sizes=(4,), solver="sgd")
    model.coefs_, model.intercepts_ = coefs, intercepts
    with pytest.raises(ValueError, match="architecture"):
        model.partial_fit(X[:, :5], y, classes=[0, 1])
    with pytest.raises(NotFittedError):
        model.predict(X)
    assert [c.shape for c in model.coefs_] == [(6, 4), (4, 1)]
    model.partial_fit(X, y)
    assert model.n_features_in_ == 6 and model.predict(X).shape == y.shape


def test_batch_norm_coefs_are_the_affine_maps_prediction_applies(binary):
    """coefs_ / intercepts_ under batch norm mean what scikit-learn's mean: scikit-learn's own
    forward pass over them gives predict_proba; they cannot be set."""
    X, y = binary
    model = MLPClassifier(hidden_layer_sizes=(8, 5), batch_norm=True, max_iter=20,
                          random_state=0).fit(X, y)
    A = X
    for i, (W, b) in enumerate(zip(model.coefs_, model.intercepts_, strict=True)):
        A = A @ W + b
        A = np.maximum(A, 0) if i < 2 else 1 / (1 + np.exp(-A))
    np.testing.assert_allclose(A[:, 0], model.predict_proba(X)[:, 1], rtol=1e-10)
    with pytest.raises(ValueError, match="cannot be set"):
        model.coefs_ = model.coefs_
    with pytest.raises(ValueError, match="cannot be set"):
        model.intercepts_[0] = np.zeros(8)
    with pytest.raises(ValueError, match="read-only"):
        model.coefs_[0][:] = 0
