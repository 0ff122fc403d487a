"""GET /users/me/export (the backup) and POST /users/me/import (the restore)."""

from flask import Response, stream_with_context
from flask.views import MethodView

from app.backup import service
from app.backup.schemas import BackupSchema, RestoreFileSchema, RestoreResultSchema
from app.common.api import Blueprint, commits
from app.common.auth import caller

blp = Blueprint(
    "backup", __name__, url_prefix="/users/me", description="Backup and restore of all your data"
)


@blp.route("/export")
class Backup(MethodView):
    @blp.login_required
    @blp.response(200, BackupSchema)
    def get(self):
        """Everything of yours as one JSON document: the portable backup

        Accounts, categories, transactions (with their splits, tags and the schedule that
        posted them), rules, budgets, recurring schedules (with the dates they have posted),
        exchange rates and the base currency. POST /users/me/import restores it.
        """
        user_id = caller().id
        return Response(
            stream_with_context(service.backup(user_id)),
            mimetype="application/json",
            headers={"Content-Disposition": 'attachment; filename="finance-backup.json"'},
        )


@blp.route("/import")
class Restore(MethodView):
    accepts = ("multipart/form-data",)
    body_limit = "MAX_UPLOAD_SIZE"

    @blp.login_required
    @blp.arguments(RestoreFileSchema, location="files")
    @blp.response(201, RestoreResultSchema)
    @blp.alt_response(409, description="You already have data of your own")
    @blp.alt_response(413, description="Larger than MAX_UPLOAD_SIZE")
    @commits
    def post(self, upload):
        """Restore a backup into your user, which must hold no data of its own

        Default categories aside (the backup's replace them), a user with accounts,
        transactions, categories, rules, budgets, schedules or rates of their own gets a 409
        and nothing changes. Balances are recomputed from the transactions and must come out
        as the backup says; a schedule keeps the dates it had posted, so post-due does not
        post them again.
        """
        return service.restore(caller().id, upload["file"].read())
