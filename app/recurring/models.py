"""The schedule of a recurring transaction and the occurrences it has posted."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.common.db import TimestampMixin, enum_column
from app.common.money import MAX_AMOUNT_MINOR
from app.extensions import db

UNITS = ("day", "week", "month", "year")
#: What a schedule posts: the transaction types (models import no other resource's models;
#: tests/test_recurring.py checks the two lists agree).
TYPES = ("income", "expense", "transfer")


class RecurringTransaction(TimestampMixin, db.Model):
    """A template transaction (what to post) and a schedule (when): every `every` units from
    `start_date`, up to `end_date` and at most `count` times when given."""

    __tablename__ = "recurring_transactions"
    __table_args__ = (
        sa.CheckConstraint(f"amount > 0 AND amount < {MAX_AMOUNT_MINOR}", name="amount_range"),
        sa.CheckConstraint("every > 0", name="every_positive"),
        sa.CheckConstraint("count IS NULL OR count > 0", name="count_positive"),
        sa.CheckConstraint("end_date IS NULL OR end_date >= start_date", name="end_after_start"),
        # A transfer's destination side, as on a transaction: what arrives, in the
        # destination's currency; income and expense have none.
        sa.CheckConstraint(
            "(type = 'transfer' AND transfer_amount IS NOT NULL AND transfer_currency IS NOT NULL"
            f" AND transfer_amount > 0 AND transfer_amount < {MAX_AMOUNT_MINOR})"
            " OR (type <> 'transfer' AND transfer_amount IS NULL AND transfer_currency IS NULL)",
            name="transfer_side",
        ),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    # A schedule goes with its account, as the account's transactions do.
    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    )
    transfer_account_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("accounts.id", ondelete="CASCADE")
    )
    category_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("categories.id", ondelete="SET NULL")
    )
    type: Mapped[str] = mapped_column(
        enum_column(*TYPES, name="recurring_transaction_type"), nullable=False
    )
    #: Minor units of `currency` (the account's when the schedule was written).
    amount: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(sa.String(3), nullable=False)
    #: A transfer's destination side: what arrives at transfer_account_id each time, in
    #: minor units of `transfer_currency` (its currency); equal to `amount` when both accounts
    #: hold one currency. Null for income and expense.
    transfer_amount: Mapped[int | None] = mapped_column(sa.BigInteger)
    transfer_currency: Mapped[str | None] = mapped_column(sa.String(3))
    description: Mapped[str] = mapped_column(sa.String(500), nullable=False, default="")
    payee: Mapped[str | None] = mapped_column(sa.String(200))
    unit: Mapped[str] = mapped_column(enum_column(*UNITS, name="recurring_unit"), nullable=False)
    every: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)
    start_date: Mapped[date] = mapped_column(sa.Date, nullable=False)
    end_date: Mapped[date | None] = mapped_column(sa.Date)
    count: Mapped[int | None] = mapped_column(sa.Integer)


class RecurringOccurrence(db.Model):
    """One date of a schedule that has been posted. Its primary key is the "exactly once": a
    second posting of the same date, however it races, cannot be written. It stays when the
    posted transaction is deleted, so that a deleted occurrence is not posted again."""

    __tablename__ = "recurring_occurrences"

    recurring_id: Mapped[int] = mapped_column(
        sa.ForeignKey("recurring_transactions.id", ondelete="CASCADE"), primary_key=True
    )
    date: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    transaction_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("transactions.id", ondelete="SET NULL")
    )
