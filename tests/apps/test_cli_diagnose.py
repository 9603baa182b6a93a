"""`mlpkit train --dev` (the dev set monitored, the diagnosis at the end), the recipe's options
(--patience, --lr-schedule, --augment, --init, --beta1, --beta2), progress into a file, and
`mlpkit diagnose`."""

import json
import re
import subprocess
import sys

import h5py
import numpy as np
import pytest

import mlpkit
from mlpkit.apps.cli_training import TrainingSource, build_model, fit_model
from mlpkit.io.model_files import read_metadata
from mlpkit.training.batches import ArraySource

from .test_cli import ENV, assert_error, assert_ok, mlpkit_cmd


def _h5(path, x, y):
    with h5py.File(path, "w") as f:
        f["train_set_x"], f["train_set_y"] = x, y
        f["list_classes"] = np.array([b"dark", b"light"])
    return path


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """(train.h5, dev.h5): 8x8 RGB images, 'light' when the left half is brighter (so a
    left-right flip matters), with 10% of the labels noisy."""
    rng = np.random.default_rng(0)
    folder = tmp_path_factory.mktemp("tiny")
    paths = []
    for name, m in (("train", 120), ("dev", 60)):
        x = rng.integers(0, 256, (m, 8, 8, 3), dtype=np.uint8)
        y = (x[:, :, :4].mean(axis=(1, 2, 3)) > x[:, :, 4:].mean(axis=(1, 2, 3))).astype(int)
        y[rng.random(m) < 0.1] ^= 1
        paths.append(_h5(folder / f"{name}.h5", x, y))
    return paths


def _errors(path):
    return [line for line in path.read_text().splitlines() if ": error: " in line]


# ------------------------------------------------------------------ train --dev, diagnose


@pytest.fixture(scope="module")
def dev_run(tiny, tmp_path_factory):
    """(result, model path) of a short `mlpkit train DATA --dev DEV` run."""
    train, dev = tiny
    out = tmp_path_factory.mktemp("run") / "m.npz"
    result = mlpkit_cmd("train", train, "--dev", dev, "--hidden", "16", "--epochs", 80,
                        "--optimizer", "adam", "--learning-rate", 0.01, "--batch-size", 32,
                        "--seed", 2, "--out", out)
    assert_ok(result)
    return result, out


def test_train_with_dev_monitors_it_and_ends_with_the_diagnosis(dev_run, tiny):
    result, out = dev_run
    model = mlpkit.load(out)
    history = model.network.training_state.history
    assert len(history.val_costs) == len(history.val_scores) == len(history.costs) == 80
    meta = read_metadata(out)["metadata"]
    found = meta["diagnosis"]
    # the errors: full passes in prediction mode on all of DATA and on DEV
    (x, y, _), (x_dev, y_dev, _) = mlpkit.load_h5(tiny[0]), mlpkit.load_h5(tiny[1])
    assert found["train_error"] == pytest.approx(np.mean(model.predict(x) != y), abs=1e-12)
    assert found["dev_error"] == pytest.approx(np.mean(model.predict(x_dev) != y_dev), abs=1e-12)
    assert found["dev_error"] == pytest.approx(1 - history.val_scores[-1], abs=1e-12)
    assert found["variance"] == pytest.approx(found["dev_error"] - found["train_error"])
    assert meta["train_accuracy"] == pytest.approx(1 - found["train_error"])
    assert meta["dev_accuracy"] == pytest.approx(1 - found["dev_error"])
    assert f"verdict: {found['verdict']}" in result.stdout
    assert f"dev error {100 * found['dev_error']:.1f}%" in re.sub(" +", " ", result.stdout)
    for suggestion in found["suggestions"]:
        if suggestion["command"] is not None:
            assert suggestion["command"] in result.stdout
            assert suggestion["command"].startswith(f"mlpkit train {tiny[0]} --dev {tiny[1]}")
    # progress into a pipe: one line per tenth of the run
    lines = [line for line in result.stderr.splitlines() if line.startswith("epoch ")]
    assert [int(line.split()[1].split("/")[0]) for line in lines] == list(range(8, 81, 8))
    assert "dev cost" in lines[-1] and "dev err" in lines[-1]
    assert "\r" not in result.stderr


