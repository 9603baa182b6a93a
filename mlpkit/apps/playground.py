"""The web app of `mlpkit playground`: the course's networks trained live in the browser.

`create_app(manager)` builds a FastAPI app: the page at /, the JSON API under /api (data sets,
runs, their live Server-Sent Events, controls, gradient check, export) and its OpenAPI docs at
/docs, served locally. Runs live in memory (`playground_runs.RunManager`); nothing from a
request is written to disk. Imports FastAPI, so only `mlpkit playground` (and tests) import it.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path
from typing import Annotated, Literal

import anyio.to_thread
from fastapi import Body, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag
from starlette.exceptions import HTTPException

from .. import __version__
from ..io.model_files import save_bytes
from .playground_data import (
    CSV,
    DATASETS,
    MAX_CLASSES,
    MAX_CSV_BYTES,
    CsvError,
    SettingsError,
    make_data,
    parse_csv,
)
from .playground_runs import RunManager, RunsBusy
from .presets import (
    DEFAULTS,
    HIDDEN_ACTIVATIONS,
    INIT_TITLES,
    OPTIMIZERS,
    PRESETS,
    SCHEDULES,
    fit_options,
    network,
    python_snippet,
    settings_of,
)
from .web import MB, PAGE_HEADERS, STATIC, UploadError, read_uploads

MAX_UNITS = 128
MAX_LAYERS = 6
MAX_EPOCHS = 20000
MAX_POINTS = 5000
MAX_SEED = 2**31 - 1
MAX_BODY_BYTES = 1 * MB  # a run's JSON config, uploaded points included
EVENT_POLL = 0.2  # seconds between looks at a run for new events
KEEPALIVE = 15.0
GRADCHECK_THRESHOLD = 1e-7
LIMITS = {"max_units": MAX_UNITS, "max_layers": MAX_LAYERS, "max_epochs": MAX_EPOCHS,
          "max_points": MAX_POINTS, "max_classes": MAX_CLASSES, "max_csv_bytes": MAX_CSV_BYTES}
ROUTES_HELP = "the page is at /, the API under /api (GET /api/datasets, POST /api/runs), its " \
              "docs at /docs"
CSV_FIELD = "file"

Activation = Literal[HIDDEN_ACTIVATIONS]
# requests are read as they are: no unknown fields, no coercion (false is not 0, "1" not 1)
STRICT = ConfigDict(extra="forbid", strict=True)


# --------------------------------------------------------------------------- request schemas


class CsvPoints(BaseModel):
    model_config = STRICT

    x: list[Annotated[list[float], Field(min_length=2, max_length=2)]] = Field(
        min_length=4, max_length=MAX_POINTS, description="[x1, x2] per row")
    y: list[Annotated[int, Field(ge=0, lt=MAX_CLASSES)]] = Field(
        min_length=4, max_length=MAX_POINTS, description="class index per row")
    classes: list[str] = Field(min_length=2, max_length=MAX_CLASSES,
                               description="class names; y indexes them")


D = DEFAULTS


class RunConfig(BaseModel):
    """A run's settings under the course's names; every field is optional (its default)."""

    model_config = STRICT

    dataset: Literal[(*DATASETS, CSV)] = D["dataset"]
    points: int = Field(D["points"], ge=4, le=MAX_POINTS, description="training examples")
    dev_points: int = Field(D["dev_points"], ge=0, le=MAX_POINTS,
                            description="dev examples, drawn with data_seed + 1 (0: none)")
    noise: float = Field(D["noise"], ge=0, le=2)
    classes: int = Field(D["classes"], ge=2, le=MAX_CLASSES)
    data_seed: int = Field(D["data_seed"], ge=0, le=MAX_SEED)
    csv: CsvPoints | None = Field(None, description="the uploaded points (POST /api/csv)")
    hidden: list[Annotated[int, Field(ge=1, le=MAX_UNITS)]] = Field(
        D["hidden"], max_length=MAX_LAYERS, description="units per hidden layer")
    activation: Activation | list[Activation] = Field(
        D["activation"], description="one, or one per hidden layer")
    init: Literal[tuple(INIT_TITLES)] = D["init"]
    seed: int = Field(D["seed"], ge=0, le=MAX_SEED, description="of the initial weights")
    batch_norm: bool = D["batch_norm"]
    l2: float = Field(D["l2"], ge=0, le=100, description="lambda")
    keep_prob: float = Field(D["keep_prob"], gt=0, le=1, description="dropout's keep_prob")
    optimizer: Literal[OPTIMIZERS] = D["optimizer"]
    beta1: float = Field(D["beta1"], ge=0, lt=1, description="momentum's beta, Adam's beta1")
    beta2: float = Field(D["beta2"], ge=0, lt=1, description="RMSprop's and Adam's beta2")
    learning_rate: float = Field(D["learning_rate"], gt=0, le=100)
    lr_schedule: Literal[SCHEDULES] = D["lr_schedule"]
    decay_rate: float = Field(D["decay_rate"], gt=0, le=100)
    batch_size: int | None = Field(D["batch_size"], ge=1, le=MAX_POINTS,
                                   description="null: full batch")
    epochs: int = Field(D["epochs"], ge=1, le=MAX_EPOCHS)
    patience: int | None = Field(D["patience"], ge=1, le=MAX_EPOCHS,
                                 description="early stopping on the dev cost")
    fit_seed: int | None = Field(D["fit_seed"], ge=0, le=MAX_SEED,
                                 description="shuffles and dropout masks; null: seed")
    course_rng: bool = Field(D["course_rng"], description="the course's np.random.seed draws")
    human_error: float = Field(D["human_error"], ge=0, lt=1,
                               description="the diagnosis' proxy for the Bayes error")


class PresetRequest(BaseModel):
    model_config = STRICT

    preset: Literal[tuple(PRESETS)]
    epochs: int | None = Field(None, ge=1, le=MAX_EPOCHS,
                               description="every member's epochs instead of the preset's")


def _kind(body):
    return "preset" if isinstance(body, dict) and "preset" in body else "config"


RunRequest = Annotated[
    Annotated[RunConfig, Tag("config")] | Annotated[PresetRequest, Tag("preset")],
    Discriminator(_kind),
]


class Control(BaseModel):
    model_config = STRICT

    action: Literal["pause", "play", "step", "stop"]


# --------------------------------------------------------------------------- response schemas


class FieldError(BaseModel):
    field: str = Field(description="the setting, dotted (hidden.0, csv.x)")
    message: str


class ErrorMessage(BaseModel):
    detail: str
    errors: list[FieldError] | None = Field(None, description="422: each bad field")


class RunId(BaseModel):
    id: str


class History(BaseModel):
    epoch: list[int]
    cost: list[float | None] = Field(description="training cost of each epoch (the mean over "
                                     "its mini-batches, with the L2 term)")
    dev_cost: list[float | None]
    train_accuracy: list[float | None] = Field(description="after the epoch, prediction mode")
    dev_accuracy: list[float | None]


class Final(BaseModel):
    train_cost: float | None
    train_accuracy: float | None
    dev_cost: float | None
    dev_accuracy: float | None


class MemberRecord(BaseModel):
    label: str
    settings: dict
    status: Literal["queued", "running", "finished", "stopped", "diverged", "failed"]
    epochs_done: int
    history: History
    final: Final | None
    diagnosis: dict | None = Field(description="mlpkit.Diagnosis.to_dict(), with a dev set")
    error: str | None


class RunRecord(BaseModel):
    id: str
    status: Literal["running", "finished", "stopped", "diverged", "failed"]
    paused: bool
    stop_reason: str | None
    preset: str | None
    title: str | None
    created: float
    members: list[MemberRecord]


class RunSummary(BaseModel):
    id: str
    status: str
    title: str | None
    labels: list[str]


class GradCheck(BaseModel):
    difference: float = Field(description="||dtheta_approx - dtheta|| / (||dtheta_approx|| + "
                              "||dtheta||)")
    threshold: float
    passed: bool
    epochs_done: int


class ParsedCsv(BaseModel):
    x: list[list[float]]
    y: list[int]
    classes: list[str]
    header: list[str] | None
    rows: int


def _errors(*codes):
    described = {
        400: "a body that cannot be parsed; for /api/csv, a CSV file that cannot be read, "
             "naming the row and column",
        404: "no run with this id (finished runs are kept up to a bound, the oldest dropped)",
        409: "the run has not finished training",
        413: "the request is over its size limit",
        415: "the body is not multipart/form-data",
        422: "a setting or parameter that cannot be used, naming the field",
        429: "--max-runs runs are training; stop one or wait",
    }
    return {code: {"model": ErrorMessage, "description": described[code]} for code in codes}


# --------------------------------------------------------------------------- helpers


class ApiError(Exception):
    def __init__(self, status, detail, errors=None):
        super().__init__(detail)
        self.status, self.detail, self.errors = status, detail, errors


def _field_errors(errors):
    """[{"field": "hidden.0", "message": ...}], one per field: pydantic's locations without
    the request part, the discriminator's tag and the names of a union's members."""
    out = {}
    for error in errors:
        loc = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path")]
        if loc and loc[0] in ("config", "preset") and len(loc) > 1:
            loc = loc[1:]  # the discriminator's tag
        field = ".".join(p for p in loc if re.fullmatch(r"[A-Za-z_]\w*|\d+", p)) or "body"
        out.setdefault(field, error.get("msg", "invalid"))
    return [{"field": field, "message": message} for field, message in out.items()]


def _check_settings(settings):
    """Build everything a run builds from `settings` (cheap): SettingsError names the field."""
    try:
        _, _, classes = make_data(settings)
        network(settings, len(classes))
        fit_options(settings)
    except SettingsError:
        raise
    except (ValueError, TypeError) as e:
        raise SettingsError("settings", str(e)) from None


def _run_members(request):
    if isinstance(request, PresetRequest):
        preset = PRESETS[request.preset]
        members = []
        for label, settings in preset["members"].items():
            if request.epochs is not None:
                settings = {**settings, "epochs": request.epochs}
            members.append((label, settings))
        return members, request.preset, preset["title"]
    config = request.model_dump()
    if config["csv"] is not None:
        csv = config["csv"]
        if len(csv["x"]) != len(csv["y"]):
            raise SettingsError("csv.y", f"{len(csv['y'])} labels for {len(csv['x'])} points")
        if max(csv["y"]) >= len(csv["classes"]):
            raise SettingsError("csv.y", f"a class index {max(csv['y'])} for "
                                f"{len(csv['classes'])} classes")
    settings = settings_of(**config)
    _check_settings(settings)
    return [("run", settings)], None, None


def _sse(event, data):
    return f"event: {event}\ndata: {json.dumps(data, allow_nan=False)}\n\n"


def _new_events(run, state):
    """The events since `state` (cursors per member), under the run's lock."""
    events = []
    with run.cond:
        for i, member in enumerate(run.members):
            cursor = state["cursors"][i]
            epochs = len(member.history["epoch"])
            if member.views > state["views"][i] and member.boundary is not None:
                data = {"member": i, "epochs_done": epochs, **member.boundary}
                if not state["points"][i]:
                    data["points"] = member.points
                    state["points"][i] = True
                events.append(("boundary", data))
                state["views"][i] = member.views
            if epochs > cursor or member.status != state["status"][i]:
                events.append(("metrics", {
                    "member": i, "label": member.label, "status": member.status,
                    "paused": run.paused and not run.done, "epochs_done": epochs,
                    "epochs": member.settings["epochs"],
                    "history": {k: v[cursor:] for k, v in member.history.items()},
                    "layers": member.layers}))
                state["cursors"][i] = epochs
                state["status"][i] = member.status
            if member.error and not state["errors"][i]:
                events.append(("error", {"member": i, "status": member.status,
                                         "message": member.error}))
                state["errors"][i] = True
        done = run.done
    if done:
        events.append(("done", run.to_dict()))
    return events, done


