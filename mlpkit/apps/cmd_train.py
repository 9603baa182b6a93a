"""`mlpkit train`: train an image classifier on an HDF5 file or a folder of class folders, held
in memory or streamed from disk (--stream, or by itself when the data would not fit)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from ..data.checks import one_line
from .cli_data import Split, prepare
from .cli_files import check_writable, load_classifier
from .cli_options import (
    IMAGE_SIZE,
    IMAGES,
    PROG,
    UsageError,
    fraction,
    hidden_sizes,
    int_at_least,
    non_negative,
    positive,
)
from .cli_output import warn

# Defaults of `mlpkit train`, measured on the course's cat data (see README, "Command line").
HIDDEN = (20, 7, 5)
EPOCHS = 1000
LEARNING_RATE = 0.0075
OPTIMIZER = "gd"
BATCH_SIZE = 64
INIT = "xavier"


# the options that define a training run, recorded in the model file for --resume
RUN_OPTIONS = {
    "data": None, "test": None, "hidden": HIDDEN, "epochs": EPOCHS,
    "learning_rate": LEARNING_RATE, "optimizer": OPTIMIZER, "batch_size": BATCH_SIZE,
    "l2": 0.0, "dropout": 0.0, "batch_norm": False, "image_size": None,
    "validation_split": 0.0, "seed": None, "strict": False, "stream": None,
}

# without --stream / --no-stream, stream when the data as floats would take more than this
# fraction of the memory available
STREAM_FRACTION = 0.5


def run(args):
    from ..io.checkpoint import Checkpoint
    from ..io.model_files import save
    from ..training import TrainingInterrupted

    options, resumed = _options(args)
    out = check_writable(args.out if args.out is not None else (args.resume or "model.npz"),
                         "model.npz")
    if options["stream"] is None:
        options["stream"] = _should_stream(options)
    if args.workers is not None and not options["stream"]:
        warn("--workers sets the decoding threads of a streamed run; this run loads the images "
             "in memory, decoded in one thread (add --stream to decode with --workers threads)")
    data = _prepare(options, resumed, args.workers)
    model, net = data["model"], data["model"].network
    epochs = options["epochs"]
    done = net.training_state.epoch if resumed is not None else 0
    if resumed is not None and done >= epochs:
        raise ValueError(f"{args.resume}: its run already finished ({done} of {epochs} epochs)")

    def metadata(loop=None, scores=None):
        epochs_done = loop.state.epoch if loop is not None else net.training_state.epoch
        return {"data": options["data"], "seed": options["seed"], "init": INIT,
                "hidden": list(options["hidden"]), "options": options,
                "epochs_done": epochs_done, "complete": scores is not None, **(scores or {})}

    checkpoints = [Checkpoint(model, out, args.checkpoint_every, metadata)] if (
        args.checkpoint_every) else []
    verb = "resuming" if resumed is not None else "training"
    # a streamed folder counts its files: unreadable ones are found (and skipped) as it reads
    what = "image files" if hasattr(data["data"].train, "paths") else "images"
    print(f"{verb} {net.layer_dims} on {data['data'].m} {what} of {model.classes} "
          f"(seed {options['seed']})" + (f" from epoch {done}" if done else "")
          + (", streamed from disk" if options["stream"] else ""))
    try:
        history = _fit(net, data, options, checkpoints, resume=resumed is not None, done=done)
    except (OSError, ValueError) as error:
        if not options["stream"] or isinstance(error, FloatingPointError):
            raise
        raise _stopped(error, net, checkpoints, out) from error
    except TrainingInterrupted as stop:
        save(model, out, metadata=metadata())
        print(f"{PROG}: interrupted after epoch {stop.epochs_done} of {epochs}; the state is "
              f"saved in {out}; resume with: {PROG} train --resume {out}", file=sys.stderr)
        return 130
    scores = _scores(net, data)
    for name, value in scores.items():
        print(f"{name.replace('_', ' ')}: {value:.4f}")
    save(model, out, metadata=metadata(scores=scores))
    print(f"model saved to {out}; cost curve in {_plot(history, data, options, out)}")
    return 0


def _options(args):
    """(the run's options, the model being resumed or None). A new run fills in the defaults
    and draws a seed; --resume takes everything from the model file's record."""
    from ..search.folder import fresh_seed

    given = {k: getattr(args, k) for k in RUN_OPTIONS if getattr(args, k) is not None}
    if args.resume is None:
        if args.data is None:
            raise UsageError("DATA is required (or --resume MODEL to continue a run)")
        options = {**RUN_OPTIONS, **given}
        if options["dropout"] and not options["hidden"]:
            raise UsageError("--dropout needs at least one hidden layer (see --hidden)")
        if options["seed"] is None:
            options["seed"] = fresh_seed()
        for key in ("data", "test"):
            if options[key] is not None:
                options[key] = str(Path(options[key]).resolve())
        options["hidden"] = list(options["hidden"])
        return options, None
    if given:
        flags = ", ".join(sorted("DATA" if k == "data" else "--" + k.replace("_", "-")
                                 for k in given))
        raise UsageError(f"--resume continues the recorded run with its own settings; "
                         f"drop {flags}")
    from ..io.model_files import read_metadata

    model = load_classifier(args.resume)
    recorded = read_metadata(args.resume)["metadata"].get("options")
    if model.network.training_state is None or not isinstance(recorded, dict):
        raise ValueError(f"{args.resume}: holds no training run to resume (saved by an older "
                         f"{PROG} or not by '{PROG} train')")
    return {**RUN_OPTIONS, **recorded}, model


def _should_stream(options):
    """Whether the data, decoded to floats in memory, would take more than STREAM_FRACTION of
    the memory available; says so in one line when it streams for that reason."""
    from ..data.streams import available_memory

    m, size = _data_size(options["data"], options["image_size"] or IMAGE_SIZE)
    if m is None:
        return False
    # uint8 images, their floats, and the float temporaries made while scaling them
    need = m * size * size * 3 * (1 + 2 * np.dtype(np.float64).itemsize)
    free = available_memory()
    if free is None or need <= STREAM_FRACTION * free:
        return False
    print(f"{PROG}: streaming {options['data']} from disk: its {m} images would take "
          f"{need / 2**30:.1f} GiB in memory, more than {STREAM_FRACTION:.0%} of the "
          f"{free / 2**30:.1f} GiB available (--no-stream loads them anyway)")
    return True


def _data_size(path, image_size):
    """(number of images, image size) of DATA without reading its pixels; (None, None) when
    unknown (the loading reports what is wrong)."""
    path = Path(path)
    try:
        if path.is_dir():
            from ..data import list_image_folder

            _, files = list_image_folder(path)
            return sum(map(len, files.values())), image_size
        from ..data import HDF5Source

        source = HDF5Source(path, rgb=True)
        return source.n_examples, source.image_shape[0]
    except (OSError, ValueError):
        return None, None


def _stopped(error, net, checkpoints, out):
    """The error that stopped a streamed run, with where its progress is."""
    saved = checkpoints[0].saved_at if checkpoints else None
    state = net.training_state
    where = "training stopped" + (f" after {state.epoch} completed epochs" if state else "")
    if saved:
        where += (f"; the last checkpoint (epoch {saved}) is in {out}: resume with "
                  f"'{PROG} train --resume {out}'")
    else:
        where += "; nothing was saved (--checkpoint-every N keeps the progress)"
    kind = OSError if isinstance(error, OSError) else ValueError
    return kind(f"{one_line(error)}; {where}")



def _model(options, resumed, classes, size):
    """The model to train: the resumed one (its data unchanged), else a new ImageClassifier."""
    from .image_classifier import ImageClassifier

    if resumed is None:
        return ImageClassifier.build(classes, size, options["hidden"], init=INIT,
                                     seed=options["seed"], batch_norm=options["batch_norm"])
    if resumed.classes != classes or resumed.image_size != size:
        raise ValueError(f"{options['data']}: its classes or image size changed since the "
                         "run started; cannot resume on it")
    return resumed


def _prepare(options, resumed, workers):
    """The data (streamed or in memory, see cli_data.prepare) and the model: the validation
    split or else the test data is monitored."""
    split = None
    if options["validation_split"]:
        split = Split(options["validation_split"], options["seed"], "--validation-split",
                      "validation split")
    data = prepare(options["data"], image_size=options["image_size"], strict=options["strict"],
                   stream=options["stream"], workers=workers, split=split, test=options["test"])
    model = _model(options, resumed, data.classes, data.size)
    monitor = data.dev if data.dev is not None else data.test
    return {"model": model, "data": data, "monitor": monitor,
            "monitor_name": "val" if data.dev is not None else "test"}


def _fit(net, data, options, checkpoints, resume, done):
    """net.fit with a progress bar (epochs, cost, accuracy, images/s), checkpoints, and Ctrl-C
    taken back to the last epoch's end. A streamed run's bar counts images as they are read."""
    import time

    from tqdm import tqdm

    prepared = data["data"]
    epochs, name, m, stream = options["epochs"], data["monitor_name"], prepared.m, (
        prepared.streamed)
    fit_options = dict(
        epochs=epochs, learning_rate=options["learning_rate"], batch_size=options["batch_size"],
        optimizer=options["optimizer"], l2=options["l2"], keep_prob=1.0 - options["dropout"],
        validation_data=data["monitor"], seed=options["seed"], callbacks=checkpoints,
        resume=resume, interruptible=True,
    )
    if stream:
        bar = tqdm(total=epochs * m, initial=done * m, desc="training", unit="img",
                   unit_scale=True, file=sys.stderr)
        X, Y = _Counting(prepared.train, bar.update), None
        fit_options["shuffle"] = _stream_shuffle(prepared.train)
    else:
        bar = tqdm(total=epochs, initial=done, desc="training", unit="epoch", file=sys.stderr)
        X, Y = prepared.train
    last = [time.perf_counter()]

    def progress(epoch, history):
        now = time.perf_counter()
        status = {"cost": f"{history.costs[-1]:.4f}"}
        if history.val_scores:
            status[f"{name}_acc"] = f"{history.val_scores[-1]:.3f}"
        if stream:
            status = {"epoch": f"{epoch + 1}/{epochs}", **status}
        else:
            status["img/s"] = f"{m / max(now - last[0], 1e-9):.0f}"
            bar.update(1)
        last[0] = now
        bar.set_postfix(status, refresh=not stream)

    with bar:
        return net.fit(X, Y, callback=progress, **fit_options)


def _stream_shuffle(source):
    """The shuffle of a streamed run: blocks for a file, sized to its read window (contiguous
    reads), exact for image files (each is its own read anyway)."""
    from ..data import ImageFilesSource

    return True if isinstance(source, ImageFilesSource) else source.block_shuffle()


class _Counting:
    """A source whose batches are counted (on_batch(size) after each) as the loop takes them."""

    def __init__(self, source, on_batch):
        self.source, self.on_batch = source, on_batch
        self.n_examples, self.n_features = source.n_examples, source.n_features
        self.dtype, self.n_outputs = source.dtype, source.n_outputs

    def full_batch(self):
        batch = self.source.full_batch()
        self.on_batch(batch.size)
        return batch

    def batches(self, order, batch_size):
        from ..training.batches import closing_batches

        with closing_batches(self.source, order, batch_size) as batches:
            for batch in batches:
                yield batch
                self.on_batch(batch.size)


def _scores(net, data):
    """Training, validation and test accuracy (a full pass in prediction mode each, except the
    validation's, the last epoch's), recorded in the model file."""
    prepared = data["data"]
    scores = {"train_accuracy": _accuracy(net, prepared.train)}
    if prepared.dev is not None:
        scores["validation_accuracy"] = net.training_state.history.val_scores[-1]
    if prepared.test is not None:
        scores["test_accuracy"] = _accuracy(net, prepared.test)
    return scores


def _accuracy(net, part):
    """The accuracy of `net` on a source or on (X, Y) in memory."""
    from ..training.validation import is_source

    if is_source(part):
        from ..data.streams import evaluate_source

        return evaluate_source(net, part)[1]
    return net.score(*part)


def _plot(history, data, options, out):
    from .plots import plot_costs

    curves, names = [history.costs], ["training"]
    if history.val_costs:
        curves.append(history.val_costs)
        names.append(data["monitor_name"].replace("val", "validation"))
    return plot_costs(curves, out.with_name(f"{out.stem}_costs.png"), labels=names,
                      title=f"{PROG} train {Path(options['data']).name}",
                      learning_rate=options["learning_rate"])


def add_parser(commands):
    train = commands.add_parser(
        "train", help="train an image classifier", parents=IMAGES,
        description="Train an image classifier on DATA: a course-format HDF5 file or a folder "
        "with one subfolder of images per class. Saves the model and a cost-curve PNG beside "
        "it (model.npz -> model_costs.png). Data that would not fit comfortably in memory is "
        "streamed from disk batch by batch (--stream forces it). Ctrl-C saves the model with "
        "its training state at the end of the last completed epoch; --resume continues it "
        "exactly.",
    )
    train.add_argument("data", metavar="DATA", nargs="?",
                       help="HDF5 file or folder of class folders")
    train.add_argument("--test", metavar="DATA", help="test data, reported every epoch and at "
                       "the end")
    train.add_argument("--hidden", type=hidden_sizes, default=None, metavar="N,N,...",
                       help=f"hidden layer sizes (default: {','.join(map(str, HIDDEN))})")
    train.add_argument("--epochs", type=int_at_least(1), default=None,
                       help=f"passes over the training data (default: {EPOCHS})")
    train.add_argument("--learning-rate", type=positive(), default=None,
                       metavar="F", help=f"learning rate alpha (default: {LEARNING_RATE})")
    train.add_argument("--optimizer", choices=("gd", "momentum", "rmsprop", "adam"),
                       default=None, help=f"(default: {OPTIMIZER})")
    train.add_argument("--batch-size", type=int_at_least(1), default=None, metavar="N",
                       help=f"mini-batch size (default: {BATCH_SIZE})")
    train.add_argument("--l2", type=non_negative(), default=None, metavar="F",
                       help="L2 regularization lambda (default: 0)")
    train.add_argument("--dropout", type=fraction(), default=None,
                       metavar="F", help="fraction of hidden units dropped, in [0, 1) (default: 0)")
    train.add_argument("--batch-norm", action="store_true", default=None,
                       help="batch normalization")
    train.add_argument("--validation-split", type=fraction(), default=None,
                       metavar="F", help="fraction of DATA held out to monitor (default: 0)")
    train.add_argument("--seed", type=int_at_least(0), default=None,
                       help="random seed for reproducible runs (default: a fresh one, printed)")
    train.add_argument("--out", default=None, metavar="PATH",
                       help="model file (default: model.npz, or the --resume file)")
    train.add_argument("--stream", action=argparse.BooleanOptionalAction, default=None,
                       help="read the images from disk batch by batch instead of loading them "
                       "all (default: stream only when they would not fit comfortably in "
                       "memory); folders are decoded on the fly by --workers threads")
    train.add_argument("--workers", type=int_at_least(0), default=None, metavar="N",
                       help="threads decoding images while streaming a folder (default: one "
                       "per CPU; 0: decode in the training thread)")
    train.add_argument("--checkpoint-every", type=int_at_least(1), default=None, metavar="N",
                       help="also save the model with its training state every N epochs")
    train.add_argument("--resume", metavar="MODEL",
                       help="continue the run saved in MODEL (by Ctrl-C or --checkpoint-every) "
                       "to the epochs it was started with")
    train.set_defaults(run=run)
