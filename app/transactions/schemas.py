"""Transaction schemas: create, update (partial), list query arguments, output."""

from marshmallow import ValidationError, fields, validate, validates_schema

from app.common.schemas import (
    DECIMAL_STRING,
    CalendarDate,
    Currency,
    Id,
    Money,
    PageArgsSchema,
    Schema,
    Text,
)
from app.transactions.models import TRANSACTION_TYPES


class TransactionUpdateSchema(Schema):
    account_id = Id()
    type = fields.String(validate=validate.OneOf(TRANSACTION_TYPES))
    amount = Money(positive=True)
    date = CalendarDate()
    description = Text(validate=validate.Length(max=500))
    payee = Text(allow_none=True, validate=validate.Length(max=200))
    category_id = Id(allow_none=True)
    transfer_account_id = Id(
        allow_none=True, metadata={"description": "The destination of a transfer."}
    )


class TransactionCreateSchema(TransactionUpdateSchema):
    account_id = Id(required=True)
    type = fields.String(required=True, validate=validate.OneOf(TRANSACTION_TYPES))
    amount = Money(required=True, positive=True)
    date = CalendarDate(metadata={"description": "Defaults to today (UTC)."})
    description = Text(load_default="", validate=validate.Length(max=500))


class TransactionSchema(Schema):
    id = fields.Integer(dump_only=True)
    user_id = fields.Integer(dump_only=True)
    account_id = fields.Integer(dump_only=True)
    category_id = fields.Integer(dump_only=True, allow_none=True)
    type = fields.String(dump_only=True)
    amount = Money(dump_only=True)
    currency = fields.String(dump_only=True)
    date = CalendarDate(dump_only=True)
    description = fields.String(dump_only=True)
    payee = fields.String(dump_only=True, allow_none=True)
    transfer_account_id = fields.Integer(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class TransactionQueryArgsSchema(PageArgsSchema):
    start_date = CalendarDate(date_only=True, metadata={"description": "Inclusive."})
    end_date = CalendarDate(date_only=True, metadata={"description": "Inclusive."})
    category_id = Id(strict=False)
    uncategorized = fields.Boolean(metadata={"description": "Only transactions with no category."})
    transaction_type = fields.String(validate=validate.OneOf(TRANSACTION_TYPES))
    account_id = Id(
        strict=False, metadata={"description": "On that account, transfers into it included."}
    )
    currency = Currency(metadata={"description": "Only transactions in this currency."})
    # A query string holds text: a decimal string, never a JSON number such as 1e+16.
    min_amount = Money(
        metadata={
            "description": "Inclusive; compares decimal values as written, across currencies "
            '(JPY "1200" is more than USD "12.50").',
            "anyOf": [{"type": "string", "pattern": DECIMAL_STRING.pattern}],
        }
    )
    max_amount = Money(
        metadata={
            "description": "Inclusive; compares decimal values as written, across currencies "
            '(JPY "1200" is more than USD "12.50").',
            "anyOf": [{"type": "string", "pattern": DECIMAL_STRING.pattern}],
        }
    )
    q = Text(
        validate=validate.Length(min=1, max=200),
        metadata={"description": "Case-insensitive text in description or payee."},
    )
    sort_by = fields.String(
        load_default="date",
        validate=validate.OneOf(("date", "amount")),
        metadata={
            "description": "amount sorts by decimal value as written, across currencies "
            '(JPY "1200" after USD "12.50"); ties by id.'
        },
    )
    order = fields.String(load_default="desc", validate=validate.OneOf(("asc", "desc")))

    @validates_schema
    def ranges_are_ordered(self, data, **kwargs):
        for low, high in (("start_date", "end_date"), ("min_amount", "max_amount")):
            if low in data and high in data and data[low] > data[high]:
                raise ValidationError(f"Must not be before {low}.", high)
        if data.get("uncategorized") and "category_id" in data:
            raise ValidationError(
                "Use category_id or uncategorized=true, not both.", "uncategorized"
            )
