"""Backup and restore of one user's data: accounts, categories, transactions (with their
splits, tags and schedule), rules, budgets, recurring schedules (with the dates they posted),
exchange rates and the base currency.

The backup streams: the small collections first, then the transactions from a server-side
cursor (their splits and tags looked up a batch at a time), so a lifetime of history takes
constant memory. A restore validates the whole document, then writes it through the ledger
(accounts opened, transactions posted in bulk) in the request's one transaction, and checks
every account's balance comes out as the backup says; anything wrong is a 4xx and nothing is
written. A restored schedule keeps the dates it had posted, so it does not post them again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import marshmallow as ma
import orjson
from flask import current_app
from sqlalchemy import delete, exists, insert, select

from app import ledger
from app.accounts.models import Account
from app.backup.schemas import FORMAT, VERSION, BackupSchema
from app.budgets.models import Budget
from app.categories.models import DEFAULT_CATEGORIES, Category
from app.common import json as exact_json
from app.common import money
from app.common.db import analyse
from app.common.errors import Conflict, Unprocessable
from app.common.text import fold
from app.extensions import db
from app.rates.models import ExchangeRate
from app.recurring.models import RecurringOccurrence, RecurringTransaction
from app.rules.models import Rule, RuleTag
from app.transactions.models import Transaction, TransactionSplit, TransactionTag
from app.users.models import User

BATCH = 2000


def refuse(message: str, errors: Any = None) -> Unprocessable:
    if errors is None:
        return Unprocessable(message, field="file")
    return Unprocessable(message, errors={"file": errors})


# --- backup ------------------------------------------------------------------------------------


def backup(user_id: int) -> Iterator[bytes]:
    """The backup document (app.backup.schemas.BackupSchema), in chunks."""
    head = {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": datetime.now(UTC).isoformat(),
        "base_currency": db.session.scalar(select(User.base_currency).where(User.id == user_id)),
        "accounts": [
            {
                "id": account.id,
                "name": account.name,
                "type": account.type,
                "currency": account.currency,
                "opening_balance": money.format_minor(account.opening_balance, account.currency),
                "balance": money.format_minor(account.balance, account.currency),
                "cleared_balance": money.format_minor(account.cleared_balance, account.currency),
                "reconciled_balance": money.format_minor(
                    account.reconciled_balance, account.currency
                ),
                "archived": account.archived,
            }
            for account in db.session.scalars(
                select(Account).where(Account.user_id == user_id).order_by(Account.id)
            )
        ],
        "categories": [
            {"id": c.id, "name": c.name, "kind": c.kind, "parent_id": c.parent_id}
            for c in db.session.scalars(
                select(Category).where(Category.user_id == user_id).order_by(Category.id)
            )
        ],
        "budgets": backup_budgets(user_id),
        "recurring": backup_schedules(user_id),
        "rates": [
            {"base": r.base, "quote": r.quote, "date": r.date.isoformat(), "rate": r.rate}
            for r in db.session.scalars(
                select(ExchangeRate)
                .where(ExchangeRate.user_id == user_id)
                .order_by(ExchangeRate.base, ExchangeRate.quote, ExchangeRate.date)
            )
        ],
    }
    yield orjson.dumps(head)[:-1] + b',"transactions":['
    first = True
    for batch in transaction_batches(user_id):
        chunk = b",".join(orjson.dumps(item) for item in batch)
        yield chunk if first else b"," + chunk
        first = False
    rules = [
        {
            "id": r.id,
            "category_id": r.category_id,
            "tags": r.tags,
            "field": r.field,
            "match": r.match,
            "pattern": r.pattern,
            "min_amount": scaled_to_text(r.min_amount_scaled),
            "max_amount": scaled_to_text(r.max_amount_scaled),
            "priority": r.priority,
        }
        for r in db.session.scalars(
            select(Rule).where(Rule.user_id == user_id).order_by(Rule.priority, Rule.id)
        )
    ]
    yield b'],"rules":' + orjson.dumps(rules) + b"}"


def backup_budgets(user_id: int) -> list[dict]:
    return [
        {
            "id": b.id,
            "category_id": b.category_id,
            "currency": b.currency,
            "amount": money.format_minor(b.amount, b.currency),
            "start_month": f"{b.start_month:%Y-%m}",
            "recurring": b.recurring,
            "rollover": b.rollover,
        }
        for b in db.session.scalars(
            select(Budget).where(Budget.user_id == user_id).order_by(Budget.id)
        )
    ]


def backup_schedules(user_id: int) -> list[dict]:
    occurrences: dict[int, list[dict]] = defaultdict(list)
    o = RecurringOccurrence
    for row in db.session.execute(
        select(o.recurring_id, o.date, o.transaction_id)
        .join(RecurringTransaction, RecurringTransaction.id == o.recurring_id)
        .where(RecurringTransaction.user_id == user_id)
        .order_by(o.recurring_id, o.date)
    ):
        occurrences[row.recurring_id].append(
            {"date": row.date.isoformat(), "transaction_id": row.transaction_id}
        )
    return [
        {
            "id": r.id,
            "account_id": r.account_id,
            "transfer_account_id": r.transfer_account_id,
            "category_id": r.category_id,
            "type": r.type,
            "amount": money.format_minor(r.amount, r.currency),
            "currency": r.currency,
            "transfer_amount": None
            if r.transfer_amount is None
            else money.format_minor(r.transfer_amount, r.transfer_currency),
            "description": r.description,
            "payee": r.payee,
            "unit": r.unit,
            "every": r.every,
            "start_date": r.start_date.isoformat(),
            "end_date": None if r.end_date is None else r.end_date.isoformat(),
            "count": r.count,
            "occurrences": occurrences[r.id],
        }
        for r in db.session.scalars(
            select(RecurringTransaction)
            .where(RecurringTransaction.user_id == user_id)
            .order_by(RecurringTransaction.id)
        )
    ]


def transaction_batches(user_id: int) -> Iterator[list[dict]]:
    """The user's transactions, oldest first, BATCH at a time, each with its splits and tags."""
    t = Transaction
    stmt = (
        select(
            t.id,
            t.account_id,
            t.transfer_account_id,
            t.category_id,
            t.type,
            t.amount,
            t.currency,
            t.transfer_amount,
            t.transfer_currency,
            t.status,
            t.transfer_status,
            t.date,
            t.description,
            t.payee,
            t.import_id,
            t.recurring_id,
        )
        .where(t.user_id == user_id)
        .order_by(t.date, t.id)
        .execution_options(yield_per=BATCH)
    )
    for batch in db.session.execute(stmt).partitions():
        ids = [row.id for row in batch]
        tags: dict[int, list[str]] = defaultdict(list)
        for transaction_id, tag in db.session.execute(
            select(TransactionTag.transaction_id, TransactionTag.tag)
            .where(TransactionTag.user_id == user_id, TransactionTag.transaction_id.in_(ids))
            .order_by(TransactionTag.transaction_id, TransactionTag.tag)
        ):
            tags[transaction_id].append(tag)
        splits: dict[int, list] = defaultdict(list)
        for split in db.session.execute(
            select(
                TransactionSplit.transaction_id,
                TransactionSplit.category_id,
                TransactionSplit.amount,
                TransactionSplit.note,
            )
            .where(TransactionSplit.user_id == user_id, TransactionSplit.transaction_id.in_(ids))
            .order_by(TransactionSplit.transaction_id, TransactionSplit.id)
        ):
            splits[split.transaction_id].append(split)
        yield [
            {
                "id": row.id,
                "account_id": row.account_id,
                "transfer_account_id": row.transfer_account_id,
                "category_id": row.category_id,
                "type": row.type,
                "amount": money.format_minor(row.amount, row.currency),
                "currency": row.currency,
                "transfer_amount": None
                if row.transfer_amount is None
                else money.format_minor(row.transfer_amount, row.transfer_currency),
                "status": row.status,
                "transfer_status": row.transfer_status,
                "date": row.date.isoformat(),
                "description": row.description,
                "payee": row.payee,
                "import_id": row.import_id,
                "recurring_id": row.recurring_id,
                "splits": [
                    {
                        "category_id": split.category_id,
                        "amount": money.format_minor(split.amount, row.currency),
                        "note": split.note,
                    }
                    for split in splits[row.id]
                ],
                "tags": tags[row.id],
            }
            for row in batch
        ]


