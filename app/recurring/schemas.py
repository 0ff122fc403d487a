"""Recurring transaction schemas: the template, the schedule, post-due and upcoming."""

from marshmallow import ValidationError, fields, validate, validates_schema

from app.common.schemas import (
    MONEY_OUT,
    MONEY_RULES,
    CalendarDate,
    Id,
    Money,
    Schema,
    Text,
)
from app.recurring.models import UNITS
from app.transactions.models import TRANSACTION_TYPES
from app.transactions.schemas import TransactionSchema

ACCOUNT = (
    "One of your accounts: the one each occurrence is recorded on (for a transfer, the one "
    "money leaves)."
)
TYPE = "income, expense or transfer, as for a transaction."
AMOUNT = "How much each occurrence is, in the account's currency, positive. " + MONEY_RULES
TRANSFER = (
    "Transfers only: one of your accounts, not account_id; the money arrives there. In "
    "another currency than account_id's, the schedule needs transfer_amount too."
)
TRANSFER_AMOUNT = (
    "Transfers only: what arrives at transfer_account_id each time, in its currency, as for a "
    "one-off transfer. Required when the two accounts hold different currencies (changing "
    "either account to one in another currency needs it again); between accounts of one "
    "currency leave it out (it is amount) or send amount itself. " + MONEY_RULES
)
UNIT = (
    "day, week, month or year. A monthly schedule keeps its start day where the month has it "
    "(from the 30th: Jan 30, Feb 28, Mar 30; the 31st is the last day of shorter months)."
)
EVERY = "Every how many units, 1-1000 (2 with week: every other week)."
START = "The date of the first occurrence, YYYY-MM-DD."
END = "No occurrence after this date (inclusive), YYYY-MM-DD; not before start_date; null: none."
COUNT = "At most this many occurrences in all, 1-100000; null: no limit."


class RecurringUpdateSchema(Schema):
    account_id = Id(metadata={"description": ACCOUNT})
    type = fields.String(validate=validate.OneOf(TRANSACTION_TYPES), metadata={"description": TYPE})
    amount = Money(positive=True, metadata={"description": AMOUNT})
    transfer_account_id = Id(allow_none=True, metadata={"description": TRANSFER})
    transfer_amount = Money(positive=True, metadata={"description": TRANSFER_AMOUNT})
    category_id = Id(
        allow_none=True, metadata={"description": "One of your categories, or null for none."}
    )
    description = Text(
        validate=validate.Length(max=500),
        metadata={"description": "Free text, at most 500 characters.", "example": "Rent"},
    )
    payee = Text(
        allow_none=True,
        validate=validate.Length(max=200),
        metadata={"description": "Who is paid; at most 200 characters.", "example": "Landlord"},
    )
    unit = fields.String(validate=validate.OneOf(UNITS), metadata={"description": UNIT})
    every = fields.Integer(
        validate=validate.Range(min=1, max=1000), metadata={"description": EVERY, "example": 1}
    )
    start_date = CalendarDate(date_only=True, metadata={"description": START})
    end_date = CalendarDate(date_only=True, allow_none=True, metadata={"description": END})
    count = fields.Integer(
        allow_none=True,
        validate=validate.Range(min=1, max=100_000),
        metadata={"description": COUNT, "example": 12},
    )

    @validates_schema
    def end_not_before_start(self, data, **kwargs):
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            raise ValidationError("Must not be before start_date.", "end_date")


class RecurringCreateSchema(RecurringUpdateSchema):
    account_id = Id(required=True, metadata={"description": ACCOUNT})
    type = fields.String(
        required=True, validate=validate.OneOf(TRANSACTION_TYPES), metadata={"description": TYPE}
    )
    amount = Money(required=True, positive=True, metadata={"description": AMOUNT})
    unit = fields.String(
        required=True, validate=validate.OneOf(UNITS), metadata={"description": UNIT}
    )
    every = fields.Integer(
        load_default=1,
        validate=validate.Range(min=1, max=1000),
        metadata={"description": EVERY + " 1 if not given.", "example": 1},
    )
    start_date = CalendarDate(required=True, date_only=True, metadata={"description": START})
    description = Text(
        load_default="",
        validate=validate.Length(max=500),
        metadata={"description": "Free text, at most 500 characters.", "example": "Rent"},
    )


