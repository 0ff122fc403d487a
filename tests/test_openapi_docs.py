"""The OpenAPI document is good enough to generate a client from: every operation has a unique,
readable operationId; every field and parameter says what it is; money fields show a valid
amount as their example (never a regex); the legacy `balance` is deprecated; no unused schema.
Also GET /, the index that points at the document.
"""

from __future__ import annotations

import re

import pytest
from apispec.exceptions import APISpecError

from app import create_app
from app.common import money
from app.common.openapi import DocsPlugin, operation_id
from app.common.schemas import DECIMAL_STRING, Money
from tests.conftest import Config, database_url

METHODS = {"get", "post", "put", "patch", "delete"}
#: Where the document has amounts: (schema or "query", property or parameter name).
MONEY_FIELDS = {
    ("AccountCreate", "opening_balance"),
    ("AccountCreate", "balance"),
    ("AccountUpdate", "opening_balance"),
    ("Account", "opening_balance"),
    ("Account", "balance"),
    ("Account", "cleared_balance"),
    ("Account", "reconciled_balance"),
    ("TransactionCreate", "amount"),
    ("TransactionUpdate", "amount"),
    ("Transaction", "amount"),
    ("BackupAccount", "opening_balance"),
    ("BackupAccount", "balance"),
    ("BackupTransaction", "amount"),
    ("BackupTransaction", "transfer_amount"),
    ("BackupSchedule", "transfer_amount"),
    ("BackupAccount", "cleared_balance"),
    ("BackupAccount", "reconciled_balance"),
    ("BackupRule", "min_amount"),
    ("BackupSplit", "amount"),
    ("BackupBudget", "amount"),
    ("BackupSchedule", "amount"),
    ("BackupRule", "max_amount"),
    ("RuleCreate", "min_amount"),
    ("RuleCreate", "max_amount"),
    ("RuleUpdate", "min_amount"),
    ("RuleUpdate", "max_amount"),
    ("TransactionCreate", "transfer_amount"),
    ("TransactionUpdate", "transfer_amount"),
    ("Transaction", "transfer_amount"),
    ("Reconcile", "closing_balance"),
    ("ReconcileResult", "closing_balance"),
    ("ReconcileResult", "balance"),
    ("ReconcileResult", "cleared_balance"),
    ("ReconcileResult", "reconciled_balance"),
    ("BudgetCreate", "amount"),
    ("BudgetUpdate", "amount"),
    ("Budget", "amount"),
    ("BudgetLine", "budgeted"),
    ("BudgetLine", "rolled_over"),
    ("BudgetLine", "spent"),
    ("BudgetLine", "remaining"),
    ("Unbudgeted", "spent"),
    ("RecurringCreate", "amount"),
    ("RecurringUpdate", "amount"),
    ("Recurring", "amount"),
    ("Occurrence", "amount"),
    ("RecurringCreate", "transfer_amount"),
    ("RecurringUpdate", "transfer_amount"),
    ("Recurring", "transfer_amount"),
    ("Occurrence", "transfer_amount"),
    ("Split", "amount"),
    ("SplitOut", "amount"),
    ("CategoryTotal", "income"),
    ("CategoryTotal", "expense"),
    ("CategoryTotal", "net"),
    ("TagTotal", "income"),
    ("TagTotal", "expense"),
    ("TagTotal", "net"),
    ("SummaryBlock", "income"),
    ("SummaryBlock", "expense"),
    ("SummaryBlock", "net"),
    ("Period", "income"),
    ("Period", "expense"),
    ("Period", "net"),
    ("NetWorthPoint", "net_worth"),
    ("Payee", "expense"),
    ("query", "min_amount"),
    ("query", "max_amount"),
}


@pytest.fixture(scope="module")
def spec(app):
    with app.test_client() as client:
        return client.get("/openapi.json").json


def operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def resolve(spec, obj):
    """A `$ref` (to a component parameter) replaced by what it names."""
    if "$ref" in obj:
        _, section, name = obj["$ref"].removeprefix("#/").split("/")
        return spec["components"][section][name]
    return obj


