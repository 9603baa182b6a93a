"""The loop with a source other than ArraySource: its batch iterator is closed at the end of each
epoch (and on errors), the epoch's cost is the mean over the examples it gave, and validation
data may be a source, accumulated over its batches."""

import numpy as np
import pytest

from mlpkit import Network
from mlpkit.training import ArraySource, Batch, SourceValidation


class ToySource:
    """An in-memory source that may leave out some examples (as a streaming source skips an
    unreadable file) and records whether its batch iterators were closed."""

    def __init__(self, X, Y, skip=()):
        self.inner = ArraySource(X, Y)
        self.n_examples, self.n_features, self.dtype = X.shape[1], X.shape[0], X.dtype
        self.skip = set(skip)
        self.opened = self.closed = 0

    def full_batch(self):
        return self.inner.full_batch()

    def batches(self, order, batch_size):
        self.opened += 1
        kept = np.array([i for i in order if i not in self.skip], dtype=np.int64)
        try:
            for batch in self.inner.batches(kept, batch_size):
                yield Batch(batch.X.copy(), batch.Y)
        finally:
            self.closed += 1


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 40))
    return X, (X.sum(axis=0, keepdims=True) > 0).astype(float)


def test_every_epoch_closes_the_batches_it_opened(data):
    X, Y = data
    source = ToySource(X, Y)
    Network([3, 2, 1], seed=0).fit(source, epochs=3, batch_size=8)
    assert source.opened == source.closed == 3

    class FailingStep(ToySource):
        def batches(self, order, batch_size):
            for k, batch in enumerate(super().batches(order, batch_size)):
                if k == 2:
                    raise OSError("disk gone")
                yield batch

    failing = FailingStep(X, Y)
    with pytest.raises(OSError, match="disk gone"):
        Network([3, 2, 1], seed=0).fit(failing, epochs=3, batch_size=8)
    assert failing.opened == failing.closed == 1


def test_the_epoch_cost_is_the_mean_over_the_examples_given(data):
    X, Y = data
    skipped = [3, 17, 30]
    kept = np.setdiff1d(np.arange(40), skipped)
    source = ToySource(X, Y, skip=skipped)
    net = Network([3, 2, 1], seed=0)
    history = net.fit(source, epochs=2, batch_size=7, shuffle=False, learning_rate=0.1)
    memory = Network([3, 2, 1], seed=0)
    expected = memory.fit(X[:, kept], Y[:, kept], epochs=2, batch_size=7, shuffle=False,
                          learning_rate=0.1)
    np.testing.assert_allclose(history.costs, expected.costs, rtol=1e-12)
    assert net.training_state.samples_seen == 2 * kept.size


def test_validation_data_may_be_a_source(data):
    X, Y = data
    Xv, Yv = X[:, :15] * 0.5, Y[:, :15]
    net = Network([3, 4, 1], seed=0)
    history = net.fit(X, Y, epochs=4, batch_size=8, seed=0, validation_data=(Xv, Yv))
    streamed = Network([3, 4, 1], seed=0)
    streamed_history = streamed.fit(X, Y, epochs=4, batch_size=8, seed=0,
                                    validation_data=ToySource(Xv, Yv))
    np.testing.assert_allclose(streamed_history.val_costs, history.val_costs, rtol=1e-12)
    assert streamed_history.val_scores == history.val_scores
    values = SourceValidation(ToySource(Xv, Yv), batch_size=4)(net)
    assert values["val_cost"] == pytest.approx(net.evaluate(Xv, Yv)[0], rel=1e-12)
    assert values["val_score"] == net.evaluate(Xv, Yv)[1]


def test_streamed_scores_for_softmax_multilabel_and_linear_outputs():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((4, 50))
    cases = [
        (Network([4, 3], output_activation="softmax", seed=0), np.eye(3)[rng.integers(0, 3, 50)].T),
        (Network([4, 2], output_activation="sigmoid", seed=0),
         (rng.random((2, 50)) > 0.5).astype(float)),
        (Network([4, 2], output_activation="linear", seed=0),
         np.vstack([X.sum(axis=0), np.full(50, 3.0)])),
    ]
    for net, Y in cases:
        values = SourceValidation(ToySource(X, Y), batch_size=7)(net)
        cost, score = net.evaluate(X, Y)
        assert values["val_cost"] == pytest.approx(cost, rel=1e-12)
        # the same function (score_outputs) on outputs computed batch by batch: accuracy
        # exactly; R^2 to rounding (BLAS sums a batch's products in another order)
        if net.output_activation == "linear":
            assert values["val_score"] == pytest.approx(score, rel=1e-13)
        else:
            assert values["val_score"] == score
