"""An HTTP service around one trained model folder: score quotes, or extract and score the quotes of articles.

``create_app(model_dir)`` builds a FastAPI app that serves exactly that folder for its whole life:
no request can name another model or path. Routes:

- ``POST /v1/predict``: ``{"quotes": [{"text", "target"?, "id"?}]}`` -> one result per quote, in order,
  with its ``id`` and the fields of ``predict.py`` output (``stance``, ``stance_probs``, ``sentiment``,
  ``sentiment_probs``, ``truncated``, ``error``). A blank text gets an ``error``, not a 4xx.
- ``POST /v1/extract``: ``{"articles": [{"id", "text"}], "per_sentence"?}`` -> the attributed, scored
  quotes of every article, the same rows as ``predict.py --articles``.
- ``GET /healthz`` and ``GET /v1/model`` (labels, versions, base model, training date, backend, metrics).

Limits: at most 256 quotes (or articles) per request, 5,000 characters per quote and a 2 MB body;
beyond them the answer is HTTP 413 with a JSON ``detail`` naming the limit. A malformed body (not
JSON, wrong shape, a missing or non-string ``text``) is HTTP 422 naming the field, e.g. ``quotes[3].text``.

Micro-batching: requests arriving within ``max_wait_ms`` of each other share one ``score_rows`` call
(up to ``max_batch`` quotes; a larger request is never split), run in a worker thread so the event
loop keeps accepting requests. ``app.state.batches_run`` counts those calls.

``quotestance serve --model DIR`` runs it with uvicorn (see :func:`main`).
"""
import argparse
import asyncio
import contextlib
import json
import logging
import math
import os
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictStr

import quotestance
from quotestance.articles import quote_rows
from quotestance.backends import BACKENDS
from quotestance.predictor import OUTPUT_FIELDS, StancePredictor, row_problem, score_rows

__all__ = ["create_app", "app_from_env", "main", "MAX_ITEMS", "MAX_TEXT_CHARS", "MAX_BODY_BYTES"]

log = logging.getLogger("quotestance.serve")

#: Quotes (in /v1/predict) or articles (in /v1/extract) per request.
MAX_ITEMS = 256
#: Characters in one quote's text (/v1/predict).
MAX_TEXT_CHARS = 5_000
#: Bytes in one request body.
MAX_BODY_BYTES = 2 * 1024 * 1024

#: Environment variables read by :func:`app_from_env` (the app factory uvicorn workers import).
ENV_MODEL = "QUOTESTANCE_SERVE_MODEL"
ENV_BACKEND = "QUOTESTANCE_SERVE_BACKEND"
ENV_MAX_BATCH = "QUOTESTANCE_SERVE_MAX_BATCH"
ENV_MAX_WAIT_MS = "QUOTESTANCE_SERVE_MAX_WAIT_MS"
ENV_THREADS = "QUOTESTANCE_SERVE_THREADS"

Row = dict[str, Any]


# ------------------------------------------------------------------------------------ request bodies

def _check_id(value: Any) -> Any:
    """An id is echoed back: a string, an integer or null (not a float, bool, list or object)."""
    if value is None or isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise ValueError(f"must be a string, an integer or null, got {type(value).__name__}")


ItemId = Annotated[str | int | None, BeforeValidator(_check_id)]


class QuoteIn(BaseModel):
    """One quote to score. Unknown fields are ignored (and not echoed)."""

    model_config = ConfigDict(extra="ignore")

    text: StrictStr = Field(
        description=f"The quoted statement, at most {MAX_TEXT_CHARS} characters (longer: HTTP 413). "
                    "A blank text is answered with an `error` in its result, not an HTTP error.",
        json_schema_extra={"maxLength": MAX_TEXT_CHARS},
    )
    target: StrictStr | None = Field(
        None, description="The deployment the quote is about (e.g. `US troops in Iraq`); "
                          "absent, null or blank: the model's default target.")
    id: ItemId = Field(None, description="Any string or integer; echoed back in the result.")


class PredictRequest(BaseModel):
    """Quotes to score. Only ``quotes`` is accepted: a request cannot choose the model."""

    model_config = ConfigDict(extra="forbid")

    quotes: list[QuoteIn] = Field(
        description=f"At most {MAX_ITEMS} quotes (more: HTTP 413).", json_schema_extra={"maxItems": MAX_ITEMS})


