"""Budgets: keep them, and say how a month is going. Spending is summed in SQL per category
and currency from the monthly rollup the ledger keeps (app.ledger.models.MonthTotal; split
parts in their own categories, as the reports count them); Python picks the budget that
applies, adds a category's sub-categories (every level down) to it, and carries rollovers
month by month over those few totals. No request, no commit.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select

from app.budgets.models import Budget
from app.categories.models import Category
from app.common import periods
from app.common.auth import get_owned
from app.common.errors import Conflict, Unprocessable
from app.common.money import format_minor, to_minor
from app.common.unset import UNSET
from app.extensions import db
from app.ledger.models import MonthTotal


def minor(amount: Decimal, currency: str) -> int:
    try:
        return to_minor(amount, currency)
    except ValueError as exc:
        raise Unprocessable(str(exc), field="amount") from None


def create(
    user_id: int,
    *,
    category_id: int,
    currency: str,
    amount: Decimal,
    start_month: date,
    recurring: bool = True,
    rollover: bool = False,
) -> Budget:
    category = get_owned(Category, category_id, user_id)
    if category.kind != "expense":
        raise Unprocessable(
            "Budgets are for expense categories; this one is an income category.",
            field="category_id",
        )
    clash = select(Budget.id).where(
        Budget.user_id == user_id,
        Budget.category_id == category_id,
        Budget.currency == currency,
        Budget.start_month == start_month,
    )
    if db.session.scalar(clash) is not None:
        raise Conflict("You already have a budget for that category, currency and month.")
    budget = Budget(
        user_id=user_id,
        category_id=category_id,
        currency=currency,
        amount=minor(amount, currency),
        start_month=start_month,
        recurring=recurring,
        rollover=rollover,
    )
    db.session.add(budget)
    db.session.flush()
    return budget


def update(
    user_id: int,
    budget_id: int,
    *,
    amount: Decimal = UNSET,
    recurring: bool = UNSET,
    rollover: bool = UNSET,
) -> Budget:
    """Change the fields given (UNSET: as it was)."""
    budget = get_owned(Budget, budget_id, user_id)
    if amount is not UNSET:
        budget.amount = minor(amount, budget.currency)
    if recurring is not UNSET:
        budget.recurring = recurring
    if rollover is not UNSET:
        budget.rollover = rollover
    db.session.flush()
    return budget


def delete(user_id: int, budget_id: int) -> None:
    db.session.delete(get_owned(Budget, budget_id, user_id))
    db.session.flush()


def list_stmt(user_id: int):
    return select(Budget).where(Budget.user_id == user_id)


def applies(budget: Budget, month: date) -> bool:
    return budget.start_month == month or (budget.recurring and budget.start_month < month)


def applicable(budgets: list[Budget], month: date) -> dict[tuple[int, str], Budget]:
    """Per (category, currency), the budget for `month`: one for that month only wins over a
    recurring one; of recurring ones, the latest to start."""
    chosen: dict[tuple[int, str], Budget] = {}
    for budget in budgets:
        if not applies(budget, month):
            continue
        key = (budget.category_id, budget.currency)
        rank = (not budget.recurring, budget.start_month)
        current = chosen.get(key)
        if current is None or rank > (not current.recurring, current.start_month):
            chosen[key] = budget
    return chosen


def spending(user_id: int, first: date, last: date):
    """Expenses in the whole months from `first` to `last` per (category, currency, month),
    split parts in their own categories: {(category_id or None, currency): {month: minor
    units}}."""
    m = MonthTotal
    rows = db.session.execute(
        select(m.category_id, m.currency, m.month, func.sum(m.amount))
        .where(m.user_id == user_id, m.kind == "expense", m.month >= first, m.month <= last)
        .group_by(m.category_id, m.currency, m.month)
    )
    found: dict[tuple, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for category_id, currency, month, total in rows:
        if total:
            key = (category_id or None, currency)
            found[key][periods.as_date(month)] += int(total)
    return found


def descendants(user_id: int) -> dict[int, set[int]]:
    """Each of the user's categories with every category below it (children, theirs, …),
    itself included."""
    children: dict[int | None, list[int]] = defaultdict(list)
    for category_id, parent_id in db.session.execute(
        select(Category.id, Category.parent_id).where(Category.user_id == user_id)
    ):
        children[parent_id].append(category_id)
    below: dict[int, set[int]] = {}
    for top in [c for ids in children.values() for c in ids]:
        seen, todo = {top}, [top]
        while todo:
            for child in children.get(todo.pop(), ()):
                if child not in seen:  # a loop cannot form, but would not hang this either
                    seen.add(child)
                    todo.append(child)
        below[top] = seen
    return below


def percent(spent: int, available: int) -> str | None:
    if available <= 0:
        return None
    value = (Decimal(spent) * 100 / Decimal(available)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )
    return f"{value:.2f}"


def status(user_id: int, *, month: date) -> dict:
    """Per budgeted category: budgeted, rolled over, spent (in it and every category below
    it), remaining, percent used; and the month's spending in no budgeted category (nor below
    one), per currency."""
    budgets = list(db.session.scalars(list_stmt(user_id).where(Budget.start_month <= month)))
    chosen = applicable(budgets, month)
    # Rollover needs every month since its budget started; the rest only this one.
    first = min([b.start_month for b in chosen.values() if b.rollover and b.recurring] + [month])
    last = periods.following(month, "month") - timedelta(days=1)
    spent = spending(user_id, first, last)
    names = dict(
        db.session.execute(
            select(Category.id, Category.name).where(Category.id.in_([key[0] for key in chosen]))
        ).all()
    )
    # A budget on a category counts its sub-categories' spending too, every level down.
    below = descendants(user_id)
    covered = {
        (category, currency)
        for (category_id, currency) in chosen
        for category in below.get(category_id, {category_id})
    }
    lines = []
    for (category_id, currency), budget in chosen.items():
        by_month: dict[date, int] = defaultdict(int)
        for category in below.get(category_id, {category_id}):
            for start, total in spent.get((category, currency), {}).items():
                by_month[start] += total
        carried = 0
        if budget.rollover and budget.recurring:
            current = budget.start_month
            while current < month:
                carried = max(0, budget.amount + carried - by_month.get(current, 0))
                current = periods.following(current, "month")
        used = by_month.get(month, 0)
        available = budget.amount + carried
        lines.append(
            {
                "budget_id": budget.id,
                "category_id": category_id,
                "name": names[category_id],
                "currency": currency,
                "budgeted": format_minor(budget.amount, currency),
                "rolled_over": format_minor(carried, currency),
                "spent": format_minor(used, currency),
                "remaining": format_minor(available - used, currency),
                "percent_used": percent(used, available),
            }
        )
    lines.sort(key=lambda line: (line["name"].casefold(), line["currency"]))
    unbudgeted: dict[str, int] = defaultdict(int)
    for (category_id, currency), by_month in spent.items():
        if (category_id, currency) not in covered and by_month.get(month):
            unbudgeted[currency] += by_month[month]
    return {
        "month": month,
        "budgets": lines,
        "unbudgeted": [
            {"currency": currency, "spent": format_minor(total, currency)}
            for currency, total in sorted(unbudgeted.items())
        ],
    }
