"""The Category model."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.common.db import enum_column
from app.extensions import db

CATEGORY_KINDS = ("income", "expense")
#: Room for a 100-character name once folded (NFKC can lengthen text; see the service).
NAME_CANONICAL_LENGTH = 400

#: What a new user starts with: enough to classify a first month without setup.
DEFAULT_CATEGORIES = (
    ("Salary", "income"),
    ("Other income", "income"),
    ("Groceries", "expense"),
    ("Housing", "expense"),
    ("Utilities", "expense"),
    ("Transport", "expense"),
    ("Dining out", "expense"),
    ("Health", "expense"),
    ("Entertainment", "expense"),
    ("Shopping", "expense"),
)


class Category(db.Model):
    __tablename__ = "categories"
    __table_args__ = (
        # Unique ignoring case: "groceries" is the existing "Groceries".
        sa.UniqueConstraint(
            "user_id", "name_canonical", name="uq_categories_user_id_name_canonical"
        ),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    #: app.common.text.fold(name), set with it by app.categories.service.
    name_canonical: Mapped[str] = mapped_column(sa.String(NAME_CANONICAL_LENGTH), nullable=False)
    kind: Mapped[str] = mapped_column(
        enum_column(*CATEGORY_KINDS, name="category_kind"), nullable=False, default="expense"
    )
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("categories.id", ondelete="SET NULL"), index=True
    )

    def __repr__(self) -> str:
        return f"<Category {self.id} {self.name!r}>"
