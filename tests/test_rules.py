"""Categorisation rules: the resource, and their use on import, on create and on demand."""

from __future__ import annotations

import pytest

from app.imports import service as imports_service
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
    assert response.json == {"categorised": 1, "tagged": 0}
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


def tags_of(user, txn) -> list[str]:
    return user.get(user.url("transactions", txn["id"])).json["tags"]


def test_a_rule_may_give_tags_beside_or_instead_of_a_category(user):
    food = user.category(name="Coffee shops")
    both = rule(user, pattern="cafe", category_id=food["id"], tags=[" coffee ", "coffee", "out"])
    assert (both["category_id"], both["tags"]) == (food["id"], ["coffee", "out"])
    only_tags = rule(user, pattern="starbucks", tags=["chain"])
    assert only_tags["category_id"] is None and only_tags["tags"] == ["chain"]
    url = user.url("rules", only_tags["id"])
    # A rule that would set nothing is refused, on create and on change.
    nothing = user.post(user.url("rules"), json={"pattern": "x"})
    assert nothing.status_code == 422 and nothing.json["errors"]["json"] == {
        "category_id": ["A rule gives a category, tags, or both."]
    }
    assert user.patch(url, json={"tags": []}).status_code == 422
    assert user.patch(url, json={"tags": ["chain", "franchise"]}).json["tags"] == [
        "chain",
        "franchise",
    ]
    assert (
        user.patch(user.url("rules", both["id"]), json={"category_id": None}).json["category_id"]
        is None
    )
    for bad in (
        [""],
        ["   "],
        ["x" * 51],
        [" " + "x" * 50],
        ["a\nb"],
        [str(i) for i in range(21)],
        "coffee",
        [1],
    ):
        response = user.post(user.url("rules"), json={"pattern": "y", "tags": bad})
        assert response.status_code == 422, bad
    assert user.get(url).json["tags"] == ["chain", "franchise"]


@pytest.mark.parametrize("batch", [None, 7], ids=["one batch", "batches of 7"])
def test_tags_on_import_add_to_every_matching_row_categorised_or_not(user, monkeypatch, batch):
    if batch:  # the import builds, categorises, posts and tags its rows a batch at a time
        monkeypatch.setattr(imports_service, "POST_BATCH", batch)
    fuel = user.category(name="Fuel")
    rule(user, pattern="^shell", match="regex", field="description", category_id=fuel["id"])
    rule(user, pattern="shell", tags=["car"], priority=200)  # tags only, after the category
    rule(user, pattern="whole foods", tags=["groceries", "car"], max_amount="50.00")
    account = user.account(opening_balance="0.00")
    assert upload(user, account, sample("checking-us.csv")).json["added"] == 480
    again = upload(user, account, sample("checking-us.csv")).json
    assert (again["added"], again["duplicates"]) == (0, 480)
    rows = listed(user)
    assert len(rows) == 480
    shell = [r for r in rows if r["description"].startswith("Shell")]
    assert shell and all(r["category_id"] == fuel["id"] and r["tags"] == ["car"] for r in shell)
    for row in rows:
        if "Whole Foods" in row["description"]:
            small = float(row["amount"]) <= 50
            assert row["tags"] == (["car", "groceries"] if small else []), row
        elif not row["description"].startswith("Shell"):
            assert row["tags"] == [], row
    # The tag filter finds them: the rows were tagged in the database, not only in the answer.
    assert len(listed(user, tag="car")) == len(shell) + len(
        [r for r in rows if "Whole Foods" in r["description"] and float(r["amount"]) <= 50]
    )


def test_apply_rules_on_create_adds_tags_even_with_a_category(user):
    mine = user.category(name="Mine")
    theirs = user.category(name="Rule's")
    rule(user, pattern="coffee", category_id=theirs["id"], tags=["coffee"])
    account = user.account()
    url = user.url("transactions") + "?apply_rules=true"
    body = {"account_id": account["id"], "type": "expense", "amount": "3.00", "payee": "Coffee Co"}
    given = user.post(url, json={**body, "category_id": mine["id"], "tags": ["work"]})
    assert given.status_code == 201, given.json
    assert (given.json["category_id"], given.json["tags"]) == (mine["id"], ["coffee", "work"])
    split = user.post(
        url,
        json={
            **body,
            "splits": [
                {"category_id": mine["id"], "amount": "1.00"},
                {"category_id": None, "amount": "2.00"},
            ],
        },
    )
    assert split.status_code == 201, split.json
    assert (split.json["category_id"], split.json["tags"]) == (None, ["coffee"])
    # At most 20 tags: the transaction's own first, the rules' after.
    own = [f"t{i:02}" for i in range(20)]
    full = user.post(url, json={**body, "tags": own})
    assert full.status_code == 201 and full.json["tags"] == own


def test_apply_to_a_range_tags_only_the_uncategorised(user):
    snacks = user.category(name="Snacks")
    account = user.account()
    loose = user.transaction(account, description="Snack bar", date="2025-03-10")
    tagged_already = user.transaction(
        account, description="Snack bar", date="2025-03-12", tags=["sweet"]
    )
    categorised = user.transaction(
        account, description="Snack bar", date="2025-03-11", category_id=snacks["id"]
    )
    rule(user, pattern="snack", tags=["sweet", "treat"])
    apply_url = user.url("rules") + "apply"
    response = user.post(apply_url, json={"start_date": "2025-03-01"})
    assert response.status_code == 200, response.json
    assert response.json == {"categorised": 0, "tagged": 2}
    assert tags_of(user, loose) == ["sweet", "treat"]
    assert tags_of(user, tagged_already) == ["sweet", "treat"]
    assert tags_of(user, categorised) == []
    # Applying again changes nothing: a tag is there once.
    assert user.post(apply_url, json={}).json == {"categorised": 0, "tagged": 0}
    assert tags_of(user, loose) == ["sweet", "treat"]


def test_apply_to_a_range_leaves_split_transactions_uncategorised(user):
    food = user.category(name="Food split")
    account = user.account()
    split = user.transaction(
        account,
        amount="3.00",
        description="Snack bar",
        splits=[{"category_id": food["id"], "amount": "1.00"}, {"amount": "2.00"}],
    )
    rule(user, pattern="snack", category_id=food["id"])
    assert user.post(user.url("rules") + "apply", json={}).json == {"categorised": 0, "tagged": 0}
    assert user.get(user.url("transactions", split["id"])).json["category_id"] is None
