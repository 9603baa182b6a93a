"""MLPClassifier / MLPRegressor: scikit-learn's semantics on mlpkit's engine."""

import json
import warnings

import numpy as np
import pytest
from scipy.stats import loguniform
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    load_iris,
    make_classification,
    make_multilabel_classification,
    make_regression,
)
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import (
    GridSearchCV,
    RandomizedSearchCV,
    cross_val_score,
    train_test_split,
)
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier
from sklearn.neural_network import MLPRegressor as SklearnMLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

import mlpkit
from mlpkit import MLPClassifier, MLPRegressor, Network
from mlpkit.optim.optimizers import RMSprop
from mlpkit.optim.schedules import ExponentialDecay
from mlpkit.training import ArraySource, Loop

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def blobs():
    X, y = make_classification(
        n_samples=150, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def binary():
    X, y = make_classification(n_samples=120, n_features=5, random_state=1)
    return X, y


@pytest.fixture(scope="module")
def regression():
    X, y = make_regression(n_samples=120, n_features=5, n_targets=2, noise=0.1, random_state=0)
    return X, y / y.std(axis=0)


def small(cls, **params):
    """A quick model: 16 hidden units, 30 epochs at learning rate 0.01."""
    defaults = dict(hidden_layer_sizes=(16,), max_iter=30, learning_rate_init=0.01, random_state=0)
    return cls(**{**defaults, **params})


# ---------------------------------------------------------------------- scikit-learn parity
def same_start(sk_cls, mk_cls, X, y, params):
    """A scikit-learn MLP and an mlpkit one, both warm-startable, holding the same weights."""
    sk = sk_cls(max_iter=1, warm_start=True, **params).fit(X, y)
    mk = mk_cls(max_iter=1, warm_start=True, **params).fit(X, y)
    mk.coefs_, mk.intercepts_ = sk.coefs_, sk.intercepts_
    mk.best_loss_ = sk.best_loss_
    return sk, mk


@pytest.mark.parametrize(
    "solver_params",
    [
        dict(solver="sgd", momentum=0.9, nesterovs_momentum=True),
        dict(solver="sgd", momentum=0.9, nesterovs_momentum=False),
        dict(solver="sgd", momentum=0.0, learning_rate="invscaling"),
        dict(solver="sgd", momentum=0.0, learning_rate="adaptive", tol=0.5, n_iter_no_change=1),
    ],
)
@pytest.mark.parametrize("task", ["multiclass", "binary", "regression"])
def test_sgd_training_equals_sklearn(task, solver_params, blobs, binary, regression):
    """From the same weights, scikit-learn's SGD (momentum, Nesterov, invscaling, adaptive) and
    mlpkit's agree to rounding: momentum, L2 (alpha) and the epoch loss mean the same."""
    if task == "regression":
        X, y = regression[0], regression[1][:, 0]
        classes = (SklearnMLPRegressor, MLPRegressor)
    else:
        X, y = blobs if task == "multiclass" else binary
        classes = (SklearnMLPClassifier, MLPClassifier)
    params = dict(
        hidden_layer_sizes=(7, 5),
        alpha=0.01,
        learning_rate_init=0.02,
        shuffle=False,
        batch_size=32,
        random_state=0,
        **solver_params,
    )
    sk, mk = same_start(*classes, X, y, params)
    sk.set_params(max_iter=12).fit(X, y)
    mk.set_params(max_iter=12).fit(X, y)
    assert mk.n_iter_ == sk.n_iter_ and mk.t_ == sk.t_
    np.testing.assert_allclose(mk.loss_curve_[1:], sk.loss_curve_[1:], rtol=1e-10)
    for ours, theirs in zip(mk.coefs_ + mk.intercepts_, sk.coefs_ + sk.intercepts_, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


def test_adam_tracks_sklearn(blobs):
    """The engine's Adam adds epsilon to sqrt(s_hat) where scikit-learn adds it to sqrt(s):
    the same method, so losses agree closely but not to rounding."""
    X, y = blobs
    params = dict(hidden_layer_sizes=(7,), learning_rate_init=0.01, shuffle=False, random_state=0)
    sk, mk = same_start(SklearnMLPClassifier, MLPClassifier, X, y, params)
    sk.set_params(max_iter=10).fit(X, y)
    mk.set_params(max_iter=10).fit(X, y)
    np.testing.assert_allclose(mk.loss_curve_[1:], sk.loss_curve_[1:], rtol=1e-4)


@pytest.mark.parametrize("loader", [load_breast_cancer, load_digits])
def test_default_accuracy_matches_sklearn(loader):
    """Standardized data, 5 seeds, the same splits: mlpkit's mean test accuracy at default
    settings is within 1 point of scikit-learn's MLPClassifier or better."""
    X, y = loader(return_X_y=True)
    scores = {"sklearn": [], "mlpkit": []}
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for seed in range(5):
            split = train_test_split(X, y, test_size=0.25, random_state=seed, stratify=y)
            X_train, X_test, y_train, y_test = split
            for name, cls in (("sklearn", SklearnMLPClassifier), ("mlpkit", MLPClassifier)):
                model = make_pipeline(StandardScaler(), cls(random_state=seed))
                scores[name].append(model.fit(X_train, y_train).score(X_test, y_test))
    means = {name: float(np.mean(s)) for name, s in scores.items()}
    print(f"{loader.__name__}: mean test accuracy {means}")
    assert means["mlpkit"] >= means["sklearn"] - 0.01


SCRIPT = """
{import_line}
import numpy as np
from sklearn.datasets import load_iris
from sklearn.preprocessing import StandardScaler

X, y = load_iris(return_X_y=True)
X = StandardScaler().fit_transform(X)
clf = MLPClassifier(hidden_layer_sizes=(10, 5), max_iter=1000, random_state=1)
clf.fit(X, y)
proba = clf.predict_proba(X)
result = dict(
    proba_shape=proba.shape,
    proba_sums=np.allclose(proba.sum(axis=1), 1),
    predict_is_argmax=bool(np.all(clf.classes_[proba.argmax(axis=1)] == clf.predict(X))),
    loss_curve_is_list_of_floats=all(isinstance(v, float) for v in clf.loss_curve_),
    loss_decreased=clf.loss_curve_[-1] < clf.loss_curve_[0],
    coef_shapes=[c.shape for c in clf.coefs_],
    intercept_shapes=[b.shape for b in clf.intercepts_],
    classes=clf.classes_.tolist(),
    n_layers=clf.n_layers_,
    n_outputs=clf.n_outputs_,
    out_activation=clf.out_activation_,
    n_iter_matches=clf.n_iter_ == len(clf.loss_curve_),
    t_=clf.t_ == clf.n_iter_ * X.shape[0],
    accurate=clf.score(X, y) > 0.9,
)
"""


def test_sklearn_script_runs_unchanged_but_for_the_import():
    results = []
    for import_line in (
        "from sklearn.neural_network import MLPClassifier",
        "from mlpkit import MLPClassifier",
    ):
        namespace = {}
        exec(SCRIPT.format(import_line=import_line), namespace)
        results.append(namespace["result"])
    assert results[0] == results[1]
    assert results[1]["coef_shapes"] == [(4, 10), (10, 5), (5, 3)]
    assert results[1]["out_activation"] == "softmax"


# ---------------------------------------------------------------------- scikit-learn tools
def test_pipeline_cross_val_and_grid_search(blobs):
    X, y = blobs
    pipe = make_pipeline(StandardScaler(), small(MLPClassifier))
    scores = cross_val_score(pipe, X, y, cv=3)
    # measured 0.68, 0.80, 0.70 (folds of 50: an example is 0.02); 3 examples' margin for
    # another processor's rounding
    assert scores.shape == (3,) and np.all(scores >= 0.62) and scores.mean() >= 0.66
    grid = GridSearchCV(
        pipe, {"mlpclassifier__alpha": [1e-4, 1e-1], "mlpclassifier__dropout": [0.0, 0.2]}, cv=2
    ).fit(X, y)
    assert len(grid.cv_results_["params"]) == 4
    assert grid.best_estimator_.score(X, y) >= 0.74  # measured 0.78 (150 examples)


def test_randomized_search_loguniform_parallel(binary):
    X, y = binary
    search = RandomizedSearchCV(
        small(MLPClassifier),
        {"learning_rate_init": loguniform(1e-4, 1e-1), "alpha": loguniform(1e-6, 1e-1)},
        n_iter=4,
        cv=2,
        n_jobs=2,
        random_state=0,
    ).fit(X, y)
    rates = search.cv_results_["param_learning_rate_init"]
    assert len(set(rates)) == 4 and all(1e-4 <= r <= 1e-1 for r in rates)
    assert isinstance(search.best_estimator_, MLPClassifier)
    assert search.best_estimator_.network_.layer_dims == [5, 16, 1]


# ---------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "params, message",
    [
        (dict(hidden_layer_sizes=(10, 0)), r"hidden_layer_sizes must be > 0, got \(10, 0\)"),
        (dict(hidden_layer_sizes=(-3,)), r"hidden_layer_sizes must be > 0, got \(-3,\)"),
        (dict(dropout=1.0), r"The 'dropout' parameter .* Got 1.0 instead"),
        (dict(dropout=-0.1), r"The 'dropout' parameter .* Got -0.1 instead"),
        # two values for one hidden layer
        (dict(dropout=(0.1, 0.2)), r"dropout must be one number or one per hidden layer \(1\)"),
        (dict(dropout=(0.1, 1.5), hidden_layer_sizes=(4, 4)),
         r"dropout must be in \[0, 1\) .*got \(0.1, 1.5\)"),
        (dict(alpha=-1.0), r"The 'alpha' parameter"),
        (dict(solver="lbfgs", dropout=0.2), r"solver='lbfgs' .*dropout=0.2 makes it random"),
        (dict(solver="newton"), r"The 'solver' parameter"),
        (dict(activation="softmax"), r"The 'activation' parameter .* Got 'softmax'"),
        (dict(activation="swish"), r"The 'activation' parameter .* Got 'swish'"),
        (dict(learning_rate="cosine"), r"The 'learning_rate' parameter"),
        (dict(learning_rate_init=0.0), r"The 'learning_rate_init' parameter"),
        (dict(momentum=1.0), r"The 'momentum' parameter"),
        (dict(init="orthogonal"), r"The 'init' parameter"),
        (dict(batch_size=0), r"The 'batch_size' parameter"),
        (dict(validation_fraction=1.0), r"The 'validation_fraction' parameter"),
    ],
)
@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_bad_parameters_raise_value_error_at_fit(cls, params, message, binary):
    """Each bad value is refused at fit with an error that names the parameter."""
    model = cls(max_iter=2, **params)  # construction never validates, as in scikit-learn
    with pytest.raises(ValueError, match=message):
        model.fit(*binary)


def test_regressor_rejects_losses_it_lacks(regression):
    with pytest.raises(ValueError, match="loss"):
        MLPRegressor(loss="huber").fit(regression[0], regression[1][:, 0])


@pytest.mark.parametrize(
    "cls, methods",
    [
        (MLPClassifier, ["predict", "predict_proba", "predict_log_proba"]),
        (MLPRegressor, ["predict"]),
    ],
)
def test_predict_before_fit_raises_not_fitted(cls, methods, binary):
    model = cls()
    for method in methods:
        with pytest.raises(NotFittedError):
            getattr(model, method)(binary[0])
    with pytest.raises(AttributeError):
        model.coefs_  # noqa: B018


def test_partial_fit_needs_classes_first(binary):
    with pytest.raises(ValueError, match="classes must be passed"):
        MLPClassifier().partial_fit(*binary)


def test_partial_fit_rejects_early_stopping(binary):
    X, y = binary
    with pytest.raises(ValueError, match="early_stopping"):
        MLPClassifier(early_stopping=True).partial_fit(X, y, classes=[0, 1])


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_partial_fit_with_early_stopping_changes_nothing(cls, binary):
    """The check comes before anything is set: an unfitted model stays unfitted, a fitted one
    keeps its weights and its counts."""
    X, y = binary
    extra = dict(classes=[0, 1]) if cls is MLPClassifier else {}
    unfitted = small(cls, early_stopping=True)
    with pytest.raises(ValueError, match="early_stopping"):
        unfitted.partial_fit(X, y, **extra)
    with pytest.raises(NotFittedError):
        check_is_fitted(unfitted)
    fitted = small(cls).fit(X, y)
    coefs, n_iter, t = [c.copy() for c in fitted.coefs_], fitted.n_iter_, fitted.t_
    with pytest.raises(ValueError, match="early_stopping"):
        fitted.set_params(early_stopping=True).partial_fit(X, y)
    assert (fitted.n_iter_, fitted.t_) == (n_iter, t)
    for before, after in zip(coefs, fitted.coefs_, strict=True):
        np.testing.assert_array_equal(before, after)


def test_warm_start_keeps_classes_and_architecture(binary):
    X, y = binary
    model = small(MLPClassifier, warm_start=True).fit(X, y)
    with pytest.raises(ValueError, match="same classes"):
        model.fit(X, y + 1)
    with pytest.raises(ValueError, match="architecture"):
        model.set_params(hidden_layer_sizes=(8,)).fit(X, y)


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_partial_fit_checks_early_stopping_once(cls, binary, monkeypatch):
    calls = []
    check = cls._check_partial_fit
    monkeypatch.setattr(cls, "_check_partial_fit", lambda self: calls.append(1) or check(self))
    extra = dict(classes=[0, 1]) if cls is MLPClassifier else {}
    small(cls).partial_fit(*binary, **extra)
    assert len(calls) == 1


def test_warm_start_and_partial_fit_refuse_a_changed_activation_or_loss(binary):
    """They continue the fitted network with its activations: a changed activation (or the
    regressor's loss) is an error naming the parameter, not silently ignored."""
    X, y = binary
    model = small(MLPRegressor, warm_start=True, max_iter=2).fit(X, y)
    with pytest.raises(ValueError, match="activation='tanh'.*use 'relu'"):
        model.set_params(activation="tanh").fit(X, y)
    with pytest.raises(ValueError, match="loss='poisson'.*loss='squared_error'"):
        model.set_params(activation="relu", loss="poisson").fit(X, y + 1)
    with pytest.raises(ValueError, match="loss='poisson'"):
        model.partial_fit(X, y + 1)
    assert model.network_.output_activation == "linear" and model.n_iter_ == 2
    model.set_params(warm_start=False).fit(X, y + 1)  # a new fit takes the new loss
    assert model.out_activation_ == "exp"
    classifier = small(MLPClassifier).partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="activation='logistic'"):
        classifier.set_params(activation="logistic").partial_fit(X, y)


