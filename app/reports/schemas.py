"""Report schemas: the query arguments and the answers (a block per currency)."""

from marshmallow import ValidationError, fields, validate, validates_schema

from app.common.periods import UNITS
from app.common.schemas import CalendarDate, Currency, Id, MoneyOut, Schema
from app.rates.schemas import ConversionSchema

PER_CURRENCY = (
    "One block per currency the figures are in, by code: amounts in different currencies are "
    "never added together."
)
FLOWS = "Transfers are neither income nor expense."


class RangeArgsSchema(Schema):
    start_date = CalendarDate(
        required=True,
        date_only=True,
        metadata={"description": "The first day of the report, YYYY-MM-DD (inclusive)."},
    )
    end_date = CalendarDate(
        required=True,
        date_only=True,
        metadata={
            "description": "The last day of the report, YYYY-MM-DD (inclusive); not before "
            "start_date."
        },
    )

    @validates_schema
    def end_not_before_start(self, data, **kwargs):
        if "start_date" in data and "end_date" in data and data["end_date"] < data["start_date"]:
            raise ValidationError("Must not be before start_date.", "end_date")


def ConvertInto():  # noqa: N802 - a field factory reads like a field class
    return Currency(
        data_key="in",
        attribute="convert_to",
        metadata={
            "description": "Also show every currency's figures converted into this currency, "
            "at your recorded rates (/users/{user_id}/rates/) in force on the period's last "
            "day, beside the per-currency figures; a currency with no rate is named in "
            "`missing`, never guessed."
        },
    )


class SummaryArgsSchema(RangeArgsSchema):
    convert_to = ConvertInto()
    account_id = Id(
        strict=False,
        metadata={"description": "Only transactions recorded on this account of yours."},
    )


INTERVAL = (
    "The period: week (ISO weeks, from Monday), month or year; the first and last periods are "
    "cut to the report's dates. At most 1,000 periods."
)


class CashflowArgsSchema(RangeArgsSchema):
    interval = fields.String(
        load_default="month",
        validate=validate.OneOf(UNITS),
        metadata={"description": INTERVAL + " month if not given."},
    )


class NetWorthArgsSchema(CashflowArgsSchema):
    convert_to = ConvertInto()


class TopPayeesArgsSchema(RangeArgsSchema):
    limit = fields.Integer(
        load_default=10,
        validate=validate.Range(min=1, max=100),
        metadata={"description": "How many payees per currency, 1-100; 10 if not given."},
    )


class Flows(Schema):
    income = MoneyOut("Income.")
    expense = MoneyOut("Expenses.")
    net = MoneyOut("Income minus expenses (negative when more went out).")


class CategoryTotalSchema(Flows):
    category_id = fields.Integer(
        dump_only=True,
        allow_none=True,
        metadata={"description": "The category; null for the uncategorised line."},
    )
    name = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"description": "The category's name; null for uncategorised."},
    )
    parent_id = fields.Integer(
        dump_only=True,
        allow_none=True,
        metadata={
            "description": "The category's parent, null for a top-level one: a line counts "
            "the category's own transactions only, not its sub-categories' (each has its "
            "own line), so that the lines add up to the block's totals."
        },
    )


class TagTotalSchema(Flows):
    tag = fields.String(
        dump_only=True,
        metadata={
            "description": "The tag; a transaction with several tags counts in each.",
            "example": "vacation",
        },
    )


class SummaryBlockSchema(Flows):
    currency = fields.String(
        dump_only=True, metadata={"description": "The block's currency.", "example": "USD"}
    )
    categories = fields.List(
        fields.Nested(CategoryTotalSchema),
        dump_only=True,
        metadata={
            "description": "Per category, by name, uncategorised last; a split transaction "
            "counts each part in its own category."
        },
    )
    tags = fields.List(
        fields.Nested(TagTotalSchema),
        dump_only=True,
        metadata={"description": "Per tag, alphabetically."},
    )


