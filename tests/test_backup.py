"""Backup (GET /users/me/export) and restore (POST /users/me/import)."""

from __future__ import annotations

import io
import json

import sqlalchemy as sa

from app.extensions import db
from tests.test_imports import listed, sample, upload


def restore(user, data: bytes):
    return user.client.post(
        "/users/me/import",
        data={"file": (io.BytesIO(data), "backup.json")},
        headers=user.headers,
        content_type="multipart/form-data",
    )


def everything(user) -> dict:
    """What a user has, without ids that a restore renumbers."""
    accounts = user.get(user.url("accounts") + "?limit=1000").json
    names = {a["id"]: a["name"] for a in accounts}
    categories = user.get("/categories/?limit=1000").json
    category_names = {c["id"]: c["name"] for c in categories}
    rules = user.get(user.url("rules")).json
    return {
        "rules": [
            (
                category_names.get(r["category_id"]),
                tuple(r["tags"]),
                r["pattern"],
                r["field"],
                r["match"],
                r["min_amount"],
                r["max_amount"],
                r["priority"],
            )
            for r in rules
        ],
        "accounts": sorted(
            (a["name"], a["type"], a["currency"], a["opening_balance"], a["balance"], a["archived"])
            for a in accounts
        ),
        "categories": sorted(
            (c["name"], c["kind"], category_names.get(c["parent_id"], "")) for c in categories
        ),
        "transactions": sorted(
            tuple(
                "" if value is None else value
                for value in (
                    names[t["account_id"]],
                    names.get(t["transfer_account_id"]),
                    category_names.get(t["category_id"]),
                    t["type"],
                    t["amount"],
                    t["currency"],
                    t["date"],
                    t["description"],
                    t["payee"],
                )
            )
            for t in listed(user)
        ),
    }


def make_data(user):
    checking = user.account(name="Checking", opening_balance="100.00")
    savings = user.account(name="Savings", currency="USD", type="savings")
    euro = user.account(name="Euro", currency="EUR", opening_balance="5.00")
    parent = user.category(name="Home")
    child = user.category(name="Repairs", parent_id=parent["id"])
    user.transaction(checking, amount="25.00", category_id=child["id"], payee='Plumber, "Bob"')
    user.transaction(checking, amount="500.00", type="income", date="2025-01-31")
    user.transaction(checking, amount="40.00", type="transfer", transfer_account_id=savings["id"])
    assert upload(user, euro, sample("giro-de.csv")).json["added"] == 120
    user.patch(user.url("accounts", savings["id"]), json={"archived": True})
    rule = {"pattern": "plumb", "category_id": child["id"], "min_amount": "10", "priority": 3}
    assert user.post(user.url("rules"), json=rule).status_code == 201
    tags_only = {"pattern": "rewe", "tags": ["groceries", "de"], "priority": 4}
    assert user.post(user.url("rules"), json=tags_only).status_code == 201


def test_backup_restores_exactly_into_a_new_user(user, make_user):
    make_data(user)
    response = user.get("/users/me/export")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    document = json.loads(response.get_data())
    assert document["format"] == "finance-tracker-backup" and document["version"] == 2
    assert len(document["transactions"]) == 123

    fresh = make_user("restorer")
    restored = restore(fresh, response.get_data())
    assert restored.status_code == 201, restored.json
    assert restored.json["transactions"] == 123
    assert restored.json["accounts"] == 3
    assert restored.json["rules"] == 2
    assert everything(fresh) == everything(user)
    # Imported rows keep their import ids: re-importing the bank file adds nothing.
    euro = next(a for a in fresh.get(fresh.url("accounts")).json if a["name"] == "Euro")
    assert upload(fresh, euro, sample("giro-de.csv")).json["duplicates"] == 120


def test_restore_into_a_user_with_data_is_a_409_and_changes_nothing(user, make_user):
    make_data(user)
    body = user.get("/users/me/export").get_data()
    other = make_user("busy")
    other.account(name="Mine")
    before = everything(other)
    response = restore(other, body)
    assert response.status_code == 409
    assert response.json["code"] == 409
    assert everything(other) == before
    own_category = make_user("categorised")
    own_category.category(name="My own")
    assert restore(own_category, body).status_code == 409


