"""The ledger: the only code that changes account balances.

A transaction's effect is a list of `(account_id, delta)` in minor units: income `+a`, expense
`-a`, a transfer `-a` on its source and `+a` on its destination. Creating a transaction applies
its effect, deleting applies the negation, updating applies old-negated plus new.

Balances change only through `UPDATE accounts SET balance = balance + :delta`, in ascending
account id order, inside the caller's database transaction: never read-modify-write, which
loses updates under concurrency. Nothing here commits or knows about Flask.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from app.accounts.models import Account
from app.common.db import utcnow
from app.transactions.models import Transaction

Effect = tuple[int, int]


def effects(
    type_: str, account_id: int, transfer_account_id: int | None, amount: int
) -> list[Effect]:
    """What a transaction of this shape does to balances."""
    if type_ == "income":
        return [(account_id, amount)]
    if type_ == "expense":
        return [(account_id, -amount)]
    if type_ == "transfer":
        return [(account_id, -amount), (transfer_account_id, amount)]
    raise ValueError(f"unknown transaction type {type_!r}")


def effects_of(txn: Transaction) -> list[Effect]:
    return effects(txn.type, txn.account_id, txn.transfer_account_id, txn.amount)


def negated(changes: Iterable[Effect]) -> list[Effect]:
    return [(account_id, -delta) for account_id, delta in changes]


def apply(session: Session, *changes: Iterable[Effect]) -> None:
    """Add every delta to its account's balance atomically, in ascending account order.

    Deltas on the same account are summed first, so an update that leaves an account
    unchanged touches nothing. A result beyond the balance bound fails the CHECK constraint.
    """
    totals: dict[int, int] = defaultdict(int)
    for change in changes:
        for account_id, delta in change:
            totals[account_id] += delta
    now = utcnow()
    for account_id in sorted(totals):
        if totals[account_id]:
            session.execute(
                update(Account)
                .where(Account.id == account_id)
                .values(balance=Account.balance + totals[account_id], updated_at=now),
                execution_options={"synchronize_session": "fetch"},
            )


def post(session: Session, txn: Transaction) -> None:
    apply(session, effects_of(txn))


def reverse(session: Session, txn: Transaction) -> None:
    apply(session, negated(effects_of(txn)))


def signed_sum_by_account(account_ids: Iterable[int] | None = None):
    """SELECT account_id, signed sum of its transactions (transfers counted on both sides)."""
    outgoing = select(
        Transaction.account_id.label("account_id"),
        case((Transaction.type == "income", Transaction.amount), else_=-Transaction.amount).label(
            "delta"
        ),
    )
    incoming = select(
        Transaction.transfer_account_id.label("account_id"), Transaction.amount.label("delta")
    ).where(Transaction.type == "transfer")
    if account_ids is not None:
        ids = list(account_ids)
        outgoing = outgoing.where(Transaction.account_id.in_(ids))
        incoming = incoming.where(Transaction.transfer_account_id.in_(ids))
    moves = outgoing.union_all(incoming).subquery()
    return select(moves.c.account_id, func.sum(moves.c.delta).label("total")).group_by(
        moves.c.account_id
    )


@dataclass(frozen=True)
class Discrepancy:
    account_id: int
    user_id: int
    balance: int
    expected: int


def verify(session: Session, user_id: int | None = None) -> list[Discrepancy]:
    """Every account whose balance is not opening balance + signed sum of its transactions."""
    sums = signed_sum_by_account().subquery()
    expected = Account.opening_balance + func.coalesce(sums.c.total, 0)
    stmt = (
        select(Account.id, Account.user_id, Account.balance, expected)
        .outerjoin(sums, sums.c.account_id == Account.id)
        .where(Account.balance != expected)
        .order_by(Account.id)
    )
    if user_id is not None:
        stmt = stmt.where(Account.user_id == user_id)
    return [Discrepancy(*row) for row in session.execute(stmt)]


def rebuild(session: Session) -> list[Discrepancy]:
    """Correct every wrong balance from its transactions; returns what was corrected.

    Locks every account first, so no write slips in between measuring and correcting.
    """
    session.execute(select(Account.id).order_by(Account.id).with_for_update())
    wrong = verify(session)
    apply(session, [(item.account_id, item.expected - item.balance) for item in wrong])
    return wrong
