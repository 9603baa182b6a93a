"""`mlpkit train`: train an image classifier on an HDF5 file or a folder of class folders, held
in memory or streamed from disk (--stream, or by itself when the data would not fit); with a
dev set (--dev or --validation-split) monitored every epoch and the bias/variance diagnosis at
the end, stored in the model file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from ..data.checks import one_line
from .cli_data import Split, prepare
from .cli_files import check_writable, load_classifier
from .cli_options import (
    DEVICE,
    HUMAN_ERROR,
    IMAGE_SIZE,
    IMAGES,
    PROG,
    UsageError,
    fraction,
    hidden_sizes,
    int_at_least,
    non_negative,
    placement,
    positive,
)
from .cli_output import Progress, warn
from .cli_training import (
    BATCH_SIZE,
    BETAS,
    EPOCHS,
    HIDDEN,
    LEARNING_RATE,
    OPTIMIZER,
    RUN_OPTIONS,
    accuracy,
    build_model,
    diagnosis,
    fit_model,
)

# without --stream / --no-stream, stream when the data as floats would take more than this
# fraction of the memory available
STREAM_FRACTION = 0.5


def run(args):
    from ..io.checkpoint import Checkpoint
    from ..io.model_files import save
    from ..training import TrainingInterrupted

    options, resumed, monitor_test = _options(args)
    where = placement(args)
    out = check_writable(args.out if args.out is not None else (args.resume or "model.npz"),
                         "model.npz")
    if options["stream"] is None:
        options["stream"] = _should_stream(options)
    if args.workers is not None and not Path(options["data"]).is_dir():
        warn(f"--workers sets the processes decoding a folder's images; {options['data']} is "
             "an HDF5 file, read without decoding")
    data = _prepare(options, resumed, args.workers, monitor_test)
    model, net = data["model"], data["model"].network
    if where is not None:
        model.to(**where)
    epochs = options["epochs"]
    done = net.training_state.epoch if resumed is not None else 0
    if resumed is not None and done >= epochs:
        raise ValueError(f"{args.resume}: its run already finished ({done} of {epochs} epochs)")

    def metadata(loop=None, scores=None, found=None):
        epochs_done = loop.state.epoch if loop is not None else net.training_state.epoch
        return {"data": options["data"], "seed": options["seed"], "init": options["init"],
                "hidden": list(options["hidden"]), "options": options,
                "epochs_done": epochs_done, "complete": scores is not None, **(scores or {}),
                **({"diagnosis": found.to_dict()} if found is not None else {})}

    checkpoints = [Checkpoint(model, out, args.checkpoint_every, metadata)] if (
        args.checkpoint_every) else []
    prepared = data["data"]
    if not args.quiet:
        verb = "resuming" if resumed is not None else "training"
        # a streamed folder counts its files: unreadable ones are found (and skipped) as read
        what = "image files" if hasattr(prepared.train, "paths") else "images"
        monitored = (f"; monitoring the {data['monitor_name']} set's cost and error every epoch"
                     if data["monitor"] is not None else "")
        print(f"{verb} {net.layer_dims} on {prepared.m} {what} of {model.classes} "
              f"(seed {options['seed']})" + (f" from epoch {done}" if done else "")
              + (", streamed from disk" if options["stream"] else "") + monitored
              + (f"; on {_device(net)}" if where is not None else ""), flush=True)
    try:
        history = _fit(model, data, options, checkpoints, resume=resumed is not None, done=done,
                       quiet=args.quiet)
    except (OSError, ValueError) as error:
        if not options["stream"] or isinstance(error, FloatingPointError):
            raise
        raise _stopped(error, net, checkpoints, out) from error
    except TrainingInterrupted as stop:
        save(model, out, metadata=metadata())
        print(f"{PROG}: interrupted after epoch {stop.epochs_done} of {epochs}; the state is "
              f"saved in {out}; resume with: {PROG} train --resume {out}", file=sys.stderr)
        return 130
    scores, found = _result(model, prepared, options)
    if history.stopped_early:
        print(f"early stopping: the dev cost did not improve for {options['patience']} epochs; "
              f"stopped after epoch {history.epochs}, kept epoch {history.best_epoch + 1}")
    for name, value in scores.items():
        print(f"{name.replace('_', ' ')}: {value:.4f}")
    if found is not None:
        print(found)
    save(model, out, metadata=metadata(scores=scores, found=found))
    print(f"model saved to {out}; cost curve in {_plot(history, data, options, out)}")
    return 0


def _device(net):
    """The network's library, device and dtype, in words."""
    from ..nn.backend import dtype_name

    b = net.backend
    return f"{b.name} {b.device} in {dtype_name(net.dtype)}"


