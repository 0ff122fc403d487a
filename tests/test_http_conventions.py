"""The conventions every endpoint follows (API.md, "Conventions"): one error shape, JSON only,
read-only fields refused, trailing slashes optional, security and caching headers.
"""

from __future__ import annotations

from http import HTTPStatus

import pytest

from app import create_app
from tests.conftest import PASSWORD, Config, database_url

ONE_MIB = 1024 * 1024


def assert_error_shape(response, code: int, *, field_errors: bool = False) -> dict:
    """`{"code", "status", "message", "errors"?}` as JSON, never HTML, never a traceback."""
    assert response.status_code == code
    assert response.mimetype == "application/json"
    body = response.json
    expected_keys = {"code", "status", "message"} | ({"errors"} if field_errors else set())
    assert set(body) == expected_keys
    assert body["code"] == code
    assert body["status"] == HTTPStatus(code).phrase
    assert isinstance(body["message"], str) and body["message"]
    assert "Traceback" not in response.get_data(as_text=True)
    return body


# --- the one error shape --------------------------------------------------------------------


def test_malformed_json_is_400(user):
    response = user.client.post(
        "/categories/", data='{"name": ', content_type="application/json", headers=user.headers
    )

    assert_error_shape(response, 400, field_errors=True)


def test_body_that_is_not_utf8_is_400(user):
    response = user.client.post(
        "/categories/",
        data=b'{"name": "\xff\xfe"}',
        content_type="application/json",
        headers=user.headers,
    )

    assert_error_shape(response, 400, field_errors=True)


def test_missing_token_is_401_with_a_bearer_challenge(client):
    response = client.get("/categories/")

    assert_error_shape(response, 401)
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_another_users_path_is_403(user, other_user):
    assert_error_shape(user.get(other_user.url("accounts")), 403)


def test_unknown_path_is_404(client):
    response = client.get("/no/such/path")

    assert_error_shape(response, 404)
    assert not response.get_data(as_text=True).lstrip().startswith("<")


def test_wrong_method_is_405_with_allow(user):
    response = user.delete("/categories/")

    assert_error_shape(response, 405)
    allowed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert {"GET", "POST"} <= allowed
    assert "DELETE" not in allowed


def test_wrong_method_without_the_trailing_slash_is_405_too(user):
    response = user.put("/categories", json={})

    assert_error_shape(response, 405)
    assert "POST" in response.headers["Allow"]


def test_duplicate_is_409(user):
    user.category(name="Books")

    assert_error_shape(user.post("/categories/", json={"name": "Books"}), 409)


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"]
)
def test_body_that_is_not_json_is_415(user, content_type):
    response = user.client.post(
        "/categories/", data="name=Books", content_type=content_type, headers=user.headers
    )

    assert_error_shape(response, 415)
    assert user.get("/categories/", query_string={"limit": 1000}).json[-1]["name"] != "Books"


def test_json_with_a_charset_parameter_is_accepted(user):
    response = user.client.post(
        "/categories/",
        data='{"name": "Café ☕"}'.encode(),
        content_type="application/json; charset=utf-8",
        headers=user.headers,
    )

    assert response.status_code == 201
    assert response.json["name"] == "Café ☕"


def test_json_body_over_one_mib_is_413(user):
    body = '{"name": "Books"' + " " * ONE_MIB + "}"

    response = user.client.post(
        "/categories/", data=body, content_type="application/json", headers=user.headers
    )

    assert_error_shape(response, 413)


def test_json_body_of_exactly_one_mib_is_read(user):
    prefix, suffix = '{"name": "Books"', "}"
    body = prefix + " " * (ONE_MIB - len(prefix) - len(suffix)) + suffix
    assert len(body.encode()) == ONE_MIB

    response = user.client.post(
        "/categories/", data=body, content_type="application/json", headers=user.headers
    )

    assert response.status_code == 201


def test_registration_body_over_one_mib_is_413(client):
    body = '{"username": "alice", "password": "' + "p" * ONE_MIB + '"}'

    response = client.post("/users/", data=body, content_type="application/json")

    assert_error_shape(response, 413)


def test_invalid_values_are_422_with_errors_by_location_then_field(user):
    response = user.post("/categories/", json={"name": "", "kind": "gift"})

    body = assert_error_shape(response, 422, field_errors=True)
    assert set(body["errors"]) == {"json"}
    assert set(body["errors"]["json"]) == {"name", "kind"}
    assert all(isinstance(m, str) for m in body["errors"]["json"]["kind"])


def test_invalid_query_parameters_are_422_under_query(user):
    response = user.get("/categories/", query_string={"limit": "lots"})

    body = assert_error_shape(response, 422, field_errors=True)
    assert "limit" in body["errors"]["query"]


def test_a_json_body_that_is_not_an_object_is_422(user):
    response = user.post("/categories/", json=["Books"])

    assert_error_shape(response, 422, field_errors=True)


