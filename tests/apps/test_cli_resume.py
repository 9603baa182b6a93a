"""`mlpkit train` interrupted by Ctrl-C (a real SIGINT to the process) saves its run, and
`--resume` finishes it with the parameters of the uninterrupted run, bit for bit."""

import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest

import mlpkit
from mlpkit.io.model_files import read_metadata

from .test_cli import ENV, assert_error, assert_ok, mlpkit_cmd

RUN = ("--hidden", "5", "--epochs", "2000", "--batch-size", "16", "--seed", "4",
       "--dropout", "0.1", "--optimizer", "adam", "--learning-rate", "0.001",
       "--validation-split", "0.2")


@pytest.fixture(scope="module")
def tiny_h5(tmp_path_factory):
    """40 RGB images of 8x8: 'light' ones and 'dark' ones."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (40, 8, 8, 3), dtype=np.uint8)
    y = (x.mean(axis=(1, 2, 3)) > 127).astype(np.int64)
    path = tmp_path_factory.mktemp("data") / "tiny.h5"
    with h5py.File(path, "w") as f:
        f["train_set_x"], f["train_set_y"] = x, y
        f["list_classes"] = np.array([b"dark", b"light"])
    return path


def test_ctrl_c_saves_the_run_and_resume_finishes_it_exactly(tmp_path, tiny_h5):
    whole = tmp_path / "whole.npz"
    assert_ok(mlpkit_cmd("train", tiny_h5, *RUN, "--out", whole))

    part = tmp_path / "part.npz"
    process = subprocess.Popen(
        [sys.executable, "-m", "mlpkit", "train", str(tiny_h5), *RUN, "--out", str(part),
         "--checkpoint-every", "100"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
        # a shell may start background jobs with SIGINT ignored; a terminal's Ctrl-C isn't
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 120
        while not part.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)  # the first checkpoint: training is under way
        assert process.poll() is None, "the run ended before it could be interrupted"
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    (line,) = [line for line in stderr.splitlines() if "interrupted after epoch" in line]
    done = int(line.split("interrupted after epoch ")[1].split()[0])
    # the first checkpoint (epoch 100) was written; a signal that comes while its callback is
    # still running is taken back to the last completed epoch's end, 99
    assert 99 <= done < 2000
    assert f"resume with: mlpkit train --resume {part}" in line
    header = read_metadata(part)
    assert header["metadata"]["epochs_done"] == done and not header["metadata"]["complete"]
    stopped = mlpkit.load(part)
    assert stopped.network.training_state.epoch == done

    result = mlpkit_cmd("train", "--resume", part)
    assert_ok(result)
    assert f"from epoch {done}" in result.stdout
    finished, uninterrupted = mlpkit.load(part), mlpkit.load(whole)
    np.testing.assert_array_equal(finished.network.parameters.vector,
                                  uninterrupted.network.parameters.vector)
    assert read_metadata(part)["metadata"]["complete"]
    assert finished.network.training_state.history.costs == (
        uninterrupted.network.training_state.history.costs)


def test_resume_refuses_new_settings_and_finished_runs(tmp_path, tiny_h5):
    model = tmp_path / "m.npz"
    assert_ok(mlpkit_cmd("train", tiny_h5, "--hidden", "3", "--epochs", "5", "--out", model))
    assert_error(mlpkit_cmd("train", "--resume", model, "--epochs", "9"), 2,
                 "--resume continues the recorded run with its own settings; drop --epochs")
    assert_error(mlpkit_cmd("train", tiny_h5, "--resume", model), 2, "drop DATA")
    assert_error(mlpkit_cmd("train", "--resume", model), 1, "already finished (5 of 5 epochs)")
    assert_error(mlpkit_cmd("train"), 2, "DATA is required (or --resume MODEL")
    net = tmp_path / "net.npz"
    mlpkit.save(mlpkit.Network([3, 1]), net)
    assert_error(mlpkit_cmd("train", "--resume", net), 1, "not an image classifier")


def test_a_run_recorded_before_dev_resumes_monitoring_its_test_set(tmp_path, tiny_h5):
    """A model file saved mid-run by `mlpkit train --test` before --dev existed (its test set
    monitored every epoch, options without dev, human_error, init, ...) loads, and --resume
    finishes the run as it was recorded: the uninterrupted run's parameters and curves."""
    from mlpkit.apps.image_classifier import ImageClassifier
    from mlpkit.data import flatten_images

    x, y, classes = mlpkit.load_h5(tiny_h5)
    data = (flatten_images(x), y[np.newaxis].astype(float))
    fit = dict(learning_rate=0.01, batch_size=16, optimizer="gd", l2=0.0, keep_prob=1.0,
               validation_data=data, seed=4)
    options = {"data": str(tiny_h5), "test": str(tiny_h5), "hidden": [3], "epochs": 6,
               "learning_rate": 0.01, "optimizer": "gd", "batch_size": 16, "l2": 0.0,
               "dropout": 0.0, "batch_norm": False, "image_size": None,
               "validation_split": 0.0, "seed": 4, "strict": False, "stream": False}
    old = ImageClassifier.build(classes, 8, [3], init="xavier", seed=4)
    old.network.fit(*data, epochs=3, **fit)
    path = tmp_path / "old.npz"
    mlpkit.save(old, path, metadata={"data": str(tiny_h5), "seed": 4, "init": "xavier",
                                     "hidden": [3], "options": options, "epochs_done": 3,
                                     "complete": False})
    result = mlpkit_cmd("train", "--resume", path)
    assert_ok(result)
    assert "from epoch 3" in result.stdout and "monitoring the test set" in result.stdout
    assert "test accuracy:" in result.stdout and "verdict" not in result.stdout
    whole = ImageClassifier.build(classes, 8, [3], init="xavier", seed=4)
    whole.network.fit(*data, epochs=6, **fit)
    resumed = mlpkit.load(path).network
    np.testing.assert_allclose(resumed.parameters.vector, whole.network.parameters.vector,
                               rtol=1e-9, atol=1e-12)
    assert len(resumed.training_state.history.val_costs) == 6
    np.testing.assert_allclose(resumed.training_state.history.val_costs,
                               whole.network.training_state.history.val_costs, rtol=1e-9)
