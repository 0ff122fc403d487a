"""Transactions: record, change and delete the caller's income, expenses and transfers.

Money moves only through app.ledger, which locks and moves balances; this module sets the
fields that move no money (date, description, payee, category). No request, no commit.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from app import ledger
from app.categories.models import Category
from app.common import money
from app.common.auth import get_owned
from app.common.errors import Unprocessable
from app.common.events import categorise
from app.common.unset import UNSET
from app.extensions import db
from app.transactions import rows
from app.transactions.models import Transaction, TransactionSplit, TransactionTag

Precondition = ledger.Precondition


def create(
    user_id: int,
    *,
    account_id: int,
    type: str,  # noqa: A002 - the field's name
    amount: Decimal,
    date: date | None = None,
    description: str = "",
    payee: str | None = None,
    category_id: int | None = None,
    transfer_account_id: int | None = None,
    apply_rules: bool = False,
    transfer_amount: Decimal | None = None,
    status: str = "pending",
    transfer_status: str | None = None,
    splits: list[dict] = (),
    tags: list[str] = (),
    recurring_id: int | None = None,
) -> dict[str, Any]:
    """Record a transaction and answer it as its JSON (app.transactions.rows); a new one is
    pending unless `status` says cleared (it is in the tracker, not yet seen at the bank), and
    a transfer's destination side has its status.

    By Core, not as a Transaction object (ledger.post_row): its row is inserted and read back,
    its splits and tags added after it (ledger.add_parts), all in the request's transaction."""
    check_category(user_id, category_id)
    if apply_rules:
        # The user's rules (app.rules) may give it a category (unless it has one, or splits)
        # and tags.
        row = {
            "description": description,
            "payee": payee,
            "amount": amount,
            "category_id": category_id,
            "tags": list(tags),
        }
        categorise.send("transactions", user_id=user_id, rows=[row])
        if not splits:
            category_id = row["category_id"]
        tags = row["tags"]
    check_splits(user_id, type, category_id, splits)
    values = ledger.post_row(
        user_id,
        {
            "type": type,
            "account_id": account_id,
            "transfer_account_id": transfer_account_id,
            "amount": amount,
            "transfer_amount": transfer_amount,
            "status": status,
            "transfer_status": transfer_status,
            "date": date or datetime.now(UTC).date(),
            "description": description,
            "payee": payee,
            "category_id": category_id,
            "recurring_id": recurring_id,
        },
        rows.COLUMNS,
    )
    txn_id, currency = values.id, values.currency
    parts = [
        {
            "transaction_id": txn_id,
            "user_id": user_id,
            "category_id": split["category_id"],
            "amount": ledger.minor_units(split["amount"], currency, "splits"),
            "note": split.get("note", ""),
        }
        for split in splits
    ]
    check_sum(values.amount, currency, [part["amount"] for part in parts])
    tags = sorted(set(tags))  # in alphabetical order, as documented and as a GET reads them
    ledger.add_parts(
        user_id,
        splits=parts,
        tags=[{"transaction_id": txn_id, "user_id": user_id, "tag": tag} for tag in tags],
    )
    return rows.as_json(values, [SimpleNamespace(**part) for part in parts], tags)