class RecurringSchema(Schema):
    id = fields.Integer(dump_only=True, metadata={"description": "The schedule's id."})
    user_id = fields.Integer(dump_only=True, metadata={"description": "Your user id."})
    account_id = fields.Integer(dump_only=True, metadata={"description": ACCOUNT})
    transfer_account_id = fields.Integer(
        dump_only=True, allow_none=True, metadata={"description": TRANSFER}
    )
    category_id = fields.Integer(
        dump_only=True, allow_none=True, metadata={"description": "Its category, or null."}
    )
    type = fields.String(dump_only=True, metadata={"description": TYPE})
    amount = Money(
        dump_only=True, metadata={"description": "Each occurrence's amount. " + MONEY_OUT}
    )
    currency = fields.String(
        dump_only=True,
        metadata={"description": "The currency of the amount.", "example": "USD"},
    )
    transfer_amount = Money(
        dump_only=True,
        allow_none=True,
        currency_attribute="transfer_currency",
        metadata={
            "description": "A transfer's destination side: what arrives at "
            "transfer_account_id each time, in transfer_currency; null for the others. " + MONEY_OUT
        },
    )
    transfer_currency = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"description": "transfer_account_id's currency; null but for transfers."},
    )
    description = fields.String(dump_only=True, metadata={"description": "Free text."})
    payee = fields.String(dump_only=True, allow_none=True, metadata={"description": "Who."})
    unit = fields.String(dump_only=True, metadata={"description": UNIT})
    every = fields.Integer(dump_only=True, metadata={"description": EVERY})
    start_date = CalendarDate(dump_only=True, metadata={"description": START})
    end_date = CalendarDate(dump_only=True, allow_none=True, metadata={"description": END})
    count = fields.Integer(dump_only=True, allow_none=True, metadata={"description": COUNT})
    created_at = fields.DateTime(dump_only=True, metadata={"description": "When (UTC)."})
    updated_at = fields.DateTime(dump_only=True, metadata={"description": "Last change (UTC)."})


class PostedSchema(Schema):
    posted = fields.List(
        fields.Nested(TransactionSchema),
        dump_only=True,
        metadata={
            "description": "The transactions this call created, by date: every occurrence "
            "due up to today (UTC) not posted before; empty when there was none."
        },
    )


class UpcomingArgsSchema(Schema):
    count = fields.Integer(
        load_default=10,
        validate=validate.Range(min=1, max=1000),
        metadata={"description": "How many occurrences, 1-1000; 10 if not given."},
    )


class OccurrenceSchema(Schema):
    date = CalendarDate(dump_only=True, metadata={"description": "When it falls."})
    amount = Money(dump_only=True, metadata={"description": "How much. " + MONEY_OUT})
    currency = fields.String(
        dump_only=True, metadata={"description": "Its currency.", "example": "USD"}
    )
    transfer_amount = Money(
        dump_only=True,
        allow_none=True,
        currency_attribute="transfer_currency",
        metadata={"description": "What arrives, for a transfer; null otherwise. " + MONEY_OUT},
    )
    transfer_currency = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"description": "The destination's currency; null but for transfers."},
    )
    due = fields.Boolean(
        dump_only=True,
        metadata={"description": "true: on or before today (UTC), posted by the next post-due."},
    )


class UpcomingSchema(Schema):
    occurrences = fields.List(
        fields.Nested(OccurrenceSchema),
        dump_only=True,
        metadata={
            "description": "The next occurrences not yet posted, in order (fewer when the "
            "schedule ends). Nothing is written."
        },
    )
