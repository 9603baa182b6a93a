"""`mlpkit predict`: classify image files, decoded in batches by worker processes."""

from __future__ import annotations

import json

import numpy as np

from .cli_files import load_classifier
from .cli_options import int_at_least
from .cli_output import warn


def run(args):
    from ..data.sources import ImageFilesSource, NoReadableImages
    from ..data.streams import batch_size_for, predict_source

    model = load_classifier(args.model)
    source = ImageFilesSource(args.images, image_size=model.image_size, workers=args.workers,
                              warn=warn, dtype=model.network.dtype,
                              standardizer=model.standardizer)
    results = []
    try:
        outputs, index = predict_source(model.network, source,
                                        batch_size_for(source.n_examples, source.workers))
    except NoReadableImages:  # each file has had its warning
        outputs, index = np.empty((model.network.layer_dims[-1], 0)), np.empty(0, np.int64)
    if outputs.shape[0] == 1:
        outputs = np.vstack([1 - outputs, outputs])
    for position, proba in zip(index, outputs.T, strict=True):
        results.append({"path": str(args.images[position]), **model.answer(proba)})
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for r in results:
            print(f"{r['path']}\t{r['class']}\t{r['probability']:.4f}")
    failed = len(args.images) - len(results)
    if failed:
        raise ValueError(f"{failed} of {len(args.images)} image(s) could not be read")
    return 0


def add_parser(commands):
    predict = commands.add_parser("predict", help="classify image files")
    predict.add_argument("model", metavar="MODEL", help="model file from 'mlpkit train'")
    predict.add_argument("images", metavar="IMAGE", nargs="+", help="image files")
    predict.add_argument("--json", action="store_true", help="print a JSON list")
    predict.add_argument("--workers", type=int_at_least(0), default=None, metavar="N",
                         help="processes decoding the images (default: one per CPU)")
    predict.set_defaults(run=run)
