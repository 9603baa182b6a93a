"""scikit-learn's own estimator checks on MLPClassifier and MLPRegressor: with default
settings and with the engine's extras (dropout + batch norm + SGD; RMSprop with leaky relu,
He init and the notes' sqrt decay), with no expected failures."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from mlpkit import MLPClassifier, MLPRegressor

EXTRAS = [
    dict(hidden_layer_sizes=(32, 16), solver="sgd", dropout=0.1, batch_norm=True),
    dict(
        solver="rmsprop",
        activation="leaky_relu",
        init="he",
        learning_rate="sqrt",
        learning_rate_init=0.01,
    ),
]

ESTIMATORS = [
    MLPClassifier(),
    MLPRegressor(),
    *(MLPClassifier(**params) for params in EXTRAS),
    *(MLPRegressor(**params) for params in EXTRAS),
]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(ESTIMATORS, expected_failed_checks=lambda estimator: {})
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
