"""The `mlpkit` command, driven in a subprocess (`python -m mlpkit ...`)."""

import json
import os
import re
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest
from PIL import Image

import mlpkit
from mlpkit.apps.image_classifier import ImageClassifier
from mlpkit.io.model_files import read_metadata

# one BLAS thread per command: tests run side by side on few cores
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def mlpkit_cmd(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "mlpkit", *map(str, args)],
        capture_output=True, text=True, env=ENV, cwd=cwd, timeout=600,
    )


def assert_ok(result):
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def assert_error(result, status, message):
    """Exit status, one `mlpkit...: error: ...` line that contains message, no traceback."""
    assert result.returncode == status, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith("mlpkit")
    assert message in errors[0], errors[0]


def write_images(folder, images, mode="RGB", suffix=".png"):
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, image in enumerate(images):
        path = folder / f"img{i}{suffix}"
        Image.fromarray(image).convert(mode).save(path)
        paths.append(path)
    return paths


# ------------------------------------------------------------------ the cat data end to end


@pytest.fixture(scope="module")
def _cache():
    return {}


@pytest.fixture
def cat_model(cat_data_dir, _cache, tmp_path_factory):
    """(result, model path) of one short `mlpkit train` run on the cat data, the course's test
    file as its dev set."""
    if "cat" not in _cache:
        out = tmp_path_factory.mktemp("cat") / "cat.npz"
        result = mlpkit_cmd(
            "train", cat_data_dir / "train_catvnoncat.h5",
            "--dev", cat_data_dir / "test_catvnoncat.h5",
            "--epochs", 60, "--hidden", "7", "--seed", 3, "--out", out,
        )
        _cache["cat"] = result, out
    return _cache["cat"]


def _fit_in_process(train, test, hidden, epochs, seed, **options):
    """The run `mlpkit train` documents, written out with the library: the course's X = pixels
    / 255 in columns, a Network with Xavier init from `seed`, fit with the command's options."""
    (x, y, _), (x_test, y_test, _) = mlpkit.load_h5(train), mlpkit.load_h5(test)
    X, X_test = mlpkit.data.flatten_images(x), mlpkit.data.flatten_images(x_test)
    Y, Y_test = y[np.newaxis].astype(float), y_test[np.newaxis].astype(float)
    net = mlpkit.Network([X.shape[0], *hidden, 1], init="xavier", seed=seed)
    net.fit(X, Y, epochs=epochs, seed=seed, validation_data=(X_test, Y_test), **options)
    return net, (X, Y), (X_test, Y_test)


def test_train_on_cat_data(cat_model, cat_data_dir):
    """The seeded run equals the same run in this process (the library, written out), and its
    cost fell."""
    result, out = cat_model
    assert_ok(result)
    assert "[12288, 7, 1]" in result.stdout and "seed 3" in result.stdout
    train_acc = float(re.search(r"train accuracy: ([\d.]+)", result.stdout)[1])
    test_acc = float(re.search(r"dev accuracy: ([\d.]+)", result.stdout)[1])
    assert "epoch 60/60: cost" in result.stderr and "dev err" in result.stderr  # progress
    model = mlpkit.load(out)
    assert isinstance(model, ImageClassifier)
    assert model.classes == ["non-cat", "cat"] and model.image_size == 64
    assert model.network.layer_dims == [12288, 7, 1]
    meta = read_metadata(out)["metadata"]
    assert meta["seed"] == 3 and meta["options"]["epochs"] == 60
    assert meta["dev_accuracy"] == pytest.approx(test_acc, abs=1e-4)

    net, train, test = _fit_in_process(
        cat_data_dir / "train_catvnoncat.h5", cat_data_dir / "test_catvnoncat.h5", [7], 60, 3,
        learning_rate=0.0075, batch_size=64, optimizer="gd")
    np.testing.assert_allclose(model.network.parameters.vector, net.parameters.vector,
                               rtol=1e-9, atol=1e-12)
    assert train_acc == pytest.approx(net.score(*train), abs=1e-4)
    assert test_acc == pytest.approx(net.score(*test), abs=1e-4)
    costs = model.network.training_state.history.costs
    np.testing.assert_allclose(costs, net.training_state.history.costs, rtol=1e-9)
    assert costs[-1] < 0.8 * costs[0]  # the cost fell: 0.682 -> 0.497 measured
    assert train_acc >= 0.69  # 0.703 measured; always answering "non-cat" scores 0.656
    with Image.open(out.with_name("cat_costs.png")) as plot:
        assert plot.format == "PNG" and plot.size == (700, 450)


