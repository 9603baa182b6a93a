"""The app of `mlpkit serve` in-process (`create_app` called through httpx's ASGI transport):
what the subprocess tests cannot see from outside."""

import asyncio
import sys

import httpx
import numpy as np
import pytest
from PIL import Image

import mlpkit
from mlpkit.apps.image_classifier import ImageClassifier
from mlpkit.apps.web import UploadError, create_app, read_uploads

from .serving import image_bytes


@pytest.fixture
def model():
    return ImageClassifier.build(["non-cat", "cat"], 8, (3,), seed=0)


class Client:
    """Requests to an ASGI app in this process."""

    def __init__(self, app):
        self.app = app

    def request(self, method, url, **options):
        async def send():
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                return await client.request(method, url, **options)

        return asyncio.run(send())

    def get(self, url, **options):
        return self.request("GET", url, **options)

    def post(self, url, **options):
        return self.request("POST", url, **options)


def photos(n, size=40, seed=0):
    rng = np.random.default_rng(seed)
    return [(f"p{i}.png", image_bytes(Image.fromarray(rng.integers(0, 256, (size, size, 3),
                                                                   np.uint8))))
            for i in range(n)]


def test_the_images_of_one_request_are_one_batch(model, monkeypatch):
    batches = []
    predict_proba = model.predict_proba
    monkeypatch.setattr(model, "predict_proba",
                        lambda images: batches.append(images.shape) or predict_proba(images))
    client = Client(create_app(model))
    r = client.post("/api/predict", files=[("files", f) for f in photos(3)])
    assert r.status_code == 200, r.text
    assert batches == [(3, 8, 8, 3)]
    assert [p["filename"] for p in r.json()["predictions"]] == ["p0.png", "p1.png", "p2.png"]


def test_uploads_never_reach_the_file_system(model):
    """No file is opened while a request of 3 MB (more than Starlette's parser keeps in memory
    before spooling to a temporary file) is parsed, decoded and predicted."""
    client = Client(create_app(model, max_upload_bytes=8 * 2**20))
    big = photos(1, size=1000)[0]
    assert len(big[1]) > 2.5 * 2**20
    assert client.post("/api/predict", files=[("files", big)]).status_code == 200  # warm up
    opened, recording = [], []
    sys.addaudithook(lambda event, args: recording and event == "open" and opened.append(args))
    recording.append(True)
    try:
        r = client.post("/api/predict", files=[("files", big), ("files", photos(1, seed=1)[0])])
    finally:
        recording.clear()
    assert r.status_code == 200, r.text
    assert opened == []


def test_more_files_than_the_limit_get_400(model):
    client = Client(create_app(model))
    r = client.post("/api/predict", files=[("files", ("a.png", b"x"))] * 101)
    assert r.status_code == 400 and r.headers["connection"] == "close"
    assert r.json() == {"detail": "too many files in one request; at most 100"}


def test_read_uploads_reads_any_field_with_its_own_limits():
    """The path a CSV upload takes: one file in the field 'file', at most 1000 bytes."""
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse

    app = FastAPI()

    @app.post("/upload")
    async def upload(request: Request):
        try:
            uploads = await read_uploads(request, 1000, "file", max_files=1,
                                         what="a CSV file", limit_option=None)
        except UploadError as e:
            return JSONResponse({"detail": e.detail}, status_code=e.status)
        return {"uploads": [[name, data.decode()] for name, data in uploads]}

    client = Client(app)
    r = client.post("/upload", files={"file": ("points.csv", b"x1,x2,y\n0,1,a\n")})
    assert r.status_code == 200 and r.json() == {"uploads": [["points.csv", "x1,x2,y\n0,1,a\n"]]}
    cases = [
        ({"files": ("points.csv", b"x")}, 422, "no files: send a CSV file as multipart/form-data "
                                                "in the field 'file' (got field(s) 'files')"),
        ([("file", ("a.csv", b"x")), ("file", ("b.csv", b"y"))], 400,
         "too many files in one request; at most 1"),
        ({"file": ("big.csv", b"0" * 1000)}, 413,
         "this server accepts at most 0.000954 MB per request and the upload is 0.00111 MB"),
    ]
    for files, status, detail in cases:
        r = client.post("/upload", files=files)
        assert (r.status_code, r.json()["detail"]) == (status, detail)


def test_a_model_in_memory_has_no_recorded_accuracies(model):
    card = Client(create_app(model, name="fresh")).get("/api/model").json()
    assert card["name"] == "fresh" and card["saved_with_mlpkit"] is None
    assert card["train_accuracy"] is card["test_accuracy"] is card["training"] is None
    assert card["mlpkit_version"] == mlpkit.__version__


def test_importing_mlpkit_does_not_load_the_web_stack():
    import subprocess

    code = ("import sys, mlpkit, mlpkit.nn, mlpkit.apps.cli; from mlpkit import MLPClassifier\n"
            "bad = [m for m in ('fastapi', 'starlette', 'uvicorn', 'python_multipart', "
            "'mlpkit.apps.web') if m in sys.modules]\n"
            "assert not bad, bad")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
