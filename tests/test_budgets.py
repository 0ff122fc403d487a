"""Budgets: expense categories only, one currency each, for one month or every month from one,
rollover of the unspent part; the month's status checked against sums this test computes from
the transactions it created (split parts in their own categories)."""

from __future__ import annotations

from decimal import Decimal

import pytest


def budget(user, category, **fields):
    body = {
        "category_id": category["id"],
        "currency": "USD",
        "amount": "100.00",
        "start_month": "2026-01",
        **fields,
    }
    response = user.post(user.url("budgets"), json=body)
    assert response.status_code == 201, response.json
    return response.json


def status(user, month):
    response = user.get(user.url("budgets") + f"status?month={month}")
    assert response.status_code == 200, response.json
    return response.json


def test_create_read_change_and_delete_a_budget(user):
    food = user.category(name="Food")
    made = budget(user, food, rollover=True)
    assert {
        k: made[k]
        for k in ("category_id", "currency", "amount", "start_month", "recurring", "rollover")
    } == {
        "category_id": food["id"],
        "currency": "USD",
        "amount": "100.00",
        "start_month": "2026-01",
        "recurring": True,
        "rollover": True,
    }
    url = user.url("budgets", made["id"])
    assert user.get(url).json == made
    assert user.patch(url, json={"amount": "150.5"}).json["amount"] == "150.50"
    assert user.get(user.url("budgets")).headers["X-Total-Count"] == "1"
    assert user.delete(url).status_code == 204
    assert user.get(url).status_code == 404


@pytest.mark.parametrize(
    "fields, status_code, field",
    [
        ({"start_month": "2026-13"}, 422, "start_month"),
        ({"start_month": "2026-1"}, 422, "start_month"),
        ({"start_month": "2026-01-01"}, 422, "start_month"),
        ({"amount": "0"}, 422, "amount"),
        ({"amount": "1.001"}, 422, "amount"),
        ({"currency": "XAU"}, 422, "currency"),
        ({"category_id": 999999}, 404, None),
        ({"recurring": "yes"}, 422, "recurring"),
    ],
)
def test_bad_budgets_are_refused(user, fields, status_code, field):
    food = user.category(name="Food")
    body = {
        "category_id": food["id"],
        "currency": "USD",
        "amount": "100.00",
        "start_month": "2026-01",
        **fields,
    }
    response = user.post(user.url("budgets"), json=body)
    assert response.status_code == status_code, response.json
    if field:
        assert field in response.json["errors"]["json"]
    assert user.get(user.url("budgets")).json == []


def test_an_income_category_another_users_or_a_twin_is_refused(user, other_user):
    pay = user.category(name="Pay", kind="income")
    response = user.post(
        user.url("budgets"),
        json={"category_id": pay["id"], "currency": "USD", "amount": "1", "start_month": "2026-01"},
    )
    assert response.status_code == 422 and "income" in response.json["message"]
    theirs = other_user.category(name="Theirs")
    response = user.post(
        user.url("budgets"),
        json={
            "category_id": theirs["id"],
            "currency": "USD",
            "amount": "1",
            "start_month": "2026-01",
        },
    )
    assert response.status_code == 404
    food = user.category(name="Food")
    budget(user, food)
    again = user.post(
        user.url("budgets"),
        json={
            "category_id": food["id"],
            "currency": "USD",
            "amount": "5",
            "start_month": "2026-01",
        },
    )
    assert again.status_code == 409
    assert budget(user, food, currency="EUR")["currency"] == "EUR"  # another currency is fine


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "26-01", "", "2026-01-01", "abcd-ef"])
def test_status_needs_a_month(user, month):
    response = user.get(user.url("budgets") + f"status?month={month}")
    assert response.status_code == 422 and "month" in response.json["errors"]["query"]


def test_status_of_a_month(user, account):
    food, home, fun = (user.category(name=n) for n in ("Food", "Home", "Fun"))
    euro = user.account(name="Euro", currency="EUR")
    budget(user, food, amount="100.00")
    budget(user, home, amount="50.00", recurring=False, start_month="2026-02")
    budget(user, home, amount="80.00", start_month="2025-12")  # recurring; Feb is the one-off's
    made = [
        user.transaction(account, amount="30.10", date="2026-02-03", category_id=food["id"]),
        user.transaction(
            account,
            amount="25.00",
            date="2026-02-28",
            splits=[
                {"category_id": food["id"], "amount": "5.00"},
                {"category_id": home["id"], "amount": "12.00"},
                {"category_id": fun["id"], "amount": "8.00"},
            ],
        ),
        user.transaction(account, amount="3.00", date="2026-02-10"),
        user.transaction(euro, amount="4.00", date="2026-02-10", category_id=food["id"]),
        user.transaction(account, amount="99.00", date="2026-03-01", category_id=food["id"]),
        user.transaction(
            account, amount="500.00", type="income", date="2026-02-01", category_id=food["id"]
        ),
    ]
    spent = {}
    for t in made:
        if t["type"] != "expense" or not t["date"].startswith("2026-02"):
            continue
        for category_id, amount in [(s["category_id"], s["amount"]) for s in t["splits"]] or [
            (t["category_id"], t["amount"])
        ]:
            key = (category_id, t["currency"])
            spent[key] = spent.get(key, Decimal(0)) + Decimal(amount)
    body = status(user, "2026-02")
    assert body["month"] == "2026-02"
    lines = {(b["category_id"], b["currency"]): b for b in body["budgets"]}
    assert set(lines) == {(food["id"], "USD"), (home["id"], "USD")}
    for (category_id, currency), line in lines.items():
        budgeted = Decimal("100.00") if category_id == food["id"] else Decimal("50.00")
        used = spent[(category_id, currency)]
        assert (Decimal(line["budgeted"]), Decimal(line["spent"])) == (budgeted, used)
        assert Decimal(line["remaining"]) == budgeted - used
        assert Decimal(line["percent_used"]) == (used * 100 / budgeted).quantize(Decimal("0.01"))
    assert lines[(food["id"], "USD")]["percent_used"] == "35.10"
    assert lines[(home["id"], "USD")]["name"] == "Home"
    unbudgeted = sum(v for k, v in spent.items() if k not in lines and k[1] == "USD")
    assert body["unbudgeted"] == [
        {"currency": "EUR", "spent": "4.00"},
        {"currency": "USD", "spent": f"{unbudgeted:.2f}"},
    ]
    assert unbudgeted == Decimal("11.00")  # Fun's part and the uncategorised 3.00
    # March: the one-off is over, the recurring Home budget is back.
    march = {b["category_id"]: b for b in status(user, "2026-03")["budgets"]}
    assert march[home["id"]]["budgeted"] == "80.00"
    assert march[food["id"]]["remaining"] == "1.00"


