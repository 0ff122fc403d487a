"""The one JSON error shape, for every error the app can answer.

`{"code": 422, "status": "Unprocessable Entity", "message": "...", "errors": {...}}`

Services raise the plain exceptions of `app.common.errors`; those, HTTP errors (flask-smorest's
validation errors included), database integrity errors, JWT failures and unexpected exceptions
are all turned into that shape here. A 422's `message` names its first problem in words;
`errors` holds them all, keyed by location then field as flask-smorest does.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from app.common.errors import APIError
from app.extensions import db, jwt

log = logging.getLogger(__name__)

#: Integrity errors by constraint name: (status, message). Unique violations default to 409.
CONSTRAINT_ERRORS = {
    "uq_users_username_canonical": (409, "That username is taken."),
    "uq_users_username_skeleton": (
        409,
        "That username is taken, or looks like one that is (Unicode confusables).",
    ),
    "uq_accounts_user_id_name": (409, "You already have an account with that name."),
    "uq_categories_user_id_name_canonical": (409, "You already have a category with that name."),
    "uq_transactions_account_id_import_id": (409, "A transaction with that import id exists."),
    "uq_budgets_user_id_category_id_currency_start_month": (
        409,
        "You already have a budget for that category, currency and month.",
    ),
    "pk_recurring_occurrences": (409, "That occurrence is already posted; post-due again."),
    "ck_accounts_balance_range": (
        422,
        "This change would push an account balance beyond ±9×10^17 minor units.",
    ),
    "ck_accounts_status_balances_range": (
        422,
        "This change would push an account's cleared or reconciled balance beyond ±9×10^17 "
        "minor units.",
    ),
    "uq_exchange_rates_user_id_base_quote_date": (
        409,
        "You already have a rate for that currency pair on that date: change that one.",
    ),
}

#: PostgreSQL SQLSTATEs that mean "the database is not answering right now".
UNAVAILABLE_SQLSTATES = {"57P01", "57P02", "57P03", "08000", "08003", "08006", "08001", "08004"}
#: Deadlock detected, serialization failure: the transaction was rolled back; retrying works.
RETRYABLE_SQLSTATES = {"40P01", "40001"}

#: How a 422's message names a field, by where the field travelled.
LOCATION_WORDS = {"json": "field", "query": "query parameter", "headers": "header", "form": "field"}


def error_payload(code: int, message: str, errors: Any = None) -> dict[str, Any]:
    # Werkzeug's reason phrases: the same on every Python (3.13 renamed 413 and 422).
    payload: dict[str, Any] = {"code": code, "status": HTTP_STATUS_CODES[code], "message": message}
    if errors:
        payload["errors"] = errors
    return payload


def json_error(code: int, message: str, errors: Any = None, headers: dict | None = None):
    return error_payload(code, message, errors), code, headers or {}


def first_problem(errors: dict[str, Any]) -> str | None:
    """The first field error in words: "amount: Must be greater than zero." or
    "Unknown query parameter 'type'."; None if `errors` holds no message."""
    rows = errors.get("rows")
    if isinstance(rows, list) and rows and isinstance(rows[0], dict) and "row" in rows[0]:
        # A file's bad rows (app.imports): `[{row, message}, ...]`, the first one in words.
        return f"Row {rows[0]['row']}: {rows[0]['message']}"
    for location, fields in errors.items():
        path, message = first_leaf(fields)
        if message is None:
            continue
        name = ".".join(part for part in path if part != "_schema")
        word = LOCATION_WORDS.get(location, location)
        if not name:
            return message
        if message == "Unknown field.":
            return f"Unknown {word} '{name}'."
        return f"{name}: {message}" if word == "field" else f"{word.capitalize()} {name}: {message}"
    return None


def first_leaf(node: Any) -> tuple[list[str], str | None]:
    """The path to, and the text of, the first message in marshmallow's nested errors."""
    if isinstance(node, str):
        return [], node
    if isinstance(node, dict):
        for key, child in node.items():
            path, message = first_leaf(child)
            if message is not None:
                return [str(key), *path], message
    if isinstance(node, list):
        for child in node:
            path, message = first_leaf(child)
            if message is not None:
                return path, message
    return [], None


def rollback() -> None:
    """Roll the request's session back; a connection the database dropped has nothing left to
    roll back, and must not turn the answer being built into a 500."""
    try:
        db.session.rollback()
    except DBAPIError as error:
        log.warning("Rollback on a lost database connection: %s", error.orig)


def close_session(exception: BaseException | None = None) -> None:
    """Teardown: end the request's session, even when its connection was dropped after the
    answer was ready (a committed write must still answer 2xx, not 500)."""
    try:
        db.session.remove()
    except DBAPIError as error:
        log.warning("Closing a session on a lost database connection: %s", error.orig)
        db.session.registry.clear()


