"""UNSET: a keyword not given, meaning "leave it as it is".

Services take a PATCH's fields as keywords defaulting to UNSET, since None may be a value
(no destination, no category, no email).
"""

from typing import Any


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()