class ArticleIn(BaseModel):
    """One article whose direct quotations are extracted, attributed and scored."""

    model_config = ConfigDict(extra="ignore")

    id: ItemId = Field(None, description="The article's id, carried as `article_id` (and in `quote_id`) of its "
                                         "rows; defaults to its position in the request.")
    text: StrictStr = Field(description="The article's text; paragraphs are non-blank lines.")


class ExtractRequest(BaseModel):
    """Articles to extract quotes from. A request cannot choose the model."""

    model_config = ConfigDict(extra="forbid")

    articles: list[ArticleIn] = Field(
        description=f"At most {MAX_ITEMS} articles (more: HTTP 413).", json_schema_extra={"maxItems": MAX_ITEMS})
    per_sentence: bool = Field(False, description="One row per sentence of each quote (with `sentence_index`).")


# ----------------------------------------------------------------------------------- response bodies

class Scores(BaseModel):
    stance: str | None = Field(None, description="The most probable stance label; null when `error` is set.")
    stance_probs: dict[str, float] | None = Field(None, description="Stance label -> calibrated probability.")
    sentiment: str | None = Field(None, description="The most probable sentiment label; null when `error` is set.")
    sentiment_probs: dict[str, float] | None = Field(None, description="Sentiment label -> calibrated probability.")
    truncated: bool | None = Field(None, description="True when the quote is longer than the model reads.")
    error: str | None = Field(None, description="Why this item was not scored (it is not an HTTP error).")


class _QuoteId(BaseModel):
    id: str | int | None = Field(None, description="The quote's `id`, as sent.")


class QuoteResult(Scores, _QuoteId):
    """The quote's ``id``, then its scores (or its ``error``)."""


class PredictResponse(BaseModel):
    results: list[QuoteResult] = Field(description="One result per quote, in request order.")


class _QuotePlace(BaseModel):
    article_id: str | None = Field(None, description="The article's id.")
    quote_id: str | None = Field(None, description="`<article_id>:<k>`, k counting the article's quotes from 0.")
    speaker: str | None = Field(None, description="Who said it, as named in the article; null when unattributed.")
    paragraph: int | None = Field(None, description="Index of the paragraph (non-blank line) holding the quote.")
    sentence_index: int | None = Field(None, description="With `per_sentence`: the sentence's index in its quote.")
    text: str | None = Field(None, description="The quoted words (or sentence).")
    start: int | None = Field(None, description="Character offset in the article: `article[start:end] == text`.")
    end: int | None = Field(None, description="Character offset just past the quote in the article.")


class ExtractedQuote(Scores, _QuotePlace):
    """Where the quote is and who said it, then its scores (or its ``error``)."""


class ExtractResponse(BaseModel):
    results: list[ExtractedQuote] = Field(description="The quotes of every article, articles and quotes in order.")


class HeadlineMetrics(BaseModel):
    macro_f1: dict[str, dict[str, float | None]] = Field(
        default_factory=dict, description="Split (validation, test) -> head -> macro-F1 over all sources.")
    calibration: dict[str, Any] | None = Field(None, description="The `calibration` section of metrics.json, if any.")


class ModelInfo(BaseModel):
    model_name: str = Field(description="The served model folder's name.")
    quotestance_version: str
    base_model: str | None
    training_date: str | None
    backend: str = Field(description="The inference backend, e.g. `torch-fp32` or `onnx-int8`.")
    labels: dict[str, list[str]] = Field(description="Head -> label order of its probabilities.")
    default_target: str
    max_length: int = Field(description="Tokens read per (quote, target) pair; longer quotes are `truncated`.")
    metrics: HeadlineMetrics | None = Field(description="Headline metrics from metrics.json; null if absent.")
    limits: dict[str, int]


class Health(BaseModel):
    status: str


class ErrorResponse(BaseModel):
    detail: str = Field(description="What was wrong, naming the field or the limit.")
    errors: list[dict[str, Any]] | None = Field(
        None, description="HTTP 422: one entry per problem (field, message, type).")
    limit: dict[str, Any] | None = Field(None, description="HTTP 413: the limit's name and value.")


_ERRORS = {
    413: {"model": ErrorResponse, "description": "A limit was exceeded (items, characters per quote or body size)."},
    422: {"model": ErrorResponse, "description": "The body is not JSON or not of the documented shape."},
    500: {"model": ErrorResponse, "description": "Scoring failed (the server log says why)."},
    503: {"model": ErrorResponse, "description": "The server is shutting down."},
}


# -------------------------------------------------------------------------------------- limits, errors

