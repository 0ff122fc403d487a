"""Rules: create, change, delete; apply them to new rows (the `categorise` signal) and to the
uncategorised transactions of a date range. A new row (imported, or created with
apply_rules=true) gets the category of the first matching rule with one, unless it has a
category (or splits), and the tags of every matching rule whatever its category; `apply_to_range`
touches only uncategorised transactions, as it says. Categories and tags move no money: setting
them is no ledger write. No request, no commit."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date
from decimal import Decimal

from sqlalchemy import exists, insert, select, update

from app import ledger
from app.categories.models import Category
from app.common import money
from app.common.auth import get_owned
from app.common.db import utcnow
from app.common.errors import Unprocessable
from app.common.events import categorise
from app.common.unset import UNSET
from app.extensions import db
from app.rules import matching
from app.rules.models import Rule, RuleTag
from app.transactions.models import Transaction, TransactionSplit, TransactionTag

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


def check_sets_something(rule: Rule) -> None:
    if rule.category_id is None and not rule.tag_rows:
        raise Unprocessable("A rule gives a category, tags, or both.", field="category_id")


def set_tags(rule: Rule, tags: list[str]) -> None:
    """Replace the rule's tags, keeping the rows of those that stay (the key is the tag)."""
    wanted = list(dict.fromkeys(tags))
    rule.tag_rows = [row for row in rule.tag_rows if row.tag in wanted] + [
        RuleTag(tag=tag) for tag in sorted(set(wanted) - set(rule.tags))
    ]


def create(
    user_id: int,
    *,
    pattern: str,
    category_id: int | None = None,
    tags: list[str] = (),
    field: str = "any",
    match: str = "contains",
    min_amount: Decimal | None = None,
    max_amount: Decimal | None = None,
    priority: int = 100,
) -> Rule:
    if category_id is not None:
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
        tag_rows=[],
    )
    set_tags(rule, tags)
    check_range(rule)
    check_sets_something(rule)
    db.session.add(rule)
    db.session.flush()
    return rule


def update_rule(
    user_id: int,
    rule_id: int,
    *,
    pattern: str = UNSET,
    category_id: int | None = UNSET,
    tags: list[str] = UNSET,
    field: str = UNSET,
    match: str = UNSET,
    min_amount: Decimal | None = UNSET,
    max_amount: Decimal | None = UNSET,
    priority: int = UNSET,
) -> Rule:
    rule = get_owned(Rule, rule_id, user_id)
    if category_id is not UNSET:
        if category_id is not None:
            get_owned(Category, category_id, user_id)
        rule.category_id = category_id
    if tags is not UNSET:
        set_tags(rule, tags)
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
    check_sets_something(rule)
    db.session.flush()
    return rule


def delete(user_id: int, rule_id: int) -> None:
    db.session.delete(get_owned(Rule, rule_id, user_id))
    db.session.flush()


def list_stmt(user_id: int):
    return select(Rule).where(Rule.user_id == user_id)


@categorise.connect
def categorise_rows(sender: object, *, user_id: int, rows: list[dict], **extra: object) -> None:
    """Give new rows without a category the category of the first matching rule with one, and
    every row the tags of the rules it matches (a row's `tags`, if any, first)."""
    match = matching.matcher(user_id)
    if match is None:
        return
    for row in rows:
        outcome = match(row["description"], row["payee"], matching.scaled(row["amount"]))
        if row.get("category_id") is None:
            row["category_id"] = outcome.category_id
        if outcome.tags:
            row["tags"] = matching.with_tags(row.get("tags") or (), outcome.tags)


def apply_to_range(
    user_id: int, *, start_date: date | None, end_date: date | None
) -> dict[str, int]:
    """Apply the rules to the user's uncategorised transactions (no category, not split) dated
    in the range: `{categorised, tagged}`, how many got a category and how many a new tag."""
    match = matching.matcher(user_id)
    if match is None:
        return {"categorised": 0, "tagged": 0}
    t = Transaction
    split = exists().where(TransactionSplit.transaction_id == t.id)
    where = [t.category_id.is_(None), ~split]
    if start_date is not None:
        where.append(t.date >= start_date)
    if end_date is not None:
        where.append(t.date <= end_date)
    stmt = select(t.id, t.description, t.payee, t.amount_scaled).where(t.user_id == user_id, *where)
    chosen: dict[int, list[int]] = defaultdict(list)
    tags: dict[int, tuple[str, ...]] = {}
    for row in db.session.execute(stmt.order_by(t.id)):
        outcome = match(row.description, row.payee, row.amount_scaled)
        if outcome.category_id is not None:
            chosen[outcome.category_id].append(row.id)
        if outcome.tags:
            tags[row.id] = outcome.tags
    now = utcnow()
    # The ledger moves their amounts to their new categories and tags in its monthly rollups.
    with ledger.rewriting(user_id, *where):
        for category_id, ids in chosen.items():
            for start in range(0, len(ids), BATCH):
                db.session.execute(
                    update(t)
                    .where(t.id.in_(ids[start : start + BATCH]), t.category_id.is_(None))
                    .values(category_id=category_id, updated_at=now),
                    execution_options={"synchronize_session": False},
                )
        tagged = add_tags(user_id, tags, now)
    return {"categorised": sum(len(ids) for ids in chosen.values()), "tagged": tagged}


def add_tags(user_id: int, wanted: dict[int, tuple[str, ...]], now) -> int:
    """Add the tags to the transactions (id -> tags) beside those they have, at most MAX_TAGS
    each; how many transactions got a new one."""
    ids = list(wanted)
    changed = 0
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        have: dict[int, list[str]] = defaultdict(list)
        for transaction_id, tag in db.session.execute(
            select(TransactionTag.transaction_id, TransactionTag.tag)
            .where(TransactionTag.transaction_id.in_(chunk))
            .order_by(TransactionTag.transaction_id, TransactionTag.tag)
        ):
            have[transaction_id].append(tag)
        new_rows = []
        touched = []
        for transaction_id in chunk:
            own = have[transaction_id]
            added = matching.with_tags(own, wanted[transaction_id])[len(own) :]
            if added:
                touched.append(transaction_id)
                new_rows.extend(
                    {"transaction_id": transaction_id, "tag": tag, "user_id": user_id}
                    for tag in added
                )
        if new_rows:
            db.session.execute(insert(TransactionTag), new_rows)
            db.session.execute(
                update(Transaction).where(Transaction.id.in_(touched)).values(updated_at=now),
                execution_options={"synchronize_session": False},
            )
        changed += len(touched)
    return changed