@pytest.mark.parametrize(
    "sizes, message",
    [((10, 0), "hidden_layer_sizes must be > 0"), ((-3,), "hidden_layer_sizes must be > 0"),
     ((2.5,), "hidden_layer_sizes must be integers >= 1"),
     (("a",), "hidden_layer_sizes must be integers >= 1")],
)
def test_hidden_layer_sizes_errors_say_what_is_wrong(sizes, message, binary):
    with pytest.raises(ValueError, match=message):
        MLPClassifier(hidden_layer_sizes=sizes, max_iter=1).fit(*binary)


# ---------------------------------------------------------------------- the thin adapter
def test_fit_is_the_engine_driven_epoch_by_epoch(binary):
    """One epoch of MLPClassifier(solver='rmsprop') is the engine's Loop running RMSprop on a
    Network over X.T, with the seeds drawn from random_state (init='glorot'; the default,
    scikit-learn's draw, is tested in test_sklearn_init_draws_sklearns_weights)."""
    X, y = binary
    rs = np.random.RandomState(3)
    net = Network([5, 8, 1], "relu", "sigmoid", init="glorot", seed=rs.randint(2**31 - 1))
    model = MLPClassifier(
        hidden_layer_sizes=(8,), solver="rmsprop", alpha=0.01, batch_size=50, max_iter=1,
        random_state=3, init="glorot",
    ).fit(X, y)
    loop = Loop(net, optimizer=RMSprop(0.999, 1e-8), learning_rate=0.001, batch_size=50,
                l2=0.01)
    state = loop.new_state(rs.randint(2**31 - 1))
    history = loop.run(ArraySource(X.T, y.reshape(1, -1).astype(float)), 1, state)
    assert model.loss_curve_ == history.costs
    for key, value in net.parameters.items():
        np.testing.assert_array_equal(model.network_.parameters[key], value)


