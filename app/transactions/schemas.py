"""Transaction schemas: create, update (partial), list query arguments, output."""

from marshmallow import RAISE, ValidationError, fields, validate, validates_schema

from app.common import money
from app.common.schemas import (
    MONEY_OUT,
    MONEY_RULES,
    NOT_BLANK,
    CalendarDate,
    Currency,
    Id,
    Money,
    PageArgsSchema,
    Schema,
    Text,
    TrimmedText,
)
from app.transactions.models import STATUSES, TRANSACTION_TYPES

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
    "account_id; the money arrives there. Not in the same currency as account_id: the "
    "transfer needs transfer_amount too."
)
TRANSFER_AMOUNT = (
    "Transfers only: what arrives at transfer_account_id, in its currency (the source's amount "
    "leaves account_id in the source's). Required when the two accounts hold different "
    "currencies; between accounts of one currency leave it out (it is amount) or send amount "
    "again (any other value is a 422). Changing amount alone keeps it in a cross-currency "
    "transfer: each side is its own fact. " + MONEY_RULES
)
#: What a user sets; `reconciled` comes only from a reconcile of the account.
SETTABLE_STATUSES = ("pending", "cleared")
STATUS = (
    "pending (entered here, not yet seen at the bank), or cleared (the bank shows it); "
    "reconciled is set only by POST .../accounts/{account_id}/reconcile, and a reconciled "
    "transaction's status changes only with force=true."
)
STATUS_IN = "Its status on account_id: " + STATUS + " New transactions are pending unless given."
TRANSFER_STATUS_IN = (
    "Transfers only: its status on transfer_account_id, which has its own statement: "
    + STATUS
    + " The same as status unless given."
)


SPLITS = (
    "Its amount divided across categories: each part's amount is positive and in the "
    "account's currency, and the parts add up exactly to the transaction's amount (else a 422 "
    "and nothing is written). Balances move by the transaction as a whole; the category filter "
    "and the reports count each part in its own category. Income and expenses only; with "
    "splits, category_id stays null. At most 100 parts."
)
TAGS = "Free-form tags, each 1-50 characters (trimmed; a repeated one counts once), at most 20."
MAX_SPLITS = 100
MAX_TAGS = 20


class SplitSchema(Schema):
    category_id = Id(
        load_default=None,
        allow_none=True,
        metadata={"description": "One of your categories, or null for uncategorised."},
    )
    amount = Money(
        required=True,
        positive=True,
        metadata={"description": "This part of the amount, positive. " + MONEY_RULES},
    )
    note = Text(
        load_default="",
        validate=validate.Length(max=200),
        metadata={"description": "Free text, at most 200 characters.", "example": "Shampoo"},
    )


class SplitOutSchema(Schema):
    category_id = fields.Integer(
        dump_only=True, allow_none=True, metadata={"description": "Its category; null for none."}
    )
    amount = Money(
        dump_only=True, metadata={"description": "This part of the amount. " + MONEY_OUT}
    )
    note = fields.String(dump_only=True, metadata={"description": "Free text."})


TAG_LENGTH = 50


class TagText(TrimmedText):
    """At most TAG_LENGTH characters as sent (as the OpenAPI document's maxLength says), then
    trimmed: " x " padded past the limit is refused, not cut to fit."""

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        if isinstance(value, str) and len(value) > TAG_LENGTH:
            raise ValidationError(f"Longer than maximum length {TAG_LENGTH}.")
        return super()._deserialize(value, attr, data, **kwargs)


