"""`mlpkit search`: random hyperparameter search, coarse to fine, for an image classifier, on
local processes or a Dask cluster. Writes DIR/results.csv (one row per trial, appended as each
finishes), DIR/search.json, DIR/best.npz (the best trial retrained) and DIR/search.png."""

from __future__ import annotations

import math
from pathlib import Path

from .cli_data import Split, prepare
from .cli_options import (
    DEVICE,
    IMAGES,
    PROG,
    UsageError,
    int_at_least,
    number,
    placement,
    positive,
)
from .cli_output import warn

DEV_SPLIT = 0.2
CONNECT_TIMEOUT = 10.0
TABLE_ROWS = 10


def run(args):
    from ..search.folder import SearchFolder, fresh_seed
    from ..search.space_file import default_space, load_space

    space, fixed = load_space(args.space) if args.space else default_space()
    set_by_classes = sorted({"output_activation"} & (set(space) | set(fixed)))
    if set_by_classes:
        raise ValueError(f"{args.space}: {set_by_classes[0]} is set by the number of classes "
                         f"({PROG} search trains image classifiers); leave it out")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: exists and is not a folder")
    seed = args.seed
    if seed is None and not args.force:
        seed = SearchFolder.stored_seed(out)
    if seed is None:
        seed = fresh_seed()

    device = placement(args, here=args.scheduler is None)
    args.workers = _local_workers(args)
    data = _load(args, seed)
    executor, where = _executor(args)
    if device is not None:
        where += f" on {args.device or 'cpu'}" + (f" ({args.backend})" if args.backend else "")
    try:
        results = _search(args, space, fixed, data, executor, where, seed, out, device)
    finally:
        if executor is not None:
            executor.close()
    best, model, retrained = _retrain(results, data, device)
    _report(args, results, best, model, retrained, data, out, seed)
    return 0


def _local_workers(args):
    """The local processes: one per core by default; one on a GPU (the trials share it)."""
    from ..training.devices import on_gpu

    if on_gpu(args.device) and args.scheduler is None:
        if args.workers not in (None, 1):
            raise UsageError(f"--device {args.device}: local trials share the one device, one "
                             "at a time; drop --workers, or run them on a Dask cluster with one "
                             "worker per GPU (--scheduler)")
        return 1
    return -1 if args.workers is None else args.workers


def _load(args, seed):
    """{classes, size, X, Y, X_dev, Y_dev} of DATA in memory, with a stratified dev split held
    out (or --dev's data as the dev set)."""
    split = None if args.dev is not None else Split(args.dev_split, seed, "--dev-split",
                                                     "dev split")
    data = prepare(args.data, image_size=args.image_size, strict=args.strict, split=split,
                   dev=args.dev)
    (X, Y), (X_dev, Y_dev) = data.train, data.dev
    return {"classes": data.classes, "size": data.size, "X": X, "Y": Y, "X_dev": X_dev,
            "Y_dev": Y_dev}


def _executor(args):
    """(Dask client or None, words for where the trials run)."""
    if args.scheduler is None:
        from joblib import effective_n_jobs

        n = effective_n_jobs(args.workers)
        return None, f"{n} local process{'es' if n > 1 else ''}"
    from ..search.dask_runner import connect

    try:
        client = connect(args.scheduler, timeout=args.connect_timeout)
    except ImportError as e:
        raise ValueError(f"--scheduler: {e}") from None
    workers = client.scheduler_info()["workers"].values()
    threads = sum(w.get("nthreads", 1) for w in workers)
    return client, (f"the Dask scheduler at {args.scheduler} ({len(workers)} workers, "
                    f"{threads} threads)")


def _search(args, space, fixed, data, executor, where, seed, out, device):
    from ..search import coarse_to_fine

    names = ", ".join(space)
    m, m_dev = data["X"].shape[1], data["X_dev"].shape[1]
    print(f"searching {args.trials} trials x {args.rounds} round(s) over {names} on {m} "
          f"training / {m_dev} dev images of {data['classes']} (seed {seed}) on {where}; "
          f"results in {out / 'results.csv'}", flush=True)
    return coarse_to_fine(
        fixed, space, args.trials, data["X"], data["Y"], data["X_dev"], data["Y_dev"],
        rounds=args.rounds, n_jobs=args.workers, seed=seed, executor=executor, out=out,
        force=args.force, progress=True, **(device or {}),
    )


