"""Password hashing with argon2id (argon2-cffi), at or above OWASP's parameters.

argon2-cffi's defaults (RFC 9106 low-memory profile: t=3, m=64 MiB, p=4) exceed OWASP's minimum
(m=19 MiB, t=2, p=1). Hashes made with weaker parameters are upgraded on the next login.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

from app.common.text import fold

_hashers: dict[tuple[int, int, int], PasswordHasher] = {}


def hasher() -> PasswordHasher:
    cfg = current_app.config
    params = (cfg["ARGON2_TIME_COST"], cfg["ARGON2_MEMORY_COST"], cfg["ARGON2_PARALLELISM"])
    if params not in _hashers:
        _hashers[params] = PasswordHasher(
            time_cost=params[0], memory_cost=params[1], parallelism=params[2]
        )
    return _hashers[params]


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return hasher().check_needs_rehash(password_hash)


def burn_time(password: str) -> None:
    """Spend as long as a real verification, so an unknown username answers no faster."""
    current = hasher()
    if current not in _dummy_hashes:
        _dummy_hashes[current] = current.hash("not-a-real-password")
    verify_password(_dummy_hashes[current], password)


_dummy_hashes: dict[PasswordHasher, str] = {}


# -- what a new password must not be (NIST SP 800-63B §3.1.1.2) -------------------------------

#: zxcvbn's score 2 is "somewhat guessable": at least 10^6 guesses. Below it are the entries of
#: its 30,000 most common passwords and their l33t, reversed and capitalised variants, repeats
#: ("aaaaaaaa"), sequences ("12345678"), keyboard walks ("qwertyuiop"), dates, and common words
#: and names.
MIN_ZXCVBN_SCORE = 2
#: zxcvbn refuses longer input (its matching is quadratic); the rest of a password that long
#: only adds guesses.
ZXCVBN_MAX_LENGTH = 72


def password_problem(password: str, username: str) -> str | None:
    """Why `password` is unfit for the user `username`, or None.

    Not the username, nor containing it (compared as login compares usernames: NFKC and case
    folded), and not among the commonest or easiest guesses, by zxcvbn's estimate.
    """
    from zxcvbn import zxcvbn

    name = fold(username)
    if name and name in fold(password):
        return "Must not be or contain the username."
    result = zxcvbn(password[:ZXCVBN_MAX_LENGTH], user_inputs=[username])
    if result["score"] < MIN_ZXCVBN_SCORE:
        warning = result["feedback"]["warning"]
        return " ".join(
            part
            for part in (
                "Too common or too easy to guess.",
                warning if warning.endswith(".") else f"{warning}." if warning else "",
                "Try a few uncommon words.",
            )
            if part
        )
    return None
