"""The `mlpkit` command: train, evaluate and use image classifiers; gradient check; demo.

Errors a person can cause print one line `mlpkit: error: ...` on stderr: exit status 2 for
bad command-line usage, 1 for failures (missing or unreadable files, data that doesn't fit).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

PROG = "mlpkit"

# Defaults of `mlpkit train`, measured on the course's cat data (see README, "Command line").
HIDDEN = (20, 7, 5)
EPOCHS = 1000
LEARNING_RATE = 0.0075
OPTIMIZER = "gd"
BATCH_SIZE = 64
INIT = "xavier"
IMAGE_SIZE = 64
GRADCHECK_THRESHOLD = 1e-7


class UsageError(Exception):
    """Bad command-line usage found after parsing (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error message (no usage block) and exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


# ---------------------------------------------------------------------------------------------
# Option values
# ---------------------------------------------------------------------------------------------


def _int_at_least(minimum):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {value}")
        return value

    return parse


def _float_in(low, high=math.inf, low_open=True, high_open=True):
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        too_low = value <= low if low_open else value < low
        too_high = value >= high if high_open else value > high
        if not math.isfinite(value) or too_low or too_high:
            lo, hi = "(" if low_open else "[", ")" if high_open else "]"
            raise argparse.ArgumentTypeError(f"must be in {lo}{low:g}, {high:g}{hi}, got {text}")
        return value

    return parse


def _hidden(text):
    """'20,7,5' -> (20, 7, 5); '' or 'none' -> () (no hidden layer: logistic regression)."""
    if text.strip().lower() in ("", "none"):
        return ()
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected layer sizes like 20,7,5 (positive integers, comma-separated), got {text!r}"
        ) from None
    if min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"every layer needs at least 1 unit, got {text!r}")
    return sizes


# ---------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------


def _warn(message):
    print(f"{PROG}: warning: {message}", file=sys.stderr)


def _load_images(path, image_size, strict):
    """(images uint8 (m, s, s, 3), labels (m,), classes) from an HDF5 file or class folders;
    folders are resized to image_size, HDF5 images keep their stored size."""
    from .data import load_dataset

    images, labels, classes, _ = load_dataset(path, image_size, strict=strict, warn=_warn)
    if images.ndim == 3:  # grayscale HDF5 images
        images = np.repeat(images[..., np.newaxis], 3, axis=-1)
    if images.shape[1] != images.shape[2]:
        raise ValueError(
            f"{path}: images are {images.shape[1]}x{images.shape[2]}; mlpkit needs square images"
        )
    return images, labels, classes


def _load_labeled(path, image_size, model_classes, strict):
    """Images of `image_size` with labels renumbered to `model_classes` by class name."""
    images, labels, classes = _load_images(path, image_size, strict)
    if images.shape[1] != image_size:
        s = images.shape[1]
        raise ValueError(
            f"{path}: holds {s}x{s} images but the model takes {image_size}x{image_size} images"
        )
    present = [classes[k] for k in np.unique(labels)]
    unknown = [c for c in present if c not in model_classes]
    if unknown:
        raise ValueError(
            f"{path}: class(es) {unknown} are not among the model's classes {model_classes}"
        )
    index = np.array([model_classes.index(c) if c in model_classes else -1 for c in classes])
    return images, index[labels]


def _load_classifier(path):
    from .persistence import ImageClassifier, load

    model = load(path)
    if not isinstance(model, ImageClassifier):
        raise ValueError(
            f"{path}: holds a {type(model).__name__}, not an image classifier "
            f"(made by '{PROG} train')"
        )
    return model


# ---------------------------------------------------------------------------------------------
# train
# ---------------------------------------------------------------------------------------------


def cmd_train(args):
    from sklearn.metrics import accuracy_score
    from sklearn.model_selection import train_test_split
    from tqdm import tqdm

    from .persistence import ImageClassifier, save
    from .plots import plot_costs

    if args.dropout and not args.hidden:
        raise UsageError("--dropout needs at least one hidden layer (see --hidden)")
    seed = args.seed if args.seed is not None else int(np.random.SeedSequence().entropy % 2**31)
    images, labels, classes = _load_images(args.data, args.image_size or IMAGE_SIZE, args.strict)
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
        test = _load_labeled(args.test, size, classes, args.strict)
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


