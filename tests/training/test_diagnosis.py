"""The bias/variance diagnosis: the lecture's cases, the dev set's noise, the recipe and its
commands, bad inputs, JSON, and Diagnosis.of on every kind of model."""

import dataclasses
import json
import math
import shlex
import subprocess
import sys

import numpy as np
import pytest

from mlpkit import Diagnosis, MLPClassifier, MLPRegressor, Network, diagnose
from mlpkit.training import ArraySource
from mlpkit.training.diagnosis import VERDICTS


@pytest.mark.parametrize(("train", "dev", "human", "verdict"), [
    (0.01, 0.11, 0.0, "high variance"),
    (0.15, 0.16, 0.0, "high bias"),
    (0.15, 0.30, 0.0, "high bias and high variance"),
    (0.005, 0.01, 0.0, "neither"),
    (0.15, 0.16, 0.15, "neither"),
])
def test_the_lectures_cases(train, dev, human, verdict):
    d = diagnose(train, dev, human_error=human)
    assert d.verdict == verdict
    assert d.avoidable_bias == pytest.approx(train - human)
    assert d.variance == pytest.approx(dev - train)
    assert d.dev_overfit is None
    assert f"verdict: {verdict}" in str(d)
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.train_error = 0.0


def test_the_gaps_and_the_report_in_percent():
    d = diagnose(0.15, 0.30, test_error=0.36)
    assert d.dev_overfit == pytest.approx(0.06)
    report = str(d)
    for text in ("15.0%", "30.0%", "36.0%", "avoidable bias (train - human): 15.0 points  high",
                 "variance (dev - train): 15.0 points  high",
                 "dev overfit (test - dev): 6.0 points  high"):
        assert text in report


def test_a_gap_equal_to_the_tolerance_is_not_high_whatever_the_rounding():
    assert 0.05 - 0.03 > 0.02  # rounding alone would make this gap high
    assert diagnose(0.03, 0.05, human_error=0.02).verdict == "neither"
    assert diagnose(0.03, 0.0501, human_error=0.02).verdict == "high variance"
    assert diagnose(0.03, 0.05, human_error=0.03, tolerance=0.0).verdict == "high variance"


def test_a_small_dev_set_cannot_tell_two_points_apart():
    """With 50 dev examples at 11% dev error, two standard errors are 8.8 points: a 4-point
    variance gap is noise there, and high with 10000 examples."""
    small = diagnose(0.07, 0.11, human_error=0.06, n_dev=50)
    assert small.noise == pytest.approx(2 * math.sqrt(0.11 * 0.89 / 50))
    assert small.threshold == small.noise
    assert small.verdict == "neither"
    assert small.undecided() == [("variance", pytest.approx(0.04))]
    assert ("the dev set is too small to tell: on 50 examples, the variance of 4.0 points cannot "
            "be told from noise (two standard errors: 8.8 points)") in str(small)
    assert "a gap is high above 8.8 points (two standard errors of the dev error on 50 " in str(
        small)
    assert small.suggestions[-1].remedy.startswith("a bigger dev set")
    large = diagnose(0.07, 0.11, human_error=0.06, n_dev=10_000)
    assert large.threshold == 0.02
    assert large.verdict == "high variance"
    assert "too small" not in str(large)
    assert "a gap is high above 2.0 points (the tolerance; two standard errors" in str(large)
    # every gap decided: nothing is undecided, though the threshold is the noise
    clear = diagnose(0.01, 0.30, n_dev=50)
    assert clear.undecided() == [] and "too small to tell" not in str(clear)
    assert "a dev set this small cannot tell smaller gaps from noise" in str(clear)
    # without n_dev only the tolerance counts
    assert diagnose(0.07, 0.11, human_error=0.06).verdict == "high variance"


def test_a_gap_beyond_the_noise_is_high_and_noise_never_lowers_the_threshold():
    assert diagnose(0.01, 0.30, n_dev=50).verdict == "high variance"  # 29 points > 13
    assert diagnose(0.0, 0.0, n_dev=50).threshold == 0.02  # p = 0: no noise, the tolerance


def test_below_human_level_keeps_its_negative_bias():
    d = diagnose(0.10, 0.11, human_error=0.12)
    assert d.avoidable_bias == pytest.approx(-0.02)
    assert d.verdict == "neither"
    assert "below human level" in str(d)
    assert d.to_dict()["avoidable_bias"] == pytest.approx(-0.02)
    assert "below human level" not in str(diagnose(0.12, 0.13, human_error=0.12))


