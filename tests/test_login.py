"""POST /token basics: the OAuth2 password form, what it answers and what it ignores.

Refresh, revoke and rate limits have their own tests.
"""

from __future__ import annotations

import base64

import pytest

from tests.conftest import PASSWORD


def login(client, username: str, password: str = PASSWORD, **extra):
    return client.post("/token", data={"username": username, "password": password, **extra})


def test_login_with_the_password_form_returns_bearer_tokens(client, user):
    response = login(client, user.username)

    assert response.status_code == 200
    body = response.json
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert body["token_type"] == "bearer"
    assert body["access_token"] and body["refresh_token"]
    assert body["access_token"] != body["refresh_token"]


def test_expires_in_is_the_access_token_lifetime_in_seconds(app, client, user):
    response = login(client, user.username)

    lifetime = app.config["JWT_ACCESS_TOKEN_EXPIRES"].total_seconds()
    assert response.json["expires_in"] == lifetime == 30 * 60


def test_the_access_token_authenticates_the_user(client, user):
    token = login(client, user.username).json["access_token"]

    response = client.get("/users/me/", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    assert response.json["id"] == user.id


def test_the_refresh_token_is_not_an_access_token(client, user):
    token = login(client, user.username).json["refresh_token"]

    response = client.get("/users/me/", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401


def test_token_responses_are_not_cached(client, user):
    response = login(client, user.username)

    assert response.headers["Cache-Control"] == "no-store"


def test_grant_type_password_is_accepted(client, user):
    assert login(client, user.username, grant_type="password").status_code == 200


def test_a_json_body_is_415(client, user):
    response = client.post("/token", json={"username": user.username, "password": PASSWORD})

    assert response.status_code == 415
    assert response.json["code"] == 415


def test_wrong_password_is_401(client, user):
    response = login(client, user.username, password="wrong password")

    assert response.status_code == 401
    assert response.json["code"] == 401
    assert "access_token" not in response.json


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(client, user):
    wrong_password = login(client, user.username, password="wrong password")
    unknown_user = login(client, "nobody-here", password="wrong password")

    assert unknown_user.status_code == wrong_password.status_code == 401
    assert unknown_user.json == wrong_password.json


@pytest.mark.parametrize("spelling", ["alice", "ALICE", "aLiCe"])
def test_login_ignores_the_case_of_the_username(client, make_user, spelling):
    registered = make_user("Alice")

    response = login(client, spelling)

    assert response.status_code == 200
    me = client.get(
        "/users/me/", headers={"Authorization": f"Bearer {response.json['access_token']}"}
    )
    assert me.json["id"] == registered.id


def test_login_ignores_unicode_case_of_the_username(client, make_user):
    make_user("Éva")

    assert login(client, "éVA").status_code == 200


def test_password_is_case_sensitive(client, user):
    assert login(client, user.username, password=PASSWORD.upper()).status_code == 401


def test_oauth2_client_fields_are_accepted_and_ignored(client, user):
    response = login(
        client,
        user.username,
        grant_type="password",
        scope="read write",
        client_id="swagger-ui",
        client_secret="anything",
    )

    assert response.status_code == 200
    assert response.json["token_type"] == "bearer"


def test_a_basic_authorization_header_is_accepted_and_ignored(client, user):
    basic = base64.b64encode(b"swagger-ui:client-secret").decode()

    response = client.post(
        "/token",
        data={"username": user.username, "password": PASSWORD},
        headers={"Authorization": f"Basic {basic}"},
    )

    assert response.status_code == 200


def test_a_basic_header_does_not_replace_the_form_credentials(client, user):
    # Basic carries the OAuth2 client's id, never the user's password.
    basic = base64.b64encode(f"{user.username}:{PASSWORD}".encode()).decode()

    response = client.post(
        "/token",
        data={"username": user.username, "password": "wrong password"},
        headers={"Authorization": f"Basic {basic}"},
    )

    assert response.status_code == 401


@pytest.mark.parametrize("missing", ["username", "password"])
def test_username_and_password_are_required(client, user, missing):
    form = {"username": user.username, "password": PASSWORD}
    del form[missing]

    response = client.post("/token", data=form)

    assert response.status_code == 422
    assert missing in response.json["errors"]["form"]


def test_multipart_form_is_accepted_too(client, user):
    # Some OAuth2 client libraries send multipart/form-data.
    response = client.post(
        "/token",
        data={"username": user.username, "password": PASSWORD},
        content_type="multipart/form-data",
    )

    assert response.status_code == 200
