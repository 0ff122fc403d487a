"""The ledger's invariant, checked: every account's balance equals its opening balance plus the
signed sum of its transactions (`flask ledger verify`, and the test suite after every test).
`ledger.rebuild` repairs what this finds."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from app.accounts.models import Account
from app.extensions import db
from app.ledger.effects import moves, totals


@dataclass(frozen=True)
class Discrepancy:
    account_id: int
    user_id: int
    currency: str
    balance: int
    expected: int


def verify(user_id: int | None = None) -> list[Discrepancy]:
    """Every account whose balance is not opening balance + signed sum of its transactions."""
    sums = totals(moves()).subquery()
    expected = Account.opening_balance + func.coalesce(sums.c.total, 0)
    stmt = (
        select(Account.id, Account.user_id, Account.currency, Account.balance, expected)
        .outerjoin(sums, sums.c.account_id == Account.id)
        .where(Account.balance != expected)
        .order_by(Account.id)
    )
    if user_id is not None:
        stmt = stmt.where(Account.user_id == user_id)
    return [Discrepancy(*row) for row in db.session.execute(stmt)]
