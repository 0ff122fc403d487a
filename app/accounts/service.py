"""Accounts: open, change and close the caller's accounts.

Balances move only through app.ledger (an opening balance is money too); this module sets the
fields that move no money (name, type, archived). No request, no commit.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from app import ledger
from app.accounts.models import Account
from app.common.unset import UNSET

Precondition = ledger.Precondition


def create(
    user_id: int,
    *,
    name: str,
    type: str = "checking",  # noqa: A002 - the field's name
    currency: str = "USD",
    opening_balance: Decimal | None = None,
    balance: Decimal | None = None,
    archived: bool = False,
) -> Account:
    """Open an account; `balance` is the original API's name for the opening balance."""
    account = Account(user_id=user_id, name=name, type=type, currency=currency, archived=archived)
    if balance is not None:
        return ledger.open_account(account, balance, field="balance")
    return ledger.open_account(account, opening_balance)


def update(
    user_id: int,
    account_id: int,
    *,
    precondition: Precondition = ledger.no_precondition,
    name: str = UNSET,
    type: str = UNSET,  # noqa: A002 - the field's name
    currency: str = UNSET,
    opening_balance: Decimal = UNSET,
    archived: bool = UNSET,
) -> Account:
    """Change the fields given (UNSET: as it was)."""
    account = ledger.change_account(
        user_id,
        account_id,
        precondition=precondition,
        currency=None if currency is UNSET else currency,
        opening=None if opening_balance is UNSET else opening_balance,
    )
    if name is not UNSET:
        account.name = name
    if type is not UNSET:
        account.type = type
    if archived is not UNSET:
        account.archived = archived
    return account


def close(
    user_id: int, account_id: int, *, precondition: Precondition = ledger.no_precondition
) -> None:
    """Delete the account and its transactions, reversing transfers on the other side."""
    ledger.close_account(user_id, account_id, precondition=precondition)


def reconcile(user_id: int, account_id: int, *, statement_date: date, closing_balance: Decimal):
    """Reconcile the account with a statement (see ledger.reconcile)."""
    return ledger.reconcile(
        user_id, account_id, statement_date=statement_date, closing_balance=closing_balance
    )
