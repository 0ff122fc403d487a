# ruff: noqa: F811 - the fixtures imported from other test modules are parameters here
"""The monthly rollups the reports read (app.ledger.rollups): after every kind of write they
equal what the rows add up to (`ledger.verify` compares them with app.ledger.rollups'
contributions of every row), also under concurrency; and the reports, which read whole months
from them and the days around from the rows, equal the sums this test computes itself from
the transactions it created, for ranges cut anywhere in a month, on PostgreSQL and SQLite."""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from app import ledger
from app.common import periods
from app.extensions import db
from tests.conftest import PASSWORD
from tests.test_backup import restore
from tests.test_concurrency import run_together
from tests.test_imports import upload
from tests.test_migrations import (  # noqa: F401 - fixtures
    MIGRATIONS,
    migrated_app,
    postgresql_url,
    sqlite_url,
)
from tests.test_reports import (  # noqa: F401 - fixtures
    d,
    expected_cashflow,
    expected_summary,
    history,
    someone,
    sqlite_app,
)


def rollups_hold(app) -> list:
    with app.app_context():
        wrong = ledger.verify()
        db.session.rollback()
    return wrong


def test_rollups_equal_the_rows_after_every_kind_of_write(app, user, make_user):
    usd = user.account(name="Checking", opening_balance="100.00")
    other = user.account(name="Other", opening_balance="5.00")
    eur = user.account(name="Euro", currency="EUR")
    food = user.category(name="Food")
    fun = user.category(name="Fun")
    pay = user.category(name="Pay", kind="income")
    url = user.url("transactions")
    steps = []

    def step(name, response, status):
        body = response.get_json(silent=True)
        assert response.status_code == status, (name, body)
        assert rollups_hold(app) == [], name
        steps.append(name)
        return body

    a = step(
        "create",
        user.post(
            url,
            json={
                "account_id": usd["id"],
                "type": "expense",
                "amount": "12.34",
                "date": "2026-01-31",
                "category_id": food["id"],
                "payee": "Market",
                "tags": ["x", "y"],
            },
        ),
        201,
    )
    split = step(
        "create split",
        user.post(
            url,
            json={
                "account_id": usd["id"],
                "type": "expense",
                "amount": "30.00",
                "date": "2026-02-10",
                "payee": "",
                "splits": [
                    {"category_id": food["id"], "amount": "20.00"},
                    {"category_id": fun["id"], "amount": "9.00"},
                    {"category_id": None, "amount": "1.00"},
                ],
            },
        ),
        201,
    )
    income = step(
        "create income",
        user.post(
            url,
            json={
                "account_id": other["id"],
                "type": "income",
                "amount": "1000.00",
                "date": "2026-02-01",
                "category_id": pay["id"],
            },
        ),
        201,
    )
    move = step(
        "create cross-currency transfer",
        user.post(
            url,
            json={
                "account_id": usd["id"],
                "type": "transfer",
                "amount": "50.00",
                "transfer_account_id": eur["id"],
                "transfer_amount": "46.10",
                "date": "2026-03-01",
            },
        ),
        201,
    )
    patch = user.url("transactions", a["id"])
    step("amount", user.patch(patch, json={"amount": "13.00"}), 200)
    step("date to another month", user.patch(patch, json={"date": "2026-03-15"}), 200)
    step("account", user.patch(patch, json={"account_id": other["id"]}), 200)
    step("category", user.patch(patch, json={"category_id": fun["id"]}), 200)
    step("payee", user.patch(patch, json={"payee": None}), 200)
    step("tags", user.patch(patch, json={"tags": ["y", "z"]}), 200)
    step("type", user.patch(patch, json={"type": "income"}), 200)
    step(
        "splits replaced",
        user.patch(
            user.url("transactions", split["id"]),
            json={
                "splits": [
                    {"category_id": fun["id"], "amount": "25.00"},
                    {"category_id": food["id"], "amount": "5.00"},
                ]
            },
        ),
        200,
    )
    step(
        "splits dropped",
        user.patch(user.url("transactions", split["id"]), json={"splits": []}),
        200,
    )
    step(
        "transfer to expense",
        user.patch(
            user.url("transactions", move["id"]),
            json={"type": "expense", "category_id": food["id"]},
        ),
        200,
    )
    step(
        "expense to transfer",
        user.patch(
            user.url("transactions", move["id"]),
            json={"type": "transfer", "transfer_account_id": other["id"]},
        ),
        200,
    )
    step("delete", user.delete(user.url("transactions", income["id"])), 204)
    # A category with split parts in it goes: its amounts become uncategorised.
    resplit = user.patch(
        user.url("transactions", split["id"]),
        json={
            "splits": [
                {"category_id": fun["id"], "amount": "10.00"},
                {"category_id": food["id"], "amount": "20.00"},
            ]
        },
    )
    assert resplit.status_code == 200
    step("category deleted", user.delete(f"/categories/{fun['id']}"), 204)
    # Rules categorise and tag uncategorised transactions in bulk.
    user.transaction(usd, amount="4.00", date="2026-03-20", description="coffee bar")
    rule = user.post(user.url("rules"), json={"pattern": "coffee", "category_id": food["id"]})
    assert rule.status_code == 201
    step("rules apply", user.post(user.url("rules") + "apply", json={}), 200)
    tagging = user.post(user.url("rules"), json={"pattern": "coffee", "tags": ["caffeine"]})
    assert tagging.status_code == 201
    # An import (COPY on PostgreSQL), with rule tags on its rows.
    csv = b"Date,Description,Amount\n2026-03-02,coffee shop,-3.50\n2026-04-02,Salary,900.00\n"
    step("import", upload(user, usd, csv), 200)
    # Recurring postings.
    schedule = user.post(
        user.url("recurring"),
        json={
            "account_id": other["id"],
            "type": "expense",
            "amount": "7.00",
            "unit": "month",
            "start_date": "2026-01-15",
            "count": 3,
            "payee": "Gym",
        },
    )
    assert schedule.status_code == 201
    step("post-due", user.post(user.url("recurring", schedule.json["id"]) + "/post-due"), 200)
    # An account goes, with the transfer into it from another account.
    step("account deleted", user.delete(user.url("accounts", eur["id"])), 204)
    # A backup restored into another user.
    backup = user.get("/users/me/export")
    assert backup.status_code == 200
    fresh = make_user()
    step("restore", restore(fresh, backup.data), 201)
    step(
        "user deleted",
        user.client.delete("/users/me/", json={"password": PASSWORD}, headers=user.headers),
        204,
    )
    with app.app_context():
        # Nothing of the deleted user stays in the rollups.
        for table in ("month_totals", "flow_months", "payee_months", "tag_months"):
            left = db.session.execute(
                sa.text(f"SELECT count(*) FROM {table} WHERE user_id = :id"), {"id": user.id}
            ).scalar()
            assert left == 0, table
        assert db.session.execute(sa.text("SELECT count(*) FROM month_totals")).scalar() > 0
        db.session.rollback()
    assert len(steps) == 23


