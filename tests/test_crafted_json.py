"""Crafted JSON (issue 14, point 4): bodies the decoder cannot turn into data — nested a
thousand deep, or an integer past Python's 4,300-digit conversion limit — are a 400 in the one
error shape, before authentication, with one log line (the request's) and no traceback.
"""

from __future__ import annotations

import pytest

from tests.test_logging import log_lines, request_lines  # noqa: F401 - a fixture

NESTED = "[" * 1000 + "]" * 1000
HUGE_INTEGER = '{"username": "alice", "password": "correct horse battery", "x": ' + "9" * 4301 + "}"


def assert_bad_json(response, reason: str) -> None:
    assert response.status_code == 400, response.json
    assert response.json["code"] == 400
    assert response.json["status"] == "Bad Request"
    assert response.json["message"] == "The body is not valid JSON."
    assert reason in response.json["errors"]["json"][0]
    assert "Traceback" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "body, reason",
    [
        (NESTED, "nested deeper than 32 levels"),
        ('{"username": ' + NESTED + "}", "nested deeper than 32 levels"),
        ("[" * 100_000 + "]" * 100_000, "nested deeper than 32 levels"),
        (HUGE_INTEGER, "more than 4,300 digits"),
    ],
    ids=["arrays", "in-a-field", "deeper-still", "4301-digits"],
)
def test_crafted_json_is_a_400_before_authentication(client, log_lines, body, reason):  # noqa: F811
    response = client.post("/users/", data=body, content_type="application/json")
    assert_bad_json(response, reason)
    lines = log_lines()
    assert [line["status"] for line in request_lines(lines)] == [400]
    assert len(lines) == 1, lines
    assert not any("exc_info" in line for line in lines)


def test_an_integer_of_4300_digits_is_read_and_refused_as_a_value(client):
    body = '{"username": "alice", "password": "correct horse battery", "email": ' + "9" * 4300
    response = client.post("/users/", data=body + "}", content_type="application/json")
    assert response.status_code == 422
    assert "email" in response.json["errors"]["json"]


def test_32_levels_are_read(client):
    body = '{"username": ' + "[" * 31 + "]" * 31 + ', "password": "correct horse battery"}'
    response = client.post("/users/", data=body, content_type="application/json")
    assert response.status_code == 422
    assert "username" in response.json["errors"]["json"]


@pytest.mark.parametrize("body", [NESTED, HUGE_INTEGER])
def test_crafted_json_with_an_idempotency_key_is_a_400_too(user, account, body):
    """The Idempotency-Key fingerprint reads the body as JSON as well."""
    response = user.client.post(
        user.url("transactions"),
        data=body,
        content_type="application/json",
        headers={**user.headers, "Idempotency-Key": "crafted-1"},
    )
    assert response.status_code == 400, response.json
    assert response.json["message"] == "The body is not valid JSON."
