"""An estimator trained with partial_fit k times, saved, loaded and given n more partial_fit calls
ends bit for bit where one given k + n calls ends: every solver, with dropout, batch norm and
shuffling; the optimizer's moments, its step, the rate, the generator and the stopping
bookkeeping all travel in the model file."""

import numpy as np
import pytest

import mlpkit
from mlpkit import MLPClassifier, MLPRegressor

SOLVERS = [
    dict(solver="sgd", momentum=0.0),
    dict(solver="sgd", momentum=0.9, nesterovs_momentum=False),
    dict(solver="sgd", momentum=0.9, nesterovs_momentum=True, learning_rate="invscaling"),
    dict(solver="sgd", learning_rate="adaptive", n_iter_no_change=1, tol=10.0),
    dict(solver="adam"),
    dict(solver="rmsprop", learning_rate="exponential"),
]


def data(regression, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((90, 5))
    y = X @ rng.standard_normal(5) if regression else (X[:, 0] + X[:, 1] > 0).astype(int) + (
        X[:, 2] > 1)
    return X, y


def estimator(cls, solver):
    return cls(hidden_layer_sizes=(7, 6), dropout=0.2, batch_norm=True, batch_size=25,
               shuffle=True, random_state=3, learning_rate_init=0.01, **solver)


def partial_fits(model, X, y, n, classes):
    for _ in range(n):
        if isinstance(model, MLPClassifier):
            model.partial_fit(X, y, classes=classes)
        else:
            model.partial_fit(X, y)
    return model


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
@pytest.mark.parametrize("solver", SOLVERS, ids=lambda s: "-".join(map(str, s.values())))
def test_partial_fit_resumes_bit_for_bit_through_a_model_file(tmp_path, cls, solver):
    X, y = data(cls is MLPRegressor)
    classes = np.unique(y) if cls is MLPClassifier else None
    whole = partial_fits(estimator(cls, solver), X, y, 7, classes)
    part = partial_fits(estimator(cls, solver), X, y, 3, classes)
    loaded = mlpkit.load(mlpkit.save(part, tmp_path / "part.npz"))
    partial_fits(loaded, X, y, 4, classes)
    for a, b in zip(whole.coefs_ + whole.intercepts_, loaded.coefs_ + loaded.intercepts_,
                    strict=True):
        np.testing.assert_array_equal(a, b)
    for key, value in whole.network_.running_stats.items():
        np.testing.assert_array_equal(loaded.network_.running_stats[key], value)
    assert loaded.loss_curve_ == whole.loss_curve_
    assert (loaded.t_, loaded.best_loss_, loaded._no_improvement_count) == (
        whole.t_, whole.best_loss_, whole._no_improvement_count)
    np.testing.assert_array_equal(loaded.predict(X), whole.predict(X))


def test_partial_fit_draws_new_shuffles_and_masks_each_call():
    """The generator is part of the training state, so each call gets the next draws, not the
    first call's again: two calls differ from one call repeated from a copy."""
    X, y = data(False)
    model = estimator(MLPClassifier, dict(solver="adam")).partial_fit(X, y, classes=[0, 1, 2])
    first = model._training.rng.bit_generator.state
    model.partial_fit(X, y)
    assert model._training.rng.bit_generator.state != first
