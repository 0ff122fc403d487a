"""Issuing and checking JWTs.

Every token carries the user's `ver` (token_version): a password change bumps it, and every
older token stops working (JWT `iat` has one-second resolution, so a time cut-off would misfire
on a quick re-login). Access tokens carry `rjti`, the id of the refresh token issued with them,
so that logging out revokes both.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, g
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token
from sqlalchemy import bindparam, exists, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from app.auth.models import RevokedToken
from app.common.schemas import MAX_ID
from app.extensions import db, jwt
from app.users.models import User


def issue_tokens(user: User, *, fresh: bool) -> dict:
    """A refresh token and an access token tied to it."""
    refresh = create_refresh_token(
        identity=str(user.id), additional_claims={"ver": user.token_version}
    )
    refresh_jti = decode_token(refresh)["jti"]
    return {
        **issue_access_token(user, refresh_jti=refresh_jti, fresh=fresh),
        "refresh_token": refresh,
    }


def issue_access_token(user: User, *, refresh_jti: str, fresh: bool) -> dict:
    access = create_access_token(
        identity=str(user.id),
        fresh=fresh,
        additional_claims={"ver": user.token_version, "rjti": refresh_jti},
    )
    expires = current_app.config["JWT_ACCESS_TOKEN_EXPIRES"]
    return {
        "access_token": access,
        "token_type": "bearer",
        "expires_in": int(expires.total_seconds()),
    }


def revoke(*payloads: dict) -> None:
    """Put tokens on the blocklist until they would have expired anyway."""
    for payload in payloads:
        row = {
            "jti": payload["jti"],
            "expires_at": datetime.fromtimestamp(payload["exp"], UTC),
        }
        if db.engine.dialect.name == "postgresql":
            db.session.execute(pg_insert(RevokedToken).values(**row).on_conflict_do_nothing())
        elif db.session.get(RevokedToken, row["jti"]) is None:
            db.session.add(RevokedToken(**row))


#: Built once: this runs on every authenticated request.
TOKEN_USER = select(
    User, exists().where(RevokedToken.jti.in_(bindparam("jtis", expanding=True)))
).where(User.id == bindparam("user_id"))


def token_user(payload: dict) -> tuple[User | None, bool]:
    """The token's user and whether the token (or its refresh token) is revoked.

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
        jtis = [payload["jti"]] + ([payload["rjti"]] if payload.get("rjti") else [])
        row = db.session.execute(TOKEN_USER, {"user_id": user_id, "jtis": jtis}).one_or_none()
        if row is not None:
            user, revoked = row
    g.token_user = (payload, user, revoked)
    return user, revoked


@jwt.token_in_blocklist_loader
def is_revoked(jwt_header: dict, payload: dict) -> bool:
    # flask-jwt-extended fills in a missing `jti` (None) and `type` ("access"): we never issue
    # such tokens, and one that cannot be put on the blocklist must not be accepted.
    if not payload.get("jti") or payload.get("type") not in ("access", "refresh"):
        return True
    return token_user(payload)[1]


@jwt.user_lookup_loader
def load_user(jwt_header: dict, payload: dict) -> User | None:
    """The token's user, unless deleted or their tokens were invalidated since."""
    user = token_user(payload)[0]
    if user is None or payload.get("ver") != user.token_version:
        return None
    return user
