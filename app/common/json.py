"""Flask's JSON provider: exact decimals in, orjson out.

JSON numbers become `Decimal`, never `float`, so an amount like 0.1 arrives exactly as written.
NaN and Infinity literals become Decimal NaN/Infinity, which the Money field rejects with a 422.
"""

import json
from decimal import Decimal
from typing import Any

import orjson
from flask.json.provider import DefaultJSONProvider


def loads(s: str | bytes, **kwargs: Any) -> Any:
    return json.loads(s, parse_float=Decimal, parse_constant=Decimal, **kwargs)


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