def test_a_class_balance_that_differs_is_told_apart_from_overfitting():
    """The cat files: 34.4% cats in train, 66% in test; an untrained network predicting
    non-cat everywhere errs 34.4% and 66%."""
    d = diagnose(0.344, 0.66, n_dev=50, baseline=(0.344, 0.66))
    assert d.verdict == "high bias and high variance"
    assert d.learned_nothing
    report = str(d)
    assert "always the training set's most frequent class: 34.4% on train, 66.0% on dev" in report
    assert "the classes are balanced differently" in report
    assert "no better than always predicting the most frequent class (34.4%)" in report
    # barely trained: training longer first
    assert [s.setting for s in d.suggestions[:2]] == ["--epochs", "--hidden"]
    trained = diagnose(0.01, 0.30, n_dev=50, baseline=(0.344, 0.66))
    assert not trained.learned_nothing
    assert "the classes are balanced differently" in str(trained)
    assert "no better than" not in str(trained)
    same_balance = diagnose(0.01, 0.30, n_dev=50, baseline=(0.344, 0.36))
    assert "balanced differently" not in str(same_balance)
    assert diagnose(0.15, 0.16).suggestions[0].setting == "--hidden"
    record = d.to_dict()
    assert record["baseline"] == {"train": 0.344, "dev": 0.66}
    assert Diagnosis.from_dict(json.loads(json.dumps(record))) == d


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"train_error": 1.5}, r"train_error must be an error rate in \[0, 1\]"),
    ({"dev_error": 11}, r"dev_error must be an error rate .*for 11%, give 0.11"),
    ({"human_error": -0.01}, "human_error must be an error rate"),
    ({"test_error": 2.0}, "test_error must be an error rate"),
    ({"train_error": float("nan")}, "train_error must be a finite number"),
    ({"dev_error": "0.1"}, "dev_error must be a finite number; got '0.1'"),
    ({"train_error": True}, "train_error must be a finite number; got True"),
    ({"tolerance": -0.01}, r"tolerance must be a fraction in \[0, 1\)"),
    ({"tolerance": 1.0}, r"tolerance must be a fraction in \[0, 1\)"),
    ({"tolerance": float("inf")}, "tolerance must be"),
    ({"tolerance": None}, "tolerance must be"),
    ({"n_dev": 0}, "n_dev must be the number of dev examples, an integer >= 1; got 0"),
    ({"n_dev": 50.0}, "n_dev must be the number of dev examples"),
    ({"n_dev": True}, "n_dev must be the number of dev examples"),
    ({"metric": "mean squared error", "n_dev": 50}, "a mean squared error is not a rate"),
    ({"metric": "mean squared error", "train_error": -1.0}, "train_error must be >= 0"),
    ({"metric": "mean squared error", "tolerance": -1.0}, "in the metric's units"),
    ({"baseline": (0.3,)}, r"baseline must be a pair \(train, dev\) of error rates"),
    ({"baseline": (0.3, 1.2)}, r"baseline dev must be an error rate in \[0, 1\]"),
    ({"metric": "mean squared error", "baseline": (0.3, 0.2)}, "has none"),
])
def test_bad_inputs_are_clear_errors(kwargs, message):
    args = {"train_error": 0.1, "dev_error": 0.2, **kwargs}
    with pytest.raises(ValueError, match=message):
        diagnose(args.pop("train_error"), args.pop("dev_error"), **args)


def test_a_metric_that_is_not_a_rate_skips_the_range_and_prints_its_units():
    d = diagnose(12.0, 30.0, human_error=10.0, tolerance=5.0, metric="mean squared error")
    assert d.verdict == "high variance"  # bias 2 < 5 < variance 18
    assert d.noise is None
    report = str(d)
    assert "(mean squared error)" in report and "%" not in report
    assert "variance (dev - train): 18" in report
    with pytest.raises(TypeError, match="metric must be a name"):
        diagnose(0.1, 0.2, metric="")