def test_coefs_and_intercepts_are_views_of_the_network(binary):
    X, y = binary
    model = small(MLPClassifier, hidden_layer_sizes=(6, 4)).fit(X, y)
    P = model.network_.parameters
    assert [c.shape for c in model.coefs_] == [(5, 6), (6, 4), (4, 1)]
    assert [b.shape for b in model.intercepts_] == [(6,), (4,), (1,)]
    for l, (W, b) in enumerate(zip(model.coefs_, model.intercepts_, strict=True), start=1):
        assert np.shares_memory(W, P[f"W{l}"]) and np.shares_memory(b, P[f"b{l}"])
    before = model.predict_proba(X)
    model.coefs_[-1][:] = 0
    model.intercepts_[-1][:] = 0
    np.testing.assert_allclose(model.predict_proba(X), 0.5)
    model.coefs_ = [np.ones_like(c) for c in model.coefs_]
    np.testing.assert_array_equal(model.network_.parameters["W1"], 1)
    assert not np.allclose(model.predict_proba(X), before)


def test_float32_trains_in_float32(binary):
    X, y = binary
    model = small(MLPClassifier).fit(X.astype(np.float32), y)
    assert model.network_.dtype == np.float32
    assert all(c.dtype == np.float32 for c in model.coefs_ + model.intercepts_)
    assert model.predict_proba(X.astype(np.float32)).dtype == np.float32
    assert small(MLPClassifier).fit(X, y).network_.dtype == np.float64


