"""`decode_image`: the bytes of an upload -> the same pixels `load_image` reads from a file."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from mlpkit.data.images import decode_image, load_image


def encoded(image, format, **options):
    buffer = io.BytesIO()
    image.save(buffer, format, **options)
    return buffer.getvalue()


def png_claiming(width, height):
    data = bytearray(encoded(Image.new("L", (8, 8)), "PNG"))
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


@pytest.mark.parametrize("mode, format, suffix", [
    ("RGB", "JPEG", ".jpg"), ("L", "PNG", ".png"), ("RGBA", "PNG", ".png"), ("P", "GIF", ".gif"),
    ("RGB", "BMP", ".bmp"), ("RGB", "WEBP", ".webp"), ("LA", "PNG", ".png"),
])
def test_the_same_pixels_as_load_image(tmp_path, mode, format, suffix):
    rng = np.random.default_rng(0)
    image = Image.fromarray(rng.integers(0, 256, (30, 45, 4), np.uint8), "RGBA").convert(mode)
    path = tmp_path / f"photo{suffix}"
    path.write_bytes(encoded(image, format))
    decoded = decode_image(path.read_bytes(), 16, name=path.name)
    assert decoded.dtype == np.uint8 and decoded.shape == (16, 16, 3)
    np.testing.assert_array_equal(decoded, load_image(path, 16))


def test_exif_orientation_is_applied_as_by_load_image(tmp_path):
    image = Image.new("RGB", (40, 20), (255, 0, 0))
    image.paste((0, 0, 255), (0, 0, 20, 20))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90 degrees
    path = tmp_path / "phone.jpg"
    image.save(path, exif=exif)
    decoded = decode_image(path.read_bytes(), 8)
    np.testing.assert_array_equal(decoded, load_image(path, 8))
    assert decoded[0, 0, 2] > 200 and decoded[-1, 0, 0] > 200  # blue on top after rotating


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("data, message", [
    (b"hello", "up.x: not an image in a supported format (JPEG, PNG, GIF, BMP, WebP)"),
    (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 8 8\n", "up.x: not an image in a supported"),
    (encoded(Image.new("RGB", (64, 64)), "JPEG")[:300], "up.x: corrupt or truncated image"),
    # Pillow only warns between 1x and 2x its limit; decode_image refuses
    (png_claiming(10_000, 9_000), "up.x: refused as a possible decompression bomb: more than "
                                  "89478485 pixels (10000x9000 = 90000000 pixels)"),
    (png_claiming(20_000, 10_000), "up.x: refused as a possible decompression bomb"),
], ids=["text", "eps", "truncated", "bomb-1x", "bomb-2x"])
def test_unreadable_uploads_raise_value_error_naming_them(data, message):
    with pytest.raises(ValueError) as error:
        decode_image(data, 8, name="up.x")
    assert str(error.value).startswith(message)
    assert "178956970" not in str(error.value)  # Pillow's other limit would contradict ours


@pytest.mark.filterwarnings("error::PIL.Image.DecompressionBombWarning")
def test_a_bomb_warning_made_an_error_is_refused_the_same_way():
    """`mlpkit serve` turns Pillow's warning into an error; it is reported as a ValueError."""
    with pytest.raises(ValueError, match="up.x: refused as a possible decompression bomb"):
        decode_image(png_claiming(10_000, 9_000), 8, name="up.x")


def test_image_size_is_checked():
    for bad in (0, -3, 2.5, True, "64"):
        with pytest.raises(ValueError, match=r"image_size must be an integer >= 1; got "):
            decode_image(encoded(Image.new("RGB", (4, 4)), "PNG"), bad)