def test_to_dict_is_json_and_round_trips():
    d = diagnose(0.15, 0.30, human_error=0.01, test_error=0.31, n_dev=1000)
    record = d.to_dict()
    assert {"verdict", "train_error", "dev_error", "human_error", "test_error",
            "avoidable_bias", "variance", "dev_overfit", "suggestions"} <= set(record)
    text = json.dumps(record, allow_nan=False)
    assert json.loads(text) == record
    assert record["verdict"] == "high bias and high variance"
    assert all(set(s) == {"remedy", "setting", "value", "command"}
               for s in record["suggestions"])
    assert Diagnosis.from_dict(json.loads(text)) == d
    no_test = diagnose(0.1, 0.1).to_dict()
    assert no_test["test_error"] is None and no_test["dev_overfit"] is None
    json.dumps(no_test, allow_nan=False)
    with pytest.raises(ValueError, match="not a diagnosis record"):
        Diagnosis.from_dict({"verdict": "neither"})


def test_the_recipe_follows_the_verdict_most_promising_first():
    def settings(d):
        return [s.setting for s in d.suggestions]

    assert settings(diagnose(0.15, 0.16)) == [
        "--hidden", "--epochs", "--optimizer", "--batch-norm", "--init"]
    assert settings(diagnose(0.01, 0.11)) == [
        "--l2", "--dropout", "--augment", "--patience", None]
    assert diagnose(0.01, 0.11).suggestions[-1].remedy.startswith("collect more")
    both = settings(diagnose(0.15, 0.30))
    assert both.index("--hidden") < both.index("--l2")  # bias first, as the course fixes it
    assert diagnose(0.005, 0.01).suggestions == ()
    assert "suggestions: none" in str(diagnose(0.005, 0.01))
    overfit = diagnose(0.005, 0.01, test_error=0.05).suggestions
    assert [s.setting for s in overfit] == [None]
    assert overfit[0].remedy.startswith("a bigger dev set")
    assert VERDICTS == ("high bias", "high variance", "high bias and high variance", "neither")


RUN = {"hidden": [20, 7, 5], "epochs": 1000, "optimizer": "gd", "l2": 0.0, "dropout": 0.0,
       "batch_norm": False}
ARGV = ["train", "train cat.h5", "--dev", "test_catvnoncat.h5", "--seed", "0"]


def test_with_run_derives_each_value_from_the_run_and_builds_its_command():
    d = diagnose(0.15, 0.30).with_run(RUN, ARGV)
    by_setting = {s.setting: s for s in d.suggestions}
    assert by_setting["--hidden"].value == "40,14,10"
    assert by_setting["--epochs"].value == "2000"
    assert by_setting["--optimizer"].value == "adam"
    assert by_setting["--l2"].value == "0.1"
    assert by_setting["--dropout"].value == "0.2"
    assert by_setting["--augment"].value == "flip"
    assert by_setting["--patience"].value == "100"
    assert by_setting["--batch-norm"].value is True
    assert by_setting["--init"].value == "he"
    assert by_setting["--l2"].command == (
        "mlpkit train 'train cat.h5' --dev test_catvnoncat.h5 --seed 0 --l2 0.1 "
        "--out model_l2-0.1.npz")  # its own model file: the diagnosed one is kept
    assert by_setting["--batch-norm"].command.endswith(
        "--seed 0 --batch-norm --out model_batch-norm.npz")
    assert shlex.split(by_setting["--hidden"].command)[1:] == [
        *ARGV, "--hidden", "40,14,10", "--out", "model_hidden-40-14-10.npz"]
    assert by_setting[None].command is None and by_setting[None].value is None
    # typed for a program that applies them (the playground)
    assert by_setting["--hidden"].typed_value == [40, 14, 10]
    assert by_setting["--epochs"].typed_value == 2000
    assert by_setting["--l2"].typed_value == 0.1
    assert by_setting["--optimizer"].typed_value == "adam"
    assert by_setting["--batch-norm"].typed_value is True
    assert by_setting[None].typed_value is None
    # the course's names in the report too
    report = str(d)
    assert "lambda 0 -> 0.1" in report and "keep_prob 1 -> 0.8" in report
    assert ("mlpkit train 'train cat.h5' --dev test_catvnoncat.h5 --seed 0 --epochs 2000 "
            "--out model_epochs-2000.npz") in report


