"""Recurring transactions: keep schedules, preview them, and post what is due exactly once.

Posting goes through app.ledger.post_many like any other write of money. Each posted date is a
row of recurring_occurrences, whose primary key (schedule, date) makes a second posting of the
same date impossible however two runs race; the row stays when its transaction is deleted, so a
deleted occurrence is not posted again.

Lock order, the ledger's with the schedule between the accounts and the user's count row:
the schedule's accounts (ascending) -> the schedule row -> the user's count row. Closing an
account (which locks the account, then deletes its schedules) takes them in the same order.
No request, no commit.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select

from app import ledger
from app.accounts.models import Account
from app.categories.models import Category
from app.common import money
from app.common.auth import get_owned
from app.common.errors import Conflict, NotFound, Unprocessable
from app.common.unset import UNSET
from app.extensions import db
from app.recurring import schedule
from app.recurring.models import RecurringOccurrence, RecurringTransaction
from app.transactions.models import Transaction


def today() -> date:
    return datetime.now(UTC).date()


def check_template(user_id: int, rec: RecurringTransaction) -> tuple[Account, Account | None]:
    """The template would post: its accounts are the caller's, the category is theirs.
    Returns the account and a transfer's destination."""
    ledger.check_shape(rec.type, rec.account_id, rec.transfer_account_id)
    account = get_owned(Account, rec.account_id, user_id)
    destination = None
    if rec.transfer_account_id is not None:
        destination = get_owned(Account, rec.transfer_account_id, user_id)
    if rec.category_id is not None:
        get_owned(Category, rec.category_id, user_id)
    return account, destination


def set_amount(rec: RecurringTransaction, amount: Decimal, currency: str) -> None:
    rec.amount = ledger.minor_units(amount, currency, "amount")
    rec.currency = currency


def set_destination(
    rec: RecurringTransaction, destination: Account | None, transfer_amount: Decimal | None
) -> None:
    """A transfer's destination side, as a one-off transfer's (ledger.destination_side):
    `transfer_amount` in the destination's currency, required when the two accounts hold
    different ones; else the side as it was, if it stays in that currency, or `amount`
    between accounts of one currency. Income and expense have none (422 if one is given)."""
    if rec.type != "transfer":
        if transfer_amount is not None:
            raise Unprocessable("Only transfers have a transfer_amount.", field="transfer_amount")
        rec.transfer_amount = rec.transfer_currency = None
        return
    kept = rec.transfer_amount if rec.transfer_currency == destination.currency else None
    rec.transfer_amount = ledger.destination_side(
        amount=rec.amount,
        currency=rec.currency,
        destination=destination.id,
        destination_currency=destination.currency,
        transfer_amount=transfer_amount,
        kept=kept,
    )
    rec.transfer_currency = destination.currency


def create(
    user_id: int,
    *,
    account_id: int,
    type: str,  # noqa: A002 - the field's name
    amount: Decimal,
    unit: str,
    start_date: date,
    every: int = 1,
    end_date: date | None = None,
    count: int | None = None,
    transfer_account_id: int | None = None,
    transfer_amount: Decimal | None = None,
    category_id: int | None = None,
    description: str = "",
    payee: str | None = None,
) -> RecurringTransaction:
    rec = RecurringTransaction(
        user_id=user_id,
        account_id=account_id,
        type=type,
        transfer_account_id=transfer_account_id,
        category_id=category_id,
        description=description,
        payee=payee,
        unit=unit,
        every=every,
        start_date=start_date,
        end_date=end_date,
        count=count,
    )
    account, destination = check_template(user_id, rec)
    set_amount(rec, amount, account.currency)
    set_destination(rec, destination, transfer_amount)
    db.session.add(rec)
    db.session.flush()
    return rec