class LimitExceeded(Exception):
    """A request over one of the service limits: answered with HTTP 413."""

    def __init__(self, message: str, name: str, value: int):
        super().__init__(message)
        self.name, self.value = name, value


def _limit_response(err: LimitExceeded) -> JSONResponse:
    return JSONResponse({"detail": str(err), "limit": {"name": err.name, "value": err.value}}, status_code=413)


def _text_of(item: Any) -> Any:
    return item.get("text") if isinstance(item, dict) else getattr(item, "text", None)


def check_limits(key: str, items: Any) -> None:
    """Raise :class:`LimitExceeded` if ``items`` (validated or raw JSON) break the item or text limits."""
    if not isinstance(items, list):
        return
    if len(items) > MAX_ITEMS:
        raise LimitExceeded(f"{len(items)} {key} in one request; the limit is {MAX_ITEMS} {key} per request",
                            f"max_{key}", MAX_ITEMS)
    if key != "quotes":
        return
    for i, item in enumerate(items):
        text = _text_of(item)
        if isinstance(text, str) and len(text) > MAX_TEXT_CHARS:
            raise LimitExceeded(f"quotes[{i}].text has {len(text)} characters; the limit is {MAX_TEXT_CHARS} "
                                "characters per quote", "max_quote_chars", MAX_TEXT_CHARS)


def _field_name(loc: tuple | list) -> str:
    parts = list(loc[1:] if loc and loc[0] == "body" else loc)
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or "body"


def _describe(error: dict[str, Any], body: Any) -> dict[str, Any]:
    kind = error.get("type", "")
    if kind == "json_invalid":
        position = error.get("loc", ("body", None))[-1]
        reason = (error.get("ctx") or {}).get("error", "JSON decode error")
        return {"field": "body", "message": f"not valid JSON: {reason} (character {position})", "type": kind}
    field_name = _field_name(tuple(error.get("loc", ())))
    message = str(error.get("msg", "invalid"))
    if field_name == "body" and isinstance(body, (bytes, bytearray)):
        message = "expected a JSON object (send it with Content-Type: application/json)"
    elif kind == "missing":
        message = "field required"
    elif kind == "extra_forbidden":
        message = "unknown field (the request takes only the documented fields; the model cannot be chosen)"
    return {"field": field_name, "message": message, "type": kind}


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):  # the limits take precedence over the shape: too much is 413 either way
        try:
            for key in ("quotes", "articles"):
                check_limits(key, body.get(key))
        except LimitExceeded as err:
            return _limit_response(err)
    errors = [_describe(error, body) for error in exc.errors()]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    if len(errors) > 5:
        detail += f"; and {len(errors) - 5} more"
    return JSONResponse({"detail": detail or "invalid request", "errors": errors}, status_code=422)


async def _limit_exceeded(request: Request, exc: LimitExceeded) -> JSONResponse:
    return _limit_response(exc)


class BodyLimitMiddleware:
    """Answer 413 to a body over ``max_bytes``, by its Content-Length and by the bytes actually sent.

    The body (at most ``max_bytes``) is read here and replayed to the app, so a chunked upload with no
    Content-Length, or one longer than it claimed, is cut off at the limit as well.
    """

    def __init__(self, app, max_bytes: int = MAX_BODY_BYTES):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    continue
                if declared > self.max_bytes:
                    await self._reject(send, f"its Content-Length is {declared} bytes")
                    return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._reject(send, f"more than {self.max_bytes} bytes were sent")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body, replayed = b"".join(chunks), False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _reject(self, send, why: str) -> None:
        limit = self.max_bytes
        payload = json.dumps({
            "detail": f"request body too large ({why}); the limit is {limit} bytes ({limit / 2**20:g} MB)",
            "limit": {"name": "max_body_bytes", "value": limit},
        }, separators=(",", ":")).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": payload})


# -------------------------------------------------------------------------------------- micro-batching

class ShuttingDown(RuntimeError):
    """The server stopped before a queued request was scored."""


@dataclass
class _Job:
    rows: list[Row]
    future: asyncio.Future = field(repr=False)


