"""/token (OAuth2 password login), /token/refresh and /token/revoke (log out)."""

from __future__ import annotations

from flask import current_app, request
from flask.views import MethodView
from flask_jwt_extended import get_jwt
from werkzeug.exceptions import HTTPException

from app.auth import service, tokens
from app.auth.schemas import AccessTokenSchema, TokenRequestSchema, TokenSchema
from app.common.api import Blueprint, commits
from app.common.auth import current_user
from app.common.errors import Unauthorized
from app.extensions import limiter
from app.users.models import canonical_username

blp = Blueprint("auth", __name__, url_prefix="/token", description="Log in and out")

FORM = "application/x-www-form-urlencoded"


def login_username_key() -> str:
    """The username limit's key. Never raises: Flask-Limiter takes any exception from a key
    function for its storage being down, counts in its in-memory fallback instead, and returns
    to the real storage a second later without those counts. A form too large to read (413)
    did that; its request fails anyway, uncounted, so it gets the key of an empty username."""
    try:
        username = request.form.get("username", "")
    except HTTPException:
        username = ""
    return "login-user:" + canonical_username(username)


def failed_login(response) -> bool:
    """Only failed logins count towards the login limits."""
    return response.status_code == 401


@blp.route("")
class Token(MethodView):
    #: The one endpoint that reads a form, not JSON (see app.common.content).
    accepts = (FORM, "multipart/form-data")
    decorators = [
        limiter.limit(
            lambda: current_app.config["LOGIN_RATE_LIMIT_USER"],
            key_func=login_username_key,
            deduct_when=failed_login,
            scope="login-user",
        ),
        limiter.limit(
            lambda: current_app.config["LOGIN_RATE_LIMIT_IP"],
            deduct_when=failed_login,
            scope="login-ip",
        ),
    ]

    @blp.arguments(TokenRequestSchema, location="form")
    @blp.response(200, TokenSchema)
    @blp.alt_response(401, description="Wrong username or password")
    @blp.alt_response(429, description="Too many failed logins")
    @commits  # a rehashed password, when the parameters rose
    def post(self, form):
        """Log in with the OAuth2 password form; returns an access and a refresh token"""
        user = service.authenticate(form["username"], form["password"])
        if user is None:
            raise Unauthorized("Incorrect username or password.")
        return tokens.issue_tokens(user, fresh=True)


@blp.route("/refresh")
class TokenRefresh(MethodView):
    @blp.login_required(refresh=True)
    @blp.response(200, AccessTokenSchema)
    def post(self):
        """A new access token for a refresh token (sent as the bearer token)"""
        return tokens.issue_access_token(current_user(), refresh_jti=get_jwt()["jti"], fresh=False)


@blp.route("/revoke")
class TokenRevoke(MethodView):
    @blp.login_required
    @blp.response(204)
    @commits
    def post(self):
        """Log out: the presented access token and its refresh token stop working"""
        access = get_jwt()
        revoked = [access]
        if access.get("rjti"):
            # The refresh token's own expiry is not in the access token; keep the row as long
            # as a refresh token can live.
            lifetime = current_app.config["JWT_REFRESH_TOKEN_EXPIRES"]
            revoked.append({"jti": access["rjti"], "exp": access["iat"] + lifetime.total_seconds()})
        tokens.revoke(*revoked)