def test_rollover_carries_the_unspent_part_only(user, account):
    food = user.category(name="Food")
    budget(user, food, amount="100.00", rollover=True)
    user.transaction(account, amount="60.00", date="2026-01-15", category_id=food["id"])
    user.transaction(account, amount="170.00", date="2026-02-15", category_id=food["id"])
    user.transaction(account, amount="20.00", date="2026-03-15", category_id=food["id"])
    jan, feb, mar, apr = (
        status(user, m)["budgets"][0] for m in ("2026-01", "2026-02", "2026-03", "2026-04")
    )
    assert (jan["rolled_over"], jan["remaining"]) == ("0.00", "40.00")
    # 100 + 40 carried - 170 = -30: overspent, and nothing negative is carried on.
    assert (feb["rolled_over"], feb["remaining"], feb["percent_used"]) == (
        "40.00",
        "-30.00",
        "121.43",
    )
    assert (mar["rolled_over"], mar["remaining"]) == ("0.00", "80.00")
    assert (apr["rolled_over"], apr["remaining"], apr["spent"]) == ("80.00", "180.00", "0.00")


def test_a_month_before_any_budget_has_none(user, account):
    food = user.category(name="Food")
    budget(user, food, start_month="2026-05")
    user.transaction(account, amount="7.00", date="2026-04-02", category_id=food["id"])
    body = status(user, "2026-04")
    assert body["budgets"] == []
    assert body["unbudgeted"] == [{"currency": "USD", "spent": "7.00"}]


def test_a_budget_counts_every_category_below_its_own(user, account):
    """Food > Groceries > Organic: a Food budget counts all three, a Groceries one its own and
    Organic's; spending below a budgeted category is not unbudgeted; a split part counts in
    its category's budgets; another currency's spending is not this budget's."""
    food = user.category(name="All food")
    groceries = user.category(name="Food shops", parent_id=food["id"])
    organic = user.category(name="Organic shops", parent_id=groceries["id"])
    dining = user.category(name="Eating out", parent_id=food["id"])
    other = user.category(name="Odds")
    euro = user.account(name="Euro", currency="EUR")
    budget(user, food, amount="500.00")
    budget(user, groceries, amount="100.00")
    day = "2026-02-10"
    user.transaction(account, amount="10.00", date=day, category_id=food["id"])
    user.transaction(account, amount="20.00", date=day, category_id=groceries["id"])
    user.transaction(account, amount="40.00", date=day, category_id=organic["id"])
    user.transaction(account, amount="80.00", date=day, category_id=dining["id"])
    user.transaction(
        account,
        amount="7.00",
        date=day,
        splits=[
            {"category_id": organic["id"], "amount": "5.00"},
            {"category_id": other["id"], "amount": "2.00"},
        ],
    )
    user.transaction(account, amount="1.00", date="2026-03-01", category_id=organic["id"])
    user.transaction(euro, amount="9.00", date=day, category_id=organic["id"])
    body = status(user, "2026-02")
    lines = {b["category_id"]: b for b in body["budgets"]}
    assert lines[food["id"]]["spent"] == "155.00"  # 10 + 20 + 40 + 80 + 5
    assert lines[food["id"]]["remaining"] == "345.00"
    assert lines[groceries["id"]]["spent"] == "65.00"  # 20 + 40 + 5
    assert lines[groceries["id"]]["percent_used"] == "65.00"
    # Other's split part (2.00) in USD; Organic's EUR spending has no EUR budget.
    assert body["unbudgeted"] == [
        {"currency": "EUR", "spent": "9.00"},
        {"currency": "USD", "spent": "2.00"},
    ]
    # Moving Organic to the top level takes it out of both budgets.
    moved = user.patch(f"/categories/{organic['id']}", json={"parent_id": None})
    assert moved.status_code == 200, moved.json
    body = status(user, "2026-02")
    lines = {b["category_id"]: b for b in body["budgets"]}
    assert (lines[food["id"]]["spent"], lines[groceries["id"]]["spent"]) == ("110.00", "20.00")
    assert body["unbudgeted"][1] == {"currency": "USD", "spent": "47.00"}
