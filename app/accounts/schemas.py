"""Account schemas: create, update (PUT and PATCH are both partial), and output."""

from marshmallow import ValidationError, fields, validate, validates_schema

from app.accounts.models import ACCOUNT_TYPES
from app.common.schemas import Currency, JSONBoolean, Money, Name, Schema


class AccountCreateSchema(Schema):
    name = Name(required=True)
    type = fields.String(load_default="checking", validate=validate.OneOf(ACCOUNT_TYPES))
    currency = Currency(load_default="USD")
    opening_balance = Money()
    balance = Money(
        metadata={"description": "The original API's name for opening_balance (deprecated)."}
    )
    archived = JSONBoolean(load_default=False)

    @validates_schema
    def one_opening_balance(self, data, **kwargs):
        if "balance" in data and "opening_balance" in data:
            raise ValidationError("Send opening_balance or balance, not both.", "balance")


class AccountUpdateSchema(Schema):
    name = Name()
    type = fields.String(validate=validate.OneOf(ACCOUNT_TYPES))
    currency = Currency()
    opening_balance = Money()
    archived = JSONBoolean()


class AccountSchema(Schema):
    id = fields.Integer(dump_only=True)
    owner_id = fields.Integer(dump_only=True)
    name = fields.String(dump_only=True)
    type = fields.String(dump_only=True)
    currency = fields.String(dump_only=True)
    opening_balance = Money(dump_only=True)
    balance = Money(dump_only=True)
    archived = fields.Boolean(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)
