"""OWASP API4 (resource consumption): failed logins are limited per username and per client IP,
registration per IP, with Flask-Limiter (API.md, Conventions).

Each test builds an app with small limits from a config subclass (the suite's own app has them
switched high). Flask-Limiter's `limiter` is one object: building an app gives it a fresh
in-memory storage, so every test starts from zero counts. The last test runs real gunicorn
workers that share their counts through Redis.
"""

from __future__ import annotations

import logging
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest

from app import create_app
from config import Config as BaseConfig
from tests.conftest import PASSWORD, Config, database_url
from tests.servers import gunicorn, production_env

#: A Redis database of these tests' own; keys carry a per-test prefix besides.
REDIS_URL = "redis://127.0.0.1:6379/6"


class SmallLimits(Config):
    def __init__(self, **settings) -> None:
        super().__init__(database_url())
        self.LOGIN_RATE_LIMIT_USER = "3 per minute"
        self.LOGIN_RATE_LIMIT_IP = "5 per minute"
        self.REGISTER_RATE_LIMIT = "2 per hour"
        for name, value in settings.items():
            setattr(self, name, value)


def limited_client(**settings):
    return create_app(SmallLimits(**settings)).test_client()


def login(client, username: str, password: str, ip: str = "192.0.2.1"):
    return client.post(
        "/token",
        data={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": ip},
    )


def register(client, username: str, ip: str = "192.0.2.1"):
    return client.post(
        "/users/",
        json={"username": username, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": ip},
    )


def assert_too_many(response) -> None:
    assert response.status_code == 429, response.json
    assert response.json["code"] == 429
    assert response.json["status"] == "Too Many Requests"
    assert response.json["message"]
    retry_after = int(response.headers["Retry-After"])
    assert 0 < retry_after <= 3600


@pytest.fixture
def client(app):
    """Overrides conftest's: the small-limit app (same database), built after `app`."""
    return limited_client()


@pytest.fixture
def alice(client):
    assert register(client, "alice", ip="198.51.100.7").status_code == 201
    return "alice"


# -- configuration ----------------------------------------------------------------------------


def test_defaults_are_the_ones_in_api_md(monkeypatch):
    for name in ("LOGIN_RATE_LIMIT_USER", "LOGIN_RATE_LIMIT_IP", "REGISTER_RATE_LIMIT"):
        monkeypatch.delenv(name, raising=False)
    config = BaseConfig()
    assert config.LOGIN_RATE_LIMIT_USER == "5 per minute"
    assert config.LOGIN_RATE_LIMIT_IP == "30 per minute"
    assert config.REGISTER_RATE_LIMIT == "30 per hour"
    assert config.RATELIMIT_STORAGE_URI == "memory://"
    assert config.ALLOW_REGISTRATION is True


def test_limits_and_storage_are_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("LOGIN_RATE_LIMIT_USER", "2 per hour")
    monkeypatch.setenv("LOGIN_RATE_LIMIT_IP", "7 per second")
    monkeypatch.setenv("REGISTER_RATE_LIMIT", "1 per day")
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", REDIS_URL)
    monkeypatch.setenv("ALLOW_REGISTRATION", "false")
    config = BaseConfig()
    assert config.LOGIN_RATE_LIMIT_USER == "2 per hour"
    assert config.LOGIN_RATE_LIMIT_IP == "7 per second"
    assert config.REGISTER_RATE_LIMIT == "1 per day"
    assert config.RATELIMIT_STORAGE_URI == REDIS_URL
    assert config.ALLOW_REGISTRATION is False


# -- failed logins ----------------------------------------------------------------------------


def test_failed_logins_for_one_username_are_limited(client, alice):
    for _ in range(3):
        assert login(client, alice, "wrong password").status_code == 401
    assert_too_many(login(client, alice, "wrong password"))


def test_limited_username_is_refused_even_with_the_right_password(client, alice):
    for _ in range(3):
        login(client, alice, "wrong password")
    assert_too_many(login(client, alice, PASSWORD))


def test_username_limit_holds_across_addresses(client, alice):
    for n in range(3):
        assert login(client, alice, "wrong password", ip=f"192.0.2.{n + 10}").status_code == 401
    assert_too_many(login(client, alice, "wrong password", ip="192.0.2.99"))


def test_username_limit_ignores_case(client, alice):
    for name in ("alice", "ALICE", "Alice"):
        assert login(client, name, "wrong password").status_code == 401
    assert_too_many(login(client, "aLiCe", "wrong password"))


def test_username_limit_does_not_lock_out_other_users(client, alice):
    assert register(client, "bob", ip="198.51.100.8").status_code == 201
    for _ in range(3):
        login(client, alice, "wrong password", ip="192.0.2.1")
    assert login(client, "bob", PASSWORD, ip="192.0.2.2").status_code == 200


def test_unknown_usernames_are_limited_too(client):
    for _ in range(3):
        assert login(client, "nobody", "wrong password").status_code == 401
    assert_too_many(login(client, "nobody", "wrong password"))


def test_successful_logins_do_not_count(client, alice):
    for _ in range(8):  # more than both limits
        assert login(client, alice, PASSWORD).status_code == 200
    assert login(client, alice, "wrong password").status_code == 401


def test_malformed_logins_do_not_count(client, alice):
    for _ in range(8):
        response = client.post("/token", data={"username": alice})  # no password: a 422
        assert response.status_code == 422
    assert login(client, alice, PASSWORD).status_code == 200


def test_failed_logins_from_one_address_are_limited_across_usernames(client):
    for n in range(5):
        assert login(client, f"guess{n}", "wrong password", ip="192.0.2.50").status_code == 401
    assert_too_many(login(client, "guess-next", "wrong password", ip="192.0.2.50"))


def test_address_limit_does_not_block_other_addresses(client, alice):
    for n in range(5):
        login(client, f"guess{n}", "wrong password", ip="192.0.2.50")
    assert login(client, alice, PASSWORD, ip="192.0.2.51").status_code == 200


def test_forwarded_for_header_does_not_dodge_the_address_limit_without_a_proxy(client):
    """PROXY_FIX_X_FOR is 0 by default: X-Forwarded-For is the client's word, not trusted."""
    for n in range(5):
        response = client.post(
            "/token",
            data={"username": f"guess{n}", "password": "wrong password"},
            headers={"X-Forwarded-For": f"203.0.113.{n}"},
            environ_base={"REMOTE_ADDR": "192.0.2.60"},
        )
        assert response.status_code == 401
    assert_too_many(login(client, "guess-next", "wrong password", ip="192.0.2.60"))


def test_a_login_form_too_large_to_read_does_not_lose_the_counts(app, caplog):
    """Flask-Limiter takes any exception while it evaluates a limit for its storage being down:
    it counts in a separate in-memory fallback and, a second later, returns to the storage,
    which never saw those counts. Reading an oversized form for the username key raised 413
    there, so the failed login after it was forgotten and the next one was not refused."""
    client = limited_client(LOGIN_RATE_LIMIT_IP="1 per minute", LOGIN_RATE_LIMIT_USER="100/minute")
    oversized = client.post("/token", data={"username": "a" * (2 * 1024 * 1024), "password": "x"})
    assert oversized.status_code == 413

    assert login(client, "nobody", "wrong password").status_code == 401
    time.sleep(1.1)  # past the second after which Flask-Limiter checks a "dead" storage again
    assert_too_many(login(client, "nobody", "wrong password"))
    complaints = [
        record.getMessage()
        for record in caplog.records
        if record.name == "flask-limiter" and record.levelno >= logging.WARNING
    ]
    assert complaints == []


def test_other_endpoints_are_not_login_limited(client, alice):
    for _ in range(3):
        login(client, alice, "wrong password")
    assert client.get("/openapi.json").status_code == 200


def test_limits_can_be_switched_off(app):
    client = limited_client(RATELIMIT_ENABLED=False)
    try:
        for _ in range(6):
            assert login(client, "nobody", "wrong password").status_code == 401
    finally:
        limited_client()  # the limiter object is shared: switch it back on for later tests


# -- wrong passwords given with a token ------------------------------------------------------


def fresh_token(client, username: str) -> dict:
    response = login(client, username, PASSWORD, ip="198.51.100.7")
    assert response.status_code == 200, response.json
    return {"Authorization": f"Bearer {response.json['access_token']}"}


def change_password(client, headers: dict, current: str):
    body = {"current_password": current, "new_password": "a brand new passphrase"}
    return client.post("/users/me/password", json=body, headers=headers)


def delete_me(client, headers: dict, password: str):
    return client.delete("/users/me/", json={"password": password}, headers=headers)


@pytest.mark.parametrize("check", [change_password, delete_me], ids=["password", "delete"])
def test_wrong_passwords_with_a_token_are_limited_per_user(client, alice, check):
    """A stolen token must not buy unlimited password guesses (then the account for good)."""
    headers = fresh_token(client, alice)
    for _ in range(3):
        assert check(client, headers, "wrong password").status_code == 403
    assert_too_many(check(client, headers, "wrong password"))
    # Limited even when right, as a login is: the guess that hits tells the attacker nothing.
    assert_too_many(check(client, headers, PASSWORD))
    assert login(client, alice, PASSWORD, ip="192.0.2.5").status_code == 429


def test_wrong_passwords_with_a_token_and_failed_logins_count_together(client, alice):
    headers = fresh_token(client, alice)
    for ip in ("192.0.2.20", "192.0.2.21"):
        assert login(client, alice, "wrong password", ip=ip).status_code == 401
    assert change_password(client, headers, "wrong password").status_code == 403
    assert_too_many(delete_me(client, headers, "wrong password"))
    assert_too_many(login(client, alice, "wrong password", ip="192.0.2.22"))


def test_right_passwords_and_bad_bodies_with_a_token_do_not_count(client, alice):
    headers = fresh_token(client, alice)
    for _ in range(4):
        response = client.post("/users/me/password", json={}, headers=headers)  # a 422
        assert response.status_code == 422
    assert change_password(client, headers, PASSWORD).status_code == 204


def test_one_users_wrong_passwords_do_not_limit_another(client, alice):
    assert register(client, "bob", ip="198.51.100.8").status_code == 201
    headers = fresh_token(client, alice)
    for _ in range(3):
        change_password(client, headers, "wrong password")
    bob = fresh_token(client, "bob")
    assert change_password(client, bob, "wrong password").status_code == 403
    assert delete_me(client, bob, PASSWORD).status_code == 204


# -- registration -----------------------------------------------------------------------------


def test_registration_is_limited_per_address(client):
    assert register(client, "first", ip="192.0.2.70").status_code == 201
    assert register(client, "second", ip="192.0.2.70").status_code == 201
    assert_too_many(register(client, "third", ip="192.0.2.70"))
    assert register(client, "fourth", ip="192.0.2.71").status_code == 201


def test_registration_limit_does_not_touch_login_or_reads(client):
    for name in ("first", "second"):
        register(client, name, ip="192.0.2.70")
    assert_too_many(register(client, "third", ip="192.0.2.70"))
    assert login(client, "first", PASSWORD, ip="192.0.2.70").status_code == 200


def test_closed_registration_is_403(app):
    client = limited_client(ALLOW_REGISTRATION=False)
    response = register(client, "newcomer")
    assert response.status_code == 403
    assert response.json["code"] == 403 and response.json["message"]
    assert login(client, "newcomer", PASSWORD).status_code == 401


def test_closed_registration_still_lets_existing_users_log_in(app, alice):
    client = limited_client(ALLOW_REGISTRATION=False)
    assert login(client, alice, PASSWORD).status_code == 200


# -- shared across gunicorn workers through Redis ---------------------------------------------


def redis_client():
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis at 127.0.0.1:6379 (.ci/run starts one)")
    return client


def free_port() -> int:
    """A port nothing listens on now: other test runs on this machine use the fixed ones."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def http_post(port: int, path: str, data: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=urllib.parse.urlencode(data).encode(),
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


@pytest.fixture
def gunicorn_with_redis(app):
    """Two production workers on Redis with the default limits; their keys under a prefix of
    this test's own, so runs in parallel (other workers, other checkouts) never share counts."""
    redis = redis_client()
    prefix = f"test-{uuid.uuid4().hex}"
    port = free_port()
    env = production_env(
        RATELIMIT_STORAGE_URI=REDIS_URL,
        RATELIMIT_KEY_PREFIX=prefix,
        GUNICORN_WORKERS="2",
        # Each worker serves one request and is replaced: no process ever sees two requests,
        # so only a shared store can count to 5.
        GUNICORN_MAX_REQUESTS="1",
    )
    for name in ("LOGIN_RATE_LIMIT_USER", "LOGIN_RATE_LIMIT_IP", "PROMETHEUS_MULTIPROC_DIR"):
        env.pop(name, None)  # the defaults: 5 per username, 30 per address
    try:
        # --preload: workers fork from a loaded app, so a replacement starts at once.
        with gunicorn(port, env, "--preload"):
            yield port, redis, prefix
    finally:
        for key in redis.scan_iter(f"*{prefix}*"):
            redis.delete(key)
        redis.close()


@pytest.mark.slow  # starts gunicorn
def test_failed_login_limit_is_shared_by_gunicorn_workers_through_redis(gunicorn_with_redis):
    port, redis, prefix = gunicorn_with_redis
    answers = [
        http_post(port, "/token", {"username": "victim", "password": f"guess {n}"})
        for n in range(5)
    ]
    assert [status for status, _ in answers] == [401] * 5
    assert {headers["X-RateLimit-Limit"] for _, headers in answers} == {"5"}
    status, headers = http_post(port, "/token", {"username": "victim", "password": "guess 6"})
    assert status == 429 and int(headers["Retry-After"]) > 0
    assert list(redis.scan_iter(f"*{prefix}*login-user*")), "the counts are kept in Redis"
