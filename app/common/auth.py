"""Who is calling (`caller`), and the one way to fetch a row of theirs.

The path's `user_id` is checked by `Blueprint.login_required(owner=True)` (app.common.api).
"""

from __future__ import annotations

from typing import Any, TypeVar

from flask_jwt_extended import current_user as jwt_current_user
from sqlalchemy import select

from app.common.errors import NotFound
from app.extensions import db

Model = TypeVar("Model")


def caller() -> Any:
    """Who is calling: their users row, read once per request with the token check
    (app.auth.tokens.CALLER_COLUMNS: id, username, email, created_at, base_currency,
    token_version, transaction_count). Read-only: a view that changes the user loads the
    User (app.users.service.caller_user)."""
    return jwt_current_user._get_current_object()


def get_owned(model: type[Model], object_id: int, user_id: int) -> Model:
    """The caller's row, or 404: another user's row looks exactly like a missing one."""
    obj = db.session.scalars(
        select(model).where(model.id == object_id, model.user_id == user_id)
    ).one_or_none()
    if obj is None:
        raise NotFound(f"{model.__name__} {object_id} not found.")
    return obj
