"""A realistic year of one person's money, for `flask seed-demo`.

`plan()` only decides what happened (pure, seeded, no database); `seed()` writes it through the
account, category and transaction services, so every balance moves through the ledger exactly
as it would through the API. Neither commits.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from app.accounts import service as accounts
from app.accounts.models import Account
from app.categories import service as categories
from app.categories.models import DEFAULT_CATEGORIES
from app.common.text import fold
from app.extensions import db
from app.transactions import service as transactions

CURRENCY = "USD"

#: name, type, opening balance
ACCOUNTS = (
    ("Everyday checking", "checking", "2450.00"),
    ("Savings", "savings", "8000.00"),
    ("Credit card", "credit_card", "0.00"),
    ("Wallet", "cash", "60.00"),
)
CHECKING, SAVINGS, CARD, WALLET = (name for name, _, _ in ACCOUNTS)

#: Added to a new user's default categories: name, kind, parent.
CATEGORIES = (
    ("Interest", "income", None),
    ("Coffee", "expense", "Dining out"),
    ("Fuel", "expense", "Transport"),
    ("Public transport", "expense", "Transport"),
    ("Subscriptions", "expense", "Entertainment"),
)


@dataclass(frozen=True)
class Planned:
    """One transaction to create; accounts and categories by name."""

    date: date
    type: str
    amount: Decimal
    account: str
    description: str
    payee: str | None = None
    category: str | None = None
    transfer_to: str | None = None


#: Every month: day, type, amount, account, description, payee, category (or transfer target).
MONTHLY = (
    (1, "expense", "1650.00", CHECKING, "Rent", "Oakwood Properties", "Housing"),
    (1, "expense", "89.00", CHECKING, "Monthly transit pass", "City Transit", "Public transport"),
    (5, "transfer", "80.00", CHECKING, "Cash withdrawal", None, WALLET),
    (7, "expense", "15.49", CARD, "Streaming", "StreamFlix", "Subscriptions"),
    (12, "expense", "49.99", CHECKING, "Home internet", "FiberNet", "Utilities"),
    (14, "expense", "10.99", CARD, "Music", "Tunely", "Subscriptions"),
    (18, "expense", "35.00", CHECKING, "Phone plan", "Mobico", "Utilities"),
    (25, "income", "4180.00", CHECKING, "Salary", "Acme Corp", "Salary"),
    (26, "transfer", "700.00", CHECKING, "Monthly saving", None, SAVINGS),
)

#: Every month, on random days: how many times (least, most), type, amount range, account,
#: description, payees to pick from, category.
VARIABLE = (
    ((1, 1), "expense", "55", "140", CHECKING, "Electricity", ("Bright Power",), "Utilities"),
    ((1, 1), "income", "18", "32", SAVINGS, "Interest", ("Harbor Bank",), "Interest"),
    ((4, 5), "expense", "45", "160", CARD, "Groceries", ("Greenleaf", "FreshCo"), "Groceries"),
    ((3, 6), "expense", "18", "85", CARD, "Dinner out", ("Luigi's", "Pho Saigon"), "Dining out"),
    ((6, 10), "expense", "3.20", "6.80", WALLET, "Coffee", ("Bean There",), "Coffee"),
    ((1, 3), "expense", "8", "35", WALLET, "Farmers market", ("Market",), "Groceries"),
    ((2, 2), "expense", "38", "72", CARD, "Fuel", ("QuickFuel",), "Fuel"),
    ((0, 2), "expense", "20", "240", CARD, "Shopping", ("Bookworm", "TechHub"), "Shopping"),
    ((1, 2), "expense", "12", "60", CARD, "Cinema and games", ("Odeon",), "Entertainment"),
    ((0, 1), "expense", "25", "180", CHECKING, "Pharmacy", ("Wellness Clinic",), "Health"),
)
#: Once a year, in April.
TAX_REFUND = (20, "income", "640.00", CHECKING, "Tax refund", "Tax office", "Other income")


def random_amount(rng: random.Random, low: str, high: str) -> Decimal:
    """A random amount in [low, high], to the cent."""
    cents = rng.randint(int(Decimal(low) * 100), int(Decimal(high) * 100))
    return Decimal(cents).scaleb(-2)


def months(first: date, last: date) -> Iterator[date]:
    """The first day of every month from `first`'s to `last`'s."""
    current = first.replace(day=1)
    while current <= last:
        yield current
        current = (current + timedelta(days=32)).replace(day=1)


def plan(today: date, seed: int = 2024) -> list[Planned]:
    """About 400 transactions over the twelve months up to `today` (none after it), by date."""
    rng = random.Random(seed)
    start = (today.replace(day=1) - timedelta(days=335)).replace(day=1)
    items: list[Planned] = []
    for month in months(start, today):
        fixed = MONTHLY + ((TAX_REFUND,) if month.month == 4 else ())
        for day, type_, amount, account, description, payee, target in fixed:
            transfer = type_ == "transfer"
            items.append(
                Planned(
                    month.replace(day=day),
                    type_,
                    Decimal(amount),
                    account,
                    description,
                    payee,
                    category=None if transfer else target,
                    transfer_to=target if transfer else None,
                )
            )
        for times, type_, low, high, account, description, payees, category in VARIABLE:
            for _ in range(rng.randint(*times)):
                day = month.replace(day=rng.randint(1, 28))
                amount = random_amount(rng, low, high)
                payee = rng.choice(payees)
                items.append(Planned(day, type_, amount, account, description, payee, category))

    # Each month's card bill is paid in full from checking on the 15th of the next month.
    card_spend: dict[date, Decimal] = defaultdict(Decimal)
    for item in items:
        if item.account == CARD and item.type == "expense":
            card_spend[item.date.replace(day=1)] += item.amount
    for month, total in card_spend.items():
        due = (month + timedelta(days=32)).replace(day=15)
        payment = Planned(due, "transfer", total, CHECKING, "Card payment", transfer_to=CARD)
        items.append(payment)

    return sorted((item for item in items if item.date <= today), key=lambda item: item.date)


def demo_accounts_of(user_id: int) -> list[str]:
    """The names of the user's accounts that seeding would create again."""
    names = [name for name, _, _ in ACCOUNTS]
    stmt = select(Account.name).where(Account.user_id == user_id, Account.name.in_(names))
    return list(db.session.scalars(stmt))


