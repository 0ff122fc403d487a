"""The ledger: the only way money moves.

Every feature that changes a balance or the transactions behind it (the API, and imports,
recurring postings and splits to come) calls this API: `open_account`, `change_account`,
`close_account`, `post` / `post_many`, `amend`, `reverse`, and `rebuild` for repairs.

The write protocol, the same for every writer so that no two requests deadlock:
1. lock the transaction row(s) being changed (SELECT ... FOR UPDATE), if any;
2. lock the accounts involved, in ascending id order;
3. run the caller's precondition (an If-Match check) on the row it names, now that it is locked;
4. move balances only as `UPDATE accounts SET balance = balance + :delta`, in ascending
   account order (never read, add and write back: that loses updates under concurrency);
5. keep the user's transaction count (users.transaction_count), whose row is taken last.
Each row is locked once. Nothing here reads the request or commits: the route commits once,
so the rows and the balances they move are written together or not at all.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, exists, insert, or_, select, update
from sqlalchemy.exc import DBAPIError

from app.accounts.models import Account
from app.common import money
from app.common.db import utcnow
from app.common.errors import Conflict, NotFound, Unprocessable
from app.common.unset import UNSET
from app.extensions import db
from app.ledger.audit import Discrepancy, verify
from app.ledger.effects import Effect, effects, effects_of, moves, negated, totals
from app.transactions.models import Transaction
from app.users.models import User

__all__ = [
    "UNSET",
    "Discrepancy",
    "Effect",
    "amend",
    "apply",
    "change_account",
    "close_account",
    "effects",
    "effects_of",
    "lock_accounts",
    "open_account",
    "post",
    "post_many",
    "post_rows",
    "rebuild",
    "reverse",
    "verify",
]

Precondition = Callable[[Any], None]


def no_precondition(row: Any) -> None:
    """Writes from the CLI, imports and the like check nothing on the locked row."""


# --- locks and balances ------------------------------------------------------------------------


def lock_accounts(user_id: int, account_ids: Iterable[int]) -> dict[int, Account]:
    """Lock the user's accounts in ascending id order; 404 if one is not theirs (or is gone)."""
    ids = sorted(set(account_ids))
    found = {
        account.id: account
        for account in db.session.scalars(
            select(Account)
            .where(Account.id.in_(ids), Account.user_id == user_id)
            .order_by(Account.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    }
    for account_id in ids:
        if account_id not in found:
            raise NotFound(f"Account {account_id} not found.")
    return found


def lock_transaction(user_id: int, transaction_id: int) -> Transaction:
    """Lock the user's transaction row; 404 if it is not theirs, or another request deleted it
    while this one waited for the lock."""
    txn = db.session.scalars(
        select(Transaction)
        .where(Transaction.id == transaction_id, Transaction.user_id == user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if txn is None:
        raise NotFound(f"Transaction {transaction_id} not found.")
    return txn


def apply(*changes: Iterable[Effect]) -> None:
    """Add every delta to its account's balance atomically, in ascending account order.

    Deltas on the same account are summed first, so a change that leaves an account as it was
    touches nothing. A result beyond the balance bound fails the CHECK constraint (a 422).
    """
    sums: dict[int, int] = defaultdict(int)
    for change in changes:
        for account_id, delta in change:
            sums[account_id] += delta
    now = utcnow()
    for account_id in sorted(sums):
        if sums[account_id]:
            db.session.execute(
                update(Account)
                .where(Account.id == account_id)
                .values(balance=Account.balance + sums[account_id], updated_at=now),
                execution_options={"synchronize_session": "fetch"},
            )


def count_transactions(user_id: int, delta: int) -> None:
    """Keep users.transaction_count in step with the rows, atomically, like a balance: the
    unfiltered list's X-Total-Count without counting a million rows."""
    if delta:
        db.session.execute(
            update(User)
            .where(User.id == user_id)
            .values(transaction_count=User.transaction_count + delta),
            execution_options={"synchronize_session": False},
        )


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
    account.balance = minor
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
    apply([(account.id, new_opening - account.opening_balance)])
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
    others = [
        (other, -int(total))
        for other, total in db.session.execute(totals(moves(on_account)))
        if other != account_id
    ]
    apply(others)
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


def check_accounts(
    txn: Transaction, accounts: dict[int, Account], newly_used: Iterable[int]
) -> str:
    """The transaction's currency (its account's); 422 if a newly used account is archived or
    a transfer's accounts hold different currencies."""
    for account_id in sorted(newly_used):
        if accounts[account_id].archived:
            raise Unprocessable(
                f"Account {account_id} is archived and takes no new transactions.",
                field="account_id" if account_id == txn.account_id else "transfer_account_id",
            )
    currency = accounts[txn.account_id].currency
    destination = txn.transfer_account_id
    if destination is not None and accounts[destination].currency != currency:
        raise Unprocessable(
            "A transfer's accounts must hold the same currency.", field="transfer_account_id"
        )
    return currency


def set_amount(txn: Transaction, minor: int, currency: str) -> None:
    txn.amount = minor
    txn.currency = currency
    # The common scale on which amounts in different currencies compare as written.
    txn.amount_scaled = money.to_common_scale(minor, currency)


def post(txn: Transaction, amount: Decimal) -> Transaction:
    """Record the new transaction `txn` (its user, type, account_id and transfer_account_id
    set) for `amount` in its account's currency; its accounts' balances move with it."""
    post_many(txn.user_id, [(txn, amount)])
    return txn


def post_many(user_id: int, entries: Sequence[tuple[Transaction, Decimal]]) -> None:
    """Record many new transactions of one user at once: one lock per account, one balance
    update per account, one count update."""
    for txn, _ in entries:
        check_shape(txn.type, txn.account_id, txn.transfer_account_id)
    used = {i for txn, _ in entries for i in (txn.account_id, txn.transfer_account_id) if i}
    accounts = lock_accounts(user_id, used)
    for txn, amount in entries:
        txn.user_id = user_id
        involved = {txn.account_id, txn.transfer_account_id} - {None}
        currency = check_accounts(txn, accounts, involved)
        set_amount(txn, minor_units(amount, currency, "amount"), currency)
    apply(*(effects_of(txn) for txn, _ in entries))
    db.session.add_all(txn for txn, _ in entries)
    db.session.flush()
    count_transactions(user_id, len(entries))


def post_rows(user_id: int, rows: Sequence[dict[str, Any]]) -> None:
    """Record many new transactions of one user in bulk (imports, restores): as `post_many`,
    but each row is a dict of Transaction columns with `amount` a Decimal, inserted with one
    multi-row INSERT per thousand rows instead of an ORM object each (a 100,000-row import in
    seconds, not minutes). Nothing is returned: the rows' ids are not read back."""
    if not rows:
        return
    for row in rows:
        check_shape(row["type"], row["account_id"], row.get("transfer_account_id"))
    used = {i for row in rows for i in (row["account_id"], row.get("transfer_account_id")) if i}
    accounts = lock_accounts(user_id, used)
    for account_id in sorted(used):
        if accounts[account_id].archived:
            raise Unprocessable(
                f"Account {account_id} is archived and takes no new transactions.",
                field="account_id",
            )
    now = utcnow()
    values = []
    sums: dict[int, int] = defaultdict(int)
    for row in rows:
        source, destination = row["account_id"], row.get("transfer_account_id")
        currency = accounts[source].currency
        if destination is not None and accounts[destination].currency != currency:
            raise Unprocessable(
                "A transfer's accounts must hold the same currency.", field="transfer_account_id"
            )
        minor = minor_units(row["amount"], currency, "amount")
        for account_id, delta in effects(row["type"], source, destination, minor):
            sums[account_id] += delta
        values.append(
            {
                **row,
                "user_id": user_id,
                "transfer_account_id": destination,
                "amount": minor,
                "currency": currency,
                "amount_scaled": money.to_common_scale(minor, currency),
                "created_at": row.get("created_at") or now,
                "updated_at": row.get("updated_at") or now,
            }
        )
    insert_many(values)
    apply(sums.items())
    count_transactions(user_id, len(values))


#: COPY's text format: these characters are written as escapes.
COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_field(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value.translate(COPY_ESCAPES)
    if isinstance(value, bool):
        return "t" if value else "f"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def insert_many(values: list[dict[str, Any]]) -> None:
    """INSERT the transaction rows (dicts with the same keys): on PostgreSQL by COPY, four times
    faster than multi-row INSERTs for 100,000 rows; elsewhere a Core executemany, which
    SQLAlchemy batches into multi-row VALUES. Both in the session's transaction."""
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        db.session.execute(insert(Transaction.__table__), values)
        return
    columns = list(values[0])
    body = io.StringIO()
    for row in values:
        body.write("\t".join(copy_field(row[name]) for name in columns))
        body.write("\n")
    body.seek(0)
    statement = f"COPY transactions ({', '.join(columns)}) FROM STDIN"
    dbapi = connection.connection.driver_connection
    try:
        with dbapi.cursor() as cursor:
            cursor.copy_expert(statement, body)
    except dbapi.Error as error:
        # As SQLAlchemy would wrap it (an IntegrityError for a constraint), so that app.errors
        # answers it like any other statement's.
        raise DBAPIError.instance(statement, None, error, dbapi.Error) from error


def amend(
    user_id: int,
    transaction_id: int,
    *,
    precondition: Precondition = no_precondition,
    type: str = UNSET,  # noqa: A002 - the field's name
    account_id: int = UNSET,
    transfer_account_id: int | None = UNSET,
    amount: Decimal = UNSET,
) -> Transaction:
    """Lock the transaction and change what it does to balances (any of type, accounts and
    amount; UNSET keeps one as it is): the old effect is reversed and the new one applied.
    Returns the locked transaction, for the caller to change its other fields."""
    txn = lock_transaction(user_id, transaction_id)
    precondition(txn)
    new_type = txn.type if type is UNSET else type
    new_account = txn.account_id if account_id is UNSET else account_id
    if new_type != "transfer" and transfer_account_id is UNSET:
        transfer_account_id = None  # leaving `transfer` drops the destination
    new_destination = (
        txn.transfer_account_id if transfer_account_id is UNSET else transfer_account_id
    )
    check_shape(new_type, new_account, new_destination)
    old_effects = effects_of(txn)
    old_ids = {account for account, _ in old_effects}
    new_ids = {new_account, new_destination} - {None}
    accounts = lock_accounts(user_id, old_ids | new_ids)
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
    apply(negated(old_effects), effects_of(txn))
    db.session.flush()
    return txn


def reverse(
    user_id: int, transaction_id: int, *, precondition: Precondition = no_precondition
) -> None:
    """Delete the transaction; its accounts' balances move back."""
    txn = lock_transaction(user_id, transaction_id)
    precondition(txn)
    apply(negated(effects_of(txn)))
    db.session.delete(txn)
    db.session.flush()
    count_transactions(user_id, -1)


# --- repair ------------------------------------------------------------------------------------


def rebuild() -> list[Discrepancy]:
    """Correct every wrong balance from its transactions; returns what was corrected.

    Locks every account first, so no write slips in between measuring and correcting.
    """
    db.session.execute(select(Account.id).order_by(Account.id).with_for_update())
    wrong = verify()
    apply([(item.account_id, item.expected - item.balance) for item in wrong])
    return wrong
