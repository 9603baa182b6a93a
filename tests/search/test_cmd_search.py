"""`mlpkit search`, driven in a subprocess: the outputs, an interrupted search continued, the
same results on a Dask scheduler, and clear errors."""

import csv
import signal
import socket
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest
from dask_cluster import ENV
from PIL import Image
from sklearn.datasets import load_digits

from mlpkit.apps.image_classifier import ImageClassifier
from mlpkit.io.model_files import load, read_metadata

SPACE = """
[space]
learning_rate = { log_uniform = [1e-4, 0.3] }
hidden = { int_uniform = [4, 32] }
beta1 = { one_minus_log_uniform = [0.8, 0.999] }

[fixed]
optimizer = "adam"
epochs = 12
batch_size = 32
"""


def mlpkit_cmd(*args, cwd=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "mlpkit", *map(str, args)],
                          capture_output=True, text=True, env=ENV, cwd=cwd, timeout=timeout)


def assert_ok(result):
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def assert_error(result, status, message):
    """Exit status, one `mlpkit...: error: ...` line that contains message, no traceback."""
    assert result.returncode == status, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith("mlpkit") and message in errors[0], errors[0]


def read_rows(out):
    with open(out / "results.csv", newline="") as f:
        return list(csv.DictReader(f))


def outcome(rows):
    """What a trial's row says regardless of when and where it ran."""
    keep = ("round", "trial", "key", "learning_rate", "hidden", "beta1", "seed", "dev_score",
            "train_score", "dev_cost", "status", "error")
    return sorted(tuple(row[k] for k in keep) for row in rows)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """A course-format HDF5 file of 500 digits as 8x8 RGB images, a space file, an image."""
    folder = tmp_path_factory.mktemp("search-data")
    digits = load_digits()
    images = np.repeat((digits.images[:500] * 255 / 16).astype(np.uint8)[..., None], 3, -1)
    with h5py.File(folder / "digits.h5", "w") as f:
        f["train_set_x"] = images
        f["train_set_y"] = digits.target[:500]
    (folder / "space.toml").write_text(SPACE)
    Image.fromarray(images[0]).save(folder / "zero.png")
    return folder


@pytest.fixture(scope="module")
def uninterrupted(data, tmp_path_factory):
    """(result, out) of `mlpkit search digits.h5 --trials 6 --rounds 2 --seed 3`."""
    out = tmp_path_factory.mktemp("search") / "out"
    result = mlpkit_cmd("search", data / "digits.h5", "--trials", 6, "--rounds", 2, "--space",
                        data / "space.toml", "--workers", 2, "--seed", 3, "--out", out)
    return result, out


def test_search_writes_the_results_the_best_model_and_the_plot(uninterrupted, data):
    result, out = uninterrupted
    assert_ok(result)
    assert "searching 6 trials x 2 round(s) over learning_rate, hidden, beta1" in result.stdout
    assert "on 400 training / 100 dev images" in result.stdout and "(seed 3)" in result.stdout
    assert "round 2/2" in result.stderr and "6/6" in result.stderr  # a bar per round
    rows = read_rows(out)
    assert len(rows) == 12 and len({row["key"] for row in rows}) == 12
    assert list(rows[0])[:5] == ["round", "trial", "learning_rate", "hidden", "beta1"]
    for column in ("dev_score", "status", "seconds", "worker", "finished"):
        assert column in rows[0]
    assert {row["status"] for row in rows} == {"ok"} and sorted({row["round"] for row in rows}) \
        == ["1", "2"]
    best = max(rows, key=lambda row: float(row["dev_score"]))

    model = load(out / "best.npz")
    assert isinstance(model, ImageClassifier) and model.image_size == 8
    assert model.network.layer_dims == [192, int(best["hidden"]), 10]
    meta = read_metadata(out / "best.npz")["metadata"]
    assert meta["dev_accuracy"] == pytest.approx(float(best["dev_score"]))  # retrained alike
    assert meta["params"]["seed"] == int(best["seed"]) and meta["params"]["epochs"] == 12
    assert f"dev accuracy {float(best['dev_score']):.4f}" in result.stdout

    with Image.open(out / "search.png") as image:
        assert image.format == "PNG" and image.size == (1300, 500)
    assert not list(out.glob(".*.tmp"))  # written atomically

    predicted = mlpkit_cmd("predict", out / "best.npz", data / "zero.png")
    assert_ok(predicted)
    assert predicted.stdout.split("\t")[0] == str(data / "zero.png")


