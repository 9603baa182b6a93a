"""`mlpkit playground`: a real server started as a subprocess on a free 127.0.0.1 port; every
endpoint, bad settings (422 naming the field), bad CSV files (400 naming the row), the limits
(413, 429, runs nobody reads, finished runs kept), and the presets against Network.fit."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import mlpkit
from mlpkit import Network
from mlpkit.apps.presets import PRESETS, large_random

from .serving import ENV, Server

httpx = pytest.importorskip("httpx")


class Playground(Server):
    """`python -m mlpkit playground OPTIONS --port N` in a subprocess."""

    def __init__(self, *options, log_dir):
        self._start("playground", *options, log_dir=log_dir)

    def post_run(self, body):
        return httpx.post(f"{self.url}/api/runs", json=body, timeout=60)

    def start_run(self, **settings):
        response = self.post_run(settings)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def record(self, run_id):
        response = httpx.get(f"{self.url}/api/runs/{run_id}", timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def wait(self, run_id, timeout=240):
        deadline = time.monotonic() + timeout
        while True:
            record = self.record(run_id)
            if record["status"] != "running":
                return record
            assert time.monotonic() < deadline, f"{run_id} still running: {record['status']}"
            time.sleep(0.2)

    def events(self, run_id, timeout=240):
        """[(event, data, seconds since the request)] of the whole stream."""
        events, start, name = [], time.monotonic(), None
        with httpx.stream("GET", f"{self.url}/api/runs/{run_id}/events",
                          timeout=timeout) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            for line in stream.iter_lines():
                if line.startswith("event: "):
                    name = line[len("event: "):]
                elif line.startswith("data: "):
                    events.append((name, json.loads(line[len("data: "):]),
                                   time.monotonic() - start))
        return events


@pytest.fixture(scope="module")
def playground(tmp_path_factory):
    server = Playground("--max-runs", 4, "--idle-timeout", 30,
                        log_dir=tmp_path_factory.mktemp("playground"))
    yield server
    server.stop()


@pytest.fixture
def start_playground(tmp_path):
    servers = []

    def start(*options):
        servers.append(Playground(*options, log_dir=tmp_path))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def flower_reference(epochs):
    """The page's default run (4 tanh units on mlpkit's flower, a dev set) built by hand."""
    from mlpkit.data.synthetic import make_flower

    X, Y = make_flower(400, 0.2, seed=1)
    X_dev, Y_dev = make_flower(100, 0.2, seed=2)
    net = Network([2, 4, 1], hidden_activation="tanh", init="xavier", seed=0)
    history = net.fit(X, Y, epochs=epochs, learning_rate=1.2, seed=0,
                      validation_data=(X_dev, Y_dev))
    return net, history, (X, Y), (X_dev, Y_dev)


# --------------------------------------------------------------------------- endpoints


def test_datasets_health_and_page(playground):
    info = httpx.get(f"{playground.url}/api/datasets").json()
    names = {d["name"] for d in info["datasets"]}
    assert {"flower", "noisy-circles", "circles", "moons", "blobs", "gaussian-quantiles", "xor",
            "spiral", "gaussians"} <= names
    assert [p["name"] for p in info["presets"]] == list(PRESETS)
    assert info["defaults"]["dataset"] == "flower" and info["limits"]["max_units"] > 0
    assert httpx.get(f"{playground.url}/health").json()["status"] == "ok"
    page = httpx.get(f"{playground.url}/")
    assert page.status_code == 200 and "mlpkit playground" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for asset in ("playground.js", "playground.css"):
        assert httpx.get(f"{playground.url}/static/{asset}").status_code == 200
    docs = httpx.get(f"{playground.url}/docs")
    assert docs.status_code == 200 and "cdn" not in docs.text.lower()


def test_a_run_streams_its_views_and_matches_network_fit(playground, tmp_path):
    epochs = 400
    run_id = playground.start_run(epochs=epochs)
    events = playground.events(run_id)
    kinds = [e for e, _, _ in events]
    assert kinds[-1] == "done" and "error" not in kinds
    assert kinds.count("boundary") >= 2 and kinds.count("metrics") >= 2
    boundary = next(d for e, d, _ in events if e == "boundary")
    assert boundary["size"] ** 2 == len(boundary["p"]) and boundary["points"]["dev"]
    assert all(0 <= p <= 1 for p in boundary["p"])
    epochs_seen = [d["epochs_done"] for e, d, _ in events if e == "metrics"]
    assert epochs_seen == sorted(epochs_seen) and epochs_seen[-1] == epochs
    layers = next(d["layers"] for e, d, _ in events if e == "metrics" and d["layers"])
    assert [entry["layer"] for entry in layers] == [1, 2]
    assert len(layers[0]["histogram"]) == 20 and layers[0]["grad_norm"] > 0
    # the history streamed in pieces is the whole history, and equals Network.fit's
    streamed = {"cost": [], "dev_accuracy": []}
    for e, d, _ in events:
        if e == "metrics":
            for key in streamed:
                streamed[key] += d["history"][key]
    net, history, (X, Y), dev = flower_reference(epochs)
    assert streamed["cost"] == history.costs
    assert streamed["dev_accuracy"] == history.val_scores
    record = playground.record(run_id)
    assert record["status"] == "finished"
    member = record["members"][0]
    assert member["history"]["cost"] == history.costs
    assert member["final"]["train_accuracy"] == net.score(X, Y)
    assert member["final"]["dev_accuracy"] == net.score(*dev)
    diagnosis = member["diagnosis"]
    assert diagnosis["verdict"] in ("high bias", "high variance", "high bias and high variance",
                                    "neither")
    assert diagnosis["train_error"] == pytest.approx(1 - net.score(X, Y))
    assert events[-1][1]["status"] == "finished"

    # export: the script reproduces the accuracies; the model file predicts as the network
    script = httpx.get(f"{playground.url}/api/runs/{run_id}/export",
                       params={"format": "python"})
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/x-python")
    path = tmp_path / "run.py"
    path.write_text(script.text)
    out = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, env=ENV,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert f"train accuracy {net.score(X, Y):.4f}" in out.stdout
    assert f"dev accuracy {net.score(*dev):.4f}" in out.stdout
    model = httpx.get(f"{playground.url}/api/runs/{run_id}/export", params={"format": "npz"})
    assert model.status_code == 200
    (tmp_path / "model.npz").write_bytes(model.content)
    loaded = mlpkit.load(tmp_path / "model.npz")
    np.testing.assert_array_equal(loaded.predict_proba(X), net.predict_proba(X))

    check = httpx.post(f"{playground.url}/api/runs/{run_id}/gradcheck", timeout=60).json()
    assert check["passed"] and check["difference"] < 1e-7 and check["epochs_done"] == epochs

    runs = httpx.get(f"{playground.url}/api/runs").json()
    assert run_id in [r["id"] for r in runs]
    deleted = httpx.delete(f"{playground.url}/api/runs/{run_id}")
    assert deleted.status_code == 200 and deleted.json()["id"] == run_id
    for method, path in (("GET", ""), ("GET", "/events"), ("DELETE", ""),
                         ("GET", "/export"), ("POST", "/gradcheck")):
        gone = httpx.request(method, f"{playground.url}/api/runs/{run_id}{path}")
        assert gone.status_code == 404 and run_id in gone.json()["detail"]


def test_pause_step_play_and_stop(playground):
    run_id = playground.start_run(epochs=20000, hidden=[8, 8])
    url = f"{playground.url}/api/runs/{run_id}/control"
    paused = httpx.post(url, json={"action": "pause"}).json()
    assert paused["paused"]
    time.sleep(0.5)
    before = playground.record(run_id)["members"][0]["epochs_done"]
    time.sleep(0.5)
    assert playground.record(run_id)["members"][0]["epochs_done"] == before
    httpx.post(url, json={"action": "step"})
    deadline = time.monotonic() + 30
    while playground.record(run_id)["members"][0]["epochs_done"] != before + 1:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    time.sleep(0.5)
    assert playground.record(run_id)["members"][0]["epochs_done"] == before + 1
    httpx.post(url, json={"action": "play"})
    time.sleep(0.5)
    assert playground.record(run_id)["members"][0]["epochs_done"] > before + 1
    httpx.post(url, json={"action": "stop"})
    record = playground.wait(run_id)
    assert record["status"] == "stopped" and record["stop_reason"] == "stopped by the user"
    assert record["members"][0]["final"]["train_accuracy"] is not None
    bad = httpx.post(url, json={"action": "rewind"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "action"


def test_a_diverging_run_is_shown_as_diverged(playground):
    run_id = playground.start_run(learning_rate=100, hidden=[20], activation="relu",
                                  init="large_random", epochs=200)
    events = playground.events(run_id)
    assert "error" in [e for e, _, _ in events]
    record = playground.record(run_id)
    assert record["status"] == "diverged"
    assert "diverged" in record["members"][0]["error"]


@pytest.mark.parametrize("body, field", [
    ({"hidden": [0]}, "hidden.0"),
    ({"hidden": [4] * 7}, "hidden"),
    ({"hidden": [129]}, "hidden.0"),
    ({"epochs": 0}, "epochs"),
    ({"epochs": 10**6}, "epochs"),
    ({"points": 10**6}, "points"),
    ({"learning_rate": 0}, "learning_rate"),
    ({"learning_rate": "fast"}, "learning_rate"),
    ({"keep_prob": 0}, "keep_prob"),
    ({"activation": "swish"}, "activation"),
    ({"activation": ["tanh", "relu"]}, "activation"),
    ({"dataset": "iris"}, "dataset"),
    ({"optimizer": "lbfgs"}, "optimizer"),
    ({"init": "glorot"}, "init"),
    ({"noise": -1}, "noise"),
    ({"unknown": 1}, "unknown"),
    ({"dataset": "flower", "points": 401}, "points"),
    ({"dataset": "moons", "classes": 3}, "classes"),
    ({"patience": 5, "dev_points": 0}, "patience"),
    ({"dataset": "csv"}, "csv"),
    ({"dataset": "csv", "csv": {"x": [[0, 0]] * 4, "y": [0, 1, 0], "classes": ["a", "b"]}},
     "csv.y"),
    ({"batch_norm": True, "hidden": []}, "batch_norm"),
    ({"keep_prob": 0.5, "hidden": []}, "keep_prob"),
    ({"human_error": 0.1, "dev_points": 0}, "human_error"),
    ({"preset": "course-nothing"}, "preset"),
    ({"preset": "course-planar", "epochs": 0}, "epochs"),
    ({"preset": "course-planar", "hidden": [3]}, "hidden"),
])
def test_bad_settings_get_422_naming_the_field(playground, body, field):
    response = playground.post_run(body)
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert field in [e["field"] for e in errors], errors
    assert field in response.json()["detail"]


def test_bad_requests(playground):
    for content, kind in ((b"[1, 2", "application/json"), (b"{}", "text/plain")):
        response = httpx.post(f"{playground.url}/api/runs", content=content,
                              headers={"Content-Type": kind})
        assert response.status_code == 422 and response.json()["detail"]
    huge = httpx.post(f"{playground.url}/api/runs", content=b"{" + b" " * (2 << 20) + b"}",
                      headers={"Content-Type": "application/json"})
    assert huge.status_code == 413
    assert httpx.get(f"{playground.url}/api/nothing").status_code == 404
    assert httpx.get(f"{playground.url}/api/runs/r1/export",
                     params={"format": "onnx"}).status_code in (404, 422)
    assert httpx.put(f"{playground.url}/api/runs").status_code == 405


# --------------------------------------------------------------------------- CSV files


def csv_upload(playground, data, name="points.csv"):
    return httpx.post(f"{playground.url}/api/csv", files={"file": (name, data, "text/csv")},
                      timeout=60)


def test_a_csv_file_trains(playground):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    labels = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")
    text = "a,b,label\n" + "".join(f"{x1},{x2},{c}\n" for (x1, x2), c in zip(X, labels,
                                                                               strict=True))
    parsed = csv_upload(playground, text.encode()).json()
    assert parsed["rows"] == 60 and parsed["classes"] == ["no", "yes"]
    assert parsed["header"] == ["a", "b", "label"]
    csv = {k: parsed[k] for k in ("x", "y", "classes")}
    run_id = playground.start_run(dataset="csv", csv=csv, points=48, dev_points=12,
                                  epochs=200, hidden=[3])
    record = playground.wait(run_id)
    assert record["status"] == "finished"
    assert record["members"][0]["final"]["train_accuracy"] > 0.9
    three = "".join(f"{i},{i % 7},{'abc'[i % 3]}\n" for i in range(30)).encode()
    parsed = csv_upload(playground, three).json()
    run_id = playground.start_run(dataset="csv", csv={k: parsed[k] for k in ("x", "y",
                                                                              "classes")},
                                  dev_points=5, classes=3, epochs=20)
    assert playground.wait(run_id)["status"] == "finished"  # softmax over 3 classes


@pytest.mark.parametrize("data, expected", [
    (b"x,y,label\n1,2,a\n3,4,b\n5,oops,a\n7,8,b\n", "row 4, column 2: 'oops'"),
    (b"1,2,a\n3,4,b\n5,6\n7,8,b\n", "row 3: 2 columns; expected 3"),
    (b"1,2,a\n3,4,b\nnan,6,a\n7,8,b\n", "row 3, column 1"),
    (b"1,2,a\n3,4,b\n5,6,\n7,8,b\n", "row 3, column 3: the label is empty"),
    (b"1,2,a\n3,4,a\n5,6,a\n7,8,a\n", "1 distinct values; expected 2 to 10"),
    ("".join(f"{i},{i},{i}\n" for i in range(11)).encode(), "11 distinct values"),
    (b"1,2,a\n3,4,b\n", "2 data rows; expected at least 4"),
    (b"\xff\xfe\x00\x01", "not UTF-8"),
])
def test_bad_csv_files_get_400_naming_the_row(playground, data, expected):
    response = csv_upload(playground, data, "bad.csv")
    assert response.status_code == 400, response.text
    assert expected in response.json()["detail"] and "bad.csv" in response.json()["detail"]


def test_csv_limits(playground):
    big = b"1,2,a\n" * (5 * 1024 * 1024 // 6 + 10)
    assert csv_upload(playground, big).status_code == 413
    rows = b"".join(b"%d,1,%d\n" % (i, i % 2) for i in range(5001))
    response = csv_upload(playground, rows)
    assert response.status_code == 400 and "row 5001: more than 5000 rows" in response.text
    assert httpx.post(f"{playground.url}/api/csv", content=b"1,2,a",
                      headers={"Content-Type": "text/csv"}).status_code == 415
    assert httpx.post(f"{playground.url}/api/csv", files={"other": ("a.csv", b"1,2,a")}
                      ).status_code == 422


# --------------------------------------------------------------------------- limits


def _read_stream(url, stop):
    with contextlib.suppress(httpx.HTTPError), httpx.stream("GET", url, timeout=60) as s:
        for _ in s.iter_lines():
            if stop.is_set():
                return


def test_a_fifth_run_gets_429_and_closing_the_pages_stops_the_runs(start_playground):
    psutil = pytest.importorskip("psutil")
    server = start_playground()  # the default --max-runs 4
    stop, readers, ids = threading.Event(), [], []
    for _ in range(4):
        ids.append(server.start_run(epochs=20000, hidden=[16, 16]))
        reader = threading.Thread(target=_read_stream,
                                  args=(f"{server.url}/api/runs/{ids[-1]}/events", stop))
        reader.start()
        readers.append(reader)
    fifth = server.post_run({"epochs": 10})
    assert fifth.status_code == 429 and "--max-runs 4" in fifth.json()["detail"]
    assert all(server.record(i)["status"] == "running" for i in ids)
    stop.set()  # the pages go away: their streams close
    for reader in readers:
        reader.join(60)
    for run_id in ids:
        record = server.wait(run_id, timeout=30)
        assert record["status"] == "stopped" and "page was closed" in record["stop_reason"]
    process = psutil.Process(server.process.pid)
    process.cpu_percent()
    time.sleep(2)
    assert process.cpu_percent() < 25  # idle again
    assert server.post_run({"epochs": 5}).status_code == 201


def test_runs_nobody_reads_are_stopped_and_old_runs_dropped(start_playground):
    server = start_playground("--idle-timeout", 1, "--keep-runs", 2)
    unread = server.start_run(epochs=20000)
    time.sleep(4)
    record = server.record(unread)
    assert record["status"] == "stopped" and "nobody read it for 1 s" in record["stop_reason"]
    finished = [server.start_run(epochs=2) for _ in range(2)]
    for run_id in finished:
        server.wait(run_id)
    time.sleep(1.5)  # the watcher prunes
    assert httpx.get(f"{server.url}/api/runs/{unread}").status_code == 404
    assert [r["id"] for r in httpx.get(f"{server.url}/api/runs").json()] == finished


def test_the_command_line(tmp_path):
    from .serving import mlpkit_cmd

    result = mlpkit_cmd("playground", "--max-runs", 0)
    assert result.returncode == 2 and "--max-runs" in result.stderr
    result = mlpkit_cmd("playground", "--port", 70000)
    assert result.returncode == 2 and "port" in result.stderr
    with contextlib.closing(__import__("socket").socket()) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = mlpkit_cmd("playground", "--port", port, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "cannot listen" in result.stderr


# --------------------------------------------------------------------------- presets


def _course_reference(name, epochs):
    """Each member's run as the examples wrote it before the presets existed, by hand."""
    from sklearn.datasets import make_circles, make_moons

    from mlpkit.data.synthetic import make_flower
    from mlpkit.data.synthetic import make_moons as mlpkit_moons

    runs = []
    if name == "course-planar":
        X, Y = make_flower(seed=np.random.RandomState(1))
        net = Network([2, 4, 1], hidden_activation="tanh", init="random",
                      seed=np.random.RandomState(2))
        runs.append((net, net.fit(X, Y, epochs=epochs, learning_rate=1.2), (X, Y), None))
    elif name == "course-hidden-sizes":
        X, Y = make_flower()
        for n_h in (1, 2, 3, 4, 5, 20, 50):
            net = Network([2, n_h, 1], hidden_activation="tanh", init="random", seed=1)
            runs.append((net, net.fit(X, Y, epochs=epochs, learning_rate=1.2), (X, Y), None))
    elif name == "course-initialization":
        def circles(seed, m):
            X, y = make_circles(n_samples=m, noise=0.05, random_state=seed)
            return X.T, y.reshape(1, -1)

        data, dev = circles(1, 300), circles(2, 100)
        for init in ("zeros", large_random, "he"):
            net = Network([2, 10, 5, 1], init=init, seed=0)
            runs.append((net, net.fit(*data, epochs=epochs, learning_rate=0.01,
                                      validation_data=dev), data, dev))
    elif name == "course-regularization":
        def moons(seed, m):
            X, y = make_moons(n_samples=m, noise=0.35, random_state=seed)
            return X.T, y.reshape(1, -1)

        data, dev = moons(0, 80), moons(1, 1000)
        for options in ({}, {"l2": 0.3}, {"keep_prob": 0.5}):
            net = Network([2, 64, 64, 1], seed=0)
            runs.append((net, net.fit(*data, epochs=epochs, learning_rate=0.01,
                                      optimizer="adam", seed=0, validation_data=dev,
                                      **options), data, dev))
    else:
        X, Y = mlpkit_moons(300, noise=0.2, seed=np.random.RandomState(3))
        for optimizer in ("gd", "momentum", "adam"):
            net = Network([2, 5, 2, 1], init="he", seed=np.random.RandomState(3))
            runs.append((net, net.fit(X, Y, epochs=epochs, learning_rate=0.0007,
                                      batch_size=64, optimizer=optimizer, shuffle="course",
                                      seed=10), (X, Y), None))
    return runs


