"""The ledger's invariant, checked: every account's balance equals its opening balance plus the
signed sum of its transactions, and its cleared (reconciled) balance the same over its cleared
and reconciled (reconciled) sides only (`flask ledger verify`, and the test suite after every
test). `ledger.rebuild` repairs what this finds."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select

from app.accounts.models import Account
from app.extensions import db
from app.ledger.effects import moves, totals

#: The maintained columns, each with the totals() column it must equal beyond the opening.
COLUMNS = {"balance": "total", "cleared_balance": "cleared", "reconciled_balance": "reconciled"}


@dataclass(frozen=True)
class Discrepancy:
    account_id: int
    user_id: int
    currency: str
    balance: int
    expected: int
    #: Which maintained column is wrong: balance, cleared_balance or reconciled_balance, or
    #: a monthly rollup's sum (app.ledger.rollups.describe names it).
    column: str = "balance"
    #: False for a count (a rollup's number of transactions), not an amount.
    money: bool = True


def verify(user_id: int | None = None) -> list[Discrepancy]:
    """Every account column that is not opening balance + signed sum of its transactions."""
    sums = totals(moves()).subquery()
    expected = {
        column: Account.opening_balance + func.coalesce(sums.c[total], 0)
        for column, total in COLUMNS.items()
    }
    stmt = (
        select(
            Account.id,
            Account.user_id,
            Account.currency,
            *(getattr(Account, column) for column in COLUMNS),
            *expected.values(),
        )
        .outerjoin(sums, sums.c.account_id == Account.id)
        .where(or_(*(getattr(Account, column) != expected[column] for column in COLUMNS)))
        .order_by(Account.id)
    )
    if user_id is not None:
        stmt = stmt.where(Account.user_id == user_id)
    wrong = []
    for account_id, owner, currency, *values in db.session.execute(stmt):
        kept, right = values[: len(COLUMNS)], values[len(COLUMNS) :]
        for column, value, should in zip(COLUMNS, kept, right, strict=True):
            if value != should:
                wrong.append(Discrepancy(account_id, owner, currency, value, should, column))
    return wrong
