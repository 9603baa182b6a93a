"""`mlpkit convert`: decode a folder of class folders once into a chunked HDF5 file in the
course's layout, for `mlpkit train --stream`."""

from __future__ import annotations

import argparse
import re
import sys

from .cli_options import IMAGE_SIZE, IMAGES, PROG, int_at_least
from .cli_output import warn


def run(args):
    from tqdm import tqdm

    from ..data.convert import convert_image_folder
    from ..data.images import list_image_folder

    _, files = list_image_folder(args.folder)
    total = sum(map(len, files.values()))
    with tqdm(total=total, desc="converting", unit="img", unit_scale=True,
              file=sys.stderr) as bar:
        summary = convert_image_folder(
            args.folder, args.out, args.image_size or IMAGE_SIZE, prefix=args.prefix,
            strict=bool(args.strict), workers=args.workers, shuffle=not args.keep_order,
            seed=args.seed, warn=warn, progress=bar.update,
        )
    s = summary["image_size"]
    skipped = f" ({summary['skipped']} unreadable skipped)" if summary["skipped"] else ""
    print(f"{summary['images']} images of {summary['classes']} ({s}x{s} RGB){skipped} written "
          f"to {summary['path']} ({summary['bytes'] / 2**20:.1f} MiB: {args.prefix}_set_x, "
          f"{args.prefix}_set_y, list_classes); train on it with: {PROG} train "
          f"{summary['path']} --stream")
    return 0


def add_parser(commands):
    convert = commands.add_parser(
        "convert", help="decode an image folder once into an HDF5 file for streaming",
        parents=IMAGES,
        description="Decode FOLDER (one subfolder of images per class) once into OUT, an HDF5 "
        "file in the course's layout: <prefix>_set_x uint8 (m, s, s, 3) in chunks, "
        "<prefix>_set_y, list_classes, and <prefix>_set_paths (each image's file). The images "
        "are stored in a shuffled order (--keep-order: the folder's). OUT is written under a "
        "temporary name and renamed when complete.",
    )
    convert.add_argument("folder", metavar="FOLDER", help="folder of class folders")
    convert.add_argument("out", metavar="OUT", help="the HDF5 file to write (e.g. photos.h5)")
    convert.add_argument("--prefix", default="train", type=_prefix,
                         help="dataset names <prefix>_set_x, ... (default: train)")
    convert.add_argument("--workers", type=int_at_least(0), default=None, metavar="N",
                         help="decoding processes (default: one per CPU)")
    convert.add_argument("--keep-order", action="store_true",
                         help="store the images in the folder's order (class by class)")
    convert.add_argument("--seed", type=int_at_least(0), default=0,
                         help="seed of the stored order (default: 0)")
    convert.set_defaults(run=run)


def _prefix(text):
    """A dataset name prefix: letters, digits and underscores (the names are <prefix>_set_x)."""
    if not re.fullmatch(r"[A-Za-z0-9_]+", text):
        raise argparse.ArgumentTypeError(
            f"expected letters, digits or underscores (as in train or test), got {text!r}")
    return text
