"""`mlpkit serve` under load: concurrent clients against a real server on 127.0.0.1.

    python benchmarks/serve_load.py            # 20 clients x 25 requests (about 10-30 s)
    python benchmarks/serve_load.py --quick    # 4 clients x 5 requests: the CI smoke test
    python benchmarks/serve_load.py --model cat.npz --files-per-request 4

Starts `python -m mlpkit serve MODEL --port <free port>` (default options: one uvicorn process,
access log on), waits for /health, then each client (a thread with its own keep-alive
httpx.Client) sends its requests one after another: POST /api/predict with JPEG photos made from
the cat test set (same-size synthetic pictures without it). Every answer is checked against the
model in this process (`decode_image` + `predict_proba`: same classes, probabilities within
1e-9); a wrong, failed or missing answer makes the exit status 1. Prints requests/s and the
p50 / p95 / max latency, then stops the server. Bounded: --max-seconds for the whole run, 30 s
per request; only 127.0.0.1 is contacted.
"""

import argparse
import contextlib
import io
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

import mlpkit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import describe, table  # noqa: E402

from mlpkit.apps.image_classifier import ImageClassifier
from mlpkit.data.images import decode_image

REQUEST_TIMEOUT = 30


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def photos(n, size, seed=0):
    """n JPEG photos (bytes) of size x size: the cat test set upscaled, or synthetic pictures."""
    try:
        images = mlpkit.load_cat_data()[2][:n]
        source = "the cat test set"
    except (OSError, ValueError):
        rng = np.random.default_rng(seed)
        ramp = np.linspace(0, 255, 64)[:, None, None]
        images = [np.clip(ramp * rng.random(3) + rng.normal(0, 20, (64, 64, 3)), 0, 255)
                  .astype(np.uint8) for _ in range(n)]
        source = "synthetic pictures (no cat data found)"
    out = []
    for image in images:
        buffer = io.BytesIO()
        Image.fromarray(image).resize((size, size), Image.Resampling.LANCZOS).save(
            buffer, "JPEG", quality=90)
        out.append(buffer.getvalue())
    return out, source


class Server:
    def __init__(self, model, log):
        self.url = f"http://127.0.0.1:{free_port()}"
        port = self.url.rsplit(":", 1)[1]
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mlpkit", "serve", str(model), "--port", port],
            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise SystemExit(f"serve_load: the server exited:\n{self.output()}")
            with contextlib.suppress(httpx.TransportError):  # not listening yet
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            if time.monotonic() > deadline:
                self.stop()
                raise SystemExit(f"serve_load: no answer from /health in 60 s:\n{self.output()}")
            time.sleep(0.1)

    def output(self):
        self.log.flush()
        return Path(self.log.name).read_text()[-3000:]

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)


def run_clients(url, uploads, expected, clients, requests, deadline):
    """Each client sends `requests` requests in turn; returns (latencies, problems, seconds)."""
    latencies, problems = [], []
    lock = threading.Lock()
    start_together = threading.Barrier(clients + 1)

    def client(c):
        with httpx.Client(base_url=url, timeout=REQUEST_TIMEOUT) as http:
            start_together.wait()
            for r in range(requests):
                if time.monotonic() > deadline:
                    with lock:
                        problems.append(f"client {c}: stopped at --max-seconds, "
                                        f"{requests - r} request(s) not sent")
                    return
                k = (c * requests + r) % len(uploads)
                files = [("files", (name, data, "image/jpeg")) for name, data in uploads[k]]
                t = time.perf_counter()
                try:
                    response = http.post("/api/predict", files=files)
                    elapsed = time.perf_counter() - t
                    problem = check(response, uploads[k], expected[k])
                except httpx.HTTPError as e:
                    elapsed, problem = None, f"{type(e).__name__}: {e}"
                with lock:
                    if problem:
                        problems.append(f"client {c} request {r}: {problem}")
                    else:
                        latencies.append(elapsed)

    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    for thread in threads:
        thread.start()
    start_together.wait()
    t0 = time.perf_counter()
    for thread in threads:
        thread.join()
    return latencies, problems, time.perf_counter() - t0


