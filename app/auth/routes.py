"""/token (OAuth2 password login), /token/refresh and /token/revoke (log out)."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_jwt_extended import get_jwt
from flask_smorest import abort

from app.auth import service, tokens
from app.auth.schemas import TokenRequestSchema, TokenSchema
from app.common.api import Blueprint, commits
from app.common.auth import caller
from app.common.errors import Unauthorized
from app.common.limits import failed_login_limits
from app.extensions import db

blp = Blueprint("auth", __name__, url_prefix="/token", description="Log in and out")

FORM = "application/x-www-form-urlencoded"


@blp.route("")
class Token(MethodView):
    #: The one endpoint that reads a form, not JSON (see app.common.content).
    accepts = (FORM, "multipart/form-data")
    decorators = failed_login_limits()

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
    @blp.response(200, TokenSchema)
    @commits
    def post(self):
        """New tokens for a refresh token (sent as the bearer token), which stops working

        Refresh tokens rotate: keep the new one. Presenting a used refresh token again is a 401
        and revokes every token descended from the same login.
        """
        used = get_jwt()
        family = tokens.family_of(used)
        if not tokens.use_refresh_token(used):
            # Another request used it first: a reuse, as if it came after that one.
            tokens.revoke_family(family)
            # The one error answer whose change must last: the family stays revoked.
            db.session.commit()
            abort(401, message="Token has been revoked.", headers={"WWW-Authenticate": "Bearer"})
        return tokens.issue_tokens(caller(), fresh=False, family=family)


@blp.route("/revoke")
class TokenRevoke(MethodView):
    @blp.login_required
    @blp.response(204)
    @commits
    def post(self):
        """Log out: the presented access token and every token of its login stop working"""
        access = get_jwt()
        tokens.revoke(access)
        if access.get("fam"):
            tokens.revoke_family(access["fam"])
        elif access.get("rjti"):
            # A token from before families: its refresh token's own expiry is not in it; keep
            # the row as long as a refresh token can live.
            lifetime = current_app.config["JWT_REFRESH_TOKEN_EXPIRES"]
            tokens.revoke({"jti": access["rjti"], "exp": access["iat"] + lifetime.total_seconds()})
