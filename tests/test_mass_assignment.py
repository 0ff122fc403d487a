"""OWASP API3 (object property level): read-only properties cannot be written through a body,
and the password hash is never shown.

`id`, `owner_id`, `user_id`, `created_at`, `updated_at`, `password_hash` (and `balance` once an
account exists) in any JSON body are a 422 naming the field, and nothing changes. The one form
endpoint, `POST /token`, ignores unknown parameters as RFC 6749 §3.2 requires (tested below).
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.extensions import db
from tests.conftest import PASSWORD

READ_ONLY = ["id", "owner_id", "user_id", "created_at", "updated_at", "password_hash"]
VALUES = {
    "id": 1,
    "owner_id": 1,
    "user_id": 1,
    "created_at": "2020-01-01T00:00:00Z",
    "updated_at": "2020-01-01T00:00:00Z",
    "password_hash": "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
    "balance": "1000000.00",
}

#: Every endpoint with a JSON body: (name, method, path template, a valid body).
WRITES = [
    ("register", "POST", "/users/", {"username": "newcomer", "password": "long enough pw"}),
    ("update-me", "PATCH", "/users/me/", {"email": "a@example.com"}),
    (
        "change-password",
        "POST",
        "/users/me/password",
        {"current_password": PASSWORD, "new_password": "another long password"},
    ),
    ("delete-me", "DELETE", "/users/me/", {"password": PASSWORD}),
    ("create-account", "POST", "/users/{user}/accounts/", {"name": "New"}),
    ("put-account", "PUT", "/users/{user}/accounts/{account}", {"name": "Renamed"}),
    ("patch-account", "PATCH", "/users/{user}/accounts/{account}", {"name": "Renamed"}),
    ("create-category", "POST", "/categories/", {"name": "New"}),
    ("put-category", "PUT", "/categories/{category}", {"name": "Renamed"}),
    ("patch-category", "PATCH", "/categories/{category}", {"name": "Renamed"}),
    (
        "create-transaction",
        "POST",
        "/users/{user}/transactions/",
        {"account_id": "{account}", "type": "expense", "amount": "1.00"},
    ),
    ("put-transaction", "PUT", "/users/{user}/transactions/{transaction}", {"amount": "2.00"}),
    ("patch-transaction", "PATCH", "/users/{user}/transactions/{transaction}", {"amount": "2.00"}),
]

CASES = [
    pytest.param(method, path, body, field, id=f"{name}-{field}")
    for name, method, path, body in WRITES
    for field in READ_ONLY + ([] if name == "create-account" else ["balance"])
]


@pytest.fixture
def world(user, account):
    category = user.category(name="Weekly market")
    transaction = user.transaction(account, amount="10.00", category_id=category["id"])
    ids = {
        "user": user.id,
        "account": account["id"],
        "category": category["id"],
        "transaction": transaction["id"],
    }
    return user, ids


def fill(value, ids):
    if isinstance(value, dict):
        return {key: fill(item, ids) for key, item in value.items()}
    if isinstance(value, str) and re.fullmatch(r"\{\w+\}", value):
        return ids[value[1:-1]]
    return value.format(**ids) if isinstance(value, str) else value


def everything(app) -> list:
    """Every row of every table, to prove that a refused request changed nothing."""
    with app.app_context():
        return [
            db.session.execute(sa.text(f"SELECT * FROM {table} ORDER BY 1")).all()  # noqa: S608
            for table in ("users", "accounts", "categories", "transactions", "revoked_tokens")
        ]


@pytest.mark.parametrize(("method", "path", "body", "field"), CASES)
def test_read_only_property_in_a_body_is_422_and_changes_nothing(
    app, client, world, method, path, body, field
):
    user, ids = world
    before = everything(app)
    request_body = fill(body, ids) | {field: VALUES[field]}
    response = client.open(fill(path, ids), method=method, json=request_body, headers=user.headers)
    assert response.status_code == 422, response.json
    assert response.json["code"] == 422
    assert field in response.json["errors"]["json"]
    assert everything(app) == before


def test_the_valid_bodies_above_are_accepted(client, world):
    """The control for the table: without the read-only field each body is fine."""
    user, ids = world
    for name, method, path, body in WRITES:
        if name in ("delete-me", "change-password"):
            continue  # they would end the session; covered in test_token_lifecycle.py
        response = client.open(
            fill(path, ids), method=method, json=fill(body, ids), headers=user.headers
        )
        assert response.status_code in (200, 201), (name, response.json)


def test_balance_is_accepted_only_when_opening_an_account(user):
    """API.md: `balance` on POST is the original API's name for the opening balance."""
    account = user.account(balance="42.00")
    assert account["balance"] == account["opening_balance"] == "42.00"


