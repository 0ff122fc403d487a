"""Transaction schemas: create, update (partial), list query arguments, output."""

from marshmallow import RAISE, ValidationError, fields, validate, validates_schema

from app.common.schemas import (
    MONEY_OUT,
    MONEY_RULES,
    CalendarDate,
    Currency,
    Id,
    Money,
    PageArgsSchema,
    Schema,
    Text,
)
from app.transactions.models import TRANSACTION_TYPES

ACCOUNT = "One of your accounts: the one it is recorded on; for a transfer, the one money leaves."
TYPE = (
    "income adds amount to the account, expense subtracts it, transfer moves it from account_id "
    "to transfer_account_id."
)
AMOUNT = (
    "How much, in the account's currency: always positive, the type gives the direction. "
    + MONEY_RULES
)
DATE = (
    "The calendar date YYYY-MM-DD, from 1900-01-01 to 2199-12-31; an ISO 8601 datetime is "
    "accepted too and keeps the calendar date written in its own offset."
)
DESCRIPTION = "Free text, at most 500 characters."
PAYEE = "Who was paid, or who paid; at most 200 characters; null for nobody."
CATEGORY = "One of your categories, or null for uncategorised."
TRANSFER_ACCOUNT = (
    "Transfers only (required for one, a 422 on income or expense): one of your accounts, not "
    "account_id, in the same currency (a cross-currency transfer is a 422); the money arrives "
    "there."
)


class TransactionUpdateSchema(Schema):
    account_id = Id(
        metadata={
            "description": ACCOUNT
            + " Moving to an account in another currency needs amount in that currency."
        }
    )
    type = fields.String(
        validate=validate.OneOf(TRANSACTION_TYPES),
        metadata={
            "description": TYPE + " Changing it away from transfer clears transfer_account_id."
        },
    )
    amount = Money(positive=True, metadata={"description": AMOUNT})
    date = CalendarDate(metadata={"description": DATE})
    description = Text(
        validate=validate.Length(max=500),
        metadata={"description": DESCRIPTION, "example": "Weekly groceries"},
    )
    payee = Text(
        allow_none=True,
        validate=validate.Length(max=200),
        metadata={"description": PAYEE, "example": "Corner Grocery"},
    )
    category_id = Id(allow_none=True, metadata={"description": CATEGORY})
    transfer_account_id = Id(allow_none=True, metadata={"description": TRANSFER_ACCOUNT})


class TransactionCreateSchema(TransactionUpdateSchema):
    account_id = Id(required=True, metadata={"description": ACCOUNT})
    type = fields.String(
        required=True, validate=validate.OneOf(TRANSACTION_TYPES), metadata={"description": TYPE}
    )
    amount = Money(required=True, positive=True, metadata={"description": AMOUNT})
    date = CalendarDate(metadata={"description": DATE + " Today (UTC) if not given."})
    description = Text(
        load_default="",
        validate=validate.Length(max=500),
        metadata={
            "description": DESCRIPTION + " Empty if not given.",
            "example": "Weekly groceries",
        },
    )


class TransactionSchema(Schema):
    id = fields.Integer(dump_only=True, metadata={"description": "The transaction's id."})
    user_id = fields.Integer(dump_only=True, metadata={"description": "Your user id."})
    account_id = fields.Integer(dump_only=True, metadata={"description": ACCOUNT})
    category_id = fields.Integer(
        dump_only=True, allow_none=True, metadata={"description": CATEGORY}
    )
    type = fields.String(dump_only=True, metadata={"description": TYPE})
    amount = Money(
        dump_only=True, metadata={"description": "How much, always positive. " + MONEY_OUT}
    )
    currency = fields.String(
        dump_only=True,
        metadata={"description": "The ISO 4217 code of its account's currency.", "example": "USD"},
    )
    date = CalendarDate(dump_only=True, metadata={"description": "The calendar date."})
    description = fields.String(dump_only=True, metadata={"description": "Free text."})
    payee = fields.String(
        dump_only=True, allow_none=True, metadata={"description": "Who was paid, or who paid."}
    )
    transfer_account_id = fields.Integer(
        dump_only=True,
        allow_none=True,
        metadata={"description": "A transfer's destination account; null for the others."},
    )
    created_at = fields.DateTime(
        dump_only=True, metadata={"description": "When it was recorded (UTC)."}
    )
    updated_at = fields.DateTime(
        dump_only=True, metadata={"description": "When it last changed (UTC)."}
    )


