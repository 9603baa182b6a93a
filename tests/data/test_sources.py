"""Streaming sources (HDF5, .npy, image files), the block shuffle, streamed evaluation and
prediction, and `convert_image_folder`, on small files made in tmp_path."""

import os
import subprocess
import sys
import threading
import time
import warnings

import h5py
import numpy as np
import psutil
import pytest
from PIL import Image

from mlpkit import Network, Standardizer, flatten_images, load_h5, load_image_folder, one_hot
from mlpkit.data import (
    BlockShuffle,
    HDF5Source,
    ImageFilesSource,
    ImageFolderSource,
    NpySource,
    convert_image_folder,
    evaluate_source,
    open_source,
    predict_source,
)
from mlpkit.data.sources import base as sources_base
from mlpkit.data.sources import hdf5 as sources_hdf5
from mlpkit.data.streams import prefetched
from mlpkit.training import ExactShuffle, NoShuffle
from mlpkit.training.batches import closing_batches


def write_h5(path, x, y, classes=(b"non-cat", b"cat"), prefix="train", chunks=None):
    with h5py.File(path, "w") as f:
        f.create_dataset(f"{prefix}_set_x", data=x, chunks=chunks)
        f[f"{prefix}_set_y"] = y
        if classes is not None:
            f["list_classes"] = np.array(classes)
    return path


@pytest.fixture
def images():
    """(uint8 images (m, 6, 6, 3), labels (m,)): 2 classes, m not a multiple of the batches."""
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (203, 6, 6, 3), dtype=np.uint8), rng.integers(0, 2, 203)


@pytest.fixture
def files(tmp_path, images):
    x, y = images
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    return write_h5(tmp_path / "d.h5", x, y, chunks=(16, 6, 6, 3)), tmp_path / "x.npy"


def write_folder(root, images, labels, names=("cat", "dog"), suffix=".png"):
    for i, (image, label) in enumerate(zip(images, labels, strict=True)):
        folder = root / names[label]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(folder / f"{i:04d}{suffix}")
    return root


def fit_parameters(data, Y=None, shuffle=True, epochs=3, dtype=np.float64, **options):
    net = Network([108, 5, 3, 1], seed=0)
    net.fit(data, Y, epochs=epochs, learning_rate=0.1, batch_size=16, shuffle=shuffle, seed=4,
            optimizer="adam", **options)
    return net


# ---------------------------------------------------------------------------------------------
# The same seed and order give the same parameters from memory, HDF5 and .npy
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shuffle", [BlockShuffle(16, 3), True, False], ids=["block", "exact",
                                                                              "none"])
def test_memory_hdf5_and_npy_give_the_same_parameters(files, images, dtype, shuffle):
    h5, npy = files
    x, y = images
    memory = fit_parameters(flatten_images(x, dtype), y.reshape(1, -1), shuffle)
    streamed = [
        HDF5Source(h5, dtype=dtype),
        HDF5Source(h5, dtype=dtype, prefetch=2, read_buffer=2000),  # a reading thread, windows
        NpySource(npy, npy.with_name("y.npy"), dtype=dtype),          # of a few batches
        NpySource(npy, y, dtype=dtype, prefetch=3),
    ]
    for source in streamed:
        net = fit_parameters(source, shuffle=shuffle)
        assert net.dtype == dtype
        np.testing.assert_array_equal(net.parameters.vector, memory.parameters.vector)
        assert net.training_state.history.costs == memory.training_state.history.costs


def test_streamed_standardized_softmax_training_equals_memory(tmp_path, images):
    """Three classes (one-hot targets), a fitted standardizer applied per batch, dropout and
    batch norm: still the same parameters as in memory."""
    x, _ = images
    y = np.arange(len(x)) % 3
    h5 = write_h5(tmp_path / "three.h5", x, y, classes=(b"a", b"b", b"c"))
    X = flatten_images(x)
    standardizer = Standardizer().fit(X)
    source = HDF5Source(h5, standardizer=standardizer)
    assert source.n_outputs == 3 and source.classes == ["a", "b", "c"]

    def run(data, Y=None):
        net = Network([108, 6, 3], output_activation="softmax", batch_norm=True, seed=1)
        net.fit(data, Y, epochs=2, batch_size=32, learning_rate=0.05, keep_prob=0.8, seed=2,
                shuffle=BlockShuffle(20, 2))
        return net.parameters.vector

    np.testing.assert_array_equal(run(source), run(standardizer.transform(X), one_hot(y, 3)))


