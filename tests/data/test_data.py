"""Tests for mlpkit.data."""

import warnings

import h5py
import numpy as np
import pytest
from PIL import Image

from mlpkit.data import (
    HOUSE_PRICE_BIAS,
    HOUSE_PRICE_NOISE,
    HOUSE_PRICE_WEIGHTS,
    Standardizer,
    data_dir,
    flatten_images,
    from_one_hot,
    horizontal_flip,
    load_cat_data,
    load_dataset,
    load_h5,
    load_image,
    load_image_folder,
    make_flower,
    make_house_prices,
    one_hot,
)


def write_h5(path, prefix="train", x=None, y=None, classes=(b"non-cat", b"cat")):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (5, 8, 8, 3), dtype=np.uint8) if x is None else x
    y = np.array([0, 1, 1, 0, 1], dtype=np.int64) if y is None else y
    with h5py.File(path, "w") as f:
        if x is not False:
            f[f"{prefix}_set_x"] = x
        if y is not False:
            f[f"{prefix}_set_y"] = y
        if classes is not None:
            f["list_classes"] = np.array(classes)
    return x, y


# ---------------------------------------------------------------------------------------------
# HDF5
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["train", "test"])
def test_load_h5_round_trip(tmp_path, prefix):
    x, y = write_h5(tmp_path / "d.h5", prefix)
    X, Y, classes = load_h5(tmp_path / "d.h5")
    assert X.dtype == np.uint8 and X.shape == (5, 8, 8, 3)
    np.testing.assert_array_equal(X, x)
    assert Y.dtype == np.int64 and Y.shape == (5,)
    np.testing.assert_array_equal(Y, y)
    assert classes == ["non-cat", "cat"]


def test_load_h5_grayscale_and_default_classes(tmp_path):
    x = np.arange(4 * 6 * 6, dtype=np.uint8).reshape(4, 6, 6)
    write_h5(tmp_path / "g.h5", "dev", x=x, y=np.array([0, 2, 1, 2]), classes=None)
    X, Y, classes = load_h5(str(tmp_path / "g.h5"))
    assert X.shape == (4, 6, 6)
    np.testing.assert_array_equal(Y, [0, 2, 1, 2])
    assert classes == ["0", "1", "2"]


def test_load_h5_row_labels_and_int_pixels(tmp_path):
    x = np.full((3, 4, 4, 3), 200, dtype=np.int64)
    write_h5(tmp_path / "r.h5", x=x, y=np.array([[1, 0, 1]]))
    X, Y, _ = load_h5(tmp_path / "r.h5")
    assert X.dtype == np.uint8 and X.max() == 200
    assert Y.shape == (3,)


def test_load_h5_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.h5"):
        load_h5(tmp_path / "nope.h5")


def test_load_h5_not_hdf5(tmp_path):
    p = tmp_path / "fake.h5"
    p.write_bytes(b"this is not an HDF5 file at all" * 10)
    with pytest.raises(ValueError, match="fake.h5.*HDF5"):
        load_h5(p)