def constraint_name(error: IntegrityError) -> str:
    """The violated constraint's name: PostgreSQL reports it; SQLite names only the columns."""
    diag = getattr(error.orig, "diag", None)
    if name := getattr(diag, "constraint_name", None):
        return name
    text = str(error.orig)
    for table in db.metadata.tables.values():
        for constraint in table.constraints:
            if isinstance(constraint, UniqueConstraint):
                columns = ", ".join(f"{table.name}.{column.name}" for column in constraint.columns)
                if text == f"UNIQUE constraint failed: {columns}":
                    return constraint.name
            elif isinstance(constraint, CheckConstraint) and constraint.name in text:
                return constraint.name
    return ""


def handle_http_exception(error: HTTPException):
    """Werkzeug's and flask-smorest's HTTP errors (validation errors are 422s with `errors`)."""
    rollback()
    data = getattr(error, "data", None) or {}
    errors = data.get("errors") or data.get("messages")
    message = data.get("message") or error.description or error.name
    if errors and error.code == 422:
        message = first_problem(errors) or message
    headers = dict(data.get("headers") or {})
    if error.code == 405 and error.valid_methods:
        headers["Allow"] = ", ".join(sorted(error.valid_methods))
    return json_error(error.code, message, errors, headers)


def handle_api_error(error: APIError):
    rollback()
    message = error.message
    if error.errors and error.code == 422:
        message = first_problem(error.errors) or message
    return json_error(error.code, message, error.errors)


def handle_integrity_error(error: IntegrityError):
    rollback()
    name = constraint_name(error)
    if name in CONSTRAINT_ERRORS:
        code, message = CONSTRAINT_ERRORS[name]
        return json_error(code, message)
    log.exception("Unmapped integrity error")
    return json_error(409, "The request conflicts with the current state of the data.")


def is_unavailable(error: DBAPIError) -> bool:
    if error.connection_invalidated:
        return True
    sqlstate = getattr(error.orig, "pgcode", None)
    return isinstance(error, OperationalError) and (
        sqlstate is None or sqlstate in UNAVAILABLE_SQLSTATES
    )


def handle_database_error(error: DBAPIError):
    rollback()
    if is_unavailable(error):
        log.warning("Database unavailable: %s", error.orig)
        return json_error(
            503,
            "The database is not answering. Please retry shortly.",
            headers={"Retry-After": "5"},
        )
    if getattr(error.orig, "pgcode", None) in RETRYABLE_SQLSTATES:
        # The lock order makes these rare (see app.ledger); nothing was changed, and the same
        # request will go through on a retry.
        log.warning("Retryable database conflict: %s", error.orig)
        return json_error(
            503,
            "The request collided with a concurrent one and changed nothing. Please retry.",
            headers={"Retry-After": "1"},
        )
    log.exception("Database error")
    return json_error(500, "An unexpected error occurred.")


def handle_unexpected_error(error: Exception):
    rollback()
    log.exception("Unhandled exception")
    return json_error(500, "An unexpected error occurred.")


def register_error_handlers(app: Flask) -> None:
    """Route every failure into the one shape. Called after `api.init_app`, so that our
    HTTPException handler replaces flask-smorest's."""
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(APIError, handle_api_error)
    app.register_error_handler(IntegrityError, handle_integrity_error)
    app.register_error_handler(DBAPIError, handle_database_error)
    app.register_error_handler(Exception, handle_unexpected_error)
    # Registered after Flask-SQLAlchemy's own teardown, so it runs first (Flask runs them in
    # reverse); Flask-SQLAlchemy's then finds the session already closed.
    app.teardown_appcontext(close_session)
    register_jwt_errors()


def register_jwt_errors() -> None:
    """flask-jwt-extended answers 401/422 with `{"msg": ...}` by default: use our shape, 401."""

    def unauthorized(message: str):
        return json_error(401, message, headers={"WWW-Authenticate": "Bearer"})

    jwt.unauthorized_loader(lambda reason: unauthorized("Missing or malformed bearer token."))
    jwt.invalid_token_loader(lambda reason: unauthorized("Invalid token."))
    jwt.expired_token_loader(lambda header, payload: unauthorized("Token has expired."))
    jwt.revoked_token_loader(lambda header, payload: unauthorized("Token has been revoked."))
    jwt.needs_fresh_token_loader(
        lambda header, payload: unauthorized("This needs a fresh token: log in again.")
    )
    jwt.user_lookup_error_loader(lambda header, payload: unauthorized("Token has been revoked."))
    jwt.token_verification_failed_loader(lambda header, payload: unauthorized("Invalid token."))
