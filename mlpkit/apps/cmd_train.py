"""`mlpkit train`: train an image classifier on an HDF5 file or a folder of class folders."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from .cli_common import (
    IMAGE_SIZE,
    PROG,
    UsageError,
    float_in,
    hidden_sizes,
    int_at_least,
    load_images,
    load_labeled,
)

# Defaults of `mlpkit train`, measured on the course's cat data (see README, "Command line").
HIDDEN = (20, 7, 5)
EPOCHS = 1000
LEARNING_RATE = 0.0075
OPTIMIZER = "gd"
BATCH_SIZE = 64
INIT = "xavier"


def run(args):
    from sklearn.metrics import accuracy_score
    from sklearn.model_selection import train_test_split
    from tqdm import tqdm

    from ..io.model_files import save
    from .image_classifier import ImageClassifier
    from .plots import plot_costs

    if args.dropout and not args.hidden:
        raise UsageError("--dropout needs at least one hidden layer (see --hidden)")
    seed = args.seed if args.seed is not None else int(np.random.SeedSequence().entropy % 2**31)
    images, labels, classes = load_images(args.data, args.image_size or IMAGE_SIZE, args.strict)
    size = images.shape[1]
    if args.image_size and size != args.image_size:
        raise ValueError(
            f"{args.data}: holds {size}x{size} images but --image-size is {args.image_size}; "
            "leave --image-size out to use the file's size"
        )
    if np.unique(labels).size < 2:
        raise ValueError(f"{args.data}: the training data holds only one class; need at least 2")
    test = None
    if args.test is not None:
        test = load_labeled(args.test, size, classes, args.strict)
    validation = None
    if args.validation_split:
        images, val_images, labels, val_labels = train_test_split(
            images, labels, test_size=args.validation_split, stratify=labels, random_state=seed
        )
        validation = (val_images, val_labels)

    model = ImageClassifier.build(classes, size, args.hidden, init=INIT, seed=seed,
                                  batch_norm=args.batch_norm)
    net = model.network
    X, Y = model.preprocess(images), model.targets(labels)
    monitor, monitor_name = validation or test, "val" if validation else "test"
    validation_data = None
    if monitor is not None:
        validation_data = (model.preprocess(monitor[0]), model.targets(monitor[1]))

    print(f"training {net.layer_dims} on {X.shape[1]} images of {classes} (seed {seed})")
    with tqdm(total=args.epochs, desc="training", unit="epoch", file=sys.stderr) as bar:

        def progress(epoch, history):
            status = {"cost": f"{history.costs[-1]:.4f}"}
            if history.val_scores:
                status[f"{monitor_name}_acc"] = f"{history.val_scores[-1]:.3f}"
            bar.set_postfix(status, refresh=False)
            bar.update(1)

        history = net.fit(
            X, Y, epochs=args.epochs, learning_rate=args.learning_rate,
            batch_size=args.batch_size, optimizer=args.optimizer, l2=args.l2,
            keep_prob=1.0 - args.dropout, validation_data=validation_data, seed=seed,
            callback=progress,
        )

    scores = {"train_accuracy": net.score(X, Y)}
    if validation is not None:
        scores["validation_accuracy"] = history.val_scores[-1]
    if test is not None:
        X_test = validation_data[0] if monitor is test else model.preprocess(test[0])
        # net.predict: class indices (1, m), as 0/1 for a sigmoid output
        scores["test_accuracy"] = float(accuracy_score(test[1], net.predict(X_test)[0]))
    for name, value in scores.items():
        print(f"{name.replace('_', ' ')}: {value:.4f}")

    out = Path(args.out)
    options = {k: getattr(args, k) for k in (
        "epochs", "learning_rate", "optimizer", "batch_size", "l2", "dropout", "batch_norm")}
    metadata = {"data": str(args.data), "seed": seed, "options": options,
                "hidden": list(args.hidden), "init": INIT, **scores}
    save(model, out, metadata=metadata)
    curves, names = [history.costs], ["training"]
    if history.val_costs:
        curves.append(history.val_costs)
        names.append("validation" if validation else "test")
    plot = plot_costs(curves, out.with_name(f"{out.stem}_costs.png"), labels=names,
                      title=f"{PROG} train {Path(args.data).name}",
                      learning_rate=args.learning_rate)
    print(f"model saved to {out}; cost curve in {plot}")
    return 0


def add_parser(commands):
    train = commands.add_parser(
        "train", help="train an image classifier",
        description="Train an image classifier on DATA: a course-format HDF5 file or a folder "
        "with one subfolder of images per class. Saves the model and a cost-curve PNG beside "
        "it (model.npz -> model_costs.png).",
    )
    train.add_argument("data", metavar="DATA", help="HDF5 file or folder of class folders")
    train.add_argument("--test", metavar="DATA", help="test data, reported every epoch and at "
                       "the end")
    train.add_argument("--hidden", type=hidden_sizes, default=HIDDEN, metavar="N,N,...",
                       help=f"hidden layer sizes (default: {','.join(map(str, HIDDEN))})")
    train.add_argument("--epochs", type=int_at_least(1), default=EPOCHS,
                       help="passes over the training data (default: %(default)s)")
    train.add_argument("--learning-rate", type=float_in(0), default=LEARNING_RATE,
                       metavar="F", help="learning rate alpha (default: %(default)s)")
    train.add_argument("--optimizer", choices=("gd", "momentum", "rmsprop", "adam"),
                       default=OPTIMIZER, help="(default: %(default)s)")
    train.add_argument("--batch-size", type=int_at_least(1), default=BATCH_SIZE, metavar="N",
                       help="mini-batch size (default: %(default)s)")
    train.add_argument("--l2", type=float_in(0, low_open=False), default=0.0, metavar="F",
                       help="L2 regularization lambda (default: 0)")
    train.add_argument("--dropout", type=float_in(0, 1, low_open=False), default=0.0,
                       metavar="F", help="fraction of hidden units dropped, in [0, 1) (default: 0)")
    train.add_argument("--batch-norm", action="store_true", help="batch normalization")
    train.add_argument("--image-size", type=int_at_least(1), default=None, metavar="S",
                       help=f"resize folder images to SxS (default: {IMAGE_SIZE}; HDF5 keeps "
                       "its size)")
    train.add_argument("--validation-split", type=float_in(0, 1, low_open=False), default=0.0,
                       metavar="F", help="fraction of DATA held out to monitor (default: 0)")
    train.add_argument("--seed", type=int_at_least(0), default=None,
                       help="random seed for reproducible runs (default: a fresh one, printed)")
    train.add_argument("--out", default="model.npz", metavar="PATH",
                       help="model file (default: %(default)s)")
    train.add_argument("--strict", action="store_true",
                       help="fail on unreadable image files instead of skipping them")
    train.set_defaults(run=run)
