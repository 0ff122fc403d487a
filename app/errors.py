"""The one JSON error shape, for every error the app can answer.

`{"code": 422, "status": "Unprocessable Entity", "message": "...", "errors": {...}}`

Services raise the plain exceptions below (no Flask in them); HTTP errors, database integrity
errors, JWT failures and unexpected exceptions are all turned into that shape here.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from flask import Flask
from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from app.common.api import error_payload
from app.extensions import db, jwt

log = logging.getLogger(__name__)


class APIError(Exception):
    """An error a service reports to the client; `code` picks the HTTP status."""

    code = 400

    def __init__(self, message: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors


class NotFound(APIError):
    code = 404


class Forbidden(APIError):
    code = 403


class Conflict(APIError):
    code = 409


class Unprocessable(APIError):
    code = 422

    @classmethod
    def field(cls, field: str, message: str, location: str = "json") -> Unprocessable:
        """A 422 naming the offending field, keyed like flask-smorest's validation errors."""
        return cls(message, {location: {field: [message]}})


#: Integrity errors by constraint name: (status, message). Unique violations default to 409.
CONSTRAINT_ERRORS = {
    "uq_users_username_canonical": (409, "That username is taken."),
    "uq_users_username_skeleton": (
        409,
        "That username is taken, or looks like one that is (Unicode confusables).",
    ),
    "uq_accounts_user_id_name": (409, "You already have an account with that name."),
    "uq_categories_user_id_name": (409, "You already have a category with that name."),
    "uq_transactions_account_id_import_id": (409, "A transaction with that import id exists."),
    "ck_accounts_balance_range": (
        422,
        "This change would push an account balance beyond ±9×10^17 minor units.",
    ),
}

#: PostgreSQL SQLSTATEs that mean "the database is not answering right now".
UNAVAILABLE_SQLSTATES = {"57P01", "57P02", "57P03", "08000", "08003", "08006", "08001", "08004"}
#: Deadlock detected, serialization failure: the transaction was rolled back; retrying works.
RETRYABLE_SQLSTATES = {"40P01", "40001"}


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


def json_error(code: int, message: str, errors: Any = None, headers: dict | None = None):
    return error_payload(code, HTTPStatus(code).phrase, message, errors), code, headers or {}


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


def handle_api_error(error: APIError):
    rollback()
    return json_error(error.code, error.message, error.errors)


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
        # The lock order makes these rare (an account deleted while its transactions are
        # edited); nothing was changed, and the same request will go through on a retry.
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
    """Route every failure into the one shape (HTTP errors are handled by app.common.api.Api)."""
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