def test_train_defaults_are_the_documented_ones(tmp_path):
    """README: hidden 20,7,5, Xavier init, gradient descent on mini-batches of 64, learning
    rate 0.0075, 1000 epochs, pixels scaled by 1/255 (and no standardization): read back from
    the model file, and the run equals the library's run with those settings."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (80, 6, 6, 3), dtype=np.uint8)
    y = (x[..., 0].mean(axis=(1, 2)) > 127).astype(np.int64)
    data = _h5(tmp_path / "d.h5", train_set_x=x, train_set_y=y,
               list_classes=np.array([b"dark", b"light"]))
    out = tmp_path / "m.npz"
    result = mlpkit_cmd("train", data, "--seed", 5, "--out", out)
    assert_ok(result)
    header = read_metadata(out)
    meta, options = header["metadata"], header["metadata"]["options"]
    assert meta["init"] == "xavier" and meta["hidden"] == [20, 7, 5]
    assert {k: options[k] for k in ("hidden", "epochs", "learning_rate", "optimizer",
                                     "batch_size", "l2", "dropout", "batch_norm")} == {
        "hidden": [20, 7, 5], "epochs": 1000, "learning_rate": 0.0075, "optimizer": "gd",
        "batch_size": 64, "l2": 0.0, "dropout": 0.0, "batch_norm": False}
    assert header["state"]["preprocessing"] == {"image_size": 6, "channels": "RGB",
                                                "scale": 1 / 255, "standardize": False}
    assert header["state"]["network"]["init"] == "xavier"
    model = mlpkit.load(out)
    state = model.network.training_state
    assert state.epoch == 1000 and len(state.history.costs) == 1000
    assert state.config["batch_size"] == 64 and state.config["learning_rate"] == 0.0075
    assert state.config["optimizer"]["name"] == "gd" and state.config["keep_prob"] == [1.0] * 3
    assert model.network.layer_dims == [108, 20, 7, 5, 1]

    net = mlpkit.Network([108, 20, 7, 5, 1], init="xavier", seed=5)
    net.fit(mlpkit.data.flatten_images(x), y[np.newaxis].astype(float), epochs=1000,
            learning_rate=0.0075, batch_size=64, optimizer="gd", seed=5)
    np.testing.assert_allclose(model.network.parameters.vector, net.parameters.vector,
                               rtol=1e-9, atol=1e-12)


def test_evaluate_on_cat_data(cat_model, cat_data_dir, tmp_path):
    _, out = cat_model
    gallery = tmp_path / "gallery.png"
    result = mlpkit_cmd("evaluate", out, cat_data_dir / "test_catvnoncat.h5",
                        "--mislabeled", gallery)
    assert_ok(result)
    test_x, test_y, _ = mlpkit.load_h5(cat_data_dir / "test_catvnoncat.h5")
    predicted = mlpkit.load(out).predict(test_x)
    for name in ("accuracy", "precision", "recall", "F1"):
        assert re.search(rf"^{name} +[\d.]+", result.stdout, re.M), name
    accuracy = float(re.search(r"^accuracy +([\d.]+)", result.stdout, re.M)[1])
    assert accuracy == pytest.approx(np.mean(predicted == test_y), abs=1e-4)
    rows = re.findall(r"^(non-cat|cat) +(\d+) +(\d+)$", result.stdout, re.M)
    matrix = np.array([[int(a), int(b)] for _, a, b in rows])
    assert matrix.sum() == 50 and matrix[1].sum() == np.sum(test_y == 1)
    assert np.trace(matrix) == np.sum(predicted == test_y)
    with Image.open(gallery) as image:
        assert image.format == "PNG"


def test_predict_agrees_with_the_model_in_memory(cat_model, cat_data_dir, tmp_path):
    _, out = cat_model
    train_x, _, _ = mlpkit.load_h5(cat_data_dir / "train_catvnoncat.h5")
    images = train_x[:5]
    rgb = write_images(tmp_path / "rgb", images)
    gray = write_images(tmp_path / "gray", images[:2], mode="L", suffix=".jpg")
    rgba = write_images(tmp_path / "rgba", images[:2], mode="RGBA")
    result = mlpkit_cmd("predict", out, *rgb, *gray, *rgba, "--json")
    assert_ok(result)
    answers = json.loads(result.stdout)
    assert [a["path"] for a in answers] == [str(p) for p in (*rgb, *gray, *rgba)]

    model = mlpkit.load(out)
    gray_images = np.stack([np.asarray(Image.open(p).convert("RGB")) for p in gray])
    expected = model.predict_proba(np.concatenate([images, gray_images, images[:2]]))
    got = np.array([[a["probabilities"][c] for c in model.classes] for a in answers])
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    for answer, p in zip(answers, expected, strict=True):
        assert answer["class"] == model.classes[p.argmax()]
        assert answer["probability"] == pytest.approx(p.max(), abs=1e-12)

    text = mlpkit_cmd("predict", out, *rgb[:2])
    assert_ok(text)
    lines = text.stdout.splitlines()
    assert len(lines) == 2
    path, name, probability = lines[0].split("\t")
    assert path == str(rgb[0]) and name == answers[0]["class"]
    assert float(probability) == pytest.approx(answers[0]["probability"], abs=1e-4)


# ------------------------------------------------------------------ folders of images


def _color_images(rng, n, size):
    return [rng.integers(0, 256, (size, size + 3, 3), dtype=np.uint8) for _ in range(n)]


@pytest.fixture
def image_folder(tmp_path):
    """Three classes of odd-sized images in many modes and formats, plus a corrupt file."""
    rng = np.random.default_rng(0)
    root = tmp_path / "photos"
    for k, name in enumerate(("bird", "cat", "dog")):
        images = [np.clip(im.astype(int) // 2 + 60 * k, 0, 255).astype(np.uint8)
                  for im in _color_images(rng, 6, 20 + k)]
        write_images(root / name, images[:2])
        write_images(root / name / "gray", images[2:4], mode="L")  # nested: ignored
        for i, image in enumerate(images[2:4]):
            Image.fromarray(image).convert("L").save(root / name / f"gray{i}.jpg")
        Image.fromarray(images[4]).convert("RGBA").save(root / name / "alpha.png")
        Image.fromarray(images[5]).convert("P").save(root / name / "palette.gif")
    (root / "cat" / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    (root / "dog" / "notes.txt").write_text("not an image")
    return root


def test_train_evaluate_predict_on_a_folder(image_folder, tmp_path):
    out = tmp_path / "model" / "pets.npz"
    result = mlpkit_cmd("train", image_folder, "--image-size", 12, "--hidden", "6,4",
                        "--epochs", 30, "--optimizer", "adam", "--learning-rate", 0.01,
                        "--batch-size", 8, "--validation-split", 0.25, "--seed", 1,
                        "--l2", 0.1, "--dropout", 0.1, "--batch-norm", "--out", out)
    assert_ok(result)
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "broken.jpg" in warnings[0]
    assert "dev err" in result.stderr
    assert "dev accuracy:" in result.stdout and "verdict: " in result.stdout
    model = mlpkit.load(out)
    assert model.classes == ["bird", "cat", "dog"] and model.image_size == 12
    assert model.network.output_activation == "softmax" and model.network.batch_norm
    assert out.with_name("pets_costs.png").is_file()

    evaluated = mlpkit_cmd("evaluate", out, image_folder)
    assert_ok(evaluated)
    assert "macro average" in evaluated.stdout and "broken.jpg" in evaluated.stderr
    images, labels, _, _ = mlpkit.load_image_folder(image_folder, 12, warn=lambda m: None)
    accuracy = float(re.search(r"^accuracy +([\d.]+)", evaluated.stdout, re.M)[1])
    assert accuracy == pytest.approx(np.mean(model.predict(images) == labels), abs=1e-4)

    predicted = mlpkit_cmd("predict", out, image_folder / "cat" / "alpha.png",
                           image_folder / "dog" / "palette.gif", "--json")
    assert_ok(predicted)
    for answer in json.loads(predicted.stdout):
        assert sorted(answer["probabilities"]) == ["bird", "cat", "dog"]
        assert sum(answer["probabilities"].values()) == pytest.approx(1.0)


def test_strict_makes_an_unreadable_image_an_error(image_folder, tmp_path):
    result = mlpkit_cmd("train", image_folder, "--strict", "--epochs", 2,
                        "--out", tmp_path / "m.npz")
    assert_error(result, 1, "broken.jpg")
    assert not (tmp_path / "m.npz").exists()


def test_predict_skips_unreadable_files_and_fails(image_folder, tmp_path):
    out = tmp_path / "m.npz"
    assert_ok(mlpkit_cmd("train", image_folder, "--image-size", 8, "--epochs", 3, "--out", out))
    good = image_folder / "bird" / "img0.png"
    result = mlpkit_cmd("predict", out, good, image_folder / "cat" / "broken.jpg",
                        tmp_path / "absent.png")
    assert_error(result, 1, "2 of 3 image(s) could not be read")
    assert result.stdout.startswith(f"{good}\t")
    assert "broken.jpg" in result.stderr and "absent.png" in result.stderr


# ------------------------------------------------------------------ gradcheck and demo


def test_gradcheck_passes():
    result = mlpkit_cmd("gradcheck")
    assert_ok(result)
    differences = [float(d) for d in re.findall(r"relative difference (\S+)", result.stdout)]
    assert len(differences) == 2 and max(differences) < 1e-7
    assert result.stdout.splitlines()[-1] == "PASS"


def test_gradcheck_fails_with_a_coarse_step():
    result = mlpkit_cmd("gradcheck", "--epsilon", 0.5)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stdout.splitlines()[-1] == "FAIL"


def test_a_reader_that_goes_away_ends_the_command_quietly():
    """`mlpkit ... | head`: the pipe closed before the output is written is exit 141 (as a
    shell reports SIGPIPE), with no error line and no traceback."""
    process = subprocess.Popen([sys.executable, "-m", "mlpkit", "gradcheck"], env=ENV,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    process.stdout.close()  # before the first line is printed
    stderr = process.stderr.read()
    assert process.wait(timeout=300) == 141, stderr
    assert stderr == ""


def test_convert_and_serve_options_are_checked(tmp_path):
    assert_error(mlpkit_cmd("convert", tmp_path, tmp_path / "o.h5", "--prefix", "a/b"), 2,
                 "expected letters, digits or underscores")
    assert_error(mlpkit_cmd("serve", tmp_path / "m.npz", "--max-upload-mb", "1e-9"), 2,
                 "must be a finite number >= 0.001 and <= 4096; got 1e-09")


def test_demo(tmp_path):
    start = time.perf_counter()
    result = mlpkit_cmd("demo", "--out", tmp_path / "demo")
    seconds = time.perf_counter() - start
    assert_ok(result)
    rows = {m[2]: (float(m[3]), float(m[4])) for m in re.finditer(
        r"^(flower|digits) +(.+?) +([\d.]+) +([\d.]+) +[\d.]+$", result.stdout, re.M)}
    # measured: 0.51, 0.94 / 0.9325 and 0.973 (the runs are seeded)
    assert rows["logistic regression"][0] < 0.55  # a line cannot separate the petals
    assert rows["4 tanh units"][0] > 0.92 and rows["4 tanh units"][1] > 0.91
    assert rows["64-64-32-10 relu, softmax"][1] > 0.96
    names = sorted(p.name for p in (tmp_path / "demo").iterdir())
    assert names == ["digits_costs.png", "digits_mislabeled.png", "flower.png",
                     "flower_hidden_sizes.png"]
    print(f"mlpkit demo took {seconds:.1f} s")


def test_python_m_and_help():
    result = mlpkit_cmd("--help")
    assert_ok(result)
    for command in ("train", "evaluate", "predict", "gradcheck", "demo"):
        assert command in result.stdout
    assert mlpkit_cmd().returncode == 2


# ------------------------------------------------------------------ errors a person will hit


@pytest.mark.parametrize(
    "options, message",
    [
        (["--epochs", "-5"], "argument --epochs: must be an integer >= 1; got -5"),
        (["--epochs", "ten"], "argument --epochs: expected an integer, got 'ten'"),
        (["--hidden", "abc"], "argument --hidden: expected layer sizes like 20,7,5"),
        (["--hidden", "5,0"], "argument --hidden: every layer needs at least 1 unit"),
        (["--learning-rate", "0"],
         "argument --learning-rate: must be a finite number > 0; got 0.0"),
        (["--learning-rate", "-0.1"], "argument --learning-rate: must be a finite number > 0"),
        (["--learning-rate", "nan"], "argument --learning-rate: must be a finite number > 0"),
        (["--learning-rate", "inf"], "argument --learning-rate: must be a finite number > 0"),
        (["--dropout", "1"], "argument --dropout: must be a finite number >= 0 and < 1; got 1.0"),
        (["--dropout", "-0.2"], "argument --dropout: must be a finite number >= 0 and < 1"),
        (["--l2", "-1"], "argument --l2: must be a finite number >= 0; got -1.0"),
        (["--batch-size", "0"], "argument --batch-size: must be an integer >= 1; got 0"),
        (["--image-size", "0"], "argument --image-size: must be an integer >= 1"),
        (["--validation-split", "1.5"],
         "argument --validation-split: must be a finite number >= 0 and < 1; got 1.5"),
        (["--optimizer", "sgdx"], "argument --optimizer: invalid choice: 'sgdx'"),
        (["--hidden", "none", "--dropout", "0.5"], "--dropout needs at least one hidden layer"),
        (["--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_nonsensical_options(tmp_path, options, message):
    result = mlpkit_cmd("train", tmp_path, *options, "--out", tmp_path / "m.npz")
    assert_error(result, 2, message)
    assert not (tmp_path / "m.npz").exists()


def test_usage_errors_of_other_commands(tmp_path):
    assert_error(mlpkit_cmd("predict", tmp_path / "m.npz"), 2,
                 "the following arguments are required: IMAGE")
    assert_error(mlpkit_cmd("evaluate"), 2, "the following arguments are required")
    assert_error(mlpkit_cmd("gradcheck", "--epsilon", "0"), 2, "argument --epsilon")
    assert_error(mlpkit_cmd("fly"), 2, "invalid choice: 'fly'")


def test_missing_paths(tmp_path):
    absent = tmp_path / "absent"
    assert_error(mlpkit_cmd("train", absent), 1, f"{absent}: no such file or directory")
    assert_error(mlpkit_cmd("evaluate", absent, tmp_path), 1, f"{absent}: no such model file")
    assert_error(mlpkit_cmd("predict", absent, "x.png"), 1, f"{absent}: no such model file")


def test_folders_without_two_classes_of_images(tmp_path):
    rng = np.random.default_rng(0)
    one = tmp_path / "one"
    write_images(one / "cat", _color_images(rng, 2, 8))
    assert_error(mlpkit_cmd("train", one), 1, "found 1 class subfolder(s) ['cat']; need at least 2")
    empty = tmp_path / "empty"
    (empty / "cat").mkdir(parents=True)
    (empty / "dog").mkdir()
    (empty / "dog" / "readme.txt").write_text("no pictures here")
    assert_error(mlpkit_cmd("train", empty), 1, "no image files")
    broken = tmp_path / "broken"
    for name in ("cat", "dog"):
        (broken / name).mkdir(parents=True)
        (broken / name / "x.png").write_bytes(b"garbage")
    result = mlpkit_cmd("train", broken)
    assert_error(result, 1, "none of the image files could be read")
    assert result.stderr.count("warning: skipping") == 2


def _h5(path, **datasets):
    with h5py.File(path, "w") as f:
        for name, value in datasets.items():
            f.create_dataset(name, data=value)
    return path


def test_bad_hdf5_files(tmp_path):
    wrong = _h5(tmp_path / "wrong.h5", pictures=np.zeros((3, 8, 8, 3), np.uint8))
    assert_error(mlpkit_cmd("train", wrong), 1, "expected exactly one '<prefix>_set_x'")
    empty = _h5(tmp_path / "empty.h5", train_set_x=np.zeros((0, 8, 8, 3), np.uint8),
                train_set_y=np.zeros(0, np.int64))
    assert_error(mlpkit_cmd("train", empty), 1, "train_set_x is empty")
    one_class = _h5(tmp_path / "one.h5", train_set_x=np.zeros((4, 8, 8, 3), np.uint8),
                    train_set_y=np.ones(4, np.int64))
    assert_error(mlpkit_cmd("train", one_class), 1, "only one class")
    not_h5 = tmp_path / "data.h5"
    not_h5.write_text("plain text")
    assert_error(mlpkit_cmd("train", not_h5), 1, "not a readable HDF5 file")


def test_float_pixels_are_refused_streamed_or_not(tmp_path):
    """Float images in an HDF5 file are not pixels 0..255 (the model scales by 1/255): refused
    before training, in memory and streamed alike."""
    rng = np.random.default_rng(0)
    floats = _h5(tmp_path / "floats.h5", train_set_x=rng.random((6, 8, 8, 3), np.float32),
                 train_set_y=np.arange(6) % 2)
    for stream in ("--no-stream", "--stream"):
        assert_error(mlpkit_cmd("train", floats, stream, "--epochs", 1), 1,
                     "expected uint8 pixels in 0..255")


def test_a_bad_out_or_split_is_refused_before_training(tmp_path):
    rng = np.random.default_rng(0)
    data = _h5(tmp_path / "d.h5", train_set_x=rng.integers(0, 256, (6, 8, 8, 3), np.uint8),
               train_set_y=np.arange(6) % 2)
    folder = tmp_path / "a_folder"
    folder.mkdir()
    result = mlpkit_cmd("train", data, "--out", folder)
    assert_error(result, 1, "is a directory; expected a file name such as model.npz")
    assert "training" not in result.stdout  # refused before any epoch
    assert_error(mlpkit_cmd("evaluate", tmp_path / "no.npz", data, "--mislabeled", folder), 1,
                 "is a directory")
    for stream in ("--no-stream", "--stream"):
        assert_error(mlpkit_cmd("train", data, stream, "--validation-split", "0.95"), 1,
                     "cannot hold out a stratified validation split of 0.95 from 6 images of 2 "
                     "classes; every class needs images on both sides: change "
                     "--validation-split")


def test_workers_on_an_hdf5_file_says_it_has_no_effect(tmp_path):
    rng = np.random.default_rng(0)
    data = _h5(tmp_path / "d.h5", train_set_x=rng.integers(0, 256, (6, 8, 8, 3), np.uint8),
               train_set_y=np.arange(6) % 2)
    result = mlpkit_cmd("train", data, "--no-stream", "--workers", 2, "--epochs", 2,
                        "--out", tmp_path / "m.npz")
    assert_ok(result)
    assert ("mlpkit: warning: --workers sets the processes decoding a folder's images; "
            f"{data} is an HDF5 file, read without decoding") in result.stderr


def test_hdf5_size_must_match(tmp_path, cat_model, cat_data_dir):
    rng = np.random.default_rng(0)
    small = _h5(tmp_path / "small.h5", test_set_x=rng.integers(0, 256, (6, 32, 32, 3), np.uint8),
                test_set_y=np.arange(6) % 2, list_classes=np.array([b"non-cat", b"cat"]))
    _, out = cat_model
    assert_error(mlpkit_cmd("evaluate", out, small), 1,
                 "holds 32x32 images but the model takes 64x64 images")
    assert_error(mlpkit_cmd("train", small, "--image-size", 64), 1,
                 "holds 32x32 images but --image-size is 64")
    assert_error(mlpkit_cmd("train", small, "--test", cat_data_dir / "test_catvnoncat.h5"), 1,
                 "holds 64x64 images but the model takes 32x32 images")


def test_data_with_unknown_classes(tmp_path, cat_model):
    rng = np.random.default_rng(0)
    folder = tmp_path / "animals"
    for name in ("cat", "horse"):
        write_images(folder / name, _color_images(rng, 2, 10))
    _, out = cat_model
    assert_error(mlpkit_cmd("evaluate", out, folder), 1,
                 "class(es) ['horse'] are not among the model's classes ['non-cat', 'cat']")


def test_bad_model_files(tmp_path, cat_model):
    _, out = cat_model
    data = out.read_bytes()
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(data[: len(data) // 2])
    text = tmp_path / "text.npz"
    text.write_text("hello")
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, W1=np.zeros(3))
    future = tmp_path / "future.npz"
    with np.load(out, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    header = json.loads(str(arrays["mlpkit_header"]))
    header["format_version"] = 99
    arrays["mlpkit_header"] = np.array(json.dumps(header))
    np.savez(future, **arrays)
    network = mlpkit.save(mlpkit.Network([12288, 1]), tmp_path / "network.npz")
    image = write_images(tmp_path, [np.zeros((64, 64, 3), np.uint8)])[0]
    cases = [
        (truncated, "truncated or damaged model file"),
        (text, "not an mlpkit model file (not a .npz archive)"),
        (foreign, "not an mlpkit model file"),
        (future, "model format version 99"),
        (network, "holds a Network, not an image classifier"),
    ]
    for path, message in cases:
        assert_error(mlpkit_cmd("predict", path, image), 1, message)
    assert_error(mlpkit_cmd("evaluate", truncated, image.parent), 1, "truncated")


# ------------------------------------------------------------------ the defaults


@pytest.mark.slow
def test_default_options_make_a_good_cat_recognizer(cat_data_dir, tmp_path):
    """`mlpkit train` with default options: mean test accuracy over seeds 0-4 >= 0.76."""
    seeds = range(5)
    start = time.perf_counter()
    runs = [subprocess.Popen(
        [sys.executable, "-m", "mlpkit", "train", str(cat_data_dir / "train_catvnoncat.h5"),
         "--test", str(cat_data_dir / "test_catvnoncat.h5"), "--seed", str(seed),
         "--out", str(tmp_path / f"seed{seed}.npz")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV) for seed in seeds]
    accuracies = []
    for run in runs:
        stdout, stderr = run.communicate(timeout=1200)
        assert run.returncode == 0, stderr
        accuracies.append(float(re.search(r"test accuracy: ([\d.]+)", stdout)[1]))
    print(f"test accuracy by seed {dict(zip(seeds, accuracies, strict=True))}, "
          f"mean {np.mean(accuracies):.3f}, {time.perf_counter() - start:.0f} s")
    assert np.mean(accuracies) >= 0.76
