"""Request and response rules that hold for every endpoint.

- a body must be JSON (415 otherwise), except where a view class lists what it `accepts`;
- a body is at most MAX_CONTENT_LENGTH bytes (413), except where a view class names a larger
  limit's setting in `body_limit` (uploads: MAX_UPLOAD_SIZE);
- ids in paths are 32-bit: a larger one is a 404 rather than a database error;
- a query parameter that the operation does not read is a 422 naming it;
- the `Bearer` auth scheme is read in any case (RFC 7235 §2.1), as flask-jwt-extended does not;
- security headers on every response, `no-store` on anything personal.
"""

from __future__ import annotations

import re

from flask import Flask, current_app, request
from flask_smorest import abort
from werkzeug.exceptions import (
    HTTPException,
    MethodNotAllowed,
    NotFound,
    RequestEntityTooLarge,
    UnsupportedMediaType,
)
from werkzeug.routing import IntegerConverter

from app.common.schemas import MAX_ID

JSON = ("application/json",)
BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
#: Public, non-personal pages that may be cached.
CACHEABLE_PREFIXES = ("/static/", "/docs-assets/")
DOCS_PATHS = ("/swagger-ui", "/redoc")
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' blob:; "
    "style-src 'self' 'unsafe-inline' https://fonts.googleapis.com; img-src 'self' data: blob:; "
    "font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'"
)
API_CSP = "default-src 'none'; frame-ancestors 'none'"
#: "bearer", "BEARER"... as the first word of an Authorization field value (values may be
#: comma-separated, as flask-jwt-extended reads them).
AUTHORIZATION_KEY = "HTTP_AUTHORIZATION"  # the WSGI environ's name of the header
BEARER_ANY_CASE = re.compile(r"(^|,)(\s*)bearer(?=\s)", re.IGNORECASE)


class IdConverter(IntegerConverter):
    """`<int:...>` that refuses ids beyond the 32-bit range (PostgreSQL would raise)."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 - werkzeug's name
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def accepted_types() -> tuple[str, ...]:
    view = current_app.view_functions.get(request.endpoint)
    return getattr(getattr(view, "view_class", None), "accepts", JSON)


def is_chunked() -> bool:
    return "chunked" in request.headers.get("Transfer-Encoding", "").lower()


def check_content_type() -> None:
    if request.method not in BODY_METHODS or not (request.content_length or is_chunked()):
        return
    if request.endpoint is None:
        return  # a 404 or 405 answers first
    if request.mimetype not in accepted_types():
        expected = " or ".join(accepted_types())
        raise UnsupportedMediaType(
            f"Send the body as {expected}, not {request.mimetype or 'an unnamed type'}."
        )


def refuse_unread_query() -> None:
    """An operation without query parameters takes none: `?archived=false` on one that does not
    filter must be a 422, not an unfiltered answer. (Operations with a query schema refuse
    unknown keys while parsing it: app.common.api.)"""
    if not request.args:
        return
    view_class = getattr(current_app.view_functions.get(request.endpoint), "view_class", None)
    method = request.method.lower() if request.method != "HEAD" else "get"
    handler = getattr(view_class, method, None)
    if handler is None or getattr(handler, "reads_query", False):
        return
    name = next(iter(request.args))
    abort(422, errors={"query": {name: ["Unknown field."]}})


def view_body_limit() -> None:
    """A view class with `body_limit = "SETTING"` takes bodies up to that setting's size instead
    of MAX_CONTENT_LENGTH (the limit for JSON); Werkzeug enforces it while reading (413)."""
    view_class = getattr(current_app.view_functions.get(request.endpoint), "view_class", None)
    setting = getattr(view_class, "body_limit", None)
    if setting is not None:
        request.max_content_length = current_app.config[setting]
        request.max_form_memory_size = current_app.config[setting]


def check_chunked_body_size() -> None:
    """A chunked body has no Content-Length to refuse up front, and Werkzeug quietly cuts such
    a stream at MAX_CONTENT_LENGTH: read it (never past the limit) and refuse it if it got there.
    """
    limit = request.max_content_length
    if limit is None or request.method not in BODY_METHODS or not is_chunked():
        return
    if request.endpoint is not None and len(request.get_data(cache=True)) >= limit:
        raise RequestEntityTooLarge()


def method_not_allowed_without_slash() -> None:
    """`PUT /categories` is a 405 like `PUT /categories/`, not a 404.

    Werkzeug matches a path without its trailing slash only when the method fits, and reports a
    404 otherwise; matching the slashed path tells us which methods the resource has.
    """
    if not isinstance(request.routing_exception, NotFound) or request.path.endswith("/"):
        return
    adapter = current_app.url_map.bind_to_environ(request.environ)
    try:
        adapter.match(request.path + "/", method=request.method)
    except MethodNotAllowed as exc:
        raise MethodNotAllowed(valid_methods=exc.valid_methods) from None
    except HTTPException:
        pass  # no resource there either: the 404 stands


def bearer_scheme_any_case() -> None:
    """RFC 7235: auth schemes are case-insensitive; flask-jwt-extended compares "Bearer" exactly.
    Spell the scheme its way before it reads the header (the token itself is left as sent)."""
    header = request.headers.get("Authorization")
    if header and not header.startswith("Bearer "):
        request.environ[AUTHORIZATION_KEY] = BEARER_ANY_CASE.sub(r"\1\2Bearer", header)


def security_headers(response):
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "no-referrer")
    if request.path.startswith(DOCS_PATHS):
        headers.setdefault("Content-Security-Policy", DOCS_CSP)
    elif not request.path.startswith(CACHEABLE_PREFIXES):
        headers.setdefault("Content-Security-Policy", API_CSP)
        headers.setdefault("Cache-Control", "no-store")
    return response


def register_http_rules(app: Flask) -> None:
    """Must run before any route is added: rules bind their converters when added."""
    app.url_map.converters["int"] = IdConverter
    # Every path works with and without its trailing slash, with no redirect.
    app.url_map.strict_slashes = False
    app.before_request(method_not_allowed_without_slash)
    app.before_request(check_content_type)
    app.before_request(view_body_limit)
    app.before_request(check_chunked_body_size)
    app.before_request(refuse_unread_query)
    app.before_request(bearer_scheme_any_case)
    app.after_request(security_headers)