def Tag(**kwargs):  # noqa: N802 - a field factory reads like a field class
    return TagText(
        validate=validate.Length(min=1, max=TAG_LENGTH),
        # Not blank once trimmed, as the document says (" " would pass a bare minLength).
        metadata={"description": "A tag.", "example": "vacation", "pattern": NOT_BLANK},
        **kwargs,
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
    transfer_amount = Money(positive=True, metadata={"description": TRANSFER_AMOUNT})
    status = fields.String(
        validate=validate.OneOf(SETTABLE_STATUSES), metadata={"description": STATUS_IN}
    )
    transfer_status = fields.String(
        validate=validate.OneOf(SETTABLE_STATUSES), metadata={"description": TRANSFER_STATUS_IN}
    )
    splits = fields.List(
        fields.Nested(SplitSchema),
        validate=validate.Length(max=MAX_SPLITS),
        metadata={
            "description": SPLITS
            + " Replaces the parts there are; [] removes them. Changing the amount of a split "
            "transaction needs its splits too."
        },
    )
    tags = fields.List(
        Tag(),
        validate=validate.Length(max=MAX_TAGS),
        metadata={"description": TAGS + " Replaces the tags there are; [] removes them."},
    )


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
    splits = fields.List(
        fields.Nested(SplitSchema),
        load_default=list,
        validate=validate.Length(max=MAX_SPLITS),
        metadata={"description": SPLITS + " None if not given."},
    )
    tags = fields.List(
        Tag(),
        load_default=list,
        validate=validate.Length(max=MAX_TAGS),
        metadata={"description": TAGS + " None if not given."},
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
    transfer_amount = Money(
        dump_only=True,
        allow_none=True,
        currency_attribute="transfer_currency",
        metadata={
            "description": "A transfer's destination side: what arrived at "
            "transfer_account_id, in transfer_currency (amount, between accounts of one "
            "currency); null for the others. " + MONEY_OUT
        },
    )
    transfer_currency = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={
            "description": "The ISO 4217 code of transfer_account_id's currency; null for "
            "income and expense.",
            "example": "EUR",
        },
    )
    exchange_rate = fields.Method(
        "implied_rate",
        dump_only=True,
        allow_none=True,
        metadata={
            "type": "string",
            "description": "Read-only: the rate a transfer implies, transfer_currency per one "
            f"currency (transfer_amount / amount), rounded half-even to {money.RATE_PLACES} "
            'decimal places, without trailing zeros ("1" between accounts of one currency); '
            "null for income and expense.",
            "example": "0.9215",
        },
    )
    status = fields.String(
        dump_only=True,
        metadata={"description": "Its status on account_id: pending, cleared or reconciled."},
    )
    transfer_status = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={
            "description": "A transfer's status on transfer_account_id: pending, cleared or "
            "reconciled; null for income and expense."
        },
    )
    splits = fields.List(
        fields.Nested(SplitOutSchema),
        dump_only=True,
        metadata={"description": "Its parts by category; empty when it is not split."},
    )
    tags = fields.List(
        fields.String(metadata={"description": "A tag.", "example": "vacation"}),
        dump_only=True,
        metadata={"description": "Its tags, in alphabetical order."},
    )
    recurring_id = fields.Integer(
        dump_only=True,
        allow_none=True,
        metadata={"description": "The recurring schedule that posted it; null for none."},
    )
    created_at = fields.DateTime(
        dump_only=True, metadata={"description": "When it was recorded (UTC)."}
    )
    updated_at = fields.DateTime(
        dump_only=True, metadata={"description": "When it last changed (UTC)."}
    )

    def implied_rate(self, txn) -> str | None:
        if getattr(txn, "transfer_amount", None) is None:
            return None
        return money.implied_rate(
            txn.amount, txn.currency, txn.transfer_amount, txn.transfer_currency
        )


class ForceArgsSchema(Schema):
    force = fields.Boolean(
        load_default=False,
        metadata={
            "description": "true: change or delete a reconciled transaction anyway (its amount, "
            "accounts, type, date or status; without it, a 409). Its reconciled balance moves "
            "with it."
        },
    )


#: How amounts compare in the list's filters and sort.
AS_WRITTEN = (
    "Amounts compare as decimal values as written, across currencies: JPY 1200 is more than "
    "USD 12.50."
)
AMOUNT_BOUND = (
    '(inclusive), a decimal string such as "100.00". '
    + AS_WRITTEN
    + " A transfer is compared by its source side, amount, never by transfer_amount."
)


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
        strict=False,
        metadata={
            "description": "Only transactions in this category of yours, split transactions "
            "with a part in it included."
        },
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
    currency = Currency(
        metadata={"description": "Only transactions in this currency (a transfer's source side's)."}
    )
    status = fields.String(
        validate=validate.OneOf(STATUSES),
        metadata={
            "description": "Only transactions of this status: on account_id's side when "
            "account_id is given (a transfer into it by its transfer_status), else on either "
            "side of a transfer."
        },
    )
    tag = fields.List(
        Tag(),
        validate=validate.Length(min=1, max=MAX_TAGS),
        metadata={
            "description": "Only transactions with any of these tags: tag=a&tag=b is a or b."
        },
    )
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
        metadata={"description": "What to sort by. " + AS_WRITTEN + " A transfer sorts by amount."},
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
            "description": "true: your rules (/users/{user_id}/rules/) apply to it: without a "
            "category_id or splits, the first matching rule with a category gives it one, and "
            "every matching rule adds its tags to those given (at most 20 in all)."
        },
    )
