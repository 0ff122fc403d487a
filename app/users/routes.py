"""/users/ — registration — and /users/me/ — the caller's own profile."""

from flask import current_app
from flask.views import MethodView

from app.common.api import Blueprint, commits
from app.common.auth import caller
from app.common.errors import Forbidden
from app.common.limits import password_check_limit
from app.extensions import limiter
from app.users import service
from app.users.schemas import (
    PasswordChangeSchema,
    PasswordConfirmSchema,
    UserCreateSchema,
    UserSchema,
    UserUpdateSchema,
)

blp = Blueprint("users", __name__, url_prefix="/users", description="Registration and profile")


def registration_limit() -> str:
    return current_app.config["REGISTER_RATE_LIMIT"]


@blp.route("/")
class UserList(MethodView):
    decorators = [limiter.limit(registration_limit, methods=["POST"])]

    @blp.arguments(UserCreateSchema)
    @blp.response(201, UserSchema)
    @blp.alt_response(403, description="Registration is closed on this instance")
    @blp.alt_response(409, description="The username is taken, or looks like a taken one")
    @blp.alt_response(429, description="Too many registrations from this address")
    @commits
    def post(self, data):
        """Register a new user"""
        if not current_app.config["ALLOW_REGISTRATION"]:
            raise Forbidden("Registration is closed on this instance.")
        return service.register(**data)


@blp.route("/me/")
class Me(MethodView):
    @blp.login_required(reads_only=True)
    @blp.response(200, UserSchema)
    def get(self):
        """The caller's profile"""
        return caller()

    @blp.login_required
    @blp.arguments(UserUpdateSchema)
    @blp.response(200, UserSchema)
    @commits
    def patch(self, data):
        """Change the caller's email or base currency"""
        return service.update_profile(service.caller_user(), **data)

    @blp.login_required(fresh=True)
    @password_check_limit()
    @blp.arguments(PasswordConfirmSchema)
    @blp.response(204)
    @blp.alt_response(403, description="The password is wrong")
    @blp.alt_response(429, description="Too many wrong passwords for this user (logins included)")
    @commits
    def delete(self, data):
        """Delete the caller and all their data (needs the password and a fresh token)"""
        user = service.caller_user()
        service.check_password(user, data["password"])
        service.delete_user(user)


@blp.route("/me/password")
class MyPassword(MethodView):
    @blp.login_required(fresh=True)
    @password_check_limit()
    @blp.arguments(PasswordChangeSchema)
    @blp.response(204)
    @blp.alt_response(403, description="The current password is wrong")
    @blp.alt_response(429, description="Too many wrong passwords for this user (logins included)")
    @commits
    def post(self, data):
        """Change the caller's password (needs a fresh token); every older token stops working"""
        service.change_password(
            service.caller_user(), data["current_password"], data["new_password"]
        )