def test_diagnose_agrees_with_the_end_of_train(dev_run, tiny):
    result, out = dev_run
    diagnosed = mlpkit_cmd("diagnose", out, *tiny, "--json")
    assert_ok(diagnosed)
    assert json.loads(diagnosed.stdout) == read_metadata(out)["metadata"]["diagnosis"]
    text = mlpkit_cmd("diagnose", out, *tiny)
    assert_ok(text)
    start = result.stdout.index("bias and variance")
    assert text.stdout.strip() == result.stdout[start:].rsplit("\nmodel saved to", 1)[0].strip()


def test_diagnose_with_human_error_and_a_learning_curve(dev_run, tiny, tmp_path):
    _, out = dev_run
    png = tmp_path / "curve.png"
    result = mlpkit_cmd("diagnose", out, *tiny, "--human-error", 0.05, "--learning-curve", png,
                        "--json")
    assert_ok(result)
    found = json.loads(result.stdout)
    recorded = read_metadata(out)["metadata"]["diagnosis"]
    assert found["human_error"] == 0.05
    assert found["avoidable_bias"] == pytest.approx(recorded["train_error"] - 0.05)
    curve = found["learning_curve"]
    assert curve["sizes"] == [12, 30, 60, 90, 120] and curve["plot"] == str(png)
    # the whole training set with the run's own options and seed is the run itself
    assert curve["train_errors"][-1] == pytest.approx(recorded["train_error"], abs=1e-12)
    assert curve["dev_errors"][-1] == pytest.approx(recorded["dev_error"], abs=1e-12)
    assert png.stat().st_size > 0


def test_three_epochs_and_a_human_error(tiny, tmp_path):
    """An untrained network errs as much as guessing: high bias; with a human-level error as
    high as its training error, the bias is gone."""
    out = tmp_path / "m.npz"
    common = ("train", tiny[0], "--dev", tiny[1], "--epochs", 3, "--seed", 0, "--quiet")
    result = mlpkit_cmd(*common, "--out", out)
    assert_ok(result)
    found = read_metadata(out)["metadata"]["diagnosis"]
    assert found["verdict"] in ("high bias", "high bias and high variance")
    assert found["train_error"] > 0.3
    assert result.stderr == "" and not result.stdout.startswith("training")
    assert result.stdout.startswith("train accuracy:")
    human = mlpkit_cmd(*common, "--human-error", found["train_error"], "--out", out)
    assert_ok(human)
    assert read_metadata(out)["metadata"]["diagnosis"]["avoidable_bias"] == pytest.approx(0)


def test_cat_defaults_with_a_dev_set_show_high_variance_in_a_small_log(cat_data_dir, tmp_path):
    """The course's case: `mlpkit train train_catvnoncat.h5 --dev test_catvnoncat.h5` with the
    defaults (1000 epochs) fits the training set and errs on the dev set: high variance, with
    regularization, augmentation and early stopping as runnable commands and more data as
    advice. Its output, into a file, stays under 10 KB."""
    out, log = tmp_path / "cat.npz", tmp_path / "log.txt"
    with open(log, "w") as f:
        run = subprocess.run(
            [sys.executable, "-m", "mlpkit", "train", str(cat_data_dir / "train_catvnoncat.h5"),
             "--dev", str(cat_data_dir / "test_catvnoncat.h5"), "--seed", "0", "--out",
             str(out)], stdout=f, stderr=subprocess.STDOUT, env=ENV, timeout=900)
    text = log.read_text()
    assert run.returncode == 0, text
    assert log.stat().st_size < 10_000 and "\r" not in text
    assert len([line for line in text.splitlines() if line.startswith("epoch ")]) == 10
    assert "verdict: high variance" in text
    found = read_metadata(out)["metadata"]["diagnosis"]
    assert found["verdict"] == "high variance" and found["train_error"] < 0.02
    settings = [s["setting"] for s in found["suggestions"]]
    assert {"--l2", "--dropout", "--augment", "--patience"} <= set(settings)
    assert None in settings  # collect more data: advice
    for suggestion in found["suggestions"]:
        if suggestion["setting"] is not None:
            assert suggestion["command"] in text
    assert "lambda" in text and "keep_prob" in text


