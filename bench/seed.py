"""Seed the benchmark database directly with COPY (not through HTTP), once.

The benchmark user has 10 accounts, 40 categories and BENCH_TRANSACTIONS (1,000,000)
transactions over ten years; 1,000 other users share as many again, so every query must use the
user's indexes. A second run finds the `bench_seed` marker and reuses the data.
"""

from __future__ import annotations

import io
import math
import os
import random
import sys
import time
from datetime import date, timedelta

import psycopg2
from argon2 import PasswordHasher
from sqlalchemy.dialects import postgresql

from app.common.text import fold
from app.ledger import rollups
from bench.settings import BENCH_PASSWORD, BENCH_USER, database_url

ACCOUNTS = 10
CATEGORIES = 40
OTHER_USERS = 1000
YEARS = 10
CHUNK = 100_000
PAYEES = [
    "Whole Foods Market",
    "Trader Joe's",
    "Shell",
    "Chevron",
    "Amazon",
    "Netflix",
    "Spotify",
    "Uber",
    "Lyft",
    "Starbucks",
    "Costco",
    "Target",
    "Walgreens",
    "CVS Pharmacy",
    "Comcast",
    "PG&E",
    "City Water",
    "Landlord LLC",
    "ACME Corp Payroll",
    "Blue Bottle Coffee",
    "Chipotle",
    "Home Depot",
    "IKEA",
    "Delta Air Lines",
    "Airbnb",
    "Apple",
    "Steam",
    "Gym Membership",
    "Dr. Smith Dental",
    "State Farm",
    "Verizon",
    "Local Bakery",
    "Farmers Market",
    "REI",
]
WORDS = [
    "weekly",
    "monthly",
    "groceries",
    "fuel",
    "subscription",
    "dinner",
    "lunch",
    "refund",
    "bonus",
    "rent",
    "utilities",
    "gift",
    "travel",
    "repair",
    "insurance",
    "coffee",
]


def connect():
    return psycopg2.connect(database_url().replace("postgresql+psycopg2://", "postgresql://"))


def seeded(conn, wanted: int) -> bool:
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS bench_seed (transactions bigint NOT NULL)")
        cur.execute("SELECT transactions FROM bench_seed")
        row = cur.fetchone()
    conn.commit()
    return row is not None and row[0] == wanted


def copy_rows(cur, table: str, columns: list[str], rows) -> None:
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join("\\N" if v is None else str(v) for v in row))
        buffer.write("\n")
    buffer.seek(0)
    cur.copy_from(buffer, table, columns=columns)


def amount_cents(rng: random.Random, kind: str) -> int:
    """Skewed amounts: many small expenses, some large; incomes mostly paycheck-sized."""
    if kind == "income":
        return max(100, int(rng.lognormvariate(math.log(250_000), 0.6)))
    return max(1, int(rng.lognormvariate(math.log(3_500), 1.1)))


def transactions_for(rng, user_id, account_ids, category_ids, count, start, first_id):
    days = YEARS * 365
    for n in range(count):
        roll = rng.random()
        kind = "expense" if roll < 0.6 else "income" if roll < 0.85 else "transfer"
        account = rng.choice(account_ids)
        target = None
        if kind == "transfer":
            target = rng.choice([a for a in account_ids if a != account])
        amount = amount_cents(rng, kind)
        category = None if kind == "transfer" or rng.random() < 0.1 else rng.choice(category_ids)
        day = start + timedelta(days=rng.randrange(days))
        payee = rng.choice(PAYEES)
        description = f"{payee} {rng.choice(WORDS)} #{rng.randrange(10_000)}"
        yield (
            first_id + n,
            user_id,
            account,
            target,
            category,
            kind,
            amount,
            "USD",
            amount * 100,
            day.isoformat(),
            description,
            payee,
            "2026-01-01T00:00:00Z",
            "2026-01-01T00:00:00Z",
            # Pending on both sides: the cleared and reconciled balances stay the opening one.
            "pending",
            amount if kind == "transfer" else None,
            "USD" if kind == "transfer" else None,
            "pending" if kind == "transfer" else None,
        )


TXN_COLUMNS = [
    "id",
    "user_id",
    "account_id",
    "transfer_account_id",
    "category_id",
    "type",
    "amount",
    "currency",
    "amount_scaled",
    "date",
    "description",
    "payee",
    "created_at",
    "updated_at",
    "status",
    "transfer_amount",
    "transfer_currency",
    "transfer_status",
]