# --------------------------------------------------------------------------- the app


def create_app(manager: RunManager, max_upload_bytes=MAX_CSV_BYTES):
    """The FastAPI app around `manager`'s runs."""
    page = (STATIC / "playground.html").read_text(encoding="utf-8")
    icon = (STATIC / "favicon.svg").read_bytes()
    app = FastAPIOffline(
        title="mlpkit playground",
        version=__version__,
        description="Train the course's networks live: pick a data set, the network and its "
        "training, watch the decision boundary and the curves. The page is at [/](/).",
        static_url="/docs-static",
    )
    app.mount("/static", StaticFiles(directory=str(Path(str(STATIC)))), name="static")
    app.state.manager = manager

    @app.middleware("http")
    async def limit_body(request, call_next):
        declared = request.headers.get("content-length")
        limit = max_upload_bytes + 64 * 1024 if request.url.path == "/api/csv" else MAX_BODY_BYTES
        if request.method in ("POST", "PUT", "PATCH") and declared is not None:
            try:
                size = int(declared)
            except ValueError:
                return JSONResponse({"detail": f"invalid Content-Length {declared!r}"}, 400)
            if size > limit:
                return JSONResponse({"detail": f"the request is {size} bytes; this endpoint "
                                     f"takes at most {limit}"}, 413,
                                    headers={"Connection": "close"})
        return await call_next(request)

    @app.exception_handler(ApiError)
    async def api_error(request, error):
        body = {"detail": error.detail}
        if error.errors is not None:
            body["errors"] = error.errors
        return JSONResponse(body, status_code=error.status)

    @app.exception_handler(UploadError)
    async def upload_error(request, error):
        headers = {"Connection": "close"} if error.close else None
        return JSONResponse({"detail": error.detail}, status_code=error.status, headers=headers)

    @app.exception_handler(SettingsError)
    async def settings_error(request, error):
        return JSONResponse({"detail": str(error), "errors": [
            {"field": error.field, "message": error.message}]}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request, error):
        errors = _field_errors(error.errors())
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        return JSONResponse({"detail": detail, "errors": errors}, status_code=422)

    @app.exception_handler(HTTPException)
    async def http_error(request, error):
        detail, headers = error.detail, getattr(error, "headers", None)
        if error.status_code == 404:
            detail = f"not found: {request.url.path}; {ROUTES_HELP}"
        elif error.status_code == 405:
            # every route of this path (starlette's Allow names the first one's methods only)
            allowed = sorted({method for route in app.router.routes
                              if getattr(route, "methods", None)
                              and route.path_regex.match(request.url.path)
                              for method in route.methods})
            headers = {**(headers or {}), "Allow": ", ".join(allowed)}
            detail = (f"{request.method} is not allowed on {request.url.path} (allowed: "
                      f"{', '.join(allowed)}); {ROUTES_HELP}")
        return JSONResponse({"detail": detail}, status_code=error.status_code, headers=headers)

    @app.exception_handler(Exception)
    async def server_error(request, error):  # logged by uvicorn with its traceback
        return JSONResponse({"detail": f"internal server error ({type(error).__name__})"},
                            status_code=500)

    def get_run(run_id):
        try:
            run = manager.get(run_id)
        except KeyError:
            raise ApiError(404, f"no run {run_id!r}: it never existed, was deleted, or was "
                           f"dropped (the server keeps the last {manager.keep} finished "
                           "runs)") from None
        run.touch()
        return run

    def member_index(run, member):
        if not 0 <= member < len(run.members):
            raise ApiError(422, f"member must be in [0, {len(run.members) - 1}] for this run; "
                           f"got {member}", [{"field": "member", "message": "out of range"}])
        return member

    @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
    async def index():
        return HTMLResponse(page, headers=PAGE_HEADERS)

    @app.api_route("/favicon.ico", methods=["GET", "HEAD"], include_in_schema=False)
    async def favicon():
        return Response(icon, media_type="image/svg+xml")

    @app.get("/health", summary="200 while the server runs")
    async def health():
        return {"status": "ok", "runs": len(manager.active()), "max_runs": manager.max_runs}

    @app.get("/api/datasets", summary="The data sets, presets, defaults, limits and choices")
    async def datasets():
        return {
            "datasets": [d.to_dict(name) for name, d in DATASETS.items()],
            "presets": [{"name": name, "title": p["title"], "description": p["description"],
                         "members": [{"label": label, "settings": s}
                                     for label, s in p["members"].items()]}
                        for name, p in PRESETS.items()],
            "defaults": DEFAULTS, "limits": LIMITS,
            "choices": {"activation": list(HIDDEN_ACTIVATIONS), "init": INIT_TITLES,
                        "optimizer": list(OPTIMIZERS), "lr_schedule": list(SCHEDULES)},
        }

    @app.post(
        "/api/csv", summary="Read an uploaded CSV file into points",
        description=f"multipart/form-data with one CSV file in the field `{CSV_FIELD}`: two "
        f"numeric feature columns and a label column (2 to {MAX_CLASSES} classes), at most "
        f"{MAX_POINTS} rows and {max_upload_bytes / MB:.3g} MB. Returns the points to send as "
        "`csv` in a run's settings; nothing is stored.",
        response_model=ParsedCsv, responses=_errors(400, 413, 415, 422),
        openapi_extra={"requestBody": {"required": True, "content": {"multipart/form-data": {
            "schema": {"type": "object", "required": [CSV_FIELD], "properties": {CSV_FIELD: {
                "type": "array", "minItems": 1, "maxItems": 1,
                "items": {"type": "string", "format": "binary"}}}}}}}},
    )
    async def upload_csv(request: Request):
        [(name, data)] = await read_uploads(request, max_upload_bytes, CSV_FIELD, max_files=1,
                                            what="one CSV file", limit_option=None)
        try:
            parsed = await anyio.to_thread.run_sync(parse_csv, data, MAX_POINTS)
        except CsvError as e:
            raise ApiError(400, f"{name}: {e}") from None
        return {**parsed, "rows": len(parsed["y"])}

    @app.post("/api/runs", summary="Start a run", status_code=201, response_model=RunId,
              description="A run's settings (each optional: its default; see GET /api/datasets) "
              "or `{\"preset\": NAME}`. The run trains at once; read it with GET "
              "/api/runs/{id} or its event stream. A run nobody reads is stopped.",
              responses=_errors(400, 413, 422, 429))
    async def create_run(request: Annotated[RunRequest, Body()]):
        members, preset, title = await anyio.to_thread.run_sync(_run_members, request)
        try:
            run = manager.create(members, preset, title)
        except RunsBusy as e:
            raise ApiError(429, str(e)) from None
        return JSONResponse({"id": run.id}, status_code=201)

    @app.get("/api/runs", summary="The runs kept, oldest first", response_model=list[RunSummary])
    async def list_runs():
        with manager.lock:
            runs = list(manager.runs.values())
        return [{"id": r.id, "status": r.status, "title": r.title,
                 "labels": [m.label for m in r.members]} for r in runs]

    @app.get("/api/runs/{run_id}", summary="A run: settings, status, history, diagnosis",
             response_model=RunRecord, responses=_errors(404))
    async def get_run_record(run_id: str):
        return JSONResponse(get_run(run_id).to_dict())

    @app.get("/api/runs/{run_id}/events", summary="The run's live stream (Server-Sent Events)",
             description="Events `metrics` (new epochs of history, gradient norms and "
             "activation histograms), `boundary` (the decision boundary on a grid; the points "
             "with the first), `error` (a member diverged or failed) and `done` (the run's "
             "record); at most a few a second. Closing the last stream of a running run "
             "stops it.",
             response_class=StreamingResponse, responses={
                 200: {"content": {"text/event-stream": {"schema": {"type": "string"}}},
                       "description": "the stream"}, **_errors(404)})
    async def events(run_id: str):
        run = get_run(run_id)
        n = len(run.members)
        state = {"cursors": [0] * n, "views": [0] * n, "points": [False] * n,
                 "status": [None] * n, "errors": [False] * n}

        async def stream():
            with run.cond:
                run.readers += 1
            try:
                yield ": mlpkit playground\n\n"
                version, last = None, time.monotonic()
                while True:
                    run.touch()
                    if run.version != version:
                        version = run.version
                        events, done = _new_events(run, state)
                        for event, data in events:
                            yield _sse(event, data)
                        last = time.monotonic()
                        if done:
                            return
                    elif time.monotonic() - last > KEEPALIVE:
                        yield ": keep-alive\n\n"
                        last = time.monotonic()
                    await asyncio.sleep(EVENT_POLL)
            finally:
                with run.cond:
                    run.readers -= 1
                    run.released = time.monotonic()

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @app.post("/api/runs/{run_id}/control", summary="Pause, play, one step (epoch), stop",
              response_model=RunRecord, responses=_errors(400, 404, 413, 422))
    async def control(run_id: str, body: Control):
        run = get_run(run_id)
        run.control(body.action)
        return JSONResponse(run.to_dict())

    @app.post("/api/runs/{run_id}/gradcheck", summary="Gradient check of a member's network",
              description="backprop's gradient against two-sided differences (epsilon 1e-7) on "
              "a few training examples, at the member's latest parameters; below 1e-7 the "
              "gradient is right.", response_model=GradCheck, responses=_errors(404, 413, 422))
    async def gradcheck(run_id: str, member: Annotated[int, Query(ge=0)] = 0):
        run = get_run(run_id)
        index = member_index(run, member)
        try:
            difference = await anyio.to_thread.run_sync(run.gradient_check, index)
        except ValueError as e:
            raise ApiError(422, str(e)) from None
        return {"difference": difference, "threshold": GRADCHECK_THRESHOLD,
                "passed": bool(difference < GRADCHECK_THRESHOLD),
                "epochs_done": len(run.members[index].history["epoch"])}

    @app.delete("/api/runs/{run_id}", summary="Stop a run and forget it",
                response_model=RunSummary, responses=_errors(404))
    async def delete_run(run_id: str):
        get_run(run_id)
        try:
            run = manager.delete(run_id)
        except KeyError:
            raise ApiError(404, f"no run {run_id!r}") from None
        return {"id": run.id, "status": run.status, "title": run.title,
                "labels": [m.label for m in run.members]}

    @app.get("/api/runs/{run_id}/export", summary="A Python script, or the trained model",
             description="format=python: a script that reproduces the member's run with mlpkit "
             "and prints its accuracies; format=npz: the trained network as an mlpkit model "
             "file (mlpkit.load reads it), once the member has finished.",
             responses={200: {"content": {"text/x-python": {"schema": {"type": "string"}},
                                          "application/octet-stream": {"schema": {
                                              "type": "string", "format": "binary"}}},
                              "description": "the file"}, **_errors(404, 409, 422)})
    async def export(run_id: str, format: Literal["python", "npz"] = "python",  # noqa: A002
                     member: Annotated[int, Query(ge=0)] = 0):
        run = get_run(run_id)
        index = member_index(run, member)
        m = run.members[index]
        slug = f"playground-{run.id}-{index}"
        if format == "python":
            title = f"playground run {run.id}" + (f", {m.label}" if len(run.members) > 1 else "")
            text = await anyio.to_thread.run_sync(python_snippet, m.settings, title)
            return Response(text, media_type="text/x-python", headers={
                "Content-Disposition": f'attachment; filename="{slug}.py"'})
        with run.cond:
            net, status = m.net, m.status
        if status in ("queued", "running") or net is None:
            raise ApiError(409, f"member {index} is {status}: the model can be exported when "
                           "it has finished")
        data = await anyio.to_thread.run_sync(save_bytes, net, {
            "playground": {"settings": {k: v for k, v in m.settings.items() if k != "csv"},
                           "final": m.final, "diagnosis": m.diagnosis}})
        return Response(data, media_type="application/octet-stream", headers={
            "Content-Disposition": f'attachment; filename="{slug}.npz"'})

    return app
