"""OWASP API9 (improper inventory): the OpenAPI document and the app's URL map name exactly
the same operations, so no endpoint ships undocumented and no documented one is missing.
"""

from __future__ import annotations

import re

from app import create_app
from tests.conftest import Config, database_url

#: Served by the app but not API operations: the document itself, the docs pages and their
#: assets, and Prometheus metrics (when METRICS_ENABLED).
NOT_OPERATIONS = re.compile(r"^/(static|docs-assets)/|^/(openapi\.json|swagger-ui|redoc|metrics)$")
METHODS = {"get", "post", "put", "patch", "delete"}


def routed_operations(app) -> set[tuple[str, str]]:
    """(OpenAPI-style path, method) for every rule: `<int:user_id>` becomes `{user_id}`."""
    return {
        (re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if not NOT_OPERATIONS.search(rule.rule)
        for method in rule.methods
        if method.lower() in METHODS
    }


def documented_operations(spec: dict) -> set[tuple[str, str]]:
    return {
        (path, method)
        for path, item in spec["paths"].items()
        for method in item
        if method in METHODS
    }


def test_every_route_is_documented(app, client):
    spec = client.get("/openapi.json").json
    missing = routed_operations(app) - documented_operations(spec)
    assert not missing, f"routes missing from /openapi.json: {sorted(missing)}"


def test_every_documented_operation_exists(app, client):
    spec = client.get("/openapi.json").json
    phantom = documented_operations(spec) - routed_operations(app)
    assert not phantom, f"documented but not routed: {sorted(phantom)}"


def test_documented_operations_answer_rather_than_404(client, user):
    """Each documented path, with its ids filled in, reaches a view (not the router's 404)."""
    spec = client.get("/openapi.json").json
    for path, item in spec["paths"].items():
        concrete = re.sub(r"\{user_id\}", str(user.id), path)
        concrete = re.sub(r"\{\w+\}", "1", concrete)
        for method in set(item) & METHODS:
            if (path, method) in {("/users/me/", "delete"), ("/token/revoke", "post")}:
                continue  # would end the user's session; exercised in test_token_lifecycle.py
            response = user.client.open(concrete, method=method.upper(), headers=user.headers)
            assert response.status_code != 405, (method, path)
            if response.status_code == 404:
                # A 404 from a view names the missing row; the router's has no such message.
                assert "not found." in response.json["message"], (method, path, response.json)


def test_every_operation_has_a_summary_and_a_success_response(client):
    spec = client.get("/openapi.json").json
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            assert operation.get("summary"), (method, path)
            assert any(code.startswith("2") for code in operation["responses"]), (method, path)


def test_every_protected_operation_documents_its_401(client):
    spec = client.get("/openapi.json").json
    protected = 0
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS and operation.get("security"):
                protected += 1
                assert "401" in operation["responses"], (method, path)
    assert protected >= 20


def test_inventory_holds_with_metrics_enabled(app):
    """/metrics is the one operational route outside the document, and only when enabled."""
    config = Config(database_url())
    config.METRICS_ENABLED = True
    metrics_app = create_app(config)
    extra = {rule.rule for rule in metrics_app.url_map.iter_rules()} - {
        rule.rule for rule in app.url_map.iter_rules()
    }
    assert extra <= {"/metrics"}


def test_every_documented_error_answer_has_the_error_shape_as_its_body(client):
    spec = client.get("/openapi.json").json
    shapeless = [
        (path, method, status)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in METHODS
        for status, response in operation["responses"].items()
        if status != "default"
        and int(status) >= 400
        and "$ref" not in response
        and response.get("content", {}).get("application/json", {}).get("schema")
        != {"$ref": "#/components/schemas/Error"}
    ]
    assert shapeless == []
