"""Reports: every figure is checked against sums this test computes itself, with Decimal, from
the transactions it created (as the API answered them), on PostgreSQL and on SQLite alike.
Per currency, transfers neither income nor expense, splits in their own categories, tags,
empty periods as zeros, ISO weeks from Monday, net worth from opening balances onwards."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from app.common import periods
from tests.conftest import register
from tests.test_sqlite import sqlite_app, verify  # noqa: F401 - the SQLite app fixture

START, END = date(2026, 1, 1), date(2026, 3, 31)


@pytest.fixture(params=["postgresql", "sqlite"])
def someone(request):
    """A fresh user on each database (SQLite's are not cleaned up, so each name is new)."""
    if request.param == "postgresql":
        user = request.getfixturevalue("make_user")()
    else:
        app = request.getfixturevalue("sqlite_app")
        user = register(app.test_client(), f"rep_{abs(hash(request.node.nodeid)) % 10**12}")
        request.addfinalizer(lambda: verify(app) == [] or pytest.fail("SQLite ledger broken"))
    return user


class History:
    """What the test created: accounts, categories and transactions, as the API answered."""

    def __init__(self, user):
        self.user = user
        self.transactions: list[dict] = []
        self.accounts: list[dict] = []
        self.created_on = datetime.now(UTC).date()

    def account(self, **fields):
        account = self.user.account(**fields)
        self.accounts.append(account)
        return account

    def add(self, account, amount, type="expense", **fields):
        txn = self.user.transaction(account, amount=amount, type=type, **fields)
        self.transactions.append(txn)
        return txn

    def in_range(self, start=START, end=END):
        return [t for t in self.transactions if start <= date.fromisoformat(t["date"]) <= end]


@pytest.fixture
def history(someone):
    h = History(someone)
    usd = h.account(name="Checking", opening_balance="1000.00")
    savings = h.account(name="Savings", opening_balance="50.05")
    eur = h.account(name="Euro", currency="EUR", opening_balance="10.00")
    jpy = h.account(name="Yen", currency="JPY", opening_balance="0")
    groceries = someone.category(name="Food shop")
    salary = someone.category(name="Pay", kind="income")
    fun = someone.category(name="Fun stuff")
    h.add(usd, "2500.00", "income", date="2026-01-05", category_id=salary["id"], payee="Acme")
    h.add(
        usd, "45.10", date="2026-01-10", category_id=groceries["id"], payee="Market", tags=["food"]
    )
    h.add(usd, "12.34", date="2026-02-02", payee="Cafe", tags=["food", "fun"])
    h.add(usd, "200.00", "transfer", date="2026-01-20", transfer_account_id=savings["id"])
    # Between currencies: 100.00 USD leaves, 92.15 EUR arrives (neither income nor expense).
    h.add(
        usd,
        "100.00",
        "transfer",
        date="2026-02-20",
        transfer_account_id=eur["id"],
        transfer_amount="92.15",
    )
    h.add(
        usd,
        "30.00",
        date="2026-03-03",
        payee="Market",
        tags=["fun"],
        splits=[
            {"category_id": groceries["id"], "amount": "20.01"},
            {"category_id": fun["id"], "amount": "7.99", "note": "Snacks"},
            {"category_id": None, "amount": "2.00"},
        ],
    )
    h.add(savings, "0.05", "income", date="2026-03-31", payee="Bank")
    h.add(eur, "3.50", date="2026-01-11", category_id=groceries["id"], payee="Market")
    h.add(eur, "1.25", date="2026-03-15", payee="Kiosk")
    h.add(jpy, "1200", date="2026-02-14", category_id=fun["id"], payee="Arcade")
    # Outside the range: in no figure of the range.
    h.add(usd, "999.99", date="2025-12-31", category_id=groceries["id"], payee="Market")
    h.add(usd, "77.77", date="2026-04-01", payee="Market")
    h.names = {c["id"]: c["name"] for c in (groceries, salary, fun)}
    h.usd, h.savings, h.eur = usd, savings, eur
    return h


def d(text: str) -> Decimal:
    return Decimal(text)


def expected_summary(h: History, rows: list[dict]):
    """Per currency: income, expense, per (category_id, name) [income, expense], per tag."""
    blocks = {}
    for t in rows:
        if t["type"] == "transfer":
            continue
        block = blocks.setdefault(
            t["currency"],
            {
                "flows": [Decimal(0), Decimal(0)],
                "categories": defaultdict(lambda: [Decimal(0), Decimal(0)]),
                "tags": defaultdict(lambda: [Decimal(0), Decimal(0)]),
            },
        )
        side = 0 if t["type"] == "income" else 1
        block["flows"][side] += d(t["amount"])
        parts = [(s["category_id"], s["amount"]) for s in t["splits"]] or [
            (t["category_id"], t["amount"])
        ]
        for category_id, amount in parts:
            block["categories"][(category_id, h.names.get(category_id))][side] += d(amount)
        for tag in t["tags"]:
            block["tags"][tag][side] += d(t["amount"])
    return blocks


def test_summary_matches_the_sums_of_the_rows(history):
    h = history
    response = h.user.get(h.user.url("reports") + f"summary?start_date={START}&end_date={END}")
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["start_date"], body["end_date"]) == (str(START), str(END))
    expected = expected_summary(h, h.in_range())
    assert [b["currency"] for b in body["currencies"]] == sorted(expected) == ["EUR", "JPY", "USD"]
    for block in body["currencies"]:
        want = expected[block["currency"]]
        income, expense = want["flows"]
        assert (d(block["income"]), d(block["expense"]), d(block["net"])) == (
            income,
            expense,
            income - expense,
        )
        got = {
            (c["category_id"], c["name"]): [d(c["income"]), d(c["expense"])]
            for c in block["categories"]
        }
        assert got == dict(want["categories"])
        for c in block["categories"]:
            assert d(c["net"]) == d(c["income"]) - d(c["expense"])
        assert {t["tag"]: [d(t["income"]), d(t["expense"])] for t in block["tags"]} == dict(
            want["tags"]
        )
    usd = next(b for b in body["currencies"] if b["currency"] == "USD")
    # Exact strings with the currency's digits; uncategorised last, as its own line.
    assert usd["income"] == "2500.05" and usd["expense"] == "87.44"
    assert usd["categories"][-1] == {
        "category_id": None,
        "name": None,
        "parent_id": None,
        "income": "0.05",
        "expense": "14.34",
        "net": "-14.29",
    }
    jpy = next(b for b in body["currencies"] if b["currency"] == "JPY")
    assert jpy["expense"] == "1200" and jpy["net"] == "-1200"


