"""`mlpkit playground`: the course's networks trained live in the browser (uvicorn)."""

from __future__ import annotations

from .cli_options import PROG, int_at_least, number
from .cmd_serve import add_address_options, listen, run_server, url_of

MAX_RUNS = 4
KEEP_RUNS = 32
IDLE_TIMEOUT = 60.0


def run(args):
    try:
        import uvicorn  # noqa: F401 (the check that the [serve] extra is installed)

        from . import playground
        from .playground_runs import RunManager
    except ImportError as e:
        raise ValueError(f"'{PROG} playground' needs the web server packages: "
                         f"pip install 'mlpkit[serve]' ({e})") from None

    sock = listen(args.host, args.port)
    manager = RunManager(args.max_runs, args.keep_runs, args.idle_timeout)
    app = playground.create_app(manager)
    url = url_of(sock)
    print(f"{PROG} playground at {url} (API: {url}api, docs: {url}docs; at most "
          f"{args.max_runs} runs at once); Ctrl+C stops it", flush=True)
    try:
        run_server(app, sock, url, access_log=not args.no_access_log)
    finally:
        manager.close()
    return 0


def add_parser(commands):
    parser = commands.add_parser(
        "playground", help="train the course's networks live in the browser",
        description="A page at / to train small networks on 2-D data sets (the course's "
        "flower, moons, circles, ...; TensorFlow Playground's XOR, spiral, gaussians; your "
        "CSV), watching the decision boundary, the cost and accuracy curves, gradient norms and "
        "the bias/variance diagnosis live; the course's runs as presets; a JSON API under /api "
        "with its docs at /docs. Needs the [serve] extra: pip install 'mlpkit[serve]'.",
    )
    add_address_options(parser)
    parser.add_argument("--max-runs", type=int_at_least(1), default=MAX_RUNS, metavar="N",
                        help="runs training at once (default: %(default)s); the next gets 429")
    parser.add_argument("--keep-runs", type=int_at_least(1), default=KEEP_RUNS, metavar="N",
                        help="finished runs kept in memory (default: %(default)s; the oldest "
                        "is dropped)")
    parser.add_argument("--idle-timeout", type=number(min_val=0.5, max_val=86400,
                                                          include_boundaries="left"),
                        default=IDLE_TIMEOUT, metavar="SECONDS",
                        help="stop a run nobody has read for this long (default: %(default)g)")
    parser.add_argument("--no-access-log", action="store_true",
                        help="do not log each request")
    parser.set_defaults(run=run)
