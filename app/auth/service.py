"""Logging in: the password check behind POST /token. No request, no commit."""

from __future__ import annotations

from sqlalchemy import select

from app.common import passwords
from app.extensions import db
from app.users.models import User, canonical_username


def authenticate(username: str, password: str) -> User | None:
    """The user if the password is right; the same time and answer whether or not they exist."""
    user = db.session.scalar(
        select(User).where(User.username_canonical == canonical_username(username))
    )
    if user is None:
        passwords.burn_time(password)
        return None
    if not passwords.verify_password(user.password_hash, password):
        return None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    return user