def test_with_run_replaces_the_runs_own_setting_in_place():
    run = {**RUN, "l2": 0.7, "dropout": 0.3, "optimizer": "adam", "batch_norm": True,
           "init": "he", "augment": "flip", "patience": 20}
    argv = ["train", "d.h5", "--l2", "0.7", "--dropout=0.3", "--dev", "v.h5", "--batch-norm",
            "--optimizer", "adam", "--out=runs/cat.npz", "--", "-odd name.h5"]
    variance = {s.setting: s for s in diagnose(0.01, 0.11).with_run(run, argv).suggestions}
    assert variance["--l2"].command == ("mlpkit train d.h5 --l2 7 --dropout=0.3 --dev v.h5 "
                                        "--batch-norm --optimizer adam --out runs/cat_l2-7.npz "
                                        "-- '-odd name.h5'")
    assert shlex.split(variance["--dropout"].command)[5:7] == ["--dropout", "0.4"]
    # what the run already applies is not suggested again
    assert set(variance) == {"--l2", "--dropout", None}
    bias = {s.setting: s for s in diagnose(0.15, 0.16).with_run(run, argv).suggestions}
    assert set(bias) == {"--hidden", "--epochs", "--l2", "--dropout"}
    assert bias["--l2"].value == "0.07" and bias["--dropout"].value == "0.15"
    assert "keep_prob 0.7 -> 0.85" in bias["--dropout"].remedy
    # with high variance too, regularization is not lowered and raised at once
    both = [s for s in diagnose(0.15, 0.30).with_run(run, argv).suggestions
            if s.setting in ("--l2", "--dropout")]
    assert [(s.setting, s.value) for s in both] == [("--l2", "7"), ("--dropout", "0.4")]
    # hidden sizes as --hidden takes them
    assert diagnose(0.15, 0.16).with_run({"hidden": "3,2"}).suggestions[0].value == "6,4"
    with pytest.raises(ValueError, match="options must hold the run's hidden sizes"):
        diagnose(0.15, 0.16).with_run({"epochs": "many"})


def test_with_run_without_argv_fills_values_only_and_settings_filter():
    d = diagnose(0.01, 0.11).with_run({"hidden": [], "epochs": 50, "l2": 0.0})
    by_setting = {s.setting: s for s in d.suggestions}
    assert "--dropout" not in by_setting  # no hidden layer to drop units from
    assert by_setting["--patience"].value == "10"
    assert all(s.command is None for s in d.suggestions)
    assert diagnose(0.15, 0.16).with_run({"hidden": []}).suggestions[0].value == "7"
    page = diagnose(0.01, 0.11).with_run(RUN, settings={"--l2", "--dropout", "--patience"})
    assert [s.setting for s in page.suggestions] == ["--l2", "--dropout", "--patience", None]
    with pytest.raises(ValueError, match="unknown settings"):
        diagnose(0.01, 0.11).with_run(RUN, settings={"--l3"})
    with pytest.raises(TypeError, match="argv must be the run's arguments"):
        diagnose(0.01, 0.11).with_run(RUN, "train data.h5")
    with pytest.raises(TypeError, match="options must be a dict"):
        diagnose(0.01, 0.11).with_run([("l2", 0.1)])


