"""The ledger: the only way money moves.

Every feature that changes a balance or the transactions behind it (the API, imports,
recurring postings, restores) calls this API: `open_account`, `change_account`,
`close_account`, `post_row` (one new row, read back) / `post_many` (Transaction objects) /
`post_rows` (bulk), `amend`, `reverse`, `reconcile`, and `rebuild` for repairs. It keeps three
columns per account in step with the transactions: `balance`, and the `cleared_balance` and
`reconciled_balance` that count only the sides of that status; and the monthly rollups the
reports read (app.ledger.rollups: month_totals, payee_months, tag_months), moved in the same
database transaction as the rows they total.

The write protocol, the same for every writer so that no two requests deadlock:
1. lock the transaction row(s) being changed (SELECT ... FOR UPDATE, or a DELETE ...
   RETURNING, which takes the same lock), if any;
2. lock the accounts involved, in ascending id order;
3. run the caller's precondition (an If-Match check) on the row it names, now that it is locked;
4. move balances only as `UPDATE accounts SET balance = balance + :delta` (and the cleared
   and reconciled balances alike), in ascending account order (never read, add and write
   back: that loses updates under concurrency);
5. keep the user's transaction count (users.transaction_count), whose row is taken last.
Each row is locked once. Nothing here reads the request or commits: the route commits once,
so the rows and the balances they move are written together or not at all.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import itertools
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from operator import itemgetter
from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Insert,
    Row,
    bindparam,
    delete,
    exists,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import lazyload, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from app.accounts.models import Account
from app.common import money
from app.common.api import Precondition, no_precondition
from app.common.db import utcnow
from app.common.errors import Conflict, NotFound, Unprocessable
from app.common.unset import UNSET
from app.extensions import db
from app.ledger import audit, rollups
from app.ledger.audit import COLUMNS, Discrepancy
from app.ledger.effects import (
    Effect,
    Move,
    effects,
    effects_of,
    moves,
    moves_of,
    negated,
    totals,
)
from app.transactions.models import CLEARED, Transaction, TransactionSplit, TransactionTag
from app.users.models import User

__all__ = [
    "UNSET",
    "Discrepancy",
    "add_parts",
    "add_tags",
    "Effect",
    "Move",
    "amend",
    "apply",
    "change_account",
    "close_account",
    "effects",
    "effects_of",
    "lock_accounts",
    "open_account",
    "post_many",
    "post_row",
    "post_rows",
    "RowPosting",
    "rebuild",
    "reconcile",
    "reverse",
    "in_category",
    "rewriting",
    "verify",
]

#: Around a bulk change of transactions that no flush sees (see app.ledger.rollups).
rewriting = rollups.rewriting
in_category = rollups.in_category
#: Tags (and splits) for transactions just inserted in bulk (an import's, a restore's), into
#: the rows and the rollups.
add_tags = rollups.add_tags
add_parts = rollups.add_parts


# --- locks and balances ------------------------------------------------------------------------


# The statements every write sends, built once (with bind parameters) rather than per request.
LOCK_ACCOUNTS = (
    select(Account)
    .where(Account.id.in_(bindparam("ids", expanding=True)), Account.user_id == bindparam("user"))
    .order_by(Account.id)
    .with_for_update()
    .execution_options(populate_existing=True)
)
#: Whether a transaction has splits, tags (read with its row when it is locked).
HAS_SPLITS = exists().where(TransactionSplit.transaction_id == Transaction.id).label("has_splits")
HAS_TAGS = exists().where(TransactionTag.transaction_id == Transaction.id).label("has_tags")
LOCK_TRANSACTION = (
    select(Transaction, HAS_SPLITS, HAS_TAGS)
    .where(Transaction.id == bindparam("id"), Transaction.user_id == bindparam("user"))
    .with_for_update(of=Transaction)
    .execution_options(populate_existing=True)
    # Its splits and tags only when read (an update's answer, an If-Match check), and only if
    # it has any: most have none, and then both are known empty without a query (the rollups'
    # flush hook then moves them in Python, app.ledger.rollups).
    .options(lazyload(Transaction.splits), lazyload(Transaction.tag_rows))
)
USERS, ACCOUNTS, TRANSACTIONS = User.__table__, Account.__table__, Transaction.__table__
# Core statements, not the ORM's: an ORM UPDATE costs as much Python again as its SQL.
COUNT_TRANSACTIONS = (
    update(USERS)
    .where(USERS.c.id == bindparam("user"))
    .values(transaction_count=USERS.c.transaction_count + bindparam("delta"))
)
MOVE_BALANCES = (
    update(ACCOUNTS)
    .where(ACCOUNTS.c.id == bindparam("account"))
    .values(
        balance=ACCOUNTS.c.balance + bindparam("by_balance"),
        cleared_balance=ACCOUNTS.c.cleared_balance + bindparam("by_cleared"),
        reconciled_balance=ACCOUNTS.c.reconciled_balance + bindparam("by_reconciled"),
        updated_at=bindparam("now"),
    )
    .returning(
        ACCOUNTS.c.id,
        ACCOUNTS.c.balance,
        ACCOUNTS.c.cleared_balance,
        ACCOUNTS.c.reconciled_balance,
        ACCOUNTS.c.updated_at,
    )
)


def lock_accounts(user_id: int, account_ids: Iterable[int]) -> dict[int, Account]:
    """Lock the user's accounts in ascending id order; 404 if one is not theirs (or is gone)."""
    ids = sorted(set(account_ids))
    found = db.session.scalars(LOCK_ACCOUNTS, {"ids": ids, "user": user_id})
    return every_account(ids, found)


def every_account(ids: list[int], found: Iterable[Any]) -> dict[int, Any]:
    """The locked accounts (objects or rows) by id; 404 for the first of `ids` not found."""
    by_id = {account.id: account for account in found}
    for account_id in ids:
        if account_id not in by_id:
            raise NotFound(f"Account {account_id} not found.")
    return by_id


