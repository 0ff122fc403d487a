"""Logs and metrics: what an operator sees of a running app.

- Every log record is one JSON line on stderr (python-json-logger), at `LOG_LEVEL`, carrying the
  request id when it is written during a request; exceptions keep their traceback there and
  never in a response (app.errors answers with the one error shape).
- Every request writes one line on the `app.request` logger: method, path template (the URL
  rule, so `/users/<int:user_id>/accounts/` rather than each user's path), status,
  duration_ms, user_id (when a valid token came with it) and request_id.
- `X-Request-ID`: a caller's (or proxy's) id is kept when it is short and made of safe
  characters, otherwise one is generated; either way it is echoed on the response.
- `/metrics` (Prometheus text format) when `METRICS_ENABLED`: request counts and durations by
  method, path template and status. Under gunicorn, set `PROMETHEUS_MULTIPROC_DIR` to an empty
  directory so that every worker's numbers are added up (prometheus_client multiprocess mode).
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid

from flask import Flask, Response, current_app, g, has_request_context, request
from flask.logging import default_handler
from flask_jwt_extended import get_jwt
from pythonjsonlogger.json import JsonFormatter

REQUEST_ID_HEADER = "X-Request-ID"
#: What a client-supplied request id may look like: UUIDs, ULIDs, trace ids. Anything else (too
#: long, spaces, quotes, control characters) is replaced, so it cannot forge or bloat log lines.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:@-]{1,128}")
#: The path template of a request that matched no route (a 404 or a 405 before routing).
UNMATCHED = "<unmatched>"

request_log = logging.getLogger("app.request")


class StderrHandler(logging.StreamHandler):
    """A handler that writes to whatever sys.stderr is at the time of each record.

    A plain StreamHandler keeps the stream it was created with, which test runners swap out.
    """

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass  # always sys.stderr


class RequestIdFilter(logging.Filter):
    """Adds the current request's id to every record written while serving a request."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id") and has_request_context():
            record.request_id = g.get("request_id")
        return True


def json_formatter() -> JsonFormatter:
    return JsonFormatter(
        "%(levelname)s %(name)s %(message)s",
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp="time",  # ISO 8601, UTC, microseconds
    )


def configure_logging(level: str) -> None:
    """One JSON handler on the root logger, replacing ours from an earlier create_app."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, StderrHandler):
            root.removeHandler(handler)
    handler = StderrHandler()
    handler.setFormatter(json_formatter())
    handler.addFilter(RequestIdFilter())
    root.addHandler(handler)
    root.setLevel(level)
    # Alembic announces every migration context at INFO; keep its real work only.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def request_id_from(header: str | None) -> str:
    if header and REQUEST_ID_PATTERN.fullmatch(header):
        return header
    return uuid.uuid4().hex


def path_template() -> str:
    return request.url_rule.rule if request.url_rule is not None else UNMATCHED


def authenticated_user_id() -> int | None:
    """The caller's id if a token was verified for this request (flask-jwt-extended sets the
    claims only once the token and its user checked out); no database query."""
    try:
        subject = get_jwt().get("sub")
    except RuntimeError:
        return None
    return int(subject) if subject is not None and str(subject).isdigit() else None


def start_request() -> None:
    g.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
    g.request_started = time.perf_counter()


def finish_request(response: Response) -> Response:
    started = g.get("request_started")
    duration = time.perf_counter() - started if started is not None else 0.0
    template = path_template()
    # The line's fields only when it is written (LOG_LEVEL=WARNING writes none).
    if request_log.isEnabledFor(logging.INFO):
        request_log.info(
            "%s %s %s",
            request.method,
            template,
            response.status_code,
            extra={
                "method": request.method,
                "path": template,
                "status": response.status_code,
                "duration_ms": round(duration * 1000, 2),
                "user_id": authenticated_user_id(),
            },
        )
    response.headers[REQUEST_ID_HEADER] = g.get("request_id") or request_id_from(None)
    metrics = current_app.extensions.get("prometheus_metrics")
    if metrics is not None:
        metrics.observe(request.method, template, response.status_code, duration)
    return response


class Metrics:
    """Prometheus request counters and durations."""

    def __init__(self) -> None:
        from prometheus_client import Counter, Histogram

        labels = ("method", "path", "status")
        self.requests = Counter("http_requests_total", "HTTP requests served.", labels)
        self.duration = Histogram(
            "http_request_duration_seconds", "Time spent serving HTTP requests.", labels
        )

    def observe(self, method: str, path: str, status: int, seconds: float) -> None:
        self.requests.labels(method, path, status).inc()
        self.duration.labels(method, path, status).observe(seconds)


#: One per process: prometheus_client's registry refuses a second metric of the same name.
_metrics: Metrics | None = None


def metrics_view() -> Response:
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

    registry = REGISTRY
    if current_app.config["PROMETHEUS_MULTIPROC_DIR"]:
        from prometheus_client import CollectorRegistry, multiprocess

        # Each gunicorn worker writes its numbers to files there; add them all up.
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def register_observability(app: Flask) -> None:
    """Call first in create_app, so the request id exists before any other hook runs and the
    request line is written after every other after_request hook."""
    global _metrics
    configure_logging(app.config["LOG_LEVEL"])
    # Flask adds its own plain-text handler to the "app" logger unless one is already there.
    logging.getLogger(app.name).removeHandler(default_handler)
    app.before_request(start_request)
    app.after_request(finish_request)
    if app.config["METRICS_ENABLED"]:
        if _metrics is None:
            _metrics = Metrics()
        app.extensions["prometheus_metrics"] = _metrics
        # Added before register_http_rules sets the app-wide default, hence strict_slashes.
        app.add_url_rule("/metrics", "metrics", metrics_view, methods=["GET"], strict_slashes=False)
