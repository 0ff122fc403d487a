"""Categorisation rules: the resource, and their use on import, on create and on demand."""

from __future__ import annotations

from tests.test_imports import listed, sample, upload


def rule(user, **fields):
    response = user.post(user.url("rules"), json=fields)
    assert response.status_code == 201, response.json
    return response.json


def test_rules_resource(user, other_user):
    food = user.category(name="Food")
    created = rule(user, pattern="whole foods", category_id=food["id"], min_amount="1.50")
    assert created["match"] == "contains" and created["field"] == "any"
    assert created["min_amount"] == "1.5" and created["max_amount"] is None
    url = user.url("rules", created["id"])
    assert user.get(url).json == created
    changed = user.patch(url, json={"max_amount": "200", "priority": 5})
    assert changed.status_code == 200
    assert (changed.json["max_amount"], changed.json["priority"]) == ("200", 5)
    assert user.patch(url, json={"max_amount": "1.00"}).status_code == 422  # below min
    bad = user.post(
        user.url("rules"), json={"pattern": "(", "match": "regex", "category_id": food["id"]}
    )
    assert bad.status_code == 422 and "regular expression" in bad.json["message"]
    theirs = other_user.category(name="Theirs")
    assert (
        user.post(user.url("rules"), json={"pattern": "x", "category_id": theirs["id"]}).status_code
        == 404
    )
    assert other_user.get(f"/users/{other_user.id}/rules/{created['id']}").status_code == 404
    assert len(user.get(user.url("rules")).json) == 1
    assert user.delete(url).status_code == 204
    assert user.get(url).status_code == 404


def test_rules_categorise_an_import(user):
    groceries = user.category(name="Groceries only")
    fuel = user.category(name="Fuel")
    rule(user, pattern="^shell", match="regex", field="description", category_id=fuel["id"])
    rule(user, pattern="whole foods", category_id=groceries["id"], max_amount="50.00")
    account = user.account(opening_balance="0.00")
    assert upload(user, account, sample("checking-us.csv")).json["added"] == 480
    rows = listed(user)
    by_category = {}
    for row in rows:
        by_category.setdefault(row["category_id"], []).append(row)
    assert by_category[fuel["id"]]
    assert all(row["description"].startswith("Shell") for row in by_category[fuel["id"]])
    assert all(
        "Whole Foods" in row["description"] and float(row["amount"]) <= 50
        for row in by_category[groceries["id"]]
    )
    whole_foods = [r for r in rows if "Whole Foods" in r["description"]]
    assert whole_foods
    for row in whole_foods:
        expected = groceries["id"] if float(row["amount"]) <= 50 else None
        assert row["category_id"] == expected, row


def test_apply_rules_on_create_only_when_asked(user):
    food = user.category(name="Coffee")
    rule(user, pattern="coffee", category_id=food["id"])
    account = user.account()
    url = user.url("transactions")
    body = {"account_id": account["id"], "type": "expense", "amount": "3.00", "payee": "Coffee Co"}
    assert user.post(url, json=body).json["category_id"] is None
    asked = user.post(url + "?apply_rules=true", json=body)
    assert asked.status_code == 201
    assert asked.json["category_id"] == food["id"]


def test_apply_to_a_date_range(user):
    food = user.category(name="Snacks")
    other = user.category(name="Other")
    account = user.account()
    inside = user.transaction(account, description="Snack bar", date="2025-03-10")
    outside = user.transaction(account, description="Snack bar", date="2025-05-10")
    kept = user.transaction(
        account, description="Snack bar", date="2025-03-11", category_id=other["id"]
    )
    rule(user, pattern="snack", category_id=food["id"])
    response = user.post(
        user.url("rules") + "apply", json={"start_date": "2025-03-01", "end_date": "2025-03-31"}
    )
    assert response.status_code == 200, response.json
    assert response.json == {"categorised": 1}
    get = lambda txn: user.get(user.url("transactions", txn["id"])).json["category_id"]  # noqa: E731
    assert (get(inside), get(outside), get(kept)) == (food["id"], None, other["id"])
    bad = user.post(
        user.url("rules") + "apply", json={"start_date": "2025-04-01", "end_date": "2025-03-01"}
    )
    assert bad.status_code == 422


def test_deleting_the_category_deletes_its_rules(user):
    food = user.category(name="Gone")
    created = rule(user, pattern="x", category_id=food["id"])
    assert user.delete(f"/categories/{food['id']}").status_code == 204
    assert user.get(user.url("rules", created["id"])).status_code == 404
