"""The web app of `mlpkit serve`: a page to drop photos on, a JSON API and its OpenAPI docs.

`create_app(model, metadata, max_upload_bytes)` builds a FastAPI app around one loaded
`ImageClassifier`. Uploads are parsed in memory (python-multipart), bounded by
`max_upload_bytes` as they arrive, and never touch the file system; their file names are only
echoed back. Imports FastAPI, so only `mlpkit serve` (and tests) import this module.
"""

from __future__ import annotations

import math
import os
import threading
from importlib.resources import files
from pathlib import Path
from typing import Literal

import anyio.to_thread
import numpy as np
from anyio import CapacityLimiter
from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, ConfigDict, Field
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import FormParser, parse_options_header
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
    """A bad request: its HTTP status, a message and, for unreadable images, a FileError per
    file; `close`: the rest of the body is left unread, so the connection is ended."""

    def __init__(self, status, detail, errors=None, close=False):
        super().__init__(detail)
        self.status, self.detail, self.errors = status, detail, errors
        self.close = close


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


class Health(BaseModel):
    status: Literal["ok"]
    model: str = Field(description="the model file's name")


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

PRIVATE_OPTIONS = ("data", "dev", "test", "out", "resume", "argv")  # the server's files' paths


def model_card(model, metadata=None, name="model", max_upload_bytes=MAX_UPLOAD_BYTES):
    """The ModelCard the page and GET /api/model show about `model`; `metadata`: the model file's
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
                               if k not in PRIVATE_OPTIONS}
    return ModelCard(
        name=name,
        classes=list(model.classes),
        image_size=int(model.image_size),
        architecture=Architecture(
            layer_dims=dims,
            hidden_activations=hidden,
            output_activation=output,
            batch_norm=batch_norm,
            standardized=getattr(model, "standardizer", None) is not None,
            summary=summary,
        ),
        train_accuracy=accuracy("train_accuracy"),
        validation_accuracy=accuracy("validation_accuracy"),
        test_accuracy=accuracy("test_accuracy"),
        training=training or None,
        mlpkit_version=__version__,
        saved_with_mlpkit=header.get("mlpkit_version"),
        max_upload_bytes=int(max_upload_bytes),
        max_files=MAX_FILES,
    )


# --------------------------------------------------------------------------- uploads


def _megabytes(n):
    return f"{n / MB:.3g} MB"


def _too_large(limit, option, size=None):
    what = f"is {_megabytes(size)}" if size is not None else "is larger than that"
    hint = f" ({option})" if option else ""
    return UploadError(413, f"this server accepts at most {_megabytes(limit)} per request and "
                            f"the upload {what}{hint}", close=True)


def _decode(text):
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError:
        return text.decode("latin-1")


async def read_uploads(request: Request, max_bytes: int, field: str = FIELD, *,
                       max_files: int = MAX_FILES, what: str = "one or more images",
                       limit_option: str | None = "mlpkit serve --max-upload-mb"):
    """[(filename, bytes)] of the multipart field `field`, parsed in memory as the body arrives.

    Raises UploadError: 413 when the Content-Length, or the body as it streams in, passes
    `max_bytes` (the rest is left unread); 415 for a body that is not multipart/form-data; 422
    when `field` holds no file; 400 for a malformed or truncated body or over `max_files` files.
    `what` names the expected files and `limit_option` the option raising the limit, in messages.

    Why not Starlette's `request.form()`: with Starlette 1.10, a 3 MB body against a 1 MB limit
    was read whole (3145852 bytes), with or without Content-Length and streamed alike, as it
    has no limit on a request's size; its 3 MB file part was written to a temporary file (parts
    over `MultiPartParser.spool_max_size`, 1 MB, a class attribute, roll to disk); a body cut
    before its closing boundary came back as an empty form, not an error. So this feeds
    python-multipart's `FormParser` itself: files kept in memory (MAX_MEMORY_FILE_SIZE = inf),
    bytes counted as they arrive, and `on_end` telling a complete body from a truncated one.
    """
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            declared = int(declared)
        except ValueError:
            raise UploadError(400, f"invalid Content-Length {declared!r}") from None
        if declared > max_bytes:
            raise _too_large(max_bytes, limit_option, declared)
    content_type = request.headers.get("content-type", "")
    kind, options = parse_options_header(content_type)
    if not content_type or declared == 0:
        raise _no_files(field, what)
    if kind != b"multipart/form-data":
        raise UploadError(415, f"expected a multipart/form-data body with {what} in the field "
                               f"'{field}', got Content-Type {content_type!r}")
    if not options.get(b"boundary"):
        raise UploadError(400, "malformed multipart body: no boundary in its Content-Type")

    uploads, others, ended = [], set(), []

    def part(name, filename, data):
        name = _decode(name or b"")  # (python-multipart 0.0.34 refuses nameless parts itself)
        if name != field:
            others.add(name)
        elif filename or data:  # else a form's empty file input
            if len(uploads) == max_files:
                raise UploadError(400, f"too many files in one request; at most {max_files}",
                                  close=True)
            uploads.append((_decode(filename) if filename else f"file {len(uploads) + 1}", data))

    parser = FormParser(
        "multipart/form-data", boundary=options[b"boundary"],
        on_field=lambda f: part(f.field_name, None, f.value or b""),
        on_file=lambda f: part(f.field_name, f.file_name, f.file_object.getvalue()),
        on_end=lambda: ended.append(True), config={"MAX_MEMORY_FILE_SIZE": math.inf})
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > max_bytes:
                raise _too_large(max_bytes, limit_option)
            parser.write(chunk)
    except FormParserError as e:
        raise UploadError(400, f"malformed multipart body ({e})", close=True) from None
    except ClientDisconnect:
        raise UploadError(400, "the client went away before the end of its upload",
                          close=True) from None
    if not ended:
        raise UploadError(400, "malformed multipart body: it ends before its closing boundary "
                               "(truncated)", close=True)
    if not uploads:
        raise _no_files(field, what, sorted(others))
    return uploads


def _no_files(field, what, fields=()):
    got = f" (got field(s) {', '.join(map(repr, fields))})" if fields else ""
    return UploadError(422, f"no files: send {what} as multipart/form-data in the field "
                            f"'{field}'{got}")


# --------------------------------------------------------------------------- the app


def create_app(model, metadata=None, max_upload_bytes=MAX_UPLOAD_BYTES, name="model"):
    """The FastAPI app serving `model` (an ImageClassifier): the page at /, POST /api/predict,
    GET /api/model, GET /health, docs at /docs. `metadata`: the model file's header."""
    card = model_card(model, metadata, name, max_upload_bytes)
    predict_lock = threading.Lock()  # one model, shared by the request threads
    # decode and predict in at most this many threads at once: bounds the memory of decoding
    decoders = CapacityLimiter(max(2, os.cpu_count() or 1))
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    icon = (STATIC / "favicon.svg").read_bytes()

    app = FastAPIOffline(
        title=f"mlpkit serve: {name}",
        version=__version__,
        description=f"Classifies images into {', '.join(model.classes)} with an mlpkit "
        f"ImageClassifier ({card.architecture.summary}). The page is at [/](/).",
        static_url="/docs-static",
    )
    app.mount("/static", StaticFiles(directory=str(Path(str(STATIC)))), name="static")

    @app.exception_handler(UploadError)
    async def upload_error(request, error):
        body = ErrorMessage(detail=error.detail, errors=error.errors)
        headers = {"Connection": "close"} if error.close else None
        return JSONResponse(body.model_dump(exclude_none=True), status_code=error.status,
                            headers=headers)

    @app.exception_handler(HTTPException)
    async def http_error(request, error):
        detail = error.detail
        if error.status_code == 404:
            detail = f"not found: {request.url.path}; {ROUTES_HELP}"
        elif error.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path}; {ROUTES_HELP}"
        return JSONResponse(ErrorMessage(detail=str(detail)).model_dump(exclude_none=True),
                            status_code=error.status_code, headers=getattr(error, "headers", None))

    @app.exception_handler(Exception)
    async def server_error(request, error):  # logged by uvicorn with its traceback
        body = ErrorMessage(detail=f"internal server error ({type(error).__name__})")
        return JSONResponse(body.model_dump(exclude_none=True), status_code=500)

    def classify(uploads):
        images, errors = [], []
        for index, (filename, data) in enumerate(uploads):
            try:
                if not data:
                    raise ValueError(f"{filename}: empty file")
                images.append(decode_image(data, model.image_size, name=filename))
            except ValueError as e:
                errors.append(FileError(index=index, filename=filename, detail=str(e)))
        if errors:
            detail = "; ".join(e.detail for e in errors)
            if len(uploads) > 1:
                detail = f"{len(errors)} of {len(uploads)} files are not readable images: {detail}"
            raise UploadError(400, detail, errors)
        with predict_lock:
            proba = model.predict_proba(np.stack(images))  # the request's images: one batch
        return Predictions(predictions=[Prediction(filename=filename, **model.answer(p))
                                        for (filename, _), p in zip(uploads, proba, strict=True)])

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
                "minItems": 1, "maxItems": MAX_FILES, "description": "image files"}}}}}}},
    )
    async def predict(request: Request):
        uploads = await read_uploads(request, max_upload_bytes)
        return await anyio.to_thread.run_sync(classify, uploads, limiter=decoders)

    @app.get("/api/model", summary="The model card", response_model=ModelCard)
    async def get_model():
        return card

    @app.get("/health", summary="200 while the server runs", response_model=Health)
    async def health():
        return Health(status="ok", model=name)

    @app.head("/health", include_in_schema=False)  # its own route: one operation id each
    async def health_head():
        return Response(status_code=200)

    @app.api_route("/favicon.ico", methods=["GET", "HEAD"], include_in_schema=False)
    async def favicon():
        return Response(icon, media_type="image/svg+xml")

    return app