def scaled_to_text(value: int | None) -> str | None:
    """A bound on the common scale (10^-4) as a decimal string."""
    return None if value is None else format(Decimal(value).scaleb(-4).normalize(), "f")


def scaled(amount: Decimal | None) -> int | None:
    return None if amount is None else money.decimal_to_common_scale(amount, round_up=False)


# --- restore -----------------------------------------------------------------------------------


def restore(user_id: int, data: bytes) -> dict[str, int]:
    """Restore the backup `data` into the user; 409 if they have data of their own (their
    default categories aside, which the backup's replace)."""
    document = read(data)
    # One restore at a time per user, and nothing of theirs appears meanwhile: the new
    # transactions' ids are then read back in the order they were written.
    user = db.session.scalars(select(User).where(User.id == user_id).with_for_update()).one()
    check_empty(user_id)
    db.session.execute(delete(Category).where(Category.user_id == user_id))
    categories = restore_categories(user_id, document["categories"])
    accounts = restore_accounts(user_id, document["accounts"])
    schedules = restore_schedules(user_id, document["recurring"], accounts, categories)
    items = document["transactions"]
    rows = [transaction_row(item, accounts, categories, schedules) for item in items]
    ledger.post_rows(user_id, rows)
    check_balances(document["accounts"], accounts)
    if any(item["splits"] or item["tags"] for item in items) or any(
        occurrence["transaction_id"] is not None
        for schedule in document["recurring"]
        for occurrence in schedule["occurrences"]
    ):
        new_ids = dict(
            zip(
                (item["id"] for item in items),
                db.session.scalars(
                    select(Transaction.id)
                    .where(Transaction.user_id == user_id)
                    .order_by(Transaction.id)
                ),
                strict=True,
            )
        )
        restore_parts(user_id, items, new_ids, accounts, categories)
        restore_occurrences(document["recurring"], schedules, new_ids)
    restore_rules(user_id, document["rules"], categories)
    restore_budgets(user_id, document["budgets"], categories)
    restore_rates(user_id, document["rates"])
    if document["base_currency"] is not None:
        user.base_currency = document["base_currency"]
    for item in document["accounts"]:
        accounts[item["id"]].archived = item["archived"]
    db.session.flush()
    if len(rows) >= current_app.config["IMPORT_ANALYZE_ROWS"]:
        analyse(db.session, "transactions", "transaction_tags", "transaction_splits")
    return {
        "accounts": len(accounts),
        "categories": len(categories),
        "transactions": len(rows),
        "rules": len(document["rules"]),
        "budgets": len(document["budgets"]),
        "recurring": len(document["recurring"]),
        "rates": len(document["rates"]),
    }