def create_accounts(user_id: int) -> dict[str, int]:
    ids = {}
    for name, type_, opening in ACCOUNTS:
        account = accounts.create(
            user_id, name=name, type=type_, currency=CURRENCY, opening_balance=Decimal(opening)
        )
        ids[name] = account.id
    return ids


def ensure_categories(user_id: int) -> dict[str, int]:
    """The user's category ids by name, creating the demo's (and any missing default)."""
    # Keyed by folded name: names are unique ignoring case ("groceries" is "Groceries").
    by_name = {fold(c.name): c.id for c in db.session.scalars(categories.list_stmt(user_id))}
    defaults = [(name, kind, None) for name, kind in DEFAULT_CATEGORIES]
    for name, kind, parent in [*defaults, *CATEGORIES]:
        if fold(name) not in by_name:
            parent_id = by_name.get(fold(parent)) if parent else None
            category = categories.create(user_id, name=name, kind=kind, parent_id=parent_id)
            by_name[fold(name)] = category.id
    return {name: by_name[fold(name)] for name, _, _ in [*defaults, *CATEGORIES]}


def seed(user_id: int, items: Iterable[Planned]) -> None:
    """Create the demo accounts and categories, then `items`, for the user."""
    account_ids = create_accounts(user_id)
    category_ids = ensure_categories(user_id)
    for item in items:
        transactions.create(
            user_id,
            account_id=account_ids[item.account],
            transfer_account_id=account_ids.get(item.transfer_to),
            category_id=category_ids.get(item.category),
            type=item.type,
            amount=item.amount,
            date=item.date,
            description=item.description,
            payee=item.payee,
        )
