"""`mlpkit diagnose`: bias and variance of a model saved by `mlpkit train`, on its training data
and a dev set, with the course's basic recipe as runnable `mlpkit train` commands; optionally
the learning curve (the run's options retrained on growing shares of the training set)."""

from __future__ import annotations

import json
import sys

from .cli_options import DEVICE, HUMAN_ERROR, STRICT, placement
from .cli_output import warn


def run(args):
    from ..io.model_files import read_metadata
    from .cli_data import open_for_model
    from .cli_files import check_writable, load_classifier
    from .cli_training import RUN_OPTIONS, diagnosis

    if args.learning_curve:
        check_writable(args.learning_curve, "learning_curve.png")
    where = placement(args)  # the learning curve's fits
    model = load_classifier(args.model)
    recorded = read_metadata(args.model)["metadata"].get("options")
    options = {**RUN_OPTIONS, **recorded} if isinstance(recorded, dict) else None
    if options is None and args.learning_curve:
        raise ValueError(f"{args.model}: records no training options (not saved by "
                         "'mlpkit train'), so its run cannot be repeated for a learning curve")

    train, dev = (open_for_model(path, model, args.strict) for path in (args.train, args.dev))
    found = diagnosis(model, train, dev, options, argv=(options or {}).get("argv"),
                      human_error=args.human_error)
    result = found.to_dict()
    if args.learning_curve:
        result["learning_curve"] = _learning_curve(args, options, model, train, dev, where)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(found)
        if args.learning_curve:
            print(f"learning curve in {result['learning_curve']['plot']}")
    return 0


def _learning_curve(args, options, model, train, dev, where):
    """The run's options retrained on growing shares of TRAIN (in memory), drawn to the PNG."""
    from pathlib import Path

    from .cli_training import learning_curve
    from .plots import plot_learning_curve

    if model.standardizer is not None:
        warn("the model standardizes its inputs; the learning curve reuses its statistics")

    def in_memory(source):
        batch = source.full_batch()
        return batch.X, batch.Y

    def say(size):
        if not args.json:
            print(f"learning curve: training on {size} images", file=sys.stderr, flush=True)

    sizes, train_errors, dev_errors = learning_curve(
        options, model.classes, model.image_size, in_memory(train), in_memory(dev), on_fit=say,
        placement=where)
    path = plot_learning_curve(sizes, train_errors, dev_errors, args.learning_curve,
                               title=f"learning curve: {Path(args.model).name}")
    return {"plot": str(path), "sizes": sizes.tolist(), "train_errors": train_errors.tolist(),
            "dev_errors": dev_errors.tolist()}


def add_parser(commands):
    diagnose = commands.add_parser(
        "diagnose", help="bias and variance of a trained model, with the basic recipe",
        parents=[STRICT, HUMAN_ERROR, DEVICE],
        description="Diagnose MODEL (from 'mlpkit train') on its training data TRAIN and a dev "
        "set DEV: the training and dev errors (full passes in prediction mode) against "
        "human-level error, the verdict (high bias, high variance, both, neither) and the "
        "course's basic recipe, each remedy as a runnable 'mlpkit train' command. "
        "--learning-curve retrains the run's options on growing shares of TRAIN and draws "
        "the training and dev errors against the training-set size.",
    )
    diagnose.add_argument("model", metavar="MODEL", help="model file from 'mlpkit train'")
    diagnose.add_argument("train", metavar="TRAIN", help="the training data (HDF5 file or "
                          "folder of class folders)")
    diagnose.add_argument("dev", metavar="DEV", help="the dev data")
    diagnose.add_argument("--learning-curve", metavar="PNG",
                          help="also retrain the run's options on growing shares of TRAIN and "
                          "plot the errors against the training-set size")
    diagnose.add_argument("--json", action="store_true",
                          help="print the diagnosis as JSON (as stored in the model file)")
    diagnose.set_defaults(run=run)
