"""Transactions: create, change and delete, moving balances through the ledger in the same
database transaction as the row. No request, no commit.

Lock order, the same for every writer so none deadlock: the transaction row first, then its
accounts in ascending id order (see app.accounts.service.lock_accounts).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from app import ledger
from app.accounts.models import Account
from app.accounts.service import lock_accounts, to_minor
from app.categories.models import Category
from app.common import money
from app.common.auth import get_owned
from app.errors import Unprocessable
from app.extensions import db
from app.transactions.models import Transaction
from app.users import service as users


def create(user_id: int, data: dict) -> Transaction:
    account_ids = [data["account_id"], data.get("transfer_account_id")]
    accounts = lock_accounts(user_id, [i for i in account_ids if i is not None])
    check_category(user_id, data.get("category_id"))
    txn = Transaction(user_id=user_id)
    data.setdefault("date", datetime.now(UTC).date())
    assign(txn, data, accounts, new_account_ids=set(accounts))
    ledger.post(db.session, txn)
    db.session.add(txn)
    db.session.flush()
    users.count_transactions(user_id, 1)
    return txn


def update(user_id: int, transaction_id: int, data: dict) -> Transaction:
    txn = get_owned(Transaction, transaction_id, user_id, lock=True)
    old_effects = ledger.effects_of(txn)
    type_ = data.get("type", txn.type)
    if type_ != "transfer":
        if data.get("transfer_account_id") is not None:
            raise Unprocessable.field(
                "transfer_account_id", "Only transfers have a transfer_account_id."
            )
        data["transfer_account_id"] = None
    elif data.get("transfer_account_id", txn.transfer_account_id) is None:
        raise Unprocessable.field("transfer_account_id", "A transfer needs a transfer_account_id.")
    old_ids = {account_id for account_id, _ in old_effects}
    new_ids = {
        data.get("account_id", txn.account_id),
        data.get("transfer_account_id", txn.transfer_account_id),
    }
    new_ids.discard(None)
    accounts = lock_accounts(user_id, old_ids | new_ids)
    if "category_id" in data:
        check_category(user_id, data["category_id"])
    if (
        "amount" not in data
        and accounts[data.get("account_id", txn.account_id)].currency != txn.currency
    ):
        # Moving to an account in another currency keeps the decimal value, if it fits there.
        data["amount"] = money.to_decimal(txn.amount, txn.currency)
    assign(txn, data, accounts, new_account_ids=new_ids - old_ids)
    ledger.apply(db.session, ledger.negated(old_effects), ledger.effects_of(txn))
    db.session.flush()
    return txn


def delete(user_id: int, transaction_id: int) -> None:
    txn = get_owned(Transaction, transaction_id, user_id, lock=True)
    ledger.reverse(db.session, txn)
    db.session.delete(txn)
    db.session.flush()
    users.count_transactions(user_id, -1)


def check_category(user_id: int, category_id: int | None) -> None:
    if category_id is not None:
        get_owned(Category, category_id, user_id)


def assign(
    txn: Transaction, data: dict, accounts: dict[int, Account], new_account_ids: set[int]
) -> None:
    """Set the fields in `data` on `txn`, checking what involves its accounts."""
    amount: Decimal | None = data.pop("amount", None)
    for key, value in data.items():
        setattr(txn, key, value)
    if txn.transfer_account_id == txn.account_id:
        raise Unprocessable.field("transfer_account_id", "A transfer needs two different accounts.")
    for account_id in new_account_ids:
        if accounts[account_id].archived:
            raise Unprocessable.field(
                "account_id" if account_id == txn.account_id else "transfer_account_id",
                f"Account {account_id} is archived and takes no new transactions.",
            )
    txn.currency = accounts[txn.account_id].currency
    if (
        txn.transfer_account_id is not None
        and accounts[txn.transfer_account_id].currency != txn.currency
    ):
        raise Unprocessable.field(
            "transfer_account_id", "A transfer's accounts must hold the same currency."
        )
    if amount is not None:
        txn.amount = to_minor(amount, txn.currency, "amount")
    txn.amount_scaled = money.to_common_scale(txn.amount, txn.currency)
