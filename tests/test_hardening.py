"""OWASP API4 (resources) and API8 (misconfiguration): body size and page size limits,
security headers on every response, a CSP that keeps the docs working, CORS only for the
configured origins, ProxyFix only when asked for, and no stack traces.
"""

from __future__ import annotations

import io
import re

import pytest

from app import create_app
from config import ProductionConfig
from tests.conftest import PASSWORD, Config, database_url

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
ALLOWED_ORIGIN = "https://app.example.com"


def make_client(**settings):
    config = Config(database_url())
    for name, value in settings.items():
        setattr(config, name, value)
    return create_app(config).test_client()


def assert_error_shape(response, code: int) -> None:
    assert response.status_code == code
    assert response.mimetype == "application/json"
    body = response.json
    assert body["code"] == code and body["status"] and body["message"]
    assert "Traceback" not in response.get_data(as_text=True)


# -- body size --------------------------------------------------------------------------------


def test_json_body_over_one_mebibyte_is_413_json(user):
    body = b'{"name": "' + b"x" * (1024 * 1024) + b'"}'
    response = user.post("/categories/", data=body, content_type="application/json")
    assert_error_shape(response, 413)


def test_json_body_just_under_the_limit_is_read(user):
    body = b'{"name": "' + b"x" * (1024 * 1024 - 100) + b'"}'
    response = user.post("/categories/", data=body, content_type="application/json")
    assert response.status_code == 422  # read and validated: the name is too long


def test_oversized_login_form_is_413(client):
    response = client.post("/token", data={"username": "a" * (2 * 1024 * 1024), "password": "x"})
    assert_error_shape(response, 413)


def test_oversized_body_without_a_token_is_refused_too(client):
    response = client.post(
        "/users/", data=b"{" + b" " * (2 * 1024 * 1024) + b"}", content_type="application/json"
    )
    assert_error_shape(response, 413)


def test_max_content_length_is_configurable(app):
    client = make_client(MAX_CONTENT_LENGTH=100)
    response = client.post("/users/", json={"username": "x" * 200, "password": PASSWORD})
    assert_error_shape(response, 413)


def test_chunked_body_over_the_limit_is_413(app):
    """No Content-Length to check up front (gunicorn marks such input terminated)."""
    client = make_client(MAX_CONTENT_LENGTH=100)
    body = b'{"username": "' + b"x" * 500 + b'", "password": "long enough pw"}'
    assert_error_shape(chunked_post(client, body), 413)


def chunked_post(client, body: bytes, content_type: str = "application/json"):
    return client.post(
        "/users/",
        input_stream=io.BytesIO(body),
        content_type=content_type,
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )


def test_chunked_body_under_the_limit_is_read(client):
    response = chunked_post(client, b'{"username": "chunky", "password": "long enough pw"}')
    assert response.status_code == 201, response.json


def test_chunked_body_of_another_type_is_415(client):
    assert_error_shape(chunked_post(client, b"username=chunky", "text/plain"), 415)


# -- page size --------------------------------------------------------------------------------


@pytest.mark.parametrize("resource", ["accounts", "transactions", "categories"])
def test_limit_above_1000_is_422(user, resource):
    path = "/categories/" if resource == "categories" else user.url(resource)
    assert user.get(path + "?limit=1000").status_code == 200
    response = user.get(path + "?limit=1001")
    assert_error_shape(response, 422)
    assert "limit" in response.json["errors"]["query"]


@pytest.mark.parametrize(
    "query", ["limit=-1", "skip=-1", "limit=abc", "limit=99999999999999999999"]
)
def test_bad_paging_is_422(user, query):
    assert_error_shape(user.get(user.url("accounts") + "?" + query), 422)


# -- headers ----------------------------------------------------------------------------------