# ------------------------------------------------------------------ the recipe's options


def test_patience_stops_early_and_keeps_the_best_epoch(tiny, tmp_path):
    out = tmp_path / "m.npz"
    result = mlpkit_cmd("train", tiny[0], "--validation-split", 0.25, "--patience", 5,
                        "--hidden", "32", "--epochs", 400, "--optimizer", "adam",
                        "--learning-rate", 0.02, "--seed", 1, "--out", out)
    assert_ok(result)
    history = mlpkit.load(out).network.training_state.history
    assert history.stopped_early and history.epochs < 400
    best = int(np.argmin(history.val_costs))
    assert history.best_epoch == best and history.epochs == best + 6
    assert f"kept epoch {best + 1}" in result.stdout


def test_schedule_betas_and_init_reach_the_library(tiny, tmp_path):
    out = tmp_path / "m.npz"
    result = mlpkit_cmd("train", tiny[0], "--hidden", "4", "--epochs", 5, "--init", "he",
                        "--optimizer", "adam", "--beta1", 0.8, "--beta2", 0.99,
                        "--lr-schedule", "exponential", "--decay-rate", 0.5,
                        "--learning-rate", 0.01, "--seed", 0, "--out", out)
    assert_ok(result)
    model = mlpkit.load(out)
    state = model.network.training_state
    assert state.config["optimizer"] == {"name": "adam", "beta1": 0.8, "beta2": 0.99,
                                         "epsilon": 1e-8}
    np.testing.assert_allclose(state.history.learning_rates, 0.01 * 0.5 ** np.arange(5))
    assert model.network.init == "he"
    x, y, classes = mlpkit.load_h5(tiny[0])
    net = mlpkit.Network([192, 4, 1], init="he", seed=0)
    net.fit(mlpkit.data.flatten_images(x), y[np.newaxis].astype(float), epochs=5,
            learning_rate=0.01, batch_size=64, seed=0,
            optimizer=mlpkit.optim.optimizers.Adam(beta1=0.8, beta2=0.99),
            lr_schedule=mlpkit.optim.schedules.ExponentialDecay(0.5))
    np.testing.assert_allclose(model.network.parameters.vector, net.parameters.vector,
                               rtol=1e-9, atol=1e-12)


def test_flip_augmentation_flips_batches_not_the_data(tiny):
    x, y, classes = mlpkit.load_h5(tiny[0])
    X = mlpkit.data.flatten_images(x)
    Y = y[np.newaxis].astype(float)
    before = X.copy()
    source = TrainingSource(ArraySource(X, Y), flip=(8, 3, 0))
    flipped_x = mlpkit.data.flatten_images(x[:, :, ::-1])
    shares = []
    for _ in range(2):  # two epochs
        order = np.arange(120)
        batches = list(source.batches(order, 40))
        got = np.concatenate([b.X for b in batches], axis=1)
        same = np.all(got == X, axis=0)
        mirrored = np.all(got == flipped_x, axis=0)
        assert np.all(same | mirrored)
        shares.append(mirrored)
    assert 0.3 < shares[0].mean() < 0.7 and np.any(shares[0] != shares[1])
    np.testing.assert_array_equal(X, before)  # the data set itself is never changed


def test_flip_augmentation_resumes_exactly(tiny):
    x, y, classes = mlpkit.load_h5(tiny[0])
    data = (mlpkit.data.flatten_images(x), y[np.newaxis].astype(float))
    options = {"hidden": [5], "init": "xavier", "seed": 4, "batch_norm": False, "epochs": 6,
               "learning_rate": 0.05, "optimizer": "gd", "batch_size": 32, "l2": 0.0,
               "dropout": 0.0, "augment": "flip"}
    whole, part = (build_model(options, classes, 8) for _ in range(2))
    fit_model(whole, data, options)
    fit_model(part, data, {**options, "epochs": 3})
    fit_model(part, data, options, done=3, resume=True)
    np.testing.assert_array_equal(whole.network.parameters.vector,
                                  part.network.parameters.vector)
    plain = build_model(options, classes, 8)
    fit_model(plain, data, {**options, "augment": None})
    assert not np.array_equal(plain.network.parameters.vector, whole.network.parameters.vector)


