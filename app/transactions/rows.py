"""Transactions as JSON on the hot paths (the list, one transaction, a write's answer), without
marshmallow.

`TransactionSchema` stays the contract: it documents the responses in the OpenAPI document,
and `tests/test_transaction_rows.py` proves what is built here byte-identical to its dump for
every field (splits, tags, the transfer side, statuses, nulls) and for currencies of 0, 2, 3
and 4 decimal places. Dumping a page of 100 through the schema cost ~2,100 field calls and
the hydration of 100 ORM objects (with their splits and tags) per request; here a page is
Core rows, read in at most three statements (the page, its splits, its tags: never one per
row; none for the parts when no row of the page has any), and one dict per row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, String, bindparam, exists, select, type_coerce

from app.common import money
from app.common.errors import NotFound
from app.common.pagination import paginate
from app.extensions import db
from app.transactions.models import Transaction, TransactionSplit, TransactionTag

#: The columns a response shows (Transaction's, less import_id and amount_scaled). The enums
#: are read as the plain strings they are stored as (the CHECK constraints hold them to their
#: values): no Enum result processing for three columns of every row.
_AS_TEXT = ("type", "status", "transfer_status")
COLUMNS = tuple(
    type_coerce(Transaction.__table__.c[name], String()).label(name)
    if name in _AS_TEXT
    else Transaction.__table__.c[name]
    for name in (
        "id",
        "user_id",
        "account_id",
        "category_id",
        "type",
        "amount",
        "currency",
        "date",
        "description",
        "payee",
        "transfer_account_id",
        "transfer_amount",
        "transfer_currency",
        "status",
        "transfer_status",
        "recurring_id",
        "created_at",
        "updated_at",
    )
)
NAMES = tuple(column.name for column in COLUMNS)
SPLIT = TransactionSplit
TAG = TransactionTag
#: Built once: they run on every page (an `in_` of fresh values would be rebuilt each time).
SPLITS_OF = (
    select(SPLIT.transaction_id, SPLIT.category_id, SPLIT.amount, SPLIT.note)
    .where(SPLIT.transaction_id.in_(bindparam("ids", expanding=True)))
    .order_by(SPLIT.id)
)
TAGS_OF = (
    select(TAG.transaction_id, TAG.tag)
    .where(TAG.transaction_id.in_(bindparam("ids", expanding=True)))
    .order_by(TAG.tag)
)
#: Whether a row has splits, tags: most have neither, and then there is nothing to read (two
#: index probes a row against a round trip each).
READ_COLUMNS = (
    *COLUMNS,
    exists().where(SPLIT.transaction_id == Transaction.id).label("has_splits"),
    exists().where(TAG.transaction_id == Transaction.id).label("has_tags"),
)
HAS_SPLITS, HAS_TAGS = len(COLUMNS), len(COLUMNS) + 1
ONE = select(*READ_COLUMNS).where(
    Transaction.id == bindparam("transaction_id"), Transaction.user_id == bindparam("user_id")
)


def as_json(values: Sequence[Any], splits: Iterable[Any], tags: Iterable[str]) -> dict[str, Any]:
    """TransactionSchema's dump of a transaction given as its values in COLUMNS' order (a Core
    row of COLUMNS or READ_COLUMNS, or `values_of` a Transaction), with its `splits` (rows or
    TransactionSplits, in id order) and `tags` (in alphabetical order); the keys in the
    schema's order.

    Unpacked once by position: a Row's attribute access costs ten times its index (~290 ns
    against ~30), and a page of 100 read ~2,300 of them (0.6 ms of the page's Python)."""
    (
        id_,
        user_id,
        account_id,
        category_id,
        type_,
        amount,
        currency,
        date,
        description,
        payee,
        transfer_account_id,
        transfer_amount,
        transfer_currency,
        status,
        transfer_status,
        recurring_id,
        created_at,
        updated_at,
        *_,  # READ_COLUMNS' has_splits, has_tags
    ) = values
    return {
        "id": id_,
        "user_id": user_id,
        "account_id": account_id,
        "category_id": category_id,
        "type": type_,
        "amount": money.format_minor(amount, currency),
        "currency": currency,
        "date": date.isoformat(),
        "description": description,
        "payee": payee,
        "transfer_account_id": transfer_account_id,
        "transfer_amount": (
            None
            if transfer_amount is None
            else money.format_minor(transfer_amount, transfer_currency)
        ),
        "transfer_currency": transfer_currency,
        "exchange_rate": exchange_rate(amount, currency, transfer_amount, transfer_currency),
        "status": status,
        "transfer_status": transfer_status,
        "splits": [
            {
                "category_id": split.category_id,
                "amount": money.format_minor(split.amount, currency),
                "note": split.note,
            }
            for split in splits
        ],
        "tags": list(tags),
        "recurring_id": recurring_id,
        "created_at": created_at.isoformat(),
        "updated_at": updated_at.isoformat(),
    }


def exchange_rate(
    amount: int, currency: str, transfer_amount: int | None, transfer_currency: str | None
) -> str | None:
    if transfer_amount is None:
        return None
    if transfer_amount == amount and transfer_currency == currency:
        return "1"  # what money.implied_rate says of one amount in one currency, without Decimal
    return money.implied_rate(amount, currency, transfer_amount, transfer_currency)


def values_of(txn: Transaction) -> tuple[Any, ...]:
    """A Transaction's values in COLUMNS' order."""
    return tuple(getattr(txn, name) for name in NAMES)


def of(txn: Transaction) -> dict[str, Any]:
    """The dump of a Transaction a write just made or changed."""
    return as_json(values_of(txn), txn.splits, txn.tags)


def parts(found: Sequence[Any]) -> tuple[dict[int, list], dict[int, list[str]]]:
    """The splits (in id order) and tags (alphabetical) of these rows (of READ_COLUMNS): one
    query each, for the rows that have any."""
    splits: dict[int, list] = defaultdict(list)
    tags: dict[int, list[str]] = defaultdict(list)
    # On the session's connection: Core rows, none of the ORM's result machinery.
    connection = db.session.connection()
    # By position (see as_json): a row's id, then its has_splits and has_tags after COLUMNS.
    if split_ids := [row[0] for row in found if row[HAS_SPLITS]]:
        for row in connection.execute(SPLITS_OF, {"ids": split_ids}):
            splits[row.transaction_id].append(row)
    if tagged_ids := [row[0] for row in found if row[HAS_TAGS]]:
        for transaction_id, tag in connection.execute(TAGS_OF, {"ids": tagged_ids}):
            tags[transaction_id].append(tag)
    return splits, tags


def page(
    stmt: Select,
    order_by: Sequence[ColumnElement],
    skip: int,
    limit: int,
    total: int | None = None,
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """One page of the list (app.common.pagination's, read as Core rows) as dicts, and its
    headers."""
    found, headers = paginate(stmt, order_by, skip, limit, total, columns=READ_COLUMNS)
    splits, tags = parts(found)
    return [as_json(row, splits.get(row[0], ()), tags.get(row[0], ())) for row in found], headers


def one(user_id: int, transaction_id: int) -> dict[str, Any]:
    """The caller's transaction, or 404 (another user's looks exactly like a missing one)."""
    row = (
        db.session.connection()
        .execute(ONE, {"transaction_id": transaction_id, "user_id": user_id})
        .one_or_none()
    )
    if row is None:
        raise NotFound(f"Transaction {transaction_id} not found.")
    splits, tags = parts([row])
    return as_json(row, splits.get(row[0], ()), tags.get(row[0], ()))