def test_summary_of_one_account(history):
    h = history
    url = h.user.url("reports") + f"summary?start_date={START}&end_date={END}"
    body = h.user.get(url + f"&account_id={h.savings['id']}").json
    rows = [t for t in h.in_range() if t["account_id"] == h.savings["id"]]
    expected = expected_summary(h, rows)
    assert [b["currency"] for b in body["currencies"]] == ["USD"]
    assert d(body["currencies"][0]["income"]) == expected["USD"]["flows"][0] == d("0.05")
    assert body["currencies"][0]["expense"] == "0.00"  # the transfer in is not income


def expected_cashflow(h: History, interval: str, start=START, end=END):
    sums = defaultdict(lambda: defaultdict(lambda: [Decimal(0), Decimal(0)]))
    for t in h.in_range(start, end):
        if t["type"] != "transfer":
            day = date.fromisoformat(t["date"])
            sums[t["currency"]][periods.floor(day, interval)][t["type"] == "expense"] += d(
                t["amount"]
            )
    return sums


@pytest.mark.parametrize("interval", ["week", "month", "year"])
def test_cashflow_per_period_with_empty_ones_as_zeros(history, interval):
    h = history
    start, end = date(2026, 1, 1), date(2026, 4, 30)
    response = h.user.get(
        h.user.url("reports") + f"cashflow?start_date={start}&end_date={end}&interval={interval}"
    )
    assert response.status_code == 200, response.json
    body = response.json
    expected = expected_cashflow(h, interval, start, end)
    assert [b["currency"] for b in body["currencies"]] == sorted(expected)
    for block in body["currencies"]:
        got_periods = block["periods"]
        # Every period of the range, in order, cut to the range, none missing.
        assert got_periods[0]["start"] == str(start)
        assert got_periods[-1]["end"] == str(end)
        for before, after in itertools.pairwise(got_periods):
            assert date.fromisoformat(after["start"]) == date.fromisoformat(
                before["end"]
            ) + timedelta(days=1)
        for p in got_periods:
            key = periods.floor(date.fromisoformat(p["start"]), interval)
            income, expense = expected[block["currency"]].get(key, [Decimal(0), Decimal(0)])
            assert (d(p["income"]), d(p["expense"]), d(p["net"])) == (
                income,
                expense,
                income - expense,
            ), p
    usd = next(b for b in body["currencies"] if b["currency"] == "USD")["periods"]
    if interval == "month":
        assert [p["start"] for p in usd] == ["2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"]
        assert usd[3]["expense"] == "77.77"
    if interval == "week":
        # 2026-01-01 is a Thursday: the first week is cut to it, the next starts on Monday 5th.
        assert (usd[0]["start"], usd[0]["end"], usd[1]["start"]) == (
            "2026-01-01",
            "2026-01-04",
            "2026-01-05",
        )
        assert all(date.fromisoformat(p["start"]).weekday() == 0 for p in usd[1:])
        assert usd[1]["income"] == "2500.00"
        assert sum(p["income"] == "0.00" and p["expense"] == "0.00" for p in usd) >= 10
    if interval == "year":
        assert len(usd) == 1