# ---------------------------------------------------------------------------------------------
# evaluate / predict
# ---------------------------------------------------------------------------------------------


def cmd_evaluate(args):
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

    model = _load_classifier(args.model)
    images, labels = _load_labeled(args.data, model.image_size, model.classes, args.strict)
    predicted = model.predict(images)
    classes = model.classes
    binary = len(classes) == 2
    precision, recall, f1, _ = precision_recall_fscore_support(
        labels, predicted, labels=range(len(classes)), average="binary" if binary else "macro",
        zero_division=0,
    )
    which = f"class {classes[1]!r} as positive" if binary else "macro average over classes"
    print(f"{len(labels)} images in {args.data}")
    print(f"accuracy   {accuracy_score(labels, predicted):.4f}")
    print(f"precision  {precision:.4f}  ({which})")
    print(f"recall     {recall:.4f}")
    print(f"F1         {f1:.4f}")
    print("confusion matrix (rows: true class, columns: predicted class):")
    matrix = confusion_matrix(labels, predicted, labels=range(len(classes)))
    width = max(8, *(len(c) + 2 for c in classes))
    print(" " * width + "".join(f"{c:>{width}}" for c in classes))
    for c, row in zip(classes, matrix, strict=True):
        print(f"{c:<{width}}" + "".join(f"{n:>{width}}" for n in row))
    if args.mislabeled:
        from .plots import plot_mislabeled

        path = plot_mislabeled(images, labels, predicted, classes, args.mislabeled)
        print(f"misclassified images in {path}")
    return 0


def cmd_predict(args):
    from .data import load_image

    model = _load_classifier(args.model)
    results, failed = [], 0
    for path in args.images:
        try:
            image = load_image(path, model.image_size)
        except (OSError, ValueError) as e:
            _warn(f"skipping {e}")
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


# ---------------------------------------------------------------------------------------------
# gradcheck
# ---------------------------------------------------------------------------------------------


def cmd_gradcheck(args):
    from .data import one_hot
    from .gradcheck import gradient_check
    from .network import Network

    rng = np.random.default_rng(args.seed)
    m = 12
    X = rng.standard_normal((5, m))
    checks = [
        ("softmax output, relu/tanh hidden", "softmax", ["relu", "tanh"],
         one_hot(rng.integers(0, 3, m), 3)),
        ("sigmoid output, tanh/sigmoid hidden", "sigmoid", ["tanh", "sigmoid"],
         rng.integers(0, 2, (1, m)).astype(float)),
    ]
    options = {"l2": 0.7, "keep_prob": 0.8, "seed": args.seed}
    print("gradient check: batch norm, dropout (keep_prob 0.8, fixed mask), L2 (lambda 0.7), "
          f"epsilon {args.epsilon:g}, threshold {GRADCHECK_THRESHOLD:g}")
    worst = 0.0
    for name, output, hidden, Y in checks:
        net = Network([5, 4, 3, Y.shape[0]], hidden_activation=hidden, output_activation=output,
                      batch_norm=True, seed=args.seed)
        difference = gradient_check(net, X, Y, epsilon=args.epsilon, **options)
        worst = max(worst, difference)
        verdict = "PASS" if difference <= GRADCHECK_THRESHOLD else "FAIL"
        print(f"  {name:<38} relative difference {difference:.3e}  {verdict}")
    passed = worst <= GRADCHECK_THRESHOLD
    print("PASS" if passed else "FAIL")
    return 0 if passed else 1


# ---------------------------------------------------------------------------------------------
# demo
# ---------------------------------------------------------------------------------------------


def _timed(function):
    start = time.perf_counter()
    value = function()
    return value, time.perf_counter() - start