def transaction_row(
    item: dict,
    accounts: dict[int, Account],
    categories: dict[int, int],
    schedules: dict[int, RecurringTransaction],
) -> dict[str, Any]:
    """The ledger's row for a backup transaction, its links checked and renumbered."""
    account = accounts.get(item["account_id"])
    destination = item["transfer_account_id"]
    if account is None or (destination is not None and destination not in accounts):
        raise refuse(f"Transaction {item['id']} names an account the backup does not hold.")
    if item["currency"] != account.currency:
        raise refuse(
            f"Transaction {item['id']} is in {item['currency']}; its account holds "
            f"{account.currency}."
        )
    category = item["category_id"]
    if category is not None and category not in categories:
        raise refuse(f"Transaction {item['id']} names a category the backup does not hold.")
    schedule = item["recurring_id"]
    if schedule is not None and schedule not in schedules:
        raise refuse(f"Transaction {item['id']} names a schedule the backup does not hold.")
    return {
        "type": item["type"],
        "account_id": account.id,
        "transfer_account_id": accounts[destination].id if destination else None,
        "category_id": categories[category] if category is not None else None,
        "amount": item["amount"],
        "transfer_amount": item["transfer_amount"],
        "status": item["status"],
        "transfer_status": item["transfer_status"],
        "date": item["date"],
        "description": item["description"],
        "payee": item["payee"],
        "import_id": item["import_id"],
        "recurring_id": schedules[schedule].id if schedule is not None else None,
    }


