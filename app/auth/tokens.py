"""Issuing and checking JWTs.

Every token carries the user's `ver` (token_version): a password change bumps it, and every
older token stops working (JWT `iat` has one-second resolution, so a time cut-off would misfire
on a quick re-login).

Every token also carries `fam`, its family: the login it descends from. Refresh tokens rotate
(OAuth 2.0 Security BCP §4.14.2): /token/refresh puts the refresh token it was given on the
blocklist and answers a new one of the same family. A used refresh token presented again means
two parties hold it, so the whole family is revoked: one blocklist row keyed `fam:<id>`, which
every token of the family is checked against. Logging out revokes the family too.

Tokens issued before families existed carry `rjti` (the refresh token issued with an access
token) instead, still honoured until they expire.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from flask import current_app, g
from flask_jwt_extended import create_access_token, create_refresh_token
from sqlalchemy import Row, bindparam, exists, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.auth.models import RevokedToken
from app.common.schemas import MAX_ID
from app.extensions import db, jwt
from app.users.models import User


def issue_tokens(user: User | Row, *, fresh: bool, family: str | None = None) -> dict:
    """A refresh token and an access token of one family (a new one at login)."""
    claims = {"ver": user.token_version, "fam": family or uuid.uuid4().hex}
    refresh = create_refresh_token(identity=str(user.id), additional_claims=claims)
    access = create_access_token(identity=str(user.id), fresh=fresh, additional_claims=claims)
    expires = current_app.config["JWT_ACCESS_TOKEN_EXPIRES"]
    return {
        "access_token": access,
        "token_type": "bearer",
        "expires_in": int(expires.total_seconds()),
        "refresh_token": refresh,
    }


def family_of(payload: dict) -> str:
    """A token's family; a refresh token from before families started its own."""
    return payload.get("fam") or payload["jti"]


def family_key(family: str) -> str:
    return f"fam:{family}"


def _blocklist_row(jti: str, expires: float) -> dict:
    return {"jti": jti, "expires_at": datetime.fromtimestamp(expires, UTC)}


def _insert_ignoring_duplicates(row: dict) -> bool:
    """Add a blocklist row; False if it was there already (committed by another request: on
    PostgreSQL the INSERT waits for that request's transaction to end)."""
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    stmt = insert(RevokedToken).values(**row).on_conflict_do_nothing().returning(RevokedToken.jti)
    return db.session.execute(stmt).scalar() is not None


def revoke(*payloads: dict) -> None:
    """Put tokens on the blocklist until they would have expired anyway."""
    for payload in payloads:
        _insert_ignoring_duplicates(_blocklist_row(payload["jti"], payload["exp"]))


def revoke_family(family: str) -> None:
    """Every token of the family stops working. Each was issued before now, so none outlives
    a refresh token's lifetime from now: the row can go then."""
    lifetime = current_app.config["JWT_REFRESH_TOKEN_EXPIRES"]
    expires = datetime.now(UTC).timestamp() + lifetime.total_seconds()
    _insert_ignoring_duplicates(_blocklist_row(family_key(family), expires))


def use_refresh_token(payload: dict) -> bool:
    """Mark a refresh token used; False if it already was (a concurrent refresh won)."""
    return _insert_ignoring_duplicates(_blocklist_row(payload["jti"], payload["exp"]))


#: What a request knows of its caller: the users row read with the token check, by Core (no
#: ORM object: this runs on every authenticated request, and most only need the id). The
#: password hash stays in the database. Built once.
CALLER_COLUMNS = [
    User.__table__.c[name]
    for name in (
        "id",
        "username",
        "username_canonical",
        "email",
        "token_version",
        "created_at",
        "transaction_count",
        "base_currency",
    )
]
#: A token is checked against at most three blocklist keys (its jti, its family, its refresh
#: token's jti), each NULL when it has none: three fixed parameters, not an expanding IN,
#: whose rendering per request was ~3 % of a `GET /users/me/` (profiled in a gunicorn worker).
TOKEN_USER = select(
    *CALLER_COLUMNS,
    exists()
    .where(RevokedToken.jti.in_([bindparam("jti"), bindparam("family"), bindparam("refresh")]))
    .label("revoked"),
).where(User.id == bindparam("user_id"))


def token_user(payload: dict) -> tuple[Row | None, bool]:
    """The token's user (a read-only row of CALLER_COLUMNS) and whether the token (or its
    refresh token) is revoked.

    One query for both, since it runs on every authenticated request; flask-jwt-extended asks
    for the two separately (blocklist, then user), so the answer is kept on `g` for the second.
    """
    cached = g.get("token_user")
    if cached is not None and cached[0] is payload:
        return cached[1], cached[2]
    try:
        user_id = int(payload["sub"])
    except (KeyError, TypeError, ValueError):
        user_id = None
    user, revoked = None, False
    if user_id is not None and 0 < user_id <= MAX_ID:
        keys = {
            "user_id": user_id,
            "jti": payload["jti"],
            "family": family_key(payload["fam"]) if payload.get("fam") else None,
            "refresh": payload.get("rjti") or None,
        }
        user = db.session.connection().execute(TOKEN_USER, keys).one_or_none()
        if user is not None:
            revoked = user.revoked
    g.token_user = (payload, user, revoked)
    return user, revoked


@jwt.token_in_blocklist_loader
def is_revoked(jwt_header: dict, payload: dict) -> bool:
    # flask-jwt-extended fills in a missing `jti` (None) and `type` ("access"): we never issue
    # such tokens, and one that cannot be put on the blocklist must not be accepted.
    if not payload.get("jti") or payload.get("type") not in ("access", "refresh"):
        return True
    revoked = token_user(payload)[1]
    if revoked and payload["type"] == "refresh":
        # Reuse of a used (or logged-out) refresh token: whoever holds its successors may be
        # the thief, so none of them may go on (OAuth 2.0 Security BCP, reuse detection).
        revoke_family(family_of(payload))
        db.session.commit()
    return revoked


@jwt.user_lookup_loader
def load_user(jwt_header: dict, payload: dict) -> Row | None:
    """The token's user (app.common.auth.caller), unless deleted or their tokens were
    invalidated since."""
    user = token_user(payload)[0]
    if user is None or payload.get("ver") != user.token_version:
        return None
    return user
