"""scikit-learn's own estimator checks on MLPClassifier and MLPRegressor: with default
settings, with the engine's extras (dropout + batch norm + SGD; RMSprop with leaky relu,
He init and the notes' sqrt decay), with solver='lbfgs', loss='poisson' and
class_weight='balanced'. The one expected failure is inherent: with dropout, a weight of k is
not k repeated examples (see expected_failures); scikit-learn runs that check on its own MLP
only with solver='lbfgs' (PER_ESTIMATOR_CHECK_PARAMS)."""

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
    MLPClassifier(solver="lbfgs"),
    MLPRegressor(solver="lbfgs"),
    MLPRegressor(loss="poisson"),
    MLPClassifier(class_weight="balanced"),
]


def expected_failures(estimator):
    """Dropout draws one random mask per example, so an example of weight k is not k repeated
    examples (each with its own mask): weights cannot equal repetitions."""
    if estimator.dropout == 0:
        return {}
    reason = "dropout: one random mask per example, so a weight of k is not k repeated examples"
    return {
        "check_sample_weight_equivalence_on_dense_data": reason,
        "check_sample_weight_equivalence_on_sparse_data": reason,
    }


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failures)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
