"""The import's upload, its query parameters (detection overrides) and its answer."""

from flask_smorest.fields import Upload
from marshmallow import fields, validate

from app.common.schemas import Schema, Text
from app.imports import csvfile, files

COLUMN = "The header name of the column that holds the {what}; detected from common names."


def column(what: str) -> Text:
    return Text(
        validate=validate.Length(min=1, max=200),
        metadata={"description": COLUMN.format(what=what), "example": "Amount"},
    )


class ImportFileSchema(Schema):
    file = Upload(
        required=True,
        metadata={"description": "The bank file: CSV, or OFX/QFX (1.x SGML or 2.x XML)."},
    )


class ImportArgsSchema(Schema):
    format = fields.String(
        validate=validate.OneOf(("csv", "ofx")),
        metadata={
            "description": "csv or ofx (QFX is OFX); detected from the content and file name "
            "if not given."
        },
    )
    dry_run = fields.Boolean(
        load_default=False,
        metadata={"description": "true: answer exactly what the import would do, write nothing."},
    )
    skip_invalid = fields.Boolean(
        load_default=False,
        metadata={
            "description": "true: import the good rows and report the bad ones in `errors`; "
            "false (the default): any bad row refuses the whole file (a 422), nothing written."
        },
    )
    encoding = fields.String(
        validate=validate.OneOf(tuple(files.ENCODINGS)),
        metadata={
            "description": "The CSV file's encoding; if not given, a byte order mark decides, "
            "else UTF-8, else Windows-1252."
        },
    )
    delimiter = fields.String(
        validate=validate.OneOf(csvfile.DELIMITERS),
        metadata={
            "description": "The CSV delimiter (, ; tab |); detected from the header row if not "
            "given."
        },
    )
    date_format = fields.String(
        validate=validate.Regexp(csvfile.DATE_FORMAT_PATTERN),
        metadata={
            "description": "How the CSV writes dates, with DD, MM, YYYY or YY and separators, "
            "such as DD.MM.YYYY or MM/DD/YYYY; detected if not given (ISO first, then "
            "month-first, then day-first).",
            "example": "DD.MM.YYYY",
        },
    )
    decimal_separator = fields.String(
        validate=validate.OneOf((".", ",")),
        metadata={"description": "The CSV amounts' decimal separator; detected if not given."},
    )
    thousands_separator = fields.String(
        validate=validate.OneOf((",", ".", " ", "'", "")),
        metadata={
            "description": "The CSV amounts' thousands separator (empty: none); the other of "
            ". and , if not given."
        },
    )
    date_column = column("booking date")
    description_column = column("description")
    payee_column = column("payee")
    amount_column = column("signed amount (money in positive, money out negative)")
    debit_column = column("money out (instead of a signed amount)")
    credit_column = column("money in (instead of a signed amount)")


class RowErrorSchema(Schema):
    row = fields.Integer(
        metadata={"description": "The row, from 1 for the first data row (or OFX transaction)."}
    )
    message = fields.String(metadata={"description": "What is wrong with it."})


class ImportResultSchema(Schema):
    added = fields.Integer(metadata={"description": "Transactions added (or, dry run, to add)."})
    duplicates = fields.Integer(
        metadata={"description": "Rows left out as already imported into this account."}
    )
    errors = fields.List(
        fields.Nested(RowErrorSchema),
        metadata={
            "description": "The rows skipped as bad (skip_invalid=true), the first 1,000 of "
            "them; else empty."
        },
    )
    skipped = fields.Integer(metadata={"description": "How many bad rows were skipped."})
    detected = fields.Dict(
        metadata={
            "description": "How the file was read: format, encoding, delimiter, date_format, "
            "decimal and thousands separators, and the columns used."
        }
    )
