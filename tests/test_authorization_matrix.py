"""OWASP API1 (object level) and API5 (function level): user B, with B's own valid token, tries
every route of the app on user A's ids.

The table below has an entry for every rule and method in `app.url_map` (docs and static
assets aside); `test_every_route_is_in_the_matrix` fails when a route is added without one, so
a new endpoint cannot ship untested. Expectations (API.md, Conventions):
- a path `user_id` that is not the caller's → 403;
- another user's account, category or transaction, by path or as a reference in a body
  (`account_id`, `transfer_account_id`, `category_id`, `parent_id`) → 404, exactly like a
  missing row;
- list filters naming A's rows find nothing;
- read-only fields naming A (`user_id`, `owner_id`, `id`) → 422.
Afterwards everything of A's reads back exactly as before.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import pytest

B_PASSWORD = "mallory's own passphrase"
A_PASSWORD = "correct horse battery"

#: Rules that serve documentation, files or Prometheus metrics (off in tests), not user data.
NOT_DATA = re.compile(r"^/(static|docs-assets)/|^/(openapi\.json|swagger-ui|redoc|metrics)$")
SKIPPED_METHODS = {"HEAD", "OPTIONS"}


@dataclass
class Case:
    """One request by B. Strings like "{a_acc}" alone become that id; others are formatted."""

    path: str
    status: int
    json: dict | None = None
    form: dict | None = None


ACCOUNT = "/users/<int:user_id>/accounts/<int:account_id>"
ACCOUNTS = "/users/<int:user_id>/accounts/"
CATEGORY = "/categories/<int:category_id>"
TRANSACTION = "/users/<int:user_id>/transactions/<int:transaction_id>"
TRANSACTIONS = "/users/<int:user_id>/transactions/"
IMPORT = "/users/<int:user_id>/accounts/<int:account_id>/import"
EXPORT = "/users/<int:user_id>/transactions/export"
RULES = "/users/<int:user_id>/rules/"
RULE = "/users/<int:user_id>/rules/<int:rule_id>"
#: Files for the upload cases, by name: a fresh stream for each request.
UPLOADS = {
    "statement": lambda: (io.BytesIO(b"Date,Description,Amount\n2025-01-02,B's,-1.00\n"), "s.csv"),
    "backup": lambda: (
        io.BytesIO(
            b'{"format": "finance-tracker-backup", "version": 1, "exported_at": "x",'
            b' "accounts": [], "categories": [], "transactions": []}'
        ),
        "backup.json",
    ),
}
RECONCILE = "/users/<int:user_id>/accounts/<int:account_id>/reconcile"
RATES = "/users/<int:user_id>/rates/"
RATE = "/users/<int:user_id>/rates/<int:rate_id>"
STATEMENT = {"statement_date": "2026-12-31", "closing_balance": "1000.00"}
RECURRING = "/users/<int:user_id>/recurring/<int:recurring_id>"
BUDGET = "/users/<int:user_id>/budgets/<int:budget_id>"
BUDGET_BODY = {
    "category_id": "{a_cat}",
    "currency": "USD",
    "amount": "1.00",
    "start_month": "2026-01",
}
RECURRING_BODY = {
    "account_id": "{a_acc}",
    "type": "expense",
    "amount": "1.00",
    "unit": "month",
    "start_date": "2026-01-31",
}

MATRIX: dict[tuple[str, str], list[Case]] = {
    # -- users --------------------------------------------------------------------------------
    ("/users/", "POST"): [
        Case("/users/", 409, json={"username": "{a_name}", "password": B_PASSWORD}),
        Case("/users/", 409, json={"username": "{a_name_upper}", "password": B_PASSWORD}),
        Case("/users/", 422, json={"username": "x-new", "password": B_PASSWORD, "id": "{a}"}),
    ],
    ("/users/me/", "GET"): [Case("/users/me/?user_id={a}", 422)],
    ("/users/me/", "PATCH"): [
        Case("/users/me/", 422, json={"id": "{a}", "email": "b@example.com"}),
        Case("/users/me/", 422, json={"user_id": "{a}"}),
        Case("/users/me/", 422, json={"username": "{a_name}"}),
    ],
    ("/users/me/", "DELETE"): [
        Case("/users/me/", 422, json={"password": B_PASSWORD, "user_id": "{a}"}),
        Case("/users/me/", 403, json={"password": A_PASSWORD}),
    ],
    ("/users/me/password", "POST"): [
        Case(
            "/users/me/password",
            403,
            json={"current_password": A_PASSWORD, "new_password": "a new passphrase"},
        ),
        Case(
            "/users/me/password",
            422,
            json={
                "current_password": B_PASSWORD,
                "new_password": "a new passphrase",
                "user_id": "{a}",
            },
        ),
    ],
    # -- accounts -----------------------------------------------------------------------------
    (ACCOUNTS, "GET"): [Case("/users/{a}/accounts/", 403)],
    (ACCOUNTS, "POST"): [
        Case("/users/{a}/accounts/", 403, json={"name": "Planted", "currency": "USD"}),
        Case("/users/{b}/accounts/", 422, json={"name": "Mine", "owner_id": "{a}"}),
        Case("/users/{b}/accounts/", 422, json={"name": "Mine", "user_id": "{a}"}),
    ],
    (ACCOUNT, "GET"): [
        Case("/users/{a}/accounts/{a_acc}", 403),
        Case("/users/{b}/accounts/{a_acc}", 404),
    ],
    (ACCOUNT, "PUT"): [
        Case("/users/{a}/accounts/{a_acc}", 403, json={"name": "Pwned"}),
        Case("/users/{b}/accounts/{a_acc}", 404, json={"name": "Pwned"}),
        Case("/users/{b}/accounts/{a_acc}", 404, json={"opening_balance": "0.00"}),
        Case("/users/{b}/accounts/{b_acc}", 422, json={"owner_id": "{a}"}),
    ],
    (ACCOUNT, "PATCH"): [
        Case("/users/{a}/accounts/{a_acc}", 403, json={"archived": True}),
        Case("/users/{b}/accounts/{a_acc}", 404, json={"archived": True}),
        Case("/users/{b}/accounts/{a_acc}", 404, json={"opening_balance": "1000000.00"}),
        Case("/users/{b}/accounts/{b_acc}", 422, json={"user_id": "{a}"}),
        Case("/users/{b}/accounts/{b_acc}", 422, json={"id": "{a_acc}"}),
    ],
    (ACCOUNT, "DELETE"): [
        Case("/users/{a}/accounts/{a_acc}", 403),
        Case("/users/{b}/accounts/{a_acc}", 404),
    ],
    (RECONCILE, "POST"): [
        Case("/users/{a}/accounts/{a_acc}/reconcile", 403, json=STATEMENT),
        Case("/users/{b}/accounts/{a_acc}/reconcile", 404, json=STATEMENT),
    ],
    # -- categories (no user in the path: ownership is the only guard) ------------------------
    # Unknown query parameters are ignored (webargs), so this lists B's own categories.
    ("/categories/", "GET"): [Case("/categories/?user_id={a}", 422)],
    ("/categories/", "POST"): [
        Case("/categories/", 404, json={"name": "Child of A's", "parent_id": "{a_cat}"}),
        Case("/categories/", 422, json={"name": "Mine", "user_id": "{a}"}),
    ],
    (CATEGORY, "GET"): [Case("/categories/{a_cat}", 404)],
    (CATEGORY, "PUT"): [
        Case("/categories/{a_cat}", 404, json={"name": "Pwned"}),
        Case("/categories/{b_cat}", 404, json={"parent_id": "{a_cat}"}),
        Case("/categories/{b_cat}", 422, json={"user_id": "{a}"}),
    ],
    (CATEGORY, "PATCH"): [
        Case("/categories/{a_cat}", 404, json={"kind": "income"}),
        Case("/categories/{b_cat}", 404, json={"parent_id": "{a_cat}"}),
        Case("/categories/{b_cat}", 422, json={"id": "{a_cat}"}),
    ],
    (CATEGORY, "DELETE"): [Case("/categories/{a_cat}", 404)],
    # -- transactions -------------------------------------------------------------------------
    (TRANSACTIONS, "GET"): [
        Case("/users/{a}/transactions/", 403),
        Case("/users/{b}/transactions/?account_id={a_acc}", 200),
        Case("/users/{b}/transactions/?account_id={a_acc2}", 200),
        Case("/users/{b}/transactions/?category_id={a_cat}", 200),
    ],
    (TRANSACTIONS, "POST"): [
        Case(
            "/users/{a}/transactions/",
            403,
            json={"account_id": "{a_acc}", "type": "expense", "amount": "1.00"},
        ),
        Case(
            "/users/{b}/transactions/",
            404,
            json={"account_id": "{a_acc}", "type": "expense", "amount": "1.00"},
        ),
        Case(  # ...or files a part of B's expense under A's category
            "/users/{b}/transactions/",
            404,
            json={
                "account_id": "{b_acc}",
                "type": "expense",
                "amount": "1.00",
                "splits": [{"category_id": "{a_cat}", "amount": "1.00"}],
            },
        ),
        Case(  # B pays into A's account...
            "/users/{b}/transactions/",
            404,
            json={
                "account_id": "{b_acc}",
                "type": "transfer",
                "amount": "1.00",
                "transfer_account_id": "{a_acc}",
            },
        ),
        Case(  # ...or takes money out of it.
            "/users/{b}/transactions/",
            404,
            json={
                "account_id": "{a_acc}",
                "type": "transfer",
                "amount": "1.00",
                "transfer_account_id": "{b_acc}",
            },
        ),
        Case(
            "/users/{b}/transactions/",
            404,
            json={
                "account_id": "{b_acc}",
                "type": "expense",
                "amount": "1.00",
                "category_id": "{a_cat}",
            },
        ),
        Case(
            "/users/{b}/transactions/",
            422,
            json={
                "account_id": "{b_acc}",
                "type": "expense",
                "amount": "1.00",
                "user_id": "{a}",
            },
        ),
    ],
    (TRANSACTION, "GET"): [
        Case("/users/{a}/transactions/{a_txn}", 403),
        Case("/users/{b}/transactions/{a_txn}", 404),
    ],
    (TRANSACTION, "PUT"): [
        Case("/users/{a}/transactions/{a_txn}", 403, json={"amount": "0.01"}),
        Case("/users/{b}/transactions/{a_txn}", 404, json={"amount": "0.01"}),
        Case("/users/{b}/transactions/{b_txn}", 404, json={"account_id": "{a_acc}"}),
        Case("/users/{b}/transactions/{b_txn}", 404, json={"category_id": "{a_cat}"}),
    ],
    (TRANSACTION, "PATCH"): [
        Case("/users/{a}/transactions/{a_txn}", 403, json={"description": "pwned"}),
        Case("/users/{b}/transactions/{a_txn}", 404, json={"description": "pwned"}),
        Case("/users/{b}/transactions/{b_txn}", 404, json={"account_id": "{a_acc}"}),
        Case("/users/{b}/transactions/{b_transfer}", 404, json={"transfer_account_id": "{a_acc}"}),
        Case(
            "/users/{b}/transactions/{b_txn}",
            404,
            json={"type": "transfer", "transfer_account_id": "{a_acc}"},
        ),
        Case("/users/{b}/transactions/{b_txn}", 404, json={"category_id": "{a_cat}"}),
        Case(
            "/users/{b}/transactions/{b_txn}",
            404,
            json={"splits": [{"category_id": "{a_cat}", "amount": "1.00"}]},
        ),
        Case("/users/{b}/transactions/{b_txn}", 422, json={"user_id": "{a}"}),
    ],
    (TRANSACTION, "DELETE"): [
        Case("/users/{a}/transactions/{a_txn}", 403),
        Case("/users/{b}/transactions/{a_txn}", 404),
    ],
    # -- exchange rates -------------------------------------------------------------------------
    (RATES, "GET"): [Case("/users/{a}/rates/", 403)],
    (RATES, "POST"): [
        Case(
            "/users/{a}/rates/",
            403,
            json={"base": "USD", "quote": "EUR", "date": "2026-12-01", "rate": "9"},
        ),
        Case(
            "/users/{b}/rates/",
            422,
            json={
                "base": "USD",
                "quote": "EUR",
                "date": "2026-12-01",
                "rate": "9",
                "user_id": "{a}",
            },
        ),
    ],
    (RATE, "GET"): [Case("/users/{a}/rates/{a_rate}", 403), Case("/users/{b}/rates/{a_rate}", 404)],
    (RATE, "PUT"): [
        Case("/users/{a}/rates/{a_rate}", 403, json={"rate": "9"}),
        Case("/users/{b}/rates/{a_rate}", 404, json={"rate": "9"}),
    ],
    (RATE, "PATCH"): [
        Case("/users/{a}/rates/{a_rate}", 403, json={"rate": "9"}),
        Case("/users/{b}/rates/{a_rate}", 404, json={"rate": "9"}),
    ],
    (RATE, "DELETE"): [
        Case("/users/{a}/rates/{a_rate}", 403),
        Case("/users/{b}/rates/{a_rate}", 404),
    ],
    # -- recurring: B cannot see, change, post or preview A's schedules, nor use A's rows ------
    ("/users/<int:user_id>/recurring/", "GET"): [Case("/users/{a}/recurring/", 403)],
    ("/users/<int:user_id>/recurring/", "POST"): [
        Case("/users/{a}/recurring/", 403, json=RECURRING_BODY),
        Case("/users/{b}/recurring/", 404, json=RECURRING_BODY),
        Case(
            "/users/{b}/recurring/",
            404,
            json={**RECURRING_BODY, "account_id": "{b_acc}", "category_id": "{a_cat}"},
        ),
        Case(
            "/users/{b}/recurring/",
            404,
            json={
                **RECURRING_BODY,
                "account_id": "{b_acc}",
                "type": "transfer",
                "transfer_account_id": "{a_acc}",
            },
        ),
    ],
    (RECURRING, "GET"): [
        Case("/users/{a}/recurring/{a_rec}", 403),
        Case("/users/{b}/recurring/{a_rec}", 404),
    ],
    (RECURRING, "PUT"): [
        Case("/users/{b}/recurring/{a_rec}", 404, json={"amount": "1.00"}),
        Case("/users/{b}/recurring/{b_rec}", 404, json={"account_id": "{a_acc}"}),
    ],
    (RECURRING, "PATCH"): [
        Case("/users/{a}/recurring/{a_rec}", 403, json={"amount": "1.00"}),
        Case("/users/{b}/recurring/{a_rec}", 404, json={"amount": "1.00"}),
        Case("/users/{b}/recurring/{b_rec}", 404, json={"category_id": "{a_cat}"}),
        Case("/users/{b}/recurring/{b_rec}", 422, json={"user_id": "{a}"}),
    ],
    (RECURRING, "DELETE"): [
        Case("/users/{a}/recurring/{a_rec}", 403),
        Case("/users/{b}/recurring/{a_rec}", 404),
    ],
    (RECURRING + "/post-due", "POST"): [
        Case("/users/{a}/recurring/{a_rec}/post-due", 403),
        Case("/users/{b}/recurring/{a_rec}/post-due", 404),
    ],
    (RECURRING + "/upcoming", "GET"): [
        Case("/users/{a}/recurring/{a_rec}/upcoming", 403),
        Case("/users/{b}/recurring/{a_rec}/upcoming", 404),
    ],
    # -- budgets: B cannot see or change A's, nor budget A's category -------------------------
    ("/users/<int:user_id>/budgets/", "GET"): [Case("/users/{a}/budgets/", 403)],
    ("/users/<int:user_id>/budgets/", "POST"): [
        Case("/users/{a}/budgets/", 403, json={**BUDGET_BODY, "category_id": "{b_cat}"}),
        Case("/users/{b}/budgets/", 404, json=BUDGET_BODY),
    ],
    ("/users/<int:user_id>/budgets/status", "GET"): [
        Case("/users/{a}/budgets/status?month=2026-01", 403),
    ],
    (BUDGET, "GET"): [
        Case("/users/{a}/budgets/{a_budget}", 403),
        Case("/users/{b}/budgets/{a_budget}", 404),
    ],
    (BUDGET, "PUT"): [Case("/users/{b}/budgets/{a_budget}", 404, json={"amount": "1.00"})],
    (BUDGET, "PATCH"): [
        Case("/users/{a}/budgets/{a_budget}", 403, json={"amount": "1.00"}),
        Case("/users/{b}/budgets/{a_budget}", 404, json={"amount": "1.00"}),
        Case("/users/{b}/budgets/{a_budget}", 422, json={"category_id": "{a_cat}"}),
    ],
    (BUDGET, "DELETE"): [
        Case("/users/{a}/budgets/{a_budget}", 403),
        Case("/users/{b}/budgets/{a_budget}", 404),
    ],
    # -- reports: B cannot read A's figures, nor total B's own with A's account -----------------
    ("/users/<int:user_id>/reports/summary", "GET"): [
        Case("/users/{a}/reports/summary?start_date=2020-01-01&end_date=2030-01-01", 403),
        Case(
            "/users/{b}/reports/summary?start_date=2020-01-01&end_date=2030-01-01"
            "&account_id={a_acc}",
            404,
        ),
    ],
    ("/users/<int:user_id>/reports/cashflow", "GET"): [
        Case("/users/{a}/reports/cashflow?start_date=2020-01-01&end_date=2030-01-01", 403),
    ],
    ("/users/<int:user_id>/reports/net-worth", "GET"): [
        Case("/users/{a}/reports/net-worth?start_date=2020-01-01&end_date=2030-01-01", 403),
    ],
    ("/users/<int:user_id>/reports/top-payees", "GET"): [
        Case("/users/{a}/reports/top-payees?start_date=2020-01-01&end_date=2030-01-01", 403),
    ],
    # -- operations: no user, no data ---------------------------------------------------------
    # -- import, export, backup --------------------------------------------------------------
    (IMPORT, "POST"): [
        Case("/users/{a}/accounts/{a_acc}/import", 403, form={"file": "statement"}),
        Case("/users/{b}/accounts/{a_acc}/import", 404, form={"file": "statement"}),
    ],
    (EXPORT, "GET"): [
        Case("/users/{a}/transactions/export", 403),
        Case("/users/{b}/transactions/export?account_id={a_acc}", 200),
        Case("/users/{b}/transactions/export?format=json&account_id={a_acc}", 200),
    ],
    ("/users/me/export", "GET"): [Case("/users/me/export", 200)],
    # -- rules --------------------------------------------------------------------------------
    (RULES, "GET"): [Case("/users/{a}/rules/", 403)],
    (RULES, "POST"): [
        Case("/users/{a}/rules/", 403, json={"pattern": "x", "category_id": "{b_cat}"}),
        Case("/users/{b}/rules/", 404, json={"pattern": "x", "category_id": "{a_cat}"}),
    ],
    (RULE, "GET"): [Case("/users/{a}/rules/{a_rule}", 403), Case("/users/{b}/rules/{a_rule}", 404)],
    (RULE, "PUT"): [Case("/users/{b}/rules/{a_rule}", 404, json={"pattern": "y"})],
    (RULE, "PATCH"): [
        Case("/users/{a}/rules/{a_rule}", 403, json={"pattern": "y"}),
        Case("/users/{b}/rules/{a_rule}", 404, json={"pattern": "y"}),
    ],
    (RULE, "DELETE"): [Case("/users/{b}/rules/{a_rule}", 404)],
    ("/users/<int:user_id>/rules/apply", "POST"): [
        Case("/users/{a}/rules/apply", 403, json={}),
        Case("/users/{b}/rules/apply", 200, json={}),
    ],
    ("/users/me/import", "POST"): [Case("/users/me/import", 409, form={"file": "backup"})],
    ("/healthz", "GET"): [Case("/healthz?user_id={a}", 422)],
    ("/readyz", "GET"): [Case("/readyz?user_id={a}", 422)],
    ("/", "GET"): [Case("/?user_id={a}", 422)],
    # -- tokens (last): B cannot log in as A, nor touch A's tokens--------------------------------
    ("/token", "POST"): [
        Case("/token", 401, form={"username": "{a_name}", "password": B_PASSWORD}),
    ],
    ("/token/refresh", "POST"): [
        # B's access token is no refresh token; B's refresh token only ever buys a token for
        # B (test_b_refresh_token_only_ever_gives_b_a_token).
        Case("/token/refresh", 401, json={"sub": "{a}"}),
    ],
    ("/token/revoke", "POST"): [
        # Revokes B's presented token only, whatever the body names: A's tokens keep working
        # (checked after). Last in the table, since B's token is dead afterwards.
        Case("/token/revoke", 204, json={"jti": "x", "user_id": "{a}"}),
    ],
}


def data_routes(app) -> set[tuple[str, str]]:
    return {
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        if not NOT_DATA.search(rule.rule)
        for method in rule.methods - SKIPPED_METHODS
    }


def fill(value, ids: dict):
    """Put the scenario's ids into a path, query or body."""
    if isinstance(value, dict):
        return {key: fill(item, ids) for key, item in value.items()}
    if isinstance(value, list):
        return [fill(item, ids) for item in value]
    if isinstance(value, str):
        whole = re.fullmatch(r"\{(\w+)\}", value)
        return ids[whole.group(1)] if whole else value.format(**ids)
    return value


