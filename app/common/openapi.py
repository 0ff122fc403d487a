"""What the OpenAPI document says beyond the schemas, made in one place: an apispec plugin.

A client generator names its methods after `operationId`s, so every operation gets one, stable
and readable, from its path and method: the REST pattern (`listAccounts`, `createAccount`,
`getAccount`, `updateAccount` for PUT, `patchAccount`, `deleteAccount`) or, where that would
not read well, a name from NAMED_OPERATIONS (`login`, `getMe`...). Path parameters get their
description here too, from PATH_PARAMETERS. An operation or path parameter neither rule names
fails the app's start, so nothing ships unnamed; an explicit `@blp.doc(operationId=...)` wins.
"""

from __future__ import annotations

import re

from apispec import BasePlugin
from apispec.exceptions import APISpecError

METHODS = ("get", "post", "put", "patch", "delete")

#: Operations whose REST-pattern name would not say what they do, by (path, method).
NAMED_OPERATIONS = {
    ("/", "get"): "getIndex",
    ("/healthz", "get"): "getHealth",
    ("/readyz", "get"): "getReadiness",
    ("/token", "post"): "login",
    ("/token/refresh", "post"): "refreshToken",
    ("/token/revoke", "post"): "revokeToken",
    ("/users/", "post"): "registerUser",
    ("/users/me/", "get"): "getMe",
    ("/users/me/", "patch"): "updateMe",
    ("/users/me/", "delete"): "deleteMe",
    ("/users/me/password", "post"): "changePassword",
    ("/users/{user_id}/accounts/{account_id}/import", "post"): "importTransactions",
    ("/users/{user_id}/transactions/export", "get"): "exportTransactions",
    ("/users/me/export", "get"): "exportBackup",
    ("/users/{user_id}/rules/apply", "post"): "applyRules",
    ("/users/me/import", "post"): "restoreBackup",
    ("/users/{user_id}/accounts/{account_id}/reconcile", "post"): "reconcileAccount",
    ("/users/{user_id}/budgets/status", "get"): "getBudgetStatus",
    ("/users/{user_id}/recurring/{recurring_id}/post-due", "post"): "postDueRecurring",
    ("/users/{user_id}/recurring/{recurring_id}/upcoming", "get"): "listUpcomingRecurring",
    ("/users/{user_id}/reports/summary", "get"): "getSummaryReport",
    ("/users/{user_id}/reports/cashflow", "get"): "getCashflowReport",
    ("/users/{user_id}/reports/net-worth", "get"): "getNetWorthReport",
    ("/users/{user_id}/reports/top-payees", "get"): "getTopPayeesReport",
}
#: The REST pattern: the verb on a collection (`/accounts/`) and on one of its items.
COLLECTION_VERBS = {"get": "list", "post": "create"}
ITEM_VERBS = {"get": "get", "put": "update", "patch": "patch", "delete": "delete"}

PATH_PARAMETERS = {
    "user_id": "Your own user id (the `id` from GET /users/me/); another user's id is a 403.",
    "account_id": "The id of one of your accounts; anyone else's is a 404, like a missing one.",
    "category_id": "The id of one of your categories; anyone else's is a 404, like a missing one.",
    "rule_id": "The id of one of your rules; anyone else's is a 404, like a missing one.",
    "rate_id": "The id of one of your exchange rates; anyone else's is a 404, like a missing one.",
    "budget_id": "The id of one of your budgets; anyone else's is a 404, like a missing one.",
    "recurring_id": (
        "The id of one of your recurring transactions; anyone else's is a 404, like a missing one."
    ),
    "transaction_id": (
        "The id of one of your transactions; anyone else's is a 404, like a missing one."
    ),
}

ITEM_PATH = re.compile(r"/(?P<collection>\w+)/\{\w+\}$")
COLLECTION_PATH = re.compile(r"/(?P<collection>\w+)/$")


def camel(words: str) -> str:
    return "".join(word.capitalize() for word in words.split("_"))


def singular(plural: str) -> str:
    if plural.endswith("ies"):
        return plural[:-3] + "y"
    return plural[:-1] if plural.endswith("s") else plural


def operation_id(path: str, method: str) -> str:
    """The operationId of `method` on `path` (an OpenAPI path such as `/categories/{id}`)."""
    if (path, method) in NAMED_OPERATIONS:
        return NAMED_OPERATIONS[(path, method)]
    if (match := ITEM_PATH.search(path)) and method in ITEM_VERBS:
        return ITEM_VERBS[method] + camel(singular(match["collection"]))
    if (match := COLLECTION_PATH.search(path)) and method in COLLECTION_VERBS:
        plural = match["collection"]
        noun = plural if method == "get" else singular(plural)
        return COLLECTION_VERBS[method] + camel(noun)
    raise APISpecError(
        f"No operationId for {method.upper()} {path}: add one to NAMED_OPERATIONS in "
        f"{__name__} (or give the view @blp.doc(operationId=...))."
    )


class DocsPlugin(BasePlugin):
    """Names every operation and describes every path parameter (one instance per app)."""

    def __init__(self) -> None:
        self.operations: dict[str, tuple[str, str]] = {}

    def path_helper(self, path=None, operations=None, parameters=None, **kwargs):
        # Runs after flask-smorest's FlaskPlugin, which turned the rule into `path` and added
        # its path parameters to `parameters`.
        for parameter in parameters or ():
            if isinstance(parameter, dict) and parameter.get("in") == "path":
                name = parameter["name"]
                if name not in PATH_PARAMETERS and "description" not in parameter:
                    raise APISpecError(
                        f"No description for the path parameter {name!r} of {path}: "
                        f"add one to PATH_PARAMETERS in {__name__}."
                    )
                parameter.setdefault("description", PATH_PARAMETERS.get(name))
        for method, operation in (operations or {}).items():
            if method not in METHODS:
                continue
            name = operation.setdefault("operationId", operation_id(path, method))
            if self.operations.setdefault(name, (path, method)) != (path, method):
                other = self.operations[name]
                raise APISpecError(
                    f"operationId {name!r} names both {other[1].upper()} {other[0]} and "
                    f"{method.upper()} {path}."
                )
        return None
