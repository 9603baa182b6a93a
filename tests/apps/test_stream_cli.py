"""`mlpkit convert`, `mlpkit train --stream` (and streaming by itself), and what stops a streamed
run: bad files before training, unreadable images, files truncated or removed during training,
Ctrl-C and --resume."""

import json
import os
import re
import signal
import subprocess
import sys

import h5py
import numpy as np
import pytest
from PIL import Image

import mlpkit
from mlpkit.apps import cli
from mlpkit.io import checkpoint as checkpoint_module
from mlpkit.io.model_files import read_metadata

ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def mlpkit_cmd(*args):
    return subprocess.run([sys.executable, "-m", "mlpkit", *map(str, args)], capture_output=True,
                          text=True, env=ENV, timeout=600)


def assert_ok(result):
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def error_line(stderr):
    errors = [line for line in stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1, stderr
    assert errors[0].startswith("mlpkit") and "Traceback" not in stderr
    return errors[0]


@pytest.fixture
def photos(tmp_path):
    """Two classes of 16 small RGB images each (PNG and JPEG, odd sizes), one broken file."""
    rng = np.random.default_rng(0)
    root = tmp_path / "photos"
    for k, name in enumerate(("cat", "dog")):
        (root / name).mkdir(parents=True)
        for i in range(16):
            image = np.clip(rng.integers(0, 200, (10, 13, 3)) + 50 * k, 0, 255).astype(np.uint8)
            Image.fromarray(image).save(root / name / f"{i:02d}.{'png' if i % 2 else 'jpg'}")
    (root / "dog" / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    return root


def run_main(argv, capsys):
    """`mlpkit ARGV` in this process: (exit status, stdout, stderr)."""
    status = cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


# ------------------------------------------------------------------ convert, then train --stream


def test_convert_then_train_stream_from_the_command_line(photos, tmp_path):
    data = tmp_path / "photos.h5"
    converted = mlpkit_cmd("convert", photos, data, "--image-size", 8, "--workers", 2)
    assert_ok(converted)
    assert "32 images of ['cat', 'dog'] (8x8 RGB) (1 unreadable skipped) written to" in (
        converted.stdout)
    assert converted.stderr.count("warning: skipping") == 1 and "broken.jpg" in converted.stderr
    assert "img/s" in converted.stderr or "32/32" in converted.stderr  # the progress bar
    x, y, classes = mlpkit.load_h5(data)
    assert x.shape == (32, 8, 8, 3) and classes == ["cat", "dog"] and np.bincount(y).tolist() == [
        16, 16]

    out = tmp_path / "m.npz"
    trained = mlpkit_cmd("train", data, "--stream", "--test", photos, "--epochs", 4, "--hidden",
                         "5", "--batch-size", 8, "--seed", 1, "--out", out,
                         "--checkpoint-every", 2)
    assert_ok(trained)
    assert "on 32 images of ['cat', 'dog'] (seed 1), streamed from disk" in trained.stdout
    assert "epoch 4/4: cost" in trained.stderr  # progress into a pipe: lines
    assert "test err" not in trained.stderr and "test accuracy:" in trained.stdout  # at the end
    meta = read_metadata(out)["metadata"]
    assert meta["options"]["stream"] is True and meta["complete"] and meta["epochs_done"] == 4
    model = mlpkit.load(out)
    # blocks sized to the read window: 2^18 images of 8 x 8 x 3 fit in 64 MiB
    assert model.network.training_state.config["shuffle"] == "block(16384,16)"

    from_file = mlpkit_cmd("evaluate", out, data)
    from_folder = mlpkit_cmd("evaluate", out, photos, "--workers", 0)
    assert_ok(from_file)
    assert_ok(from_folder)
    accuracy = float(re.search(r"^accuracy +([\d.]+)", from_file.stdout, re.M)[1])
    assert accuracy == pytest.approx(np.mean(model.predict(x) == y), abs=1e-4)
    assert from_folder.stdout.replace(str(photos), "DATA") == (
        from_file.stdout.replace(str(data), "DATA"))
    assert accuracy == pytest.approx(meta["test_accuracy"], abs=1e-4)

    files = sorted((photos / "cat").iterdir())[:3]
    predicted = mlpkit_cmd("predict", out, *files, photos / "dog" / "broken.jpg", "--json")
    assert "1 of 4 image(s) could not be read" in error_line(predicted.stderr)
    answers = json.loads(predicted.stdout)
    assert [a["path"] for a in answers] == [str(f) for f in files]
    images = np.stack([mlpkit.data.load_image(f, 8) for f in files])
    expected = model.predict_proba(images)
    got = np.array([[a["probabilities"][c] for c in model.classes] for a in answers])
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_train_stream_on_a_folder_skips_an_unreadable_image(photos, tmp_path):
    out = tmp_path / "m.npz"
    result = mlpkit_cmd("train", photos, "--stream", "--image-size", 8, "--epochs", 3,
                        "--hidden", "4", "--batch-size", 8, "--validation-split", 0.25,
                        "--workers", 2, "--seed", 0, "--out", out)
    assert_ok(result)
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "broken.jpg" in warnings[0]
    assert "dev err" in result.stderr and "dev accuracy:" in result.stdout
    assert mlpkit.load(out).image_size == 8


def test_strict_streaming_stops_at_the_unreadable_image(photos, tmp_path):
    out = tmp_path / "m.npz"
    result = mlpkit_cmd("train", photos, "--stream", "--strict", "--image-size", 8,
                        "--epochs", 3, "--out", out)
    assert result.returncode == 1
    line = error_line(result.stderr)
    assert "broken.jpg: cannot read image" in line and "nothing was saved" in line
    assert not out.exists()


def test_a_failed_convert_leaves_nothing(photos, tmp_path):
    out = tmp_path / "out.h5"
    result = mlpkit_cmd("convert", photos, out, "--strict", "--image-size", 8)
    assert result.returncode == 1 and "broken.jpg: cannot read image" in error_line(
        result.stderr)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photos"]
    missing = mlpkit_cmd("convert", tmp_path / "absent", out)
    assert missing.returncode == 1 and "absent: no such directory" in error_line(missing.stderr)
    usage = mlpkit_cmd("convert", photos, out, "--image-size", 0)
    assert usage.returncode == 2 and "--image-size: must be an integer >= 1" in usage.stderr


@pytest.mark.parametrize(
    "x, y, message",
    [
        (np.zeros((5, 4, 4, 3), np.uint8), np.array([0, 1, 0, 1]),
         r"holds 5 images but train_set_y has shape \(4,\)"),
        (np.full((4, 4, 4, 3), 3, np.int64), np.array([0, 1, 0, 1]),
         "has dtype int64; streaming reads uint8"),
        (np.zeros((4, 4, 5, 3), np.uint8), np.array([0, 1, 0, 1]), "mlpkit needs square images"),
    ],
)
def test_a_bad_hdf5_file_is_refused_before_streaming(tmp_path, x, y, message):
    path = tmp_path / "bad.h5"
    with h5py.File(path, "w") as f:
        f["train_set_x"], f["train_set_y"] = x, y
    result = mlpkit_cmd("train", path, "--stream", "--out", tmp_path / "m.npz")
    assert result.returncode == 1 and re.search(message, error_line(result.stderr))
    assert "training" not in result.stdout and not (tmp_path / "m.npz").exists()


# ------------------------------------------------------------------ automatic streaming


def test_train_streams_by_itself_when_the_data_would_not_fit(photos, tmp_path, monkeypatch,
                                                              capsys):
    data = tmp_path / "photos.h5"
    assert run_main(["convert", photos, data, "--image-size", 8], capsys)[0] == 0
    from mlpkit.data import streams

    monkeypatch.setattr(streams, "available_memory", lambda: 20_000)
    common = ["--epochs", 2, "--hidden", "3", "--seed", 0]
    status, out, _ = run_main(["train", data, *common, "--out", tmp_path / "a.npz"], capsys)
    assert status == 0
    line = next(line for line in out.splitlines() if line.startswith("mlpkit: streaming"))
    assert f"streaming {data} from disk: its 32 images would take" in line
    assert "more than 50% of the 0.0 GiB available (--no-stream loads them anyway)" in line
    assert read_metadata(tmp_path / "a.npz")["metadata"]["options"]["stream"] is True
    status, out, _ = run_main(["train", data, *common, "--no-stream", "--out",
                               tmp_path / "b.npz"], capsys)
    assert status == 0 and "streaming" not in out
    assert read_metadata(tmp_path / "b.npz")["metadata"]["options"]["stream"] is False
    monkeypatch.setattr(streams, "available_memory", lambda: 2**40)
    status, out, _ = run_main(["train", data, *common, "--out", tmp_path / "c.npz"], capsys)
    assert status == 0 and "streaming" not in out


# ------------------------------------------------------------------ stopped runs


@pytest.fixture
def streamed_file(photos, tmp_path, capsys):
    data = tmp_path / "photos.h5"
    assert run_main(["convert", photos, data, "--image-size", 8, "--workers", 0], capsys)[0] == 0
    return data


TRAIN = ["--stream", "--epochs", 5, "--hidden", "4", "--batch-size", 8, "--optimizer", "adam",
         "--learning-rate", 0.01, "--seed", 7]


def _after_checkpoint(monkeypatch, epoch, action):
    """Do action() at the end of epoch `epoch`, after that epoch's checkpoint (if any)."""
    original = checkpoint_module.Checkpoint.on_epoch_end

    def on_epoch_end(self, loop):
        stop = original(self, loop)
        if loop.state.epoch == epoch:
            action()
        return stop

    monkeypatch.setattr(checkpoint_module.Checkpoint, "on_epoch_end", on_epoch_end)


def test_a_file_truncated_during_training_stops_it_and_the_run_resumes(
        streamed_file, tmp_path, monkeypatch, capsys):
    whole = streamed_file.read_bytes()
    full = tmp_path / "full.npz"
    assert run_main(["train", streamed_file, *TRAIN, "--out", full], capsys)[0] == 0
    out = tmp_path / "m.npz"
    _after_checkpoint(monkeypatch, 2, lambda: os.truncate(streamed_file, len(whole) // 2))
    status, _, err = run_main(["train", streamed_file, *TRAIN, "--out", out,
                               "--checkpoint-every", 1], capsys)
    assert status == 1
    line = error_line(err)
    assert f"{streamed_file}: not a readable HDF5 file" in line and "truncated" in line
    assert (f"training stopped after 2 completed epochs; the last checkpoint (epoch 2) is in "
            f"{out}: resume with 'mlpkit train --resume {out}'") in line
    meta = read_metadata(out)["metadata"]
    assert meta["epochs_done"] == 2 and not meta["complete"]
    monkeypatch.undo()
    streamed_file.write_bytes(whole)
    status, stdout, _ = run_main(["train", "--resume", out], capsys)
    assert status == 0 and "from epoch 2, streamed from disk" in stdout
    np.testing.assert_array_equal(mlpkit.load(out).network.parameters.vector,
                                  mlpkit.load(full).network.parameters.vector)


def test_a_file_removed_during_training_stops_it(streamed_file, tmp_path, monkeypatch, capsys):
    _after_checkpoint(monkeypatch, 1, streamed_file.unlink)
    out = tmp_path / "m.npz"
    status, _, err = run_main(["train", streamed_file, *TRAIN, "--out", out,
                               "--checkpoint-every", 1], capsys)
    assert status == 1
    line = error_line(err)
    assert f"{streamed_file}: no such file (it was removed or renamed" in line
    assert "the last checkpoint (epoch 1)" in line
    assert read_metadata(out)["metadata"]["epochs_done"] == 1


def test_ctrl_c_stops_a_streamed_run_and_resume_continues_it_exactly(photos, tmp_path):
    """A real SIGINT while decoding threads run: exit 130 with the state saved, no hang; the
    resumed run equals an uninterrupted one."""
    options = ["train", photos, "--stream", "--image-size", 8, "--epochs", 150, "--hidden", "4",
               "--batch-size", 8, "--seed", 3, "--workers", 2]
    full = tmp_path / "full.npz"
    assert_ok(mlpkit_cmd(*options, "--out", full))
    part = tmp_path / "part.npz"
    run = subprocess.Popen([sys.executable, "-m", "mlpkit", *map(str, options), "--out", part],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV,
                           # a shell may start background jobs with SIGINT ignored
                           preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    seen = ""
    while not any(int(e) >= 3 for e in re.findall(r"epoch (\d+)/", seen)):
        chunk = os.read(run.stderr.fileno(), 4096).decode()
        assert chunk, f"the run ended before it could be interrupted: {seen}"
        seen += chunk
    run.send_signal(signal.SIGINT)
    _, err = run.communicate(timeout=60)
    assert run.returncode == 130, err
    assert "interrupted after epoch" in err.decode() and "Traceback" not in err.decode()
    resumed = mlpkit_cmd("train", "--resume", part, "--workers", 1)
    assert_ok(resumed)
    np.testing.assert_array_equal(mlpkit.load(part).network.parameters.vector,
                                  mlpkit.load(full).network.parameters.vector)
