"""Image files: decode, convert to RGB and resize with Pillow; folders with one subfolder per
class."""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from .checks import check_number
from .h5 import load_h5

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp"})

# The Pillow formats `decode_image` reads: the photo formats above (JPEG includes cameras'
# multi-picture MPO files), none of the rarely used decoders (nor EPS, which Pillow hands to
# Ghostscript).
UPLOAD_FORMATS = ("JPEG", "PNG", "GIF", "BMP", "WEBP")

# Resampling filter for resizing images; LANCZOS gives the least aliasing when shrinking photos.
RESAMPLE = Image.Resampling.LANCZOS


def _to_rgb(img: Image.Image, image_size: int) -> np.ndarray:
    """A loaded Pillow image -> uint8 (s, s, 3) RGB: EXIF orientation, transparency on white."""
    img = ImageOps.exif_transpose(img)
    if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
        # Transparent pixels become white instead of whatever color they hide.
        rgba = img.convert("RGBA")
        img = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img.alpha_composite(rgba)
    img = img.convert("RGB").resize((image_size, image_size), RESAMPLE)
    return np.asarray(img, dtype=np.uint8)


def _read_image(path: Path, image_size: int) -> np.ndarray:
    """One image file -> uint8 (s, s, 3) RGB; raises ValueError naming the file if unreadable."""
    try:
        with Image.open(path) as img:
            img.load()
            return _to_rgb(img, image_size)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise ValueError(f"{path}: cannot read image ({e})") from e


def decode_image(data: bytes, image_size: int = 64, name: str = "image") -> np.ndarray:
    """The bytes of an image file -> uint8 (s, s, 3) RGB, exactly as `load_image` reads a file.

    For data from strangers (uploads): only UPLOAD_FORMATS are decoded, and an image of more
    than `Image.MAX_IMAGE_PIXELS` pixels is refused before decoding (Pillow itself only warns
    up to twice that). Raises ValueError that starts with `name` and says what was wrong.
    """
    image_size = _check_size(image_size)
    try:
        with Image.open(io.BytesIO(data), formats=UPLOAD_FORMATS) as img:
            pixels = img.width * img.height
            if Image.MAX_IMAGE_PIXELS is not None and pixels > Image.MAX_IMAGE_PIXELS:
                raise Image.DecompressionBombError(f"{img.width}x{img.height} = {pixels}")
            img.load()
            return _to_rgb(img, image_size)
    except Image.UnidentifiedImageError:
        raise ValueError(
            f"{name}: not an image in a supported format (JPEG, PNG, GIF, BMP, WebP)"
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        # ours gives the image's size; Pillow's own (past twice the limit) quotes that other
        # limit, which would contradict the one named here
        size = f" ({e} pixels)" if str(e).split(" = ")[-1].isdigit() else ""
        raise ValueError(
            f"{name}: refused as a possible decompression bomb: more than "
            f"{Image.MAX_IMAGE_PIXELS} pixels{size}"
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        raise ValueError(f"{name}: corrupt or truncated image ({e})") from None


def _check_size(image_size) -> int:
    return check_number(image_size, "image_size", integer=True, min_val=1)


def load_image(path, image_size: int = 64) -> np.ndarray:
    """Load one image file as uint8 (s, s, 3) RGB, resized (stretched) to s = image_size.

    EXIF orientation is applied, transparency is composited on white, any mode becomes RGB;
    resampling is LANCZOS. Non-square images are stretched, not cropped.
    """
    image_size = _check_size(image_size)
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such image file")
    return _read_image(path, image_size)


def list_image_folder(path) -> tuple[list[str], dict[str, list[Path]]]:
    """(class names, {class: sorted image files}) of a folder with one subfolder per class.

    Class folders are the sorted non-hidden subfolders; the files of a class are those directly
    inside its folder with an image extension (jpg/jpeg/png/bmp/gif/webp, any case). Raises
    FileNotFoundError or a ValueError that says what is missing."""
    root = Path(path)
    if not root.exists():
        raise FileNotFoundError(f"{root}: no such directory")
    if not root.is_dir():
        raise ValueError(f"{root}: not a directory (expected one subfolder per class)")
    classes = sorted(d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    if len(classes) < 2:
        raise ValueError(
            f"{root}: found {len(classes)} class subfolder(s) {classes}; need at least 2 "
            "(one subfolder per class, images inside)"
        )
    files = {
        c: sorted(p for p in (root / c).iterdir()
                  if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
        for c in classes
    }
    if not any(files.values()):
        exts = "/".join(sorted(e[1:] for e in IMAGE_EXTENSIONS))
        raise ValueError(f"{root}: no image files ({exts}) in any of the class folders {classes}")
    return classes, files


POOL_MIN_IMAGES = 512  # load_image_folder decodes fewer images in the calling thread by default


def load_image_folder(path, image_size: int = 64, strict: bool = False,
                      warn: Callable[[str], object] | None = None, workers: int | None = None):
    """Load a folder with one subfolder per class (sorted names) of image files.

    Returns (images uint8 (m, s, s, 3), labels int64 (m,), classes, paths). Files directly
    inside each class folder with extension jpg/jpeg/png/bmp/gif/webp (any case) are read as
    by `load_image`; hidden class folders (".name") are ignored. An unreadable file raises
    ValueError if `strict`, else it is skipped and reported through `warn(msg)`
    (default `warnings.warn`). Decoded by `workers` processes (`ImageFolderSource`'s; default:
    one per CPU from POOL_MIN_IMAGES images on, else the calling thread); the result does not
    depend on them.
    """
    from .sources import ImageFolderSource

    image_size = _check_size(image_size)
    root = Path(path)
    warn = warnings.warn if warn is None else warn
    classes, files = list_image_folder(root)
    m = sum(len(f) for f in files.values())
    if workers is None and m < POOL_MIN_IMAGES:
        workers = 0
    source = ImageFolderSource(root, image_size, workers=workers, strict=strict, warn=warn,
                               blas_threads=None)
    images = np.empty((m, image_size, image_size, 3), np.uint8)
    labels, paths, n = [], [], 0
    try:
        for raw, positions in source.decoded(np.arange(m), 64):
            images[n : n + len(raw)] = raw
            n += len(raw)
            labels.extend(source.labels[positions].tolist())
            paths.extend(str(source.paths[p]) for p in positions)
    finally:
        source.close()
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=len(classes))
    empty = [c for c, k in zip(classes, counts, strict=True) if k == 0]
    if empty:
        raise ValueError(f"{root}: class folder(s) {empty} hold no readable images")
    return images[:n], np.asarray(labels, dtype=np.int64), classes, paths


def load_dataset(path, image_size: int = 64, strict: bool = False,
                 warn: Callable[[str], object] | None = None):
    """Load a class-folder directory or a course HDF5 file.

    Returns (images, labels (m,), classes, paths); paths is None for HDF5. HDF5 images are
    returned at their stored size, not resized to `image_size`: the caller compares.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or directory")
    if path.is_dir():
        return load_image_folder(path, image_size, strict=strict, warn=warn)
    x, y, classes = load_h5(path)
    return x, y, classes, None
