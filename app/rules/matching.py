"""What the user's rules give a transaction: the category of the first matching rule (by
priority then id) that has one, and the tags of every matching rule."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import select

from app.common import money
from app.extensions import db
from app.rules.models import Rule
from app.transactions.schemas import MAX_TAGS


class Outcome(NamedTuple):
    category_id: int | None
    #: In rule order, each once.
    tags: tuple[str, ...]


NOTHING = Outcome(None, ())

Matcher = Callable[[str, str | None, int], Outcome]


def text_test(rule: Rule) -> Callable[[str], bool]:
    if rule.match == "regex":
        search = re.compile(rule.pattern, re.IGNORECASE).search
        return lambda value: search(value) is not None
    needle = rule.pattern.casefold()
    return lambda value: needle in value.casefold()


def matcher(user_id: int) -> Matcher | None:
    """`match(description, payee, amount_scaled) -> Outcome` over the user's rules (None when
    they have none)."""
    rules = list(
        db.session.scalars(
            select(Rule).where(Rule.user_id == user_id).order_by(Rule.priority, Rule.id)
        )
    )
    if not rules:
        return None
    compiled = [
        (
            text_test(r),
            r.field,
            r.min_amount_scaled,
            r.max_amount_scaled,
            r.category_id,
            tuple(r.tags),
        )
        for r in rules
    ]
    # Without tag rules the first match decides everything: stop there.
    any_tags = any(entry[5] for entry in compiled)

    def match(description: str, payee: str | None, amount_scaled: int) -> Outcome:
        category_id = None
        tags: dict[str, None] = {}
        for test, field, low, high, category, rule_tags in compiled:
            if low is not None and amount_scaled < low:
                continue
            if high is not None and amount_scaled > high:
                continue
            texts = {"description": (description,), "payee": (payee or "",)}.get(
                field, (description, payee or "")
            )
            if not any(test(value) for value in texts):
                continue
            if category_id is None:
                category_id = category
            tags.update(dict.fromkeys(rule_tags))
            if not any_tags and category_id is not None:
                break
        return Outcome(category_id, tuple(tags))

    return match


def with_tags(own: Iterable[str], added: Iterable[str]) -> list[str]:
    """The transaction's tags and then the rules', each once, at most MAX_TAGS."""
    return list(dict.fromkeys([*own, *added]))[:MAX_TAGS]


def scaled(amount: Decimal) -> int:
    """A positive amount on the common scale (exact: no currency has more than 4 places)."""
    return money.decimal_to_common_scale(amount, round_up=False)
