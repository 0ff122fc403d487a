"""The errors services raise: plain exceptions, no Flask. `app.errors` turns each into the one
JSON error shape, with `code` as the HTTP status.

A service names the offending field (`Unprocessable("...", field="amount")`), never where the
field travelled in the request: it is filed under the request body's location, "json".
"""

from __future__ import annotations

from typing import Any


class APIError(Exception):
    """An error a service reports to the client; `code` picks the HTTP status."""

    code = 400

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        location: str = "json",
        errors: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors
        if field is not None:
            # HTTP-level code (a header check, say) names another location; services never do.
            self.errors = {location: {field: [message]}}


class Unauthorized(APIError):
    code = 401


class Forbidden(APIError):
    code = 403


class NotFound(APIError):
    code = 404


class Conflict(APIError):
    code = 409


class PreconditionFailed(APIError):
    code = 412


class Unprocessable(APIError):
    code = 422


class PayloadTooLarge(APIError):
    code = 413
