"""The Budget model."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.common.db import TimestampMixin
from app.common.money import MAX_AMOUNT_MINOR
from app.extensions import db


class Budget(TimestampMixin, db.Model):
    """`amount` a month for an expense category, in one currency: for the month `start_month`
    only, or (`recurring`) every month from it; with `rollover`, a month's unspent part is
    added to the next month's."""

    __tablename__ = "budgets"
    __table_args__ = (
        sa.CheckConstraint(f"amount > 0 AND amount < {MAX_AMOUNT_MINOR}", name="amount_range"),
        # One budget per category, currency and starting month.
        sa.UniqueConstraint(
            "user_id",
            "category_id",
            "currency",
            "start_month",
            name="uq_budgets_user_id_category_id_currency_start_month",
        ),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    category_id: Mapped[int] = mapped_column(
        sa.ForeignKey("categories.id", ondelete="CASCADE"), nullable=False
    )
    currency: Mapped[str] = mapped_column(sa.String(3), nullable=False)
    #: Minor units of `currency`.
    amount: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    #: The first day of the (first) month it is for.
    start_month: Mapped[date] = mapped_column(sa.Date, nullable=False)
    recurring: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    rollover: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