def snapshot(a) -> dict:
    """Everything of A's that B might have changed, as A sees it."""
    return {
        "me": a.get("/users/me/").json,
        "accounts": a.get(a.url("accounts") + "?limit=1000").json,
        "categories": a.get("/categories/?limit=1000").json,
        "transactions": a.get(a.url("transactions") + "?limit=1000").json,
        "rules": a.get(a.url("rules") + "?limit=1000").json,
        "rates": a.get(a.url("rates") + "?limit=1000").json,
        "recurring": a.get(a.url("recurring") + "?limit=1000").json,
        "budgets": a.get(a.url("budgets") + "?limit=1000").json,
    }


@pytest.fixture
def scenario(make_user):
    a = make_user("alice-matrix")
    b = make_user("bob-matrix", password=B_PASSWORD)
    a_acc = a.account(name="A main", opening_balance="1000.00")
    a_acc2 = a.account(name="A savings", opening_balance="50.00")
    a_cat = a.category(name="A private")
    a_txn = a.transaction(a_acc, amount="25.00", category_id=a_cat["id"], payee="A's landlord")
    a.transaction(a_acc, amount="10.00", type="transfer", transfer_account_id=a_acc2["id"])
    a_rule = a.post(a.url("rules"), json={"pattern": "landlord", "category_id": a_cat["id"]})
    a_rate = a.post(
        a.url("rates"), json={"base": "USD", "quote": "EUR", "date": "2026-11-30", "rate": "0.92"}
    ).json
    b_acc = b.account(name="B main", opening_balance="10.00")
    b_acc2 = b.account(name="B other", opening_balance="0.00")
    a_rec = a.post(a.url("recurring"), json=fill(RECURRING_BODY, {"a_acc": a_acc["id"]})).json
    b_cat = b.category(name="B own")
    b_txn = b.transaction(b_acc, amount="1.00")
    b_transfer = b.transaction(
        b_acc, amount="2.00", type="transfer", transfer_account_id=b_acc2["id"]
    )
    ids = {
        "a": a.id,
        "b": b.id,
        "a_name": a.username,
        "a_name_upper": a.username.upper(),
        "a_acc": a_acc["id"],
        "a_acc2": a_acc2["id"],
        "a_cat": a_cat["id"],
        "a_txn": a_txn["id"],
        "a_rule": a_rule.json["id"],
        "a_rate": a_rate["id"],
        "a_rec": a_rec["id"],
        "a_budget": a.post(a.url("budgets"), json=fill(BUDGET_BODY, {"a_cat": a_cat["id"]})).json[
            "id"
        ],
        "b_rec": b.post(b.url("recurring"), json=fill(RECURRING_BODY, {"a_acc": b_acc["id"]})).json[
            "id"
        ],
        "b_acc": b_acc["id"],
        "b_cat": b_cat["id"],
        "b_txn": b_txn["id"],
        "b_transfer": b_transfer["id"],
    }
    return a, b, ids