@pytest.mark.parametrize("how", ["SIGINT", "SIGKILL"])
def test_an_interrupted_search_reruns_only_the_missing_trials(uninterrupted, data, tmp_path,
                                                              how):
    """Interrupt (Ctrl-C with 2 worker processes, or kill -9 with 1) once some trials are in
    results.csv; the rerun with the same --out runs only the missing ones and ends with the
    uninterrupted run's results."""
    _, reference = uninterrupted
    out = tmp_path / "out"
    args = ["search", data / "digits.h5", "--trials", 6, "--rounds", 2, "--space",
            data / "space.toml", "--seed", 3, "--out", out]
    workers = ["--workers", 2 if how == "SIGINT" else 1]
    process = subprocess.Popen(
        [sys.executable, "-m", "mlpkit", *map(str, args + workers)], env=ENV, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        # a shell may start background jobs with SIGINT ignored; a terminal's Ctrl-C isn't
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 120
        while not (out / "results.csv").exists() or len(read_rows(out)) < 3:
            assert process.poll() is None and time.monotonic() < deadline, process.stderr.read()
            time.sleep(0.01)
        process.send_signal(getattr(signal, how))
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    if how == "SIGINT":
        assert process.returncode == 130 and "mlpkit: interrupted" in stderr, stderr
    else:
        assert process.returncode == -signal.SIGKILL
    before = read_rows(out)
    assert 3 <= len(before) < 12
    assert not (out / "best.npz").exists()

    again = mlpkit_cmd(*args, "--workers", 2)  # where the trials run is not part of a search
    assert_ok(again)
    assert f"{len(before)} of 12 trials were already in" in again.stdout
    assert f"ran the other {12 - len(before)}" in again.stdout
    after = read_rows(out)
    assert after[: len(before)] == before  # the finished trials were kept, not run again
    assert len(after) == 12 and len({row["key"] for row in after}) == 12
    assert outcome(after) == outcome(read_rows(reference))
    assert (out / "best.npz").exists() and (out / "search.png").exists()


def test_a_dask_scheduler_gives_the_local_results(uninterrupted, data, tmp_path,
                                                  dask_processes):
    _, reference = uninterrupted
    out = tmp_path / "out"
    result = mlpkit_cmd("search", data / "digits.h5", "--trials", 6, "--rounds", 2, "--space",
                        data / "space.toml", "--seed", 3, "--out", out,
                        "--scheduler", dask_processes.address)
    assert_ok(result)
    assert f"on the Dask scheduler at {dask_processes.address} (2 workers, 2 threads)" in \
        result.stdout
    rows = read_rows(out)
    assert outcome(rows) == outcome(read_rows(reference))
    assert {row["worker"] for row in rows} <= set(dask_processes_workers(dask_processes))


def dask_processes_workers(cluster):
    from distributed import Client

    with Client(cluster.address, set_as_default=False) as client:
        return list(client.scheduler_info()["workers"])


def test_an_unreachable_scheduler_fails_within_the_timeout(data, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.monotonic()
    result = mlpkit_cmd("search", data / "digits.h5", "--trials", 2, "--space",
                        data / "space.toml", "--out", tmp_path / "out", "--scheduler",
                        f"tcp://127.0.0.1:{port}", "--connect-timeout", 1)
    assert_error(result, 1, f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}")
    assert time.monotonic() - start < 20
    result = mlpkit_cmd("search", data / "digits.h5", "--trials", 2, "--space",
                        data / "space.toml", "--out", tmp_path / "out", "--scheduler", "nowhere",
                        "--connect-timeout", 1)
    assert_error(result, 1, "not a Dask scheduler address: 'nowhere'")


@pytest.mark.parametrize(
    "space, message",
    [
        ("[space]\nlearning_rat = { log_uniform = [1e-4, 0.1] }",
         "unknown hyperparameter 'learning_rat' in [space]"),
        ("[space]\nlearning_rate = { log_uniform = [0.01, 0.01] }",
         "space.learning_rate: empty range [0.01, 0.01]"),
        ("[space]\nhidden = { int_uniform = [8, 4] }", "space.hidden: empty range [8, 4]"),
        ("[space]\noutput_activation = [\"linear\"]", "output_activation is set by the number"),
    ],
)
def test_bad_space_files(data, tmp_path, space, message):
    (tmp_path / "bad.toml").write_text(space)
    result = mlpkit_cmd("search", data / "digits.h5", "--trials", 2, "--space",
                        tmp_path / "bad.toml", "--out", tmp_path / "out")
    assert_error(result, 1, message)
    assert not (tmp_path / "out").exists()


def test_a_folder_of_another_search_is_refused_unless_forced(uninterrupted, data, tmp_path):
    result, reference = uninterrupted
    assert_ok(result)
    out = tmp_path / "out"
    for name in ("results.csv", "search.json"):
        (out / name).parent.mkdir(exist_ok=True)
        (out / name).write_bytes((reference / name).read_bytes())
    (tmp_path / "wider.toml").write_text(SPACE.replace("[4, 32]", "[4, 40]"))
    args = ["search", data / "digits.h5", "--trials", 2, "--rounds", 1, "--space",
            tmp_path / "wider.toml", "--workers", 2, "--out", out]
    refused = mlpkit_cmd(*args)
    assert_error(refused, 1, "holds the results of a different search (n_trials: 6 -> 2; "
                             'rounds: 2 -> 1; space: hidden {"int_uniform": [4, 32]} -> '
                             '{"int_uniform": [4, 40]}); use force (--force)')
    assert len(read_rows(out)) == 12
    forced = mlpkit_cmd(*args, "--force")
    assert_ok(forced)
    assert len(read_rows(out)) == 2


@pytest.mark.parametrize(
    "options, message",
    [
        (["--trials", "0"], "argument --trials: must be an integer >= 1; got 0"),
        (["--trials", "2", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"],
         "argument --scheduler: not allowed with argument --workers"),
        (["--trials", "2", "--dev-split", "1"],
         "argument --dev-split: must be a finite number > 0 and < 1; got 1.0"),
        (["--trials", "2", "--connect-timeout", "0"], "argument --connect-timeout"),
        ([], "the following arguments are required: --trials"),
    ],
)
def test_usage_errors(data, tmp_path, options, message):
    result = mlpkit_cmd("search", data / "digits.h5", "--out", tmp_path / "out", *options)
    assert_error(result, 2, message)


def test_data_errors(data, tmp_path):
    assert_error(mlpkit_cmd("search", tmp_path / "none.h5", "--trials", 2, "--out",
                            tmp_path / "out"), 1, "no such file")
    assert_error(mlpkit_cmd("search", data / "digits.h5", "--trials", 2, "--dev-split", "0.001",
                            "--out", tmp_path / "out"), 1,
                 "cannot hold out a stratified dev split of 0.001 from 500 images of 10 classes")


def test_search_on_the_cat_data(cat_data_dir, tmp_path):
    (tmp_path / "space.toml").write_text(
        "[space]\nlearning_rate = { log_uniform = [1e-4, 1e-2] }\n"
        "hidden = { int_uniform = [2, 8] }\n[fixed]\noptimizer = \"adam\"\nepochs = 5\n")
    out = tmp_path / "out"
    result = mlpkit_cmd("search", cat_data_dir / "train_catvnoncat.h5", "--dev",
                        cat_data_dir / "test_catvnoncat.h5", "--trials", 3, "--rounds", 1,
                        "--space", tmp_path / "space.toml", "--workers", 2, "--seed", 0,
                        "--out", out)
    assert_ok(result)
    assert "on 209 training / 50 dev images of ['non-cat', 'cat']" in result.stdout
    model = load(out / "best.npz")
    assert model.classes == ["non-cat", "cat"] and model.network.layer_dims[0] == 12288
    assert len(read_rows(out)) == 3