def parameters(spec):
    """(path, method or None for path-level, parameter) for every parameter in the document."""
    for path, item in spec["paths"].items():
        for parameter in item.get("parameters", []):
            yield path, None, resolve(spec, parameter)
        for _, method, operation in operations({"paths": {path: item}}):
            for parameter in operation.get("parameters", []):
                yield path, method, resolve(spec, parameter)


def properties(spec):
    """(schema name, property name, property) for every component schema's property."""
    for name, schema in spec["components"]["schemas"].items():
        for prop, definition in schema.get("properties", {}).items():
            yield name, prop, definition


def patterns(schema: dict) -> list[str]:
    return [s["pattern"] for s in (schema, *schema.get("anyOf", [])) if "pattern" in s]


def is_money(schema: dict) -> bool:
    return DECIMAL_STRING.pattern in patterns(schema)


def test_every_operation_has_a_unique_operation_id(spec):
    ids = [operation.get("operationId") for _, _, operation in operations(spec)]
    assert len(ids) >= 28
    assert all(ids), [(p, m) for p, m, o in operations(spec) if not o.get("operationId")]
    assert len(set(ids)) == len(ids), sorted(i for i in ids if ids.count(i) > 1)
    # Readable: what a generated client's methods are called.
    assert all(re.fullmatch(r"[a-z]+(?:[A-Z][a-z]+)*", i) for i in ids), ids


def test_operation_ids_follow_the_rest_pattern_and_name_the_rest(spec):
    ids = {(path, method): op["operationId"] for path, method, op in operations(spec)}
    accounts = "/users/{user_id}/accounts/"
    account = "/users/{user_id}/accounts/{account_id}"
    assert ids[(accounts, "get")] == "listAccounts"
    assert ids[(accounts, "post")] == "createAccount"
    assert ids[(account, "get")] == "getAccount"
    assert ids[(account, "put")] == "updateAccount"
    assert ids[(account, "patch")] == "patchAccount"
    assert ids[(account, "delete")] == "deleteAccount"
    assert ids[("/categories/", "get")] == "listCategories"
    assert ids[("/categories/", "post")] == "createCategory"
    assert ids[("/users/{user_id}/transactions/", "get")] == "listTransactions"
    assert ids[("/users/{user_id}/transactions/{transaction_id}", "patch")] == "patchTransaction"
    assert ids[("/token", "post")] == "login"
    assert ids[("/token/refresh", "post")] == "refreshToken"
    assert ids[("/token/revoke", "post")] == "revokeToken"
    assert ids[("/users/me/", "get")] == "getMe"
    assert ids[("/", "get")] == "getIndex"


def test_an_operation_no_rule_names_stops_the_app_from_starting():
    with pytest.raises(APISpecError, match="NAMED_OPERATIONS"):
        operation_id("/users/{user_id}/widgets/frobnicate", "get")
    plugin = DocsPlugin()
    plugin.path_helper(path="/things/", operations={"get": {}}, parameters=[])
    with pytest.raises(APISpecError, match="'listThings' names both GET /things/ and GET /b/"):
        plugin.path_helper(path="/b/things/", operations={"get": {}}, parameters=[])
    with pytest.raises(APISpecError, match="PATH_PARAMETERS"):
        plugin.path_helper(
            path="/c/{c_id}", operations={}, parameters=[{"in": "path", "name": "c_id"}]
        )


def test_every_property_of_every_schema_has_a_description(spec):
    missing = [(s, p) for s, p, d in properties(spec) if not d.get("description", "").strip()]
    assert missing == []


def test_every_parameter_has_a_description(spec):
    missing = [
        (path, method, p["name"])
        for path, method, p in parameters(spec)
        if not p.get("description", "").strip()
    ]
    assert missing == []
    # Path parameters included: they come from the URL rules, not from a schema.
    user_id = next(p for path, m, p in parameters(spec) if p["name"] == "user_id")
    assert "403" in user_id["description"]


def documented_money_fields(spec):
    found = {(s, p): d for s, p, d in properties(spec) if is_money(d)}
    found |= {
        ("query", p["name"]): p["schema"] for _, _, p in parameters(spec) if is_money(p["schema"])
    }
    return found


