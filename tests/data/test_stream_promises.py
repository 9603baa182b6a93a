"""What the README's "Training on data bigger than memory" promises: streamed training's peak
memory stays flat as the file grows, BLAS is capped while decoding threads run and restored
after, and `mlpkit convert` writes about 1 MiB uncompressed chunks in a seeded order."""

import json
import subprocess
import sys

import h5py
import numpy as np
import pytest
from PIL import Image
from threadpoolctl import threadpool_info, threadpool_limits

from mlpkit.data import ImageFolderSource, convert_image_folder, list_image_folder
from mlpkit.data.convert import CHUNK_BYTES

# ---------------------------------------------------------------------------------------------
# Peak memory
# ---------------------------------------------------------------------------------------------

STREAM_AND_REPORT_PEAK = """
import json, resource, sys
from mlpkit import Network
from mlpkit.data import HDF5Source

source = HDF5Source(sys.argv[1], dtype="float32", read_buffer=1 << 20)
net = Network([source.n_features, 4, 1], seed=0)
net.fit(source, epochs=1, batch_size=64, shuffle=source.block_shuffle(), seed=0,
        learning_rate=1e-3)
print(json.dumps(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024))
"""


def write_images_h5(path, m):
    rng = np.random.default_rng(0)
    with h5py.File(path, "w") as f:
        x = f.create_dataset("train_set_x", (m, 32, 32, 3), np.uint8, chunks=(256, 32, 32, 3))
        for start in range(0, m, 1000):  # written in pieces: the test's own memory stays small
            stop = min(m, start + 1000)
            x[start:stop] = rng.integers(0, 256, (stop - start, 32, 32, 3), dtype=np.uint8)
        f["train_set_y"] = np.arange(m) % 2
    return path