def test_augment_flip_from_the_command_line(tiny, tmp_path):
    out = tmp_path / "m.npz"
    result = mlpkit_cmd("train", tiny[0], "--dev", tiny[1], "--augment", "flip", "--hidden",
                        "4", "--epochs", 4, "--seed", 0, "--out", out, "--quiet")
    assert_ok(result)
    assert read_metadata(out)["metadata"]["options"]["augment"] == "flip"
    x, y, classes = mlpkit.load_h5(tiny[0])
    options = {**read_metadata(out)["metadata"]["options"]}
    model = build_model(options, classes, 8)
    x_dev, y_dev, _ = mlpkit.load_h5(tiny[1])
    fit_model(model, (mlpkit.data.flatten_images(x), y[np.newaxis].astype(float)), options,
              validation_data=(mlpkit.data.flatten_images(x_dev),
                               y_dev[np.newaxis].astype(float)))
    np.testing.assert_allclose(mlpkit.load(out).network.parameters.vector,
                               model.network.parameters.vector, rtol=1e-9, atol=1e-12)


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    "options, message",
    [
        (["--dev", "d.h5", "--validation-split", "0.2"],
         "argument --validation-split: not allowed with argument --dev"),
        (["--human-error", "1"], "argument --human-error: must be a finite number >= 0 and < 1"),
        (["--human-error", "-0.1"], "argument --human-error: must be a finite number >= 0"),
        (["--patience", "0"], "argument --patience: must be an integer >= 1; got 0"),
        (["--patience", "5"], "--patience (early stopping on the dev cost) needs a dev set"),
        (["--lr-schedule", "cosine"], "argument --lr-schedule: invalid choice: 'cosine'"),
        (["--decay-rate", "-1"], "argument --decay-rate: must be a finite number >= 0"),
        (["--decay-rate", "0.5"], "--decay-rate needs a decaying --lr-schedule"),
        (["--lr-schedule", "constant", "--decay-rate", "0.5"],
         "--decay-rate needs a decaying --lr-schedule"),
        (["--augment", "rotate"], "argument --augment: invalid choice: 'rotate'"),
        (["--init", "orthogonal"], "argument --init: invalid choice: 'orthogonal'"),
        (["--beta1", "1"], "argument --beta1: must be a finite number >= 0 and < 1; got 1.0"),
        (["--beta2", "x"], "argument --beta2: expected a number, got 'x'"),
        (["--beta1", "0.9"], "--beta1 is a setting of --optimizer momentum, nesterov, adam; "
                             "--optimizer gd has none"),
        (["--optimizer", "momentum", "--beta2", "0.9"],
         "--beta2 is a setting of --optimizer rmsprop, adam; --optimizer momentum has none"),
        (["--quiet", "--epochs", "0"], "argument --epochs: must be an integer >= 1; got 0"),
    ],
)
def test_bad_train_options(tmp_path, options, message):
    result = mlpkit_cmd("train", tmp_path, *options, "--out", tmp_path / "m.npz")
    assert_error(result, 2, message)
    assert sorted(tmp_path.iterdir()) == []


def test_bad_diagnose_input(dev_run, tiny, tmp_path):
    _, model = dev_run
    for args, status, message in [
        ((model, tiny[0]), 2, "the following arguments are required: DEV"),
        ((model, *tiny, "--human-error", "2"), 2,
         "argument --human-error: must be a finite number >= 0 and < 1; got 2.0"),
        ((tmp_path / "absent.npz", *tiny), 1, "absent.npz: no such model file"),
        ((model, tiny[0], tmp_path / "no.h5"), 1, "no.h5: no such file or directory"),
        ((model, *tiny, "--learning-curve", tmp_path), 1, "is a directory; expected a file "
                                                          "name such as learning_curve.png"),
    ]:
        assert_error(mlpkit_cmd("diagnose", *args), status, message)
    assert sorted(tmp_path.iterdir()) == []