def test_verify_names_a_wrong_rollup_and_rebuild_recomputes_it(app, user, account):
    user.transaction(account, amount="10.00", date="2026-05-05", payee="Shop")
    with app.app_context():
        db.session.execute(sa.text("UPDATE payee_months SET count = count + 2, amount = 1"))
        wrong = ledger.verify()
        assert [(d_.column, d_.balance, d_.expected, d_.money) for d_ in wrong] == [
            ("payee_months 2026-05 payee 'Shop' amount", 1, 1000, True),
            ("payee_months 2026-05 payee 'Shop' count", 3, 1, False),
        ]
        assert ledger.rebuild() == wrong
        db.session.commit()
        assert ledger.verify() == []


def test_migration_0020_backfills_the_rollups_from_every_row(migrated_app):
    """Rows from before the rollups (splits, tags, a transfer between currencies, no payee and
    an empty one): the backfill gives what the ledger's own check computes, on PostgreSQL and
    SQLite (the scratch databases of tests/test_migrations.py)."""
    upgrade(directory=MIGRATIONS, revision="0010")
    statements = [
        "INSERT INTO users (id, username, username_canonical, password_hash, token_version,"
        " created_at, transaction_count) VALUES (1, 'ann', 'ann', 'x', 0, CURRENT_TIMESTAMP, 4)",
        "INSERT INTO accounts (id, user_id, name, type, currency, opening_balance, balance,"
        " cleared_balance, reconciled_balance, archived, created_at, updated_at) VALUES"
        " (1, 1, 'A', 'checking', 'USD', 0, -3500, 0, 0, false, CURRENT_TIMESTAMP,"
        " CURRENT_TIMESTAMP),"
        " (2, 1, 'B', 'savings', 'EUR', 0, 920, 0, 0, false, CURRENT_TIMESTAMP,"
        " CURRENT_TIMESTAMP)",
        "INSERT INTO categories (id, user_id, name, name_canonical, kind) VALUES"
        " (1, 1, 'Food', 'food', 'expense'), (2, 1, 'Fun', 'fun', 'expense')",
        "INSERT INTO transactions (id, user_id, account_id, transfer_account_id, category_id,"
        " type, amount, currency, amount_scaled, transfer_amount, transfer_currency, status,"
        " transfer_status, date, description, payee, created_at, updated_at) VALUES"
        " (1, 1, 1, NULL, 1, 'expense', 1000, 'USD', 100000, NULL, NULL, 'pending', NULL,"
        " '2026-01-31', '', 'Shop', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),"
        " (2, 1, 1, NULL, NULL, 'expense', 1500, 'USD', 150000, NULL, NULL, 'pending', NULL,"
        " '2026-02-01', '', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),"
        " (3, 1, 1, NULL, NULL, 'income', 8000, 'USD', 800000, NULL, NULL, 'pending', NULL,"
        " '2026-02-03', '', NULL, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),"
        " (4, 1, 1, 2, NULL, 'transfer', 1000, 'USD', 100000, 920, 'EUR', 'pending',"
        " 'pending', '2026-02-04', '', NULL, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        "INSERT INTO transaction_splits (id, transaction_id, user_id, category_id, amount, note)"
        " VALUES (1, 2, 1, 1, 1000, ''), (2, 2, 1, 2, 400, ''), (3, 2, 1, NULL, 100, '')",
        "INSERT INTO transaction_tags (transaction_id, tag, user_id) VALUES"
        " (1, 'a', 1), (2, 'a', 1), (2, 'b', 1), (3, 'b', 1), (4, 'a', 1)",
        # The balances as the ledger keeps them: A -10 -15 +80 -10, B +9.20.
        "UPDATE accounts SET balance = 4500 WHERE id = 1",
    ]
    for statement in statements:
        db.session.execute(sa.text(statement))
    db.session.commit()
    upgrade(directory=MIGRATIONS)
    assert ledger.verify() == []
    month_totals = db.session.execute(
        sa.text(
            "SELECT month, account_id, kind, category_id, currency, amount FROM month_totals"
            " ORDER BY month, account_id, kind, category_id"
        )
    ).all()
    assert [(str(m)[:7], *rest) for m, *rest in month_totals] == [
        ("2026-01", 1, "expense", 1, "USD", 1000),
        ("2026-02", 1, "expense", 0, "USD", 100),
        ("2026-02", 1, "expense", 1, "USD", 1000),
        ("2026-02", 1, "expense", 2, "USD", 400),
        ("2026-02", 1, "income", 0, "USD", 8000),
        ("2026-02", 1, "transfer_out", 0, "USD", 1000),
        ("2026-02", 2, "transfer_in", 0, "EUR", 920),
    ]
    payees = db.session.execute(
        sa.text("SELECT payee, amount, count FROM payee_months ORDER BY payee")
    ).all()
    assert [tuple(row) for row in payees] == [("", 1500, 1), ("Shop", 1000, 1)]
    tags = db.session.execute(
        sa.text("SELECT tag, kind, sum(amount) FROM tag_months GROUP BY tag, kind ORDER BY 1, 2")
    ).all()
    assert [tuple(row) for row in tags] == [
        ("a", "expense", 2500),
        ("b", "expense", 1500),
        ("b", "income", 8000),
    ]