def test_load_h5_missing_datasets_lists_found(tmp_path):
    write_h5(tmp_path / "m.h5", y=False)
    with pytest.raises(ValueError, match=r"_set_x.*train_set_x") as e:
        load_h5(tmp_path / "m.h5")
    assert "m.h5" in str(e.value) and "list_classes" in str(e.value)
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f["images"] = np.zeros((2, 4, 4, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match="images"):
        load_h5(tmp_path / "other.h5")


def test_load_h5_empty_set(tmp_path):
    write_h5(tmp_path / "e.h5", x=np.zeros((0, 8, 8, 3), np.uint8), y=np.zeros(0, np.int64))
    with pytest.raises(ValueError, match="empty"):
        load_h5(tmp_path / "e.h5")


def test_load_h5_length_mismatch(tmp_path):
    write_h5(tmp_path / "l.h5", y=np.array([0, 1, 1]))
    with pytest.raises(ValueError, match="5 images"):
        load_h5(tmp_path / "l.h5")


@pytest.mark.parametrize("shape", [(5, 8, 8, 4), (5, 192), (5, 8, 8, 3, 1)])
def test_load_h5_bad_image_shape(tmp_path, shape):
    write_h5(tmp_path / "s.h5", x=np.zeros(shape, np.uint8))
    with pytest.raises(ValueError, match="expected"):
        load_h5(tmp_path / "s.h5")


def test_load_h5_bad_pixels_and_labels(tmp_path):
    write_h5(tmp_path / "p.h5", x=np.full((5, 2, 2, 3), 300, dtype=np.int64))
    with pytest.raises(ValueError, match="uint8"):
        load_h5(tmp_path / "p.h5")
    write_h5(tmp_path / "q.h5", y=np.array([0, 1, -1, 0, 1]))
    with pytest.raises(ValueError, match="negative"):
        load_h5(tmp_path / "q.h5")
    write_h5(tmp_path / "c.h5", y=np.array([0, 1, 2, 0, 1]))
    with pytest.raises(ValueError, match="list_classes"):
        load_h5(tmp_path / "c.h5")


def test_load_cat_data_small_files(tmp_path):
    x_tr, y_tr = write_h5(tmp_path / "train_catvnoncat.h5", "train")
    write_h5(tmp_path / "test_catvnoncat.h5", "test", y=np.array([1, 1, 0, 0, 0]))
    train_x, train_y, test_x, test_y, classes = load_cat_data(tmp_path)
    np.testing.assert_array_equal(train_x, x_tr)
    assert train_y.shape == (1, 5) and test_y.shape == (1, 5)
    np.testing.assert_array_equal(test_y, [[1, 1, 0, 0, 0]])
    assert classes == ["non-cat", "cat"]


def test_data_dir_env(monkeypatch, tmp_path):
    monkeypatch.setenv("MLPKIT_DATA", str(tmp_path))
    assert data_dir() == tmp_path
    monkeypatch.delenv("MLPKIT_DATA")
    assert str(data_dir()) == "../shared/data"


# ---------------------------------------------------------------------------------------------
# Real cat data
# ---------------------------------------------------------------------------------------------


def test_real_cat_data(cat_data_dir):
    train_x, train_y, test_x, test_y, classes = load_cat_data(cat_data_dir)
    assert train_x.shape == (209, 64, 64, 3) and train_x.dtype == np.uint8
    assert train_y.shape == (1, 209)
    assert test_x.shape == (50, 64, 64, 3) and test_y.shape == (1, 50)
    assert int(train_y.sum()) == 72
    assert int(test_y.sum()) == 33
    assert classes == ["non-cat", "cat"]

    X = flatten_images(train_x)
    assert X.shape == (12288, 209)
    np.testing.assert_array_equal(X, train_x.reshape(train_x.shape[0], -1).T / 255.0)
    assert X.min() == 0.0 and X.max() == 1.0  # pixels 0 and 255 both occur

    images, labels, cls, paths = load_dataset(cat_data_dir / "test_catvnoncat.h5")
    assert images.shape == (50, 64, 64, 3) and paths is None and cls == classes
    np.testing.assert_array_equal(labels, test_y[0])


# ---------------------------------------------------------------------------------------------
# flatten_images
# ---------------------------------------------------------------------------------------------


def test_flatten_images_order_and_dtype():
    images = np.random.default_rng(1).integers(0, 256, (4, 3, 2, 3), dtype=np.uint8)
    X = flatten_images(images)
    assert X.shape == (18, 4) and X.dtype == np.float64
    np.testing.assert_array_equal(X, images.reshape(images.shape[0], -1).T / 255.0)
    # column j is example j, pixel-major then channel
    np.testing.assert_array_equal(X[:3, 2], images[2, 0, 0, :] / 255.0)
    X32 = flatten_images(images, dtype=np.float32)
    assert X32.dtype == np.float32
    np.testing.assert_allclose(X32, X, rtol=1e-6)
    with pytest.raises(ValueError, match="float32 or float64"):
        flatten_images(images, dtype=np.int32)


# ---------------------------------------------------------------------------------------------
# Image folders
# ---------------------------------------------------------------------------------------------


def make_folder(root):
    """cat: RGB jpg, grayscale png, upper-case JPG; dog: RGBA png, palette gif, bmp; plus junk."""
    (root / "cat").mkdir(parents=True)
    (root / "dog").mkdir()
    Image.new("RGB", (80, 60), (200, 10, 10)).save(root / "cat" / "a.jpg")
    Image.new("L", (30, 30), 128).save(root / "cat" / "b.png")
    Image.new("RGB", (64, 64), (0, 255, 0)).save(root / "cat" / "c.JPG")
    Image.new("RGBA", (20, 40), (0, 0, 255, 0)).save(root / "dog" / "d.png")
    Image.new("P", (50, 50), 3).save(root / "dog" / "e.gif")
    Image.new("RGB", (10, 12), (1, 2, 3)).save(root / "dog" / "f.bmp")
    (root / "dog" / "notes.txt").write_text("not an image")
    (root / ".hidden").mkdir()


def test_load_image_folder(tmp_path):
    make_folder(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        images, labels, classes, paths = load_image_folder(tmp_path, image_size=16)
    assert images.shape == (6, 16, 16, 3) and images.dtype == np.uint8
    assert labels.dtype == np.int64
    np.testing.assert_array_equal(labels, [0, 0, 0, 1, 1, 1])
    assert classes == ["cat", "dog"]
    assert [p.split("/")[-1] for p in paths] == ["a.jpg", "b.png", "c.JPG", "d.png", "e.gif",
                                                  "f.bmp"]
    assert np.all(images[1] == 128)  # grayscale -> equal RGB channels
    assert np.all(images[3] == 255)  # fully transparent -> white
    assert abs(int(images[0, 8, 8, 0]) - 200) < 5 and images[0, 8, 8, 1] < 20


def test_load_image_folder_corrupt_file(tmp_path):
    make_folder(tmp_path)
    (tmp_path / "dog" / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    with pytest.warns(UserWarning, match="broken.jpg"):
        images, labels, _, paths = load_image_folder(tmp_path, image_size=8)
    assert images.shape[0] == 6 and not any("broken" in p for p in paths)

    messages = []
    load_image_folder(tmp_path, image_size=8, warn=messages.append)
    assert len(messages) == 1 and "broken.jpg" in messages[0]

    with pytest.raises(ValueError, match="broken.jpg"):
        load_image_folder(tmp_path, image_size=8, strict=True)


def test_load_image_folder_truncated_png(tmp_path):
    make_folder(tmp_path)
    good = (tmp_path / "cat" / "b.png").read_bytes()
    (tmp_path / "cat" / "trunc.png").write_bytes(good[: len(good) // 2])
    with pytest.raises(ValueError, match="trunc.png"):
        load_image_folder(tmp_path, strict=True)


def test_load_image_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_image_folder(tmp_path / "missing")
    (tmp_path / "only").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "only" / "x.png")
    with pytest.raises(ValueError, match="at least 2"):
        load_image_folder(tmp_path)
    (tmp_path / "other").mkdir()
    with pytest.raises(ValueError, match="'other'"):
        load_image_folder(tmp_path)

    empty = tmp_path / "empty"
    (empty / "a").mkdir(parents=True)
    (empty / "b").mkdir()
    (empty / "b" / "readme.txt").write_text("x")
    with pytest.raises(ValueError, match="no image files"):
        load_image_folder(empty)

    with pytest.raises(ValueError, match="image_size"):
        load_image_folder(tmp_path, image_size=0)


def test_class_with_only_corrupt_images(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "a" / "x.png")
    (tmp_path / "b" / "bad.png").write_bytes(b"nope")
    with pytest.raises(ValueError, match="'b'"):
        load_image_folder(tmp_path, warn=lambda msg: None)


def test_load_image(tmp_path):
    Image.new("LA", (30, 10), (50, 255)).save(tmp_path / "g.png")
    img = load_image(tmp_path / "g.png", 12)
    assert img.shape == (12, 12, 3) and img.dtype == np.uint8
    assert np.all(img == 50)
    with pytest.raises(FileNotFoundError):
        load_image(tmp_path / "none.png")
    (tmp_path / "bad.webp").write_bytes(b"RIFF0000WEBPjunk")
    with pytest.raises(ValueError, match="bad.webp"):
        load_image(tmp_path / "bad.webp")


def test_load_image_applies_exif_orientation(tmp_path):
    img = Image.new("RGB", (40, 20), (255, 0, 0))
    img.paste((0, 0, 255), (20, 0, 40, 20))  # left red, right blue
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    img.save(tmp_path / "rot.png", exif=exif)
    img.transpose(Image.Transpose.ROTATE_270).save(tmp_path / "upright.png")
    np.testing.assert_array_equal(load_image(tmp_path / "rot.png", 16),
                                  load_image(tmp_path / "upright.png", 16))
    assert not np.array_equal(load_image(tmp_path / "rot.png", 16),
                              np.asarray(img.resize((16, 16))))


def test_load_dataset_dispatch(tmp_path):
    make_folder(tmp_path / "folder")
    images, labels, classes, paths = load_dataset(tmp_path / "folder", image_size=10)
    assert images.shape == (6, 10, 10, 3) and len(paths) == 6 and classes == ["cat", "dog"]

    write_h5(tmp_path / "d.h5")
    images, labels, classes, paths = load_dataset(tmp_path / "d.h5", image_size=64)
    assert images.shape == (5, 8, 8, 3)  # not resized
    assert paths is None and labels.shape == (5,)
    with pytest.raises(FileNotFoundError):
        load_dataset(tmp_path / "nothing")


# ---------------------------------------------------------------------------------------------
# Labels, standardization, augmentation
# ---------------------------------------------------------------------------------------------


def test_one_hot_round_trip():
    labels = np.array([2, 0, 1, 2, 2])
    Y = one_hot(labels)
    assert Y.shape == (3, 5) and Y.dtype == np.float64
    np.testing.assert_array_equal(Y[:, 0], [0, 0, 1])
    np.testing.assert_array_equal(Y.sum(axis=0), np.ones(5))
    np.testing.assert_array_equal(from_one_hot(Y), labels)
    assert from_one_hot(Y).dtype == np.int64
    np.testing.assert_array_equal(one_hot(labels.reshape(1, -1), 4)[:3], Y)
    assert one_hot(labels, 4).shape == (4, 5)
    np.testing.assert_array_equal(one_hot(np.array([1.0, 0.0])), [[0, 1], [1, 0]])
    assert one_hot([], 3).shape == (3, 0)


def test_one_hot_errors():
    with pytest.raises(ValueError, match=">= 0"):
        one_hot([0, -1, 2])
    with pytest.raises(ValueError, match="out of range"):
        one_hot([0, 3], n_classes=3)
    with pytest.raises(ValueError, match="integers"):
        one_hot([0.5, 1.0])
    with pytest.raises(ValueError, match="shape"):
        one_hot(np.zeros((2, 3), dtype=int))
    with pytest.raises(ValueError, match="shape"):
        from_one_hot(np.zeros(3))


def test_standardizer_uses_training_statistics():
    rng = np.random.default_rng(0)
    X_train = rng.normal([[5.0], [-2.0], [100.0]], [[2.0], [0.5], [30.0]], (3, 500))
    X_test = rng.normal([[6.0], [-2.0], [90.0]], [[1.0], [0.5], [10.0]], (3, 50))
    s = Standardizer()
    Z = s.fit_transform(X_train)
    np.testing.assert_allclose(Z.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(Z.var(axis=1), 1, rtol=1e-12)
    assert s.mean_.shape == (3, 1) and s.var_.shape == (3, 1)
    np.testing.assert_allclose(s.mean_, X_train.mean(axis=1, keepdims=True))
    np.testing.assert_allclose(s.var_, X_train.var(axis=1, keepdims=True))

    mean_before, var_before = s.mean_.copy(), s.var_.copy()
    Zt = s.transform(X_test)
    expected = (X_test - X_train.mean(axis=1, keepdims=True)) / X_train.std(axis=1, keepdims=True)
    np.testing.assert_allclose(Zt, expected, rtol=1e-12)
    np.testing.assert_array_equal(s.mean_, mean_before)  # transform does not refit
    np.testing.assert_array_equal(s.var_, var_before)
    assert abs(Zt[0].mean() - 0.5) < 0.2  # test mean 6 vs train mean 5, train sigma 2


def test_standardizer_constant_feature_dtype_and_errors():
    X = np.array([[0.1, 0.1, 0.1, 0.1], [1.0, 2.0, 3.0, 4.0]], dtype=np.float32)
    s = Standardizer().fit(X)
    Z = s.transform(X)
    assert Z.dtype == np.float32
    np.testing.assert_array_equal(Z[0], 0)
    assert np.all(np.isfinite(Z))
    assert s.transform(np.array([[1, 2], [3, 4]])).dtype == np.float64

    with pytest.raises(ValueError, match="not fitted"):
        Standardizer().transform(X)
    with pytest.raises(ValueError, match="features"):
        s.transform(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="NaN"):
        Standardizer().fit(np.array([[1.0, np.nan]]))


def test_horizontal_flip():
    images = np.arange(2 * 2 * 3 * 3, dtype=np.uint8).reshape(2, 2, 3, 3)
    aug, lab = horizontal_flip(images, np.array([[0, 1]]))
    assert aug.shape == (4, 2, 3, 3) and lab.shape == (1, 4)
    np.testing.assert_array_equal(aug[:2], images)
    np.testing.assert_array_equal(aug[2, :, 0], images[0, :, 2])
    np.testing.assert_array_equal(aug[3], images[1][:, ::-1])
    np.testing.assert_array_equal(lab, [[0, 1, 0, 1]])
    _, lab1 = horizontal_flip(images, np.array([1, 0]))
    np.testing.assert_array_equal(lab1, [1, 0, 1, 0])
    with pytest.raises(ValueError, match="labels"):
        horizontal_flip(images, np.array([0, 1, 1]))


# ---------------------------------------------------------------------------------------------
# Synthetic data
# ---------------------------------------------------------------------------------------------


def test_make_flower():
    X, Y = make_flower()
    assert X.shape == (2, 400) and Y.shape == (1, 400)
    assert X.dtype == np.float64 and Y.dtype == np.float64
    assert Y.sum() == 200 and set(np.unique(Y)) == {0.0, 1.0}
    np.testing.assert_array_equal(Y[0, :200], 0)
    X2, Y2 = make_flower()
    np.testing.assert_array_equal(X, X2)
    assert not np.array_equal(X, make_flower(seed=2)[0])
    assert np.linalg.norm(X, axis=0).max() < 4 + 1.5

    Xn, _ = make_flower(m=100, noise=0.0)
    t = np.concatenate([np.linspace(0, 3.12, 50), np.linspace(3.12, 6.24, 50)])
    r = 4 * np.sin(4 * t)
    np.testing.assert_allclose(Xn, np.stack([r * np.sin(t), r * np.cos(t)]), atol=1e-12)
    with pytest.raises(ValueError, match="even"):
        make_flower(m=401)


def test_make_house_prices():
    X, Y = make_house_prices(m=3000, seed=3)
    assert X.shape == (4, 3000) and Y.shape == (1, 3000)
    assert np.all((X[1] >= 1) & (X[1] <= 6))
    A = np.vstack([X, np.ones((1, X.shape[1]))]).T
    coef, residuals, *_ = np.linalg.lstsq(A, Y[0], rcond=None)
    # least squares recovers the weights and bias within 4 standard errors (measured: < 1.3)
    standard_errors = np.sqrt(np.diag(np.linalg.inv(A.T @ A)) * residuals[0] / (3000 - 5))
    z = (coef - np.r_[HOUSE_PRICE_WEIGHTS, HOUSE_PRICE_BIAS]) / standard_errors
    assert np.all(np.abs(z) < 4), z
    assert np.sqrt(residuals[0] / (3000 - 5)) == pytest.approx(HOUSE_PRICE_NOISE, rel=0.05)
    np.testing.assert_array_equal(make_house_prices(seed=3)[0], make_house_prices(seed=3)[0])
    assert make_house_prices()[0].shape == (4, 200)
