"""Worker processes decoding image folders into shared memory: the same parameters as decoding
in the training thread, a killed worker restarted once, Ctrl-C leaving no process and no
/dev/shm segment, unreadable files skipped or refused from a worker, a /dev/shm too small."""

import contextlib
import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest
from PIL import Image

from mlpkit import Network
from mlpkit.data import ImageFolderSource
from mlpkit.data.decode_pool import DecodePool, WorkerDied


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """60 small PNGs in 2 class folders, one of them not an image."""
    root = tmp_path_factory.mktemp("pool") / "photos"
    rng = np.random.default_rng(0)
    for i in range(60):
        folder = root / ("cat" if i % 3 else "dog")
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (14, 11, 3), dtype=np.uint8)).save(
            folder / f"{i:03d}.png")
    (root / "dog" / "broken.png").write_bytes(b"\x89PNG not really")
    return root


def segments_of(pids):
    """The /dev/shm files mapped by these processes."""
    found = set()
    for pid in pids:
        with contextlib.suppress(psutil.Error):  # a process already gone
            found |= {m.path for m in psutil.Process(pid).memory_maps()
                      if m.path.startswith("/dev/shm/")}
    return found


def train(source):
    net = Network([source.n_features, 4, 1], seed=0)
    net.fit(source, epochs=3, batch_size=8, seed=0, learning_rate=0.1, optimizer="adam")
    return net.parameters.vector


def test_two_workers_give_the_parameters_of_decoding_in_the_training_thread(photos):
    warned = {0: [], 2: []}
    here = ImageFolderSource(photos, 8, workers=0, warn=warned[0].append)
    pooled = ImageFolderSource(photos, 8, workers=2, warn=warned[2].append)
    try:
        np.testing.assert_array_equal(train(pooled), train(here))  # bit for bit
        assert len(warned[2]) == len(warned[0]) == 1 and "broken.png" in warned[2][0]
        order = np.random.default_rng(1).permutation(here.n_examples)
        for (a, i), (b, j) in zip(here.decoded(order, 7), pooled.decoded(order, 7), strict=True):
            np.testing.assert_array_equal(a, b)
            np.testing.assert_array_equal(i, j)
        assert all(p is not None for p in pooled._pool.pids())  # kept between passes
    finally:
        pooled.close()
    assert pooled._pool.pids() == [None, None]


def test_strict_refuses_a_corrupt_file_decoded_in_a_worker(photos):
    source = ImageFolderSource(photos, 8, workers=2, strict=True)
    with pytest.raises(ValueError, match=r"broken.png: cannot read image"):
        train(source)
    assert source._pool.pids() == [None, None]  # a pass left by an error stops the workers


def test_a_worker_killed_mid_epoch_is_restarted_once_then_the_run_stops(photos):
    here = ImageFolderSource(photos, 8, workers=0, warn=lambda m: None)
    expected = [(b.X.copy(), b.index.copy()) for b in here.batches(np.arange(60), 4)]
    source = ImageFolderSource(photos, 8, workers=2, prefetch=2, warn=lambda m: None)
    batches = source.batches(np.arange(60), 4)
    got = []
    for k, batch in enumerate(batches):
        got.append((batch.X.copy(), batch.index.copy()))
        if k == 2:
            os.kill(source._pool.pids()[0], signal.SIGKILL)
    assert len(got) == len(expected) and source._pool.deaths == 1
    for (a, i), (b, j) in zip(got, expected, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(i, j)
    batches = source.batches(np.arange(60), 4)
    next(batches)
    pids = source._pool.pids()
    mapped = segments_of(pids)
    assert len(mapped) == 1
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    with pytest.raises(WorkerDied) as died:
        list(batches)
    assert "\n" not in str(died.value) and "died again" in str(died.value)
    assert source._pool.pids() == [None, None]
    assert not any(Path(p).exists() for p in mapped)


def test_a_dev_shm_too_small_for_the_ring_is_a_clear_error(photos, monkeypatch):
    def full(fd, offset, length):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", full)
    before = set(os.listdir("/dev/shm"))
    source = ImageFolderSource(photos, 8, workers=2)
    with pytest.raises(OSError, match=r"/dev/shm has .* MiB free; the decoding workers' ring of "
                                      r"5 batches of 4 images of 8x8 needs .* MiB: enlarge"):
        next(source.batches(np.arange(60), 4))
    assert set(os.listdir("/dev/shm")) <= before
    source.close()


def test_ctrl_c_stops_the_workers_and_leaves_no_segment(photos, tmp_path):
    """SIGINT (Ctrl-C) to `mlpkit train --stream` mid-epoch: the run saves and exits 130, and no
    worker process nor /dev/shm segment outlives it."""
    out = tmp_path / "m.npz"
    run = subprocess.Popen(
        [sys.executable, "-m", "mlpkit", "train", str(photos), "--stream", "--workers", "2",
         "--image-size", "8", "--epochs", "100000", "--batch-size", "4", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    parent = psutil.Process(run.pid)
    deadline = time.monotonic() + 240
    workers, mapped = [], set()
    while time.monotonic() < deadline and not (len(workers) == 2 and mapped):
        time.sleep(0.2)
        assert run.poll() is None, run.stderr.read()
        workers = [p for p in parent.children()
                   if "spawn_main" in " ".join(p.cmdline()) and "pipe_handle" in
                   " ".join(p.cmdline())]
        mapped = segments_of([p.pid for p in workers])
    assert len(workers) == 2 and mapped, "the workers did not start"
    everyone = parent.children(recursive=True)
    run.send_signal(signal.SIGINT)
    _, stderr = run.communicate(timeout=120)
    assert run.returncode == 130, stderr
    gone, alive = psutil.wait_procs(everyone, timeout=10)
    assert not alive, alive
    assert not any(Path(p).exists() for p in mapped)


def test_a_pool_decodes_nothing_for_no_batches():
    pool = DecodePool(2)
    assert list(pool.decode([], 8, 4)) == []
    assert pool.pids() == [None, None]


def test_loading_a_folder_into_memory_with_workers_gives_the_same_arrays(photos):
    from mlpkit.data import load_image_folder

    warned = []
    here = load_image_folder(photos, 8, warn=lambda m: None, workers=0)
    pooled = load_image_folder(photos, 8, warn=warned.append, workers=2)
    np.testing.assert_array_equal(pooled[0], here[0])
    np.testing.assert_array_equal(pooled[1], here[1])
    assert pooled[2:] == here[2:] and len(here[3]) == 60
    assert len(warned) == 1 and "broken.png" in warned[0]
    with pytest.raises(ValueError, match="broken.png: cannot read image"):
        load_image_folder(photos, 8, strict=True, workers=2)