def responses_of_every_kind(client, user) -> dict[str, object]:
    """One response of each status the API gives, plus the docs and their assets."""
    account = user.account()
    return {
        "200": user.get(user.url("accounts")),
        "201": user.post("/categories/", json={"name": "Header check"}),
        "204": user.delete(user.url("accounts", account["id"])),
        "400": user.post("/categories/", data="{not json", content_type="application/json"),
        "401": client.get("/users/me/"),
        "403": user.get(f"/users/{user.id + 1000}/accounts/"),
        "404": client.get("/no/such/page"),
        "405": client.delete("/openapi.json"),
        "409": user.post("/categories/", json={"name": "Header check"}),
        "413": user.post(
            "/categories/", data="x" * (2 * 1024 * 1024), content_type="application/json"
        ),
        "415": user.post("/categories/", data="name=x", content_type="text/plain"),
        "422": user.post("/categories/", json={}),
        "openapi": client.get("/openapi.json"),
        "swagger-ui": client.get("/swagger-ui"),
        "redoc": client.get("/redoc"),
        "swagger-asset": client.get("/docs-assets/swagger-ui/swagger-ui-bundle.js"),
        "redoc-asset": client.get("/static/redoc/redoc.standalone.js"),
        "health": client.get("/healthz"),
        "index": client.get("/"),
    }


def test_security_headers_are_on_every_response(client, user):
    responses = responses_of_every_kind(client, user)
    for name, response in responses.items():
        if name.isdigit():
            assert response.status_code == int(name), (name, response.json)
        for header, value in SECURITY_HEADERS.items():
            assert response.headers.get(header) == value, (name, header)
        response.close()


def test_api_responses_forbid_caching_and_scripts(client, user):
    for name, response in responses_of_every_kind(client, user).items():
        if name.isdigit() or name == "openapi":
            assert response.headers["Cache-Control"] == "no-store", name
            assert response.headers["Content-Security-Policy"] == (
                "default-src 'none'; frame-ancestors 'none'"
            ), name
        response.close()


def test_token_responses_are_no_store(client, user):
    login = client.post("/token", data={"username": user.username, "password": PASSWORD})
    refreshed = client.post(
        "/token/refresh", headers={"Authorization": f"Bearer {user.refresh_token}"}
    )
    for response in (login, refreshed):
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store"


def test_personal_data_is_no_store(user):
    assert user.get("/users/me/").headers["Cache-Control"] == "no-store"


def test_the_429_of_a_rate_limit_carries_the_headers_too(app):
    client = make_client(LOGIN_RATE_LIMIT_IP="1 per minute")
    first = client.post("/token", data={"username": "x", "password": "wrong password"})
    assert first.status_code == 401, first.json  # the failed login that uses up the limit
    response = client.post("/token", data={"username": "x", "password": "wrong password"})
    assert_error_shape(response, 429)
    for header, value in SECURITY_HEADERS.items():
        assert response.headers[header] == value


def test_500_is_json_without_a_stack_trace_and_has_the_headers(app):
    client = make_client()
    application = client.application

    @application.get("/boom-for-the-test")
    def boom():
        raise RuntimeError("secret internals: /work/main/app.py line 42")

    response = client.get("/boom-for-the-test")
    assert_error_shape(response, 500)
    assert "secret internals" not in response.get_data(as_text=True)
    assert response.headers["X-Content-Type-Options"] == "nosniff"


# -- content security policy on the docs ------------------------------------------------------


def csp(response) -> dict[str, list[str]]:
    policy = {}
    for directive in response.headers["Content-Security-Policy"].split(";"):
        name, *values = directive.split()
        policy[name] = values
    return policy


@pytest.mark.parametrize("page", ["/swagger-ui", "/redoc"])
def test_docs_pages_load_only_their_own_assets(client, page):
    response = client.get(page)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources, "the page loads its scripts"
    for source in sources:
        assert source.startswith("/"), f"{source} is not served by the app (CDN?)"
        assert client.get(source).status_code == 200, source


@pytest.mark.parametrize("page", ["/swagger-ui", "/redoc"])
def test_docs_csp_allows_the_docs_and_nothing_foreign(client, page):
    policy = csp(client.get(page))
    assert policy["default-src"] == ["'self'"]
    assert "'self'" in policy["script-src"]  # the bundle
    assert "'unsafe-inline'" in policy["script-src"]  # Swagger UI's inline bootstrap
    assert "blob:" in policy["worker-src"]  # ReDoc's search worker
    assert policy["connect-src"] == ["'self'"]  # fetches /openapi.json and the API only
    assert policy["frame-ancestors"] == ["'none'"]
    assert not any(src.startswith("http") for src in policy["script-src"])


def test_docs_page_csp_is_not_the_api_csp(client):
    docs = client.get("/swagger-ui").headers["Content-Security-Policy"]
    api = client.get("/openapi.json").headers["Content-Security-Policy"]
    assert docs != api and "default-src 'none'" in api