def _flower_demo(out):
    """The course's planar flower: logistic regression vs a 4-tanh-unit hidden layer."""
    from .data import make_flower
    from .network import Network
    from .plots import plot_decision_boundaries

    X, Y = make_flower(400, seed=1)
    X_test, Y_test = make_flower(400, seed=2)
    rows, panels = [], []
    for name, dims, kwargs in (
        ("logistic regression", [2, 1], {}),
        ("4 tanh units", [2, 4, 1], {"hidden_activation": "tanh", "init": "random"}),
    ):
        net = Network(dims, seed=2, **kwargs)
        _, seconds = _timed(lambda net=net: net.fit(X, Y, epochs=10000, learning_rate=1.2))
        rows.append(("flower", name, net.score(X, Y), net.score(X_test, Y_test), seconds))
        panels.append((f"{name} ({rows[-1][2]:.0%} accuracy)", net.predict, X, Y))
    hidden = []
    for n_h in (1, 2, 3, 5, 20, 50):
        net = Network([2, n_h, 1], hidden_activation="tanh", init="random", seed=2)
        net.fit(X, Y, epochs=5000, learning_rate=1.2)
        hidden.append((f"{n_h} tanh units ({net.score(X, Y):.0%})", net.predict, X, Y))
    paths = [plot_decision_boundaries(panels, out / "flower.png", ncols=2),
             plot_decision_boundaries(hidden, out / "flower_hidden_sizes.png", ncols=3)]
    return rows, paths


