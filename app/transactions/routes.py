"""/users/{user_id}/transactions/ — the caller's income, expenses and transfers."""

from flask import Response, stream_with_context
from flask.views import MethodView

from app import idempotency
from app.common import json
from app.common.api import Blueprint, commits
from app.common.auth import caller
from app.common.pagination import TOTAL_COUNT_HEADER
from app.idempotency import IdempotencyHeadersSchema
from app.transactions import export, queries, rows, service
from app.transactions.schemas import (
    ForceArgsSchema,
    TransactionCreateArgsSchema,
    TransactionCreateSchema,
    TransactionExportArgsSchema,
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

NOT_FOUND = "No such transaction, account or category of the caller's"
RECONCILED = "The transaction is reconciled and force=true was not given"
# TransactionSchema documents the answers; the views build them with app.transactions.rows,
# which a test proves identical to the schema's dump.


@blp.route("/")
class TransactionList(MethodView):
    @blp.login_required(owner=True, reads_only=True)
    @blp.arguments(TransactionQueryArgsSchema, location="query")
    @blp.response(200, TransactionSchema(many=True), headers=TOTAL_COUNT_HEADER)
    def get(self, args, user_id):
        """List, filter, sort and page the caller's transactions"""
        stmt, order = queries.list_stmt(user_id, args), queries.sort_order(args)
        # Unfiltered, the total is the user's maintained count: no need to count the rows.
        total = caller().transaction_count if queries.is_unfiltered(args) else None
        items, headers = rows.page(stmt, order, args["skip"], args["limit"], total)
        return json.response(items, 200, headers)

    @blp.login_required(owner=True)
    @blp.arguments(TransactionCreateArgsSchema, location="query")
    @blp.arguments(TransactionCreateSchema)
    @blp.arguments(IdempotencyHeadersSchema, location="headers")
    @blp.response(201, TransactionSchema)
    @blp.alt_response(404, description=NOT_FOUND)
    @blp.alt_response(409, description="A request with this Idempotency-Key is still running")
    @commits
    def post(self, args, data, headers, user_id):
        """Record a transaction; its accounts' balances change with it

        With an `Idempotency-Key` header, a retry of the same request returns the first
        response and records nothing more; the same key with another body is a 422.
        """
        replay = idempotency.replay_or_claim(user_id, headers.get("idempotency_key"))
        if replay is not None:
            return replay
        return idempotency.record(
            service.create(user_id, **data, apply_rules=args["apply_rules"]), 201
        )


@blp.route("/export")
class TransactionExport(MethodView):
    @blp.login_required(owner=True)
    @blp.arguments(TransactionExportArgsSchema, location="query")
    @blp.response(
        200,
        description="format=csv: text/csv, RFC 4180 with a header row (see the description); "
        "format=json: application/json, an array of transactions.",
        content_type="text/csv",
    )
    def get(self, args, user_id):
        """Export the caller's transactions (the list's filters and sort) as CSV or JSON

        Streamed, every matching transaction. CSV columns: id, date, type, amount (signed as
        it moves account_id's balance: income positive, expense and transfer negative),
        currency, account_id, transfer_account_id, category_id, description, payee, import_id.
        Importing the CSV into an account reads back date, amount, description, payee and
        import_id (a transfer comes back as income or expense of that one account).
        """
        if args["format"] == "json":
            body, mimetype, name = export.json_chunks(user_id, args), "application/json", "json"
        else:
            body, mimetype, name = export.csv_lines(user_id, args), "text/csv", "csv"
        return Response(
            stream_with_context(body),
            mimetype=mimetype,
            headers={"Content-Disposition": f'attachment; filename="transactions.{name}"'},
        )


@blp.route("/<int:transaction_id>")
class TransactionDetail(MethodView):
    @blp.etag
    @blp.login_required(owner=True, reads_only=True)
    @blp.response(200, TransactionSchema)
    @blp.alt_response(404, description=NOT_FOUND)
    def get(self, user_id, transaction_id):
        """One transaction (with an ETag for If-Match)"""
        data = rows.one(user_id, transaction_id)
        blp.set_etag(data)  # flask-smorest's ETag of the dump (a 304 for If-None-Match)
        return json.response(data)

    @blp.etag
    @blp.login_required(owner=True)
    @blp.arguments(TransactionUpdateSchema)
    @blp.arguments(ForceArgsSchema, location="query")
    @blp.response(200, TransactionSchema)
    @blp.alt_response(404, description=NOT_FOUND)
    @blp.alt_response(409, description=RECONCILED)
    @commits
    def patch(self, data, args, user_id, transaction_id):
        """Change a transaction (only the fields given); balances follow

        A reconciled transaction keeps its amounts, accounts, type, date and status unless
        `force=true` (a 409 otherwise); its other fields change freely.
        """
        precondition = blp.precondition(TransactionSchema)
        txn = service.update(
            user_id, transaction_id, precondition=precondition, force=args["force"], **data
        )
        data = rows.of(txn)
        blp.set_etag(data)
        return json.response(data)

    put = patch  # the original API's PUT was partial: both change only the fields given

    @blp.etag
    @blp.login_required(owner=True)
    @blp.arguments(ForceArgsSchema, location="query")
    @blp.response(204)
    @blp.alt_response(404, description=NOT_FOUND)
    @blp.alt_response(409, description=RECONCILED)
    @commits
    def delete(self, args, user_id, transaction_id):
        """Delete a transaction; its accounts' balances change back (a reconciled one only
        with force=true)"""
        service.delete(
            user_id,
            transaction_id,
            precondition=blp.precondition(TransactionSchema),
            force=args["force"],
        )