def test_an_image_folder_streams_the_pixels_load_image_folder_reads(tmp_path, images):
    x, y = images
    root = write_folder(tmp_path / "photos", x[:60], y[:60])
    loaded, labels, classes, _ = load_image_folder(root, 6)
    memory = Network([108, 4, 1], seed=0)
    memory.fit(flatten_images(loaded), labels.reshape(1, -1), epochs=2, batch_size=8, seed=1,
               learning_rate=0.1)
    for workers in (0, 1, 3):
        source = ImageFolderSource(root, 6, workers=workers)
        assert source.classes == classes == ["cat", "dog"]
        np.testing.assert_array_equal(source.labels, labels)
        net = Network([108, 4, 1], seed=0)
        net.fit(source, epochs=2, batch_size=8, seed=1, learning_rate=0.1)
        np.testing.assert_array_equal(net.parameters.vector, memory.parameters.vector)


def test_batches_are_exactly_the_examples_of_the_order(files, images):
    h5, npy = files
    x, y = images
    X = flatten_images(x, np.float32)
    rng = np.random.default_rng(5)
    orders = [rng.permutation(203), np.arange(203)[::-1], rng.integers(0, 203, 50),
              np.array([7, 7, 3]), np.arange(0)]
    for source in (HDF5Source(h5, dtype=np.float32, read_buffer=1500),
                   NpySource(npy, y, dtype=np.float32, prefetch=2)):
        for order in orders:
            got = [(b.X.copy(), b.Y.copy(), b.index.copy()) for b in source.batches(order, 16)]
            if not order.size:
                assert got == []
                continue
            np.testing.assert_array_equal(np.hstack([g[0] for g in got]), X[:, order])
            np.testing.assert_array_equal(np.hstack([g[1] for g in got]), y[order][None])
            np.testing.assert_array_equal(np.concatenate([g[2] for g in got]), order)
            assert [g[0].shape[1] for g in got][:-1] == [16] * (len(got) - 1)


def test_a_subset_and_relabelled_source(files, images):
    h5, _ = files
    x, y = images
    source = HDF5Source(h5)
    part = source.subset([5, 1, 100])
    assert part.n_examples == 3 and source.n_examples == 203
    np.testing.assert_array_equal(part.labels, y[[5, 1, 100]])
    np.testing.assert_array_equal(part.full_batch().X, flatten_images(x[[5, 1, 100]]))
    np.testing.assert_array_equal(part.images([2, 0]), x[[100, 5]])
    swapped = part.relabel(["cat", "non-cat", "bird"])
    np.testing.assert_array_equal(swapped.labels, 1 - y[[5, 1, 100]])
    assert swapped.n_outputs == 3
    with pytest.raises(ValueError, match=r"class\(es\) \['cat'\] are not among"):
        source.relabel(["non-cat", "dog"])


# ---------------------------------------------------------------------------------------------
# The block shuffle
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("m, block, buffer", [(1, 4, 2), (10, 3, 2), (203, 16, 3), (256, 16, 4),
                                              (1000, 7, 1), (50, 100, 5)])