def peak_rss_streaming(path):
    done = subprocess.run([sys.executable, "-c", STREAM_AND_REPORT_PEAK, str(path)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_streamed_training_peak_memory_stays_flat_as_the_file_grows(tmp_path):
    """A child process trains an epoch on 1,000 then 8,000 images of 32 x 32 x 3 (3 then 23 MiB
    of uint8, 12 then 94 MiB as float32), reading 1 MiB windows. Its peak RSS (160-185 MiB,
    mostly the libraries) was the same to the byte in most runs, 5 MiB apart in one; the bound
    is half of the 20 MiB of uint8 the file grew by (as floats: 82 MiB)."""
    small = peak_rss_streaming(write_images_h5(tmp_path / "small.h5", 1000))
    large = peak_rss_streaming(write_images_h5(tmp_path / "large.h5", 8000))
    assert large - small < 7000 * 32 * 32 * 3 / 2, (small, large)


# ---------------------------------------------------------------------------------------------
# The BLAS cap while decoding threads run
# ---------------------------------------------------------------------------------------------


def blas_threads():
    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


@pytest.fixture
def photos(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(24):
        folder = tmp_path / "photos" / ("cat" if i % 2 else "dog")
        folder.mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 256, (10, 12, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"{i:03d}.png")
    return tmp_path / "photos"


def test_blas_is_capped_while_decoding_threads_run_and_restored_after(photos):
    if not blas_threads():
        pytest.skip("no BLAS library that threadpoolctl can see")
    with threadpool_limits(limits=3, user_api="blas"):
        assert blas_threads() == {3}
        source = ImageFolderSource(photos, 8, workers=2, blas_threads=1)
        during = []
        batches = source.batches(np.arange(source.n_examples), 4)
        for _ in batches:
            during.append(blas_threads())
        assert during == [{1}] * 6
        assert blas_threads() == {3}  # restored at the end of the pass
        batches = source.batches(np.arange(source.n_examples), 4)
        next(batches)
        assert blas_threads() == {1}
        batches.close()
        assert blas_threads() == {3}  # and when the pass is left early
        # the training thread decodes (workers=0): nothing to share the cores with, no cap
        for _ in ImageFolderSource(photos, 8, workers=0).batches(np.arange(4), 4):
            assert blas_threads() == {3}


def test_the_default_cap_is_the_cores_the_decoding_threads_leave(photos, monkeypatch):
    from mlpkit.data.sources import image_files

    monkeypatch.setattr(image_files, "cpu_count", lambda: 8)
    assert ImageFolderSource(photos, 8, workers=3).blas_threads == 5
    assert ImageFolderSource(photos, 8, workers=8).blas_threads == 1
    assert ImageFolderSource(photos, 8).blas_threads == 1  # one decoding thread per CPU
    assert ImageFolderSource(photos, 8, workers=0).blas_threads is None


# ---------------------------------------------------------------------------------------------
# convert's layout
# ---------------------------------------------------------------------------------------------


def stored_paths(path):
    with h5py.File(path) as f:
        return list(f["train_set_paths"].asstr()[:])


def test_convert_writes_uncompressed_chunks_of_about_1_mib(photos, tmp_path):
    summary = convert_image_folder(photos, tmp_path / "p.h5", 64)
    with h5py.File(tmp_path / "p.h5") as f:
        x = f["train_set_x"]
        # as many whole 64 x 64 x 3 images as fit in 1 MiB (85), capped at the 24 there are
        assert x.chunks == (24, 64, 64, 3) and summary["chunk_images"] == 24
        assert x.compression is None and x.id.get_create_plist().get_nfilters() == 0
    per_chunk = CHUNK_BYTES // (64 * 64 * 3)
    assert per_chunk == 85 and CHUNK_BYTES - 64 * 64 * 3 < per_chunk * 64 * 64 * 3 <= CHUNK_BYTES
    # enough images for a full chunk: the 24 images 4 times over
    big = tmp_path / "big"
    for i, p in enumerate(sorted(photos.rglob("*.png")) * 4):
        (big / p.parent.name).mkdir(parents=True, exist_ok=True)
        (big / p.parent.name / f"{i:03d}.png").write_bytes(p.read_bytes())
    convert_image_folder(big, tmp_path / "big.h5", 64)
    with h5py.File(tmp_path / "big.h5") as f:
        assert f["train_set_x"].chunks == (85, 64, 64, 3)
        assert f["train_set_x"].id.get_create_plist().get_nfilters() == 0


def test_convert_stores_a_seeded_order(photos, tmp_path):
    classes, files = list_image_folder(photos)
    listed = [str(p.relative_to(photos)) for c in classes for p in files[c]]
    for seed in (0, 7):
        convert_image_folder(photos, tmp_path / f"{seed}.h5", 8, seed=seed)
        permutation = np.random.default_rng(seed).permutation(len(listed))
        assert stored_paths(tmp_path / f"{seed}.h5") == [listed[i] for i in permutation]
    assert stored_paths(tmp_path / "0.h5") != stored_paths(tmp_path / "7.h5")
    convert_image_folder(photos, tmp_path / "again.h5", 8, seed=7, workers=3)
    with h5py.File(tmp_path / "7.h5") as a, h5py.File(tmp_path / "again.h5") as b:
        np.testing.assert_array_equal(a["train_set_x"][()], b["train_set_x"][()])
        np.testing.assert_array_equal(a["train_set_y"][()], b["train_set_y"][()])
    convert_image_folder(photos, tmp_path / "kept.h5", 8, shuffle=False)
    assert stored_paths(tmp_path / "kept.h5") == listed


def test_the_convert_command_passes_its_seed_on(photos, tmp_path):
    classes, files = list_image_folder(photos)
    listed = [str(p.relative_to(photos)) for c in classes for p in files[c]]
    out = tmp_path / "c.h5"
    subprocess.run([sys.executable, "-m", "mlpkit", "convert", str(photos), str(out),
                    "--image-size", "8", "--seed", "5"], check=True, capture_output=True,
                   timeout=120)
    assert stored_paths(out) == [listed[i] for i in np.random.default_rng(5).permutation(24)]
