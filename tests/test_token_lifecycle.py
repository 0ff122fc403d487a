"""The life of a token: login, refresh, revoke (log out), password change and account deletion.

API.md, "Users and tokens": a refresh token buys a new access token; logging out kills the
access token and the refresh token issued with it; a password change or deleting the user needs
the password and a fresh token (one from a password login) and ends every older token.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_jwt_extended import create_refresh_token

from app import create_app
from app.extensions import db
from tests.conftest import PASSWORD, Config, database_url

NEW_PASSWORD = "a much better passphrase"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def login(client, username: str, password: str = PASSWORD):
    return client.post("/token", data={"username": username, "password": password})


def refresh(client, refresh_token: str) -> str:
    return refresh_pair(client, refresh_token)["access_token"]


def refresh_pair(client, refresh_token: str) -> dict:
    response = client.post("/token/refresh", headers=bearer(refresh_token))
    assert response.status_code == 200, response.json
    return response.json


def assert_unauthorized(response) -> None:
    assert response.status_code == 401, response.json
    assert response.json["code"] == 401
    assert response.json["status"] == "Unauthorized"
    assert response.json["message"]


def test_login_returns_access_and_refresh_tokens_that_are_not_cached(client, make_user):
    user = make_user()
    response = login(client, user.username)
    assert response.status_code == 200
    assert set(response.json) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert response.json["token_type"] == "bearer"
    assert response.json["expires_in"] == 30 * 60
    assert response.headers["Cache-Control"] == "no-store"


def test_refresh_token_buys_a_working_access_token(client, user):
    response = client.post("/token/refresh", headers=bearer(user.refresh_token))
    assert response.status_code == 200
    assert set(response.json) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert response.headers["Cache-Control"] == "no-store"
    me = client.get("/users/me/", headers=bearer(response.json["access_token"]))
    assert me.status_code == 200 and me.json["id"] == user.id


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "bEaReR"])
def test_the_bearer_scheme_is_case_insensitive(client, user, scheme):
    """RFC 7235 §2.1: the auth scheme is a case-insensitive token (and /token says "bearer")."""
    me = client.get("/users/me/", headers={"Authorization": f"{scheme} {user.token}"})
    assert me.status_code == 200, me.json
    assert me.json["id"] == user.id
    renewed = client.post(
        "/token/refresh", headers={"Authorization": f"{scheme} {user.refresh_token}"}
    )
    assert renewed.status_code == 200, renewed.json


def test_another_scheme_or_a_glued_one_is_still_401(client, user):
    for header in (f"Basic {user.token}", f"bearer{user.token}", f"Bearerx {user.token}"):
        assert_unauthorized(client.get("/users/me/", headers={"Authorization": header}))


# -- refresh token rotation (OAuth 2.0 Security BCP §4.14.2) ---------------------------------


def test_refresh_rotates_the_refresh_token(client, user):
    first = refresh_pair(client, user.refresh_token)
    assert first["refresh_token"] != user.refresh_token
    second = refresh_pair(client, first["refresh_token"])
    assert second["refresh_token"] not in (user.refresh_token, first["refresh_token"])
    for token in (first["access_token"], second["access_token"]):
        assert client.get("/users/me/", headers=bearer(token)).json["id"] == user.id


def test_a_used_refresh_token_is_refused(client, user):
    refresh_pair(client, user.refresh_token)
    assert_unauthorized(client.post("/token/refresh", headers=bearer(user.refresh_token)))


def test_reusing_a_refresh_token_revokes_its_whole_family(client, user):
    """The thief and the user both hold the token: neither lineage may go on."""
    rotated = refresh_pair(client, user.refresh_token)
    assert_unauthorized(client.post("/token/refresh", headers=bearer(user.refresh_token)))
    assert_unauthorized(client.post("/token/refresh", headers=bearer(rotated["refresh_token"])))
    for token in (user.token, rotated["access_token"]):
        assert_unauthorized(client.get("/users/me/", headers=bearer(token)))


def test_reuse_leaves_other_logins_working(client, user):
    other = login(client, user.username).json
    refresh_pair(client, user.refresh_token)
    assert_unauthorized(client.post("/token/refresh", headers=bearer(user.refresh_token)))
    assert client.get("/users/me/", headers=bearer(other["access_token"])).status_code == 200
    assert refresh_pair(client, other["refresh_token"])["refresh_token"]


def test_two_simultaneous_refreshes_with_one_token_give_one_success(app, user):
    """The second of two concurrent uses is a reuse: at most one caller gets new tokens, and
    the family ends."""
    barrier = threading.Barrier(2)
    statuses = []

    def use():
        client = app.test_client()
        barrier.wait()
        statuses.append(
            client.post("/token/refresh", headers=bearer(user.refresh_token)).status_code
        )

    threads = [threading.Thread(target=use) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) in ([200, 401], [401, 401])
    assert 500 not in statuses


def test_a_pre_rotation_refresh_token_still_refreshes_once(app, client, user):
    """Tokens issued before families (no `fam` claim) keep working until used."""
    with app.test_request_context():
        legacy = create_refresh_token(identity=str(user.id), additional_claims={"ver": 0})
    renewed = refresh_pair(client, legacy)
    assert client.get("/users/me/", headers=bearer(renewed["access_token"])).status_code == 200
    assert_unauthorized(client.post("/token/refresh", headers=bearer(legacy)))
    assert_unauthorized(client.post("/token/refresh", headers=bearer(renewed["refresh_token"])))


def test_access_token_cannot_be_used_to_refresh(client, user):
    assert_unauthorized(client.post("/token/refresh", headers=bearer(user.token)))


def test_refresh_without_a_token_is_401(client):
    assert_unauthorized(client.post("/token/refresh"))


def test_revoke_stops_the_access_token(client, user):
    assert client.post("/token/revoke", headers=user.headers).status_code == 204
    assert_unauthorized(client.get("/users/me/", headers=user.headers))


def test_revoke_stops_the_refresh_token_issued_with_it(client, user):
    assert client.post("/token/revoke", headers=user.headers).status_code == 204
    assert_unauthorized(client.post("/token/refresh", headers=bearer(user.refresh_token)))


def test_revoke_stops_access_tokens_refreshed_from_the_same_login(client, user):
    refreshed = refresh(client, user.refresh_token)
    assert client.post("/token/revoke", headers=user.headers).status_code == 204
    assert_unauthorized(client.get("/users/me/", headers=bearer(refreshed)))


def test_revoke_leaves_other_logins_working(client, user):
    other_login = login(client, user.username).json
    assert client.post("/token/revoke", headers=user.headers).status_code == 204
    assert client.get("/users/me/", headers=bearer(other_login["access_token"])).status_code == 200
    assert (
        client.post("/token/refresh", headers=bearer(other_login["refresh_token"])).status_code
        == 200
    )


def test_revoking_twice_is_401_the_second_time(client, user):
    assert client.post("/token/revoke", headers=user.headers).status_code == 204
    assert_unauthorized(client.post("/token/revoke", headers=user.headers))


def test_revocation_survives_an_app_restart(client, user):
    assert client.post("/token/revoke", headers=user.headers).status_code == 204
    restarted = create_app(Config(database_url())).test_client()
    assert_unauthorized(restarted.get("/users/me/", headers=user.headers))
    assert_unauthorized(restarted.post("/token/refresh", headers=bearer(user.refresh_token)))


def test_revoked_tokens_are_kept_in_the_database(app, client, user):
    assert client.post("/token/revoke", headers=user.headers).status_code == 204
    with app.app_context():
        rows = db.session.execute(sa.text("SELECT count(*) FROM revoked_tokens")).scalar()
    assert rows == 2  # the access token and its family (the login's refresh tokens)


def test_patch_me_changes_the_email(client, user):
    response = user.patch("/users/me/", json={"email": "alice@example.com"})
    assert response.status_code == 200
    assert response.json["email"] == "alice@example.com"
    assert user.get("/users/me/").json["email"] == "alice@example.com"


def test_patch_me_rejects_an_invalid_email(client, user):
    response = user.patch("/users/me/", json={"email": "not an email"})
    assert response.status_code == 422
    assert "email" in response.json["errors"]["json"]


def test_patch_me_cannot_change_the_username(client, user):
    response = user.patch("/users/me/", json={"username": "someone-else"})
    assert response.status_code == 422
    assert user.get("/users/me/").json["username"] == user.username


# -- password change --------------------------------------------------------------------------


def change_password(client, token: str, current: str = PASSWORD, new: str = NEW_PASSWORD):
    return client.post(
        "/users/me/password",
        json={"current_password": current, "new_password": new},
        headers=bearer(token),
    )


def test_password_change_answers_204_and_the_new_password_logs_in(client, user):
    assert change_password(client, user.token).status_code == 204
    assert login(client, user.username, NEW_PASSWORD).status_code == 200
    assert login(client, user.username, PASSWORD).status_code == 401


def test_password_change_with_a_wrong_current_password_is_403_and_changes_nothing(client, user):
    response = change_password(client, user.token, current="not my password")
    assert response.status_code == 403
    assert response.json["code"] == 403
    assert login(client, user.username, PASSWORD).status_code == 200
    assert user.get("/users/me/").status_code == 200


def test_password_change_needs_a_fresh_token(client, user):
    refreshed = refresh(client, user.refresh_token)
    assert_unauthorized(change_password(client, refreshed))
    assert login(client, user.username, PASSWORD).status_code == 200


def test_password_change_rejects_a_short_new_password(client, user):
    response = change_password(client, user.token, new="short")
    assert response.status_code == 422
    assert "new_password" in response.json["errors"]["json"]


def test_password_change_rejects_the_username_as_new_password(client, make_user):
    user = make_user("long-enough-name")
    response = change_password(client, user.token, new="LONG-ENOUGH-NAME")
    assert response.status_code == 422
    assert "new_password" in response.json["errors"]["json"]


def test_password_change_ends_every_older_token(client, user):
    second = login(client, user.username).json
    refreshed = refresh(client, user.refresh_token)
    assert change_password(client, user.token).status_code == 204
    for token in (user.token, second["access_token"], refreshed):
        assert_unauthorized(client.get("/users/me/", headers=bearer(token)))
    for token in (user.refresh_token, second["refresh_token"]):
        assert_unauthorized(client.post("/token/refresh", headers=bearer(token)))


def test_a_login_right_after_a_password_change_works(client, user):
    # Same second as the change: a time cut-off on `iat` would wrongly reject it.
    assert change_password(client, user.token).status_code == 204
    fresh = login(client, user.username, NEW_PASSWORD).json
    assert client.get("/users/me/", headers=bearer(fresh["access_token"])).status_code == 200
    assert client.post("/token/refresh", headers=bearer(fresh["refresh_token"])).status_code == 200


# -- deleting the user ------------------------------------------------------------------------


def delete_me(client, token: str, password: str = PASSWORD):
    return client.delete("/users/me/", json={"password": password}, headers=bearer(token))


def test_delete_me_removes_the_user_and_all_their_data(app, client, user, other_user):
    account = user.account(opening_balance="50.00")
    savings = user.account(opening_balance="0.00")
    category = user.category()
    user.transaction(account, amount="5.00", category_id=category["id"])
    user.transaction(account, amount="7.00", type="transfer", transfer_account_id=savings["id"])
    theirs = other_user.account(opening_balance="9.00")

    assert delete_me(client, user.token).status_code == 204

    with app.app_context():
        for table in ("users", "accounts", "categories", "transactions"):
            column = "id" if table == "users" else "user_id"
            count = db.session.execute(
                sa.text(f"SELECT count(*) FROM {table} WHERE {column} = :id"), {"id": user.id}
            ).scalar()
            assert count == 0, table
    assert login(client, user.username).status_code == 401
    assert other_user.balance(theirs) == "9.00"


def test_delete_me_with_a_wrong_password_is_403_and_deletes_nothing(client, user):
    account = user.account(opening_balance="50.00")
    response = delete_me(client, user.token, password="not my password")
    assert response.status_code == 403
    assert user.balance(account) == "50.00"


def test_delete_me_needs_the_password(client, user):
    response = client.delete("/users/me/", json={}, headers=user.headers)
    assert response.status_code == 422
    assert user.get("/users/me/").status_code == 200


def test_delete_me_needs_a_fresh_token(client, user):
    refreshed = refresh(client, user.refresh_token)
    assert_unauthorized(delete_me(client, refreshed))
    assert user.get("/users/me/").status_code == 200


def test_tokens_of_a_deleted_user_stop_working(client, user):
    assert delete_me(client, user.token).status_code == 204
    assert_unauthorized(client.get("/users/me/", headers=user.headers))
    assert_unauthorized(client.post("/token/refresh", headers=bearer(user.refresh_token)))


def test_the_username_of_a_deleted_user_can_be_registered_again(client, user):
    assert delete_me(client, user.token).status_code == 204
    response = client.post("/users/", json={"username": user.username, "password": PASSWORD})
    assert response.status_code == 201
    fresh = login(client, user.username).json
    # The old token named the old id; the new user (a new id) is not reachable with it.
    assert_unauthorized(client.get("/users/me/", headers=user.headers))
    assert client.get("/users/me/", headers=bearer(fresh["access_token"])).json["id"] != user.id


# Verified tokens are kept per app (app.extensions.JWTManager): what that must never change.


def test_a_token_verified_before_is_refused_once_it_expires(app, client, make_user, monkeypatch):
    # Two seconds, not one: `exp` is in whole seconds (issued at x.999 with one second to live,
    # a token expired at x+1, a millisecond later: this test failed once under CI's load).
    monkeypatch.setitem(app.config, "JWT_ACCESS_TOKEN_EXPIRES", timedelta(seconds=2))
    user = make_user()
    assert client.get("/users/me/", headers=bearer(user.token)).status_code == 200
    assert client.get("/users/me/", headers=bearer(user.token)).status_code == 200
    time.sleep(2.2)
    response = client.get("/users/me/", headers=bearer(user.token))
    assert_unauthorized(response)
    assert "expired" in response.json["message"].lower()


def test_a_token_verified_before_is_refused_with_one_character_changed(client, user):
    assert client.get("/users/me/", headers=bearer(user.token)).status_code == 200
    header, payload, signature = user.token.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    for token in (f"{header}.{payload}.{flipped}", f"{header}.{payload[:-1]}x.{signature}"):
        assert_unauthorized(client.get("/users/me/", headers=bearer(token)))


def test_a_token_one_app_verified_is_refused_by_an_app_with_another_key(client, user):
    assert client.get("/users/me/", headers=bearer(user.token)).status_code == 200
    config = Config(database_url())
    config.JWT_SECRET_KEY = "another-jwt-secret-key-long-enough-9876543210"
    other = create_app(config)
    assert_unauthorized(other.test_client().get("/users/me/", headers=bearer(user.token)))


def test_a_revoked_token_is_refused_though_it_was_verified_before(client, user):
    assert client.get("/users/me/", headers=bearer(user.token)).status_code == 200
    assert client.post("/token/revoke", headers=bearer(user.token)).status_code == 204
    assert_unauthorized(client.get("/users/me/", headers=bearer(user.token)))
