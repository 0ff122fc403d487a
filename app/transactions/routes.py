"""/users/{user_id}/transactions/ — the caller's income, expenses and transfers."""

from flask.views import MethodView

from app.common.api import Blueprint
from app.common.auth import get_owned, require_self
from app.common.pagination import TOTAL_COUNT_HEADER, paginate
from app.extensions import db
from app.transactions import queries, service
from app.transactions.models import Transaction
from app.transactions.schemas import (
    TransactionCreateSchema,
    TransactionQueryArgsSchema,
    TransactionSchema,
    TransactionUpdateSchema,
)

blp = Blueprint(
    "transactions",
    __name__,
    url_prefix="/users/<int:user_id>/transactions",
    description="Income, expenses and transfers",
)

NOT_YOURS = "The path's user is not the caller"
NOT_FOUND = "No such transaction, account or category of the caller's"


@blp.route("/")
class TransactionList(MethodView):
    @blp.login_required
    @blp.arguments(TransactionQueryArgsSchema, location="query")
    @blp.response(200, TransactionSchema(many=True), headers=TOTAL_COUNT_HEADER)
    @blp.alt_response(403, description=NOT_YOURS)
    def get(self, args, user_id):
        """List, filter, sort and page the caller's transactions"""
        require_self(user_id)
        items, headers = paginate(queries.list_stmt(user_id, args), args["skip"], args["limit"])
        return items, 200, headers

    @blp.login_required
    @blp.arguments(TransactionCreateSchema)
    @blp.response(201, TransactionSchema)
    @blp.alt_response(403, description=NOT_YOURS)
    @blp.alt_response(404, description=NOT_FOUND)
    def post(self, data, user_id):
        """Record a transaction; its accounts' balances change with it"""
        require_self(user_id)
        txn = service.create(user_id, data)
        db.session.commit()
        return txn


@blp.route("/<int:transaction_id>")
class TransactionDetail(MethodView):
    @blp.login_required
    @blp.response(200, TransactionSchema)
    @blp.alt_response(403, description=NOT_YOURS)
    @blp.alt_response(404, description=NOT_FOUND)
    def get(self, user_id, transaction_id):
        """One transaction"""
        require_self(user_id)
        return get_owned(Transaction, transaction_id, user_id)

    def _update(self, data, user_id, transaction_id):
        require_self(user_id)
        txn = service.update(user_id, transaction_id, data)
        db.session.commit()
        return txn

    @blp.login_required
    @blp.arguments(TransactionUpdateSchema)
    @blp.response(200, TransactionSchema)
    @blp.alt_response(403, description=NOT_YOURS)
    @blp.alt_response(404, description=NOT_FOUND)
    def put(self, data, user_id, transaction_id):
        """Change a transaction (only the fields given); balances follow"""
        return self._update(data, user_id, transaction_id)

    @blp.login_required
    @blp.arguments(TransactionUpdateSchema)
    @blp.response(200, TransactionSchema)
    @blp.alt_response(403, description=NOT_YOURS)
    @blp.alt_response(404, description=NOT_FOUND)
    def patch(self, data, user_id, transaction_id):
        """Change a transaction (only the fields given); balances follow"""
        return self._update(data, user_id, transaction_id)

    @blp.login_required
    @blp.response(204)
    @blp.alt_response(403, description=NOT_YOURS)
    @blp.alt_response(404, description=NOT_FOUND)
    def delete(self, user_id, transaction_id):
        """Delete a transaction; its accounts' balances change back"""
        require_self(user_id)
        service.delete(user_id, transaction_id)
        db.session.commit()
