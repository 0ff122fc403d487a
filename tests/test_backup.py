"""Backup (GET /users/me/export) and restore (POST /users/me/import)."""

from __future__ import annotations

import io
import json

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
    assert document["format"] == "finance-tracker-backup" and document["version"] == 1
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