class MicroBatcher:
    """Gathers the rows of concurrent requests into one ``score_rows`` call.

    One background task takes the first waiting request, then keeps collecting requests until
    ``max_batch`` rows or ``max_wait_ms`` have passed, scores them all in a worker thread and hands
    each request its slice. A request larger than ``max_batch`` is scored whole, on its own.
    """

    def __init__(self, predictor: StancePredictor, max_batch: int, max_wait_ms: float, state: Any):
        self.predictor = predictor
        self.max_batch = max_batch
        self.max_wait = max_wait_ms / 1000.0
        self.state = state  # app.state: batches_run, requests_scored and rows_scored are kept there
        self.state.batches_run = 0
        self.state.requests_scored = 0
        self.state.rows_scored = 0
        self._queue: asyncio.Queue[_Job] | None = None
        self._task: asyncio.Task | None = None
        self._carry: _Job | None = None
        self._active: list[_Job] = []

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        self._queue = asyncio.Queue()
        self._task = asyncio.create_task(self._run(), name="quotestance-batcher")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        waiting = [*self._active, *([self._carry] if self._carry else [])]
        self._active, self._carry = [], None
        while self._queue is not None and not self._queue.empty():
            waiting.append(self._queue.get_nowait())
        for job in waiting:
            if not job.future.done():
                job.future.set_exception(ShuttingDown("the server is shutting down"))

    async def score(self, rows: list[Row]) -> list[Row]:
        """The scored rows, in order: batched with other requests when the worker runs."""
        if not rows:
            return []
        if not self.running:  # no lifespan (e.g. a TestClient outside "with"): score this request alone
            return await self._score_batch([rows])
        future = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Job(rows, future))
        return await future

    async def _score_batch(self, parts: list[list[Row]]) -> list[Row]:
        rows = [row for part in parts for row in part]
        scored = await asyncio.to_thread(score_rows, self.predictor, rows)
        self.state.batches_run += 1
        self.state.requests_scored += len(parts)
        self.state.rows_scored += len(rows)
        return scored

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            job = self._carry or await self._queue.get()
            self._carry = None
            jobs, size = [job], len(job.rows)
            deadline = loop.time() + self.max_wait
            while size < self.max_batch:
                following = await self._next(deadline)
                if following is None:
                    break
                if following.future.done():  # its request was cancelled meanwhile
                    continue
                if size + len(following.rows) > self.max_batch:
                    self._carry = following  # first in the next batch
                    break
                jobs.append(following)
                size += len(following.rows)
            self._active = [j for j in jobs if not j.future.done()]
            if not self._active:
                continue
            try:
                scored = await self._score_batch([j.rows for j in self._active])
            except Exception as err:  # noqa: BLE001 - every waiting request gets the failure
                log.exception("scoring a batch of %d rows failed", size)
                for j in self._active:
                    if not j.future.done():
                        j.future.set_exception(err)
            else:
                offset = 0
                for j in self._active:
                    if not j.future.done():
                        j.future.set_result(scored[offset:offset + len(j.rows)])
                    offset += len(j.rows)
            self._active = []

    async def _next(self, deadline: float) -> _Job | None:
        """The next waiting request, waiting for one until ``deadline``; None if none came."""
        try:
            return self._queue.get_nowait()
        except asyncio.QueueEmpty:
            pass
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            return None
        getter = asyncio.ensure_future(self._queue.get())
        try:
            await asyncio.wait({getter}, timeout=remaining)
            if not getter.done():
                getter.cancel()  # a cancelled Queue.get leaves its item in the queue
                await asyncio.wait({getter})  # raises only if this task itself is cancelled
        finally:
            if not getter.done():
                getter.cancel()
        return None if getter.cancelled() else getter.result()


# ------------------------------------------------------------------------------------------------ app

