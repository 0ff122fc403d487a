"""Who is calling, and the one ownership check every resource uses."""

from __future__ import annotations

from typing import TypeVar

from flask_jwt_extended import current_user as jwt_current_user
from sqlalchemy import select

from app.errors import Forbidden, NotFound
from app.extensions import db
from app.users.models import User

Model = TypeVar("Model")


def current_user() -> User:
    return jwt_current_user._get_current_object()


def require_self(user_id: int) -> User:
    """The caller, if `user_id` (from the path) is theirs; else 403."""
    user = current_user()
    if user.id != user_id:
        raise Forbidden("You can only access your own data.")
    return user


def get_owned(model: type[Model], object_id: int, user_id: int, *, lock: bool = False) -> Model:
    """The caller's row, or 404: another user's row looks exactly like a missing one."""
    stmt = select(model).where(model.id == object_id, model.user_id == user_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    obj = db.session.scalars(stmt).one_or_none()
    if obj is None:
        raise NotFound(f"{model.__name__} {object_id} not found.")
    return obj
