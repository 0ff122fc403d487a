"""POST /users/{user_id}/accounts/{account_id}/import — a bank file into one account."""

from flask.views import MethodView

from app.common.api import Blueprint, commits
from app.imports import csvfile, service
from app.imports.schemas import ImportArgsSchema, ImportFileSchema, ImportResultSchema

blp = Blueprint(
    "imports",
    __name__,
    url_prefix="/users/<int:user_id>/accounts/<int:account_id>/import",
    description="Bank files in: CSV and OFX/QFX",
)

ROLES = ("date", "description", "payee", "amount", "debit", "credit")


@blp.route("")
class AccountImport(MethodView):
    accepts = ("multipart/form-data",)
    body_limit = "MAX_UPLOAD_SIZE"

    @blp.login_required(owner=True)
    @blp.arguments(ImportArgsSchema, location="query")
    @blp.arguments(ImportFileSchema, location="files")
    @blp.response(200, ImportResultSchema)
    @blp.alt_response(404, description="No such account of the caller's")
    @blp.alt_response(
        413, description="Larger than MAX_UPLOAD_SIZE, or more rows than IMPORT_MAX_ROWS"
    )
    @commits
    def post(self, args, upload, user_id, account_id):
        """Import a bank statement (CSV or OFX/QFX) into the account

        Rows already imported into this account (same FITID, or for CSV the same date, amount,
        description and occurrence within the file) are left out, so re-importing a file, or
        one that overlaps it, adds only the new rows. A file with any bad row is refused whole
        (a 422 whose `errors.rows` lists each bad row) unless `skip_invalid=true`.
        """
        file = upload["file"]
        options = csvfile.CSVOptions(
            delimiter=args.get("delimiter"),
            date_format=args.get("date_format"),
            decimal_separator=args.get("decimal_separator"),
            thousands_separator=args.get("thousands_separator"),
            columns={role: args[f"{role}_column"] for role in ROLES if f"{role}_column" in args},
        )
        return service.import_file(
            user_id,
            account_id,
            file.read(),
            filename=file.filename,
            file_format=args.get("format"),
            encoding=args.get("encoding"),
            csv_options=options,
            dry_run=args["dry_run"],
            skip_invalid=args["skip_invalid"],
        )