def _retrain(results, data, device=None):
    """(best row, the best trial's classifier retrained on the training split, its scores), on
    the trials' device when this machine has it, else on the host."""
    from ..search.trials import trial_settings
    from .image_classifier import ImageClassifier

    best = results.best
    if best.get("dev_score") is None or not math.isfinite(best["dev_score"]):
        errors = [row["error"] for row in results if row.get("error")]
        raise ValueError(f"all {len(results)} trials failed; the first error: {errors[0]}")
    params = results.best_params()
    hidden, network_options, fit_options = trial_settings(params)
    model = ImageClassifier.build(data["classes"], data["size"], hidden, **network_options)
    if device is not None:
        try:
            model.to(**device)
        except (ValueError, ImportError) as e:  # the trials ran on the workers' GPUs
            warn(f"retraining the best trial on the host: {str(e).splitlines()[0]}")
    model.fit(data["X"], data["Y"], **fit_options)
    _, dev_score = model.network.evaluate(data["X_dev"], data["Y_dev"])
    train_score = model.network.score(data["X"], data["Y"])
    return best, model, {"params": params, "dev_accuracy": dev_score,
                         "train_accuracy": train_score}


def _report(args, results, best, model, retrained, data, out, seed):
    from ..io.model_files import save
    from .plots import plot_search

    total = len(results)
    print(results.format_table(max_rows=TABLE_ROWS))
    if results.skipped:
        print(f"{results.skipped} of {total} trials were already in {out / 'results.csv'}; "
              f"ran the other {total - results.skipped}")
    failed = sum(1 for row in results if row.get("status") not in (None, "ok"))
    if failed:
        print(f"{failed} of {total} trials failed (see the status and error columns)")
    metadata = {"data": str(args.data), "search": str(out), "seed": seed,
                "classes": data["classes"], **retrained}
    save(model, out / "best.npz", metadata=metadata)
    plot = plot_search(results, out / "search.png",
                       title=f"{PROG} search {Path(args.data).name}: {total} trials")
    params = ", ".join(f"{k}={_value(v)}" for k, v in retrained["params"].items())
    print(f"best trial (round {best.get('round')}, dev accuracy {best['dev_score']:.4f}): "
          f"{params}")
    print(f"retrained on the training split: dev accuracy {retrained['dev_accuracy']:.4f}, "
          f"training accuracy {retrained['train_accuracy']:.4f}; saved to {out / 'best.npz'}; "
          f"plots in {plot}")


def _value(value):
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def add_parser(commands):
    search = commands.add_parser(
        "search", help="random hyperparameter search for an image classifier",
        parents=[*IMAGES, DEVICE],
        description="Random hyperparameter search, coarse to fine, for an image classifier on "
        "DATA (a course-format HDF5 file or a folder of class folders), with a stratified dev "
        "split held out. Each round samples --trials trials from the space (log scales for the "
        "learning rate, L2 and 1 - beta), the next round zooms into the best ones. Trials run "
        "on local processes (--workers) or a Dask cluster (--scheduler); with --device cuda "
        "each Dask trial asks its worker for one GPU (workers started with --resources GPU=1, "
        "one per GPU). Writes DIR/results.csv "
        "(a row per trial as it finishes; a rerun with the same --out runs only the missing "
        "trials), DIR/best.npz (the best trial retrained, for 'mlpkit predict') and "
        "DIR/search.png.",
    )
    search.add_argument("data", metavar="DATA", help="HDF5 file or folder of class folders")
    search.add_argument("--trials", type=int_at_least(1), required=True, metavar="N",
                        help="trials per round")
    search.add_argument("--rounds", type=int_at_least(1), default=2, metavar="R",
                        help="coarse-to-fine rounds (default: %(default)s)")
    search.add_argument("--space", metavar="SPACE.toml",
                        help="search space file (default: the built-in space; see README)")
    where = search.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int_at_least(1), default=None, metavar="K",
                       help="local worker processes (default: one per core; one with a GPU "
                       "--device)")
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="run the trials on the Dask scheduler at ADDRESS (tcp://host:8786)")
    search.add_argument("--connect-timeout", type=positive(), default=CONNECT_TIMEOUT,
                        metavar="S", help="seconds to wait for the scheduler and a worker "
                        "(default: %(default)g)")
    search.add_argument("--seed", type=int_at_least(0), default=None,
                        help="random seed (default: the one recorded in --out, else a fresh "
                        "one, printed)")
    search.add_argument("--out", required=True, metavar="DIR", help="output folder")
    search.add_argument("--force", action="store_true",
                        help="discard results in DIR from a different search")
    dev = search.add_mutually_exclusive_group()
    dev.add_argument("--dev-split", type=number(min_val=0, max_val=1,
                                                include_boundaries="neither"),
                     default=DEV_SPLIT, metavar="F",
                     help="fraction of DATA held out, stratified, to score the trials (default: "
                     "%(default)s)")
    dev.add_argument("--dev", metavar="DATA", help="score the trials on this data instead "
                     "(and train on all of DATA)")
    search.set_defaults(run=run)