def binary_proba_by_hand(model, X):
    """scikit-learn's forward pass written out over coefs_ / intercepts_: relu hidden layers,
    then p = sigma(A W + b); predict_proba is [1 - p, p]. No unit dropped, no scaling."""
    A = X
    for W, b in zip(model.coefs_[:-1], model.intercepts_[:-1], strict=True):
        A = np.maximum(0, A @ W + b)
    p = 1 / (1 + np.exp(-(A @ model.coefs_[-1] + model.intercepts_[-1])))
    return np.column_stack([1 - p[:, 0], p[:, 0]])


def test_dropout_changes_training_not_prediction(binary):
    X, y = binary
    plain = small(MLPClassifier).fit(X, y)
    dropped = small(MLPClassifier, dropout=0.5).fit(X, y)
    assert plain.loss_curve_[0] != dropped.loss_curve_[0]
    assert not np.allclose(plain.coefs_[0], dropped.coefs_[0])
    np.testing.assert_allclose(dropped.predict_proba(X), binary_proba_by_hand(dropped, X),
                               rtol=1e-12, atol=1e-15)
    per_layer = small(MLPClassifier, hidden_layer_sizes=(8, 8), dropout=(0.0, 0.5)).fit(X, y)
    assert per_layer._keep_prob(2) == [1.0, 0.5]
    np.testing.assert_allclose(per_layer.predict_proba(X), binary_proba_by_hand(per_layer, X),
                               rtol=1e-12, atol=1e-15)