def test_inconsistent_or_broken_backups_are_refused_whole(user, make_user):
    make_data(user)
    document = json.loads(user.get("/users/me/export").get_data())
    fresh = make_user("fresh")
    before = everything(fresh)

    edited = json.loads(json.dumps(document))
    edited["transactions"][0]["amount"] = "999.00"  # no longer adds up to the balances
    response = restore(fresh, json.dumps(edited).encode())
    assert response.status_code == 422
    assert "inconsistent" in response.json["message"]

    dangling = json.loads(json.dumps(document))
    dangling["transactions"][0]["account_id"] = 999999
    assert restore(fresh, json.dumps(dangling).encode()).status_code == 422

    bad_amount = json.loads(json.dumps(document))
    bad_amount["transactions"][0]["amount"] = "1.005"
    assert restore(fresh, json.dumps(bad_amount).encode()).status_code == 422

    for garbage in (
        b"",
        b"\xff\xfe\x00garbage",
        b"[1, 2]",
        b'{"format": "other"}',
        b"{",
        b"%PDF-1.4",
    ):
        response = restore(fresh, garbage)
        assert response.status_code == 422, (garbage, response.json)
        assert response.json["code"] == 422
    assert everything(fresh) == before


def test_statuses_cross_currency_transfers_and_reconciled_balances_survive(user, make_user):
    usd = user.account(name="USD cash", opening_balance="100.00")
    eur = user.account(name="EUR cash", currency="EUR")
    user.transaction(usd, amount="10.00", status="cleared")
    transfer = {"type": "transfer", "transfer_account_id": eur["id"], "transfer_amount": "9.20"}
    user.transaction(usd, amount="10.00", **transfer)
    reconcile = user.post(
        user.url("accounts", usd["id"]) + "/reconcile",
        json={"statement_date": "2099-12-31", "closing_balance": "90.00"},
    )
    assert reconcile.status_code == 200, reconcile.json
    body = user.get("/users/me/export").get_data()
    fresh = make_user("statuses")
    assert restore(fresh, body).status_code == 201
    accounts = {a["name"]: a for a in fresh.get(fresh.url("accounts")).json}
    mine = {a["name"]: a for a in user.get(user.url("accounts")).json}
    for name in ("USD cash", "EUR cash"):
        for field in ("balance", "cleared_balance", "reconciled_balance"):
            assert accounts[name][field] == mine[name][field], (name, field)
    moved = [t for t in listed(fresh) if t["type"] == "transfer"][0]
    assert (moved["transfer_amount"], moved["transfer_currency"]) == ("9.20", "EUR")


def canonical(document: dict) -> dict:
    """The document with each id replaced by its row's position in its list (a restore
    renumbers ids but keeps the order), and without the export time."""
    doc = json.loads(json.dumps(document))
    doc.pop("exported_at")
    index = {
        name: {item["id"]: position for position, item in enumerate(doc[name])}
        for name in ("accounts", "categories", "transactions", "recurring")
    }

    def renumber(item: dict, field: str, collection: str) -> None:
        if item.get(field) is not None:
            item[field] = index[collection][item[field]]

    for name in ("accounts", "categories", "transactions", "recurring", "budgets", "rules"):
        for item in doc[name]:
            item.pop("id")
            renumber(item, "account_id", "accounts")
            renumber(item, "transfer_account_id", "accounts")
            renumber(item, "category_id", "categories")
            renumber(item, "parent_id", "categories")
            renumber(item, "recurring_id", "recurring")
            for split in item.get("splits", ()):
                renumber(split, "category_id", "categories")
            for occurrence in item.get("occurrences", ()):
                renumber(occurrence, "transaction_id", "transactions")
    return doc