#: The accounts a posting reads (currency, archived), locked as `lock_accounts` does, as Core
#: rows: no Account objects to build for a write that shows none.
LOCK_ACCOUNT_ROWS = (
    select(ACCOUNTS.c.id, ACCOUNTS.c.currency, ACCOUNTS.c.archived)
    .where(
        ACCOUNTS.c.id.in_(bindparam("ids", expanding=True)),
        ACCOUNTS.c.user_id == bindparam("user"),
    )
    .order_by(ACCOUNTS.c.id)
    .with_for_update()
)


def lock_account_rows(user_id: int, account_ids: Iterable[int]) -> dict[int, Any]:
    """`lock_accounts`, giving each account's id, currency and archived flag."""
    ids = sorted(set(account_ids))
    found = db.session.connection().execute(LOCK_ACCOUNT_ROWS, {"ids": ids, "user": user_id})
    return every_account(ids, found)


def lock_transaction(user_id: int, transaction_id: int) -> Transaction:
    """Lock the user's transaction row; 404 if it is not theirs, or another request deleted it
    while this one waited for the lock."""
    row = db.session.execute(LOCK_TRANSACTION, {"id": transaction_id, "user": user_id}).first()
    if row is None:
        raise NotFound(f"Transaction {transaction_id} not found.")
    txn, has_splits, has_tags = row
    if not has_splits:
        set_committed_value(txn, "splits", [])
    if not has_tags:
        set_committed_value(txn, "tag_rows", [])
    return txn


#: (balance, cleared_balance, reconciled_balance) deltas of one account.
Sums = list[int]


def as_moves(account_id: int, balance: int, cleared: int, reconciled: int) -> list[Move]:
    """Moves that change the account's balance, cleared and reconciled balances by these
    amounts (a reconciled move counts in all three, a cleared one in two, a pending in one)."""
    return [
        (account_id, balance - cleared, "pending"),
        (account_id, cleared - reconciled, "cleared"),
        (account_id, reconciled, "reconciled"),
    ]


def apply(*changes: Iterable[Move | Effect]) -> None:
    """Add every delta to its account's balance atomically, in ascending account order; a
    move's status says whether it also counts in the cleared and reconciled balances (an
    `Effect` without one counts as pending: in the balance only).

    Deltas on the same account are summed first, so a change that leaves an account as it was
    touches nothing. A result beyond the balance bound fails the CHECK constraint (a 422).
    """
    sums = balance_sums(changes)
    now = utcnow()
    for account_id in sorted(sums):
        balance, cleared, reconciled = sums[account_id]
        if balance or cleared or reconciled:
            moved = db.session.execute(
                MOVE_BALANCES,
                {
                    "account": account_id,
                    "by_balance": balance,
                    "by_cleared": cleared,
                    "by_reconciled": reconciled,
                    "now": now,
                },
            ).one_or_none()
            # An Account the session holds (a reconcile's, a change's) shows the new balances.
            held = moved and db.session.identity_map.get(identity_key(Account, account_id))
            if held is not None:
                for name in ("balance", "cleared_balance", "reconciled_balance", "updated_at"):
                    set_committed_value(held, name, getattr(moved, name))


def balance_sums(changes: Iterable[Iterable[Move | Effect]]) -> dict[int, Sums]:
    """Each account's (balance, cleared, reconciled) deltas, summed over `changes`."""
    sums: dict[int, Sums] = defaultdict(lambda: [0, 0, 0])
    for change in changes:
        for account_id, delta, *status in change:
            side = status[0] if status else "pending"
            sums[account_id][0] += delta
            if side in CLEARED:
                sums[account_id][1] += delta
            if side == "reconciled":
                sums[account_id][2] += delta
    return sums


#: MOVE_BALANCES and COUNT_TRANSACTIONS as psycopg2 texts, for `follow_posting`'s one round
#: trip (the names are ours; every value a placeholder).
MOVE_BALANCES_TEXT = (
    "UPDATE accounts SET balance = balance + %s, cleared_balance = cleared_balance + %s,"
    " reconciled_balance = reconciled_balance + %s, updated_at = %s WHERE id = %s"
)
COUNT_TRANSACTIONS_TEXT = (
    "UPDATE users SET transaction_count = transaction_count + %s WHERE id = %s"
)


def follow_posting(
    user_id: int, changes: Iterable[Iterable[Move | Effect]], sums: rollups.Sums, count: int
) -> None:
    """What follows a write's rows (`post_many`'s inserts, `amend`'s change, `reverse`'s
    delete): the balance moves (`apply`), the rollup lines (`rollups.write`) and the count
    (`count_transactions`).

    On PostgreSQL, for a write's few rollup keys and accounts the session holds no object of
    (whose balances `apply` would set from RETURNING), they go as one text: one round trip,
    not one a statement (a create was six statements, now four; a delete five, now three; a
    move to another account seven, now five with its change written by Core)."""
    connection = db.session.connection()
    changes = [list(change) for change in changes]  # read twice: summed here, or by apply
    moves = balance_sums(changes)
    found = rollups.lines_of(sums)
    few = rollups.upsert_texts(found) if connection.dialect.name == "postgresql" else None
    held = any(identity_key(Account, account_id) in db.session.identity_map for account_id in moves)
    if few is None or held:
        apply(*changes)
        rollups.write(connection, sums)
        count_transactions(user_id, count)
        return
    texts, params = [], []
    now = utcnow()
    for account_id in sorted(moves):
        balance, cleared, reconciled = moves[account_id]
        if balance or cleared or reconciled:
            texts.append(MOVE_BALANCES_TEXT)
            params += [balance, cleared, reconciled, now, account_id]
    texts += few[0]
    params += few[1]
    if count:
        texts.append(COUNT_TRANSACTIONS_TEXT)
        params += [count, user_id]
    if texts:
        connection.exec_driver_sql(";".join(texts), tuple(params))


