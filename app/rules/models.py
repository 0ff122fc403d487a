"""The Rule model."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

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
    #: The rule goes with its category: a rule that sets nothing would be a surprise.
    category_id: Mapped[int] = mapped_column(
        sa.ForeignKey("categories.id", ondelete="CASCADE"), nullable=False, index=True
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

    def __repr__(self) -> str:
        return f"<Rule {self.id} {self.match} {self.pattern!r}>"
