"""The Account model. `balance` is written only by app.ledger."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.common.db import TimestampMixin, enum_column
from app.common.money import MAX_AMOUNT_MINOR, MAX_BALANCE_MINOR
from app.extensions import db

ACCOUNT_TYPES = ("checking", "savings", "credit_card", "cash", "investment", "loan", "other")


class Account(TimestampMixin, db.Model):
    __tablename__ = "accounts"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "name", name="uq_accounts_user_id_name"),
        sa.CheckConstraint(
            f"opening_balance > -{MAX_AMOUNT_MINOR} AND opening_balance < {MAX_AMOUNT_MINOR}",
            name="opening_balance_range",
        ),
        sa.CheckConstraint(
            f"balance >= -{MAX_BALANCE_MINOR} AND balance <= {MAX_BALANCE_MINOR}",
            name="balance_range",
        ),
        sa.CheckConstraint(
            f"cleared_balance >= -{MAX_BALANCE_MINOR} AND cleared_balance <= {MAX_BALANCE_MINOR}"
            f" AND reconciled_balance >= -{MAX_BALANCE_MINOR}"
            f" AND reconciled_balance <= {MAX_BALANCE_MINOR}",
            name="status_balances_range",
        ),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    type: Mapped[str] = mapped_column(
        enum_column(*ACCOUNT_TYPES, name="account_type"), nullable=False, default="checking"
    )
    currency: Mapped[str] = mapped_column(sa.String(3), nullable=False, default="USD")
    opening_balance: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    balance: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    #: opening_balance plus the cleared and reconciled transactions (its side of them), and
    #: plus the reconciled ones only: kept by app.ledger with balance, in the same statements.
    cleared_balance: Mapped[int] = mapped_column(
        sa.BigInteger, nullable=False, default=0, server_default="0"
    )
    reconciled_balance: Mapped[int] = mapped_column(
        sa.BigInteger, nullable=False, default=0, server_default="0"
    )
    archived: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)

    @property
    def owner_id(self) -> int:
        return self.user_id

    def __repr__(self) -> str:
        return f"<Account {self.id} {self.name!r} {self.currency}>"
