"""ReDoc's script as the docs page loads it: offline, with nothing fetched from the internet.

The vendored `app/static/redoc/redoc.standalone.js` (npm `redoc`, unmodified, so it can be
replaced by a newer release) shows the Redocly logo from cdn.redoc.ly in its sidebar. The docs
CSP blocks that image, which the browser reports as a violation on every load; serving the
script with the logo's address emptied makes ReDoc drop the image (its onError hides it) and
keep the "API docs by Redocly" link text.
"""

from __future__ import annotations

import functools
from pathlib import Path

from flask import Response, request

REDOC_SCRIPT = Path(__file__).resolve().parent / "static" / "redoc" / "redoc.standalone.js"
REDOCLY_LOGO = b'"https://cdn.redoc.ly/redoc/logo-mini.svg"'


@functools.cache
def redoc_script() -> bytes:
    return REDOC_SCRIPT.read_bytes().replace(REDOCLY_LOGO, b'""')


def redoc_script_view() -> Response:
    response = Response(redoc_script(), mimetype="text/javascript")
    response.add_etag()
    return response.make_conditional(request)
