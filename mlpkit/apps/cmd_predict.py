"""`mlpkit predict`: classify image files."""

from __future__ import annotations

import json

import numpy as np

from .cli_common import load_classifier, warn


def run(args):
    from ..data.images import load_image

    model = load_classifier(args.model)
    results, failed = [], 0
    for path in args.images:
        try:
            image = load_image(path, model.image_size)
        except (OSError, ValueError) as e:
            warn(f"skipping {e}")
            failed += 1
            continue
        proba = model.predict_proba(image[np.newaxis])[0]
        k = int(proba.argmax())
        results.append({
            "path": str(path),
            "class": model.classes[k],
            "probability": float(proba[k]),
            "probabilities": dict(zip(model.classes, map(float, proba), strict=True)),
        })
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for r in results:
            print(f"{r['path']}\t{r['class']}\t{r['probability']:.4f}")
    if failed:
        raise ValueError(f"{failed} of {len(args.images)} image(s) could not be read")
    return 0


def add_parser(commands):
    predict = commands.add_parser("predict", help="classify image files")
    predict.add_argument("model", metavar="MODEL", help="model file from 'mlpkit train'")
    predict.add_argument("images", metavar="IMAGE", nargs="+", help="image files")
    predict.add_argument("--json", action="store_true", help="print a JSON list")
    predict.set_defaults(run=run)
