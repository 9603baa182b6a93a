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
    up to twice that).

    Parameters
    ----------
    data : bytes
        The contents of a JPEG, PNG, GIF, BMP or WebP file.
    image_size : int, default 64
        s, the side of the square image returned.
    name : str, default "image"
        What error messages call the image (e.g. the uploaded file's name).

    Returns
    -------
    image : ndarray of shape (s, s, 3), uint8
        The image in RGB, resized (stretched) to s x s.

    Raises
    ------
    ValueError
        Starting with `name`: the data is not an image in a supported format, is corrupt or
        truncated, or has more than `Image.MAX_IMAGE_PIXELS` pixels; or `image_size` is not
        an integer >= 1.

    Examples
    --------
    >>> import io
    >>> from PIL import Image
    >>> png = io.BytesIO()
    >>> Image.new("RGB", (40, 20), (255, 0, 0)).save(png, format="PNG")
    >>> image = decode_image(png.getvalue(), image_size=8)
    >>> image.shape, image.dtype, image[0, 0].tolist()
    ((8, 8, 3), dtype('uint8'), [255, 0, 0])
    >>> decode_image(b"not an image", name="upload.jpg")
    Traceback (most recent call last):
        ...
    ValueError: upload.jpg: not an image in a supported format (JPEG, PNG, GIF, BMP, WebP)
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

    Parameters
    ----------
    path : str or Path
        The image file (any format Pillow reads).
    image_size : int, default 64
        s, the side of the square image returned.

    Returns
    -------
    image : ndarray of shape (s, s, 3), uint8
        The image in RGB.

    Raises
    ------
    FileNotFoundError
        If `path` is not a file.
    ValueError
        If the file cannot be read as an image (the message names it), or `image_size` is
        not an integer >= 1.
    """
    image_size = _check_size(image_size)
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such image file")
    return _read_image(path, image_size)


def list_image_folder(path) -> tuple[list[str], dict[str, list[Path]]]:
    """(class names, {class: sorted image files}) of a folder with one subfolder per class.

    Class folders are the sorted non-hidden subfolders; the files of a class are those directly
    inside its folder with an image extension (jpg/jpeg/png/bmp/gif/webp, any case). No file is
    opened.

    Parameters
    ----------
    path : str or Path
        The folder of class folders.

    Returns
    -------
    classes : list of str
        The class folders' names, sorted.
    files : dict of str to list of Path
        The image files of each class, sorted (a class may have none).

    Raises
    ------
    FileNotFoundError
        If `path` does not exist.
    ValueError
        If `path` is not a directory, has fewer than 2 class folders, or no class folder
        holds an image file.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     for name in ["cat/a.jpg", "cat/b.PNG", "cat/notes.txt", "dog/c.png"]:
    ...         (Path(tmp) / name).parent.mkdir(exist_ok=True)
    ...         (Path(tmp) / name).touch()
    ...     classes, files = list_image_folder(tmp)
    ...     classes, {c: [p.name for p in files[c]] for c in classes}
    (['cat', 'dog'], {'cat': ['a.jpg', 'b.PNG'], 'dog': ['c.png']})
    """
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

    Files directly inside each class folder with extension jpg/jpeg/png/bmp/gif/webp (any case)
    are read as by `load_image`; hidden class folders (".name") are ignored. The result does
    not depend on the number of workers.

    Parameters
    ----------
    path : str or Path
        The folder of class folders (see `list_image_folder`).
    image_size : int, default 64
        s: each image is resized (stretched) to s x s.
    strict : bool, default False
        If True an unreadable file raises ValueError; else it is skipped with a warning.
    warn : callable, optional
        warn(message) reports a skipped file; default `warnings.warn`.
    workers : int, optional
        Processes decoding the images (`ImageFolderSource`'s); 0 decodes in the calling
        thread. Default: one per CPU from POOL_MIN_IMAGES images on, else 0.

    Returns
    -------
    images : ndarray of shape (m, s, s, 3), uint8
        The readable images, class by class.
    labels : ndarray of shape (m,), int64
        The index in `classes` of each image's folder.
    classes : list of str
        The class folders' names, sorted.
    paths : list of str
        The file of each image.

    Raises
    ------
    FileNotFoundError
        If `path` does not exist.
    ValueError
        As `list_image_folder`; if a class folder holds no readable image; if a file is
        unreadable under `strict`; or if `image_size` is not an integer >= 1.
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

    HDF5 images are returned at their stored size, not resized to `image_size`: the caller
    compares.

    Parameters
    ----------
    path : str or Path
        A folder of class folders (read by `load_image_folder`) or an HDF5 file (read by
        `load_h5`).
    image_size : int, default 64
        The side images of a folder are resized to.
    strict : bool, default False
        For a folder: an unreadable file raises instead of being skipped.
    warn : callable, optional
        For a folder: warn(message) reports a skipped file; default `warnings.warn`.

    Returns
    -------
    images : ndarray of shape (m, h, w, 3) or (m, h, w), uint8
        The images (grayscale (m, h, w) only from an HDF5 file).
    labels : ndarray of shape (m,), int64
        Their class indices.
    classes : list of str
        The class names.
    paths : list of str or None
        Each image's file; None for an HDF5 file.

    Raises
    ------
    FileNotFoundError
        If `path` does not exist.
    ValueError
        As `load_image_folder` or `load_h5`.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or directory")
    if path.is_dir():
        return load_image_folder(path, image_size, strict=strict, warn=warn)
    x, y, classes = load_h5(path)
    return x, y, classes, None