# --- reports over ranges cut anywhere ----------------------------------------------------------

RANGES = [
    (date(2026, 1, 11), date(2026, 3, 15)),  # both ends inside a month
    (date(2026, 1, 1), date(2026, 2, 28)),  # whole months only
    (date(2025, 12, 31), date(2026, 4, 1)),  # one day each side of whole months
    (date(2026, 2, 2), date(2026, 2, 20)),  # inside one month
    (date(2026, 1, 5), date(2026, 3, 31)),  # a cut start, a whole last month
    (date(2026, 1, 1), date(2026, 3, 3)),  # a whole first month, a cut end
]


def test_summary_over_any_range_matches_the_rows(history):
    for start, end in RANGES:
        check_summary(history, start, end)


def check_summary(h, start, end):
    response = h.user.get(h.user.url("reports") + f"summary?start_date={start}&end_date={end}")
    assert response.status_code == 200, response.json
    expected = expected_summary(h, h.in_range(start, end))
    blocks = response.json["currencies"]
    assert [b["currency"] for b in blocks] == sorted(expected)
    for block in blocks:
        want = expected[block["currency"]]
        assert [d(block["income"]), d(block["expense"])] == want["flows"]
        got = {
            (c["category_id"], c["name"]): [d(c["income"]), d(c["expense"])]
            for c in block["categories"]
        }
        assert got == dict(want["categories"])
        tags = {t["tag"]: [d(t["income"]), d(t["expense"])] for t in block["tags"]}
        assert tags == dict(want["tags"])


