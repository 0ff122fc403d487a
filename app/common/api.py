"""flask-smorest's Blueprint, adapted to our contract, and the one commit of a request.

`Blueprint`:
- parses JSON bodies with exact decimals; an empty body sent as JSON is invalid JSON (400);
- refuses unknown query parameters (422), like unknown body fields;
- `login_required` checks the bearer token and, with `owner=True`, that the path's `user_id` is
  the caller's (403); it documents the security scheme, the 401 and the 403 (bemserver-api style);
- `precondition(schema)` is the one If-Match check, for a service to run on the row it locked;
- every documented error answer carries the one error shape as its body.

`commits` is the one place a request commits: after the view returned, before the response is
built. A view that raises commits nothing (app.errors rolls back).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import flask_smorest
from flask import request
from flask_jwt_extended import current_user, verify_jwt_in_request
from marshmallow import RAISE
from webargs import core
from webargs.flaskparser import FlaskParser, abort, is_json_request

from app.common import json as exact_json
from app.common.db import outside_a_transaction
from app.common.errors import Forbidden, PreconditionFailed
from app.common.schemas import ErrorSchema
from app.extensions import db

Precondition = Callable[[Any], None]


def no_precondition(obj: Any) -> None:
    """Nothing to check: a request without If-Match, a write from the CLI or an import."""


def commits(view: Callable) -> Callable:
    """Commit the request's one database transaction once `view` has returned."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = view(*args, **kwargs)
        db.session.commit()
        return result

    return wrapper


class ExactJSONParser(FlaskParser):
    """webargs parses JSON itself; make it read numbers as Decimal like the rest of the app."""

    DEFAULT_VALIDATION_STATUS = 422
    # Query strings are checked against their schema like bodies: a typo such as ?type=expense
    # must be a 422, never an unfiltered answer (webargs ignores unknown query keys by default).
    DEFAULT_UNKNOWN_BY_LOCATION = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": RAISE,
        "querystring": RAISE,
    }

    def _raw_load_json(self, req):
        if not is_json_request(req):
            return core.missing
        body = req.get_data(cache=True)
        if not body.strip():
            # webargs reads an empty JSON body as "no body"; it is invalid JSON ({} is the empty
            # change).
            return self._handle_invalid_json_error(None, req)
        # A body that is not UTF-8 raises UnicodeDecodeError, which webargs answers with a 400.
        try:
            return exact_json.loads(body)
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

STALE_ETAG = (
    "The {name} changed since you read it, so If-Match no longer matches its ETag: "
    "GET it again, re-apply your change to what you get, and send that response's ETag."
)


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = ExactJSONParser()

    def arguments(self, schema, *, location="json", required=None, **kwargs):
        """As flask-smorest's, but a JSON body whose fields are all optional (PATCH, PUT) is
        documented as optional: a missing body reads as `{}` and changes nothing, a 200.
        Marks the view as reading the query string (see app.common.http)."""
        # One instance for every request: given a class, webargs would make (and deep-copy
        # the fields of) a new one per request; a schema keeps no state between loads.
        instance = schema() if isinstance(schema, type) else schema
        if required is None:
            required = location != "json" or any(f.required for f in instance.fields.values())
        decorator = super().arguments(instance, location=location, required=required, **kwargs)
        if location != "query":
            return decorator

        def reads_query(func):
            wrapper = decorator(func)
            wrapper.reads_query = True  # copied upwards by the outer decorators' functools.wraps
            return wrapper

        return reads_query

    def alt_response(self, status_code, response=None, *, schema=None, **kwargs):
        """As flask-smorest's, but an error answer documents the one error shape as its body."""
        if response is None and schema is None and int(status_code) >= 400:
            schema = ErrorSchema
        return super().alt_response(status_code, response, schema=schema, **kwargs)

    # ETags (`@blp.etag`): flask-smorest answers 428 to a PUT/PATCH/DELETE without If-Match and
    # warns when a view did not call check_etag. Ours is optional (without it a write behaves as
    # before), and checked by `precondition`, which services run once they hold the row's lock.
    def _check_precondition(self):
        pass

    def _verify_check_etag(self):
        pass

    def _prepare_etag_doc(self, doc, doc_info, **kwargs):
        doc = super()._prepare_etag_doc(doc, doc_info, **kwargs)
        doc.get("responses", {}).pop(428, None)
        if "parameters" in doc:
            doc["parameters"] = [
                OPTIONAL_IF_MATCH if param == "IF_MATCH" else param for param in doc["parameters"]
            ]
        return doc

    def precondition(self, schema) -> Precondition:
        """The request's If-Match check on a row, as `schema` shows it (a no-op without
        If-Match). A service calls it once it holds the row's lock, so no write slips in
        between the check and the change. Without If-Match, `no_precondition`: a service may
        then skip building what only the check reads."""
        if_match = request.if_match
        if not if_match:
            return no_precondition

        def check(obj: Any) -> None:
            instance = schema() if isinstance(schema, type) else schema
            if self._generate_etag(instance.dump(obj)) not in if_match:
                raise PreconditionFailed(STALE_ETAG.format(name=type(obj).__name__.lower()))

        return check

    def login_required(
        self,
        func=None,
        *,
        fresh: bool = False,
        refresh: bool = False,
        owner: bool = False,
        reads_only: bool = False,
    ):
        """Require a valid access token (or a fresh one, or a refresh token); with `owner`,
        the path's `user_id` must be the caller's (else 403).

        `reads_only`: the view writes nothing and streams nothing, so its statements run
        outside a transaction: under READ COMMITTED each statement has its own snapshot
        inside one too, and without it there is no BEGIN and no ROLLBACK, two of the three
        round trips of a one-query request. Never for a view that writes (each statement
        would commit alone) or reads from a server-side cursor (psycopg2 needs a transaction
        for one).

        Documents the security scheme, the 401 answer and, with `owner`, the 403.
        """
        if func is None:
            return functools.partial(
                self.login_required,
                fresh=fresh,
                refresh=refresh,
                owner=owner,
                reads_only=reads_only,
            )

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            if reads_only:
                outside_a_transaction(db.session.connection())
            verify_jwt_in_request(fresh=fresh, refresh=refresh)
            if "user_id" in kwargs:
                if not owner:
                    # A path user_id left unchecked would let anyone read anyone's data.
                    raise RuntimeError(f"{func.__qualname__}: a path user_id needs owner=True")
                if kwargs["user_id"] != current_user.id:
                    raise Forbidden("You can only access your own data.")
            return func(*args, **kwargs)

        wrapper = self.doc(security=[{"OAuth2PasswordBearer": []}])(wrapper)
        wrapper = self.alt_response(401, description="Missing, invalid, expired or revoked token")(
            wrapper
        )
        if owner:
            wrapper = self.alt_response(403, description="The path's user is not the caller")(
                wrapper
            )
        return wrapper