def test_batch_norm_adds_gamma_beta_and_running_stats(binary):
    X, y = binary
    model = small(MLPClassifier, hidden_layer_sizes=(6, 4), batch_norm=True).fit(X, y)
    keys = set(model.network_.parameters)
    assert {"gamma1", "beta1", "gamma2", "beta2", "b3"} <= keys and "b1" not in keys
    assert set(model.network_.running_stats) == {"mean1", "var1", "mean2", "var2"}
    assert not np.allclose(model.network_.running_stats["mean1"], 0)
    assert model.score(X, y) >= 0.85  # measured 0.883 (120 examples)


def test_solvers_and_schedules_take_effect(binary):
    X, y = binary
    fits = {
        name: small(MLPClassifier, **params).fit(X, y).coefs_[0]
        for name, params in {
            "adam": {},
            "rmsprop": dict(solver="rmsprop"),
            "exponential": dict(learning_rate="exponential"),
            "exponential_callable": dict(learning_rate=ExponentialDecay()),
        }.items()
    }
    assert not np.allclose(fits["adam"], fits["rmsprop"])
    assert not np.allclose(fits["adam"], fits["exponential"])
    np.testing.assert_array_equal(fits["exponential"], fits["exponential_callable"])


def test_callable_schedule_sees_epochs_and_initial_rate(binary):
    calls = []

    def schedule(epoch, learning_rate0):
        calls.append((epoch, learning_rate0))
        return learning_rate0

    small(MLPClassifier, max_iter=4, tol=0, learning_rate=schedule,
          learning_rate_init=0.003).fit(*binary)
    assert calls == [(0, 0.003), (1, 0.003), (2, 0.003), (3, 0.003)]