def check(response, upload, expected):
    """None if the response is the right answer, else what is wrong."""
    if response.status_code != 200:
        return f"status {response.status_code}: {response.text[:200]}"
    predictions = response.json().get("predictions", [])
    if [p.get("filename") for p in predictions] != [name for name, _ in upload]:
        return f"wrong files in the answer: {[p.get('filename') for p in predictions]}"
    for p, (cls, proba) in zip(predictions, expected, strict=True):
        got = np.array(list(p["probabilities"].values()))
        if p["class"] != cls or not np.allclose(got, proba, rtol=1e-9, atol=1e-12):
            return f"wrong prediction {p} (expected {cls} {proba.tolist()})"
    return None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="model file (default: a cat model of the default "
                        "architecture [12288, 20, 7, 5, 1], untrained: speed does not depend on "
                        "the weights)")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=25, help="per client")
    parser.add_argument("--files-per-request", type=int, default=1)
    parser.add_argument("--photo-size", type=int, default=512, help="pixels per side of the "
                        "JPEG photos (default: %(default)s)")
    parser.add_argument("--max-seconds", type=float, default=300,
                        help="bound on the whole run (default: %(default)s)")
    parser.add_argument("--quick", action="store_true", help="4 clients x 5 requests")
    args = parser.parse_args(argv)
    if args.quick:
        args.clients, args.requests = 4, 5
    for name in ("clients", "requests", "files_per_request", "photo_size"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")

    with tempfile.TemporaryDirectory() as tmp:
        model_path = args.model
        if model_path is None:
            model_path = Path(tmp) / "cat.npz"
            mlpkit.save(ImageClassifier.build(["non-cat", "cat"], 64, (20, 7, 5), init="xavier",
                                              seed=0), model_path)
        model = mlpkit.load(model_path)
        jpegs, source = photos(20, args.photo_size)
        n = args.files_per_request
        uploads = [[(f"photo{(k + i) % len(jpegs)}.jpg", jpegs[(k + i) % len(jpegs)])
                    for i in range(n)] for k in range(len(jpegs))]
        expected = []
        for upload in uploads:
            proba = model.predict_proba(np.stack(
                [decode_image(data, model.image_size) for _, data in upload]))
            expected.append([(model.classes[p.argmax()], p) for p in proba])

        with open(Path(tmp) / "server.log", "w") as log:
            server = Server(model_path, log)
            try:
                for upload, want in zip(uploads[:3], expected[:3], strict=True):  # warm up
                    problem = check(httpx.post(f"{server.url}/api/predict", timeout=30, files=[
                        ("files", (name, data, "image/jpeg")) for name, data in upload]),
                        upload, want)
                    if problem:
                        raise SystemExit(f"serve_load: warm-up request: {problem}")
                deadline = time.monotonic() + args.max_seconds
                latencies, problems, seconds = run_clients(
                    server.url, uploads, expected, args.clients, args.requests, deadline)
            finally:
                server.stop()
            if problems:
                print(server.output(), file=sys.stderr)

    total = args.clients * args.requests
    kb = np.mean([sum(len(d) for _, d in u) for u in uploads]) / 1024
    ms = np.percentile(np.array(latencies) * 1000, [50, 95, 100]) if latencies else [np.nan] * 3
    print(f"mlpkit serve under load: {args.clients} concurrent clients x {args.requests} requests, "
          f"{n} JPEG photo(s) of {args.photo_size}x{args.photo_size} from {source} per request "
          f"({kb:.0f} KB)")
    print(f"model: {model.network.layer_dims}; server: one uvicorn process, default options")
    print(describe(libraries=["mlpkit", "uvicorn", "starlette"]))
    print()
    print(table(["requests", "correct", "wrong or failed", "seconds", "requests/s", "p50 ms",
                 "p95 ms", "max ms"],
                [[total, len(latencies), total - len(latencies), f"{seconds:.2f}",
                  f"{len(latencies) / seconds:.1f}", f"{ms[0]:.1f}", f"{ms[1]:.1f}",
                  f"{ms[2]:.1f}"]]))
    for problem in problems[:20]:
        print(f"serve_load: {problem}", file=sys.stderr)
    return 0 if len(latencies) == total and not problems else 1


if __name__ == "__main__":
    sys.exit(main())
