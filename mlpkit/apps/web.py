"""The web app of `mlpkit serve`: a page to drop photos on, a JSON API and its OpenAPI docs.

`create_app(model, metadata, max_upload_bytes)` builds a FastAPI app around one loaded
`ImageClassifier`. Uploads are parsed in memory (python-multipart), bounded by
`max_upload_bytes` as they arrive, and never touch the file system; their file names are only
echoed back. Imports FastAPI, so only `mlpkit serve` (and tests) import this module.
"""

from __future__ import annotations

import os
import threading
from importlib.resources import files
from pathlib import Path

import anyio.to_thread
import numpy as np
from anyio import CapacityLimiter
from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, ConfigDict, Field
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from .. import __version__
from ..data.images import decode_image

MB = 1024 * 1024
MAX_UPLOAD_BYTES = 10 * MB
MAX_FILES = 100  # per request
FIELD = "files"

STATIC = files("mlpkit.apps") / "static"

# The page loads nothing but its own files: no inline script, no CDN.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' blob:; object-src 'none'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

ROUTES_HELP = ("the page is at /, the API at POST /api/predict, GET /api/model and GET /health, "
               "its docs at /docs")


class UploadError(Exception):
    """A bad request: its HTTP status, a message and, for unreadable images, one entry per file."""

    def __init__(self, status, detail, errors=None, close=False):
        super().__init__(detail)
        self.status, self.detail, self.errors = status, detail, errors
        self.close = close  # the rest of the body is left unread: end the connection


# --------------------------------------------------------------------------- response schemas