def restore_parts(
    user_id: int,
    items: list[dict],
    new_ids: dict[int, int],
    accounts: dict[int, Account],
    categories: dict[int, int],
) -> None:
    """The transactions' splits (adding up exactly to their amounts) and tags."""
    splits, tags = [], []
    for item in items:
        transaction_id = new_ids[item["id"]]
        for tag in dict.fromkeys(item["tags"]):
            tags.append({"transaction_id": transaction_id, "tag": tag, "user_id": user_id})
        if not item["splits"]:
            continue
        if item["type"] == "transfer" or item["category_id"] is not None:
            raise refuse(
                f"Transaction {item['id']} has splits: only an income or expense without a "
                "category_id can."
            )
        currency = accounts[item["account_id"]].currency
        total = 0
        for split in item["splits"]:
            category = split["category_id"]
            if category is not None and category not in categories:
                raise refuse(
                    f"A split of transaction {item['id']} names a category the backup does not "
                    "hold."
                )
            amount = ledger.minor_units(split["amount"], currency, "amount")
            total += amount
            splits.append(
                {
                    "transaction_id": transaction_id,
                    "user_id": user_id,
                    "category_id": None if category is None else categories[category],
                    "amount": amount,
                    "note": split["note"],
                }
            )
        if total != ledger.minor_units(item["amount"], currency, "amount"):
            raise refuse(f"The splits of transaction {item['id']} do not add up to its amount.")
    # Through the ledger: the parts' amounts go into its monthly rollups.
    for start in range(0, max(len(tags), len(splits)), BATCH):
        ledger.add_parts(
            user_id, tags=tags[start : start + BATCH], splits=splits[start : start + BATCH]
        )


def restore_schedules(
    user_id: int, items: list[dict], accounts: dict[int, Account], categories: dict[int, int]
) -> dict[int, RecurringTransaction]:
    """backup id -> the new schedule (its occurrences come once the transactions exist)."""
    created: dict[int, RecurringTransaction] = {}
    for item in items:
        name = f"Schedule {item['id']}"
        if item["id"] in created:
            raise refuse(f"{name} appears twice.")
        account = accounts.get(item["account_id"])
        destination = item["transfer_account_id"]
        if account is None or (destination is not None and destination not in accounts):
            raise refuse(f"{name} names an account the backup does not hold.")
        if (item["type"] == "transfer") != (destination is not None) or destination == item[
            "account_id"
        ]:
            raise refuse(f"{name}: a transfer, and only a transfer, has another account.")
        side = None
        if destination is not None:
            # What arrives each time, in the destination's currency (a backup from before
            # schedules had one: the amount, between accounts of one currency).
            arrives = accounts[destination].currency
            if item.get("transfer_amount") is not None:
                side = ledger.minor_units(item["transfer_amount"], arrives, "transfer_amount")
            elif arrives == account.currency:
                side = ledger.minor_units(item["amount"], account.currency, "amount")
            else:
                raise refuse(f"{name}: a transfer from {account.currency} needs transfer_amount.")
        if item["currency"] != account.currency:
            raise refuse(f"{name} is in {item['currency']}; its account holds {account.currency}.")
        category = item["category_id"]
        if category is not None and category not in categories:
            raise refuse(f"{name} names a category the backup does not hold.")
        rec = RecurringTransaction(
            user_id=user_id,
            account_id=account.id,
            transfer_account_id=accounts[destination].id if destination else None,
            category_id=None if category is None else categories[category],
            type=item["type"],
            amount=ledger.minor_units(item["amount"], account.currency, "amount"),
            currency=account.currency,
            transfer_amount=side,
            transfer_currency=None if side is None else accounts[destination].currency,
            description=item["description"],
            payee=item["payee"],
            unit=item["unit"],
            every=item["every"],
            start_date=item["start_date"],
            end_date=item["end_date"],
            count=item["count"],
        )
        db.session.add(rec)
        created[item["id"]] = rec
    db.session.flush()
    return created


