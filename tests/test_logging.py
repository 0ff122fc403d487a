"""Structured logs: one JSON line per request, request ids, tracebacks kept server-side."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest

import config
from app import create_app
from app.observability import REQUEST_ID_HEADER, StderrHandler, json_formatter
from tests.conftest import Config, database_url

GENERATED_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def log_lines(app):
    """The JSON lines the app writes while the test runs, formatted as in production."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    ours = next(h for h in logging.getLogger().handlers if isinstance(h, StderrHandler))
    handler.setFormatter(json_formatter())
    for log_filter in ours.filters:
        handler.addFilter(log_filter)
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)


def request_lines(lines):
    return [line for line in lines if line["logger"] == "app.request"]


def test_a_request_writes_one_json_line_with_its_route_template_and_user(user, log_lines):
    account = user.account()

    user.get(user.url("accounts", account["id"]))

    line = request_lines(log_lines())[-1]
    assert line["method"] == "GET"
    assert line["path"] == "/users/<int:user_id>/accounts/<int:account_id>"
    assert line["status"] == 200
    assert line["user_id"] == user.id
    assert isinstance(line["duration_ms"], float)
    assert line["level"] == "INFO"
    assert GENERATED_ID.fullmatch(line["request_id"])


def test_an_anonymous_request_logs_no_user_id(client, log_lines):
    client.get("/users/me/")

    line = request_lines(log_lines())[-1]
    assert line["status"] == 401
    assert line["user_id"] is None


def test_a_request_matching_no_route_logs_a_fixed_path(client, log_lines):
    client.get("/no/such/page/12345")

    line = request_lines(log_lines())[-1]
    assert line["status"] == 404
    assert line["path"] == "<unmatched>"


def test_a_valid_request_id_is_kept_logged_and_echoed(client, log_lines):
    response = client.get("/openapi.json", headers={REQUEST_ID_HEADER: "req-42.abc:def"})

    assert response.headers[REQUEST_ID_HEADER] == "req-42.abc:def"
    assert request_lines(log_lines())[-1]["request_id"] == "req-42.abc:def"


def test_a_request_without_an_id_gets_a_generated_one(client):
    first = client.get("/openapi.json").headers[REQUEST_ID_HEADER]
    second = client.get("/openapi.json").headers[REQUEST_ID_HEADER]

    assert GENERATED_ID.fullmatch(first) and GENERATED_ID.fullmatch(second)
    assert first != second


@pytest.mark.parametrize(
    "bad_id",
    ["x" * 129, "has space", 'quote"s', "semi;colon", "new\\nline", "<script>"],
)
def test_an_unsafe_or_overlong_request_id_is_replaced(client, log_lines, bad_id):
    response = client.get("/openapi.json", headers={REQUEST_ID_HEADER: bad_id})

    echoed = response.headers[REQUEST_ID_HEADER]
    assert GENERATED_ID.fullmatch(echoed)
    assert request_lines(log_lines())[-1]["request_id"] == echoed


def test_an_error_response_still_carries_the_request_id(client):
    response = client.post("/users/", data="x", content_type="text/plain")

    assert response.status_code == 415
    assert GENERATED_ID.fullmatch(response.headers[REQUEST_ID_HEADER])


def test_an_unexpected_error_is_logged_with_traceback_but_answered_without_one(log_lines):
    # A fresh app: the shared one has served requests and takes no new routes.
    broken = create_app(Config(database_url()))

    @broken.get("/boom")
    def boom():
        raise RuntimeError("kaboom-secret-detail")

    response = broken.test_client().get("/boom", headers={REQUEST_ID_HEADER: "boom-1"})

    assert response.status_code == 500
    assert response.json["message"] == "An unexpected error occurred."
    assert "kaboom" not in response.get_data(as_text=True)
    error = next(line for line in log_lines() if line["level"] == "ERROR")
    assert error["message"] == "Unhandled exception"
    assert "Traceback" in error["exc_info"]
    assert "RuntimeError: kaboom-secret-detail" in error["exc_info"]
    assert error["request_id"] == "boom-1"


def test_log_level_comes_from_the_config(monkeypatch):
    monkeypatch.setenv("LOG_LEVEL", "warning")
    root = logging.getLogger()
    before = root.level
    try:
        create_app(config.TestingConfig())
        assert root.level == logging.WARNING
    finally:
        root.setLevel(before)