def test_cashflow_over_any_range_matches_the_rows(history):
    for start, end in RANGES:
        for interval in ("month", "year", "week"):
            check_cashflow(history, start, end, interval)


def check_cashflow(h, start, end, interval):
    response = h.user.get(
        h.user.url("reports") + f"cashflow?start_date={start}&end_date={end}&interval={interval}"
    )
    assert response.status_code == 200, response.json
    expected = expected_cashflow(h, interval, start, end)
    blocks = response.json["currencies"]
    assert [b["currency"] for b in blocks] == sorted(expected)
    for block in blocks:
        for p in block["periods"]:
            key = periods.floor(date.fromisoformat(p["start"]), interval)
            income, expense = expected[block["currency"]].get(key, [Decimal(0), Decimal(0)])
            assert (d(p["income"]), d(p["expense"])) == (income, expense), p


def test_top_payees_over_any_range_matches_the_rows(history):
    for start, end in RANGES:
        check_top_payees(history, start, end)


def check_top_payees(h, start, end):
    response = h.user.get(
        h.user.url("reports") + f"top-payees?start_date={start}&end_date={end}&limit=100"
    )
    assert response.status_code == 200, response.json
    sums = defaultdict(lambda: defaultdict(lambda: [Decimal(0), 0]))
    for t in h.in_range(start, end):
        if t["type"] == "expense":
            sums[t["currency"]][t["payee"] or None][0] += d(t["amount"])
            sums[t["currency"]][t["payee"] or None][1] += 1
    blocks = response.json["currencies"]
    assert [b["currency"] for b in blocks] == sorted(sums)
    for block in blocks:
        got = {p["payee"]: [d(p["expense"]), p["transactions"]] for p in block["payees"]}
        assert got == {payee: list(v) for payee, v in sums[block["currency"]].items()}


def test_net_worth_over_any_range_matches_the_rows(history):
    for start, end in RANGES:
        for interval in ("month", "week", "year"):
            check_net_worth(history, start, end, interval)


def check_net_worth(h, start, end, interval):
    response = h.user.get(
        h.user.url("reports") + f"net-worth?start_date={start}&end_date={end}&interval={interval}"
    )
    assert response.status_code == 200, response.json
    signs = {"income": (1, None), "expense": (-1, None), "transfer": (-1, 1)}
    today = h.created_on
    for block in response.json["currencies"]:
        accounts = [a for a in h.accounts if a["currency"] == block["currency"]]
        ids = {a["id"] for a in accounts}
        for point in block["points"]:
            day = date.fromisoformat(point["date"])
            want = sum((d(a["opening_balance"]) for a in accounts if today <= day), Decimal(0))
            for t in h.transactions:
                if date.fromisoformat(t["date"]) <= day:
                    source, destination = signs[t["type"]]
                    if t["account_id"] in ids:
                        want += source * d(t["amount"])
                    if destination and t["transfer_account_id"] in ids:
                        want += destination * d(t["transfer_amount"] or t["amount"])
            assert d(point["net_worth"]) == want, (block["currency"], point)


def test_a_deleted_transaction_leaves_no_empty_block(someone):
    """Rollup rows taken back to zero are no activity: no EUR block of zeros."""
    eur = someone.account(name="Euro", currency="EUR")
    usd = someone.account(name="Dollars")
    gone = someone.transaction(eur, amount="5.00", date="2026-02-10", payee="P", tags=["t"])
    someone.transaction(usd, amount="1.00", date="2026-02-11")
    assert someone.delete(someone.url("transactions", gone["id"])).status_code == 204
    reports = someone.url("reports")
    span = "start_date=2026-01-01&end_date=2026-03-31"
    for name in ("summary", "cashflow", "top-payees"):
        body = someone.get(reports + f"{name}?{span}").json
        assert [b["currency"] for b in body["currencies"]] == ["USD"], name


# --- concurrency -------------------------------------------------------------------------------


