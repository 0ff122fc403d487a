"""The monthly rollups: per month, what the reports and budgets would otherwise add up from a
million rows. Kept by app.ledger (app/ledger/rollups.py) in the same database transaction as
the rows they total, by atomic increments; `ledger.verify` compares them with the rows and
`ledger.rebuild` recomputes them.

Every row is one account's, in its currency (part of the key: an account without
transactions may change currency, and its zero rows keep the old one), so a writer holding
that account's lock (the ledger's protocol) is the only one changing it. A row that reaches
zero stays (a zero adds nothing). `category_id` 0 and `payee` '' mean none: a primary key
takes no NULL, and the upserts need one key to meet on. The primary key leads with
(user_id, month): a report reads a user's range of months from it.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db

#: The kinds of month_totals rows: what a transaction's side does to its account. Income and
#: expense are the flows (in their categories, split parts in their own); a transfer is a
#: transfer_out of its source and a transfer_in (its transfer_amount) of its destination.
KINDS = ("income", "expense", "transfer_out", "transfer_in")
#: month_totals.category_id and payee_months.payee for "none".
NO_CATEGORY = 0
NO_PAYEE = ""


def user_column() -> Mapped[int]:
    return mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )


def account_column() -> Mapped[int]:
    # Deleting an account drops its rows (app.ledger.close_account has taken the other sides
    # of its transfers out first).
    return mapped_column(
        sa.ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )


class MonthTotal(db.Model):
    """Per account, month, kind and category: the sum of the amounts (minor units of
    `currency`, the account's). Summary, cashflow, budgets and net worth read these."""

    __tablename__ = "month_totals"
    user_id: Mapped[int] = user_column()
    #: The first day of the month.
    month: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    account_id: Mapped[int] = account_column()
    kind: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    #: No foreign key: 0 is "uncategorised"; deleting a category moves its rows to 0 first.
    category_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    currency: Mapped[str] = mapped_column(sa.String(3), primary_key=True)
    amount: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)


class FlowMonth(db.Model):
    """Per account, month and kind: the sum of the amounts, whole (a split transaction's as
    one). Cashflow reads the income and expense rows; net worth all four, signed as the
    ledger's effect rule moves balances (income and transfer_in +, expense and
    transfer_out -): a balance at a month's end is its opening balance plus these."""

    __tablename__ = "flow_months"

    user_id: Mapped[int] = user_column()
    month: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    account_id: Mapped[int] = account_column()
    kind: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    currency: Mapped[str] = mapped_column(sa.String(3), primary_key=True)
    amount: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)


class PayeeMonth(db.Model):
    """Per account, month and payee: the expenses' sum and count. Top payees reads these."""

    __tablename__ = "payee_months"
    user_id: Mapped[int] = user_column()
    month: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    account_id: Mapped[int] = account_column()
    #: The payee as written; '' for none (null or empty: one "no payee" line).
    payee: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    currency: Mapped[str] = mapped_column(sa.String(3), primary_key=True)
    amount: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    count: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)


class TagMonth(db.Model):
    """Per account, month, flow (income or expense) and tag: the sum of the tagged
    transactions' amounts. The summary's tag totals read these."""

    __tablename__ = "tag_months"
    user_id: Mapped[int] = user_column()
    month: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    account_id: Mapped[int] = account_column()
    kind: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    tag: Mapped[str] = mapped_column(sa.String(50), primary_key=True)
    currency: Mapped[str] = mapped_column(sa.String(3), primary_key=True)
    amount: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