def test_empty_body_is_422_for_missing_fields_not_415(user):
    response = user.client.post("/categories/", headers=user.headers)

    assert_error_shape(response, 422, field_errors=True)


def test_unexpected_failure_is_500_in_the_same_shape_without_details(app):
    crashing = create_app(Config(database_url()))

    @crashing.get("/boom")
    def boom():
        raise RuntimeError("internal detail: password=hunter2")

    response = crashing.test_client().get("/boom")

    body = assert_error_shape(response, 500)
    assert "hunter2" not in response.get_data(as_text=True)
    assert "RuntimeError" not in body["message"]


# --- unknown and read-only fields -----------------------------------------------------------


@pytest.fixture
def resources(user):
    """Paths of one object of each kind, for the read-only matrix."""
    account = user.account(opening_balance="10.00")
    category = user.category()
    transaction = user.transaction(account)
    return {
        "account": user.url("accounts", account["id"]),
        "accounts": user.url("accounts"),
        "category": f"/categories/{category['id']}",
        "categories": "/categories/",
        "transaction": user.url("transactions", transaction["id"]),
        "transactions": user.url("transactions"),
        "account_id": account["id"],
    }


READ_ONLY = [
    ("accounts", "post", "id"),
    ("accounts", "post", "owner_id"),
    ("accounts", "post", "user_id"),
    ("accounts", "post", "created_at"),
    ("accounts", "post", "updated_at"),
    ("account", "put", "id"),
    ("account", "patch", "owner_id"),
    ("account", "put", "user_id"),
    ("account", "patch", "created_at"),
    ("account", "put", "balance"),
    ("account", "patch", "balance"),
    ("categories", "post", "id"),
    ("categories", "post", "user_id"),
    ("category", "put", "user_id"),
    ("category", "patch", "id"),
    ("transactions", "post", "id"),
    ("transactions", "post", "user_id"),
    ("transactions", "post", "created_at"),
    ("transaction", "put", "user_id"),
    ("transaction", "patch", "id"),
    ("transaction", "patch", "updated_at"),
    ("transaction", "patch", "currency"),
]


@pytest.mark.parametrize("resource, method, field", READ_ONLY)
def test_read_only_fields_are_422_never_ignored(user, resources, resource, method, field):
    body = {"name": "New name"} if resource in {"accounts", "categories"} else {}
    if resource == "transactions":
        body = {"account_id": resources["account_id"], "type": "expense", "amount": "1.00"}
    body[field] = "2026-01-01T00:00:00Z" if field.endswith("_at") else 1
    before = user.get(resources[resource]).json

    response = getattr(user, method)(resources[resource], json=body)

    errors = assert_error_shape(response, 422, field_errors=True)["errors"]
    assert field in errors["json"]
    assert user.get(resources[resource]).json == before


@pytest.mark.parametrize("resource", ["accounts", "categories", "transactions"])
def test_unknown_fields_are_422(user, resources, resource):
    response = user.post(resources[resource], json={"name": "X", "colour": "blue"})

    assert "colour" in assert_error_shape(response, 422, field_errors=True)["errors"]["json"]


# --- trailing slashes -----------------------------------------------------------------------

# (method, path with a trailing slash, body, expected status) for every route.
ROUTES = [
    ("post", "/users/", {"username": "newcomer", "password": "a long password"}, 201),
    ("get", "/users/me/", None, 200),
    ("patch", "/users/me/", {"email": "me@example.com"}, 200),
    ("post", "/token/", "form", 200),
    ("post", "/token/refresh/", "refresh", 200),
    ("post", "/token/revoke/", None, 204),
    (
        "post",
        "/users/me/password/",
        {"current_password": PASSWORD, "new_password": "n3w pass"},
        204,
    ),
    ("delete", "/users/me/", {"password": PASSWORD}, 204),
    ("get", "/categories/", None, 200),
    ("post", "/categories/", {"name": "Books"}, 201),
    ("get", "/categories/{category}/", None, 200),
    ("put", "/categories/{category}/", {"name": "Renamed"}, 200),
    ("patch", "/categories/{category}/", {"kind": "income"}, 200),
    ("delete", "/categories/{category}/", None, 204),
    ("get", "/users/{user}/accounts/", None, 200),
    ("post", "/users/{user}/accounts/", {"name": "Savings"}, 201),
    ("get", "/users/{user}/accounts/{account}/", None, 200),
    ("put", "/users/{user}/accounts/{account}/", {"name": "Renamed"}, 200),
    ("patch", "/users/{user}/accounts/{account}/", {"archived": True}, 200),
    ("delete", "/users/{user}/accounts/{account}/", None, 204),
    ("get", "/users/{user}/transactions/", None, 200),
    ("post", "/users/{user}/transactions/", "transaction", 201),
    ("get", "/users/{user}/transactions/{transaction}/", None, 200),
    ("put", "/users/{user}/transactions/{transaction}/", {"amount": "2.00"}, 200),
    ("patch", "/users/{user}/transactions/{transaction}/", {"description": "x"}, 200),
    ("delete", "/users/{user}/transactions/{transaction}/", None, 204),
]


