"""The reports, computed in SQL: each query groups the caller's rows in the database and
answers a handful of totals (per currency, category, tag, period or payee); Python only names
the empty periods and formats minor units as decimal strings. Every figure is per currency:
USD is never added to EUR. Transfers are neither income nor expense. No request, no commit.

The same statements run on PostgreSQL and SQLite: periods come from app.common.periods.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import case, func, null, select

from app.accounts.models import Account
from app.categories.models import Category
from app.common import periods
from app.common.auth import get_owned
from app.common.errors import Unprocessable
from app.common.money import format_minor
from app.extensions import db
from app.ledger.effects import effects
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


def summary(
    user_id: int,
    *,
    start_date: date,
    end_date: date,
    account_id: int | None = None,
    convert_to: str | None = None,
):
    """Income, expense and net per currency, per category (splits in their own) and per tag."""
    where = [*in_range(user_id, start_date, end_date), Transaction.type.in_(FLOWS)]
    if account_id is not None:
        get_owned(Account, account_id, user_id)
        where.append(Transaction.account_id == account_id)
    lines = category_lines(*where).subquery()
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
            totals.c.currency, totals.c.type, totals.c.category_id, Category.name, totals.c.total
        ).outerjoin(Category, Category.id == totals.c.category_id)
    )
    t, tag = Transaction, TransactionTag
    by_tag = db.session.execute(
        select(t.currency, t.type, tag.tag, func.sum(t.amount))
        .join(tag, tag.transaction_id == t.id)
        .where(*where)
        .group_by(t.currency, t.type, tag.tag)
    )
    # currency -> (key -> [income, expense]); keys are (category_id, name) or a tag.
    categories: dict[str, dict] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    tags: dict[str, dict] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for currency, type_, category_id, name, total in by_category:
        categories[currency][(category_id, name)][FLOWS.index(type_)] += int(total)
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
                    {"category_id": key[0], "name": key[1], **flows(*lines_[key], currency)}
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
    t = Transaction
    period = periods.period_start(t.date, interval)
    rows = db.session.execute(
        select(
            t.currency,
            period,
            func.sum(case((t.type == "income", t.amount), else_=0)),
            func.sum(case((t.type == "expense", t.amount), else_=0)),
        )
        .where(*in_range(user_id, start_date, end_date), t.type.in_(FLOWS))
        .group_by(t.currency, period)
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
    # Grouped by what decides the effect (type and accounts): before the first period in one
    # total per group, within the range per period as well. The ledger's effect rule, being
    # linear, then applies to each group's total.
    shape = (t.type, t.account_id, t.transfer_account_id)
    period = periods.period_start(t.date, interval)
    sums = (func.sum(t.amount), func.sum(func.coalesce(t.transfer_amount, t.amount)))
    before = select(*shape, null(), *sums).where(t.user_id == user_id, t.date < first_period)
    within = select(*shape, period, *sums).where(
        t.user_id == user_id, t.date >= first_period, t.date <= end_date
    )
    groups = [
        *db.session.execute(before.group_by(*shape)),
        *db.session.execute(within.group_by(*shape, period)),
    ]
    currency_of = dict(
        db.session.execute(
            select(Account.id, Account.currency).where(Account.user_id == user_id)
        ).all()
    )
    changes: dict[str, dict[date | None, int]] = defaultdict(lambda: defaultdict(int))
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
    expenses with no payee are one line (payee null)."""
    t = Transaction
    totals = (
        select(
            t.currency.label("currency"),
            t.payee.label("payee"),
            func.sum(t.amount).label("total"),
            func.count().label("transactions"),
        )
        .where(*in_range(user_id, start_date, end_date), t.type == "expense")
        .group_by(t.currency, t.payee)
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
