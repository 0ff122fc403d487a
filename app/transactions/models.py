"""The Transaction model. Balances follow it through app.ledger, never directly."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.common.db import TimestampMixin, enum_column
from app.common.money import MAX_AMOUNT_MINOR
from app.extensions import db

TRANSACTION_TYPES = ("income", "expense", "transfer")
#: Where a transaction stands against the bank: entered (pending), seen on the account
#: (cleared), or checked against a statement (reconciled, set only by a reconcile).
STATUSES = ("pending", "cleared", "reconciled")
#: The statuses counted in an account's cleared balance.
CLEARED = ("cleared", "reconciled")


class Transaction(TimestampMixin, db.Model):
    __tablename__ = "transactions"
    __table_args__ = (
        sa.CheckConstraint(f"amount > 0 AND amount < {MAX_AMOUNT_MINOR}", name="amount_range"),
        # A transfer has a destination other than its source; income and expense have none.
        sa.CheckConstraint(
            "(type = 'transfer' AND transfer_account_id IS NOT NULL"
            " AND transfer_account_id <> account_id)"
            " OR (type <> 'transfer' AND transfer_account_id IS NULL)",
            name="transfer_destination",
        ),
        # A transfer's destination side: what arrived (in the destination's currency) and its
        # status there; income and expense have none.
        sa.CheckConstraint(
            "(type = 'transfer' AND transfer_amount IS NOT NULL AND transfer_currency IS NOT NULL"
            " AND transfer_status IS NOT NULL AND transfer_amount > 0"
            f" AND transfer_amount < {MAX_AMOUNT_MINOR})"
            " OR (type <> 'transfer' AND transfer_amount IS NULL AND transfer_currency IS NULL"
            " AND transfer_status IS NULL)",
            name="transfer_side",
        ),
        sa.UniqueConstraint("account_id", "import_id", name="uq_transactions_account_id_import_id"),
        # The list filters: by date, by account, by category, each within one user.
        sa.Index("ix_transactions_user_id_date_id", "user_id", "date", "id"),
        sa.Index("ix_transactions_user_id_account_id_date", "user_id", "account_id", "date"),
        sa.Index("ix_transactions_user_id_category_id_date", "user_id", "category_id", "date"),
        sa.Index(
            "ix_transactions_user_id_transfer_account_id_date",
            "user_id",
            "transfer_account_id",
            "date",
        ),
        sa.Index("ix_transactions_user_id_amount_scaled_id", "user_id", "amount_scaled", "id"),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
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
        enum_column(*TRANSACTION_TYPES, name="transaction_type"), nullable=False
    )
    #: Minor units of `currency`, always positive: `type` gives the direction.
    amount: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    #: The account's currency, kept on the row so a page of transactions needs no join.
    currency: Mapped[str] = mapped_column(sa.String(3), nullable=False)
    #: amount x 10^(4 - currency digits): one scale on which JPY 1200 > USD 12.50, so that
    #: amount filters and sorting compare decimal values as written, in SQL, on an index.
    amount_scaled: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    #: A transfer's destination side, in minor units of `transfer_currency` (the destination
    #: account's): what arrived. Equal to `amount` when both accounts hold one currency.
    transfer_amount: Mapped[int | None] = mapped_column(sa.BigInteger)
    transfer_currency: Mapped[str | None] = mapped_column(sa.String(3))
    #: The source side's status (the account_id side), and a transfer's destination side's:
    #: each side is on its own bank statement and is reconciled with its own account.
    status: Mapped[str] = mapped_column(
        enum_column(*STATUSES, name="transaction_status"), nullable=False, default="pending"
    )
    transfer_status: Mapped[str | None] = mapped_column(
        enum_column(*STATUSES, name="transaction_transfer_status")
    )
    date: Mapped[date] = mapped_column(sa.Date, nullable=False)
    description: Mapped[str] = mapped_column(sa.String(500), nullable=False, default="")
    payee: Mapped[str | None] = mapped_column(sa.String(200))
    import_id: Mapped[str | None] = mapped_column(sa.String(255))

    def __repr__(self) -> str:
        return f"<Transaction {self.id} {self.type} {self.amount} {self.currency}>"