class RangeSchema(Schema):
    start_date = CalendarDate(dump_only=True, metadata={"description": "The first day."})
    end_date = CalendarDate(dump_only=True, metadata={"description": "The last day."})


class SummaryConversionSchema(Schema):
    income = fields.Nested(ConversionSchema, dump_only=True, metadata={"description": "Income."})
    expense = fields.Nested(ConversionSchema, dump_only=True, metadata={"description": "Expenses."})
    net = fields.Nested(ConversionSchema, dump_only=True, metadata={"description": "Net."})


class SummarySchema(RangeSchema):
    currencies = fields.List(
        fields.Nested(SummaryBlockSchema),
        dump_only=True,
        metadata={"description": f"{PER_CURRENCY} {FLOWS}"},
    )
    converted = fields.Nested(
        SummaryConversionSchema,
        dump_only=True,
        metadata={
            "description": "Only with `in`: the blocks' income, expense and net converted at "
            "the rates in force on end_date."
        },
    )


class PeriodSchema(Flows):
    start = CalendarDate(dump_only=True, metadata={"description": "The period's first day."})
    end = CalendarDate(dump_only=True, metadata={"description": "The period's last day."})


class CashflowBlockSchema(Schema):
    currency = fields.String(
        dump_only=True, metadata={"description": "The block's currency.", "example": "USD"}
    )
    periods = fields.List(
        fields.Nested(PeriodSchema),
        dump_only=True,
        metadata={"description": "Every period of the range in order, empty ones as zeros."},
    )


class CashflowSchema(RangeSchema):
    interval = fields.String(dump_only=True, metadata={"description": "The period."})
    currencies = fields.List(
        fields.Nested(CashflowBlockSchema),
        dump_only=True,
        metadata={"description": f"{PER_CURRENCY} {FLOWS}"},
    )


class NetWorthPointSchema(Schema):
    date = CalendarDate(
        dump_only=True,
        metadata={"description": "The period's last day (the report's end_date for the last)."},
    )
    net_worth = MoneyOut("The sum of the balances of your accounts in this currency that day.")


class NetWorthBlockSchema(Schema):
    currency = fields.String(
        dump_only=True, metadata={"description": "The block's currency.", "example": "USD"}
    )
    points = fields.List(
        fields.Nested(NetWorthPointSchema),
        dump_only=True,
        metadata={"description": "One per period, in order."},
    )


class NetWorthSchema(RangeSchema):
    interval = fields.String(dump_only=True, metadata={"description": "The period."})
    converted = fields.List(
        fields.Nested(ConversionSchema),
        dump_only=True,
        metadata={
            "description": "Only with `in`: for each period, every block's net worth converted "
            "at the rates in force on the period's last day (`on`)."
        },
    )
    currencies = fields.List(
        fields.Nested(NetWorthBlockSchema),
        dump_only=True,
        metadata={
            "description": PER_CURRENCY + " Balances come from each account's opening balance "
            "(counted from the day the account was created) and its transactions up to the "
            "day; a transfer between two of your accounts changes nothing."
        },
    )


class PayeeSchema(Schema):
    rank = fields.Integer(dump_only=True, metadata={"description": "1 for the largest."})
    payee = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"description": "The payee as written; null for expenses with none."},
    )
    expense = MoneyOut("What was spent on this payee.")
    transactions = fields.Integer(dump_only=True, metadata={"description": "How many expenses."})


class PayeeBlockSchema(Schema):
    currency = fields.String(
        dump_only=True, metadata={"description": "The block's currency.", "example": "USD"}
    )
    payees = fields.List(
        fields.Nested(PayeeSchema),
        dump_only=True,
        metadata={"description": "Largest spending first (ties by payee)."},
    )


class TopPayeesSchema(RangeSchema):
    currencies = fields.List(
        fields.Nested(PayeeBlockSchema),
        dump_only=True,
        metadata={"description": PER_CURRENCY + " Expenses only."},
    )