@pytest.mark.parametrize("name, epochs", [
    ("course-planar", None),  # the whole run: 90.75%
    ("course-hidden-sizes", 60),
    ("course-initialization", 60),
    ("course-regularization", 40),
    ("course-optimization", 30),
])
def test_each_preset_gives_the_numbers_of_network_fit(playground, name, epochs):
    body = {"preset": name} if epochs is None else {"preset": name, "epochs": epochs}
    response = playground.post_run(body)
    assert response.status_code == 201, response.text
    run_id = response.json()["id"]
    events = playground.events(run_id, timeout=600)  # read, so it is not stopped
    record = events[-1][1]
    assert record["status"] == "finished" and record["preset"] == name
    members = record["members"]
    assert [m["label"] for m in members] == list(PRESETS[name]["members"])
    assert all(m["status"] == "finished" for m in members)
    total = epochs or PRESETS[name]["members"]["4 tanh units"]["epochs"]
    reference = _course_reference(name, total)
    assert len(members) == len(reference)
    for member, (net, history, data, dev) in zip(members, reference, strict=True):
        assert member["history"]["cost"] == history.costs
        assert member["final"]["train_accuracy"] == net.score(*data)
        if dev is not None:
            assert member["history"]["dev_cost"] == history.val_costs
            assert member["final"]["dev_accuracy"] == net.score(*dev)
    if name == "course-planar":
        assert members[0]["final"]["train_accuracy"] == 0.9075