#: How amounts compare in the list's filters and sort.
AS_WRITTEN = (
    "Amounts compare as decimal values as written, across currencies: JPY 1200 is more than "
    "USD 12.50."
)
AMOUNT_BOUND = '(inclusive), a decimal string such as "100.00". ' + AS_WRITTEN


class TransactionQueryArgsSchema(PageArgsSchema):
    start_date = CalendarDate(
        date_only=True,
        metadata={"description": "Only transactions on or after this date YYYY-MM-DD (inclusive)."},
    )
    end_date = CalendarDate(
        date_only=True,
        metadata={
            "description": "Only transactions on or before this date YYYY-MM-DD (inclusive)."
        },
    )
    category_id = Id(
        strict=False, metadata={"description": "Only transactions in this category of yours."}
    )
    uncategorized = fields.Boolean(
        metadata={"description": "true: only transactions with no category (not with category_id)."}
    )
    transaction_type = fields.String(
        validate=validate.OneOf(TRANSACTION_TYPES),
        metadata={"description": "Only transactions of this type."},
    )
    account_id = Id(
        strict=False,
        metadata={
            "description": "Only transactions on this account of yours, transfers into it included."
        },
    )
    currency = Currency(metadata={"description": "Only transactions in this currency."})
    # A query string holds text: a decimal string, never a JSON number such as 1e+16.
    min_amount = Money(
        metadata={
            "description": "Only transactions of at least this amount " + AMOUNT_BOUND,
            "type": "string",
            "example": "100.00",
        }
    )
    max_amount = Money(
        metadata={
            "description": "Only transactions of at most this amount " + AMOUNT_BOUND,
            "type": "string",
            "example": "2500.00",
        }
    )
    q = Text(
        validate=validate.Length(min=1, max=200),
        metadata={
            "description": "Only transactions with this text in their description or payee, "
            "ignoring case.",
            "example": "grocer",
        },
    )
    sort_by = fields.String(
        load_default="date",
        validate=validate.OneOf(("date", "amount")),
        metadata={"description": "What to sort by. " + AS_WRITTEN},
    )
    order = fields.String(
        load_default="desc",
        validate=validate.OneOf(("asc", "desc")),
        metadata={
            "description": "asc or desc; ties sort by id in the same direction, so pages never "
            "overlap or skip a transaction."
        },
    )

    @validates_schema
    def ranges_are_ordered(self, data, **kwargs):
        for low, high in (("start_date", "end_date"), ("min_amount", "max_amount")):
            if low in data and high in data and data[low] > data[high]:
                raise ValidationError(f"Must not be before {low}.", high)
        if data.get("uncategorized") and "category_id" in data:
            raise ValidationError(
                "Use category_id or uncategorized=true, not both.", "uncategorized"
            )


class TransactionExportArgsSchema(TransactionQueryArgsSchema):
    """The list's filters and sort, without paging: every matching transaction."""

    class Meta:
        unknown = RAISE
        exclude = ("skip", "limit")

    format = fields.String(
        load_default="csv",
        validate=validate.OneOf(("csv", "json")),
        metadata={
            "description": "csv: RFC 4180 (CRLF line ends, a header row), which the import "
            "reads back; json: an array of transactions as the list shows them."
        },
    )
    order = fields.String(
        load_default="asc",
        validate=validate.OneOf(("asc", "desc")),
        metadata={"description": "asc (the default: oldest first) or desc; ties sort by id."},
    )


class TransactionCreateArgsSchema(Schema):
    apply_rules = fields.Boolean(
        load_default=False,
        metadata={
            "description": "true: without a category_id, the first of your rules that matches "
            "(/users/{user_id}/rules/) gives it one."
        },
    )