def restore_occurrences(
    items: list[dict], schedules: dict[int, RecurringTransaction], new_ids: dict[int, int]
) -> None:
    """The dates each schedule had posted: post-due leaves them out, as before the backup."""
    values = []
    for item in items:
        seen = set()
        for occurrence in item["occurrences"]:
            if occurrence["date"] in seen:
                raise refuse(f"Schedule {item['id']} lists {occurrence['date']} twice.")
            seen.add(occurrence["date"])
            posted = occurrence["transaction_id"]
            if posted is not None and posted not in new_ids:
                raise refuse(f"Schedule {item['id']} names a transaction the backup does not hold.")
            values.append(
                {
                    "recurring_id": schedules[item["id"]].id,
                    "date": occurrence["date"],
                    "transaction_id": None if posted is None else new_ids[posted],
                }
            )
    for start in range(0, len(values), BATCH):
        db.session.execute(insert(RecurringOccurrence), values[start : start + BATCH])


def restore_rules(user_id: int, items: list[dict], categories: dict[int, int]) -> None:
    for item in items:
        category = item["category_id"]
        if category is not None and category not in categories:
            raise refuse(f"Rule {item['id']} names a category the backup does not hold.")
        if category is None and not item["tags"]:
            raise refuse(f"Rule {item['id']} gives neither a category nor a tag.")
        low, high = scaled(item["min_amount"]), scaled(item["max_amount"])
        if low is not None and high is not None and low > high:
            raise refuse(f"Rule {item['id']} has max_amount below min_amount.")
        db.session.add(
            Rule(
                user_id=user_id,
                category_id=None if category is None else categories[category],
                tag_rows=[RuleTag(tag=tag) for tag in dict.fromkeys(item["tags"])],
                field=item["field"],
                match=item["match"],
                pattern=item["pattern"],
                min_amount_scaled=low,
                max_amount_scaled=high,
                priority=item["priority"],
            )
        )


def restore_budgets(user_id: int, items: list[dict], categories: dict[int, int]) -> None:
    kinds = {
        row.id: row.kind
        for row in db.session.execute(
            select(Category.id, Category.kind).where(Category.user_id == user_id)
        )
    }
    seen = set()
    for item in items:
        category = item["category_id"]
        if category not in categories:
            raise refuse(f"Budget {item['id']} names a category the backup does not hold.")
        if kinds[categories[category]] != "expense":
            raise refuse(f"Budget {item['id']} is for an income category.")
        key = (category, item["currency"], item["start_month"])
        if key in seen:
            raise refuse(f"Budget {item['id']}: another has its category, currency and month.")
        seen.add(key)
        db.session.add(
            Budget(
                user_id=user_id,
                category_id=categories[category],
                currency=item["currency"],
                amount=ledger.minor_units(item["amount"], item["currency"], "amount"),
                start_month=item["start_month"],
                recurring=item["recurring"],
                rollover=item["rollover"],
            )
        )


