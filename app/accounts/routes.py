"""/users/{user_id}/accounts/ — the caller's accounts."""

from flask import request
from flask.views import MethodView
from sqlalchemy import select

from app.accounts import service
from app.accounts.models import Account
from app.accounts.schemas import AccountCreateSchema, AccountSchema, AccountUpdateSchema
from app.common.api import Blueprint
from app.common.auth import get_owned, require_self
from app.common.pagination import TOTAL_COUNT_HEADER, paginate
from app.common.schemas import PageArgsSchema
from app.extensions import db

blp = Blueprint(
    "accounts", __name__, url_prefix="/users/<int:user_id>/accounts", description="Accounts"
)


@blp.route("/")
class AccountList(MethodView):
    @blp.login_required
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, AccountSchema(many=True), headers=TOTAL_COUNT_HEADER)
    @blp.alt_response(403, description="The path's user is not the caller")
    def get(self, args, user_id):
        """List the caller's accounts"""
        require_self(user_id)
        stmt = select(Account).where(Account.user_id == user_id)
        items, headers = paginate(stmt, [Account.id], args["skip"], args["limit"])
        return items, 200, headers

    @blp.login_required
    @blp.arguments(AccountCreateSchema)
    @blp.response(201, AccountSchema)
    @blp.alt_response(403, description="The path's user is not the caller")
    @blp.alt_response(409, description="An account with that name exists")
    def post(self, data, user_id):
        """Open an account"""
        require_self(user_id)
        account = service.create(user_id, data)
        db.session.commit()
        return account


@blp.route("/<int:account_id>")
class AccountDetail(MethodView):
    @blp.etag
    @blp.login_required
    @blp.response(200, AccountSchema)
    @blp.alt_response(403, description="The path's user is not the caller")
    @blp.alt_response(404, description="No such account of the caller's")
    def get(self, user_id, account_id):
        """One account, with its current balance (and an ETag for If-Match)"""
        require_self(user_id)
        return get_owned(Account, account_id, user_id)

    def _update(self, data, user_id, account_id):
        require_self(user_id)
        if request.if_match:
            # Locked first, as the service would, so no other write slips in between.
            check_if_match(service.lock_accounts(user_id, [account_id])[account_id])
        account = service.update(user_id, account_id, data)
        db.session.commit()
        return account

    @blp.etag
    @blp.login_required
    @blp.arguments(AccountUpdateSchema)
    @blp.response(200, AccountSchema)
    @blp.alt_response(403, description="The path's user is not the caller")
    @blp.alt_response(404, description="No such account of the caller's")
    @blp.alt_response(409, description="Name taken, or currency change with transactions")
    def put(self, data, user_id, account_id):
        """Change an account (only the fields given)"""
        return self._update(data, user_id, account_id)

    @blp.etag
    @blp.login_required
    @blp.arguments(AccountUpdateSchema)
    @blp.response(200, AccountSchema)
    @blp.alt_response(403, description="The path's user is not the caller")
    @blp.alt_response(404, description="No such account of the caller's")
    @blp.alt_response(409, description="Name taken, or currency change with transactions")
    def patch(self, data, user_id, account_id):
        """Change an account (only the fields given)"""
        return self._update(data, user_id, account_id)

    @blp.etag
    @blp.login_required
    @blp.response(204)
    @blp.alt_response(403, description="The path's user is not the caller")
    @blp.alt_response(404, description="No such account of the caller's")
    def delete(self, user_id, account_id):
        """Delete an account and its transactions, reversing transfers on the other side"""
        require_self(user_id)
        # Checked once the service holds its locks (transactions first, then accounts).
        check = check_if_match if request.if_match else None
        service.delete_account(user_id, account_id, check=check)
        db.session.commit()


def check_if_match(account: Account) -> None:
    """A stale If-Match is a 412; `account` must be locked already."""
    blp.check_etag(account, AccountSchema)