def count_transactions(user_id: int, delta: int) -> None:
    """Keep users.transaction_count in step with the rows, atomically, like a balance: the
    unfiltered list's X-Total-Count without counting a million rows."""
    if delta:
        db.session.execute(COUNT_TRANSACTIONS, {"user": user_id, "delta": delta})


def minor_units(amount: Decimal, currency: str, field: str) -> int:
    """`amount` in minor units of `currency`, or a 422 on `field` that names the currency."""
    try:
        return money.to_minor(amount, currency)
    except money.MoneyError as exc:
        raise Unprocessable(str(exc), field=field) from None


# --- accounts ----------------------------------------------------------------------------------


def open_account(account: Account, opening: Decimal | None, field: str = "opening_balance"):
    """Add a new account; its balance starts at its opening balance."""
    minor = minor_units(opening, account.currency, field) if opening is not None else 0
    account.opening_balance = minor
    account.balance = account.cleared_balance = account.reconciled_balance = minor
    db.session.add(account)
    db.session.flush()
    return account


def has_transactions(account_id: int) -> bool:
    return db.session.scalar(select(exists().where(touches(account_id))))


def change_account(
    user_id: int,
    account_id: int,
    *,
    precondition: Precondition = no_precondition,
    currency: str | None = None,
    opening: Decimal | None = None,
) -> Account:
    """Lock the account for a change; a new opening balance (or currency) moves its balance by
    the difference. Returns the locked account, for the caller to change its other fields."""
    account = lock_accounts(user_id, [account_id])[account_id]
    precondition(account)
    new_currency = currency or account.currency
    if new_currency != account.currency and has_transactions(account.id):
        raise Conflict("An account's currency cannot change while it has transactions.")
    if opening is None and new_currency == account.currency:
        return account
    # Without a new opening balance, the same decimal value in the new currency, if it can be
    # written there exactly.
    value = (
        opening
        if opening is not None
        else money.to_decimal(account.opening_balance, account.currency)
    )
    new_opening = minor_units(value, new_currency, "opening_balance")
    # The opening balance is part of all three balances.
    apply([(account.id, new_opening - account.opening_balance, "reconciled")])
    account.opening_balance = new_opening
    account.currency = new_currency
    return account


def touches(account_id: int):
    """Transactions on the account, or into it (the destination of a transfer)."""
    return or_(Transaction.account_id == account_id, Transaction.transfer_account_id == account_id)


