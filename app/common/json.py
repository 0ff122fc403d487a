"""Flask's JSON provider: exact decimals in, orjson out.

JSON numbers become `Decimal`, never `float`, so an amount like 0.1 arrives exactly as written.
NaN and Infinity literals become Decimal NaN/Infinity, which the Money field rejects with a 422.

Bodies the decoder cannot turn into data without harm raise `UnparsableJSON` (a ValueError, as
invalid JSON is): nesting deeper than MAX_DEPTH (deep enough input makes the recursive decoder,
or any later recursive walk, raise RecursionError) and integers past Python's int-conversion
limit (4,300 digits, CVE-2020-10735).
"""

import json
import sys
from decimal import Decimal
from typing import Any

import orjson
from flask import current_app
from flask.json.provider import DefaultJSONProvider

#: Our bodies are flat objects; anything this deep is an attack, not a request.
MAX_DEPTH = 32


class UnparsableJSON(ValueError):
    """Syntactically JSON, perhaps, but not data this service will read."""


def loads(s: str | bytes, **kwargs: Any) -> Any:
    try:
        data = json.loads(s, parse_float=Decimal, parse_constant=Decimal, **kwargs)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise UnparsableJSON(f"JSON nested deeper than {MAX_DEPTH} levels.") from None
    except ValueError:  # "Exceeds the limit (4300 digits) for integer string conversion"
        limit = sys.get_int_max_str_digits()
        raise UnparsableJSON(f"A number in the body has more than {limit:,} digits.") from None
    check_depth(data)
    return data


def check_depth(data: Any) -> None:
    """Walk the containers without recursion; raise past MAX_DEPTH levels."""
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        children = value.values() if isinstance(value, dict) else value
        if isinstance(value, (dict, list)):
            if depth > MAX_DEPTH:
                raise UnparsableJSON(f"JSON nested deeper than {MAX_DEPTH} levels.")
            pending.extend((child, depth + 1) for child in children)


def _default(obj: Any) -> Any:
    if isinstance(obj, Decimal):
        return str(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


class JSONProvider(DefaultJSONProvider):
    """orjson for responses (fast on large lists); stdlib json with Decimal for requests."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        option = orjson.OPT_NON_STR_KEYS
        if kwargs.get("sort_keys"):  # flask-smorest hashes ETags over sorted JSON
            option |= orjson.OPT_SORT_KEYS
        return orjson.dumps(obj, default=_default, option=option).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads(s, **kwargs)

    def response(self, *args: Any, **kwargs: Any):
        obj = self._prepare_response_obj(args, kwargs)
        body = orjson.dumps(obj, default=_default, option=orjson.OPT_NON_STR_KEYS)
        return self._app.response_class(body, mimetype=self.mimetype)


def response(data: Any, status: int = 200, headers: dict[str, str] | None = None):
    """A JSON response of `data` already in its response shape (what `jsonify` would answer
    for it), for views that build their body without a schema dump."""
    body = orjson.dumps(data, default=_default, option=orjson.OPT_NON_STR_KEYS)
    return current_app.response_class(
        body, status=status, headers=headers, mimetype=current_app.json.mimetype
    )
