"""Categories: each user's own, unique by name, optionally nested. No request, no commit."""

from __future__ import annotations

from sqlalchemy import delete, select

from app.categories.models import Category
from app.common.auth import get_owned
from app.errors import Unprocessable
from app.extensions import db


def create(user_id: int, data: dict) -> Category:
    if data.get("parent_id") is not None:
        get_owned(Category, data["parent_id"], user_id)
    category = Category(user_id=user_id, **data)
    db.session.add(category)
    db.session.flush()
    return category


def update(user_id: int, category_id: int, data: dict) -> Category:
    category = get_owned(Category, category_id, user_id)
    if data.get("parent_id") is not None:
        check_parent(user_id, category, data["parent_id"])
    for key, value in data.items():
        setattr(category, key, value)
    db.session.flush()
    return category


def check_parent(user_id: int, category: Category, parent_id: int) -> None:
    """The parent must be the caller's and must not be the category or one of its descendants."""
    seen = {category.id}
    current: int | None = parent_id
    while current is not None:
        if current in seen:
            raise Unprocessable.field("parent_id", "A category cannot be its own ancestor.")
        seen.add(current)
        current = get_owned(Category, current, user_id).parent_id


def delete_category(user_id: int, category_id: int) -> None:
    """Its transactions become uncategorised and its children top-level (ON DELETE SET NULL)."""
    get_owned(Category, category_id, user_id)
    db.session.execute(delete(Category).where(Category.id == category_id))


def list_stmt(user_id: int):
    """The caller's categories (unordered: the pager or the caller orders them)."""
    return select(Category).where(Category.user_id == user_id)