@pytest.mark.parametrize("slash", [True, False], ids=["with-slash", "without-slash"])
@pytest.mark.parametrize(
    "method, path, body, status", ROUTES, ids=[f"{r[0]} {r[1]}" for r in ROUTES]
)
def test_every_route_works_with_and_without_the_trailing_slash(
    user, method, path, body, status, slash
):
    account = user.account()
    ids = {
        "user": user.id,
        "account": account["id"],
        "category": user.category()["id"],
        "transaction": user.transaction(account)["id"],
    }
    path = path.format(**ids)
    path = path if slash else path.rstrip("/")
    if body == "form":
        response = user.client.post(path, data={"username": user.username, "password": PASSWORD})
    elif body == "refresh":
        bearer = {"Authorization": f"Bearer {user.refresh_token}"}
        response = user.client.post(path, headers=bearer)
    else:
        if body == "transaction":
            body = {"account_id": account["id"], "type": "income", "amount": "5.00"}
        kwargs = {} if body is None else {"json": body}
        response = getattr(user, method)(path, **kwargs)

    assert response.status_code == status, response.get_data(as_text=True)
    assert "Location" not in response.headers


# --- headers --------------------------------------------------------------------------------

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


@pytest.mark.parametrize(
    "path", ["/users/me/", "/categories/", "/no/such/path", "/openapi.json", "/swagger-ui"]
)
def test_every_response_carries_the_security_headers(user, path):
    response = user.get(path)

    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, name


def test_error_responses_carry_the_security_headers(client):
    response = client.get("/users/me/")

    assert response.status_code == 401
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, name


@pytest.mark.parametrize(
    "path",
    [
        "/users/me/",
        "/categories/",
        "/users/{user}/accounts/",
        "/users/{user}/accounts/{account}",
        "/users/{user}/transactions/",
    ],
)
def test_personal_data_is_never_cached(user, path):
    account = user.account()

    response = user.get(path.format(user=user.id, account=account["id"]))

    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]


def test_registration_response_is_never_cached(client):
    response = client.post("/users/", json={"username": "alice", "password": "long password"})

    assert "no-store" in response.headers["Cache-Control"]


def test_responses_are_json_in_utf8(user):
    user.category(name="Épicerie ☕")

    response = user.get("/categories/", query_string={"limit": 1000})

    assert response.mimetype == "application/json"
    assert "Épicerie ☕" in response.get_data().decode("utf-8")


def test_there_is_no_cookie_session(app, user):
    """A bearer token says who calls: no request opens a signed cookie session, and none is
    ever sent (app.NoCookieSession), so nothing can come to depend on one unseen."""
    import flask

    response = user.get("/users/me/")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    with app.test_request_context("/users/me/"):
        assert app.session_interface.open_session(app, flask.request) is None
        assert app.session_interface.is_null_session(app.session_interface.make_null_session(app))
        with pytest.raises(RuntimeError):
            flask.session["user"] = 1  # a NullSession refuses writes


def test_ensure_sync_asks_once_per_function_and_still_refuses_nothing(app, user):
    """app.App remembers whether a function is a coroutine function: a plain one comes back as
    it is, an `async def` still goes to Flask's async_to_sync, and serving requests does not
    grow what it remembers."""

    def plain():
        return 1

    async def coroutine():
        return 1

    assert app.ensure_sync(plain) is plain
    assert app.coroutine_functions[plain] is False
    try:
        wrapped = app.ensure_sync(coroutine)
    except RuntimeError as error:  # without asgiref, Flask's own refusal: it got there
        assert "async" in str(error)
    else:
        assert wrapped is not coroutine
    assert app.coroutine_functions[coroutine] is True
    user.get("/users/me/")
    user.get(user.url("transactions"))
    remembered = len(app.coroutine_functions)
    for _ in range(20):
        assert user.get("/users/me/").status_code == 200
        user.get(user.url("transactions"))
    assert len(app.coroutine_functions) == remembered


def test_a_security_header_the_view_set_is_kept(app):
    """security_headers adds each header only where the response has none of that name (in
    any case), as Headers.setdefault would."""
    from flask import Response

    from app.common.http import security_headers

    with app.test_request_context("/users/me/"):
        response = security_headers(
            Response(
                "x",
                headers={"cache-control": "private, max-age=60", "X-Frame-Options": "SAMEORIGIN"},
            )
        )
    assert response.headers.getlist("Cache-Control") == ["private, max-age=60"]
    assert response.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert (
        response.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"
