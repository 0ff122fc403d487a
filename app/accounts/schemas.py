"""Account schemas: create, update (PUT and PATCH are both partial), and output."""

from marshmallow import ValidationError, fields, validate, validates_schema

from app.accounts.models import ACCOUNT_TYPES
from app.common.schemas import (
    MONEY_OUT,
    MONEY_RULES,
    CalendarDate,
    Currency,
    JSONBoolean,
    Money,
    Name,
    Schema,
)

NAME = "Unique among your accounts; trimmed, 1-100 characters."
TYPE = "What kind of account it is (it changes no rule)."
OPENING_BALANCE = (
    "The balance before any transaction; may be negative (credit cards, loans). " + MONEY_RULES
)
ARCHIVED = "An archived account takes no new transactions (a 422); it keeps its history."
CURRENCY_LOCKED = "It cannot change while the account has transactions (a 409)."


class AccountCreateSchema(Schema):
    name = Name(required=True, metadata={"description": NAME, "example": "Checking"})
    type = fields.String(
        load_default="checking",
        validate=validate.OneOf(ACCOUNT_TYPES),
        metadata={"description": TYPE},
    )
    currency = Currency(
        load_default="USD", metadata={"description": "The account's money; USD if not given."}
    )
    opening_balance = Money(metadata={"description": OPENING_BALANCE + " 0 if not given."})
    balance = Money(
        metadata={
            "description": "Deprecated: the original API's name for opening_balance, accepted "
            "on creation only; send opening_balance instead (both at once is a 422).",
            "deprecated": True,
        }
    )
    archived = JSONBoolean(load_default=False, metadata={"description": ARCHIVED})

    @validates_schema
    def one_opening_balance(self, data, **kwargs):
        if "balance" in data and "opening_balance" in data:
            raise ValidationError("Send opening_balance or balance, not both.", "balance")


class AccountUpdateSchema(Schema):
    name = Name(metadata={"description": NAME, "example": "Checking"})
    type = fields.String(validate=validate.OneOf(ACCOUNT_TYPES), metadata={"description": TYPE})
    currency = Currency(metadata={"description": CURRENCY_LOCKED})
    opening_balance = Money(
        metadata={"description": OPENING_BALANCE + " The balance moves by the difference."}
    )
    archived = JSONBoolean(metadata={"description": ARCHIVED})


class AccountSchema(Schema):
    id = fields.Integer(dump_only=True, metadata={"description": "The account's id."})
    owner_id = fields.Integer(dump_only=True, metadata={"description": "Your user id."})
    name = fields.String(
        dump_only=True,
        metadata={"description": "Unique among your accounts.", "example": "Checking"},
    )
    type = fields.String(dump_only=True, metadata={"description": TYPE})
    currency = fields.String(
        dump_only=True,
        metadata={
            "description": "The ISO 4217 code of the account's money; its transactions' too.",
            "example": "USD",
        },
    )
    opening_balance = Money(
        dump_only=True, metadata={"description": "The balance before any transaction. " + MONEY_OUT}
    )
    balance = Money(
        dump_only=True,
        metadata={
            "description": "The current balance: opening_balance, plus income, minus expenses, "
            "minus transfers out, plus transfers in. Read-only: change opening_balance instead. "
            + MONEY_OUT
        },
    )
    cleared_balance = Money(
        dump_only=True,
        metadata={
            "description": "opening_balance plus the transactions whose status on this account "
            "is cleared or reconciled: what the bank should show. " + MONEY_OUT
        },
    )
    reconciled_balance = Money(
        dump_only=True,
        metadata={
            "description": "opening_balance plus the transactions reconciled on this account "
            "(checked against a statement). " + MONEY_OUT
        },
    )
    archived = fields.Boolean(dump_only=True, metadata={"description": ARCHIVED})
    created_at = fields.DateTime(
        dump_only=True, metadata={"description": "When the account was opened (UTC)."}
    )
    updated_at = fields.DateTime(
        dump_only=True, metadata={"description": "When it last changed (UTC)."}
    )


class ReconcileSchema(Schema):
    statement_date = CalendarDate(
        required=True,
        date_only=True,
        metadata={"description": "The bank statement's closing date YYYY-MM-DD (inclusive)."},
    )
    closing_balance = Money(
        required=True,
        metadata={
            "description": "The statement's closing balance, in the account's currency: it must "
            "equal opening_balance plus the transactions cleared (or already reconciled) on "
            "this account dated up to statement_date, or nothing is reconciled (a 409 that "
            "names the difference). " + MONEY_RULES
        },
    )


class ReconcileResultSchema(Schema):
    account_id = fields.Integer(dump_only=True, metadata={"description": "The account."})
    statement_date = CalendarDate(
        dump_only=True, metadata={"description": "The statement's closing date."}
    )
    closing_balance = Money(
        dump_only=True,
        metadata={"description": "The statement's closing balance, matched. " + MONEY_OUT},
    )
    currency = fields.String(
        dump_only=True, metadata={"description": "The account's currency.", "example": "EUR"}
    )
    reconciled = fields.Integer(
        dump_only=True,
        metadata={
            "description": "How many transactions (sides on this account) this reconcile "
            "turned from cleared to reconciled; 0 when they already were.",
            "example": 12,
        },
    )
    balance = Money(
        dump_only=True, metadata={"description": "The account's balance now. " + MONEY_OUT}
    )
    cleared_balance = Money(
        dump_only=True, metadata={"description": "Its cleared balance now. " + MONEY_OUT}
    )
    reconciled_balance = Money(
        dump_only=True, metadata={"description": "Its reconciled balance now. " + MONEY_OUT}
    )
