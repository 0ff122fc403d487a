"""Registration (POST /users/) and the caller's profile (GET and PATCH /users/me/)."""

from __future__ import annotations

from datetime import datetime

import pytest

from app import create_app
from tests.conftest import PASSWORD, Config, database_url


def register(client, username: str, password: str = PASSWORD, **extra):
    return client.post("/users/", json={"username": username, "password": password, **extra})


# --- registration ---------------------------------------------------------------------------


def test_register_answers_201_with_id_username_email_and_created_at(client):
    response = register(client, "alice", email="alice@example.com")

    assert response.status_code == 201
    body = response.json
    assert set(body) == {"id", "username", "email", "created_at", "base_currency"}
    assert isinstance(body["id"], int)
    assert body["username"] == "alice"
    assert body["email"] == "alice@example.com"


def test_register_never_returns_the_password_or_its_hash(client):
    response = register(client, "alice")

    assert response.status_code == 201
    assert "password" not in response.json
    assert "password_hash" not in response.json
    assert PASSWORD not in response.get_data(as_text=True)


def test_register_without_email_gives_null_email(client):
    response = register(client, "alice")

    assert response.json["email"] is None


def test_created_at_is_a_utc_timestamp_with_an_explicit_offset(client):
    created_at = register(client, "alice").json["created_at"]

    parsed = datetime.fromisoformat(created_at.replace("Z", "+00:00"))
    assert parsed.utcoffset() is not None
    assert parsed.utcoffset().total_seconds() == 0


@pytest.mark.parametrize("username", ["abc", "a" * 64])
def test_usernames_of_3_to_64_characters_are_accepted(client, username):
    assert register(client, username).status_code == 201


@pytest.mark.parametrize("username", ["ab", "a" * 65, ""])
def test_usernames_shorter_than_3_or_longer_than_64_characters_are_422(client, username):
    response = register(client, username)

    assert response.status_code == 422
    assert "username" in response.json["errors"]["json"]


def test_taken_username_is_409(client):
    register(client, "alice")

    response = register(client, "alice", password="another password")

    assert response.status_code == 409
    assert response.json["code"] == 409


def test_username_differing_only_by_case_is_taken(client):
    register(client, "Alice")

    assert register(client, "aLICE").status_code == 409


def test_username_differing_only_by_unicode_case_is_taken(client):
    register(client, "Éva")

    assert register(client, "éVA").status_code == 409


def test_username_differing_only_by_unicode_normalisation_is_taken(client):
    register(client, "\u00e9va")  # precomposed é

    assert register(client, "e\u0301va").status_code == 409  # e + combining acute


#: 128 characters, and not one repeated letter (which is a weak password, issue 14).
LONGEST_PASSWORD = (
    "A passphrase of exactly one hundred and twenty-eight characters, in plain words, "
    "so the upper limit is put to the test"
).ljust(128, "!")


@pytest.mark.parametrize("password", ["8 chars!", LONGEST_PASSWORD])
def test_passwords_of_8_to_128_characters_are_accepted(client, password):
    assert register(client, "alice", password=password).status_code == 201


@pytest.mark.parametrize("password", ["7 chars", "p" * 129])
def test_passwords_shorter_than_8_or_longer_than_128_characters_are_422(client, password):
    response = register(client, "alice", password=password)

    assert response.status_code == 422
    assert "password" in response.json["errors"]["json"]


def test_password_equal_to_the_username_is_422(client):
    response = register(client, "alice-in-wonderland", password="alice-in-wonderland")

    assert response.status_code == 422
    assert "password" in response.json["errors"]["json"]


@pytest.mark.parametrize("missing", ["username", "password"])
def test_username_and_password_are_required(client, missing):
    body = {"username": "alice", "password": PASSWORD}
    del body[missing]

    response = client.post("/users/", json=body)

    assert response.status_code == 422
    assert missing in response.json["errors"]["json"]


@pytest.mark.parametrize("field", ["id", "created_at", "password_hash", "is_admin"])
def test_register_rejects_read_only_and_unknown_fields(client, field):
    response = register(client, "alice", **{field: 1})

    assert response.status_code == 422
    assert field in response.json["errors"]["json"]


def test_invalid_email_is_422(client):
    response = register(client, "alice", email="not an email")

    assert response.status_code == 422
    assert "email" in response.json["errors"]["json"]


def test_registration_can_be_closed_for_a_private_instance(app):
    config = Config(database_url())
    config.ALLOW_REGISTRATION = False
    closed = create_app(config)

    response = register(closed.test_client(), "alice")

    assert response.status_code == 403
    assert response.json["code"] == 403
    assert response.json["status"] == "Forbidden"


def test_closed_registration_creates_no_user(app, client):
    config = Config(database_url())
    config.ALLOW_REGISTRATION = False
    register(create_app(config).test_client(), "alice")

    # The open app can still register the name: the closed one stored nothing.
    assert register(client, "alice").status_code == 201


# --- /users/me/ -----------------------------------------------------------------------------


def test_me_returns_the_caller(user):
    response = user.get("/users/me/")

    assert response.status_code == 200
    assert response.json["id"] == user.id
    assert response.json["username"] == user.username
    assert set(response.json) == {"id", "username", "email", "created_at", "base_currency"}


def test_me_without_a_token_is_401(client):
    response = client.get("/users/me/")

    assert response.status_code == 401
    assert response.json["code"] == 401


def test_me_with_a_garbage_token_is_401(client):
    response = client.get("/users/me/", headers={"Authorization": "Bearer not.a.token"})

    assert response.status_code == 401


def test_patch_me_changes_the_email(user):
    response = user.patch("/users/me/", json={"email": "new@example.com"})

    assert response.status_code == 200
    assert response.json["email"] == "new@example.com"
    assert user.get("/users/me/").json["email"] == "new@example.com"


def test_patch_me_can_clear_the_email(user):
    user.patch("/users/me/", json={"email": "new@example.com"})

    response = user.patch("/users/me/", json={"email": None})

    assert response.status_code == 200
    assert response.json["email"] is None


def test_patch_me_with_an_invalid_email_is_422(user):
    response = user.patch("/users/me/", json={"email": "nope"})

    assert response.status_code == 422
    assert "email" in response.json["errors"]["json"]


@pytest.mark.parametrize(
    "body",
    [{"username": "someone-else"}, {"id": 99}, {"created_at": "2026-01-01T00:00:00Z"}],
)
def test_patch_me_rejects_fields_other_than_email(user, body):
    response = user.patch("/users/me/", json=body)

    assert response.status_code == 422
    assert user.get("/users/me/").json["username"] == user.username


def test_patch_me_changes_only_the_caller(user, other_user):
    user.patch("/users/me/", json={"email": "alice@example.com"})

    assert other_user.get("/users/me/").json["email"] is None
