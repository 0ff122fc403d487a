"""Users: registration, profile changes and deletion. No request, no commit."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from app.accounts.models import Account
from app.auth import passwords
from app.categories.models import DEFAULT_CATEGORIES, Category
from app.errors import Conflict, Forbidden, Unprocessable
from app.extensions import db
from app.transactions.models import Transaction
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
    db.session.add_all(
        Category(user_id=user.id, name=name, kind=kind) for name, kind in DEFAULT_CATEGORIES
    )
    return user


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


def check_password(user: User, password: str) -> None:
    if not passwords.verify_password(user.password_hash, password):
        raise Forbidden("The password is wrong.")


def change_password(user: User, current_password: str, new_password: str) -> None:
    check_password(user, current_password)
    if problem := passwords.password_problem(new_password, user.username):
        raise Unprocessable.field("new_password", problem)
    user.password_hash = passwords.hash_password(new_password)
    invalidate_tokens(user)


def invalidate_tokens(user: User) -> None:
    """Every token issued so far stops working (their `ver` claim no longer matches)."""
    db.session.execute(
        update(User).where(User.id == user.id).values(token_version=User.token_version + 1)
    )
    db.session.refresh(user)


def delete_user(user: User) -> None:
    """The user and everything of theirs, children before parents (no cascade needed)."""
    for model in (Transaction, Account, Category):
        db.session.execute(delete(model).where(model.user_id == user.id))
    db.session.execute(delete(User).where(User.id == user.id))


def count_transactions(user_id: int, delta: int) -> None:
    """Keep users.transaction_count in step with the rows, atomically, like a balance.

    Every writer takes this row last, after its transaction and account locks.
    """
    db.session.execute(
        update(User)
        .where(User.id == user_id)
        .values(transaction_count=User.transaction_count + delta),
        execution_options={"synchronize_session": False},
    )
