"""`mlpkit serve`: a web page and a JSON API around a trained image classifier (uvicorn)."""

from __future__ import annotations

import ipaddress
import socket
import warnings
from pathlib import Path

from .cli_files import load_classifier
from .cli_options import DEVICE, PROG, number, placement
from .cli_output import warn

HOST = "127.0.0.1"
PORT = 8000
MAX_UPLOAD_MB = 10.0


port_number = number(integer=True, min_val=0, max_val=65535)  # --port: 0 picks a free one


def listen(host, port):
    """A TCP socket bound to host:port (port 0: a free one); OSError in one line if it can't be."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as e:
        raise OSError(f"cannot listen on {host}:{port}: unknown host ({e.strerror})") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as e:
        sock.close()
        raise OSError(f"cannot listen on {host}:{port} ({e.strerror})") from None
    return sock


def _is_loopback(host):
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def run(args):
    from ..io.model_files import read_metadata

    where = placement(args)
    model = load_classifier(args.model)
    if where is not None:  # the answers are the same JSON, computed there
        model.to(**where)
    header = read_metadata(args.model)
    try:
        import uvicorn  # noqa: F401 (the check that the [serve] extra is installed)
        from PIL import Image

        from . import web
    except ImportError as e:
        raise ValueError(f"'{PROG} serve' needs the web server packages: "
                         f"pip install 'mlpkit[serve]' ({e})") from None

    # Pillow only warns between 1x and 2x its pixel limit; uploads above 1x are refused.
    warnings.filterwarnings("error", category=Image.DecompressionBombWarning)
    name = Path(args.model).name
    app = web.create_app(model, header, int(args.max_upload_mb * web.MB), name=name)
    sock = listen(args.host, args.port)
    url = url_of(sock)
    print(f"{PROG} serve: {name} ({', '.join(model.classes)}) at {url} "
          f"(API: {url}api/predict, docs: {url}docs); Ctrl+C stops it", flush=True)
    run_server(app, sock, url, access_log=not args.no_access_log)
    return 0


def url_of(sock):
    """http://host:port/ of a bound socket."""
    host, port = sock.getsockname()[:2]
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/"


def run_server(app, sock, url, access_log=True):
    """Serve `app` with uvicorn on the bound `sock` until Ctrl+C (a warning first when it is
    open beyond this machine); OSError if the server did not start. Closes `sock`."""
    import uvicorn

    host = sock.getsockname()[0]
    if not _is_loopback(host):
        warn(f"listening on {host}: anyone who can reach this machine can use the page and API")
    config = uvicorn.Config(app, log_level="info", access_log=access_log,
                            server_header=False, timeout_graceful_shutdown=5)
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    if not server.started:
        raise OSError(f"the server on {url} did not start (see the messages above)")


def add_parser(commands):
    serve = commands.add_parser(
        "serve", help="a web page and a JSON API that classify uploaded images",
        description="Serve MODEL: a page at / to drop photos on (each gets its class and a "
        "probability bar per class), POST /api/predict (multipart field 'files'), "
        "GET /api/model, GET /health and the API docs at /docs. Needs the [serve] extra: "
        "pip install 'mlpkit[serve]'. --device computes the answers there.",
        parents=[DEVICE],
    )
    serve.add_argument("model", metavar="MODEL", help="model file from 'mlpkit train'")
    add_address_options(serve)
    serve.add_argument("--max-upload-mb", type=number(min_val=0.001, max_val=4096),
                       default=MAX_UPLOAD_MB, metavar="MB",
                       help="largest request, all its files together, in MB of 2^20 bytes "
                       "(default: %(default)g); larger ones get 413")
    serve.add_argument("--no-access-log", action="store_true",
                       help="do not log each request")
    serve.set_defaults(run=run)


def add_address_options(parser):
    """--host and --port of a command that serves a page."""
    parser.add_argument("--host", default=HOST,
                        help="address to listen on (default: %(default)s, this machine only; "
                        "0.0.0.0 opens it to the network)")
    parser.add_argument("--port", type=port_number, default=PORT,
                        help="TCP port (default: %(default)s; 0 picks a free one)")
