"""The rate limits on password checks, shared by the login form (app.auth) and the checks made
with a token (app.users: changing the password, deleting the user), so that a stolen token gets
no more guesses than a login form. One count per username: the same key and scope everywhere.

Key functions never raise: Flask-Limiter takes any exception from one for its storage being
down, counts in its in-memory fallback instead, and returns to the real storage a second later
without those counts.
"""

from __future__ import annotations

from flask import current_app, request
from werkzeug.exceptions import HTTPException

from app.common.auth import caller
from app.common.text import fold
from app.extensions import limiter

#: The scope of the shared per-user count of wrong passwords.
SCOPE_USER_PASSWORD = "password-checks-user"


def user_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT_USER"]


def login_username_key() -> str:
    """The login form's username, folded as usernames are (User.username_canonical). A form
    too large to read (413) fails anyway, uncounted: it gets the key of an empty username."""
    try:
        username = request.form.get("username", "")
    except HTTPException:
        username = ""
    return "login-user:" + fold(username)


def caller_key() -> str:
    return "login-user:" + caller().username_canonical


def failed_login(response) -> bool:
    """Only failed logins (401: wrong username or password) count towards the login limits."""
    return response.status_code == 401


def failed_login_limits() -> list:
    """For POST /token: per username (shared with the in-session checks) and per client IP.
    Shared limits both: of two, the rate-limit headers describe the tighter, per-user one."""
    return [
        limiter.shared_limit(
            user_limit,
            scope=SCOPE_USER_PASSWORD,
            key_func=login_username_key,
            deduct_when=failed_login,
        ),
        limiter.shared_limit(
            lambda: current_app.config["LOGIN_RATE_LIMIT_IP"],
            scope="login-ip",
            deduct_when=failed_login,
        ),
    ]


def password_check_limit():
    """For a route behind `login_required` (put it below that decorator, so that the caller
    is known when the limit is checked): a 403 (the wrong password) counts."""
    return limiter.shared_limit(
        user_limit,
        scope=SCOPE_USER_PASSWORD,
        key_func=caller_key,
        deduct_when=lambda response: response.status_code == 403,
    )
