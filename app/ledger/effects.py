"""The effect rule: what a transaction does to balances, said once (SIGNS) and read both in
Python (to post, amend and reverse one transaction) and in SQL (to total many: closing an
account, verifying and rebuilding balances).

A transaction's effect is a list of `(account_id, delta)` in minor units: income `+a`, expense
`-a`, a transfer `-a` on its source and `+a` on its destination.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, Select, case, func, literal, select

from app.transactions.models import TRANSACTION_TYPES, Transaction

Effect = tuple[int, int]

#: type -> (sign on account_id, sign on transfer_account_id, or None when it has none)
SIGNS: dict[str, tuple[int, int | None]] = {
    "income": (1, None),
    "expense": (-1, None),
    "transfer": (-1, 1),
}
assert set(SIGNS) == set(TRANSACTION_TYPES)  # a new type must say what it does to balances


def effects(
    type_: str, account_id: int, transfer_account_id: int | None, amount: int
) -> list[Effect]:
    """What a transaction of this shape does to balances."""
    if type_ not in SIGNS:
        raise ValueError(f"unknown transaction type {type_!r}")
    source, destination = SIGNS[type_]
    changes = [(account_id, source * amount)]
    if destination is not None:
        changes.append((transfer_account_id, destination * amount))
    return changes


def effects_of(txn: Transaction) -> list[Effect]:
    return effects(txn.type, txn.account_id, txn.transfer_account_id, txn.amount)


def negated(changes: Iterable[Effect]) -> list[Effect]:
    return [(account_id, -delta) for account_id, delta in changes]


def _sign(column: int) -> ColumnElement:
    """The SIGNS column (0: source, 1: destination) as a CASE on Transaction.type."""
    whens = {type_: signs[column] for type_, signs in SIGNS.items() if signs[column] is not None}
    return case(whens, value=Transaction.type, else_=literal(0))


def moves(*where: ColumnElement) -> Select:
    """SELECT account_id, delta: one row per balance that each transaction matching `where`
    moves (a transfer gives two rows)."""
    with_destination = [type_ for type_, (_, sign) in SIGNS.items() if sign is not None]
    source = select(
        Transaction.account_id.label("account_id"), (_sign(0) * Transaction.amount).label("delta")
    ).where(*where)
    destination = select(
        Transaction.transfer_account_id.label("account_id"),
        (_sign(1) * Transaction.amount).label("delta"),
    ).where(Transaction.type.in_(with_destination), *where)
    return source.union_all(destination)


def totals(moves_select: Select) -> Select:
    """SELECT account_id, total: `moves_select` summed per account."""
    rows = moves_select.subquery()
    return select(rows.c.account_id, func.sum(rows.c.delta).label("total")).group_by(
        rows.c.account_id
    )