def _options(args):
    """(the run's options, the model being resumed or None, whether the test set is the one
    monitored: runs recorded before --dev existed). A new run fills in the defaults and draws a
    seed; --resume takes everything from the model file's record."""
    from ..search.folder import fresh_seed

    given = {k: getattr(args, k) for k in RUN_OPTIONS if getattr(args, k, None) is not None}
    if args.resume is None:
        if args.data is None:
            raise UsageError("DATA is required (or --resume MODEL to continue a run)")
        options = {**RUN_OPTIONS, **given}
        _check(options)
        if options["seed"] is None:
            options["seed"] = fresh_seed()
        for key in ("data", "dev", "test"):
            if options[key] is not None:
                options[key] = str(Path(options[key]).resolve())
        options["hidden"] = list(options["hidden"])
        options["argv"] = list(args.argv)
        return options, None, False
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
    # recorded before --dev: the test set was monitored every epoch, and goes on being
    monitor_test = "dev" not in recorded and not recorded.get("validation_split")
    return {**RUN_OPTIONS, **recorded}, model, monitor_test


def _check(options):
    """Options that make no sense together: a UsageError naming them."""
    if options["dropout"] and not options["hidden"]:
        raise UsageError("--dropout needs at least one hidden layer (see --hidden)")
    if options["patience"] is not None and options["dev"] is None and not (
            options["validation_split"]):
        raise UsageError("--patience (early stopping on the dev cost) needs a dev set: "
                         "--dev DEV or --validation-split F")
    if options["decay_rate"] is not None and options["lr_schedule"] in (None, "constant"):
        raise UsageError("--decay-rate needs a decaying --lr-schedule (inverse_time, "
                         "exponential, sqrt or staircase)")
    for beta in ("beta1", "beta2"):
        takes = [name for name, betas in BETAS.items() if beta in betas]
        if options[beta] is not None and options["optimizer"] not in takes:
            raise UsageError(f"--{beta} is a setting of --optimizer {', '.join(takes)}; "
                             f"--optimizer {options['optimizer']} has none")


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


def _prepare(options, resumed, workers, monitor_test):
    """The data (streamed or in memory, see cli_data.prepare) and the model: the dev set (a
    split of DATA or --dev) is monitored; --test is scored once at the end (a run recorded
    before --dev monitors its test set, as it did)."""
    split = None
    if options["validation_split"]:
        split = Split(options["validation_split"], options["seed"], "--validation-split",
                      "validation split")
    data = prepare(options["data"], image_size=options["image_size"], strict=options["strict"],
                   stream=options["stream"], workers=workers, split=split, dev=options["dev"],
                   test=options["test"])
    if resumed is None:
        model = build_model(options, data.classes, data.size)
    elif resumed.classes != data.classes or resumed.image_size != data.size:
        raise ValueError(f"{options['data']}: its classes or image size changed since the "
                         "run started; cannot resume on it")
    else:
        model = resumed
    monitor = data.dev if data.dev is not None else (data.test if monitor_test else None)
    return {"model": model, "data": data, "monitor": monitor,
            "monitor_name": "test" if monitor is not None and data.dev is None else "dev"}


def _fit(model, data, options, checkpoints, resume, done, quiet):
    """fit_model with progress (see Progress), checkpoints, and Ctrl-C taken back to the last
    epoch's end. A streamed run's bar counts images as they are read."""
    prepared = data["data"]
    progress = Progress(options["epochs"], done, prepared.m, prepared.streamed,
                        data["monitor_name"], quiet=quiet)
    extra = {}
    if prepared.streamed:
        extra["shuffle"] = _stream_shuffle(prepared.train)
    with progress:
        return fit_model(model, prepared.train, options, validation_data=data["monitor"],
                         on_batch=progress.on_batch, done=done, callback=progress.on_epoch,
                         callbacks=checkpoints, resume=resume, interruptible=True, **extra)


def _stream_shuffle(source):
    """The shuffle of a streamed run: blocks for a file, sized to its read window (contiguous
    reads), exact for image files (each is its own read anyway)."""
    from ..data import ImageFilesSource

    return True if isinstance(source, ImageFilesSource) else source.block_shuffle()


def _result(model, prepared, options):
    """(the accuracies recorded in the model file, the Diagnosis or None without a dev set):
    full passes in prediction mode over the training, dev and test data."""
    if prepared.dev is None:
        scores = {"train_accuracy": accuracy(model.network, prepared.train)}
        if prepared.test is not None:
            scores["test_accuracy"] = accuracy(model.network, prepared.test)
        return scores, None
    found = diagnosis(model, prepared.train, prepared.dev, options, test=prepared.test,
                      argv=options.get("argv"))
    scores = {"train_accuracy": 1 - found.train_error, "dev_accuracy": 1 - found.dev_error}
    if found.test_error is not None:
        scores["test_accuracy"] = 1 - found.test_error
    return scores, found


def _plot(history, data, options, out):
    from .plots import plot_costs

    curves, names = [history.costs], ["training (mean over each epoch's mini-batches)"]
    if history.val_costs:
        curves.append(history.val_costs)
        names.append(f"{data['monitor_name']} (after each epoch)")
    return plot_costs(curves, out.with_name(f"{out.stem}_costs.png"), labels=names,
                      title=f"{PROG} train {Path(options['data']).name}",
                      learning_rate=options["learning_rate"])


