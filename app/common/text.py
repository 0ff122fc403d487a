"""Text as people mean it: names that differ only in case or Unicode form are one name."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """NFKC + casefold: "Café", "CAFÉ" and "café" (composed or not) are one name.

    Done in Python because SQL lower() folds only ASCII on SQLite.
    """
    return unicodedata.normalize("NFKC", text).casefold()