def test_adam_ignores_sklearn_rate_schedules_like_sklearn(binary):
    X, y = binary
    constant = small(MLPClassifier).fit(X, y)
    invscaling = small(MLPClassifier, learning_rate="invscaling").fit(X, y)
    np.testing.assert_array_equal(constant.coefs_[0], invscaling.coefs_[0])


# ---------------------------------------------------------------------- targets
def test_binary_multiclass_multilabel_and_string_labels(blobs, binary):
    X, y = binary
    labels = np.array(["cat", "dog"])[y]
    model = small(MLPClassifier).fit(X, labels)
    assert model.out_activation_ == "logistic" and model.n_outputs_ == 1
    assert model.classes_.tolist() == ["cat", "dog"]
    assert set(model.predict(X)) <= {"cat", "dog"}
    assert model.predict_proba(X).shape == (len(X), 2)
    np.testing.assert_allclose(model.predict_log_proba(X), np.log(model.predict_proba(X)))

    Xm, ym = blobs
    model = small(MLPClassifier).fit(Xm, ym)
    assert model.out_activation_ == "softmax" and model.predict_proba(Xm).shape == (150, 3)
    assert model.network_.output_activation == "softmax"

    Y = np.column_stack([y, 1 - y, (X[:, 0] > 0).astype(int)])
    model = small(MLPClassifier, max_iter=100).fit(X, Y)
    assert model.out_activation_ == "logistic" and model.n_outputs_ == 3
    assert model.predict(X).shape == (len(X), 3) and model.predict_proba(X).shape == (len(X), 3)
    assert model.score(X, Y) >= 0.82  # measured 0.858 (all 3 labels right, 120 examples)


def test_regressor_single_and_multi_output(regression):
    X, Y = regression
    model = small(MLPRegressor, max_iter=200).fit(X, Y)
    assert model.out_activation_ == "identity" and model.predict(X).shape == (120, 2)
    assert model.score(X, Y) > 0.98  # R^2 measured 0.994
    single = small(MLPRegressor).fit(X, Y[:, 0])
    assert single.predict(X).shape == (120,) and single.n_outputs_ == 1


def test_no_hidden_layer_is_a_linear_model(binary):
    model = small(MLPClassifier, hidden_layer_sizes=()).fit(*binary)
    assert model.n_layers_ == 2 and [c.shape for c in model.coefs_] == [(5, 1)]


# ---------------------------------------------------------------------- training semantics
def test_convergence_stopping_and_warning(binary):
    X, y = binary
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        small(MLPClassifier, max_iter=3).fit(X, y)
    model = small(MLPClassifier, max_iter=500, tol=0.5, n_iter_no_change=2).fit(X, y)
    # the first epoch sets best_loss_; then n_iter_no_change + 1 epochs fail to beat it by tol
    assert model.n_iter_ == 4
    assert model.best_loss_ == min(model.loss_curve_)
    assert model.validation_scores_ is None and model.best_validation_score_ is None


def test_early_stopping_restores_the_best_epoch(blobs):
    X, y = blobs
    model = MLPClassifier(
        hidden_layer_sizes=(32,), early_stopping=True, validation_fraction=0.2,
        n_iter_no_change=3, learning_rate_init=0.05, max_iter=300, random_state=0,
    ).fit(X, y)
    assert model.n_iter_ < 300 and model.best_loss_ is None
    assert len(model.validation_scores_) == model.n_iter_
    assert model.best_validation_score_ == max(model.validation_scores_)
    # the split the estimator made: random_state drew the initial weights (scikit-learn's
    # draw: coefs then intercepts, layer by layer), then split
    rs = np.random.RandomState(0)
    for n_in, n_out in ((6, 32), (32, 3)):
        rs.uniform(size=(n_in, n_out)), rs.uniform(size=n_out)
    _, X_val, _, y_val = train_test_split(X, y, test_size=0.2, random_state=rs, stratify=y)
    assert model.score(X_val, y_val) == model.best_validation_score_