def test_every_route_is_in_the_matrix(app):
    routes = data_routes(app)
    missing = sorted(routes - MATRIX.keys())
    stale = sorted(MATRIX.keys() - routes)
    assert not missing, f"routes with no authorization cases: {missing}"
    assert not stale, f"cases for routes that no longer exist: {stale}"
    assert all(MATRIX.values()), "every route needs at least one case"


def test_user_b_cannot_read_or_touch_anything_of_user_a(client, scenario):
    a, b, ids = scenario
    before = snapshot(a)
    failures = []
    for (rule, method), cases in MATRIX.items():  # in table order: revoke comes last
        for case in cases:
            path = fill(case.path, ids)
            kwargs = {"headers": b.headers}
            if case.json is not None:
                kwargs["json"] = fill(case.json, ids)
            if case.form is not None:
                kwargs["data"] = fill(case.form, ids)
                if "file" in kwargs["data"]:
                    kwargs["data"]["file"] = UPLOADS[kwargs["data"]["file"]]()
                    kwargs["content_type"] = "multipart/form-data"
            response = client.open(path, method=method, **kwargs)
            label = f"{method} {path} {kwargs.get('json') or kwargs.get('data') or ''}"
            if response.status_code != case.status:
                failures.append(f"{label}: {response.status_code} (expected {case.status})")
                continue
            body = response.get_data(as_text=True)
            if response.status_code >= 400 and response.json.get("code") != response.status_code:
                failures.append(f"{label}: not in the error shape: {body}")
            payload = response.get_json(silent=True)
            rows = payload if isinstance(payload, list) else [payload or {}]
            if any(ids["a"] in (row.get("user_id"), row.get("owner_id")) for row in rows):
                failures.append(f"{label}: a row of A's in the response")
            if a.username in body and rule != "/users/":
                failures.append(f"{label}: A's username in the response")
            if "A's landlord" in body or "A private" in body or "A main" in body:
                failures.append(f"{label}: A's data in the response")
    assert not failures, "\n".join(failures)

    assert snapshot(a) == before
    # A's own token still works: nothing B did (revoke included) touched it.
    assert a.get("/users/me/").status_code == 200
    assert a.balance({"id": ids["a_acc"]}) == "965.00"


def test_b_refresh_token_only_ever_gives_b_a_token(client, scenario):
    a, b, _ = scenario
    response = client.post("/token/refresh", headers={"Authorization": f"Bearer {b.refresh_token}"})
    assert response.status_code == 200
    token = response.json["access_token"]
    me = client.get("/users/me/", headers={"Authorization": f"Bearer {token}"})
    assert me.json["id"] == b.id != a.id


def test_a_row_b_cannot_see_answers_like_a_missing_row(client, scenario):
    """404 for A's account is word for word the 404 for an id that does not exist."""
    a, b, ids = scenario
    theirs = b.get(b.url("accounts", ids["a_acc"])).json
    missing = b.get(b.url("accounts", 999_999)).json
    assert theirs["code"] == missing["code"] == 404
    assert theirs["message"].replace(str(ids["a_acc"]), "N") == missing["message"].replace(
        "999999", "N"
    )
