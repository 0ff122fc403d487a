"""Users: registration, profile changes and deletion. No request, no commit."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from app.common import passwords
from app.common.auth import caller
from app.common.errors import Conflict, Forbidden, Unauthorized, Unprocessable
from app.common.events import user_registered
from app.common.unset import UNSET
from app.extensions import db
from app.users.models import User, canonical_username, username_skeleton

#: Answered for a look-alike too: a 409, like a taken name, since it clashes with stored data.
CONFUSABLE = "That username is taken, or looks like one that is (Unicode confusables)."


def register(username: str, password: str, email: str | None) -> User:
    canonical = canonical_username(username)
    if db.session.scalar(select(User.id).where(User.username_canonical == canonical)):
        raise Conflict("That username is taken.")
    skeleton = username_skeleton(username)
    if db.session.scalar(select(User.id).where(User.username_skeleton == skeleton)):
        raise Conflict(CONFUSABLE)
    user = User(
        username=username,
        username_canonical=canonical,
        username_skeleton=skeleton,
        email=email,
        password_hash=passwords.hash_password(password),
    )
    db.session.add(user)
    db.session.flush()  # a concurrent twin fails here on the UNIQUE constraint: also a 409
    user_registered.send("users", user_id=user.id)  # the default categories (app.categories)
    return user


def caller_user() -> User:
    """The caller as a User, for a view that changes them (the token check read a read-only
    row, app.common.auth.caller), locked: two changes of one user wait for each other. A 401
    if they were deleted since the token check, as the check would have said."""
    user = db.session.scalars(
        select(User).where(User.id == caller().id).with_for_update()
    ).one_or_none()
    if user is None:
        raise Unauthorized("The token's user no longer exists.")
    return user


def update_profile(
    user: User, *, email: str | None = UNSET, base_currency: str | None = UNSET
) -> User:
    """Change the fields given (UNSET: as it was)."""
    if email is not UNSET:
        user.email = email
    if base_currency is not UNSET:
        user.base_currency = base_currency
    return user


def check_password(user: User, password: str) -> None:
    if not passwords.verify_password(user.password_hash, password):
        raise Forbidden("The password is wrong.")


def change_password(user: User, current_password: str, new_password: str) -> None:
    check_password(user, current_password)
    if problem := passwords.password_problem(new_password, user.username):
        raise Unprocessable(problem, field="new_password")
    user.password_hash = passwords.hash_password(new_password)
    invalidate_tokens(user)


def invalidate_tokens(user: User) -> None:
    """Every token issued so far stops working (their `ver` claim no longer matches)."""
    db.session.execute(
        update(User).where(User.id == user.id).values(token_version=User.token_version + 1)
    )
    db.session.refresh(user)


def delete_user(user: User) -> None:
    """The user and everything of theirs: every table that holds a user's rows references
    users.id with ON DELETE CASCADE, so the database removes them in the same statement."""
    db.session.execute(delete(User).where(User.id == user.id))
