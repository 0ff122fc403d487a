"""The reports, computed in SQL: each query groups in the database and answers a handful of
totals (per currency, category, tag, period or payee); Python only names the empty periods and
formats minor units as decimal strings. Every figure is per currency: USD is never added to
EUR. Transfers are neither income nor expense. No request, no commit.

Whole months come from the monthly rollups the ledger keeps exact (app.ledger.models:
month_totals, flow_months, payee_months, tag_months), the days of a range's first and last
month that are not a whole month from the transactions themselves, in one statement (UNION
ALL, then GROUP BY): ten years is 120 rollup months and at most two partial months of rows,
not a million rows. Weekly periods do not fall on month boundaries: a weekly cashflow or net
worth reads the range's rows (net worth's balance before the range still comes from the
rollups).

The same statements run on PostgreSQL and SQLite: periods come from app.common.periods.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import ColumnElement, case, func, literal, null, or_, select, union_all

from app.accounts.models import Account
from app.categories.models import Category
from app.common import periods
from app.common.auth import get_owned
from app.common.errors import Unprocessable
from app.common.money import format_minor
from app.extensions import db
from app.ledger.effects import effects
from app.ledger.models import (
    NO_CATEGORY,
    NO_PAYEE,
    FlowMonth,
    MonthTotal,
    PayeeMonth,
    TagMonth,
)
from app.ledger.rollups import KIND_SIGNS
from app.rates.convert import convert
from app.transactions.models import Transaction, TransactionTag
from app.transactions.queries import category_lines

#: A report answers at most this many periods (ten years of weeks fit).
MAX_PERIODS = 1000
FLOWS = ("income", "expense")


def money(minor: int, currency: str) -> str:
    return format_minor(int(minor), currency)


def flows(income: int, expense: int, currency: str) -> dict:
    return {
        "income": money(income, currency),
        "expense": money(expense, currency),
        "net": money(income - expense, currency),
    }


def in_range(user_id: int, start: date, end: date):
    t = Transaction
    return [t.user_id == user_id, t.date >= start, t.date <= end]


class Plan:
    """A date range cut where the rollups can answer: the whole months in it (`months`, the
    first days of the first and last, or None) and the days around them (`days`, ranges of
    dates, at most two) that the transactions answer. `start` None: from the beginning."""

    def __init__(self, start: date | None, end: date) -> None:
        first_whole = start if start is None or start.day == 1 else next_month(start)
        # The month after the last whole one: the month of the day after `end`.
        after_whole = (end + timedelta(days=1)).replace(day=1)
        self.days: list[tuple[date | None, date]] = []
        if first_whole is not None and first_whole >= after_whole:
            self.months = None
            self.days.append((start, end))
            return
        self.months = (first_whole, previous_month(after_whole))
        if start is not None and start < first_whole:
            self.days.append((start, first_whole - timedelta(days=1)))
        if after_whole <= end:
            self.days.append((after_whole, end))

    def month_where(self, column) -> list[ColumnElement]:
        first, last = self.months
        return ([] if first is None else [column >= first]) + [column <= last]

    def day_wheres(self) -> list[list[ColumnElement]]:
        """The conditions on Transaction.date of each range of days: one SELECT each, joined
        by UNION ALL (an OR of the two would cost PostgreSQL its index-only scan)."""
        t = Transaction
        return [
            ([] if first is None else [t.date >= first]) + [t.date <= last]
            for first, last in self.days
        ]


def next_month(day: date) -> date:
    return periods.following(day.replace(day=1), "month")


def previous_month(first_day: date) -> date:
    return (first_day - timedelta(days=1)).replace(day=1)


def category_or_none(column) -> ColumnElement:
    return func.nullif(column, NO_CATEGORY)


def summary(
    user_id: int,
    *,
    start_date: date,
    end_date: date,
    account_id: int | None = None,
    convert_to: str | None = None,
):
    """Income, expense and net per currency, per category (splits in their own) and per tag."""
    t, m, tm = Transaction, MonthTotal, TagMonth
    if account_id is not None:
        get_owned(Account, account_id, user_id)
    plan = Plan(start_date, end_date)
    category_parts, tag_parts = [], []
    if plan.months:
        on_account = [] if account_id is None else [m.account_id == account_id]
        category_parts.append(
            select(
                m.currency,
                m.kind.label("type"),
                category_or_none(m.category_id).label("category_id"),
                m.amount,
            ).where(
                m.user_id == user_id, m.kind.in_(FLOWS), *plan.month_where(m.month), *on_account
            )
        )
        tag_on_account = [] if account_id is None else [tm.account_id == account_id]
        tag_parts.append(
            select(tm.currency, tm.kind.label("type"), tm.tag, tm.amount).where(
                tm.user_id == user_id, *plan.month_where(tm.month), *tag_on_account
            )
        )
    for days in plan.day_wheres():
        where = [t.user_id == user_id, *days, t.type.in_(FLOWS)]
        if account_id is not None:
            where.append(t.account_id == account_id)
        lines = category_lines(*where).subquery()
        category_parts.append(
            select(lines.c.currency, lines.c.type, lines.c.category_id, lines.c.amount)
        )
        tag = TransactionTag
        tag_parts.append(
            select(t.currency, t.type, tag.tag, t.amount)
            .join(tag, tag.transaction_id == t.id)
            .where(*where)
        )
    lines = union_all(*category_parts).subquery()
    # Totalled first, named after: the names join a few dozen totals, not every line.
    totals = (
        select(
            lines.c.currency,
            lines.c.type,
            lines.c.category_id,
            func.sum(lines.c.amount).label("total"),
        )
        .group_by(lines.c.currency, lines.c.type, lines.c.category_id)
        .subquery()
    )
    by_category = db.session.execute(
        select(
            totals.c.currency,
            totals.c.type,
            totals.c.category_id,
            Category.name,
            Category.parent_id,
            totals.c.total,
        )
        .outerjoin(Category, (Category.id == totals.c.category_id) & (Category.user_id == user_id))
        .where(totals.c.total != 0)
    )
    tagged = union_all(*tag_parts).subquery()
    by_tag = db.session.execute(
        select(tagged.c.currency, tagged.c.type, tagged.c.tag, func.sum(tagged.c.amount))
        .group_by(tagged.c.currency, tagged.c.type, tagged.c.tag)
        .having(func.sum(tagged.c.amount) != 0)
    )
    # currency -> (key -> [income, expense]); keys are (category_id, name) or a tag.
    categories: dict[str, dict] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    tags: dict[str, dict] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    parents: dict[int | None, int | None] = {}
    for currency, type_, category_id, name, parent_id, total in by_category:
        categories[currency][(category_id, name)][FLOWS.index(type_)] += int(total)
        parents[category_id] = parent_id
    for currency, type_, tag_name, total in by_tag:
        tags[currency][tag_name][FLOWS.index(type_)] += int(total)
    blocks = []
    for currency in sorted(categories):
        lines_ = categories[currency]
        income = sum(pair[0] for pair in lines_.values())
        expense = sum(pair[1] for pair in lines_.values())
        ordered = sorted(lines_, key=lambda key: (key[0] is None, (key[1] or "").casefold()))
        blocks.append(
            {
                "currency": currency,
                **flows(income, expense, currency),
                "categories": [
                    {
                        "category_id": key[0],
                        "name": key[1],
                        "parent_id": parents.get(key[0]),
                        **flows(*lines_[key], currency),
                    }
                    for key in ordered
                ],
                "tags": [
                    {"tag": name, **flows(*tags[currency][name], currency)}
                    for name in sorted(tags[currency])
                ],
            }
        )
    answer = {"start_date": start_date, "end_date": end_date, "currencies": blocks}
    if convert_to is not None:
        totals_by = {
            kind: {c: sum(pair[i] for pair in categories[c].values()) for c in categories}
            for i, kind in enumerate(FLOWS)
        }
        totals_by["net"] = {c: totals_by["income"][c] - totals_by["expense"][c] for c in categories}
        answer["converted"] = {
            kind: convert(user_id, amounts, convert_to, end_date)
            for kind, amounts in totals_by.items()
        }
    return answer


def check_periods(start_date: date, end_date: date, interval: str) -> None:
    if periods.count(start_date, end_date, interval) > MAX_PERIODS:
        raise Unprocessable(
            f"Too many periods: at most {MAX_PERIODS} {interval}s per report.", field="interval"
        )


def cashflow(user_id: int, *, start_date: date, end_date: date, interval: str):
    """Income, expense and net per currency and period; empty periods are zeros."""
    check_periods(start_date, end_date, interval)
    t, m = Transaction, FlowMonth
    # Weeks do not fall on month boundaries: all rows then.
    plan = Plan(start_date, end_date) if interval != "week" else None
    parts = []
    if plan is not None and plan.months:
        parts.append(
            select(
                m.currency,
                periods.period_start(m.month, interval).label("start"),
                case((m.kind == "income", m.amount), else_=0).label("income"),
                case((m.kind == "expense", m.amount), else_=0).label("expense"),
            ).where(m.user_id == user_id, m.kind.in_(FLOWS), *plan.month_where(m.month))
        )
    day_wheres = [[t.date >= start_date, t.date <= end_date]] if plan is None else plan.day_wheres()
    for days in day_wheres:
        parts.append(
            select(
                t.currency,
                periods.period_start(t.date, interval).label("start"),
                case((t.type == "income", t.amount), else_=0).label("income"),
                case((t.type == "expense", t.amount), else_=0).label("expense"),
            ).where(t.user_id == user_id, *days, t.type.in_(FLOWS))
        )
    lines = union_all(*parts).subquery()
    income, expense = func.sum(lines.c.income), func.sum(lines.c.expense)
    rows = db.session.execute(
        select(lines.c.currency, lines.c.start, income, expense)
        .group_by(lines.c.currency, lines.c.start)
        # A rollup row taken back to zero (its transactions deleted) is no activity.
        .having(or_(income != 0, expense != 0))
    )
    found: dict[str, dict[date, tuple[int, int]]] = defaultdict(dict)
    for currency, start, income, expense in rows:
        found[currency][periods.as_date(start)] = (int(income), int(expense))
    blocks = []
    for currency in sorted(found):
        blocks.append(
            {
                "currency": currency,
                "periods": [
                    {
                        "start": first,
                        "end": last,
                        **flows(*found[currency].get(start, (0, 0)), currency),
                    }
                    for start, first, last in periods.starts(start_date, end_date, interval)
                ],
            }
        )
    return {
        "interval": interval,
        "start_date": start_date,
        "end_date": end_date,
        "currencies": blocks,
    }


def net_worth(
    user_id: int,
    *,
    start_date: date,
    end_date: date,
    interval: str,
    convert_to: str | None = None,
):
    """The sum of the caller's account balances per currency at the end of each period, from
    opening balances (each from its account's creation) and the transactions up to then, as
    the ledger's effect rule (app.ledger.effects) moves them: a transfer's two sides cancel
    within a currency."""
    check_periods(start_date, end_date, interval)
    first_period = periods.floor(start_date, interval)
    t = Transaction
    # currency -> period start (None: before the first period) -> the balances' change
    changes: dict[str, dict[date | None, int]] = defaultdict(lambda: defaultdict(int))
    # Whole months from the rollup of flows: each row is one account's, in its currency,
    # signed as the ledger's effect rule moves balances.
    f = FlowMonth
    signed = case(
        *((f.kind == kind, sign * f.amount) for kind, sign in KIND_SIGNS.items()), else_=0
    )
    before = Plan(None, first_period - timedelta(days=1))
    within = Plan(first_period, end_date) if interval != "week" else None
    rollup_parts = [
        select(f.currency, null().label("start"), signed.label("delta")).where(
            f.user_id == user_id, *before.month_where(f.month)
        )
    ]
    if within is not None and within.months:
        rollup_parts.append(
            select(
                f.currency, periods.period_start(f.month, interval).label("start"), signed
            ).where(f.user_id == user_id, *within.month_where(f.month))
        )
    parts = union_all(*rollup_parts).subquery()
    for currency, start, total in db.session.execute(
        select(parts.c.currency, parts.c.start, func.sum(parts.c.delta))
        .group_by(parts.c.currency, parts.c.start)
        # Rows taken back to zero (their transactions deleted) are no activity.
        .having(func.sum(case((parts.c.delta != 0, 1), else_=0)) > 0)
    ):
        changes[currency][None if start is None else periods.as_date(start)] += int(total)
    # The days no whole month covers (all of a weekly range), from the rows: grouped by what
    # decides the effect (type and accounts), per period; the ledger's effect rule, being
    # linear, then applies to each group's total.
    shape = (t.type, t.account_id, t.transfer_account_id)
    sums = (func.sum(t.amount), func.sum(func.coalesce(t.transfer_amount, t.amount)))
    groups = []
    for days in before.day_wheres():
        groups += db.session.execute(
            select(*shape, null(), *sums).where(t.user_id == user_id, *days).group_by(*shape)
        )
    within_days = (
        [[t.date >= first_period, t.date <= end_date]] if within is None else within.day_wheres()
    )
    period = periods.period_start(t.date, interval)
    for days in within_days:
        groups += db.session.execute(
            select(*shape, period, *sums)
            .where(t.user_id == user_id, *days)
            .group_by(*shape, period)
        )
    currency_of = dict(
        db.session.execute(
            select(Account.id, Account.currency).where(Account.user_id == user_id)
        ).all()
    )
    for type_, account_id, destination, start, total, arrived in groups:
        key = None if start is None else periods.as_date(start)
        # A transfer's destination receives transfer_amount, in its own currency.
        for moved_account, delta in effects(
            type_, account_id, destination, int(total), int(arrived)
        ):
            changes[currency_of[moved_account]][key] += delta
    created = periods.utc_date(Account.created_at)
    opened_when = case(
        (created < first_period, None), else_=periods.period_start(created, interval)
    )
    openings = db.session.execute(
        select(Account.currency, opened_when, func.sum(Account.opening_balance))
        .where(Account.user_id == user_id, created <= end_date)
        .group_by(Account.currency, opened_when)
    )
    for currency, start, total in openings:
        key = None if start is None else periods.as_date(start)
        changes[currency][key] += int(total)
    blocks = []
    # period's last day -> currency -> net worth (minor units), for `convert_to`
    by_day: dict[date, dict[str, int]] = defaultdict(dict)
    for currency in sorted(changes):
        running = changes[currency][None]
        points = []
        for start, _first, last in periods.starts(start_date, end_date, interval):
            running += changes[currency][start]
            by_day[last][currency] = running
            points.append({"date": last, "net_worth": money(running, currency)})
        blocks.append({"currency": currency, "points": points})
    answer = {
        "interval": interval,
        "start_date": start_date,
        "end_date": end_date,
        "currencies": blocks,
    }
    if convert_to is not None:
        answer["converted"] = [
            convert(user_id, by_day[last], convert_to, last)
            for _start, _first, last in periods.starts(start_date, end_date, interval)
        ]
    return answer


def top_payees(user_id: int, *, start_date: date, end_date: date, limit: int):
    """Spending (expenses only) per payee, largest first, the top `limit` per currency; the
    expenses with no payee (none, or an empty one) are one line (payee null)."""
    t, p = Transaction, PayeeMonth
    plan = Plan(start_date, end_date)
    parts = []
    if plan.months:
        parts.append(
            select(p.currency, p.payee, p.amount, p.count).where(
                p.user_id == user_id, *plan.month_where(p.month)
            )
        )
    for days in plan.day_wheres():
        parts.append(
            select(
                t.currency,
                func.coalesce(t.payee, NO_PAYEE).label("payee"),
                t.amount,
                literal(1).label("count"),
            ).where(t.user_id == user_id, *days, t.type == "expense")
        )
    lines = union_all(*parts).subquery()
    total = func.sum(lines.c["amount"])
    count = func.sum(lines.c["count"])
    totals = (
        select(
            lines.c.currency.label("currency"),
            func.nullif(lines.c.payee, NO_PAYEE).label("payee"),
            total.label("total"),
            count.label("transactions"),
        )
        .group_by(lines.c.currency, lines.c.payee)
        .having(count > 0)
        .subquery()
    )
    rank = (
        func.row_number()
        .over(
            partition_by=totals.c.currency,
            order_by=(totals.c.total.desc(), totals.c.payee.is_(None), totals.c.payee),
        )
        .label("rank")
    )
    ranked = select(totals, rank).subquery()
    rows = db.session.execute(
        select(ranked).where(ranked.c.rank <= limit).order_by(ranked.c.currency, ranked.c.rank)
    )
    blocks: dict[str, list] = defaultdict(list)
    for currency, payee, total, count, position in rows:
        blocks[currency].append(
            {
                "rank": int(position),
                "payee": payee,
                "expense": money(total, currency),
                "transactions": int(count),
            }
        )
    return {
        "start_date": start_date,
        "end_date": end_date,
        "currencies": [
            {"currency": currency, "payees": blocks[currency]} for currency in sorted(blocks)
        ],
    }