def lock(user_id: int, recurring_id: int) -> RecurringTransaction:
    rec = db.session.scalars(
        select(RecurringTransaction)
        .where(RecurringTransaction.id == recurring_id, RecurringTransaction.user_id == user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if rec is None:
        raise NotFound(f"RecurringTransaction {recurring_id} not found.")
    return rec


def update(
    user_id: int,
    recurring_id: int,
    *,
    precondition=ledger.no_precondition,
    amount: Decimal = UNSET,
    account_id: int = UNSET,
    type: str = UNSET,  # noqa: A002 - the field's name
    transfer_account_id: int | None = UNSET,
    transfer_amount: Decimal = UNSET,
    category_id: int | None = UNSET,
    description: str = UNSET,
    payee: str | None = UNSET,
    unit: str = UNSET,
    every: int = UNSET,
    start_date: date = UNSET,
    end_date: date | None = UNSET,
    count: int | None = UNSET,
) -> RecurringTransaction:
    """Change the fields given (UNSET: as it was); occurrences already posted stay."""
    rec = lock(user_id, recurring_id)
    precondition(rec)
    if (rec.type if type is UNSET else type) != "transfer" and transfer_account_id is UNSET:
        transfer_account_id = None  # leaving `transfer` drops the destination
    changes = {
        "account_id": account_id,
        "type": type,
        "transfer_account_id": transfer_account_id,
        "category_id": category_id,
        "description": description,
        "payee": payee,
        "unit": unit,
        "every": every,
        "start_date": start_date,
        "end_date": end_date,
        "count": count,
    }
    # Checked whole before anything is written: a half-changed template (an expense still
    # with a transfer's destination side) would fail its CHECK in an autoflush.
    with db.session.no_autoflush:
        for name, value in changes.items():
            if value is not UNSET:
                setattr(rec, name, value)
        if rec.end_date is not None and rec.end_date < rec.start_date:
            raise Unprocessable("Must not be before start_date.", field="end_date")
        account, destination = check_template(user_id, rec)
        if amount is not UNSET:
            set_amount(rec, amount, account.currency)
        elif account.currency != rec.currency:
            raise Unprocessable(
                f"Account {account.id} holds {account.currency} and this schedule is in "
                f"{rec.currency}: give its amount in {account.currency} too.",
                field="amount",
            )
        set_destination(rec, destination, None if transfer_amount is UNSET else transfer_amount)
    db.session.flush()
    return rec


def delete(user_id: int, recurring_id: int, *, precondition=ledger.no_precondition) -> None:
    """The schedule goes; the transactions it posted stay (unlinked)."""
    rec = lock(user_id, recurring_id)
    precondition(rec)
    db.session.delete(rec)
    db.session.flush()


def posted_dates(recurring_id: int) -> set[date]:
    return set(
        db.session.scalars(
            select(RecurringOccurrence.date).where(RecurringOccurrence.recurring_id == recurring_id)
        )
    )


def pending(rec: RecurringTransaction, until: date | None) -> list[date]:
    """Its dates up to `until` (all, for None) that are not posted yet."""
    done = posted_dates(rec.id)
    dates = schedule.occurrences(
        rec.start_date, rec.unit, rec.every, end=rec.end_date, count=rec.count, until=until
    )
    return [day for day in dates if day not in done]


def upcoming(user_id: int, recurring_id: int, *, count: int) -> dict:
    """The next `count` occurrences not yet posted; writes nothing."""
    rec = get_owned(RecurringTransaction, recurring_id, user_id)
    done = posted_dates(rec.id)
    found = []
    for day in schedule.occurrences(
        rec.start_date, rec.unit, rec.every, end=rec.end_date, count=rec.count
    ):
        if day not in done:
            found.append(day)
            if len(found) == count:
                break
    now = today()
    return {
        "occurrences": [
            {
                "date": day,
                "amount": rec.amount,
                "currency": rec.currency,
                "transfer_amount": rec.transfer_amount,
                "transfer_currency": rec.transfer_currency,
                "due": day <= now,
            }
            for day in found
        ]
    }


def post_due(user_id: int, recurring_id: int, *, until: date | None = None) -> list[Transaction]:
    """Post every occurrence due up to `until` (today, UTC) that is not posted yet, through
    the ledger, each linked to its schedule; returns the transactions created."""
    until = until or today()
    peek = get_owned(RecurringTransaction, recurring_id, user_id)
    accounts = {peek.account_id, peek.transfer_account_id} - {None}
    locked = ledger.lock_accounts(user_id, accounts)
    rec = lock(user_id, recurring_id)
    if {rec.account_id, rec.transfer_account_id} - {None} != accounts:
        # Changed to other accounts between the look and the locks: locks would be out of order.
        raise Conflict("The schedule changed while it was being posted; try again.")
    dates = pending(rec, until)
    if not dates:
        return []
    # A value is never relabelled: if an account's currency changed since the schedule was
    # written (possible while it had no transactions), the schedule must be told anew.
    sides = [(rec.account_id, rec.currency, "amount")]
    if rec.type == "transfer":
        sides.append((rec.transfer_account_id, rec.transfer_currency, "transfer_amount"))
    for account_id, currency, field in sides:
        if locked[account_id].currency != currency:
            raise Conflict(
                f"Account {account_id} now holds {locked[account_id].currency} and this "
                f"schedule's {field} is in {currency}: change the schedule first."
            )
    amount = money.to_decimal(rec.amount, rec.currency)
    transfer_amount = (
        money.to_decimal(rec.transfer_amount, rec.transfer_currency)
        if rec.type == "transfer"
        else None
    )
    entries = [
        (
            Transaction(
                type=rec.type,
                account_id=rec.account_id,
                transfer_account_id=rec.transfer_account_id,
                category_id=rec.category_id,
                date=day,
                description=rec.description,
                payee=rec.payee,
                recurring_id=rec.id,
                splits=[],
                tag_rows=[],
            ),
            amount,
            transfer_amount,
        )
        for day in dates
    ]
    ledger.post_many(user_id, entries)
    db.session.add_all(
        RecurringOccurrence(recurring_id=rec.id, date=txn.date, transaction_id=txn.id)
        for txn, *_ in entries
    )
    db.session.flush()
    return [txn for txn, *_ in entries]


def due_schedules(until: date) -> list[tuple[int, int]]:
    """(user id, schedule id) of every schedule that has started by `until`, for the CLI."""
    return list(
        db.session.execute(
            select(RecurringTransaction.user_id, RecurringTransaction.id)
            .where(RecurringTransaction.start_date <= until)
            .order_by(RecurringTransaction.id)
        )
    )


def list_stmt(user_id: int):
    """The caller's schedules (unordered: the pager orders them)."""
    return select(RecurringTransaction).where(RecurringTransaction.user_id == user_id)