def make_everything(user) -> dict:
    """Data in every collection a backup holds."""
    make_data(user)
    accounts = {a["name"]: a for a in user.get(user.url("accounts")).json}
    checking = accounts["Checking"]
    categories = {c["name"]: c for c in user.get("/categories/?limit=1000").json}
    home, repairs = categories["Home"], categories["Repairs"]
    split = user.transaction(
        checking,
        amount="30.00",
        description="Hardware store",
        splits=[
            {"category_id": repairs["id"], "amount": "20.00", "note": "Paint"},
            {"category_id": None, "amount": "10.00"},
        ],
        tags=["diy", "house"],
    )
    assert split["tags"] == ["diy", "house"]
    for budget in (
        {
            "category_id": home["id"],
            "currency": "USD",
            "amount": "250.00",
            "start_month": "2025-01",
        },
        {
            "category_id": repairs["id"],
            "currency": "EUR",
            "amount": "40.50",
            "start_month": "2025-03",
            "recurring": False,
            "rollover": True,
        },
    ):
        response = user.post(user.url("budgets"), json=budget)
        assert response.status_code == 201, response.json
    rent = user.post(
        user.url("recurring"),
        json={
            "account_id": checking["id"],
            "type": "expense",
            "amount": "700.00",
            "category_id": home["id"],
            "description": "Rent",
            "unit": "month",
            "start_date": "2025-01-31",
            "count": 3,
        },
    )
    assert rent.status_code == 201, rent.json
    posted = user.post(user.url("recurring", rent.json["id"]) + "/post-due")
    assert posted.status_code == 200, posted.json
    assert len(posted.json["posted"]) == 3
    # A deleted occurrence stays posted: it is not posted again, before or after a restore.
    deleted = posted.json["posted"][1]
    assert user.delete(user.url("transactions", deleted["id"])).status_code == 204
    later = user.post(
        user.url("recurring"),
        json={
            "account_id": checking["id"],
            "type": "income",
            "amount": "1.00",
            "unit": "week",
            "every": 2,
            "start_date": "2199-01-01",
            "end_date": "2199-12-31",
            "payee": "Future",
        },
    )
    assert later.status_code == 201, later.json
    for rate in (
        {"base": "EUR", "quote": "USD", "date": "2025-01-01", "rate": "1.0852"},
        {"base": "EUR", "quote": "USD", "date": "2025-02-01", "rate": "1.04"},
        {"base": "USD", "quote": "JPY", "date": "2025-01-01", "rate": "151.123456789"},
    ):
        response = user.post(user.url("rates"), json=rate)
        assert response.status_code == 201, response.json
    assert user.patch("/users/me/", json={"base_currency": "EUR"}).status_code == 200
    return {"rent": rent.json}


def test_the_backup_is_everything_and_restores_to_the_same_document(user, make_user):
    made = make_everything(user)
    original = json.loads(user.get("/users/me/export").get_data())
    assert original["version"] == 2 and original["base_currency"] == "EUR"
    assert len(original["budgets"]) == 2 and len(original["rates"]) == 3
    assert [len(s["occurrences"]) for s in original["recurring"]] == [3, 0]
    assert [o["transaction_id"] is None for o in original["recurring"][0]["occurrences"]] == [
        False,
        True,
        False,
    ]
    assert sum(1 for t in original["transactions"] if t["recurring_id"]) == 2
    split = next(t for t in original["transactions"] if t["splits"])
    assert split["tags"] == ["diy", "house"] and len(split["splits"]) == 2
    assert {tuple(r["tags"]) for r in original["rules"]} == {(), ("de", "groceries")}

    fresh = make_user("everything")
    restored = restore(fresh, json.dumps(original).encode())
    assert restored.status_code == 201, restored.json
    assert restored.json == {
        "accounts": 3,
        "categories": len(original["categories"]),
        "transactions": len(original["transactions"]),
        "rules": 2,
        "budgets": 2,
        "recurring": 2,
        "rates": 3,
    }
    again = json.loads(fresh.get("/users/me/export").get_data())
    assert canonical(again) == canonical(original)
    assert everything(fresh) == everything(user)
    # Balances, through the accounts API as well as the document.
    mine = {a["name"]: a for a in user.get(user.url("accounts")).json}
    theirs = {a["name"]: a for a in fresh.get(fresh.url("accounts")).json}
    for name, account in mine.items():
        for field in ("balance", "cleared_balance", "reconciled_balance", "opening_balance"):
            assert theirs[name][field] == account[field], (name, field)
    # The restored schedule posts nothing again: neither its posted dates nor the deleted one.
    rent = next(s for s in fresh.get(fresh.url("recurring")).json if s["description"] == "Rent")
    assert rent["amount"] == made["rent"]["amount"]
    posted = fresh.post(fresh.url("recurring", rent["id"]) + "/post-due")
    assert posted.status_code == 200 and posted.json["posted"] == []
    assert fresh.get(fresh.url("recurring", rent["id"]) + "/upcoming").json["occurrences"] == []
    linked = listed(fresh)
    assert sorted(t["date"] for t in linked if t["recurring_id"] == rent["id"]) == [
        "2025-01-31",
        "2025-03-31",
    ]
    assert fresh.get("/users/me/").json["base_currency"] == "EUR"


