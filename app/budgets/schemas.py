"""Budget schemas: budgets in and out, the month argument, the month's status."""

import re
from datetime import date

from marshmallow import fields

from app.common.schemas import (
    FIRST_DATE,
    LAST_DATE,
    MONEY_OUT,
    MONEY_RULES,
    Currency,
    Id,
    JSONBoolean,
    Money,
    MoneyOut,
    Schema,
)

#: YYYY-MM from 1900-01 to 2199-12, as the dates are; the same rule in Python and JSON Schema.
MONTH_PATTERN = re.compile(r"^(19|20|21)[0-9]{2}-(0[1-9]|1[0-2])$")


class Month(fields.Field):
    """A calendar month `YYYY-MM`, loaded as its first day, dumped as `YYYY-MM`."""

    default_error_messages = {
        "invalid": f"Must be a month YYYY-MM from {FIRST_DATE:%Y-%m} to {LAST_DATE:%Y-%m}.",
    }

    def __init__(self, **kwargs):
        metadata = kwargs.pop("metadata", {})
        metadata.update(type="string", pattern=MONTH_PATTERN.pattern, example="2026-01")
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> date:
        if not isinstance(value, str) or not MONTH_PATTERN.fullmatch(value):
            raise self.make_error("invalid")
        return date(int(value[:4]), int(value[5:]), 1)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else f"{value:%Y-%m}"


CATEGORY = "One of your expense categories (an income category is a 422)."
AMOUNT = "How much a month, in the budget's currency, positive. " + MONEY_RULES
MONTH = "The month YYYY-MM it is for, or from when it recurs."
RECURRING = "true: every month from start_month; false: that month only."
ROLLOVER = (
    "true: a month's unspent part is added to the next month's (overspending is not carried)."
)


class BudgetUpdateSchema(Schema):
    amount = Money(positive=True, metadata={"description": AMOUNT})
    recurring = JSONBoolean(metadata={"description": RECURRING})
    rollover = JSONBoolean(metadata={"description": ROLLOVER})


class BudgetCreateSchema(BudgetUpdateSchema):
    category_id = Id(required=True, metadata={"description": CATEGORY})
    currency = Currency(
        required=True, metadata={"description": "The one currency it counts spending in."}
    )
    amount = Money(required=True, positive=True, metadata={"description": AMOUNT})
    start_month = Month(required=True, metadata={"description": MONTH})
    recurring = JSONBoolean(
        load_default=True, metadata={"description": RECURRING + " true if not given."}
    )
    rollover = JSONBoolean(
        load_default=False, metadata={"description": ROLLOVER + " false if not given."}
    )


class BudgetSchema(Schema):
    id = fields.Integer(dump_only=True, metadata={"description": "The budget's id."})
    user_id = fields.Integer(dump_only=True, metadata={"description": "Your user id."})
    category_id = fields.Integer(dump_only=True, metadata={"description": "Its category."})
    currency = fields.String(
        dump_only=True, metadata={"description": "Its currency.", "example": "USD"}
    )
    amount = Money(dump_only=True, metadata={"description": "How much a month. " + MONEY_OUT})
    start_month = Month(dump_only=True, metadata={"description": MONTH})
    recurring = fields.Boolean(dump_only=True, metadata={"description": RECURRING})
    rollover = fields.Boolean(dump_only=True, metadata={"description": ROLLOVER})
    created_at = fields.DateTime(dump_only=True, metadata={"description": "When (UTC)."})
    updated_at = fields.DateTime(dump_only=True, metadata={"description": "Last change (UTC)."})


class StatusArgsSchema(Schema):
    month = Month(required=True, metadata={"description": "The month YYYY-MM."})


class BudgetLineSchema(Schema):
    budget_id = fields.Integer(dump_only=True, metadata={"description": "The budget."})
    category_id = fields.Integer(dump_only=True, metadata={"description": "Its category."})
    name = fields.String(dump_only=True, metadata={"description": "The category's name."})
    currency = fields.String(
        dump_only=True, metadata={"description": "The budget's currency.", "example": "USD"}
    )
    budgeted = MoneyOut("The month's amount.")
    rolled_over = MoneyOut("Unspent from the months before, with rollover; else 0.")
    spent = MoneyOut(
        "The month's expenses in the budget's currency in the category and in every category "
        "below it (its sub-categories, theirs, and so on), split parts in them included. A "
        "sub-category with a budget of its own counts in both budgets."
    )
    remaining = MoneyOut("budgeted + rolled_over - spent; negative when overspent.")
    percent_used = fields.String(
        dump_only=True,
        metadata={
            "description": "spent / (budgeted + rolled_over) x 100, two decimals, rounded half "
            "up (may pass 100).",
            "example": "42.50",
        },
    )


class UnbudgetedSchema(Schema):
    currency = fields.String(
        dump_only=True, metadata={"description": "The currency.", "example": "USD"}
    )
    spent = MoneyOut(
        "Expenses in the month in no budgeted category nor below one (in this currency), "
        "uncategorised included."
    )


class BudgetStatusSchema(Schema):
    month = Month(dump_only=True, metadata={"description": "The month."})
    budgets = fields.List(
        fields.Nested(BudgetLineSchema),
        dump_only=True,
        metadata={
            "description": "Per budgeted category and currency: a one-month budget wins over a "
            "recurring one; of recurring ones, the latest to start. By category name."
        },
    )
    unbudgeted = fields.List(
        fields.Nested(UnbudgetedSchema),
        dump_only=True,
        metadata={"description": "Per currency, by code."},
    )
