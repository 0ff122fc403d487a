"""/users/{user_id}/accounts/ — the caller's accounts."""

from flask.views import MethodView
from sqlalchemy import select

from app.accounts import service
from app.accounts.models import Account
from app.accounts.schemas import (
    AccountCreateSchema,
    AccountSchema,
    AccountUpdateSchema,
    ReconcileResultSchema,
    ReconcileSchema,
)
from app.common.api import Blueprint, commits
from app.common.auth import get_owned
from app.common.pagination import TOTAL_COUNT_HEADER, paginate
from app.common.schemas import PageArgsSchema

blp = Blueprint(
    "accounts", __name__, url_prefix="/users/<int:user_id>/accounts", description="Accounts"
)

NOT_FOUND = "No such account of the caller's"


@blp.route("/")
class AccountList(MethodView):
    @blp.login_required(owner=True)
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, AccountSchema(many=True), headers=TOTAL_COUNT_HEADER)
    def get(self, args, user_id):
        """List the caller's accounts"""
        stmt = select(Account).where(Account.user_id == user_id)
        items, headers = paginate(stmt, [Account.id], args["skip"], args["limit"])
        return items, 200, headers

    @blp.login_required(owner=True)
    @blp.arguments(AccountCreateSchema)
    @blp.response(201, AccountSchema)
    @blp.alt_response(409, description="An account with that name exists")
    @commits
    def post(self, data, user_id):
        """Open an account"""
        return service.create(user_id, **data)


@blp.route("/<int:account_id>")
class AccountDetail(MethodView):
    @blp.etag
    @blp.login_required(owner=True)
    @blp.response(200, AccountSchema)
    @blp.alt_response(404, description=NOT_FOUND)
    def get(self, user_id, account_id):
        """One account, with its current balance (and an ETag for If-Match)"""
        return get_owned(Account, account_id, user_id)

    @blp.etag
    @blp.login_required(owner=True)
    @blp.arguments(AccountUpdateSchema)
    @blp.response(200, AccountSchema)
    @blp.alt_response(404, description=NOT_FOUND)
    @blp.alt_response(409, description="Name taken, or currency change with transactions")
    @commits
    def patch(self, data, user_id, account_id):
        """Change an account (only the fields given)"""
        precondition = blp.precondition(AccountSchema)
        return service.update(user_id, account_id, precondition=precondition, **data)

    put = patch  # the original API's PUT was partial: both change only the fields given

    @blp.etag
    @blp.login_required(owner=True)
    @blp.response(204)
    @blp.alt_response(404, description=NOT_FOUND)
    @commits
    def delete(self, user_id, account_id):
        """Delete an account and its transactions, reversing transfers on the other side"""
        service.close(user_id, account_id, precondition=blp.precondition(AccountSchema))


@blp.route("/<int:account_id>/reconcile")
class AccountReconcile(MethodView):
    @blp.login_required(owner=True)
    @blp.arguments(ReconcileSchema)
    @blp.response(200, ReconcileResultSchema)
    @blp.alt_response(404, description=NOT_FOUND)
    @blp.alt_response(
        409, description="The statement does not match: the message names the difference"
    )
    @commits
    def post(self, data, user_id, account_id):
        """Reconcile the account with a bank statement

        If opening_balance plus the transactions cleared (or already reconciled) on this
        account, dated up to `statement_date`, equal `closing_balance`, the cleared ones become
        reconciled, all in one database transaction; if not, a 409 that names the difference,
        and nothing changes. Reconciling again with the same statement reconciles nothing more.
        """
        return service.reconcile(user_id, account_id, **data)