def add_parser(commands):
    from ..nn.initializers import INITIALIZERS
    from ..optim.schedules import SCHEDULES

    train = commands.add_parser(
        "train", help="train an image classifier", parents=[*IMAGES, HUMAN_ERROR, DEVICE],
        description="Train an image classifier on DATA: a course-format HDF5 file or a folder "
        "with one subfolder of images per class. With a dev set (--dev, or --validation-split "
        "of DATA) its cost and error are monitored every epoch, and the run ends with the "
        "bias/variance diagnosis and the basic recipe as runnable commands (also stored in "
        "the model file). --test is scored once, at the end. Saves the model and a cost-curve "
        "PNG beside it (model.npz -> model_costs.png). Data that would not fit comfortably in "
        "memory is streamed from disk batch by batch (--stream forces it). Ctrl-C saves the "
        "model with its training state at the end of the last completed epoch; --resume "
        "continues it exactly.",
    )
    train.add_argument("data", metavar="DATA", nargs="?",
                       help="HDF5 file or folder of class folders")
    dev = train.add_mutually_exclusive_group()
    dev.add_argument("--dev", metavar="DATA", help="dev data: its cost and error monitored "
                     "every epoch, and the diagnosis at the end")
    dev.add_argument("--validation-split", type=fraction(), default=None, metavar="F",
                     help="hold out a stratified fraction F of DATA as the dev set instead "
                     "(default: 0)")
    train.add_argument("--test", metavar="DATA", help="test data, scored once at the end")
    train.add_argument("--hidden", type=hidden_sizes, default=None, metavar="N,N,...",
                       help=f"hidden layer sizes (default: {','.join(map(str, HIDDEN))})")
    train.add_argument("--init", choices=sorted(INITIALIZERS), default=None,
                       help="weight initialization (default: xavier)")
    train.add_argument("--epochs", type=int_at_least(1), default=None,
                       help=f"passes over the training data (default: {EPOCHS})")
    train.add_argument("--learning-rate", type=positive(), default=None,
                       metavar="F", help=f"learning rate alpha (default: {LEARNING_RATE})")
    train.add_argument("--lr-schedule", choices=list(SCHEDULES), default=None,
                       help="learning-rate decay (default: constant)")
    train.add_argument("--decay-rate", type=non_negative(), default=None, metavar="F",
                       help="the schedule's decay rate (default: the schedule's own)")
    train.add_argument("--optimizer", choices=("gd", "momentum", "nesterov", "rmsprop", "adam"),
                       default=None, help=f"(default: {OPTIMIZER})")
    train.add_argument("--beta1", type=fraction(), default=None, metavar="F",
                       help="momentum's beta (momentum, nesterov) or Adam's beta1 "
                       "(default: 0.9)")
    train.add_argument("--beta2", type=fraction(), default=None, metavar="F",
                       help="RMSprop's and Adam's beta2 (default: 0.999)")
    train.add_argument("--batch-size", type=int_at_least(1), default=None, metavar="N",
                       help=f"mini-batch size (default: {BATCH_SIZE})")
    train.add_argument("--l2", type=non_negative(), default=None, metavar="F",
                       help="L2 regularization, the course's lambda (default: 0)")
    train.add_argument("--dropout", type=fraction(), default=None, metavar="F",
                       help="fraction of hidden units dropped, 1 - keep_prob, in [0, 1) "
                       "(default: 0)")
    train.add_argument("--augment", choices=("flip",), default=None,
                       help="data augmentation: flip each training image left-right at random "
                       "each epoch")
    train.add_argument("--patience", type=int_at_least(1), default=None, metavar="N",
                       help="early stopping: stop when the dev cost has not improved for N "
                       "epochs and keep the best epoch (needs a dev set)")
    train.add_argument("--batch-norm", action="store_true", default=None,
                       help="batch normalization")
    train.add_argument("--seed", type=int_at_least(0), default=None,
                       help="random seed for reproducible runs (default: a fresh one, printed)")
    train.add_argument("--out", default=None, metavar="PATH",
                       help="model file (default: model.npz, or the --resume file)")
    train.add_argument("--stream", action=argparse.BooleanOptionalAction, default=None,
                       help="read the images from disk batch by batch instead of loading them "
                       "all (default: stream only when they would not fit comfortably in "
                       "memory); folders are decoded on the fly by --workers processes")
    train.add_argument("--workers", type=int_at_least(0), default=None, metavar="N",
                       help="processes decoding a folder's images (default: one per CPU; 0: "
                       "decode in the training thread; a folder loaded in memory: the training "
                       "thread below 512 images)")
    train.add_argument("--checkpoint-every", type=int_at_least(1), default=None, metavar="N",
                       help="also save the model with its training state every N epochs")
    train.add_argument("--resume", metavar="MODEL",
                       help="continue the run saved in MODEL (by Ctrl-C or --checkpoint-every) "
                       "to the epochs it was started with")
    train.add_argument("--quiet", action="store_true",
                       help="print only the result (no progress)")
    train.set_defaults(run=run)
