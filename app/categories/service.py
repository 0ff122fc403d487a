"""Categories: each user's own, unique by name ignoring case, optionally nested.
No request, no commit."""

from __future__ import annotations

from sqlalchemy import delete, select

from app import ledger
from app.categories.models import DEFAULT_CATEGORIES, NAME_CANONICAL_LENGTH, Category
from app.common.auth import get_owned
from app.common.errors import Conflict, Unprocessable
from app.common.events import user_registered
from app.common.text import fold
from app.common.unset import UNSET
from app.extensions import db


def canonical_name(user_id: int, name: str, *, exclude: int | None = None) -> str:
    """The folded name, if the user has no other category of that name (409 otherwise; the
    unique constraint catches a concurrent twin)."""
    folded = fold(name)
    if len(folded) > NAME_CANONICAL_LENGTH:
        raise Unprocessable("Too long once its Unicode form is normalised.", field="name")
    clash = select(Category.id).where(
        Category.user_id == user_id, Category.name_canonical == folded, Category.id != exclude
    )
    if db.session.scalar(clash) is not None:
        raise Conflict("You already have a category with that name.")
    return folded


def create(user_id: int, *, name: str, kind: str = "expense", parent_id: int | None = None):
    if parent_id is not None:
        get_owned(Category, parent_id, user_id)
    category = Category(
        user_id=user_id,
        name=name,
        name_canonical=canonical_name(user_id, name),
        kind=kind,
        parent_id=parent_id,
    )
    db.session.add(category)
    db.session.flush()
    return category


@user_registered.connect
def create_defaults(sender: object, *, user_id: int, **extra: object) -> None:
    """A new user's starting set (no clash possible: they have none yet)."""
    db.session.add_all(
        Category(user_id=user_id, name=name, name_canonical=fold(name), kind=kind)
        for name, kind in DEFAULT_CATEGORIES
    )


def update(
    user_id: int,
    category_id: int,
    *,
    name: str = UNSET,
    kind: str = UNSET,
    parent_id: int | None = UNSET,
) -> Category:
    """Change the fields given (UNSET: as it was)."""
    category = get_owned(Category, category_id, user_id)
    if name is not UNSET:
        category.name_canonical = canonical_name(user_id, name, exclude=category.id)
        category.name = name
    if kind is not UNSET:
        category.kind = kind
    if parent_id is not UNSET:
        if parent_id is not None:
            check_parent(user_id, category, parent_id)
        category.parent_id = parent_id
    db.session.flush()
    return category


def check_parent(user_id: int, category: Category, parent_id: int) -> None:
    """The parent must be the caller's and must not be the category or one of its descendants."""
    seen = {category.id}
    current: int | None = parent_id
    while current is not None:
        if current in seen:
            raise Unprocessable("A category cannot be its own ancestor.", field="parent_id")
        seen.add(current)
        current = get_owned(Category, current, user_id).parent_id


def delete_category(user_id: int, category_id: int) -> None:
    """Its transactions become uncategorised and its children top-level (ON DELETE SET NULL);
    the ledger moves their amounts to the uncategorised line of its monthly rollups."""
    get_owned(Category, category_id, user_id)
    with ledger.rewriting(user_id, ledger.in_category(user_id, category_id)):
        db.session.execute(delete(Category).where(Category.id == category_id))


def list_stmt(user_id: int):
    """The caller's categories (unordered: the pager or the caller orders them)."""
    return select(Category).where(Category.user_id == user_id)
