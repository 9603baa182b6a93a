"""`mlpkit serve`: the real server (a subprocess on 127.0.0.1), every endpoint, every bad input,
each bad request followed by a good one."""

import contextlib
import json
import re
import signal
import socket
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

import mlpkit
from mlpkit.apps.image_classifier import ImageClassifier
from mlpkit.io.model_files import read_metadata

from .serving import Server, image_bytes, mlpkit_cmd, png_claiming

MB = 2**20
STATIC = Path(mlpkit.__file__).parent / "apps" / "static"


def post(server, *files, timeout=30):
    """POST /api/predict with files = (filename, bytes[, content type]) in the field 'files'."""
    return httpx.post(f"{server.url}/api/predict", files=[("files", f) for f in files],
                      timeout=timeout)


def assert_serves(server, photo):
    """A good request still gets its prediction."""
    r = post(server, (photo.name, photo.read_bytes()))
    assert r.status_code == 200, r.text
    assert [p["filename"] for p in r.json()["predictions"]] == [photo.name]


def assert_bad(response, status, message):
    """status, a JSON message containing `message`, no traceback."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    detail = response.json()["detail"]
    assert message in detail, detail
    assert "Traceback" not in detail
    return response.json()


def predict_json(model, paths):
    """`mlpkit predict MODEL PATHS --json`: [{class: p}] per file."""
    result = mlpkit_cmd("predict", model, *paths, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# --------------------------------------------------------------------------- the endpoints


def test_health_page_and_static_files(cat_server):
    r = httpx.get(f"{cat_server.url}/health")
    assert r.status_code == 200 and r.json() == {"status": "ok", "model": "cat.npz"}
    assert httpx.head(f"{cat_server.url}/health").status_code == 200
    for path in ("/", "/favicon.ico"):
        assert httpx.head(f"{cat_server.url}{path}").status_code == 200, path

    page = httpx.get(f"{cat_server.url}/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert re.search(r'<input id="file-input" type="file" accept="image/\*" multiple>', page.text)
    assert not re.search(r"<script(?![^>]*\bsrc=)", page.text)  # no inline script
    for name, kind in (("app.js", "javascript"), ("style.css", "text/css"),
                       ("favicon.svg", "image/svg+xml")):
        r = httpx.get(f"{cat_server.url}/static/{name}")
        assert r.status_code == 200 and kind in r.headers["content-type"]
        assert r.text == (STATIC / name).read_text()
    # everything the page loads comes from the app: no CDN, no internet
    links = re.findall(r'(?:src|href)="([^"]*)"', page.text)
    assert links and all(link.startswith("/") for link in links), links
    script, style = (STATIC / "app.js").read_text(), (STATIC / "style.css").read_text()
    assert re.findall(r"fetch\(\s*\"([^\"]*)\"", script) == ["/api/model", "/api/predict"]
    assert not re.search(r"https?:|//", script.replace("// ", "")) and "url(" not in style


def test_model_card_shows_what_train_recorded(cat_server, cat_model_file):
    card = httpx.get(f"{cat_server.url}/api/model").json()
    recorded = read_metadata(cat_model_file)["metadata"]
    assert card["name"] == "cat.npz"
    assert card["classes"] == ["non-cat", "cat"] and card["image_size"] == 64
    assert card["architecture"]["layer_dims"] == [12288, 7, 1]
    assert card["architecture"]["hidden_activations"] == ["relu"]
    assert card["architecture"]["output_activation"] == "sigmoid"
    assert card["architecture"]["summary"] == "12288 → 7 relu → 1 sigmoid"
    assert card["train_accuracy"] == recorded["train_accuracy"] > 0.9
    assert card["test_accuracy"] == recorded["test_accuracy"]
    assert card["validation_accuracy"] is None
    assert card["training"]["options"]["epochs"] == 300 and card["training"]["seed"] == 0
    assert card["mlpkit_version"] == card["saved_with_mlpkit"] == mlpkit.__version__
    assert card["max_upload_bytes"] == 10 * MB
    assert recorded["data"] not in json.dumps(card)  # no paths of the server's files


def test_predictions_match_mlpkit_predict(cat_server, cat_model_file, cat_photos, tmp_path):
    cat, other = cat_photos["cat"], cat_photos["non-cat"]
    with Image.open(cat) as image:
        gray = tmp_path / "gray.jpg"
        image.convert("L").save(gray)
        rgba = tmp_path / "transparent.png"
        faded = image.convert("RGBA")
        faded.putalpha(128)
        faded.save(rgba)
        palette = tmp_path / "palette.gif"
        image.convert("P").save(palette)
    paths = [cat, other, gray, rgba, palette]
    r = post(cat_server, *[(p.name, p.read_bytes()) for p in paths])
    assert r.status_code == 200, r.text
    predictions = r.json()["predictions"]
    assert [p["filename"] for p in predictions] == [p.name for p in paths]
    expected = predict_json(cat_model_file, paths)
    for got, want in zip(predictions, expected, strict=True):
        assert got["class"] == want["class"]
        assert sorted(got["probabilities"]) == ["cat", "non-cat"]
        for name, p in want["probabilities"].items():
            # the server predicts the request as one batch, `mlpkit predict` one image at a time
            assert got["probabilities"][name] == pytest.approx(p, rel=1e-9, abs=1e-12)
        assert got["probability"] == max(got["probabilities"].values())
        assert sum(got["probabilities"].values()) == pytest.approx(1)
    assert [p["class"] for p in predictions[:2]] == ["cat", "non-cat"]


def test_openapi_and_its_docs_work_offline(cat_server):
    schema = httpx.get(f"{cat_server.url}/openapi.json").json()
    predict = schema["paths"]["/api/predict"]["post"]
    assert predict["requestBody"]["required"] is True
    form = predict["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form["required"] == ["files"]
    files = form["properties"]["files"]
    assert files["items"]["format"] == "binary"
    assert (files["minItems"], files["maxItems"]) == (1, 100)  # an empty list gets 422
    responses = predict["responses"]
    assert set(responses) == {"200", "400", "413", "415", "422"}
    for status in ("400", "413", "415", "422"):
        body = responses[status]["content"]["application/json"]["schema"]
        assert body == {"$ref": "#/components/schemas/ErrorMessage"}, status
    assert responses["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Predictions"}
    assert "get" in schema["paths"]["/api/model"] and "get" in schema["paths"]["/health"]
    ids = [op["operationId"] for path in schema["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids)), ids  # no duplicate operation ids
    for page in ("docs", "redoc"):
        html = httpx.get(f"{cat_server.url}/{page}")
        assert html.status_code == 200
        assets = re.findall(r'(?:src|href)="([^"]+)"', html.text)
        assert assets and all(a.startswith("/") for a in assets), assets  # nothing from a CDN
        for asset in assets:
            assert httpx.get(f"{cat_server.url}{asset}").status_code == 200, asset


def listening_on(port):
    """The IPv4 addresses listening on TCP `port`, as /proc/net/tcp writes them."""
    table = Path("/proc/net/tcp")
    if not table.exists():
        pytest.skip("no /proc/net/tcp to read the listening address from")
    return [line.split()[1] for line in table.read_text().splitlines()[1:]
            if line.split()[3] == "0A" and line.split()[1].endswith(f":{port:04X}")]


def test_listens_on_127_0_0_1_only(cat_server):
    assert f"at http://127.0.0.1:{cat_server.port}/" in cat_server.log()
    assert listening_on(cat_server.port) == [f"0100007F:{cat_server.port:04X}"]  # not 0.0.0.0


def test_port_0_picks_a_free_port_and_says_which(tmp_path):
    """README: `--port 0` picks a free port; the first line names it, and it serves there."""
    model = ImageClassifier.build(["a", "b"], 8, (3,), seed=0)
    path = mlpkit.save(model, tmp_path / "tiny.npz")
    servers = [Server(path, log_dir=tmp_path, port=0) for _ in range(2)]  # at once: two ports
    try:
        ports = [server.port for server in servers]
        assert len(set(ports)) == 2 and 0 not in ports, ports
        for server in servers:
            first = server.log().splitlines()[0]
            assert first.startswith(f"mlpkit serve: tiny.npz (a, b) at http://127.0.0.1:"
                                    f"{server.port}/ (API: http://127.0.0.1:{server.port}/"
                                    "api/predict"), first
            assert listening_on(server.port) == [f"0100007F:{server.port:04X}"]
            photo = image_bytes(Image.new("RGB", (8, 8), "red"))
            r = httpx.post(f"{server.url}/api/predict", files=[("files", ("red.png", photo))])
            assert r.status_code == 200, r.text
            assert r.json()["predictions"][0]["probabilities"] == pytest.approx(
                dict(zip("ab", model.predict_proba(np.full((1, 8, 8, 3), (255, 0, 0)))[0],
                         strict=True)), rel=1e-9)
    finally:
        for server in servers:
            server.stop()


# --------------------------------------------------------------------------- bad input


def test_unreadable_images_get_400_naming_the_file(cat_server, cat_photos):
    cat, other = cat_photos["cat"], cat_photos["non-cat"]
    jpeg = cat.read_bytes()
    cases = [
        ("notes.txt", b"just some text", "notes.txt: not an image in a supported format"),
        ("broken.jpg", jpeg[: len(jpeg) // 2], "broken.jpg: corrupt or truncated image"),
        ("empty.png", b"", "empty.png: empty file"),
        ("drawing.eps", b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 8 8\n",
         "drawing.eps: not an image in a supported format"),  # never handed to Ghostscript
        # over Pillow's limit, where Pillow itself only warns, and over twice it
        ("bomb.png", png_claiming(10_000, 9_000),
         "bomb.png: refused as a possible decompression bomb: more than 89478485 pixels"),
        ("big bomb.png", png_claiming(20_000, 10_000), "big bomb.png: refused as a possible"),
        ("../../etc/passwd", b"root:x:0:0", "../../etc/passwd: not an image"),  # only echoed
    ]
    for name, data, message in cases:
        body = assert_bad(post(cat_server, (name, data)), 400, message)
        assert body["errors"] == [{"index": 0, "filename": name, "detail": body["detail"]}]
        assert_serves(cat_server, other)

    r = post(cat_server, (cat.name, jpeg), ("notes.txt", b"text"), (other.name, other.read_bytes()))
    body = assert_bad(r, 400, "1 of 3 files are not readable images: notes.txt: not an image")
    assert [(e["index"], e["filename"]) for e in body["errors"]] == [(1, "notes.txt")]
    assert_serves(cat_server, cat)


def test_requests_without_files_wrong_paths_and_methods(cat_server, cat_photos):
    url = f"{cat_server.url}/api/predict"
    photo = cat_photos["cat"]
    assert_bad(httpx.post(url), 422, "no files: send one or more images as multipart/form-data "
                                     "in the field 'files'")
    assert_bad(httpx.post(url, files={"file": ("a.jpg", photo.read_bytes())}), 422,
               "(got field(s) 'file')")
    # a browser form whose file input was left empty sends a part without a file
    assert_bad(httpx.post(url, files={"files": ("", b"")}), 422, "no files")
    assert_bad(httpx.post(url, json={"files": ["a.jpg"]}), 415,
               "expected a multipart/form-data body with one or more images in the field "
               "'files', got Content-Type 'application/json'")
    assert_bad(httpx.post(url, content=b"--other\r\n\r\n",
                          headers={"content-type": "multipart/form-data; boundary=xyz"}),
               400, "malformed multipart body")
    assert_bad(httpx.post(url, content=b"x", headers={"content-type": "multipart/form-data"}),
               400, "no boundary")
    nameless = b'--xyz\r\nContent-Disposition: form-data\r\n\r\nabc\r\n--xyz--\r\n'
    assert_bad(httpx.post(url, content=nameless,
                          headers={"content-type": "multipart/form-data; boundary=xyz"}),
               400, "malformed multipart body")
    truncated = (b'--xyz\r\nContent-Disposition: form-data; name="files"; filename="a.png"\r\n'
                 b"Content-Type: image/png\r\n\r\nabc")  # no closing --xyz--
    assert_bad(httpx.post(url, content=truncated,
                          headers={"content-type": "multipart/form-data; boundary=xyz"}),
               400, "ends before its closing boundary (truncated)")
    assert_serves(cat_server, photo)
    for path in ("/nope", "/api/nothing", "/static/nothing.js", "/static/../../pyproject.toml",
                 "/static/%2e%2e/%2e%2e/cmd_serve.py"):
        assert_bad(httpx.get(f"{cat_server.url}{path}"), 404, "not found")
    assert_bad(httpx.get(url), 405, "GET is not allowed on /api/predict")
    assert_serves(cat_server, photo)


def _raw_post(port, head, body_chunks, timeout=20):
    """Send an HTTP request through a bare socket, stopping as soon as a response arrives.

    Returns (bytes of body sent, status, JSON body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(head)
        s.settimeout(0.05)
        sent, response = 0, b""
        deadline = time.monotonic() + timeout
        for chunk in body_chunks:
            with contextlib.suppress(TimeoutError):  # no answer yet: send on
                response = s.recv(65536)
            if response:
                break
            s.sendall(chunk)
            sent += len(chunk)
        s.settimeout(max(0.1, deadline - time.monotonic()))
        while b"\r\n\r\n" not in response or not response.endswith(b"}"):
            data = s.recv(65536)
            if not data:
                break
            response += data
    head, _, body = response.partition(b"\r\n\r\n")
    return sent, int(head.split()[1]), json.loads(body)


def test_uploads_over_the_limit_get_413(start_server, cat_model_file, cat_photos):
    server = start_server(cat_model_file, "--max-upload-mb", 1)
    photo = cat_photos["cat"]
    request = (b"POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               b"Content-Type: multipart/form-data; boundary=b0undary\r\n")

    # a declared size over the limit: answered before a byte of the body is sent
    sent, status, body = _raw_post(server.port, request + b"Content-Length: 1000000000\r\n\r\n",
                                   [b""])
    assert status == 413
    assert body["detail"] == ("this server accepts at most 1 MB per request and the upload is "
                              "954 MB (mlpkit serve --max-upload-mb)")
    assert_serves(server, photo)

    # a streamed (chunked) body: answered as soon as the limit is passed, not at its end
    def chunked(n):
        part = (b'--b0undary\r\nContent-Disposition: form-data; name="files"; '
                b'filename="huge.jpg"\r\nContent-Type: image/jpeg\r\n\r\n')
        yield b"%x\r\n%s\r\n" % (len(part), part)
        for _ in range(n):
            yield b"10000\r\n" + b"\xff" * 0x10000 + b"\r\n"

    sent, status, body = _raw_post(server.port, request + b"Transfer-Encoding: chunked\r\n\r\n",
                                   chunked(64))  # 4 MB
    assert status == 413 and "at most 1 MB per request and the upload is larger" in body["detail"]
    assert 1 * MB < sent < 2 * MB
    assert_serves(server, photo)

    # just under the limit is fine
    rng = np.random.default_rng(0)
    noise = image_bytes(Image.fromarray(rng.integers(0, 256, (540, 540, 3), np.uint8)))
    assert 0.8 * MB < len(noise) < 1 * MB - 1000
    r = post(server, ("noise.png", noise))
    assert r.status_code == 200, r.text
    assert "413" in server.log()  # the access log


def test_any_classifier_many_classes_without_recorded_accuracies(start_server, tmp_path):
    model = ImageClassifier.build(["bird", "cat", "dog"], 16, (5,), init="he", seed=0)
    path = mlpkit.save(model, tmp_path / "pets.npz")  # no metadata: an older kind of file
    server = start_server(path, "--no-access-log")
    card = httpx.get(f"{server.url}/api/model").json()
    assert card["classes"] == ["bird", "cat", "dog"] and card["image_size"] == 16
    assert card["architecture"]["summary"] == "768 → 5 relu → 3 softmax"
    assert card["train_accuracy"] is None and card["test_accuracy"] is None
    assert card["training"] is None

    rng = np.random.default_rng(1)
    photos = []
    for i, size in enumerate((16, 37)):
        photos.append(tmp_path / f"pet{i}.png")
        Image.fromarray(rng.integers(0, 256, (size, size + 5, 3), np.uint8)).save(photos[-1])
    r = post(server, *[(p.name, p.read_bytes()) for p in photos])
    assert r.status_code == 200, r.text
    for got, want in zip(r.json()["predictions"], predict_json(path, photos), strict=True):
        assert got["class"] == want["class"] and len(got["probabilities"]) == 3
        np.testing.assert_allclose(list(got["probabilities"].values()),
                                   list(want["probabilities"].values()), rtol=1e-9, atol=1e-12)
    # SIGTERM: a graceful shutdown, then uvicorn ends the process by the signal it caught
    assert server.stop() in (0, -signal.SIGTERM)
    log = server.log()
    assert "Application shutdown complete" in log and "Traceback" not in log
    assert "POST /api/predict" not in log  # --no-access-log


# --------------------------------------------------------------------------- failing at start


def assert_error(result, status, message):
    assert result.returncode == status, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1 and errors[0].startswith("mlpkit"), result.stderr
    assert message in errors[0], errors[0]


def test_bad_model_files_and_options_fail_at_start(tmp_path, cat_model_file):
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(cat_model_file.read_bytes()[:1000])
    network = mlpkit.save(mlpkit.Network([12, 1]), tmp_path / "network.npz")
    cases = [
        (tmp_path / "absent.npz", "absent.npz: no such model file"),
        (truncated, "truncated or damaged model file"),
        (network, "holds a Network, not an image classifier"),
    ]
    for path, message in cases:
        assert_error(mlpkit_cmd("serve", path, "--port", 0), 1, message)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert_error(mlpkit_cmd("serve", cat_model_file, "--port", port), 1,
                     f"cannot listen on 127.0.0.1:{port} (Address already in use)")
    for options, message in [
        (["--port", "70000"], "argument --port: must be an integer >= 0 and <= 65535; "
                               "got 70000"),
        (["--port", "http"], "argument --port: expected an integer, got 'http'"),
        (["--max-upload-mb", "0"], "argument --max-upload-mb: must be a finite number >= 0.001"),
        (["--max-upload-mb", "lots"], "argument --max-upload-mb: expected a number"),
    ]:
        assert_error(mlpkit_cmd("serve", cat_model_file, *options), 2, message)
    assert "serve" in mlpkit_cmd("--help").stdout