def seed(total: int) -> None:
    conn = connect()
    if seeded(conn, total):
        print(f"bench: reusing the seeded database ({total:,} transactions for {BENCH_USER})")
        return
    started = time.monotonic()
    rng = random.Random(42)
    pw_hash = PasswordHasher().hash(BENCH_PASSWORD)
    ts = "2026-01-01T00:00:00Z"
    start = date.today() - timedelta(days=YEARS * 365)
    with conn.cursor() as cur:
        cur.execute(
            "TRUNCATE transactions, categories, accounts, users, bench_seed "
            "RESTART IDENTITY CASCADE"
        )
        users = [(1, BENCH_USER, BENCH_USER, pw_hash, 0, ts)] + [
            (i + 2, f"other{i}", f"other{i}", pw_hash, 0, ts) for i in range(OTHER_USERS)
        ]
        copy_rows(
            cur,
            "users",
            [
                "id",
                "username",
                "username_canonical",
                "password_hash",
                "token_version",
                "created_at",
            ],
            users,
        )
        accounts, categories = {}, {}
        account_rows, category_rows = [], []
        next_account, next_category = 1, 1
        for user_id, *_ in users:
            n_accounts = ACCOUNTS if user_id == 1 else 2
            n_categories = CATEGORIES if user_id == 1 else 5
            accounts[user_id] = list(range(next_account, next_account + n_accounts))
            categories[user_id] = list(range(next_category, next_category + n_categories))
            for i, account_id in enumerate(accounts[user_id]):
                account_rows.append(
                    (
                        account_id,
                        user_id,
                        f"Account {i + 1}",
                        "checking",
                        "USD",
                        100_000,
                        100_000,
                        100_000,
                        100_000,
                        "false",
                        ts,
                        ts,
                    )
                )
            for i, category_id in enumerate(categories[user_id]):
                kind = "income" if i < 3 else "expense"
                name = f"Category {i + 1}"
                category_rows.append((category_id, user_id, name, fold(name), kind))
            next_account += n_accounts
            next_category += n_categories
        copy_rows(
            cur,
            "accounts",
            [
                "id",
                "user_id",
                "name",
                "type",
                "currency",
                "opening_balance",
                "balance",
                "cleared_balance",
                "reconciled_balance",
                "archived",
                "created_at",
                "updated_at",
            ],
            account_rows,
        )
        copy_rows(
            cur, "categories", ["id", "user_id", "name", "name_canonical", "kind"], category_rows
        )
        next_id = 1
        for offset in range(0, total, CHUNK):
            n = min(CHUNK, total - offset)
            copy_rows(
                cur,
                "transactions",
                TXN_COLUMNS,
                transactions_for(rng, 1, accounts[1], categories[1], n, start, next_id),
            )
            next_id += n
            print(f"bench: seeded {offset + n:,}/{total:,} for {BENCH_USER}", file=sys.stderr)
        per_other = total // OTHER_USERS
        for user_id in range(2, OTHER_USERS + 2):
            copy_rows(
                cur,
                "transactions",
                TXN_COLUMNS,
                transactions_for(
                    rng, user_id, accounts[user_id], categories[user_id], per_other, start, next_id
                ),
            )
            next_id += per_other
        for table, column in (
            ("users", "id"),
            ("accounts", "id"),
            ("categories", "id"),
            ("transactions", "id"),
        ):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                f"(SELECT max({column}) FROM {table}))"
            )
        cur.execute(BALANCES_SQL)
        # The reports' monthly rollups, as migration 0020 backfills them (COPY bypassed the
        # ledger that keeps them); TRUNCATE … CASCADE emptied them.
        for statement in rollups.backfill_sql(postgresql.dialect()):
            cur.execute(statement)
        cur.execute(
            "UPDATE users SET transaction_count ="
            " (SELECT count(*) FROM transactions t WHERE t.user_id = users.id)"
        )
        cur.execute("INSERT INTO bench_seed VALUES (%s)", (total,))
    conn.commit()
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    print(f"bench: seeded in {time.monotonic() - started:.0f} s")


EXPECTED_BALANCES_SQL = """
SELECT a.id, a.balance, a.opening_balance + coalesce(s.total, 0) AS expected
FROM accounts a LEFT JOIN (
  SELECT account_id, sum(delta) AS total FROM (
    SELECT account_id, CASE WHEN type = 'income' THEN amount ELSE -amount END AS delta
      FROM transactions
    UNION ALL
    SELECT transfer_account_id, amount FROM transactions WHERE type = 'transfer'
  ) moves GROUP BY account_id
) s ON s.account_id = a.id
"""
BALANCES_SQL = f"""
UPDATE accounts SET balance = e.expected FROM ({EXPECTED_BALANCES_SQL}) e
WHERE e.id = accounts.id
"""

if __name__ == "__main__":
    seed(int(os.environ.get("BENCH_TRANSACTIONS", "1000000")))