def test_the_diagnosis_imports_no_scikit_learn_until_it_measures_an_estimator():
    code = ("import sys; from mlpkit import diagnose, Diagnosis; "
            "diagnose(0.15, 0.30, n_dev=100).with_run({}, ['train', 'd.h5']).to_dict(); "
            "print('sklearn' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=120)
    assert result.stdout.strip() == "False"


# ------------------------------------------------------------------------ Diagnosis.of


@pytest.fixture(scope="module")
def blobs():
    """Two overlapping classes in 2-D, 400 training and 200 dev examples (rows)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 2))
    y = (X[:, 0] + 0.7 * X[:, 1] + rng.normal(scale=0.8, size=600) > 0).astype(np.int64)
    return (X[:400], y[:400]), (X[400:], y[400:])


@pytest.fixture(scope="module")
def trained_network(blobs):
    (X, y), _ = blobs
    net = Network([2, 8, 1], seed=0)
    net.fit(X.T, y.reshape(1, -1), epochs=30, learning_rate=0.1, keep_prob=0.5, seed=0)
    return net


def test_of_a_network_is_its_error_rate_in_prediction_mode(blobs, trained_network):
    (X, y), (X_dev, y_dev) = blobs
    net = trained_network
    d = Diagnosis.of(net, (X.T, y.reshape(1, -1)), (X_dev.T, y_dev), human_error=0.05)
    assert d.train_error == pytest.approx(1 - net.score(X.T, y.reshape(1, -1)))
    assert d.dev_error == pytest.approx(1 - net.score(X_dev.T, y_dev.reshape(1, -1)))
    assert d.n_dev == 200 and d.human_error == 0.05 and d.metric == "error rate"
    assert 0 < d.train_error < 0.5
    # the same numbers twice: no dropout, no randomness in the pass
    assert Diagnosis.of(net, (X.T, y), (X_dev.T, y_dev), human_error=0.05) == d
    # from sources (streamed in mini-batches), as from arrays
    source = ArraySource(X_dev.T.copy(), y_dev.reshape(1, -1).astype(float))
    assert Diagnosis.of(net, (X.T, y), source, human_error=0.05) == d
    # the baseline: always the training set's most frequent class
    majority = int(np.mean(y) > 0.5)
    assert d.baseline == (pytest.approx(np.mean(y != majority)),
                          pytest.approx(np.mean(y_dev != majority)))
    with_test = Diagnosis.of(net, (X.T, y), (X_dev.T, y_dev), test=(X.T, y))
    assert with_test.test_error == d.train_error


def test_of_a_softmax_network_on_one_hot_targets():
    from mlpkit import one_hot

    rng = np.random.default_rng(3)
    X = rng.normal(size=(2, 300))
    labels = np.digitize(X[0] + 0.5 * rng.normal(size=300), [-0.5, 0.7])  # 3 classes
    labels[:150] = np.where(labels[:150] == 2, 0, labels[:150])  # train: fewer of class 2
    Y = one_hot(labels, 3)
    net = Network([2, 6, 3], output_activation="softmax", seed=0)
    net.fit(X[:, :150], Y[:, :150], epochs=30, learning_rate=0.3, seed=0)
    d = Diagnosis.of(net, (X[:, :150], Y[:, :150]), ArraySource(X[:, 150:], Y[:, 150:]))
    assert d.train_error == pytest.approx(np.mean(net.predict(X[:, :150])[0] != labels[:150]))
    assert d.dev_error == pytest.approx(np.mean(net.predict(X[:, 150:])[0] != labels[150:]))
    majority = np.bincount(labels[:150]).argmax()
    assert d.baseline == (pytest.approx(np.mean(labels[:150] != majority)),
                          pytest.approx(np.mean(labels[150:] != majority)))


def test_of_a_streaming_source(tmp_path, blobs, trained_network):
    from mlpkit.data.sources import NpySource

    (X, y), (X_dev, y_dev) = blobs
    np.save(tmp_path / "x.npy", X_dev)
    np.save(tmp_path / "y.npy", y_dev)
    source = NpySource(tmp_path / "x.npy", tmp_path / "y.npy")
    d = Diagnosis.of(trained_network, (X.T, y), source)
    assert d.dev_error == pytest.approx(1 - trained_network.score(X_dev.T, y_dev.reshape(1, -1)))
    assert d.n_dev == 200
    assert d == Diagnosis.of(trained_network, (X.T, y), (X_dev.T, y_dev))  # baseline included


def test_of_a_regression_network_is_its_mean_squared_error():
    from sklearn.metrics import mean_squared_error

    rng = np.random.default_rng(1)
    X = rng.normal(size=(3, 300))
    Y = np.vstack([X[0] - 2 * X[1], X[2] ** 2])
    net = Network([3, 6, 2], output_activation="linear", seed=0)
    net.fit(X[:, :200], Y[:, :200], epochs=20, learning_rate=0.05, seed=0)
    d = Diagnosis.of(net, (X[:, :200], Y[:, :200]), ArraySource(X[:, 200:], Y[:, 200:]),
                     human_error=0.1, tolerance=0.05)
    expected = mean_squared_error(Y[:, 200:].T, net.predict(X[:, 200:]).T)
    assert d.dev_error == pytest.approx(expected)
    assert d.metric == "mean squared error" and d.n_dev is None and d.baseline is None
    with pytest.raises(ValueError, match="give tolerance in its units"):
        Diagnosis.of(net, (X, Y), (X, Y))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_of_the_estimators(blobs):
    from sklearn.metrics import mean_squared_error

    (X, y), (X_dev, y_dev) = blobs
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=30, random_state=0).fit(X, y)
    d = Diagnosis.of(clf, (X, y), (X_dev, y_dev))
    assert d.train_error == pytest.approx(1 - clf.score(X, y))
    assert d.dev_error == pytest.approx(1 - clf.score(X_dev, y_dev))
    assert d.n_dev == len(y_dev)
    majority = np.bincount(y).argmax()
    assert d.baseline == (pytest.approx(np.mean(y != majority)),
                          pytest.approx(np.mean(y_dev != majority)))
    target = X[:, 0] * 3 + X[:, 1]
    reg = MLPRegressor(hidden_layer_sizes=(8,), max_iter=30, random_state=0).fit(X, target)
    dev_target = X_dev[:, 0] * 3 + X_dev[:, 1]
    r = Diagnosis.of(reg, (X, target), (X_dev, dev_target), tolerance=0.1)
    assert r.dev_error == pytest.approx(mean_squared_error(dev_target, reg.predict(X_dev)))
    assert r.metric == "mean squared error"
    with pytest.raises(TypeError, match="takes \\(X, y\\) arrays, not a source"):
        Diagnosis.of(clf, (X, y), ArraySource(X_dev.T, y_dev.reshape(1, -1)))


def test_of_an_image_classifier():
    from mlpkit.apps.image_classifier import ImageClassifier

    rng = np.random.default_rng(2)
    images = rng.integers(0, 256, size=(60, 4, 4, 3), dtype=np.uint8)
    labels = (images[:, :2].mean(axis=(1, 2, 3)) > images[:, 2:].mean(axis=(1, 2, 3)))
    labels = labels.astype(np.int64)
    model = ImageClassifier.build(["left", "right"], 4, hidden=(5,), seed=0)
    X, Y = model.preprocess(images), model.targets(labels)
    model.network.fit(X, Y, epochs=50, learning_rate=0.5, seed=0)
    d = Diagnosis.of(model, (images[:40], labels[:40]), (images[40:], labels[40:]))
    assert d.train_error == pytest.approx(np.mean(model.predict(images[:40]) != labels[:40]))
    assert d.dev_error == pytest.approx(np.mean(model.predict(images[40:]) != labels[40:]))
    assert d.n_dev == 20
    assert d.baseline[0] == pytest.approx(1 - np.bincount(labels[:40]).max() / 40)
    # its preprocessed images as a source
    source = ArraySource(X[:, 40:], Y[:, 40:])
    assert Diagnosis.of(model, (images[:40], labels[:40]), source) == d


def test_of_an_image_classifier_that_standardizes_needs_a_standardized_source(tmp_path):
    from mlpkit import Standardizer
    from mlpkit.apps.image_classifier import ImageClassifier
    from mlpkit.data.sources import NpySource

    rng = np.random.default_rng(4)
    images = rng.integers(0, 256, size=(30, 4, 4, 3), dtype=np.uint8)
    labels = np.arange(30) % 2
    plain = ImageClassifier.build(["a", "b"], 4, hidden=(3,), seed=0)
    standardizer = Standardizer().fit(plain.preprocess(images))
    model = ImageClassifier(plain.network, ["a", "b"], 4, standardizer=standardizer)
    np.save(tmp_path / "x.npy", images)
    source = NpySource(tmp_path / "x.npy", labels)
    with pytest.raises(ValueError, match="dev: the source gives unstandardized images"):
        Diagnosis.of(model, (images, labels), source)
    source.standardizer = model.standardizer
    assert Diagnosis.of(model, (images, labels), source) == Diagnosis.of(
        model, (images, labels), (images, labels))


def test_of_bad_models_and_data(blobs, trained_network):
    (X, y), _ = blobs
    with pytest.raises(TypeError, match="Diagnosis.of takes a Network"):
        Diagnosis.of(object(), (X, y), (X, y))
    with pytest.raises(TypeError, match="train must be a pair"):
        Diagnosis.of(trained_network, X.T, (X.T, y))
    with pytest.raises(ValueError, match="dev X has 400 rows"):
        Diagnosis.of(trained_network, (X.T, y), (X, y))
    # weights so large that the outputs overflow: a diverged network has no error
    ones = np.ones((2, 5))
    classifier = Network([2, 2, 1], seed=0)
    classifier.parameters = {"W1": np.full((2, 2), 1e308), "b1": np.zeros((2, 1)),
                             "W2": np.array([[1.0, -1.0]]), "b2": np.zeros((1, 1))}
    regressor = Network([2, 1], output_activation="linear", seed=0)
    regressor.parameters = {"W1": np.full((1, 2), 1e308), "b1": np.zeros((1, 1))}
    with np.errstate(all="ignore"):
        with pytest.raises(ValueError, match="on the train data are not finite"):
            Diagnosis.of(classifier, (ones, np.ones(5)), (ones, np.ones(5)))
        with pytest.raises(ValueError, match="on the train data are not finite"):
            Diagnosis.of(regressor, (ones, np.ones(5)), (ones, np.ones(5)), tolerance=1.0)
