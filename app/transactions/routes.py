"""/users/{user_id}/transactions/ — the caller's income, expenses and transfers."""

from flask import request
from flask.views import MethodView

from app import idempotency
from app.common.api import Blueprint
from app.common.auth import get_owned, require_self
from app.common.pagination import TOTAL_COUNT_HEADER, paginate
from app.extensions import db
from app.idempotency import IdempotencyHeadersSchema
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
        user = require_self(user_id)
        stmt, order = queries.list_stmt(user_id, args), queries.sort_order(args)
        # Unfiltered, the total is the user's maintained count: no need to count the rows.
        total = user.transaction_count if queries.is_unfiltered(args) else None
        items, headers = paginate(stmt, order, args["skip"], args["limit"], total)
        return items, 200, headers

    @blp.login_required
    @blp.arguments(TransactionCreateSchema)
    @blp.arguments(IdempotencyHeadersSchema, location="headers")
    @blp.response(201, TransactionSchema)
    @blp.alt_response(403, description=NOT_YOURS)
    @blp.alt_response(404, description=NOT_FOUND)
    @blp.alt_response(409, description="A request with this Idempotency-Key is still running")
    def post(self, data, headers, user_id):
        """Record a transaction; its accounts' balances change with it

        With an `Idempotency-Key` header, a retry of the same request returns the first
        response and records nothing more; the same key with another body is a 422.
        """
        require_self(user_id)
        replay = idempotency.replay_or_claim(user_id, headers.get("idempotency_key"))
        if replay is not None:
            return replay
        txn = service.create(user_id, data)
        return idempotency.respond(TransactionSchema().dump(txn), 201)


@blp.route("/<int:transaction_id>")
class TransactionDetail(MethodView):
    @blp.etag
    @blp.login_required
    @blp.response(200, TransactionSchema)
    @blp.alt_response(403, description=NOT_YOURS)
    @blp.alt_response(404, description=NOT_FOUND)
    def get(self, user_id, transaction_id):
        """One transaction (with an ETag for If-Match)"""
        require_self(user_id)
        return get_owned(Transaction, transaction_id, user_id)

    def _update(self, data, user_id, transaction_id):
        require_self(user_id)
        check_if_match(user_id, transaction_id)
        txn = service.update(user_id, transaction_id, data)
        db.session.commit()
        return txn

    @blp.etag
    @blp.login_required
    @blp.arguments(TransactionUpdateSchema)
    @blp.response(200, TransactionSchema)
    @blp.alt_response(403, description=NOT_YOURS)
    @blp.alt_response(404, description=NOT_FOUND)
    def put(self, data, user_id, transaction_id):
        """Change a transaction (only the fields given); balances follow"""
        return self._update(data, user_id, transaction_id)

    @blp.etag
    @blp.login_required
    @blp.arguments(TransactionUpdateSchema)
    @blp.response(200, TransactionSchema)
    @blp.alt_response(403, description=NOT_YOURS)
    @blp.alt_response(404, description=NOT_FOUND)
    def patch(self, data, user_id, transaction_id):
        """Change a transaction (only the fields given); balances follow"""
        return self._update(data, user_id, transaction_id)

    @blp.etag
    @blp.login_required
    @blp.response(204)
    @blp.alt_response(403, description=NOT_YOURS)
    @blp.alt_response(404, description=NOT_FOUND)
    def delete(self, user_id, transaction_id):
        """Delete a transaction; its accounts' balances change back"""
        require_self(user_id)
        check_if_match(user_id, transaction_id)
        service.delete(user_id, transaction_id)
        db.session.commit()


def check_if_match(user_id: int, transaction_id: int) -> None:
    """A stale If-Match is a 412 (no If-Match: no check).

    The row is locked first, as the service would, so no other write slips in between.
    """
    if request.if_match:
        txn = get_owned(Transaction, transaction_id, user_id, lock=True)
        blp.check_etag(txn, TransactionSchema)
