"""Accounts: create, change and delete, keeping every balance equal to its ledger.

No request, no commit: routes commit once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal

from sqlalchemy import delete, exists, func, or_, select

from app import ledger
from app.accounts.models import Account
from app.common import money
from app.common.auth import get_owned
from app.errors import Conflict, NotFound, Unprocessable
from app.extensions import db
from app.transactions.models import Transaction
from app.users import service as users


def to_minor(amount: Decimal, currency: str, field: str) -> int:
    """Minor units of `amount`, or a 422 on `field` (too many places, too large)."""
    try:
        minor = money.to_minor(amount, currency)
    except money.MoneyError as exc:
        raise Unprocessable.field(field, str(exc)) from None
    if abs(minor) >= money.MAX_AMOUNT_MINOR:
        raise Unprocessable.field(field, "Must be below 10^14 minor units in magnitude.")
    return minor


def create(user_id: int, data: dict) -> Account:
    opening = data.pop("opening_balance", None)
    legacy_balance = data.pop("balance", None)
    opening = opening if opening is not None else legacy_balance
    field = "opening_balance" if legacy_balance is None else "balance"
    opening_minor = to_minor(opening, data["currency"], field) if opening is not None else 0
    account = Account(user_id=user_id, opening_balance=opening_minor, balance=opening_minor, **data)
    db.session.add(account)
    db.session.flush()
    return account


def lock_accounts(user_id: int, account_ids: Iterable[int]) -> dict[int, Account]:
    """Lock the caller's accounts in ascending id order; 404 if one is not theirs.

    Every writer locks accounts in the same order, so two requests never deadlock.
    """
    ids = sorted(set(account_ids))
    accounts = db.session.scalars(
        select(Account)
        .where(Account.id.in_(ids), Account.user_id == user_id)
        .order_by(Account.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    found = {account.id: account for account in accounts}
    for account_id in ids:
        if account_id not in found:
            raise NotFound(f"Account {account_id} not found.")
    return found


def has_transactions(account_id: int) -> bool:
    return db.session.scalar(
        select(
            exists().where(
                or_(
                    Transaction.account_id == account_id,
                    Transaction.transfer_account_id == account_id,
                )
            )
        )
    )


def update(user_id: int, account_id: int, data: dict) -> Account:
    account = lock_accounts(user_id, [account_id])[account_id]
    currency = data.get("currency", account.currency)
    if currency != account.currency and has_transactions(account.id):
        raise Conflict("An account's currency cannot change while it has transactions.")
    if "opening_balance" in data:
        new_opening = to_minor(data.pop("opening_balance"), currency, "opening_balance")
    else:
        # The same decimal value in the new currency, if it can be written there exactly.
        value = money.to_decimal(account.opening_balance, account.currency)
        new_opening = to_minor(value, currency, "opening_balance")
    ledger.apply(db.session, [(account.id, new_opening - account.opening_balance)])
    account.opening_balance = new_opening
    for key, value in data.items():
        setattr(account, key, value)
    db.session.flush()
    return account


def delete_account(
    user_id: int, account_id: int, check: Callable[[Account], None] | None = None
) -> None:
    """Delete the account and its transactions, reversing transfers on the other side.

    Locks in the writers' order: the transactions first, then the accounts ascending.
    `check` (an If-Match precondition, say) sees the account once it is locked.
    """
    get_owned(Account, account_id, user_id)
    touches = (Transaction.user_id == user_id) & or_(
        Transaction.account_id == account_id, Transaction.transfer_account_id == account_id
    )
    db.session.execute(select(Transaction.id).where(touches).with_for_update())
    locked = lock_accounts(user_id, all_account_ids(user_id))
    if check is not None:
        check(locked[account_id])
    counterparts = reversal_of_transfers(account_id)
    ledger.apply(db.session, counterparts)
    deleted = db.session.execute(delete(Transaction).where(touches)).rowcount
    users.count_transactions(user_id, -deleted)
    db.session.execute(delete(Account).where(Account.id == account_id))


def all_account_ids(user_id: int) -> list[int]:
    return list(db.session.scalars(select(Account.id).where(Account.user_id == user_id)))


def reversal_of_transfers(account_id: int) -> list[ledger.Effect]:
    """What undoing the account's transfers does to the accounts on their other side."""
    # Money the account sent had been added to the destination: take it back, and vice versa.
    sent = (
        select(Transaction.transfer_account_id, -func.sum(Transaction.amount))
        .where(Transaction.account_id == account_id, Transaction.type == "transfer")
        .group_by(Transaction.transfer_account_id)
    )
    received = (
        select(Transaction.account_id, func.sum(Transaction.amount))
        .where(Transaction.transfer_account_id == account_id)
        .group_by(Transaction.account_id)
    )
    return [(other, int(total)) for other, total in db.session.execute(sent.union_all(received))]
