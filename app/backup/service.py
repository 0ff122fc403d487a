"""Backup and restore of one user's data.

The backup streams: accounts and categories first, then the transactions from a server-side
cursor, so a lifetime of history takes constant memory. A restore validates the whole document,
then writes it through the ledger (accounts opened, transactions posted in bulk) in the
request's one transaction, and checks every account's balance comes out as the backup says;
anything wrong is a 4xx and nothing is written.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import marshmallow as ma
import orjson
from sqlalchemy import delete, exists, select

from app import ledger
from app.accounts.models import Account
from app.backup.schemas import FORMAT, VERSION, BackupSchema
from app.categories.models import DEFAULT_CATEGORIES, Category
from app.common import json as exact_json
from app.common import money
from app.common.errors import Conflict, Unprocessable
from app.common.text import fold
from app.extensions import db
from app.rules.models import Rule, RuleTag
from app.transactions.models import Transaction

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
    }
    yield orjson.dumps(head)[:-1] + b',"transactions":['
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
        )
        .where(t.user_id == user_id)
        .order_by(t.date, t.id)
        .execution_options(yield_per=BATCH)
    )
    first = True
    for batch in db.session.execute(stmt).partitions():
        chunk = b",".join(
            orjson.dumps(
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
                }
            )
            for row in batch
        )
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
    check_empty(user_id)
    db.session.execute(delete(Category).where(Category.user_id == user_id))
    categories = restore_categories(user_id, document["categories"])
    accounts = restore_accounts(user_id, document["accounts"])
    rows = []
    for item in document["transactions"]:
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
        rows.append(
            {
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
            }
        )
    ledger.post_rows(user_id, rows)
    check_balances(document["accounts"], accounts)
    for item in document["rules"]:
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
    for item in document["accounts"]:
        accounts[item["id"]].archived = item["archived"]
    db.session.flush()
    return {
        "accounts": len(accounts),
        "categories": len(categories),
        "transactions": len(rows),
        "rules": len(document["rules"]),
    }


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
