"""flask-smorest's Api and Blueprint, adapted to our contract.

- `Api` answers every HTTP error in the one shape
  `{"code", "status", "message", "errors"?}`;
- `Blueprint` parses JSON bodies with exact decimals and offers `login_required`, which also
  documents the bearer security and the 401 answer (bemserver-api style).
"""

from __future__ import annotations

import functools
from typing import Any

import flask_smorest
from flask import request
from flask_jwt_extended import verify_jwt_in_request
from flask_smorest.error_handler import ErrorSchema
from webargs import core
from webargs.flaskparser import FlaskParser, abort, is_json_request
from werkzeug.exceptions import HTTPException

from app.common import json as exact_json

VALIDATION_MESSAGE = "The request was well-formed but some of its values are invalid."


def error_payload(code: int, status: str, message: str, errors: Any = None) -> dict[str, Any]:
    payload: dict[str, Any] = {"code": code, "status": status, "message": message}
    if errors:
        payload["errors"] = errors
    return payload


class Api(flask_smorest.Api):
    def handle_http_exception(self, error: HTTPException):
        data = getattr(error, "data", None) or {}
        errors = data.get("errors") or data.get("messages")
        if errors and error.code == 422:
            message = data.get("message", VALIDATION_MESSAGE)
        else:
            message = data.get("message") or error.description or error.name
        headers = dict(data.get("headers") or {})
        if error.code == 405 and error.valid_methods:
            headers["Allow"] = ", ".join(sorted(error.valid_methods))
        return error_payload(error.code, error.name, message, errors), error.code, headers


class ExactJSONParser(FlaskParser):
    """webargs parses JSON itself; make it read numbers as Decimal like the rest of the app."""

    DEFAULT_VALIDATION_STATUS = 422

    def _raw_load_json(self, req):
        if not is_json_request(req):
            return core.missing
        # A body that is not UTF-8 raises UnicodeDecodeError, which webargs answers with a 400
        # (a JSONDecodeError with an empty `doc` would pass for a missing body: a 422).
        try:
            return exact_json.loads(req.get_data(cache=True))
        except exact_json.UnparsableJSON as error:
            # Too deep, or an integer past Python's conversion limit: webargs knows only
            # JSONDecodeError, and anything else would be a 500 with a traceback.
            return self._handle_invalid_json_error(error, req)

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        reason = (
            str(error) if isinstance(error, exact_json.UnparsableJSON) else "Invalid JSON body."
        )
        abort(400, message="The body is not valid JSON.", messages={"json": [reason]})


#: If-Match as we document it: optional (flask-smorest's own says required).
OPTIONAL_IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": "The ETag of the version you last read: if it changed since, a 412 and "
    "nothing changes. Without it the request applies regardless.",
    "schema": {"type": "string"},
}


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = ExactJSONParser()

    def arguments(self, schema, *, location="json", required=None, **kwargs):
        """As flask-smorest's, but a JSON body whose fields are all optional (PATCH, PUT) is
        documented as optional: a missing body reads as `{}` and changes nothing, a 200."""
        if required is None:
            instance = schema() if isinstance(schema, type) else schema
            required = location != "json" or any(f.required for f in instance.fields.values())
        return super().arguments(schema, location=location, required=required, **kwargs)

    def alt_response(self, status_code, response=None, *, schema=None, **kwargs):
        """As flask-smorest's, but an error answer documents the one error shape as its body."""
        if response is None and schema is None and int(status_code) >= 400:
            schema = ErrorSchema
        return super().alt_response(status_code, response, schema=schema, **kwargs)

    # ETags (`@blp.etag`): flask-smorest answers 428 to a PUT/PATCH/DELETE without If-Match.
    # Ours is optional: without it a write behaves as before; a stale one is a 412.
    def _check_precondition(self):
        pass

    def _verify_check_etag(self):
        if request.if_match:
            super()._verify_check_etag()

    def _prepare_etag_doc(self, doc, doc_info, **kwargs):
        doc = super()._prepare_etag_doc(doc, doc_info, **kwargs)
        doc.get("responses", {}).pop(428, None)
        if "parameters" in doc:
            doc["parameters"] = [
                OPTIONAL_IF_MATCH if param == "IF_MATCH" else param for param in doc["parameters"]
            ]
        return doc

    def login_required(self, func=None, *, fresh: bool = False, refresh: bool = False):
        """Require a valid access token (or a fresh one, or a refresh token).

        Also documents the security scheme and the 401 answer.
        """
        if func is None:
            return functools.partial(self.login_required, fresh=fresh, refresh=refresh)

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            verify_jwt_in_request(fresh=fresh, refresh=refresh)
            return func(*args, **kwargs)

        wrapper = self.doc(security=[{"OAuth2PasswordBearer": []}])(wrapper)
        return self.alt_response(401, description="Missing, invalid, expired or revoked token")(
            wrapper
        )