def close_account(
    user_id: int, account_id: int, *, precondition: Precondition = no_precondition
) -> None:
    """Delete the account and its transactions, reversing their effect on every other account
    they touched (a transfer's other side)."""
    on_account = (Transaction.user_id == user_id) & touches(account_id)
    db.session.execute(select(Transaction.id).where(on_account).with_for_update())
    # Every account of the user, not only the other sides found now: a transfer committed
    # between the two locks must find its other side locked too. Once the account is locked,
    # nothing new can be posted to it.
    accounts = {
        account.id: account
        for account in db.session.scalars(
            select(Account)
            .where(Account.user_id == user_id)
            .order_by(Account.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    }
    if account_id not in accounts:
        raise NotFound(f"Account {account_id} not found.")  # or deleted while we waited
    precondition(accounts[account_id])
    apply(
        [
            move
            for other, total, cleared, reconciled in db.session.execute(totals(moves(on_account)))
            if other != account_id
            for move in as_moves(other, -int(total), -int(cleared), -int(reconciled))
        ]
    )
    # What they contribute to the rollups goes with them (the account's own rollup rows go
    # with it, ON DELETE CASCADE; the other sides of its transfers are on other accounts).
    rollups.adjust(db.session.connection(), -1, on_account)
    deleted = db.session.execute(delete(Transaction).where(on_account)).rowcount
    count_transactions(user_id, -deleted)
    db.session.execute(delete(Account).where(Account.id == account_id))


# --- transactions ------------------------------------------------------------------------------


def check_shape(type_: str, account_id: int, transfer_account_id: int | None) -> None:
    """A transfer has a destination other than its source; income and expense have none."""
    if type_ == "transfer":
        if transfer_account_id is None:
            raise Unprocessable(
                "A transfer needs a transfer_account_id.", field="transfer_account_id"
            )
        if transfer_account_id == account_id:
            raise Unprocessable(
                "A transfer needs two different accounts.", field="transfer_account_id"
            )
    elif transfer_account_id is not None:
        raise Unprocessable(
            "Only transfers have a transfer_account_id.", field="transfer_account_id"
        )


def check_open(accounts: dict[int, Any], account_ids: Iterable[int], field: str) -> None:
    """422 on `field` if an account about to take a new side of a transaction is archived."""
    for account_id in sorted(account_ids):
        if accounts[account_id].archived:
            raise Unprocessable(
                f"Account {account_id} is archived and takes no new transactions.", field=field
            )


def check_accounts(txn: Transaction, accounts: dict[int, Any], newly_used: Iterable[int]) -> str:
    """The transaction's currency (its account's); 422 if a newly used account is archived."""
    newly_used = set(newly_used)
    check_open(accounts, newly_used & {txn.account_id}, "account_id")
    check_open(accounts, newly_used - {txn.account_id}, "transfer_account_id")
    return accounts[txn.account_id].currency


def set_amount(txn: Transaction, minor: int, currency: str) -> None:
    txn.amount = minor
    txn.currency = currency
    # The common scale on which amounts in different currencies compare as written.
    txn.amount_scaled = money.to_common_scale(minor, currency)


def destination_side(
    *,
    amount: int,
    currency: str,
    destination: int,
    destination_currency: str,
    transfer_amount: Decimal | None,
    kept: int | None = None,
) -> int:
    """What arrives at a transfer's destination, in minor units of its currency:
    `transfer_amount` if given, else `kept` (the side as it was, when it stays in that
    currency), else `amount` when both accounts hold one currency (422 otherwise)."""
    if transfer_amount is not None:
        minor = minor_units(transfer_amount, destination_currency, "transfer_amount")
        if minor <= 0:
            raise Unprocessable(
                "Must be greater than zero; the type gives the direction.", field="transfer_amount"
            )
        if destination_currency == currency and minor != amount:
            raise Unprocessable(
                f"A transfer between two {currency} accounts moves one amount: transfer_amount "
                "must equal amount, or be left out.",
                field="transfer_amount",
            )
        return minor
    if destination_currency == currency:
        return amount
    if kept is not None:
        return kept
    raise Unprocessable(
        f"A transfer from {currency} to {destination_currency} needs transfer_amount: what "
        f"arrives at account {destination}, in {destination_currency}.",
        field="transfer_amount",
    )


def set_destination(
    txn: Transaction,
    accounts: dict[int, Any],
    transfer_amount: Decimal | None,
    kept: int | None = None,
) -> None:
    """A transfer's destination side (`destination_side`); income and expense have none (422
    if one is given)."""
    if txn.type != "transfer":
        if transfer_amount is not None:
            raise Unprocessable("Only transfers have a transfer_amount.", field="transfer_amount")
        txn.transfer_amount = txn.transfer_currency = txn.transfer_status = None
        return
    currency = accounts[txn.transfer_account_id].currency
    txn.transfer_amount = destination_side(
        amount=txn.amount,
        currency=txn.currency,
        destination=txn.transfer_account_id,
        destination_currency=currency,
        transfer_amount=transfer_amount,
        kept=kept,
    )
    txn.transfer_currency = currency
    if txn.transfer_status is None:
        txn.transfer_status = txn.status


def check_status(status: str | None, field: str) -> None:
    if status == "reconciled":
        raise Unprocessable(
            "Only a reconcile of the account marks a transaction reconciled.", field=field
        )


def check_side_status(type_: str, transfer_status: str | None) -> None:
    if type_ != "transfer" and transfer_status is not None:
        raise Unprocessable("Only transfers have a transfer_status.", field="transfer_status")


def post_many(user_id: int, entries: Sequence[tuple]) -> None:
    """Record many new transactions of one user at once: one lock per account, one balance
    update per account, one count update. Each entry is `(txn, amount)` or, for a transfer
    between currencies, `(txn, amount, transfer_amount)`."""
    for txn, *_ in entries:
        check_shape(txn.type, txn.account_id, txn.transfer_account_id)
        check_side_status(txn.type, txn.transfer_status)
        txn.status = txn.status or "pending"
        check_status(txn.status, "status")
        check_status(txn.transfer_status, "transfer_status")
    used = {i for txn, *_ in entries for i in (txn.account_id, txn.transfer_account_id) if i}
    accounts = lock_account_rows(user_id, used)
    for txn, amount, *rest in entries:
        txn.user_id = user_id
        involved = {txn.account_id, txn.transfer_account_id} - {None}
        currency = check_accounts(txn, accounts, involved)
        set_amount(txn, minor_units(amount, currency, "amount"), currency)
        set_destination(txn, accounts, rest[0] if rest else None)
    sums = rollups.no_sums()
    insert_objects([txn for txn, *_ in entries], sums)
    follow_posting(user_id, [moves_of(txn) for txn, *_ in entries], sums, len(entries))


#: A Transaction's mapped attributes and their columns.
TRANSACTION_COLUMNS = [(prop.key, prop.columns[0]) for prop in Transaction.__mapper__.column_attrs]
COLUMN_NAMES = {key: column.name for key, column in TRANSACTION_COLUMNS}
INSERT_RETURNING = insert(TRANSACTIONS).returning(*TRANSACTIONS.c, sort_by_parameter_order=True)


def insert_objects(txns: list[Transaction], sums: rollups.Sums) -> None:
    """INSERT the new transactions by Core (one statement for those that set the same
    attributes) and make each object the persistent row it became: its defaults and id as
    the database returned them, its splits and tags the empty lists it was made with. The
    ORM's unit of work, which would do the same for each object, costs several times the
    Python. Their rollup lines are added to `sums` (computed from the rows, as for
    `post_rows`), for the caller to write."""
    # One already in the session, or made with splits or tags, goes the ORM's way (the flush
    # hook moves its rollups, parts included).
    by_orm = [
        txn for txn in txns if not sa_inspect(txn).transient or not rollups.without_parts(txn)
    ]
    if by_orm:
        db.session.add_all(by_orm)
        db.session.flush()
        txns = [txn for txn in txns if txn not in by_orm]
    groups: dict[tuple[str, ...], list[Transaction]] = defaultdict(list)
    for txn in txns:
        groups[tuple(key for key, _ in TRANSACTION_COLUMNS if key in txn.__dict__)].append(txn)
    connection = db.session.connection()
    for keys, group in groups.items():
        names = [COLUMN_NAMES[key] for key in keys]
        values = [
            dict(zip(names, map(txn.__dict__.__getitem__, keys), strict=True)) for txn in group
        ]
        rows = (
            connection.execute(INSERT_RETURNING, values).all()
            if len(values) > 1
            else [connection.execute(INSERT_RETURNING, values[0]).one()]
        )
        for txn, row in zip(group, rows, strict=True):
            for key, column in TRANSACTION_COLUMNS:
                set_committed_value(txn, key, row._mapping[column])
            make_transient_to_detached(txn)
            db.session.add(txn)
    for txn in txns:
        rollups.contribute(sums, rollups.current(txn))


def post_rows(user_id: int, rows: Sequence[dict[str, Any]]) -> None:
    """Record many new transactions of one user in bulk (imports, restores): as `post_many`,
    but each row is a dict of Transaction columns, the same keys in every row, with `amount`
    (and a transfer's `transfer_amount`, if any) a Decimal; inserted by COPY (PostgreSQL) or a
    multi-row INSERT, not an ORM object each (a 100,000-row import in seconds, not minutes).
    `status` defaults to pending and a transfer's `transfer_status` to its status; a restore
    may give any status, reconciled included (it was, where the backup came from). The rows'
    ids are not read back. `RowPosting` does the same for rows that come in batches."""
    if not rows:
        return
    used = {i for row in rows for i in (row["account_id"], row.get("transfer_account_id")) if i}
    posting = RowPosting(user_id, used)
    posting.add(rows)
    posting.finish()


class RowPosting:
    """`post_rows` for rows that come in batches, in one database transaction: the accounts
    (every one a row may name) locked first, in order; each batch checked and inserted as it
    comes; the balances, rollups and transaction count, summed over every batch, written once
    by `finish`. An import builds its rows 10,000 at a time to hold less; each batch writing
    its own rollups made ten upserts of most keys (a 100,000-row import 1.5 s slower)."""

    def __init__(self, user_id: int, account_ids: Iterable[int]) -> None:
        self.user_id = user_id
        self.accounts = lock_account_rows(user_id, account_ids)
        # Each row's balance moves and rollup lines are summed as it goes by, not kept:
        # 100,000 rows' dicts held until the end were 60 MB of an import's peak memory.
        self.moves: dict[tuple[int, str], int] = defaultdict(int)
        self.sums = rollups.no_sums()
        self.added = 0

    def add(
        self, rows: Sequence[dict[str, Any]], returning: Sequence[ColumnElement] = ()
    ) -> list[Row]:
        """Check and insert `rows` (as `post_rows` describes them); with `returning`, by an
        INSERT that reads those columns of the new rows back, in the order given (else by
        COPY, which reads nothing back)."""
        if not rows:
            return []
        for row in rows:
            check_row(row)
        sources = {row["account_id"] for row in rows}
        used = sources | {row["transfer_account_id"] for row in rows} - {None}
        if not used <= self.accounts.keys():
            # Locked later than the others, out of order: two postings could deadlock.
            raise RuntimeError("RowPosting: a row names an account not locked at the start")
        check_open(self.accounts, sources, "account_id")
        check_open(self.accounts, used - sources, "transfer_account_id")
        prepared = prepared_rows(self.user_id, rows, self.accounts, self.moves, self.sums)
        self.added += len(rows)
        if returning:
            statement = inserting(tuple(returning))
            return db.session.connection().execute(statement, list(prepared)).all()
        # Built as COPY reads them: PostgreSQL inserts one batch while Python prepares the next.
        insert_many(prepared)
        return []

    def finish(self) -> None:
        """Write what every batch added to the balances, the rollups and the count."""
        moves = [(account_id, delta, status) for (account_id, status), delta in self.moves.items()]
        follow_posting(self.user_id, [moves], self.sums, self.added)


def check_row(row: dict[str, Any]) -> None:
    """A new row's shape: its type's accounts, and a destination status only on a transfer."""
    check_shape(row["type"], row["account_id"], row.get("transfer_account_id"))
    check_side_status(row["type"], row.get("transfer_status"))


@functools.cache
def inserting(returning: tuple[ColumnElement, ...]) -> Insert:
    """An INSERT of transactions that reads `returning` back, built once for each choice of
    columns (a statement built per request costs its cache key again every time)."""
    return insert(TRANSACTIONS).returning(*returning, sort_by_parameter_order=True)


def post_row(user_id: int, row: dict[str, Any], returning: Sequence[ColumnElement]) -> Row:
    """Record one new transaction, given as `post_rows` describes a row but with any status
    but reconciled, and read it back: `returning`, columns of the new row.

    A create's way, without an ORM object: building one, keeping it in the session and
    expiring it at the commit cost more Python than the create's four statements did."""
    check_row(row)  # before the accounts' locks, as post_many: a malformed row is a 422 first
    check_status(row.get("status"), "status")
    check_status(row.get("transfer_status"), "transfer_status")
    if row["type"] != "transfer" and row.get("transfer_amount") is not None:
        raise Unprocessable("Only transfers have a transfer_amount.", field="transfer_amount")
    posting = RowPosting(user_id, {row["account_id"], row.get("transfer_account_id")} - {None})
    [inserted] = posting.add([row], returning)
    posting.finish()
    return inserted


def prepared_rows(
    user_id: int,
    rows: Sequence[dict[str, Any]],
    accounts: dict[int, Any],
    moves: dict[tuple[int, str], int],
    sums: rollups.Sums,
) -> Iterator[dict[str, Any]]:
    """post_rows' rows as Transaction columns, each row's balance moves added to `moves` (by
    account and status) and its rollup lines to `sums`."""
    now = utcnow()
    for row in rows:
        type_, source, destination = row["type"], row["account_id"], row.get("transfer_account_id")
        currency = accounts[source].currency
        minor = minor_units(row["amount"], currency, "amount")
        status = row.get("status") or "pending"
        side: dict[str, Any] = NO_TRANSFER_SIDE
        if type_ == "transfer":
            side = {
                "transfer_amount": destination_side(
                    amount=minor,
                    currency=currency,
                    destination=destination,
                    destination_currency=accounts[destination].currency,
                    transfer_amount=row.get("transfer_amount"),
                ),
                "transfer_currency": accounts[destination].currency,
                "transfer_status": row.get("transfer_status") or status,
            }
        for index, (account_id, delta) in enumerate(
            effects(type_, source, destination, minor, side["transfer_amount"])
        ):
            moves[account_id, (status, side["transfer_status"])[index]] += delta
        value = {
            **row,
            **side,
            "user_id": user_id,
            "transfer_account_id": destination,
            "amount": minor,
            "currency": currency,
            "amount_scaled": money.to_common_scale(minor, currency),
            "status": status,
            "created_at": row.get("created_at") or now,
            "updated_at": row.get("updated_at") or now,
        }
        rollups.contribute(sums, value)
        yield value


NO_TRANSFER_SIDE: dict[str, Any] = {
    "transfer_amount": None,
    "transfer_currency": None,
    "transfer_status": None,
}


#: How insert_many writes None for COPY.
COPY_NULL = "\x01"


def insert_many(values: Iterable[dict[str, Any]]) -> None:
    """INSERT the transaction rows (dicts with the same keys): on PostgreSQL by COPY, four times
    faster than multi-row INSERTs for 100,000 rows; elsewhere a Core executemany, which
    SQLAlchemy batches into multi-row VALUES. Both in the session's transaction."""
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        db.session.execute(insert(TRANSACTIONS), list(values))
        return
    values = iter(values)
    first = next(values, None)
    if first is None:
        return
    columns = list(first)
    feed = CopyFeed(itertools.chain([first], values), columns)
    names = ", ".join(columns)
    statement = (
        f"COPY transactions ({names}) FROM STDIN"
        f" WITH (FORMAT csv, NULL '{COPY_NULL}', FORCE_NULL ({names}))"
    )
    dbapi = connection.connection.driver_connection
    try:
        with dbapi.cursor() as cursor:
            cursor.copy_expert(statement, feed)
    except dbapi.Error as error:
        # As SQLAlchemy would wrap it (an IntegrityError for a constraint), so that app.errors
        # answers it like any other statement's.
        raise DBAPIError.instance(statement, None, error, dbapi.Error) from error
    if feed.error is not None:
        # A row could not be prepared (a 422): COPY ended early on the rows before it; the
        # request's transaction is rolled back with this error, as for any other.
        raise feed.error


class CopyFeed:
    """What COPY reads (psycopg2 calls `read`): the next COPY_BATCH rows in COPY's CSV format,
    written by Python's csv module (in C) as they are asked for. Numbers go bare, everything
    else quoted (dates and timestamps as their str(), which PostgreSQL parses), None as
    COPY_NULL, which FORCE_NULL reads back as NULL even quoted: a control character, which no
    stored text may hold (app.common.text), so no value is mistaken for it. An error while
    preparing a row is kept, not raised (psycopg2 would turn it into a bare QueryCanceled):
    the feed ends and insert_many raises it."""

    def __init__(self, rows: Iterator[dict[str, Any]], columns: list[str]) -> None:
        self.rows, self.row_of = rows, itemgetter(*columns)
        self.error: Exception | None = None
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")

    def read(self, size: int = -1) -> str:
        if self.error is not None:
            return ""
        try:
            batch = [
                [COPY_NULL if value is None else value for value in self.row_of(row)]
                for row in itertools.islice(self.rows, COPY_BATCH)
            ]
        except Exception as error:  # noqa: BLE001 - kept and raised by insert_many
            self.error = error
            return ""
        self.buffer.seek(0)
        self.buffer.truncate()
        self.writer.writerows(batch)
        return self.buffer.getvalue()


#: Rows written to COPY at a time.
COPY_BATCH = 2000


#: What a reconciled side keeps unless the change is forced: what its statement showed. Both
#: sides share the type and date; each has its account, amount and status.
SHARED_FIELDS = ("type", "date")
SOURCE_FIELDS = ("account_id", "amount", "status")
DESTINATION_FIELDS = ("transfer_account_id", "transfer_amount", "transfer_status")
RECONCILED_FIELDS = SHARED_FIELDS + SOURCE_FIELDS + DESTINATION_FIELDS


def is_reconciled(txn: Transaction) -> bool:
    return "reconciled" in (txn.status, txn.transfer_status)


def reconciled_conflict(txn: Transaction, doing: str) -> Conflict:
    return Conflict(
        f"Transaction {txn.id} is reconciled with a bank statement: {doing} needs force=true."
    )


def amend(
    user_id: int,
    transaction_id: int,
    *,
    precondition: Precondition = no_precondition,
    type: str = UNSET,  # noqa: A002 - the field's name
    account_id: int = UNSET,
    transfer_account_id: int | None = UNSET,
    amount: Decimal = UNSET,
    transfer_amount: Decimal | None = UNSET,
    date: dt.date = UNSET,
    status: str = UNSET,
    transfer_status: str = UNSET,
    force: bool = False,
    fields: dict[str, Any] | None = None,
    changing_parts: bool = False,
) -> Transaction | SimpleNamespace:
    """Lock the transaction and change what it does to balances (any of type, accounts,
    amounts, date and statuses; UNSET keeps one as it is) and the `fields` that move no
    balance (description, payee, category_id: names and values): the old effect is reversed
    and the new one applied. A reconciled side keeps its RECONCILED_FIELDS (409) unless
    `force`.

    A transaction without splits or tags, whose caller changes none (`changing_parts` false),
    is read, changed and written back by Core, as a plain object of its columns (`splits` and
    `tags` empty), its rollup lines moved from its columns before and after (the bench's move
    to another account: 2.50 -> 2.04 ms of Python a request, against the ORM's load and
    flush); any other is the session's Transaction, for the caller to change its parts (the
    flush moves their rollups). Returns the changed transaction."""
    for value, field in ((status, "status"), (transfer_status, "transfer_status")):
        if value is not UNSET:
            check_status(value, field)
    txn = lock_for_change(user_id, transaction_id, changing_parts, precondition)
    old_row = None if isinstance(txn, Transaction) else dict(vars(txn))
    before = {field: getattr(txn, field) for field in RECONCILED_FIELDS}
    new_type = txn.type if type is UNSET else type
    new_account = txn.account_id if account_id is UNSET else account_id
    if new_type != "transfer" and transfer_account_id is UNSET:
        transfer_account_id = None  # leaving `transfer` drops the destination
    new_destination = (
        txn.transfer_account_id if transfer_account_id is UNSET else transfer_account_id
    )
    check_shape(new_type, new_account, new_destination)
    if transfer_status is not UNSET:
        check_side_status(new_type, transfer_status)
    old_moves = moves_of(txn)
    old_ids = {account for account, *_ in old_moves}
    new_ids = {new_account, new_destination} - {None}
    accounts = lock_account_rows(user_id, old_ids | new_ids)
    old_side = (txn.transfer_amount, txn.transfer_currency) if txn.type == "transfer" else None
    txn.type, txn.account_id, txn.transfer_account_id = new_type, new_account, new_destination
    currency = check_accounts(txn, accounts, new_ids - old_ids)
    if amount is not UNSET:
        set_amount(txn, minor_units(amount, currency, "amount"), currency)
    elif currency != txn.currency:
        # A value is never relabelled: 2400.00 EUR does not become 2400.00 USD.
        raise Unprocessable(
            f"Account {new_account} holds {currency} and this transaction is "
            f"{money.format_minor(txn.amount, txn.currency)} {txn.currency}: "
            f"give its amount in {currency} too.",
            field="amount",
        )
    if status is not UNSET:
        txn.status = status
    if transfer_status is not UNSET:
        txn.transfer_status = transfer_status
    if date is not UNSET:
        txn.date = date
    # The destination side as it was stays, if it stays in its currency: each side of a
    # cross-currency transfer is its own fact, from its own statement.
    kept = None
    if old_side is not None and new_type == "transfer":
        destination_currency = accounts[new_destination].currency
        if old_side[1] == destination_currency:
            kept = old_side[0]
        elif transfer_amount is UNSET and destination_currency != currency:
            raise Unprocessable(
                f"Account {new_destination} holds {destination_currency} and this transfer's "
                f"destination side is {money.format_minor(*old_side)} {old_side[1]}: "
                f"give its transfer_amount in {destination_currency} too.",
                field="transfer_amount",
            )
    set_destination(txn, accounts, None if transfer_amount is UNSET else transfer_amount, kept)
    guarded = SHARED_FIELDS if "reconciled" in (before["status"], before["transfer_status"]) else ()
    if before["status"] == "reconciled":
        guarded += SOURCE_FIELDS
    if before["transfer_status"] == "reconciled":
        guarded += DESTINATION_FIELDS
    changed = [field for field in guarded if getattr(txn, field) != before[field]]
    if changed and not force:
        raise reconciled_conflict(txn, f"changing its {', '.join(changed)}")
    for name, value in (fields or {}).items():
        setattr(txn, name, value)
    sums = rollups.no_sums()
    if old_row is not None:
        rollups.contribute(sums, old_row, -1)
        rollups.contribute(sums, vars(txn))
    follow_posting(user_id, [negated(old_moves), moves_of(txn)], sums, 0)
    if old_row is None:
        db.session.flush()
        return txn
    changes = {
        COLUMN_NAMES[key]: getattr(txn, key)
        for key, _ in TRANSACTION_COLUMNS
        if getattr(txn, key) != old_row[key]
    }
    if changes:
        # updated_at by its onupdate, as the ORM would set it: only when something changed.
        txn.updated_at = (
            db.session.connection().execute(UPDATE_ROW, {"txn_id": txn.id, **changes}).scalar_one()
        )
    return txn


#: The columns of a Transaction as `lock_for_change` reads them, and how a change is written.
LOCK_ROW = (
    select(*TRANSACTIONS.c, HAS_SPLITS, HAS_TAGS)
    .where(TRANSACTIONS.c.id == bindparam("id"), TRANSACTIONS.c.user_id == bindparam("user"))
    .with_for_update(of=TRANSACTIONS)
)
UPDATE_ROW = (
    update(TRANSACTIONS)
    .where(TRANSACTIONS.c.id == bindparam("txn_id"))
    .returning(TRANSACTIONS.c.updated_at)
)


def lock_for_change(
    user_id: int, transaction_id: int, changing_parts: bool, precondition: Precondition
) -> Transaction | SimpleNamespace:
    """`lock_transaction`, then the caller's precondition: the row as a plain object of its
    columns if it has no splits or tags and the caller changes none (`amend`), else the
    session's Transaction."""
    row = None
    if not changing_parts:
        row = (
            db.session.connection()
            .execute(LOCK_ROW, {"id": transaction_id, "user": user_id})
            .one_or_none()
        )
        if row is None:
            raise NotFound(f"Transaction {transaction_id} not found.")
    if row is None or row.has_splits or row.has_tags:
        # Its parts change, or it has some: the session's object (locked already, if read).
        txn = lock_transaction(user_id, transaction_id)
        precondition(txn)
        return txn
    check_on_row(precondition, row)
    return SimpleNamespace(**columns_of(row), splits=[], tags=[])


def columns_of(row: Row) -> dict[str, Any]:
    """A Core row of every Transaction column, as the Transaction's attributes."""
    return {key: row._mapping[column] for key, column in TRANSACTION_COLUMNS}


def check_on_row(precondition: Precondition, row: Row) -> None:
    """The caller's precondition on a transaction without parts read as a Core row: an If-Match
    check dumps it as a Transaction (its ETag), built only then."""
    if precondition is not no_precondition:
        precondition(Transaction(**columns_of(row), splits=[], tag_rows=[]))


def reverse(
    user_id: int,
    transaction_id: int,
    *,
    precondition: Precondition = no_precondition,
    force: bool = False,
) -> None:
    """Delete the transaction; its accounts' balances move back. A reconciled one only with
    `force` (409).

    A transaction without splits or tags is deleted at once (DELETE … RETURNING locks the row
    as SELECT … FOR UPDATE would, the protocol's first step) and checked after: a failed
    check raises, and the request's rollback puts the row back. Its rollup lines are taken
    out as computed from the row returned. One with parts is locked, checked, then deleted
    through the session, whose flush hook takes its rollups out by SQL."""
    row = (
        db.session.connection()
        .execute(DELETE_WITHOUT_PARTS, {"id": transaction_id, "user": user_id})
        .one_or_none()
    )
    if row is None:  # it has parts, or is not the caller's (or is gone): the locking way
        txn = lock_transaction(user_id, transaction_id)
        precondition(txn)
    else:
        # The deleted row, read below as a Transaction would be (its columns by attribute).
        txn = row
        check_on_row(precondition, row)
    if is_reconciled(txn) and not force:
        raise reconciled_conflict(txn, "deleting it")
    sums = rollups.no_sums()
    if row is not None:
        rollups.contribute(sums, rollups.current(txn), -1)
    # The balances first: their UPDATEs take the accounts' locks, which every writer holds
    # before it changes a rollup row (the flush below changes them by SQL); after it, two
    # concurrent writes deadlocked on the rollups.
    follow_posting(user_id, [negated(moves_of(txn))], sums, -1)
    if row is None:
        db.session.delete(txn)
        db.session.flush()


DELETE_WITHOUT_PARTS = (
    delete(TRANSACTIONS)
    .where(
        TRANSACTIONS.c.id == bindparam("id"),
        TRANSACTIONS.c.user_id == bindparam("user"),
        ~exists().where(TransactionSplit.transaction_id == TRANSACTIONS.c.id),
        ~exists().where(TransactionTag.transaction_id == TRANSACTIONS.c.id),
    )
    .returning(*TRANSACTIONS.c)
)


def reconcile(
    user_id: int, account_id: int, *, statement_date: dt.date, closing_balance: Decimal
) -> dict:
    """Check a bank statement against the account: if its opening balance plus its cleared
    (and already reconciled) sides dated up to `statement_date` equal `closing_balance`, those
    cleared sides become reconciled; if not, a 409 that names the difference, and nothing
    changes. Concurrent reconciles of one account queue on its transactions' locks: the later
    finds the sides reconciled and reconciles nothing more."""
    on_account = (Transaction.user_id == user_id) & touches(account_id)
    sides = (
        (Transaction.account_id, Transaction.status),
        (Transaction.transfer_account_id, Transaction.transfer_status),
    )
    # The lock order: the rows this may change (the account's cleared sides up to the date),
    # then the account, which serialises reconciles of it: the later one waits here, then
    # reads what the earlier committed. Once the account is locked, nothing new can be posted
    # to it.
    db.session.execute(
        select(Transaction.id)
        .where(
            Transaction.user_id == user_id,
            Transaction.date <= statement_date,
            or_(*((column == account_id) & (status == "cleared") for column, status in sides)),
        )
        .order_by(Transaction.id)
        .with_for_update()
    )
    account = lock_accounts(user_id, [account_id])[account_id]
    currency = account.currency
    closing = minor_units(closing_balance, currency, "closing_balance")
    up_to = on_account & (Transaction.date <= statement_date)
    sums = {row.account_id: row for row in db.session.execute(totals(moves(up_to)))}
    cleared = int(sums[account_id].cleared) if account_id in sums else 0
    reconciled = int(sums[account_id].reconciled) if account_id in sums else 0
    expected = account.opening_balance + cleared
    if expected != closing:
        difference = money.format_minor(closing - expected, currency)
        message = (
            f"The statement's closing balance {money.format_minor(closing, currency)} "
            f"{currency} is not the opening balance plus the cleared transactions up to "
            f"{statement_date.isoformat()}, {money.format_minor(expected, currency)} {currency}: "
            f"a difference of {difference} {currency}. Nothing was reconciled."
        )
        raise Conflict(message, errors={"json": {"closing_balance": [message]}})
    now = utcnow()
    count = 0
    for account_column, status_column in sides:
        count += db.session.execute(
            update(Transaction)
            .where(
                Transaction.user_id == user_id,
                account_column == account_id,
                Transaction.date <= statement_date,
                status_column == "cleared",
            )
            .values({status_column.key: "reconciled", "updated_at": now}),
            execution_options={"synchronize_session": False},
        ).rowcount
    apply(as_moves(account_id, 0, 0, cleared - reconciled))
    db.session.flush()
    return {
        "account_id": account_id,
        "statement_date": statement_date,
        "closing_balance": closing,
        "currency": currency,
        "reconciled": count,
        "balance": account.balance,
        "cleared_balance": account.cleared_balance,
        "reconciled_balance": account.reconciled_balance,
    }


# --- repair ------------------------------------------------------------------------------------


def verify(user_id: int | None = None) -> list[Discrepancy]:
    """Every balance column (app.ledger.audit) and every monthly rollup sum
    (app.ledger.rollups) that differs from what the transactions say."""
    return audit.verify(user_id) + rollups.verify(user_id)


def rebuild() -> list[Discrepancy]:
    """Correct every wrong balance and rollup from the transactions; returns what was
    corrected (a user's rollups are recomputed whole if one of their sums was wrong).

    Locks every account first, so no write slips in between measuring and correcting.
    """
    db.session.execute(select(Account.id).order_by(Account.id).with_for_update())
    wrong = verify()
    sums: dict[int, Sums] = defaultdict(lambda: [0, 0, 0])
    for item in wrong:
        if item.column in COLUMNS:
            column = list(COLUMNS).index(item.column)
            sums[item.account_id][column] += item.expected - item.balance
    apply([move for account_id, deltas in sums.items() for move in as_moves(account_id, *deltas)])
    rollups.rebuild(item.user_id for item in wrong if item.column not in COLUMNS)
    return wrong