def test_net_worth_from_openings_and_transactions(history):
    h = history
    today = h.created_on
    start, end = date(2025, 12, 1), today + timedelta(days=40)
    response = h.user.get(
        h.user.url("reports") + f"net-worth?start_date={start}&end_date={end}&interval=month"
    )
    assert response.status_code == 200, response.json
    body = response.json
    signs = {"income": (1, None), "expense": (-1, None), "transfer": (-1, 1)}
    for block in body["currencies"]:
        currency = block["currency"]
        accounts = [a for a in h.accounts if a["currency"] == currency]
        ids = {a["id"] for a in accounts}
        for point in block["points"]:
            day = date.fromisoformat(point["date"])
            # Openings count from the account's creation (today), transactions from their date.
            want = sum((d(a["opening_balance"]) for a in accounts if today <= day), Decimal(0))
            for t in h.transactions:
                if date.fromisoformat(t["date"]) <= day:
                    source, destination = signs[t["type"]]
                    if t["account_id"] in ids:
                        want += source * d(t["amount"])
                    if destination and t["transfer_account_id"] in ids:
                        want += destination * d(t["transfer_amount"] or t["amount"])
            assert d(point["net_worth"]) == want, (currency, point)
        # At the end, the balances the accounts have now.
        balances = sum((d(h.user.balance(a)) for a in accounts), Decimal(0))
        assert d(block["points"][-1]["net_worth"]) == balances
    usd = next(b for b in body["currencies"] if b["currency"] == "USD")["points"]
    assert usd[0] == {"date": "2025-12-31", "net_worth": "-999.99"}
    assert usd[-1]["date"] == str(end)


def test_top_payees_ranks_expenses_per_currency(history):
    h = history
    response = h.user.get(
        h.user.url("reports") + f"top-payees?start_date={START}&end_date={END}&limit=2"
    )
    assert response.status_code == 200, response.json
    sums = defaultdict(lambda: defaultdict(lambda: [Decimal(0), 0]))
    for t in h.in_range():
        if t["type"] == "expense":
            sums[t["currency"]][t["payee"]][0] += d(t["amount"])
            sums[t["currency"]][t["payee"]][1] += 1
    body = response.json
    assert [b["currency"] for b in body["currencies"]] == sorted(sums)
    for block in body["currencies"]:
        ranked = sorted(sums[block["currency"]].items(), key=lambda kv: -kv[1][0])[:2]
        assert [(p["payee"], d(p["expense"]), p["transactions"]) for p in block["payees"]] == [
            (payee, total, count) for payee, (total, count) in ranked
        ]
        assert [p["rank"] for p in block["payees"]] == list(range(1, len(ranked) + 1))
    usd = next(b for b in body["currencies"] if b["currency"] == "USD")["payees"]
    assert usd[0] == {"rank": 1, "payee": "Market", "expense": "75.10", "transactions": 2}


def test_a_range_with_nothing_has_no_blocks(someone):
    url = someone.url("reports")
    for report in ("summary", "cashflow", "top-payees", "net-worth"):
        response = someone.get(url + f"{report}?start_date=2030-01-01&end_date=2030-02-01")
        assert response.status_code == 200
        assert response.json["currencies"] == []


@pytest.mark.parametrize(
    "query, field",
    [
        ("summary?start_date=2026-02-01&end_date=2026-01-01", "end_date"),
        ("summary?end_date=2026-01-01", "start_date"),
        ("summary?start_date=2026-01-01&end_date=2026-01-31&typo=1", "typo"),
        ("summary?start_date=2026-1-1&end_date=2026-01-31", "start_date"),
        ("cashflow?start_date=2026-01-01&end_date=2026-01-31&interval=day", "interval"),
        ("cashflow?start_date=1900-01-01&end_date=2199-12-31&interval=week", "interval"),
        ("net-worth?start_date=2026-01-01&end_date=2026-01-31&interval=fortnight", "interval"),
        ("top-payees?start_date=2026-01-01&end_date=2026-01-31&limit=0", "limit"),
        ("top-payees?start_date=2026-01-01&end_date=2026-01-31&limit=101", "limit"),
    ],
)
def test_bad_report_arguments_are_a_422_naming_the_field(user, query, field):
    response = user.get(user.url("reports") + query)
    assert response.status_code == 422, response.json
    assert set(response.json) >= {"code", "status", "message"}
    location = response.json.get("errors", {}).get("query") or response.json["errors"]["json"]
    assert field in location


def test_another_users_account_or_reports_are_refused(user, other_user, account):
    theirs = other_user.account(name="Theirs")
    url = user.url("reports") + "summary?start_date=2026-01-01&end_date=2026-01-31"
    assert user.get(url + f"&account_id={theirs['id']}").status_code == 404
    assert user.get(url + "&account_id=999999").status_code == 404
    assert other_user.get(url).status_code == 403
    assert user.client.get(url).status_code == 401
