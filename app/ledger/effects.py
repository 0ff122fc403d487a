"""The effect rule: what a transaction does to balances, said once (SIGNS) and read both in
Python (to post, amend and reverse one transaction) and in SQL (to total many: closing an
account, verifying and rebuilding balances).

A transaction's effect is a list of `(account_id, delta)` in minor units: income `+a`, expense
`-a`, a transfer `-amount` on its source and `+transfer_amount` on its destination (each side in
its own account's currency; equal when both accounts hold one currency). Each side has its own
status, which says whether the delta also counts in the account's cleared and reconciled
balances: `moves_of` gives `(account_id, delta, status)`.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, Select, case, func, literal, select

from app.transactions.models import CLEARED, TRANSACTION_TYPES, Transaction

Effect = tuple[int, int]
#: An effect with the status of its side: (account_id, delta, status).
Move = tuple[int, int, str]

#: type -> (sign on account_id, sign on transfer_account_id, or None when it has none)
SIGNS: dict[str, tuple[int, int | None]] = {
    "income": (1, None),
    "expense": (-1, None),
    "transfer": (-1, 1),
}
assert set(SIGNS) == set(TRANSACTION_TYPES)  # a new type must say what it does to balances


def effects(
    type_: str,
    account_id: int,
    transfer_account_id: int | None,
    amount: int,
    transfer_amount: int | None = None,
) -> list[Effect]:
    """What a transaction of this shape does to balances (`transfer_amount`, the destination
    side, is `amount` if not given: a same-currency transfer)."""
    if type_ not in SIGNS:
        raise ValueError(f"unknown transaction type {type_!r}")
    source, destination = SIGNS[type_]
    changes = [(account_id, source * amount)]
    if destination is not None:
        arrived = amount if transfer_amount is None else transfer_amount
        changes.append((transfer_account_id, destination * arrived))
    return changes


def effects_of(txn: Transaction) -> list[Effect]:
    return effects(
        txn.type, txn.account_id, txn.transfer_account_id, txn.amount, txn.transfer_amount
    )


def moves_of(txn: Transaction) -> list[Move]:
    """effects_of(txn), each with its side's status: the source's `status`, the destination's
    `transfer_status`."""
    statuses = (txn.status, txn.transfer_status)
    return [
        (account, delta, statuses[side]) for side, (account, delta) in enumerate(effects_of(txn))
    ]


def negated(changes: Iterable[tuple]) -> list[tuple]:
    return [(change[0], -change[1], *change[2:]) for change in changes]


def _sign(column: int) -> ColumnElement:
    """The SIGNS column (0: source, 1: destination) as a CASE on Transaction.type."""
    whens = {type_: signs[column] for type_, signs in SIGNS.items() if signs[column] is not None}
    return case(whens, value=Transaction.type, else_=literal(0))


def moves(*where: ColumnElement) -> Select:
    """SELECT account_id, delta, status: one row per balance that each transaction matching
    `where` moves (a transfer gives two rows: its source's amount and status, its
    destination's transfer_amount and transfer_status)."""
    with_destination = [type_ for type_, (_, sign) in SIGNS.items() if sign is not None]
    source = select(
        Transaction.account_id.label("account_id"),
        (_sign(0) * Transaction.amount).label("delta"),
        Transaction.status.label("status"),
    ).where(*where)
    destination = select(
        Transaction.transfer_account_id.label("account_id"),
        (_sign(1) * Transaction.transfer_amount).label("delta"),
        Transaction.transfer_status.label("status"),
    ).where(Transaction.type.in_(with_destination), *where)
    return source.union_all(destination)


def totals(moves_select: Select) -> Select:
    """SELECT account_id, total, cleared, reconciled: `moves_select` summed per account; all of
    it, its cleared and reconciled rows, and its reconciled rows."""
    rows = moves_select.subquery()

    def where_status(statuses) -> ColumnElement:
        return func.sum(case((rows.c.status.in_(statuses), rows.c.delta), else_=literal(0)))

    return select(
        rows.c.account_id,
        func.sum(rows.c.delta).label("total"),
        where_status(CLEARED).label("cleared"),
        where_status(["reconciled"]).label("reconciled"),
    ).group_by(rows.c.account_id)
