"""Transactions: record, change and delete the caller's income, expenses and transfers.

Money moves only through app.ledger, which locks and moves balances; this module sets the
fields that move no money (date, description, payee, category). No request, no commit.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from app import ledger
from app.categories.models import Category
from app.common.auth import get_owned
from app.common.events import categorise
from app.common.unset import UNSET
from app.transactions.models import Transaction

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
) -> Transaction:
    """Record a transaction; a new one is pending unless `status` says cleared (it is in the
    tracker, not yet seen at the bank), and a transfer's destination side has its status."""
    check_category(user_id, category_id)
    if apply_rules and category_id is None:
        # The user's rules (app.rules) may give it a category.
        row = {"description": description, "payee": payee, "amount": amount, "category_id": None}
        categorise.send("transactions", user_id=user_id, rows=[row])
        category_id = row["category_id"]
    txn = Transaction(
        user_id=user_id,
        type=type,
        account_id=account_id,
        transfer_account_id=transfer_account_id,
        status=status,
        transfer_status=transfer_status,
        date=date or datetime.now(UTC).date(),
        description=description,
        payee=payee,
        category_id=category_id,
    )
    return ledger.post(txn, amount, transfer_amount)


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
) -> Transaction:
    """Change the fields given (UNSET: as it was); balances follow through the ledger, which
    also guards a reconciled transaction's amounts, accounts, type, date and status (`force`)."""
    if category_id is not UNSET:
        check_category(user_id, category_id)
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
    )
    if description is not UNSET:
        txn.description = description
    if payee is not UNSET:
        txn.payee = payee
    if category_id is not UNSET:
        txn.category_id = category_id
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