def test_warm_start_switches_early_stopping_on_and_off(blobs):
    X, y = blobs
    model = small(MLPClassifier, warm_start=True, max_iter=5, tol=0).fit(X, y)
    assert model.validation_scores_ is None and np.isfinite(model.best_loss_)
    model.set_params(early_stopping=True).fit(X, y)
    assert model.best_loss_ is None and len(model.validation_scores_) == model.n_iter_
    assert model.best_validation_score_ == max(model.validation_scores_)
    model.set_params(early_stopping=False).fit(X, y)
    assert model.best_loss_ == min(model.loss_curve_[-model.n_iter_:])


def test_ctrl_c_keeps_the_epochs_done_and_restores_the_best_one(blobs):
    """As scikit-learn: Ctrl-C during fit warns and keeps what was trained (here up to the last
    completed epoch), and early stopping puts the best epoch's parameters back."""
    X, y = blobs

    def rate(epoch, learning_rate_init):
        if epoch == 8:
            raise KeyboardInterrupt
        return learning_rate_init

    params = dict(hidden_layer_sizes=(16,), early_stopping=True, n_iter_no_change=50,
                  learning_rate_init=0.2, random_state=0)
    with pytest.warns(UserWarning, match="Training interrupted by user"):
        model = MLPClassifier(learning_rate=rate, max_iter=100, **params).fit(X, y)
    reference = MLPClassifier(learning_rate=lambda epoch, lr: lr, max_iter=8, **params)
    reference.fit(X, y)  # the same 8 epochs, uninterrupted: the best of them is restored
    assert model.n_iter_ == 8 and model.loss_curve_ == reference.loss_curve_
    assert model.validation_scores_ == reference.validation_scores_
    assert np.argmax(model.validation_scores_) < 7  # the best epoch is not the last one
    for got, expected in zip(model.coefs_ + model.intercepts_,
                             reference.coefs_ + reference.intercepts_, strict=True):
        np.testing.assert_array_equal(got, expected)
    model.set_params(warm_start=True, learning_rate="constant", max_iter=2).fit(X, y)
    assert len(model.loss_curve_) == 10  # a warm start goes on from the last epoch


def test_batch_size_larger_than_the_data_is_clipped(binary):
    X, y = binary
    with pytest.warns(UserWarning, match="clipped"):
        clipped = small(MLPClassifier, batch_size=len(X) + 1, max_iter=3).fit(X, y)
    full = small(MLPClassifier, batch_size=len(X), max_iter=3).fit(X, y)
    assert clipped.loss_curve_ == full.loss_curve_


def test_adaptive_divides_the_rate_by_five_then_stops(binary, capsys):
    model = small(
        MLPClassifier, solver="sgd", learning_rate="adaptive", tol=10.0, n_iter_no_change=1,
        max_iter=100, verbose=True,
    ).fit(*binary)
    out = capsys.readouterr().out
    assert "Iteration 1, loss = " in out
    assert out.count("Setting learning rate to") == 6  # 0.01 / 5^6 <= 1e-6 < 0.01 / 5^5
    assert "Learning rate too small. Stopping." in out
    assert model.n_iter_ < 100


def test_partial_fit_keeps_the_optimizer_state(binary):
    """Two partial_fit calls on the full batch are exactly two epochs of one fit: Adam's
    moments and step count carry over."""
    X, y = binary
    params = dict(hidden_layer_sizes=(8,), batch_size=len(X), shuffle=False, random_state=0)
    fitted = MLPClassifier(max_iter=2, tol=0, **params).fit(X, y)
    partial = MLPClassifier(**params)
    partial.partial_fit(X, y, classes=[0, 1]).partial_fit(X, y)
    assert partial.n_iter_ == 1 and partial.t_ == 2 * len(X)
    assert partial.loss_curve_ == fitted.loss_curve_
    np.testing.assert_array_equal(partial.coefs_[0], fitted.coefs_[0])
    assert partial.classes_.tolist() == [0, 1]


def test_warm_start_continues_training(binary):
    X, y = binary
    model = small(MLPClassifier, warm_start=True, max_iter=5, tol=0)
    first = model.fit(X, y).coefs_[0].copy()
    model.fit(X, y)
    assert len(model.loss_curve_) == 10 and model.t_ == 10 * len(X) and model.n_iter_ == 5
    assert model.loss_curve_[5] < model.loss_curve_[0]
    cold = small(MLPClassifier, max_iter=5, tol=0).fit(X, y)
    np.testing.assert_array_equal(cold.coefs_[0], first)
    assert not np.array_equal(model.coefs_[0], first)