def test_token_form_ignores_extra_parameters_and_sets_nothing(app, client, user):
    before = everything(app)
    response = client.post(
        "/token",
        data={
            "username": user.username,
            "password": PASSWORD,
            "password_hash": VALUES["password_hash"],
            "id": "1",
        },
    )
    assert response.status_code == 200
    after = everything(app)
    assert after[0] == before[0]  # the users table, password hash included


# -- password_hash is never shown -------------------------------------------------------------


def stored_hashes(app) -> list[str]:
    with app.app_context():
        return list(db.session.execute(sa.text("SELECT password_hash FROM users")).scalars())


RANGE = "start_date=2000-01-01&end_date=2100-01-01"


def test_password_hash_never_appears_in_any_response(app, client, make_user):
    """Walk every route of the app, success and failure, and read every body.

    (Bodies that send `password_hash` get it echoed back as an unknown field: the table above.)
    """
    user = make_user("exposure", password=PASSWORD)
    account = user.account(name="Main", opening_balance="5.00")
    other = user.account(name="Other")
    category = user.category(name="Food")
    txn = user.transaction(account, amount="1.00", category_id=category["id"])
    rate = user.post(
        user.url("rates"), json={"base": "USD", "quote": "EUR", "date": "2026-11-30", "rate": "1"}
    ).json
    ids = {
        "user": user.id,
        "account": account["id"],
        "category": category["id"],
        "transaction": txn["id"],
        "rate": rate["id"],
    }
    refresh = {"Authorization": f"Bearer {user.refresh_token}"}
    requests = [
        ("POST", "/users/", {"username": "someone", "password": "long enough pw"}, None),
        ("POST", "/users/", {"username": "exposure", "password": "long enough pw"}, None),
        ("GET", "/users/me/", None, None),
        ("PATCH", "/users/me/", {"email": "e@example.com"}, None),
        (
            "POST",
            "/users/me/password",
            {"current_password": "wrong", "new_password": "x" * 9},
            None,
        ),
        ("DELETE", "/users/me/", {"password": "wrong"}, None),
        ("GET", "/users/{user}/accounts/", None, None),
        ("POST", "/users/{user}/accounts/", {"name": "Third"}, None),
        ("GET", "/users/{user}/accounts/{account}", None, None),
        ("PUT", "/users/{user}/accounts/{account}", {"name": "Main 2"}, None),
        ("PATCH", "/users/{user}/accounts/{account}", {"archived": False}, None),
        ("GET", "/categories/", None, None),
        ("POST", "/categories/", {"name": "Rent"}, None),
        ("GET", "/categories/{category}", None, None),
        ("PUT", "/categories/{category}", {"name": "Food 2"}, None),
        ("PATCH", "/categories/{category}", {"kind": "expense"}, None),
        ("GET", "/users/{user}/transactions/", None, None),
        (
            "POST",
            "/users/{user}/transactions/",
            {"account_id": "{account}", "type": "income", "amount": "3.00"},
            None,
        ),
        ("GET", "/users/{user}/transactions/{transaction}", None, None),
        ("PUT", "/users/{user}/transactions/{transaction}", {"amount": "2.00"}, None),
        ("PATCH", "/users/{user}/transactions/{transaction}", {"payee": "Shop"}, None),
        ("GET", "/users/{user}/transactions/export", None, None),
        ("POST", "/users/{user}/accounts/{account}/import", {}, None),
        ("GET", "/users/me/export", None, None),
        ("POST", "/users/{user}/rules/", {"pattern": "x", "category_id": "{category}"}, None),
        ("GET", "/users/{user}/rules/", None, None),
        ("GET", "/users/{user}/rules/1", None, None),
        ("PUT", "/users/{user}/rules/1", {"pattern": "y"}, None),
        ("PATCH", "/users/{user}/rules/1", {"priority": 1}, None),
        ("POST", "/users/{user}/rules/apply", {}, None),
        ("DELETE", "/users/{user}/rules/1", None, None),
        ("POST", "/users/me/import", {}, None),
        (
            "POST",
            "/users/{user}/accounts/{account}/reconcile",
            {"statement_date": "2026-12-31", "closing_balance": "5.00"},
            None,
        ),
        ("GET", "/users/{user}/rates/", None, None),
        (
            "POST",
            "/users/{user}/rates/",
            {"base": "EUR", "quote": "USD", "date": "2026-11-30", "rate": "1.08"},
            None,
        ),
        ("GET", "/users/{user}/rates/{rate}", None, None),
        ("PUT", "/users/{user}/rates/{rate}", {"rate": "1.1"}, None),
        ("PATCH", "/users/{user}/rates/{rate}", {"rate": "1.2"}, None),
        ("DELETE", "/users/{user}/rates/{rate}", None, None),
        ("GET", "/users/999/accounts/", None, None),
        *(
            ("GET", f"/users/{{user}}/reports/{report}?{RANGE}", None, None)
            for report in ("summary", "cashflow", "net-worth", "top-payees")
        ),
        ("GET", "/users/{user}/budgets/", None, None),
        (
            "POST",
            "/users/{user}/budgets/",
            {
                "category_id": "{category}",
                "currency": "USD",
                "amount": "5",
                "start_month": "2026-01",
            },
            None,
        ),
        ("GET", "/users/{user}/budgets/1", None, None),
        ("PUT", "/users/{user}/budgets/1", {"amount": "6"}, None),
        ("PATCH", "/users/{user}/budgets/1", {"rollover": True}, None),
        ("GET", "/users/{user}/budgets/status?month=2026-01", None, None),
        ("DELETE", "/users/{user}/budgets/1", None, None),
        ("GET", "/users/{user}/recurring/", None, None),
        (
            "POST",
            "/users/{user}/recurring/",
            {
                "account_id": "{account}",
                "type": "expense",
                "amount": "1.00",
                "unit": "month",
                "start_date": "2026-01-31",
            },
            None,
        ),
        ("GET", "/users/{user}/recurring/1", None, None),
        ("PUT", "/users/{user}/recurring/1", {"amount": "2.00"}, None),
        ("PATCH", "/users/{user}/recurring/1", {"payee": "Shop"}, None),
        ("GET", "/users/{user}/recurring/1/upcoming", None, None),
        ("POST", "/users/{user}/recurring/1/post-due", None, None),
        ("DELETE", "/users/{user}/recurring/1", None, None),
        ("GET", "/openapi.json", None, None),
        ("GET", "/", None, None),
        ("GET", "/healthz", None, None),
        ("GET", "/readyz", None, None),
        ("POST", "/token", None, {"username": "exposure", "password": PASSWORD}),
        ("POST", "/token", None, {"username": "exposure", "password": "wrong"}),
        ("POST", "/token/refresh", None, "refresh"),
        ("DELETE", "/users/{user}/transactions/{transaction}", None, None),
        ("DELETE", "/categories/{category}", None, None),
        ("DELETE", f"/users/{{user}}/accounts/{other['id']}", None, None),
        ("POST", "/token/revoke", None, None),
        ("GET", "/users/me/", None, None),  # now revoked: a 401
    ]
    seen = set()
    hashes = stored_hashes(app)
    for method, path, body, extra in requests:
        kwargs = {"headers": refresh if extra == "refresh" else user.headers}
        if body is not None:
            kwargs["json"] = fill(body, ids)
        if isinstance(extra, dict):
            kwargs["data"] = extra
        response = client.open(fill(path, ids), method=method, **kwargs)
        text = response.get_data(as_text=True)
        assert "password_hash" not in text or path == "/openapi.json", (method, path, text)
        assert "$argon2" not in text, (method, path)
        for stored in hashes:
            assert stored not in text, (method, path)
        rule = (
            client.application.url_map.bind("localhost")
            .match(fill(path, ids).split("?")[0], method=method, return_rule=True)[0]
            .rule
        )
        seen.add((rule, method))
    routes = {
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        if not re.match(r"^/(static|docs-assets|swagger-ui|redoc|metrics)", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes <= seen, f"routes not walked: {sorted(routes - seen)}"


def test_openapi_document_never_offers_password_hash(client):
    spec = client.get("/openapi.json").json
    assert "password_hash" not in str(spec)