def test_concurrent_writes_of_every_kind_keep_the_rollups_exact(app, user):
    accounts = [user.account(name=f"A{i}", opening_balance="100.00") for i in range(3)]
    categories = [user.category(name=f"C{i}") for i in range(3)]
    doomed = user.category(name="Doomed")
    seeded = [
        user.transaction(
            accounts[i % 3],
            amount=f"{i + 1}.00",
            date=f"2026-0{1 + i % 3}-1{i % 9}",
            category_id=doomed["id"] if i % 2 else None,
            description="coffee" if i % 3 == 0 else "other",
            payee=f"P{i % 4}",
            tags=[f"t{i % 2}"],
        )
        for i in range(24)
    ]
    assert user.post(user.url("rules"), json={"pattern": "coffee", "tags": ["c"]}).status_code
    lock = threading.Lock()
    pool = list(seeded)

    def take():
        with lock:
            return pool.pop() if pool else None

    def writer(seed):
        def job(me):
            statuses = Counter()
            for n in range(8):
                txn = take()
                if txn is None:
                    break
                url = me.url("transactions", txn["id"])
                roll = (seed + n) % 4
                if roll == 0:
                    body = {
                        "category_id": categories[n % 3]["id"],
                        "payee": f"Q{seed}",
                        "tags": ["new"],
                    }
                elif roll == 1:
                    body = {"account_id": accounts[(seed + 1) % 3]["id"], "date": "2026-04-02"}
                elif roll == 2:
                    body = {"amount": "7.77", "type": "income"}
                else:
                    statuses[me.delete(url).status_code] += 1
                    continue
                statuses[me.patch(url, json=body).status_code] += 1
                created = me.post(
                    me.url("transactions"),
                    json={
                        "account_id": accounts[n % 3]["id"],
                        "type": "transfer",
                        "amount": "1.00",
                        "transfer_account_id": accounts[(n + 1) % 3]["id"],
                        "date": "2026-03-31",
                    },
                )
                statuses[created.status_code] += 1
            return statuses

        return job

    def delete_category(me):
        return Counter([me.delete(f"/categories/{doomed['id']}").status_code])

    def apply_rules(me):
        return Counter([me.post(me.url("rules") + "apply", json={}).status_code])

    jobs = [writer(seed) for seed in range(4)] + [delete_category, apply_rules]
    statuses = sum(run_together(app, user, jobs), Counter())
    assert set(statuses) <= {200, 201, 204}, statuses
    assert rollups_hold(app) == []


@pytest.fixture
def recent(someone):
    """A few transactions in the current month and the one before: the ranges up to today."""
    account = someone.account(name="Now")
    today = date.today()
    for back in (0, 3, 20, 40):
        someone.transaction(account, amount="2.50", date=str(today - timedelta(days=back)))
    return someone


def test_ranges_ending_today_match_the_rows(recent):
    today = date.today()
    rows = recent.get(recent.url("transactions") + "?limit=100").json
    for days in (1, 30, 365):
        start = today - timedelta(days=days)
        body = recent.get(
            recent.url("reports") + f"summary?start_date={start}&end_date={today}"
        ).json
        want = sum(
            (d(t["amount"]) for t in rows if start <= date.fromisoformat(t["date"]) <= today),
            Decimal(0),
        )
        assert d(body["currencies"][0]["expense"]) == want, days


# --- what the rollups cost a write -------------------------------------------------------------

ROLLUP_TABLES = ("month_totals", "flow_months", "payee_months", "tag_months")


def rollup_round_trips(seen: list[str]) -> int:
    return sum(any(f"INSERT INTO {t}" in s for t in ROLLUP_TABLES) for s in seen)


def test_a_write_moves_the_rollups_in_one_round_trip_a_flush(user, account, statements):
    """On PostgreSQL a flush's rollup changes are one text (all the upserts): a create is one
    round trip, a change of what it counts one too (the difference, computed in Python: the
    row has no splits or tags), a delete one; a change the rollups do not count (the
    description) none. With tags, a change is two (out by SQL before it, in after)."""
    other = user.account(name="Other")
    body = {"account_id": account["id"], "type": "expense", "amount": "5.00", "payee": "P"}
    statements.clear()
    created = user.post(user.url("transactions"), json=body)
    assert created.status_code == 201
    assert rollup_round_trips(statements) == 1, statements
    url = user.url("transactions", created.json["id"])
    statements.clear()
    assert user.patch(url, json={"account_id": other["id"]}).status_code == 200
    assert rollup_round_trips(statements) == 1, statements
    statements.clear()
    assert user.patch(url, json={"description": "words only"}).status_code == 200
    assert rollup_round_trips(statements) == 0, statements
    statements.clear()
    assert user.patch(url, json={"tags": ["t"]}).status_code == 200
    statements.clear()
    assert user.patch(url, json={"account_id": account["id"]}).status_code == 200
    assert rollup_round_trips(statements) == 2, statements
    statements.clear()
    assert user.delete(url).status_code == 204
    assert rollup_round_trips(statements) == 1, statements