# ---------------------------------------------------------------------- persistence
@pytest.mark.parametrize(
    "cls, params, target",
    [
        (MLPClassifier, dict(batch_norm=True, hidden_layer_sizes=(6, 4)), "strings"),
        (MLPClassifier, dict(dropout=0.2, early_stopping=True), "multiclass"),
        (MLPClassifier, dict(activation="tanh"), "multilabel"),
        (MLPRegressor, dict(solver="rmsprop", learning_rate="staircase"), "regression"),
        (MLPRegressor, dict(), "float32"),
    ],
)
def test_state_round_trip_gives_identical_predictions(cls, params, target, blobs, regression):
    X, y = blobs
    if target == "strings":
        y = np.array(["a", "b", "c"])[y]
    elif target == "multilabel":
        y = np.eye(3, dtype=int)[y] | (X[:, :3] > 0)
    elif target in ("regression", "float32"):
        X, y = regression
        X = X.astype(np.float32) if target == "float32" else X
    model = small(cls, **params).fit(X, y)
    meta, arrays = model._to_state()
    meta = json.loads(json.dumps(meta))  # must be plain JSON
    assert all(isinstance(a, np.ndarray) for a in arrays.values())
    loaded = cls._from_state(meta, arrays)
    assert loaded.get_params() == model.get_params()
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    if cls is MLPClassifier:
        np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
        assert loaded.classes_.dtype == model.classes_.dtype
        np.testing.assert_array_equal(loaded.classes_, model.classes_)
    for name in ("loss_curve_", "n_iter_", "t_", "n_layers_", "out_activation_",
                 "validation_scores_", "best_validation_score_", "n_features_in_"):
        assert getattr(loaded, name) == getattr(model, name)
    assert loaded.network_.dtype == model.network_.dtype
    loaded.set_params(early_stopping=False).partial_fit(X, y)  # a loaded model trains on
    assert loaded.n_iter_ == 1


def test_loaded_model_warm_starts_with_early_stopping(tmp_path):
    """A loaded model has no early-stopping snapshot of its own: a warm-started fit takes the
    network it starts from as the best so far and continues validation_scores_."""
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    model = small(MLPClassifier, early_stopping=True, validation_fraction=0.2).fit(X, y)
    loaded = mlpkit.load(mlpkit.save(model, tmp_path / "iris.npz"))
    scores = list(loaded.validation_scores_)
    loaded.set_params(warm_start=True, max_iter=10).fit(X, y)
    assert loaded.validation_scores_[: len(scores)] == scores
    assert len(loaded.validation_scores_) == len(scores) + loaded.n_iter_
    assert loaded.best_validation_score_ == max(loaded.validation_scores_)
    assert loaded.best_loss_ is None and loaded.score(X, y) >= 0.77  # measured 0.807


def test_non_finite_parameters_and_nested_dicts_survive_save_and_load(tmp_path):
    """n_iter_no_change=np.inf (scikit-learn allows it) and a multilabel class_weight (a list
    of dicts) are saved as data and come back; the loaded model refits."""
    X, Y = make_multilabel_classification(n_samples=60, n_classes=3, random_state=0)
    model = small(MLPClassifier, max_iter=3, n_iter_no_change=np.inf,
                  class_weight=[{0: 1, 1: 2}] * 3).fit(X, Y)
    loaded = mlpkit.load(mlpkit.save(model, tmp_path / "multilabel.npz"))
    assert loaded.get_params() == model.get_params()
    assert loaded.n_iter_no_change == np.inf and loaded.class_weight[2] == {0: 1, 1: 2}
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    loaded.fit(X, Y)
    assert loaded.n_iter_ == 3


def test_from_state_checks_the_class(binary):
    meta, arrays = small(MLPClassifier).fit(*binary)._to_state()
    with pytest.raises(ValueError, match="MLPClassifier"):
        MLPRegressor._from_state(meta, arrays)


def test_exported_from_the_package():
    assert mlpkit.MLPClassifier is MLPClassifier and mlpkit.MLPRegressor is MLPRegressor