def test_the_block_shuffle_visits_every_example_once_per_epoch(m, block, buffer):
    shuffle = BlockShuffle(block, buffer)
    rng = np.random.default_rng(0)
    orders = [shuffle.order(epoch, m, rng) for epoch in range(4)]
    for order in orders:
        assert order.dtype.kind == "i"
        np.testing.assert_array_equal(np.sort(order), np.arange(m))
        # each window of block * buffer positions holds pieces of <= buffer + 1 blocks, each a
        # contiguous range of rows: a source reads a window as that many ranges
        window = block * buffer
        for start in range(0, m, window):
            rows = np.sort(order[start : start + window])
            runs = 1 + np.count_nonzero(np.diff(rows) > 1)
            assert runs <= buffer + 1
            assert len(np.unique(rows // block)) <= buffer + 1
    if m >= 50:
        assert not all(np.array_equal(orders[0], o) for o in orders[1:])
        assert not np.array_equal(orders[0], np.arange(m))


def test_the_block_shuffle_is_reproducible_and_mixes_inside_its_buffer():
    shuffle = BlockShuffle(10, 4)
    a = shuffle.order(0, 400, np.random.default_rng(1))
    np.testing.assert_array_equal(a, shuffle.order(0, 400, np.random.default_rng(1)))
    window = a[:40]
    assert len(np.unique(window // 10)) == 4  # four blocks mixed together
    assert not np.array_equal(np.sort(window[:10]), window[:10])
    # a buffer covering all blocks: a permutation of everything
    whole = BlockShuffle(10, 40).order(0, 400, np.random.default_rng(2))
    assert len(np.unique(whole[:40] // 10)) > 10
    assert shuffle.name == "block(10,4)"
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="must be an integer >= 1"):
            BlockShuffle(bad, 4)


def test_a_block_shuffled_epoch_reads_a_few_contiguous_ranges(files, monkeypatch):
    h5, _ = files
    reads = []
    original = sources_hdf5._H5Reader.read

    def counting(self, start, stop, out):
        reads.append((start, stop))
        return original(self, start, stop, out)

    monkeypatch.setattr(sources_hdf5._H5Reader, "read", counting)
    # read in windows of 64 examples: the shuffle's windows, pieces of <= 5 blocks of 16
    source = HDF5Source(h5, read_buffer=4 * 16 * 108)
    shuffle = source.block_shuffle(buffer_blocks=4)
    assert (shuffle.block_size, shuffle.buffer_blocks) == (16, 4)
    order = shuffle.order(0, 203, np.random.default_rng(0))
    assert sum(b.size for b in source.batches(order, 16)) == 203
    assert len(reads) <= 4 * 5  # at most buffer_blocks + 1 contiguous reads per window
    assert 203 <= sum(stop - start for start, stop in reads) <= 2 * 203  # gaps read through
    block_reads = len(reads)  # 13
    reads.clear()
    for _ in source.batches(np.random.default_rng(0).permutation(203), 16):
        pass
    assert len(reads) > 10 * block_reads  # an exact shuffle: many short reads (146)


@pytest.mark.parametrize("chunks", [None, (16, 6, 6, 3)], ids=["contiguous", "chunked"])
def test_the_next_window_is_announced_to_the_kernel(tmp_path, images, monkeypatch, chunks):
    x, y = images
    path = write_h5(tmp_path / "d.h5", x, y, chunks=chunks)
    hints = []
    monkeypatch.setattr(os, "posix_fadvise", lambda fd, offset, length, advice: hints.append(
        (offset, length, advice)))
    source = HDF5Source(path, read_buffer=64 * 108)  # windows of 64 examples: 4 of them
    order = BlockShuffle(16, 4).order(0, 203, np.random.default_rng(0))
    assert sum(b.size for b in source.batches(order, 16)) == 203
    assert {advice for _, _, advice in hints} == {os.POSIX_FADV_WILLNEED}
    size = path.stat().st_size
    assert all(0 < offset and offset + length <= size for offset, length, _ in hints)
    # every window but the first announced: at least its bytes
    assert sum(length for _, length, _ in hints) >= (203 - 64) * 108


# ---------------------------------------------------------------------------------------------
# Standardizing in one streaming pass
# ---------------------------------------------------------------------------------------------


def test_partial_fit_gives_fit_statistics():
    rng = np.random.default_rng(0)
    X = rng.normal(3, 2, (6, 500))
    X[2] = 7.0  # a constant feature
    streamed = Standardizer()
    for start in range(0, 500, 64):
        streamed.partial_fit(X[:, start : start + 64])
    whole = Standardizer().fit(X)
    np.testing.assert_allclose(streamed.mean_, whole.mean_, rtol=1e-12)
    np.testing.assert_allclose(streamed.var_, whole.var_, rtol=1e-10)
    assert streamed.mean_[2, 0] == 7.0 and streamed.var_[2, 0] == 0 and streamed.scale_[2, 0] == 1
    assert streamed.n_samples_seen_ == 500
    continued = Standardizer().fit(X[:, :100]).partial_fit(X[:, 100:])
    np.testing.assert_allclose(continued.var_, whole.var_, rtol=1e-10)
    with pytest.raises(ValueError, match="NaN"):
        Standardizer().partial_fit(np.full((2, 3), np.nan))


def test_fit_standardizer_in_one_pass_over_a_source(files, images):
    h5, _ = files
    x, _ = images
    source = HDF5Source(h5)
    fitted = source.fit_standardizer(batch_size=50)
    assert source.standardizer is fitted
    whole = Standardizer().fit(flatten_images(x))
    np.testing.assert_allclose(fitted.mean_, whole.mean_, rtol=1e-12)
    np.testing.assert_allclose(fitted.var_, whole.var_, rtol=1e-9)
    batch = next(source.batches(np.arange(10), 10))
    np.testing.assert_allclose(batch.X, whole.transform(flatten_images(x[:10])), rtol=1e-9)
    with pytest.raises(ValueError, match="fitted on 5 features"):
        source.standardizer = Standardizer().fit(np.ones((5, 2)))


# ---------------------------------------------------------------------------------------------
# Evaluation, prediction and validation stream too
# ---------------------------------------------------------------------------------------------


def test_evaluate_predict_and_validate_a_source_as_in_memory(files, images, tmp_path):
    h5, _ = files
    x, y = images
    X, Y = flatten_images(x), y.reshape(1, -1).astype(float)
    net = fit_parameters(X, Y, epochs=2)
    source = HDF5Source(h5)
    cost, score = evaluate_source(net, source, batch_size=17)
    assert (cost, score) == pytest.approx(net.evaluate(X, Y), rel=1e-12)
    outputs, index = predict_source(net, source, batch_size=30)
    np.testing.assert_allclose(outputs, net.predict_proba(X), rtol=1e-12)
    np.testing.assert_array_equal(index, np.arange(203))

    memory = Network([108, 5, 3, 1], seed=0)
    history = memory.fit(X[:, :150], Y[:, :150], epochs=3, batch_size=16, seed=1,
                         validation_data=(X[:, 150:], Y[:, 150:]), patience=2)
    streamed = Network([108, 5, 3, 1], seed=0)
    streamed_history = streamed.fit(source.subset(np.arange(150)), epochs=3, batch_size=16,
                                    seed=1, validation_data=source.subset(np.arange(150, 203)),
                                    patience=2)
    np.testing.assert_allclose(streamed_history.val_costs, history.val_costs, rtol=1e-12)
    assert streamed_history.val_scores == history.val_scores
    np.testing.assert_array_equal(streamed.parameters.vector, memory.parameters.vector)


def test_regression_targets_from_npy_and_r2_by_batches(tmp_path):
    rng = np.random.default_rng(3)
    features = rng.normal(size=(150, 4)).astype(np.float32)
    targets = np.column_stack([features @ [1, -2, 0.5, 0], np.full(150, 2.0)])
    np.save(tmp_path / "f.npy", features)
    source = NpySource(tmp_path / "f.npy", targets, dtype=np.float64)
    assert source.n_outputs == 2 and source.labels is None
    net = Network([4, 3, 2], output_activation="linear", seed=0)
    net.fit(source, epochs=5, batch_size=20, learning_rate=0.01, seed=0)
    X, Y = features.T.astype(np.float64), targets.T
    assert evaluate_source(net, source, 32) == pytest.approx(net.evaluate(X, Y), rel=1e-12)


def test_fit_checks_a_source_against_the_network(files):
    h5, _ = files
    source = HDF5Source(h5)
    with pytest.raises(ValueError, match="has 108 features but the network expects n_x = 50"):
        Network([50, 1]).fit(source, epochs=1, batch_size=10)
    with pytest.raises(ValueError, match="targets with 1 rows but the network has 3 output"):
        Network([108, 3], output_activation="softmax").fit(source, epochs=1, batch_size=10)
    with pytest.raises(ValueError, match="already holds its targets"):
        Network([108, 1]).fit(source, np.zeros((1, 203)), epochs=1)
    with pytest.raises(ValueError, match="validation source has 108 features"):
        Network([50, 1]).fit(np.zeros((50, 4)), np.zeros((1, 4)), validation_data=source)


def test_full_batch_when_it_fits_and_a_clear_error_when_not(files, images, monkeypatch):
    h5, _ = files
    x, y = images
    source = HDF5Source(h5)
    net = Network([108, 1], seed=0)
    history = net.fit(source, epochs=2, learning_rate=0.1)  # batch_size None: full batch
    memory = Network([108, 1], seed=0)
    assert history.costs == memory.fit(flatten_images(x), y.reshape(1, -1), epochs=2,
                                       learning_rate=0.1).costs
    monkeypatch.setattr(sources_base, "available_memory", lambda: 100_000)
    with pytest.raises(ValueError, match="too big for one full batch; give a batch_size"):
        source.full_batch()


# ---------------------------------------------------------------------------------------------
# Bad input while streaming
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "x, y, message",
    [
        (np.zeros((5, 4, 4, 3), np.uint8), np.zeros(4), r"holds 5 images but train_set_y has "
         r"shape \(4,\)"),
        (np.zeros((5, 4, 4, 3), np.int64), np.zeros(5), "has dtype int64; streaming reads uint8"),
        (np.zeros((5, 4, 4, 4), np.uint8), np.zeros(5), r"expected \(m, h, w, 3\) RGB"),
        (np.zeros((0, 4, 4, 3), np.uint8), np.zeros(0), "is empty"),
        (np.zeros((5, 4, 4, 3), np.uint8), np.array([0, 1, 2, 0.5, 1]), "integer class labels"),
        (np.zeros((5, 4, 4, 3), np.uint8), np.array([0, 1, 2, 0, 1]), "label 2 has no name"),
    ],
)
def test_a_bad_hdf5_file_is_refused_before_training(tmp_path, x, y, message):
    path = write_h5(tmp_path / "bad.h5", x, y)
    with pytest.raises(ValueError, match=message):
        HDF5Source(path)


def test_hdf5_files_without_the_datasets(tmp_path):
    with h5py.File(tmp_path / "g.h5", "w") as f:
        f["x"] = np.zeros((3, 4), np.float32)
        f.create_group("y")
    with pytest.raises(ValueError, match="expected exactly one '<prefix>_set_x'"):
        HDF5Source(tmp_path / "g.h5")
    with pytest.raises(ValueError, match="'y' is a group"):
        HDF5Source(tmp_path / "g.h5", "x", "y")
    with pytest.raises(ValueError, match="'z' is no such dataset; datasets present"):
        HDF5Source(tmp_path / "g.h5", "z")
    with pytest.raises(FileNotFoundError, match="absent.h5: no such file"):
        HDF5Source(tmp_path / "absent.h5")
    (tmp_path / "text.h5").write_text("not hdf5")
    with pytest.raises(ValueError, match="not a readable HDF5 file"):
        HDF5Source(tmp_path / "text.h5")
    (tmp_path / "text.npy").write_text("not npy")
    with pytest.raises(ValueError, match="not a readable .npy file"):
        NpySource(tmp_path / "text.npy")
    np.save(tmp_path / "x.npy", np.zeros((4, 3), np.float32))
    with pytest.raises(ValueError, match=r"the array holds 4 images but y has shape \(3,\)"):
        NpySource(tmp_path / "x.npy", np.zeros(3))


class TruncatingAfter:
    """A source that truncates `path` to half after `k` batches of its first pass."""

    def __init__(self, source, path, k):
        self.source, self.path, self.k = source, path, k
        self.n_examples, self.n_features = source.n_examples, source.n_features
        self.dtype, self.n_outputs = source.dtype, source.n_outputs

    def batches(self, order, batch_size):
        batches = self.source.batches(order, batch_size)
        try:
            for i, batch in enumerate(batches):
                if i == self.k:
                    os.truncate(self.path, os.path.getsize(self.path) // 2)
                yield batch
        finally:
            batches.close()


@pytest.mark.parametrize("kind, prefetch", [("h5", 0), ("h5", 2), ("npy", 0)])
def test_a_file_truncated_or_removed_during_training_stops_it(files, kind, prefetch):
    h5, npy = files
    path = h5 if kind == "h5" else npy
    # a memory map truncated while a reading thread copies from it would crash (SIGBUS): the
    # .npy case truncates between reads, in the reading thread's absence
    source = (HDF5Source(h5, prefetch=prefetch, read_buffer=1000) if kind == "h5"
              else NpySource(npy, npy.with_name("y.npy"), prefetch=0, read_buffer=1000))
    whole = path.read_bytes()
    net = Network([108, 1], seed=0)
    start = net.parameters.vector.copy()
    with pytest.raises(OSError, match=f"{path.name}: the file was truncated during training"):
        net.fit(TruncatingAfter(source, path, 2), epochs=3, batch_size=8)
    # nothing half-trained: the network is as it was before the call
    assert net.training_state is None
    np.testing.assert_array_equal(net.parameters.vector, start)
    with pytest.raises(ValueError, match=f"{path.name}: .*truncated"):  # found when opened
        net.fit(source, epochs=3, batch_size=8)
    path.write_bytes(whole)
    net.fit(source, epochs=1, batch_size=8)
    path.unlink()
    with pytest.raises(FileNotFoundError, match=f"{path.name}: no such file"):
        net.fit(source, epochs=3, batch_size=8)
    np.save(path, np.zeros((3, 108), np.uint8)) if kind == "npy" else write_h5(
        path, np.zeros((3, 6, 6, 3), np.uint8), np.zeros(3))
    with pytest.raises(ValueError, match="changed since the source was opened"):
        net.fit(source, epochs=3, batch_size=8)


@pytest.fixture
def folder_with_a_broken_image(tmp_path, images):
    x, y = images
    root = write_folder(tmp_path / "photos", x[:30], y[:30])
    (root / "dog" / "broken.png").write_bytes(b"\x89PNG not really")
    return root


@pytest.mark.parametrize("workers", [0, 2])
def test_an_unreadable_image_is_skipped_with_a_warning_once(folder_with_a_broken_image, workers):
    messages = []
    source = ImageFolderSource(folder_with_a_broken_image, 6, workers=workers,
                               warn=messages.append)
    assert source.n_examples == 31
    net = Network([108, 1], seed=0)
    history = net.fit(source, epochs=3, batch_size=4, learning_rate=0.1)
    assert len(messages) == 1 and "broken.png" in messages[0] and "skipping" in messages[0]
    assert net.training_state.samples_seen == 3 * 30
    evaluated = evaluate_source(net, source)
    images_, labels, _, _ = load_image_folder(folder_with_a_broken_image, 6, warn=lambda m: 0)
    assert evaluated == pytest.approx(net.evaluate(flatten_images(images_),
                                                   labels.reshape(1, -1)), rel=1e-12)
    outputs, index = predict_source(net, source)
    assert outputs.shape == (1, 30) and 30 not in index  # broken.png, the last file
    assert np.isfinite(history.costs).all()


@pytest.mark.parametrize("workers", [0, 2])
def test_strict_makes_an_unreadable_image_stop_training(folder_with_a_broken_image, workers):
    source = ImageFolderSource(folder_with_a_broken_image, 6, workers=workers, strict=True)
    with pytest.raises(ValueError, match="broken.png: cannot read image"):
        Network([108, 1]).fit(source, epochs=2, batch_size=4)
    assert _workers(source) == 0


def test_an_image_removed_during_training_is_skipped(tmp_path, images):
    x, y = images
    root = write_folder(tmp_path / "photos", x[:20], y[:20])
    victim = sorted((root / "cat").iterdir())[0]
    messages = []
    source = ImageFolderSource(root, 6, workers=2, warn=messages.append)
    Network([108, 1]).fit(source, epochs=3, batch_size=4,
                          callback=lambda e, h: victim.unlink(missing_ok=True))
    assert len(messages) == 1 and victim.name in messages[0]


def test_no_readable_image_at_all(tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "x.png").write_bytes(b"garbage")
    source = ImageFolderSource(tmp_path, 6, warn=lambda m: None)
    with pytest.raises(ValueError, match="none of the image files could be read"):
        Network([108, 1]).fit(source, epochs=1, batch_size=4)


def _reading_threads():
    return sum(t.name.startswith("mlpkit-read") for t in threading.enumerate())


def _workers(source):
    """The decoding worker processes of an image source that are alive."""
    pool = source._pool
    return 0 if pool is None else sum(pid is not None and psutil.pid_exists(pid)
                                      for pid in pool.pids())


def test_threads_and_workers_stop_on_an_early_exit(files, tmp_path, images):
    h5, _ = files
    x, y = images
    root = write_folder(tmp_path / "photos", x[:40], y[:40])
    hdf5 = HDF5Source(h5, prefetch=2)
    Network([108, 1]).fit(hdf5, epochs=2, batch_size=4)
    assert _reading_threads() == 0  # the reading thread stops at the end of each pass
    batches = hdf5.batches(np.arange(20), 4)
    next(batches)
    assert _reading_threads() == 1
    batches.close()
    assert _reading_threads() == 0

    folder = ImageFolderSource(root, 6, workers=2)
    Network([108, 1]).fit(folder, epochs=2, batch_size=4)
    assert _workers(folder) == 2  # kept, idle, for the next pass
    batches = folder.batches(np.arange(20), 4)
    next(batches)
    batches.close()
    assert _workers(folder) == 0  # a pass left early stops them
    Network([108, 1]).fit(folder, epochs=1, batch_size=4)
    assert _workers(folder) == 2
    folder.close()
    assert _workers(folder) == 0


def test_ctrl_c_in_the_loop_stops_the_decoding_workers(tmp_path, images):
    """A KeyboardInterrupt raised in the training thread (as Ctrl-C is) while workers decode:
    the run is put back to its last epoch, and no worker is left running."""
    x, y = images
    root = write_folder(tmp_path / "photos", x[:40], y[:40])
    source = ImageFolderSource(root, 6, workers=2, prefetch=3)
    steps = []
    original = Network.backward

    def backward(self, *args, **kwargs):
        steps.append(1)
        if len(steps) == 13:
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    net = Network([108, 1], seed=0)
    from mlpkit import TrainingInterrupted

    Network.backward = backward
    try:
        with pytest.raises(TrainingInterrupted):
            net.fit(source, epochs=3, batch_size=4, interruptible=True)
    finally:
        Network.backward = original
    assert net.training_state.epoch == 1 and _workers(source) == 0


def test_a_prefetching_thread_hands_its_error_over():
    def produce():
        yield 1
        raise OSError("disk gone")

    got = []
    with pytest.raises(OSError, match="disk gone"):
        for item in prefetched(produce, 2):
            got.append(item)
    assert got == [1]


def test_open_source_and_image_files(files, tmp_path, images):
    h5, npy = files
    x, _ = images
    assert isinstance(open_source(h5), HDF5Source)
    assert isinstance(open_source(npy), NpySource)
    with pytest.raises(FileNotFoundError, match="no such file or directory"):
        open_source(tmp_path / "absent")
    paths = []
    for i in range(3):
        paths.append(tmp_path / f"p{i}.png")
        Image.fromarray(x[i]).save(paths[-1])
    source = ImageFilesSource(paths, image_size=6, workers=2)
    assert source.labels is None and source.n_outputs is None
    batch = next(source.batches(np.arange(3), 3))
    assert batch.Y is None
    np.testing.assert_array_equal(batch.X, flatten_images(x[:3]))
    gray = write_h5(tmp_path / "gray.h5", x[:4, :, :, 0], np.array([0, 1, 0, 1]))
    rgb = open_source(gray)
    assert rgb.image_shape == (6, 6, 3) and rgb.n_features == 108
    np.testing.assert_array_equal(rgb.full_batch().X,
                                  flatten_images(np.repeat(x[:4, :, :, :1], 3, axis=-1)))


def test_importing_the_data_package_loads_no_file_library():
    """(scikit-learn's check_scalar, which data's checks use, loads joblib: not a file library)"""
    code = ("import sys, mlpkit.data, mlpkit.data.streams; "
            "from mlpkit.data import BlockShuffle, HDF5Source; "
            "print([m for m in ('h5py', 'PIL', 'matplotlib', 'tqdm') if m in "
            "sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"


# ---------------------------------------------------------------------------------------------
# convert_image_folder
# ---------------------------------------------------------------------------------------------


def test_convert_writes_the_course_layout(folder_with_a_broken_image, tmp_path):
    messages = []
    out = tmp_path / "out" / "photos.h5"
    summary = convert_image_folder(folder_with_a_broken_image, out, 6, workers=2,
                                   warn=messages.append, progress=lambda n: None)
    assert summary["images"] == 30 and summary["skipped"] == 1
    assert len(messages) == 1 and "broken.png" in messages[0]
    x, y, classes = load_h5(out)
    loaded, labels, names, paths = load_image_folder(folder_with_a_broken_image, 6,
                                                     warn=lambda m: None)
    assert classes == names == ["cat", "dog"] and x.dtype == np.uint8
    with h5py.File(out) as f:
        stored = [str(folder_with_a_broken_image / p) for p in f["train_set_paths"].asstr()[:]]
        assert f["train_set_x"].chunks is not None
    position = [paths.index(p) for p in stored]
    assert position != sorted(position)  # stored in a shuffled order
    np.testing.assert_array_equal(x, loaded[position])
    np.testing.assert_array_equal(y, labels[position])
    kept = convert_image_folder(folder_with_a_broken_image, tmp_path / "kept.h5", 6,
                                shuffle=False, warn=lambda m: None, prefix="test")
    assert kept["images"] == 30
    np.testing.assert_array_equal(load_h5(tmp_path / "kept.h5")[0], loaded)
    assert sorted(p.name for p in out.parent.iterdir()) == ["photos.h5"]


def test_a_failed_convert_leaves_no_file(folder_with_a_broken_image, tmp_path):
    out = tmp_path / "photos.h5"
    with pytest.raises(ValueError, match="broken.png: cannot read image"):
        convert_image_folder(folder_with_a_broken_image, out, 6, strict=True)
    assert list(tmp_path.iterdir()) == [folder_with_a_broken_image]
    out.write_bytes(b"old contents")
    with pytest.raises(ValueError, match="broken.png"):
        convert_image_folder(folder_with_a_broken_image, out, 6, strict=True, workers=0)
    assert out.read_bytes() == b"old contents"


def test_the_shuffles_sources_accept():
    for shuffle in (ExactShuffle(), NoShuffle(), BlockShuffle(4, 2)):
        order = shuffle.order(0, 30, np.random.default_rng(0))
        np.testing.assert_array_equal(np.sort(order), np.arange(30))


def test_warnings_go_to_warnings_warn_by_default(folder_with_a_broken_image):
    source = ImageFolderSource(folder_with_a_broken_image, 6, workers=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in source.batches(np.arange(source.n_examples), 8):
            pass
    assert len(caught) == 1 and "broken.png" in str(caught[0].message)


def test_image_files_labels_are_checked(tmp_path, images):
    x, _ = images
    paths = []
    for i in range(3):
        paths.append(tmp_path / f"p{i}.png")
        Image.fromarray(x[i]).save(paths[-1])
    for labels, message in [([0, -1, 1], "negative labels"), ([0, 0.5, 1], "integer class"),
                            ([0, 1], r"holds 3 images but labels has shape \(2,\)")]:
        with pytest.raises(ValueError, match=message):
            ImageFilesSource(paths, labels, image_size=6)
    with pytest.raises(ValueError, match=r"label 2 has no class among the 2 classes "
                                         r"\['cat', 'dog'\]; expected labels 0..1"):
        ImageFilesSource(paths, [0, 1, 2], ["cat", "dog"], image_size=6)
    source = ImageFilesSource(paths, [0.0, 1.0, 2.0], image_size=6, workers=0)
    assert source.classes == ["0", "1", "2"] and source.labels.dtype == np.int64
    assert next(source.batches(np.arange(3), 3)).Y.shape == (3, 3)


def test_open_source_passes_rgb_on_to_an_hdf5_file(tmp_path, images):
    x, _ = images
    gray = write_h5(tmp_path / "gray.h5", x[:4, :, :, 0], np.array([0, 1, 0, 1]))
    assert open_source(gray, rgb=False).image_shape == (6, 6)
    assert open_source(gray, rgb=True).image_shape == (6, 6, 3)


def test_a_missing_y_file_is_a_file_not_found_error(files, tmp_path):
    _, npy = files
    with pytest.raises(FileNotFoundError, match=r"absent\.npy: no such file"):
        NpySource(npy, tmp_path / "absent.npy")


@pytest.mark.parametrize("kind, options", [("h5", {}), ("h5", {"prefetch": 2}),
                                           ("images", {"workers": 0}),
                                           ("images", {"workers": 2})])
def test_a_batch_is_valid_until_the_next_one_is_asked_for(files, tmp_path, images, kind,
                                                          options):
    """As the module's docstring says: copies of the batches held one at a time are the
    batches, though the buffers are reused."""
    x, y = images
    if kind == "h5":
        source = HDF5Source(files[0], read_buffer=1000, **options)
    else:
        source = ImageFolderSource(write_folder(tmp_path / "photos", x[:40], y[:40]), 6,
                                   **options)
    order = np.arange(source.n_examples)
    held = []
    with closing_batches(source, order, 4) as batches:
        for batch in batches:
            held.append((batch.X, batch.X.copy()))
            time.sleep(0.002)  # give the prefetching a chance to run ahead
            np.testing.assert_array_equal(*held[-1])
    whole = source.full_batch().X
    np.testing.assert_array_equal(np.hstack([copy for _, copy in held]), whole)
    if not options.get("prefetch") and not options.get("workers"):
        assert np.shares_memory(held[0][0], held[1][0])  # the next batch overwrote it


def test_convert_progress_counts_the_skipped_images(folder_with_a_broken_image, tmp_path):
    counts = []
    summary = convert_image_folder(folder_with_a_broken_image, tmp_path / "out.h5", 6,
                                   workers=0, warn=lambda m: None, progress=counts.append)
    assert summary["skipped"] == 1 and sum(counts) == 31
    counts.clear()
    convert_image_folder(folder_with_a_broken_image, tmp_path / "kept.h5", 6, shuffle=False,
                         workers=2, warn=lambda m: None, progress=counts.append)
    assert sum(counts) == 31  # broken.png is the last file here
