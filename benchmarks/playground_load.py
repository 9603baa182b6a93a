"""`mlpkit playground` under load: N clients, each training a flower run at once and reading its
event stream, against a real server on 127.0.0.1.

    python benchmarks/playground_load.py             # 4 clients x a 2000-epoch flower run
    python benchmarks/playground_load.py --clients 4 --epochs 500

Starts `python -m mlpkit playground --port <free port> --no-access-log`, waits for /health,
then each client (a thread) POSTs the page's default run (4 tanh units on the flower, 400
points, 100 dev points) with --epochs, and reads /api/runs/{id}/events to the end. For each
stream it reports the intervals between updates (metrics events: the issue's goal is at most
1 s), the time to the first update and the run's duration; a run that does not finish, or
ends differently from the same run through Network.fit in this process, makes the exit status
1. Also reports that one more run past --max-runs (default 4) gets 429 while they train.
Bounded: --max-seconds for the whole run; only 127.0.0.1 is contacted.
"""

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import cpu_count, cpu_name  # noqa: E402

from mlpkit.apps.presets import fit_options, make_data, network, settings_of  # noqa: E402


def free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(log, max_runs):
    port = free_port()
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen([sys.executable, "-m", "mlpkit", "playground", "--port",
                                str(port), "--no-access-log", "--max-runs", str(max_runs)],
                               stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return process, url
        time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not answer /health in 60 s")


def client(url, epochs, result):
    start = time.monotonic()
    response = httpx.post(f"{url}/api/runs", json={"epochs": epochs}, timeout=60)
    response.raise_for_status()
    run_id = response.json()["id"]
    result["id"] = run_id
    updates, name, record = [], None, None
    with httpx.stream("GET", f"{url}/api/runs/{run_id}/events", timeout=120) as stream:
        for line in stream.iter_lines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                now = time.monotonic() - start
                if name == "metrics":
                    updates.append(now)
                elif name == "done":
                    record = json.loads(line[6:])
    result.update(updates=updates, record=record, seconds=time.monotonic() - start)


def percentile(values, q):
    return float(np.percentile(values, q)) if values else float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=2000)
    parser.add_argument("--max-runs", type=int, default=4)
    parser.add_argument("--max-seconds", type=float, default=600)
    args = parser.parse_args()

    print(f"machine: {cpu_name()}, {cpu_count()} usable CPUs, load average "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    with tempfile.TemporaryFile("w+") as log:
        process, url = start_server(log, args.max_runs)
        try:
            results = [{} for _ in range(args.clients)]
            threads = [threading.Thread(target=client, args=(url, args.epochs, r), daemon=True)
                       for r in results]
            for t in threads:
                t.start()
            started = time.monotonic() + 30  # every client's run accepted, then one more
            while not all("id" in r for r in results) and time.monotonic() < started:
                time.sleep(0.02)
            extra = httpx.post(f"{url}/api/runs", json={"epochs": 10}, timeout=60)
            busy = sum(1 for r in results if "id" in r)
            print(f"one more run while {busy} train (--max-runs {args.max_runs}): "
                  f"{extra.status_code} {extra.json().get('detail', extra.json())}")
            deadline = time.monotonic() + args.max_seconds
            for t in threads:
                t.join(max(0.0, deadline - time.monotonic()))
        finally:
            process.terminate()
            process.wait(15)
            log.seek(0)
            server_log = log.read()

    settings = settings_of(epochs=args.epochs)
    (X, Y), dev, classes = make_data(settings)
    net = network(settings, len(classes))
    net.fit(X, Y, validation_data=dev, **fit_options(settings))
    expected = net.score(X, Y)

    failed = False
    print(f"\n{args.clients} clients, a {args.epochs}-epoch flower run each "
          "(4 tanh units, 400 + 100 points)")
    print(f"{'client':>6} {'updates':>8} {'first s':>8} {'p50 gap':>8} {'p95 gap':>8} "
          f"{'max gap':>8} {'run s':>7}  final train accuracy")
    all_gaps = []
    for i, r in enumerate(results):
        record = r.get("record")
        if not record or record["status"] != "finished":
            print(f"{i:>6} did not finish: {record and record['status']}")
            failed = True
            continue
        gaps = np.diff(r["updates"]).tolist()
        all_gaps += gaps
        accuracy = record["members"][0]["final"]["train_accuracy"]
        ok = accuracy == expected
        failed |= not ok
        print(f"{i:>6} {len(r['updates']):>8} {r['updates'][0]:>8.2f} "
              f"{percentile(gaps, 50):>8.2f} {percentile(gaps, 95):>8.2f} "
              f"{max(gaps, default=float('nan')):>8.2f} {r['seconds']:>7.1f}  {accuracy:.4f}"
              f"{'' if ok else f' (Network.fit: {expected:.4f})'}")
    if all_gaps:
        print(f"all streams: {len(all_gaps)} intervals, {sum(g <= 1 for g in all_gaps)} at most "
              f"1 s, max {max(all_gaps):.2f} s")
    if "Traceback" in server_log:
        print(server_log)
        failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
