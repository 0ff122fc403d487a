"""OWASP API2 (broken authentication): forged, altered, stale and misused tokens, user
enumeration through login, and how passwords are stored.

Every bad token is a 401 in the one error shape, never a 422 or 500 (flask-jwt-extended's own
answers are replaced in app/errors.py).
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt as pyjwt
import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher, extract_parameters

from app import create_app
from app.extensions import db
from tests.conftest import PASSWORD, Config, database_url

JWT_KEY = Config(database_url()).JWT_SECRET_KEY


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims_of(token: str) -> dict:
    return pyjwt.decode(token, options={"verify_signature": False})


def forge(claims: dict, key: str = JWT_KEY, algorithm: str = "HS256") -> str:
    return pyjwt.encode(claims, key, algorithm=algorithm)


def assert_unauthorized(response) -> None:
    assert response.status_code == 401, (response.status_code, response.get_data(as_text=True))
    body = response.json
    assert body["code"] == 401 and body["status"] == "Unauthorized"
    assert isinstance(body["message"], str) and body["message"]
    assert set(body) <= {"code", "status", "message", "errors"}
    assert response.headers["WWW-Authenticate"] == "Bearer"


def me(client, token: str):
    return client.get("/users/me/", headers={"Authorization": f"Bearer {token}"})


def test_a_correct_token_is_accepted(client, user):
    """The control for every attack below: the untouched token works."""
    assert me(client, user.token).status_code == 200
    assert me(client, forge(claims_of(user.token))).status_code == 200


def test_alg_none_token_is_401(client, user):
    header = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = b64(json.dumps(claims_of(user.token)).encode())
    assert_unauthorized(me(client, f"{header}.{payload}."))


def test_alg_none_token_with_the_old_signature_kept_is_401(client, user):
    header = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    _, payload, signature = user.token.split(".")
    assert_unauthorized(me(client, f"{header}.{payload}.{signature}"))


def test_token_signed_with_another_key_is_401(client, user):
    other_key = "another-secret-key-that-is-long-enough-0123456789"
    assert_unauthorized(me(client, forge(claims_of(user.token), key=other_key)))


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_token_signed_with_another_algorithm_is_401(client, user):
    # Same key, but only HS256 is accepted: no algorithm negotiation by the attacker.
    assert_unauthorized(me(client, forge(claims_of(user.token), algorithm="HS512")))


def test_tampered_payload_is_401(client, user, other_user):
    header, _, signature = user.token.split(".")
    claims = claims_of(user.token) | {"sub": str(other_user.id)}
    payload = b64(json.dumps(claims).encode())
    assert_unauthorized(me(client, f"{header}.{payload}.{signature}"))


def test_expired_token_is_401(client, user):
    past = datetime.now(UTC) - timedelta(hours=2)
    claims = claims_of(user.token) | {
        "iat": int(past.timestamp()),
        "nbf": int(past.timestamp()),
        "exp": int((past + timedelta(minutes=30)).timestamp()),
    }
    response = me(client, forge(claims))
    assert_unauthorized(response)
    assert "expired" in response.json["message"].lower()


def test_token_not_yet_valid_is_401(client, user):
    future = int((datetime.now(UTC) + timedelta(hours=1)).timestamp())
    assert_unauthorized(me(client, forge(claims_of(user.token) | {"nbf": future})))


def test_refresh_token_used_as_access_token_is_401(client, user):
    assert_unauthorized(me(client, user.refresh_token))


def test_revoked_token_is_401(client, user):
    assert client.post("/token/revoke", headers=user.headers).status_code == 204
    assert_unauthorized(me(client, user.token))


def test_token_of_a_deleted_user_is_401(client, user):
    response = client.delete("/users/me/", json={"password": PASSWORD}, headers=user.headers)
    assert response.status_code == 204
    assert_unauthorized(me(client, user.token))


def test_token_with_an_old_version_is_401(client, user):
    # As if issued before a password change: properly signed, but `ver` no longer matches.
    assert_unauthorized(me(client, forge(claims_of(user.token) | {"ver": -1})))


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "not-a-number"},
        {"sub": "999999"},
        {"sub": None},
        {"type": "something"},
    ],
    ids=["sub-not-a-number", "sub-unknown-user", "sub-null", "unknown-type"],
)
def test_signed_token_with_bad_claims_is_401(client, user, claims):
    assert_unauthorized(me(client, forge(claims_of(user.token) | claims)))


# (A missing `type` is read as "access" by flask-jwt-extended; only our key could sign one.)
@pytest.mark.parametrize("missing", ["sub", "jti", "ver"])
def test_signed_token_missing_a_claim_is_401(client, user, missing):
    claims = claims_of(user.token)
    del claims[missing]
    assert_unauthorized(me(client, forge(claims)))


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Bearer not.a.jwt",
        "Bearer " + "a" * 5000,
        "Basic dXNlcjpwYXNz",
        "Token abc",
    ],
    ids=["absent", "empty", "no-token", "blank-token", "garbage", "huge", "basic", "token-scheme"],
)
def test_missing_or_malformed_authorization_is_401(client, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    assert_unauthorized(client.get("/users/me/", headers=headers))


def test_bad_token_is_401_on_every_protected_route_not_422(client, user, other_user):
    """A forged token never reaches validation: 401 before any body or id is looked at."""
    forged = forge(claims_of(user.token), key="x" * 40)
    headers = {"Authorization": f"Bearer {forged}"}
    for method, path in [
        ("get", f"/users/{user.id}/accounts/"),
        ("post", f"/users/{user.id}/accounts/"),
        ("patch", f"/users/{user.id}/accounts/1"),
        ("delete", f"/users/{user.id}/transactions/1"),
        ("put", "/categories/1"),
        ("post", "/token/revoke"),
        ("post", "/token/refresh"),
        ("post", "/users/me/password"),
    ]:
        response = getattr(client, method)(path, json={"bogus": 1}, headers=headers)
        assert_unauthorized(response)


# -- login: no user enumeration ---------------------------------------------------------------


def login(client, username: str, password: str):
    return client.post("/token", data={"username": username, "password": password})


def test_login_answers_the_same_for_unknown_user_and_wrong_password(client, user):
    unknown = login(client, "nobody-like-this", "whatever password")
    wrong = login(client, user.username, "whatever password")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json == wrong.json
    assert unknown.headers.get("WWW-Authenticate") == wrong.headers.get("WWW-Authenticate")


def test_login_spends_the_same_argon2_work_on_an_unknown_user_as_on_a_wrong_password(
    client, user, monkeypatch
):
    """Without the dummy verification an unknown user answers ~20x faster (no argon2 run).
    The work is counted, not timed: a timing assertion fails on a loaded machine (it did, in
    CI, with the other test worker busy), and the argon2 run is what the time is made of."""
    verified = []
    real_verify = PasswordHasher.verify

    def verify(self, password_hash, password):
        verified.append(extract_parameters(password_hash))
        return real_verify(self, password_hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", verify)

    def work(username: str) -> list:
        verified.clear()
        assert login(client, username, "whatever password").status_code == 401
        return list(verified)

    unknown, wrong = work("nobody-like-this"), work(user.username)
    assert len(wrong) == 1
    assert unknown == wrong  # one verification, with the same time, memory and parallelism


def test_login_ignores_the_case_of_the_username(client, user):
    assert login(client, user.username.upper(), PASSWORD).status_code == 200


# -- password storage -------------------------------------------------------------------------


def stored_hash(app, user_id: int) -> str:
    with app.app_context():
        return db.session.execute(
            sa.text("SELECT password_hash FROM users WHERE id = :id"), {"id": user_id}
        ).scalar()


def argon2_params(password_hash: str) -> dict[str, int]:
    # $argon2id$v=19$m=19456,t=2,p=1$salt$hash
    _, variant, version, params, salt, digest = password_hash.split("$")
    assert variant == "argon2id"
    assert version == "v=19"
    assert len(salt) >= 16 and len(digest) >= 32
    return {key: int(value) for key, value in (p.split("=") for p in params.split(","))}


def test_passwords_are_stored_as_argon2id_at_owasp_parameters(app, user):
    password_hash = stored_hash(app, user.id)
    assert PASSWORD not in password_hash
    params = argon2_params(password_hash)
    # OWASP Password Storage Cheat Sheet: argon2id, m >= 19 MiB, t >= 2, p >= 1.
    assert params["m"] >= 19456 and params["t"] >= 2 and params["p"] >= 1


def test_default_argon2_parameters_are_above_owasp_minimum(monkeypatch):
    from config import ProductionConfig

    for name in ("ARGON2_TIME_COST", "ARGON2_MEMORY_COST", "ARGON2_PARALLELISM"):
        monkeypatch.delenv(name, raising=False)
    config = ProductionConfig()
    assert config.ARGON2_MEMORY_COST >= 19456
    assert config.ARGON2_TIME_COST >= 2
    assert config.ARGON2_PARALLELISM >= 1


def test_two_users_with_one_password_get_different_hashes(app, make_user):
    first, second = make_user(), make_user()
    assert stored_hash(app, first.id) != stored_hash(app, second.id)


class StrongerHashing(Config):
    def __init__(self) -> None:
        super().__init__(database_url())
        self.ARGON2_TIME_COST = 3
        self.ARGON2_MEMORY_COST = 24576


@pytest.fixture
def stronger_client():
    return create_app(StrongerHashing()).test_client()


def test_login_rehashes_the_password_when_parameters_rise(app, user, stronger_client):
    assert argon2_params(stored_hash(app, user.id))["m"] == 19456
    assert login(stronger_client, user.username, PASSWORD).status_code == 200
    params = argon2_params(stored_hash(app, user.id))
    assert (params["m"], params["t"]) == (24576, 3)
    # The new hash still verifies, on either app.
    assert login(stronger_client, user.username, PASSWORD).status_code == 200


def test_failed_login_does_not_rehash(app, user, stronger_client):
    before = stored_hash(app, user.id)
    assert login(stronger_client, user.username, "not the password").status_code == 401
    assert stored_hash(app, user.id) == before
