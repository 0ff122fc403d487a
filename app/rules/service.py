"""Rules: create, change, delete; apply them to new rows (the `categorise` signal) and to the
uncategorised transactions of a date range. Categories move no money: setting one is no ledger
write. No request, no commit."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date
from decimal import Decimal

from sqlalchemy import select, update

from app.categories.models import Category
from app.common import money
from app.common.auth import get_owned
from app.common.db import utcnow
from app.common.errors import Unprocessable
from app.common.events import categorise
from app.common.unset import UNSET
from app.extensions import db
from app.rules import matching
from app.rules.models import Rule
from app.transactions.models import Transaction

#: Transactions read, and updated, at a time by `apply_to_range`.
BATCH = 5000


def bound(amount: Decimal | None) -> int | None:
    return None if amount is None else money.decimal_to_common_scale(amount, round_up=False)


def check_pattern(match: str, pattern: str) -> None:
    if match == "regex":
        try:
            re.compile(pattern)
        except re.error as exc:
            raise Unprocessable(
                f"Not a valid regular expression: {exc}.", field="pattern"
            ) from None


def check_range(rule: Rule) -> None:
    low, high = rule.min_amount_scaled, rule.max_amount_scaled
    if low is not None and high is not None and low > high:
        raise Unprocessable("Must not be below min_amount.", field="max_amount")


def create(
    user_id: int,
    *,
    pattern: str,
    category_id: int,
    field: str = "any",
    match: str = "contains",
    min_amount: Decimal | None = None,
    max_amount: Decimal | None = None,
    priority: int = 100,
) -> Rule:
    get_owned(Category, category_id, user_id)
    check_pattern(match, pattern)
    rule = Rule(
        user_id=user_id,
        pattern=pattern,
        category_id=category_id,
        field=field,
        match=match,
        min_amount_scaled=bound(min_amount),
        max_amount_scaled=bound(max_amount),
        priority=priority,
    )
    check_range(rule)
    db.session.add(rule)
    db.session.flush()
    return rule


def update_rule(
    user_id: int,
    rule_id: int,
    *,
    pattern: str = UNSET,
    category_id: int = UNSET,
    field: str = UNSET,
    match: str = UNSET,
    min_amount: Decimal | None = UNSET,
    max_amount: Decimal | None = UNSET,
    priority: int = UNSET,
) -> Rule:
    rule = get_owned(Rule, rule_id, user_id)
    if category_id is not UNSET:
        get_owned(Category, category_id, user_id)
        rule.category_id = category_id
    if pattern is not UNSET:
        rule.pattern = pattern
    if field is not UNSET:
        rule.field = field
    if match is not UNSET:
        rule.match = match
    if min_amount is not UNSET:
        rule.min_amount_scaled = bound(min_amount)
    if max_amount is not UNSET:
        rule.max_amount_scaled = bound(max_amount)
    if priority is not UNSET:
        rule.priority = priority
    check_pattern(rule.match, rule.pattern)
    check_range(rule)
    db.session.flush()
    return rule


def delete(user_id: int, rule_id: int) -> None:
    db.session.delete(get_owned(Rule, rule_id, user_id))
    db.session.flush()


def list_stmt(user_id: int):
    return select(Rule).where(Rule.user_id == user_id)


@categorise.connect
def categorise_rows(sender: object, *, user_id: int, rows: list[dict], **extra: object) -> None:
    """Give uncategorised new rows the category of the first rule they match."""
    match = matching.matcher(user_id)
    if match is None:
        return
    for row in rows:
        if row.get("category_id") is None:
            row["category_id"] = match(
                row["description"], row["payee"], matching.scaled(row["amount"])
            )


def apply_to_range(user_id: int, *, start_date: date | None, end_date: date | None) -> int:
    """Categorise the user's uncategorised transactions dated in the range; how many changed."""
    match = matching.matcher(user_id)
    if match is None:
        return 0
    t = Transaction
    stmt = select(t.id, t.description, t.payee, t.amount_scaled).where(
        t.user_id == user_id, t.category_id.is_(None)
    )
    if start_date is not None:
        stmt = stmt.where(t.date >= start_date)
    if end_date is not None:
        stmt = stmt.where(t.date <= end_date)
    chosen: dict[int, list[int]] = defaultdict(list)
    for row in db.session.execute(stmt.order_by(t.id)):
        category_id = match(row.description, row.payee, row.amount_scaled)
        if category_id is not None:
            chosen[category_id].append(row.id)
    now = utcnow()
    for category_id, ids in chosen.items():
        for start in range(0, len(ids), BATCH):
            db.session.execute(
                update(t)
                .where(t.id.in_(ids[start : start + BATCH]), t.category_id.is_(None))
                .values(category_id=category_id, updated_at=now),
                execution_options={"synchronize_session": False},
            )
    return sum(len(ids) for ids in chosen.values())