def _digits_demo(out):
    """scikit-learn's bundled 8x8 digits: a deep softmax network, Adam, mini-batches."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from .data import flatten_images, one_hot
    from .network import Network
    from .plots import plot_costs, plot_mislabeled

    digits = load_digits()
    images = np.round(digits.images * (255 / 16)).astype(np.uint8)
    train_img, test_img, train_y, test_y = train_test_split(
        images, digits.target, test_size=0.25, stratify=digits.target, random_state=0
    )
    X, X_test = flatten_images(train_img), flatten_images(test_img)
    Y, Y_test = one_hot(train_y, 10), one_hot(test_y, 10)
    net = Network([64, 64, 32, 10], output_activation="softmax", seed=0)
    history, seconds = _timed(lambda: net.fit(
        X, Y, epochs=60, learning_rate=0.002, batch_size=32, optimizer="adam", seed=0,
        validation_data=(X_test, Y_test)))
    rows = [("digits", "64-64-32-10 relu, softmax", net.score(X, Y), net.score(X_test, Y_test),
             seconds)]
    predicted = net.predict(X_test)[0]
    paths = [
        plot_costs([history.costs, history.val_costs], out / "digits_costs.png",
                   labels=["training", "test"], title="digits: 64-64-32-10 network, Adam",
                   learning_rate=0.002),
        plot_mislabeled(test_img, test_y, predicted, [str(d) for d in range(10)],
                        out / "digits_mislabeled.png"),
    ]
    return rows, paths


def cmd_demo(args):
    out = Path(args.out)
    start = time.perf_counter()
    flower_rows, flower_paths = _flower_demo(out)
    digits_rows, digits_paths = _digits_demo(out)
    print(f"{'data':<8}{'model':<30}{'train acc':>10}{'test acc':>10}{'seconds':>9}")
    for data, model, train, test, seconds in flower_rows + digits_rows:
        print(f"{data:<8}{model:<30}{train:>10.3f}{test:>10.3f}{seconds:>9.1f}")
    print(f"plots in {out}: " + ", ".join(p.name for p in flower_paths + digits_paths))
    print(f"total {time.perf_counter() - start:.1f} s")
    return 0


# ---------------------------------------------------------------------------------------------
# The command
# ---------------------------------------------------------------------------------------------


def build_parser():
    parser = _Parser(
        prog=PROG,
        description="Deep neural networks from scratch in NumPy: train and use image "
        "classifiers (e.g. a cat recognizer).",
        epilog="exit status: 0 success, 1 failure (missing or unreadable files, data that does "
        "not fit the model), 2 bad usage",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    train = commands.add_parser(
        "train", help="train an image classifier",
        description="Train an image classifier on DATA: a course-format HDF5 file or a folder "
        "with one subfolder of images per class. Saves the model and a cost-curve PNG beside "
        "it (model.npz -> model_costs.png).",
    )
    train.add_argument("data", metavar="DATA", help="HDF5 file or folder of class folders")
    train.add_argument("--test", metavar="DATA", help="test data, reported every epoch and at "
                       "the end")
    train.add_argument("--hidden", type=_hidden, default=HIDDEN, metavar="N,N,...",
                       help=f"hidden layer sizes (default: {','.join(map(str, HIDDEN))})")
    train.add_argument("--epochs", type=_int_at_least(1), default=EPOCHS,
                       help="passes over the training data (default: %(default)s)")
    train.add_argument("--learning-rate", type=_float_in(0), default=LEARNING_RATE,
                       metavar="F", help="learning rate alpha (default: %(default)s)")
    train.add_argument("--optimizer", choices=("gd", "momentum", "rmsprop", "adam"),
                       default=OPTIMIZER, help="(default: %(default)s)")
    train.add_argument("--batch-size", type=_int_at_least(1), default=BATCH_SIZE, metavar="N",
                       help="mini-batch size (default: %(default)s)")
    train.add_argument("--l2", type=_float_in(0, low_open=False), default=0.0, metavar="F",
                       help="L2 regularization lambda (default: 0)")
    train.add_argument("--dropout", type=_float_in(0, 1, low_open=False), default=0.0,
                       metavar="F", help="fraction of hidden units dropped, in [0, 1) (default: 0)")
    train.add_argument("--batch-norm", action="store_true", help="batch normalization")
    train.add_argument("--image-size", type=_int_at_least(1), default=None, metavar="S",
                       help=f"resize folder images to SxS (default: {IMAGE_SIZE}; HDF5 keeps "
                       "its size)")
    train.add_argument("--validation-split", type=_float_in(0, 1, low_open=False), default=0.0,
                       metavar="F", help="fraction of DATA held out to monitor (default: 0)")
    train.add_argument("--seed", type=_int_at_least(0), default=None,
                       help="random seed for reproducible runs (default: a fresh one, printed)")
    train.add_argument("--out", default="model.npz", metavar="PATH",
                       help="model file (default: %(default)s)")
    train.add_argument("--strict", action="store_true",
                       help="fail on unreadable image files instead of skipping them")
    train.set_defaults(run=cmd_train)

    evaluate = commands.add_parser(
        "evaluate", help="accuracy, precision, recall, F1 and confusion matrix on labeled data")
    evaluate.add_argument("model", metavar="MODEL", help="model file from 'mlpkit train'")
    evaluate.add_argument("data", metavar="DATA", help="HDF5 file or folder of class folders")
    evaluate.add_argument("--mislabeled", metavar="PNG",
                          help="write a gallery of the misclassified images")
    evaluate.add_argument("--strict", action="store_true",
                          help="fail on unreadable image files instead of skipping them")
    evaluate.set_defaults(run=cmd_evaluate)

    predict = commands.add_parser("predict", help="classify image files")
    predict.add_argument("model", metavar="MODEL", help="model file from 'mlpkit train'")
    predict.add_argument("images", metavar="IMAGE", nargs="+", help="image files")
    predict.add_argument("--json", action="store_true", help="print a JSON list")
    predict.set_defaults(run=cmd_predict)

    gradcheck = commands.add_parser(
        "gradcheck", help="check backpropagation against numerical gradients",
        description="Gradient check of small random networks with batch norm, dropout (one "
        "fixed mask), L2, softmax and sigmoid outputs. Exit status 1 on FAIL.")
    gradcheck.add_argument("--seed", type=_int_at_least(0), default=0)
    gradcheck.add_argument("--epsilon", type=_float_in(0), default=1e-7,
                           help="finite-difference step (default: %(default)s)")
    gradcheck.set_defaults(run=cmd_gradcheck)

    demo = commands.add_parser(
        "demo", help="the course's planar flower and scikit-learn's digits, with plots")
    demo.add_argument("--out", default="mlpkit-demo", metavar="DIR",
                      help="folder for the plots (default: %(default)s)")
    demo.set_defaults(run=cmd_demo)
    return parser


def main(argv=None):
    """Run the command line `argv` (default sys.argv[1:]); returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return args.run(args)
    except UsageError as e:
        print(f"{PROG} {args.command}: error: {e}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, OSError, FloatingPointError) as e:
        print(f"{PROG}: error: {_one_line(e)}", file=sys.stderr)
        return 1
    except MemoryError:
        print(f"{PROG}: error: out of memory (try a smaller --image-size or fewer images)",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


def _one_line(error):
    text = " ".join(str(error).split())
    return text or type(error).__name__