def restore_rates(user_id: int, items: list[dict]) -> None:
    seen = set()
    for item in items:
        key = (item["base"], item["quote"], item["date"])
        if key in seen:
            raise refuse(f"Two rates for {item['base']}/{item['quote']} on {item['date']}.")
        seen.add(key)
        db.session.add(ExchangeRate(user_id=user_id, **item))


def read(data: bytes) -> dict[str, Any]:
    if not data.strip():
        raise refuse("The file is empty.")
    try:
        raw = exact_json.loads(data)
    except (exact_json.UnparsableJSON, ValueError):
        raise refuse("The file is not a JSON backup document.") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise refuse(f'The file is not a backup: it has no "format": "{FORMAT}".')
    try:
        return BackupSchema().load(raw)
    except ma.ValidationError as error:
        raise refuse("The backup document is invalid.", error.messages) from None


def check_empty(user_id: int) -> None:
    has = db.session.scalar(
        select(
            exists().where(Account.user_id == user_id)
            | exists().where(Transaction.user_id == user_id)
            | exists().where(Rule.user_id == user_id)
            | exists().where(Budget.user_id == user_id)
            | exists().where(RecurringTransaction.user_id == user_id)
            | exists().where(ExchangeRate.user_id == user_id)
        )
    )
    defaults = set(DEFAULT_CATEGORIES)
    own = [
        (c.name, c.kind, c.parent_id)
        for c in db.session.scalars(select(Category).where(Category.user_id == user_id))
    ]
    if has or any((name, kind) not in defaults or parent for name, kind, parent in own):
        raise Conflict(
            "You already have data: a backup restores only into a user with none of their own "
            "(the default categories aside). Restore into a new user, or delete yours first."
        )


def restore_categories(user_id: int, items: list[dict]) -> dict[int, int]:
    """backup id -> new id; parents linked once all exist, a loop among them refused."""
    created = {}
    for item in items:
        category = Category(
            user_id=user_id, name=item["name"], name_canonical=fold(item["name"]), kind=item["kind"]
        )
        db.session.add(category)
        created[item["id"]] = category
    db.session.flush()
    parents = {item["id"]: item["parent_id"] for item in items}
    for backup_id, parent in parents.items():
        if parent is not None and parent not in created:
            raise refuse(f"Category {backup_id} names a parent the backup does not hold.")
        seen = {backup_id}
        while parent is not None:
            if parent in seen:
                raise refuse(f"Category {backup_id} is its own ancestor.")
            seen.add(parent)
            parent = parents[parent]
        if parents[backup_id] is not None:
            created[backup_id].parent_id = created[parents[backup_id]].id
    db.session.flush()
    return {backup_id: category.id for backup_id, category in created.items()}


def restore_accounts(user_id: int, items: list[dict]) -> dict[int, Account]:
    accounts = {}
    for item in items:
        if item["id"] in accounts:
            raise refuse(f"Account {item['id']} appears twice.")
        account = Account(
            user_id=user_id, name=item["name"], type=item["type"], currency=item["currency"]
        )
        accounts[item["id"]] = ledger.open_account(account, item["opening_balance"])
    return accounts


def check_balances(items: list[dict], accounts: dict[int, Account]) -> None:
    """Every account's balances as the backup says: a document edited by hand (or cut) whose
    transactions no longer add up is refused rather than restored wrong."""
    ids = [account.id for account in accounts.values()]
    found = {
        row.id: row
        for row in db.session.execute(
            select(
                Account.id, Account.balance, Account.cleared_balance, Account.reconciled_balance
            ).where(Account.id.in_(ids))
        )
    }
    for item in items:
        account = accounts[item["id"]]
        for name in ("balance", "cleared_balance", "reconciled_balance"):
            expected = ledger.minor_units(item[name], account.currency, name)
            actual = getattr(found[account.id], name)
            if actual != expected:
                raise refuse(
                    f"Account {item['id']}'s transactions add up to a {name} of "
                    f"{money.format_minor(actual, account.currency)}, not the {item[name]} the "
                    "backup says: the document is inconsistent."
                )