# --------------------------------------------------------------------------- the data sets


def test_the_data_sets():
    from sklearn import datasets as sk

    from mlpkit.apps.playground_data import DATASETS, make_data
    from mlpkit.apps.presets import settings_of
    from mlpkit.data import synthetic

    X, Y = synthetic.make_circles(200, 0.3, 0.5, seed=np.random.RandomState(5))
    X_sk, y_sk = sk.make_circles(200, noise=0.3, factor=0.5, random_state=5)
    np.testing.assert_array_equal(X, X_sk.T)
    np.testing.assert_array_equal(Y[0], y_sk)
    X, Y = synthetic.make_blobs(200, 2, seed=np.random.RandomState(5))  # planar_utils' blobs
    X_sk, y_sk = sk.make_blobs(200, n_features=2, centers=6, random_state=5)
    np.testing.assert_array_equal(X, X_sk.T)
    np.testing.assert_array_equal(Y[0], y_sk % 2)
    X, Y = synthetic.make_xor(500, 0.0, seed=0)
    np.testing.assert_array_equal(Y[0], X[0] * X[1] >= 0)
    assert np.abs(X).min() >= 0.3  # pushed away from the axes
    X, Y = synthetic.make_spiral(300, 0.0, classes=3, seed=0)
    assert np.bincount(Y[0].astype(int)).tolist() == [100, 100, 100]
    assert np.hypot(*X).max() <= 5
    X, Y = synthetic.make_gaussians(400, 0.0, seed=0)
    assert X[:, Y[0] == 1].mean(axis=1) == pytest.approx([2, 2], abs=0.2)
    for name, dataset in DATASETS.items():
        classes = dataset.classes[1] if dataset.classes[1] <= 6 else 3
        s = settings_of(dataset=name, points=100, dev_points=20, classes=classes,
                        noise=dataset.noise)
        (X, Y), (X_dev, Y_dev), names = make_data(s)
        assert X.shape == (2, 100) and X_dev.shape == (2, 20) and len(names) == classes
        assert Y.shape == ((1, 100) if classes == 2 else (classes, 100))
        np.testing.assert_array_equal(make_data(s)[0][0], X)  # the seed fixes the draw
        assert not np.array_equal(X[:, :20], X_dev)  # the dev set is another draw
    with pytest.raises(ValueError, match="classes must be"):
        synthetic.make_spiral(10, classes=1)
    with pytest.raises(ValueError, match="m must be"):
        synthetic.make_xor(0)
