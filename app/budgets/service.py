"""Budgets: keep them, and say how a month is going. Spending is summed in SQL per category
and currency (split parts in their own categories, as the reports count them); Python picks
the budget that applies and carries rollovers month by month over those few totals.
No request, no commit.
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
from app.transactions.models import Transaction
from app.transactions.queries import category_lines


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
    """Expenses from `first` to `last` per (category, currency, month), split parts in their
    own categories: {(category_id, currency): {month: minor units}}."""
    lines = category_lines(
        Transaction.user_id == user_id,
        Transaction.type == "expense",
        Transaction.date >= first,
        Transaction.date <= last,
    ).subquery()
    month = periods.period_start(lines.c.date, "month")
    rows = db.session.execute(
        select(lines.c.category_id, lines.c.currency, month, func.sum(lines.c.amount)).group_by(
            lines.c.category_id, lines.c.currency, month
        )
    )
    found: dict[tuple, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for category_id, currency, start, total in rows:
        found[(category_id, currency)][periods.as_date(start)] += int(total)
    return found


def percent(spent: int, available: int) -> str | None:
    if available <= 0:
        return None
    value = (Decimal(spent) * 100 / Decimal(available)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )
    return f"{value:.2f}"


def status(user_id: int, *, month: date) -> dict:
    """Per budgeted category: budgeted, rolled over, spent, remaining, percent used; and the
    month's spending in no budgeted category, per currency."""
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
    lines = []
    for (category_id, currency), budget in chosen.items():
        by_month = spent.get((category_id, currency), {})
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
        if (category_id, currency) not in chosen and by_month.get(month):
            unbudgeted[currency] += by_month[month]
    return {
        "month": month,
        "budgets": lines,
        "unbudgeted": [
            {"currency": currency, "spent": format_minor(total, currency)}
            for currency, total in sorted(unbudgeted.items())
        ],
    }