def update(
    user_id: int,
    transaction_id: int,
    *,
    precondition: Precondition = ledger.no_precondition,
    account_id: int = UNSET,
    type: str = UNSET,  # noqa: A002 - the field's name
    amount: Decimal = UNSET,
    transfer_account_id: int | None = UNSET,
    transfer_amount: Decimal = UNSET,
    status: str = UNSET,
    transfer_status: str = UNSET,
    date: date = UNSET,
    description: str = UNSET,
    payee: str | None = UNSET,
    category_id: int | None = UNSET,
    force: bool = False,
    splits: list[dict] = UNSET,
    tags: list[str] = UNSET,
) -> Any:
    """Change the fields given (UNSET: as it was); balances follow through the ledger, which
    also guards a reconciled transaction's amounts, accounts, type, date and status (`force`).
    Returns the transaction (a Transaction, or its columns as a plain object: ledger.amend),
    for app.transactions.rows to show."""
    if category_id is not UNSET:
        check_category(user_id, category_id)
    given = (("description", description), ("payee", payee), ("category_id", category_id))
    txn = ledger.amend(
        user_id,
        transaction_id,
        precondition=precondition,
        type=type,
        account_id=account_id,
        transfer_account_id=transfer_account_id,
        amount=amount,
        transfer_amount=transfer_amount,
        date=date,
        status=status,
        transfer_status=transfer_status,
        force=force,
        fields={name: value for name, value in given if value is not UNSET},
        changing_parts=splits is not UNSET or tags is not UNSET,
    )
    if not isinstance(txn, Transaction):
        return txn  # written by the ledger: no parts before or after
    if splits is not UNSET:
        if splits and category_id is UNSET:
            txn.category_id = None  # now in its parts
        check_splits(user_id, txn.type, txn.category_id, splits)
        set_splits(txn, splits)
    elif txn.splits:
        # The parts there are must still fit what the transaction became.
        check_splits(user_id, txn.type, txn.category_id, txn.splits)
        check_sum(txn.amount, txn.currency, [split.amount for split in txn.splits])
    if tags is not UNSET:
        set_tags(txn, tags)
    db.session.flush()
    return txn


def delete(
    user_id: int,
    transaction_id: int,
    *,
    precondition: Precondition = ledger.no_precondition,
    force: bool = False,
) -> None:
    ledger.reverse(user_id, transaction_id, precondition=precondition, force=force)


def check_category(user_id: int, category_id: int | None) -> None:
    if category_id is not None:
        get_owned(Category, category_id, user_id)


def check_splits(user_id: int, type_: str, category_id: int | None, splits) -> None:
    """Splits belong to income and expenses, whose categories are then in the parts."""
    if not splits:
        return
    if type_ == "transfer":
        raise Unprocessable("A transfer cannot be split across categories.", field="splits")
    if category_id is not None:
        raise Unprocessable(
            "A split transaction keeps its categories in its splits: leave category_id null.",
            field="category_id",
        )
    for split in splits:
        if isinstance(split, dict):
            check_category(user_id, split["category_id"])


def check_sum(amount: int, currency: str, parts: list[int]) -> None:
    """The parts add up exactly to the amount, in minor units of the transaction's currency."""
    if parts and sum(parts) != amount:
        raise Unprocessable(
            f"The splits add up to {money.format_minor(sum(parts), currency)} {currency}; "
            f"they must add up exactly to the amount, "
            f"{money.format_minor(amount, currency)} {currency}.",
            field="splits",
        )


def set_splits(txn: Transaction, splits: list[dict]) -> None:
    """Replace the transaction's parts (after the ledger set its amount and currency)."""
    amounts = [ledger.minor_units(split["amount"], txn.currency, "splits") for split in splits]
    check_sum(txn.amount, txn.currency, amounts)
    txn.splits = [
        TransactionSplit(
            user_id=txn.user_id,
            category_id=split["category_id"],
            amount=minor,
            note=split.get("note", ""),
        )
        for split, minor in zip(splits, amounts, strict=True)
    ]


def set_tags(txn: Transaction, tags: list[str]) -> None:
    """Replace the transaction's tags, keeping the rows of those that stay (a row's key is its
    tag: deleting and re-adding one in the same flush would collide)."""
    wanted = set(tags)
    kept = [row for row in txn.tag_rows if row.tag in wanted]
    added = [TransactionTag(user_id=txn.user_id, tag=tag) for tag in wanted - set(txn.tags)]
    # In alphabetical order, as documented and as a later GET loads them.
    txn.tag_rows = sorted(kept + added, key=lambda row: row.tag)