def test_money_fields_have_a_valid_amount_as_their_example(spec):
    found = documented_money_fields(spec)
    assert set(found) == MONEY_FIELDS
    for where, schema in found.items():
        example = schema.get("example")
        assert isinstance(example, str), where
        # What the API itself accepts as an amount, in the currency of the examples.
        amount = Money().deserialize(example)
        assert money.to_minor(amount, "USD") > 0, where


def test_every_pattern_comes_with_an_example_that_matches_it(spec):
    """A field with a pattern and no example shows docs readers (and generated samples) the
    regex, or a string made from it, where a value belongs."""
    schemas = [(f"{s}.{p}", d) for s, p, d in properties(spec)]
    schemas += [(f"{path} {p['name']}", p["schema"]) for path, _, p in parameters(spec)]
    checked = 0
    for where, schema in schemas:
        for pattern in patterns(schema):
            example = schema.get("example")
            assert isinstance(example, str), (where, example)
            assert example != pattern, where
            assert re.search(pattern, example), (where, example, pattern)
            checked += 1
    assert checked >= 15


def test_money_currency_and_transfer_rules_are_in_the_descriptions(spec):
    schemas = spec["components"]["schemas"]
    amount = schemas["TransactionCreate"]["properties"]["amount"]["description"]
    for rule in ("decimal string", "JSON number", "positive", "type", "10^14", "decimal places"):
        assert rule in amount, rule
    currency = schemas["AccountCreate"]["properties"]["currency"]["description"]
    assert "ISO 4217" in currency and "ISO's table" in currency
    transfer = schemas["TransactionCreate"]["properties"]["transfer_account_id"]["description"]
    assert "Transfers only" in transfer and "same currency" in transfer
    query = {
        p["name"]: p["description"]
        for path, _, p in parameters(spec)
        if path == "/users/{user_id}/transactions/"
    }
    for name in ("min_amount", "max_amount", "sort_by"):
        assert "as written, across currencies" in query[name], name


def test_only_the_legacy_balance_is_deprecated(spec):
    deprecated = {(s, p) for s, p, d in properties(spec) if d.get("deprecated")}
    assert deprecated == {("AccountCreate", "balance")}


def test_every_component_schema_is_used(spec):
    """No schema a client generator would turn into a type nobody uses (PaginationMetadata)."""
    schemas = spec["components"]["schemas"]
    assert "PaginationMetadata" not in schemas
    text = str({key: value for key, value in spec.items() if key != "components"})
    text += str({key: value for key, value in spec["components"].items() if key != "schemas"})
    # Referenced from a path, a response or a parameter, or from another schema that is.
    used = set(re.findall(r"#/components/schemas/(\w+)", text))
    while True:
        more = set(re.findall(r"#/components/schemas/(\w+)", str([schemas[n] for n in used])))
        if more <= used:
            break
        used |= more
    assert set(schemas) == used


# -- GET / ---------------------------------------------------------------------------------


def test_the_index_names_the_api_and_links_to_the_docs_without_a_token(app, client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.json == {
        "name": app.config["API_TITLE"],
        "version": app.config["API_VERSION"],
        "links": {
            "swagger_ui": "/swagger-ui",
            "redoc": "/redoc",
            "openapi": "/openapi.json",
            "health": "/healthz",
        },
    }
    for link in response.json["links"].values():
        assert client.get(link).status_code == 200, link


def test_the_index_is_documented_with_its_schema(spec):
    operation = spec["paths"]["/"]["get"]
    assert "security" not in operation
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/Index"}
    assert set(spec["components"]["schemas"]["Index"]["properties"]) == {
        "name",
        "version",
        "links",
    }


def test_the_index_leaves_out_a_docs_page_that_is_switched_off():
    config = Config(database_url())
    config.OPENAPI_REDOC_PATH = None
    config.API_VERSION = "2.5.0"
    response = create_app(config).test_client().get("/")
    assert response.json["version"] == "2.5.0"
    assert "redoc" not in response.json["links"]
    assert response.json["links"]["openapi"] == "/openapi.json"