# -- CORS -------------------------------------------------------------------------------------


def test_no_cors_headers_unless_origins_are_configured(client, user):
    response = client.get(
        user.url("accounts"), headers={**user.headers, "Origin": "https://evil.example"}
    )
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers
    preflight = client.options(
        "/categories/",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "Access-Control-Allow-Origin" not in preflight.headers


@pytest.fixture
def cors_client(app):
    return make_client(CORS_ORIGINS=[ALLOWED_ORIGIN])


def test_cors_allows_a_configured_origin(cors_client):
    response = cors_client.get("/openapi.json", headers={"Origin": ALLOWED_ORIGIN})
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    assert "X-Total-Count" in response.headers["Access-Control-Expose-Headers"]


def test_cors_preflight_for_a_configured_origin_allows_bearer_tokens(cors_client):
    response = cors_client.options(
        "/categories/",
        headers={
            "Origin": ALLOWED_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization, Content-Type",
        },
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "authorization" in response.headers["Access-Control-Allow-Headers"].lower()


def test_cors_ignores_other_origins_when_configured(cors_client):
    for origin in ("https://evil.example", "https://app.example.com.evil.example", "null"):
        response = cors_client.get("/openapi.json", headers={"Origin": origin})
        assert "Access-Control-Allow-Origin" not in response.headers, origin


def test_cors_origins_are_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example, https://b.example")
    assert Config(database_url()).CORS_ORIGINS == ["https://a.example", "https://b.example"]


# -- ProxyFix ---------------------------------------------------------------------------------


def failed_login(client, forwarded_for: str):
    return client.post(
        "/token",
        data={"username": "nobody", "password": "wrong password"},
        headers={"X-Forwarded-For": forwarded_for},
        environ_base={"REMOTE_ADDR": "127.0.0.1"},  # the proxy
    )


def test_behind_a_proxy_the_address_limit_uses_the_forwarded_address(app):
    client = make_client(
        PROXY_FIX_X_FOR=1, LOGIN_RATE_LIMIT_IP="2 per minute", LOGIN_RATE_LIMIT_USER="100/minute"
    )
    assert failed_login(client, "203.0.113.1").status_code == 401
    assert failed_login(client, "203.0.113.1").status_code == 401
    assert failed_login(client, "203.0.113.1").status_code == 429
    # Another client behind the same proxy has its own count.
    assert failed_login(client, "203.0.113.2").status_code == 401


def test_behind_a_proxy_only_the_last_hop_is_trusted(app):
    """With one proxy, a client-supplied X-Forwarded-For prefix cannot pick the address."""
    client = make_client(
        PROXY_FIX_X_FOR=1, LOGIN_RATE_LIMIT_IP="2 per minute", LOGIN_RATE_LIMIT_USER="100/minute"
    )
    for spoofed in ("10.9.9.1", "10.9.9.2", "10.9.9.3"):
        response = failed_login(client, f"{spoofed}, 203.0.113.9")
    assert response.status_code == 429


def test_without_proxy_fix_forwarded_headers_are_ignored(app):
    client = make_client(LOGIN_RATE_LIMIT_IP="2 per minute", LOGIN_RATE_LIMIT_USER="100/minute")
    statuses = [failed_login(client, f"203.0.113.{n}").status_code for n in range(3)]
    assert statuses == [401, 401, 429]


# -- configuration ----------------------------------------------------------------------------


@pytest.mark.parametrize("secret", ["", "dev", "changeme", "short-but-not-weak"])
def test_production_refuses_a_weak_secret(monkeypatch, secret):
    monkeypatch.setenv("DATABASE_URL", database_url())
    monkeypatch.setenv("SECRET_KEY", secret)
    monkeypatch.setenv("JWT_SECRET_KEY", "a-production-like-jwt-secret-key-that-is-long-enough")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(ProductionConfig())


def test_production_refuses_to_start_without_a_database(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("SECRET_KEY", "a-production-like-secret-key-that-is-long-enough-1")
    monkeypatch.setenv("JWT_SECRET_KEY", "a-production-like-jwt-secret-key-that-is-long-enough")
    with pytest.raises(RuntimeError, match="DATABASE_URL"):
        create_app(ProductionConfig())


def test_jwt_accepts_only_hs256(app):
    assert app.config["JWT_DECODE_ALGORITHMS"] == ["HS256"]