def test_a_version_1_document_still_restores(user, make_user):
    make_data(user)
    document = json.loads(user.get("/users/me/export").get_data())
    document["version"] = 1
    for name in ("budgets", "recurring", "rates", "base_currency"):
        document.pop(name)
    for item in document["transactions"]:
        for name in ("recurring_id", "splits", "tags"):
            item.pop(name)
    fresh = make_user("version1")
    response = restore(fresh, json.dumps(document).encode())
    assert response.status_code == 201, response.json
    assert everything(fresh) == everything(user)


def test_a_user_with_budgets_schedules_or_rates_only_gets_a_409(user, make_user):
    make_data(user)
    body = user.get("/users/me/export").get_data()
    budgeted = make_user("budgeted")
    groceries = next(c for c in budgeted.get("/categories/").json if c["name"] == "Groceries")
    budget = {
        "category_id": groceries["id"],
        "currency": "USD",
        "amount": "1.00",
        "start_month": "2025-01",
    }
    assert budgeted.post(budgeted.url("budgets"), json=budget).status_code == 201
    assert restore(budgeted, body).status_code == 409
    assert len(budgeted.get(budgeted.url("budgets")).json) == 1
    rated = make_user("rated")
    rate = {"base": "EUR", "quote": "USD", "date": "2025-01-01", "rate": "1.1"}
    assert rated.post(rated.url("rates"), json=rate).status_code == 201
    assert restore(rated, body).status_code == 409
    assert rated.get(rated.url("accounts")).json == []


def test_broken_parts_of_a_version_2_document_write_nothing(user, make_user):
    make_everything(user)
    document = json.loads(user.get("/users/me/export").get_data())
    fresh = make_user("broken2")
    before = everything(fresh)
    income = next(c["id"] for c in document["categories"] if c["kind"] == "income")
    split = next(i for i, t in enumerate(document["transactions"]) if t["splits"])

    def edited(change) -> bytes:
        copy = json.loads(json.dumps(document))
        change(copy)
        return json.dumps(copy).encode()

    cases = {
        "split sum": lambda d: d["transactions"][split]["splits"][0].update(amount="19.99"),
        "split category": lambda d: d["transactions"][split]["splits"][0].update(category_id=999),
        "tag": lambda d: d["transactions"][0].update(tags=[" "]),
        "schedule account": lambda d: d["recurring"][0].update(account_id=999),
        "schedule currency": lambda d: d["recurring"][0].update(currency="EUR"),
        "occurrence link": lambda d: d["recurring"][0]["occurrences"][0].update(
            transaction_id=999999
        ),
        "occurrence twice": lambda d: d["recurring"][0]["occurrences"].append(
            d["recurring"][0]["occurrences"][0]
        ),
        "transaction schedule": lambda d: d["transactions"][0].update(recurring_id=999),
        "budget income": lambda d: d["budgets"][0].update(category_id=income),
        "budget twice": lambda d: d["budgets"].append(d["budgets"][0]),
        "budget digits": lambda d: d["budgets"][0].update(amount="1.001"),
        "rate twice": lambda d: d["rates"].append(d["rates"][0]),
        "rate same pair": lambda d: d["rates"][0].update(quote=d["rates"][0]["base"]),
        "rate zero": lambda d: d["rates"][0].update(rate="0"),
        "version": lambda d: d.update(version=3),
        "base currency": lambda d: d.update(base_currency="XXY"),
    }
    for name, change in cases.items():
        response = restore(fresh, edited(change))
        assert response.status_code == 422, (name, response.json)
        assert response.json["code"] == 422
    assert everything(fresh) == before
    assert fresh.get(fresh.url("budgets")).json == []
    assert fresh.get(fresh.url("recurring")).json == []
    assert fresh.get(fresh.url("rates")).json == []


def test_a_large_restore_refreshes_the_planner_statistics(app, user, make_user):
    make_data(user)
    with app.app_context():
        db.session.execute(sa.text("ANALYZE transactions"))  # the planner knows user's rows
        db.session.commit()
    document = user.get("/users/me/export").get_data()
    app.config["IMPORT_ANALYZE_ROWS"] = 5
    try:
        assert restore(make_user("restorer"), document).status_code == 201
    finally:
        app.config["IMPORT_ANALYZE_ROWS"] = 10_000
    with app.app_context():
        planned = db.session.scalar(
            sa.text("SELECT reltuples FROM pg_class WHERE relname = 'transactions'")
        )
        loaded = db.session.scalar(sa.text("SELECT count(*) FROM transactions"))
    assert planned == loaded == 2 * 123  # the restored rows counted, in the restore's transaction