class Prediction(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    filename: str
    class_: str = Field(alias="class", description="the most probable class")
    probability: float = Field(description="its probability")
    probabilities: dict[str, float] = Field(description="P(class) for every class; sums to 1")


class Predictions(BaseModel):
    predictions: list[Prediction] = Field(description="one per file, in the order sent")


class FileError(BaseModel):
    index: int = Field(description="position of the file among the request's files, from 0")
    filename: str
    detail: str


class ErrorMessage(BaseModel):
    detail: str
    errors: list[FileError] | None = Field(None, description="400: each unreadable file")


class Architecture(BaseModel):
    layer_dims: list[int]
    hidden_activations: list[str]
    output_activation: str
    batch_norm: bool
    standardized: bool
    summary: str


class ModelCard(BaseModel):
    name: str
    classes: list[str]
    image_size: int
    architecture: Architecture
    train_accuracy: float | None = Field(description="recorded by mlpkit train; null if not")
    validation_accuracy: float | None
    test_accuracy: float | None
    training: dict | None = Field(description="options recorded by mlpkit train")
    mlpkit_version: str = Field(description="of this server")
    saved_with_mlpkit: str | None = Field(description="version that wrote the model file")
    max_upload_bytes: int
    max_files: int


# --------------------------------------------------------------------------- the model card


def model_card(model, metadata=None, name="model", max_upload_bytes=MAX_UPLOAD_BYTES):
    """What the page and GET /api/model show about `model`; `metadata` is the model file's
    header (`mlpkit.io.model_files.read_metadata`), None for a model not read from a file."""
    header = metadata or {}
    recorded = header.get("metadata") or {}
    saved = (header.get("state") or {}).get("network") or {}
    net = model.network
    dims = [int(n) for n in net.layer_dims]
    hidden = list(saved.get("hidden_activations", getattr(net, "hidden_activations", [])))
    output = saved.get("output_activation", getattr(net, "output_activation", "?"))
    batch_norm = bool(saved.get("batch_norm", getattr(net, "batch_norm", False)))
    layers = [str(dims[0])] + [f"{n} {g}" for n, g in zip(dims[1:-1], hidden, strict=False)]
    summary = " → ".join([*layers, f"{dims[-1]} {output}"])
    if batch_norm:
        summary += ", batch norm"

    def accuracy(key):
        value = recorded.get(key)
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return float(value) if ok else None

    training = {k: recorded[k] for k in ("options", "hidden", "seed", "init") if k in recorded}
    if isinstance(training.get("options"), dict):  # the training files' paths stay private
        training["options"] = {k: v for k, v in training["options"].items()
                               if k not in ("data", "test")}
    return {
        "name": name,
        "classes": list(model.classes),
        "image_size": int(model.image_size),
        "architecture": {
            "layer_dims": dims,
            "hidden_activations": hidden,
            "output_activation": output,
            "batch_norm": batch_norm,
            "standardized": getattr(model, "standardizer", None) is not None,
            "summary": summary,
        },
        "train_accuracy": accuracy("train_accuracy"),
        "validation_accuracy": accuracy("validation_accuracy"),
        "test_accuracy": accuracy("test_accuracy"),
        "training": training or None,
        "mlpkit_version": __version__,
        "saved_with_mlpkit": header.get("mlpkit_version"),
        "max_upload_bytes": int(max_upload_bytes),
        "max_files": MAX_FILES,
    }


# --------------------------------------------------------------------------- uploads


def _megabytes(n):
    return f"{n / MB:.3g} MB"


def _too_large(limit, size=None):
    what = f"is {_megabytes(size)}" if size is not None else "is larger than that"
    return UploadError(413, f"this server accepts at most {_megabytes(limit)} per request and "
                            f"the upload {what} (mlpkit serve --max-upload-mb)", close=True)


def _decode(text):
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError:
        return text.decode("latin-1")


class _Parts:
    """Collects the parts of a multipart body in memory: [(field name, filename, bytes)]."""

    def __init__(self):
        self.parts = []
        self.complete = False  # the closing boundary was read
        self._header_name = self._header_value = b""
        self._headers = {}
        self._data = []

    def callbacks(self):
        return {
            "on_part_begin": self._begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_val,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_done,
            "on_part_data": self._part_data,
            "on_part_end": self._end,
            "on_end": self._complete,
        }

    def _complete(self):
        self.complete = True

    def _begin(self):
        self._headers, self._data = {}, []

    def _header_field(self, data, start, end):
        self._header_name += data[start:end]

    def _header_val(self, data, start, end):
        self._header_value += data[start:end]

    def _header_end(self):
        self._headers[self._header_name.lower()] = self._header_value
        self._header_name = self._header_value = b""

    def _headers_done(self):
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        if b"name" not in options:
            raise UploadError(400, "malformed multipart body: a part has no Content-Disposition "
                                   "name", close=True)
        self._field = _decode(options[b"name"])
        self._filename = _decode(options[b"filename"]) if b"filename" in options else None
        if self._field == FIELD and sum(p[0] == FIELD for p in self.parts) >= MAX_FILES:
            raise UploadError(400, f"too many files in one request; at most {MAX_FILES}",
                              close=True)

    def _part_data(self, data, start, end):
        self._data.append(data[start:end])

    def _end(self):
        self.parts.append((self._field, self._filename, b"".join(self._data)))


async def read_uploads(request: Request, max_bytes: int):
    """[(filename, bytes)] of the multipart field `files`, read in memory as the body arrives;
    UploadError 413 as soon as the body passes max_bytes, 415 / 422 / 400 for other bodies."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            declared = int(declared)
        except ValueError:
            raise UploadError(400, f"invalid Content-Length {declared!r}") from None
        if declared > max_bytes:
            raise _too_large(max_bytes, declared)
    content_type = request.headers.get("content-type", "")
    kind, options = parse_options_header(content_type)
    if not content_type or declared == 0:
        raise _no_files()
    if kind != b"multipart/form-data":
        raise UploadError(415, f"expected a multipart/form-data body with images in the field "
                               f"'{FIELD}', got Content-Type {content_type!r}")
    if not options.get(b"boundary"):
        raise UploadError(400, "malformed multipart body: no boundary in its Content-Type")
    parts = _Parts()
    parser = MultipartParser(options[b"boundary"], parts.callbacks())
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > max_bytes:
                raise _too_large(max_bytes)
            parser.write(chunk)
        parser.finalize()  # (which checks nothing: a truncated body is caught below)
    except MultipartParseError as e:
        raise UploadError(400, f"malformed multipart body ({e})", close=True) from None
    except ClientDisconnect:
        raise UploadError(400, "the client went away before the end of its upload",
                          close=True) from None
    if not parts.complete:
        raise UploadError(400, "malformed multipart body: it ends before its closing boundary "
                               "(truncated)", close=True)
    uploads = []
    for field, filename, data in parts.parts:
        if field != FIELD or (not filename and not data):  # a form's empty file input
            continue
        uploads.append((filename or f"file {len(uploads) + 1}", data))
    if not uploads:
        fields = sorted({field for field, _, _ in parts.parts} - {FIELD})
        raise _no_files(fields)
    return uploads


def _no_files(fields=()):
    got = f" (got field(s) {', '.join(map(repr, fields))})" if fields else ""
    return UploadError(422, f"no files: send one or more images as multipart/form-data in the "
                            f"field '{FIELD}'{got}")


# --------------------------------------------------------------------------- the app


def create_app(model, metadata=None, max_upload_bytes=MAX_UPLOAD_BYTES, name="model"):
    """The FastAPI app serving `model` (an ImageClassifier): the page at /, POST /api/predict,
    GET /api/model, GET /health, docs at /docs. `metadata`: the model file's header."""
    card = model_card(model, metadata, name, max_upload_bytes)
    classes = list(model.classes)
    predict_lock = threading.Lock()  # one model, shared by the request threads
    # decode and predict in at most this many threads at once: bounds the memory of decoding
    decoders = CapacityLimiter(max(2, os.cpu_count() or 1))
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    icon = (STATIC / "favicon.svg").read_bytes()

    app = FastAPIOffline(
        title=f"mlpkit serve: {name}",
        version=__version__,
        description=f"Classifies images into {', '.join(classes)} with an mlpkit "
        f"ImageClassifier ({card['architecture']['summary']}). The page is at [/](/).",
        static_url="/docs-static",
    )
    app.mount("/static", StaticFiles(directory=str(Path(str(STATIC)))), name="static")

    @app.exception_handler(UploadError)
    async def upload_error(request, error):
        body = {"detail": error.detail}
        if error.errors is not None:
            body["errors"] = error.errors
        headers = {"Connection": "close"} if error.close else None
        return JSONResponse(body, status_code=error.status, headers=headers)

    @app.exception_handler(HTTPException)
    async def http_error(request, error):
        detail = error.detail
        if error.status_code == 404:
            detail = f"not found: {request.url.path}; {ROUTES_HELP}"
        elif error.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path}; {ROUTES_HELP}"
        return JSONResponse({"detail": detail}, status_code=error.status_code,
                            headers=getattr(error, "headers", None))

    @app.exception_handler(Exception)
    async def server_error(request, error):  # logged by uvicorn with its traceback
        return JSONResponse({"detail": f"internal server error ({type(error).__name__})"},
                            status_code=500)

    def classify(uploads):
        images, errors = [], []
        for index, (filename, data) in enumerate(uploads):
            try:
                if not data:
                    raise ValueError(f"{filename}: empty file")
                images.append(decode_image(data, model.image_size, name=filename))
            except ValueError as e:
                errors.append({"index": index, "filename": filename, "detail": str(e)})
        if errors:
            detail = "; ".join(e["detail"] for e in errors)
            if len(uploads) > 1:
                detail = f"{len(errors)} of {len(uploads)} files are not readable images: {detail}"
            raise UploadError(400, detail, errors)
        with predict_lock:
            proba = model.predict_proba(np.stack(images))  # the request's images: one batch
        predictions = []
        for (filename, _), p in zip(uploads, proba, strict=True):
            k = int(p.argmax())
            predictions.append({
                "filename": filename,
                "class": classes[k],
                "probability": float(p[k]),
                "probabilities": dict(zip(classes, map(float, p), strict=True)),
            })
        return {"predictions": predictions}

    @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
    async def index():
        return HTMLResponse(page, headers=PAGE_HEADERS)

    @app.post(
        "/api/predict",
        summary="Classify one or more images",
        description=f"multipart/form-data with one or more image files (JPEG, PNG, GIF, BMP, "
        f"WebP) in the field `{FIELD}`; at most {_megabytes(max_upload_bytes)} and {MAX_FILES} "
        "files per request. The images of one request are predicted as one batch.",
        response_model=Predictions,
        responses={
            400: {"model": ErrorMessage, "description": "an unreadable, corrupt or too large "
                  "(decompression bomb) image, named in the message; a malformed body"},
            413: {"model": ErrorMessage, "description": "the request is over the upload limit"},
            415: {"model": ErrorMessage, "description": "the body is not multipart/form-data"},
            422: {"model": ErrorMessage, "description": f"no files in the field '{FIELD}'"},
        },
        openapi_extra={"requestBody": {"required": True, "content": {"multipart/form-data": {
            "schema": {"type": "object", "required": [FIELD], "properties": {FIELD: {
                "type": "array", "items": {"type": "string", "format": "binary"},
                "description": "image files"}}}}}}},
    )
    async def predict(request: Request):
        uploads = await read_uploads(request, max_upload_bytes)
        result = await anyio.to_thread.run_sync(classify, uploads, limiter=decoders)
        return JSONResponse(result)

    @app.get("/api/model", summary="The model card", response_model=ModelCard)
    async def get_model():
        return JSONResponse(card)

    @app.get("/health", summary="200 while the server runs")
    async def health():
        return {"status": "ok", "model": name}

    @app.head("/health", include_in_schema=False)  # its own route: one operation id each
    async def health_head():
        return Response(status_code=200)

    @app.api_route("/favicon.ico", methods=["GET", "HEAD"], include_in_schema=False)
    async def favicon():
        return Response(icon, media_type="image/svg+xml")

    return app