def _finite(value: Any) -> Any:
    """``value`` with NaN and infinities as None, so it can be sent as strict JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value


def read_headline_metrics(model_dir: Path) -> dict[str, Any] | None:
    """Validation and test macro-F1 of each head (over all sources), plus ``calibration`` if present."""
    path = model_dir / "metrics.json"
    if not path.is_file():
        return None
    try:
        metrics = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        log.warning("cannot read %s: %s", path, err)
        return None
    headline: dict[str, Any] = {"macro_f1": {}, "calibration": None}
    for split in ("validation", "test"):
        overall = (metrics.get(split) or {}).get("all") or {}
        if overall:
            headline["macro_f1"][split] = {task: (overall.get(task) or {}).get("macro_f1")
                                           for task in ("stance", "sentiment")}
    if isinstance(metrics.get("calibration"), dict):
        headline["calibration"] = metrics["calibration"]
    return _finite(headline)


def _prepared(rows: list[Row]) -> list[Row]:
    """Rows with their problem (numbered within this request, from 1) set as ``error`` before batching."""
    for number, row in enumerate(rows, 1):
        problem = row_problem(row, number)
        if problem:
            row["error"] = problem
    return rows


def _article_rows(body: ExtractRequest) -> list[Row]:
    """The unscored quote rows of every article, in order; a blank article gives one error row."""
    rows: list[Row] = []
    for index, article in enumerate(body.articles):
        article_id = str(index if article.id is None else article.id)
        if article.text.strip():
            rows.extend(quote_rows({"id": article_id, "text": article.text}, per_sentence=body.per_sentence))
        else:
            rows.append({"article_id": article_id, "error": f"article {article_id}: field 'text' is empty"})
    return rows


def create_app(model_dir: str | Path, *, backend: str = "auto", max_batch: int = 64, max_wait_ms: float = 5.0,
               threads: int | None = None) -> FastAPI:
    """A FastAPI app serving the model in ``model_dir``, loaded once, here; no request can change it."""
    if max_batch < 1:
        raise ValueError(f"max_batch must be at least 1, got {max_batch}")
    if not max_wait_ms >= 0:
        raise ValueError(f"max_wait_ms must be 0 or more, got {max_wait_ms}")
    model_dir = Path(model_dir).resolve()
    predictor = StancePredictor.load(model_dir, backend=backend, threads=threads)
    metrics = read_headline_metrics(model_dir)
    config = predictor.config
    info = ModelInfo(
        model_name=model_dir.name, quotestance_version=quotestance.__version__,
        base_model=getattr(config, "base_model", None), training_date=getattr(config, "training_date", None),
        backend=predictor.backend_name, labels=predictor.labels, default_target=predictor.default_target,
        max_length=predictor.max_length, metrics=metrics,
        limits={"max_quotes": MAX_ITEMS, "max_articles": MAX_ITEMS, "max_quote_chars": MAX_TEXT_CHARS,
                "max_body_bytes": MAX_BODY_BYTES, "max_batch": max_batch},
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await app.state.batcher.start()
        try:
            yield
        finally:
            await app.state.batcher.stop()

    app = FastAPI(
        title="quotestance",
        version=quotestance.__version__,
        summary="Stance toward a foreign military presence, and sentiment, of quoted statements.",
        description=(
            f"Serves the model `{model_dir.name}` ({predictor.backend_name}). Limits: {MAX_ITEMS} quotes or "
            f"articles per request, {MAX_TEXT_CHARS} characters per quote, {MAX_BODY_BYTES // 2**20} MB per body "
            "(HTTP 413 beyond them); a malformed body is HTTP 422 naming the field."
        ),
        lifespan=lifespan,
    )
    app.state.model_dir = model_dir
    app.state.predictor = predictor
    app.state.batcher = MicroBatcher(predictor, max_batch, max_wait_ms, app.state)
    app.add_middleware(BodyLimitMiddleware, max_bytes=MAX_BODY_BYTES)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(LimitExceeded, _limit_exceeded)

    async def run(rows: list[Row]) -> list[Row] | JSONResponse:
        try:
            return await app.state.batcher.score(_prepared(rows))
        except ShuttingDown as err:
            return JSONResponse({"detail": str(err)}, status_code=503)
        except Exception:  # noqa: BLE001 - logged where the batch failed; the client gets JSON, not a traceback
            log.exception("scoring failed")
            return JSONResponse({"detail": "scoring failed; the server log says why"}, status_code=500)

    @app.post("/v1/predict", response_model=PredictResponse, responses=_ERRORS, tags=["scoring"],
              summary="Score quotes: stance and sentiment of each")
    async def predict(body: PredictRequest):
        """One result per quote, in request order, with the quote's `id`. A quote with a blank text gets
        an `error` (and null labels); the others are scored."""
        check_limits("quotes", body.quotes)
        rows = [{"id": q.id, "text": q.text, "target": q.target} for q in body.quotes]
        scored = await run(rows)
        if isinstance(scored, JSONResponse):
            return scored
        return {"results": [{"id": row.get("id"), **{key: row.get(key) for key in OUTPUT_FIELDS}} for row in scored]}

    @app.post("/v1/extract", response_model=ExtractResponse, responses=_ERRORS, tags=["scoring"],
              summary="Extract, attribute and score the quotes of articles")
    async def extract(body: ExtractRequest):
        """Direct quotations of each article with their speaker and character offsets, scored like
        `/v1/predict`: the rows of `predict.py --articles`. An article without quotes yields no rows;
        one with a blank text yields one row with an `error`."""
        check_limits("articles", body.articles)
        # Extraction is plain Python over up to 2 MB of text: off the event loop, like scoring.
        scored = await run(await asyncio.to_thread(_article_rows, body))
        if isinstance(scored, JSONResponse):
            return scored
        return {"results": scored}

    @app.get("/healthz", response_model=Health, tags=["service"], summary="Liveness check")
    async def healthz():
        return {"status": "ok"}

    @app.get("/v1/model", response_model=ModelInfo, tags=["service"],
             summary="The served model: labels, versions, backend and headline metrics")
    async def model():
        return info

    return app


def app_from_env() -> FastAPI:
    """App factory for uvicorn workers (``--factory``): the model folder and options come from the environment."""
    model_dir = os.environ.get(ENV_MODEL)
    if not model_dir:
        raise RuntimeError(f"{ENV_MODEL} is not set: it names the model folder to serve")
    threads = os.environ.get(ENV_THREADS)
    return create_app(
        model_dir, backend=os.environ.get(ENV_BACKEND, "auto"),
        max_batch=int(os.environ.get(ENV_MAX_BATCH, "64")), max_wait_ms=float(os.environ.get(ENV_MAX_WAIT_MS, "5")),
        threads=int(threads) if threads else None,
    )


# ---------------------------------------------------------------------------------------- command line

def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="trained model folder to serve (fixed for the server's life)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    parser.add_argument("--workers", type=int, default=1, help="server processes, each with its own copy of the model")
    parser.add_argument("--backend", default="auto", choices=list(BACKENDS),
                        help="inference backend (default auto: an exported ONNX graph if present, else PyTorch)")
    parser.add_argument("--threads", type=int, default=None,
                        help="CPU threads per worker (default: all cores, divided among --workers)")
    parser.add_argument("--max-batch", type=int, default=64, help="quotes gathered into one forward pass (default 64)")
    parser.add_argument("--max-wait-ms", type=float, default=5.0,
                        help="how long the first waiting request waits for others to join its batch (default 5)")
    parser.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])


def run_serve(args: argparse.Namespace, run: Callable[..., Any] | None = None) -> int:
    """Start uvicorn as ``args`` say; ``run`` stands in for ``uvicorn.run`` (tests)."""
    if run is None:
        import uvicorn

        run = uvicorn.run
    if args.workers < 1:
        raise ValueError("serve: --workers must be at least 1")
    if not 0 <= args.port <= 65535:
        raise ValueError(f"serve: --port must be 0 to 65535, got {args.port}")
    if args.max_batch < 1 or args.max_wait_ms < 0:
        raise ValueError("serve: --max-batch must be at least 1 and --max-wait-ms 0 or more")
    if args.threads is not None and args.threads < 1:
        raise ValueError("serve: --threads must be at least 1")
    model_dir = Path(args.model).resolve()
    threads = args.threads
    if threads is None and args.workers > 1:
        threads = max(1, (os.cpu_count() or 1) // args.workers)
    options = {"host": args.host, "port": args.port, "log_level": args.log_level}
    if args.workers == 1:
        app = create_app(model_dir, backend=args.backend, max_batch=args.max_batch, max_wait_ms=args.max_wait_ms,
                         threads=threads)
        print(f"serving {model_dir.name} ({app.state.predictor.backend_name}) on http://{args.host}:{args.port}",
              file=sys.stderr)
        run(app, **options)
        return 0
    if not (model_dir / "config.json").is_file() or not (model_dir / "model.safetensors").is_file():
        raise FileNotFoundError(f"no trained model in {model_dir} (expected config.json and model.safetensors)")
    os.environ.update({ENV_MODEL: str(model_dir), ENV_BACKEND: args.backend, ENV_MAX_BATCH: str(args.max_batch),
                       ENV_MAX_WAIT_MS: str(args.max_wait_ms), ENV_THREADS: str(threads)})
    print(f"serving {model_dir.name} with {args.workers} workers on http://{args.host}:{args.port}", file=sys.stderr)
    run("quotestance.serve:app_from_env", factory=True, workers=args.workers, **options)
    return 0


def main(argv: list[str] | None = None) -> int:
    """``quotestance serve --model DIR [--host 127.0.0.1] [--port 8000] [--workers N] [--backend auto]``."""
    parser = argparse.ArgumentParser(prog="quotestance serve",
                                     description="serve a model folder over HTTP (POST /v1/predict, /v1/extract)")
    add_serve_arguments(parser)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    from quotestance.cli import _quiet_libraries

    _quiet_libraries()
    try:
        return run_serve(args)
    except (FileNotFoundError, ValueError, RuntimeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
