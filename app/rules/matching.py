"""Which rule, if any, a transaction matches: the first, by priority then id."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

from sqlalchemy import select

from app.common import money
from app.extensions import db
from app.rules.models import Rule

Matcher = Callable[[str, str | None, int], int | None]


def text_test(rule: Rule) -> Callable[[str], bool]:
    if rule.match == "regex":
        search = re.compile(rule.pattern, re.IGNORECASE).search
        return lambda value: search(value) is not None
    needle = rule.pattern.casefold()
    return lambda value: needle in value.casefold()


def matcher(user_id: int) -> Matcher | None:
    """`match(description, payee, amount_scaled) -> category_id or None` over the user's rules
    (None when they have none)."""
    rules = list(
        db.session.scalars(
            select(Rule).where(Rule.user_id == user_id).order_by(Rule.priority, Rule.id)
        )
    )
    if not rules:
        return None
    compiled = [
        (text_test(r), r.field, r.min_amount_scaled, r.max_amount_scaled, r.category_id)
        for r in rules
    ]

    def match(description: str, payee: str | None, amount_scaled: int) -> int | None:
        for test, field, low, high, category_id in compiled:
            if low is not None and amount_scaled < low:
                continue
            if high is not None and amount_scaled > high:
                continue
            texts = {"description": (description,), "payee": (payee or "",)}.get(
                field, (description, payee or "")
            )
            if any(test(value) for value in texts):
                return category_id
        return None

    return match


def scaled(amount: Decimal) -> int:
    """A positive amount on the common scale (exact: no currency has more than 4 places)."""
    return money.decimal_to_common_scale(amount, round_up=False)
