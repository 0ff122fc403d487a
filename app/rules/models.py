"""The Rule model."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.common.db import TimestampMixin, enum_column
from app.extensions import db

RULE_FIELDS = ("any", "description", "payee")
RULE_MATCHES = ("contains", "regex")


class Rule(TimestampMixin, db.Model):
    __tablename__ = "rules"
    __table_args__ = (
        sa.CheckConstraint(
            "min_amount_scaled IS NULL OR max_amount_scaled IS NULL"
            " OR min_amount_scaled <= max_amount_scaled",
            name="amount_range_ordered",
        ),
        sa.Index("ix_rules_user_id_priority_id", "user_id", "priority", "id"),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    #: The category it gives, or null for a rule that only adds tags (app.rules.service
    #: refuses a rule that would set neither). The rule goes with its category.
    category_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("categories.id", ondelete="CASCADE"), index=True
    )
    field: Mapped[str] = mapped_column(
        enum_column(*RULE_FIELDS, name="rule_field"), nullable=False, default="any"
    )
    match: Mapped[str] = mapped_column(
        enum_column(*RULE_MATCHES, name="rule_match"), nullable=False, default="contains"
    )
    pattern: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    #: Bounds on the amount, on the transactions' common scale (10^-4: see
    #: Transaction.amount_scaled), inclusive; null for none.
    min_amount_scaled: Mapped[int | None] = mapped_column(sa.BigInteger)
    max_amount_scaled: Mapped[int | None] = mapped_column(sa.BigInteger)
    #: Lower first; the first rule that matches gives the category.
    priority: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=100)

    tag_rows: Mapped[list[RuleTag]] = relationship(
        order_by="RuleTag.tag",
        cascade="all, delete-orphan",
        passive_deletes=True,
        lazy="selectin",
    )

    @property
    def tags(self) -> list[str]:
        return [row.tag for row in self.tag_rows]

    def __repr__(self) -> str:
        return f"<Rule {self.id} {self.match} {self.pattern!r}>"


class RuleTag(db.Model):
    """A tag a rule adds to the transactions it matches; a rule has each tag at most once."""

    __tablename__ = "rule_tags"

    rule_id: Mapped[int] = mapped_column(
        sa.ForeignKey("rules.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(sa.String(50), primary_key=True)
