"""The backup document, version 2: what GET /users/me/export writes and POST /users/me/import
reads. Ids are the exporting instance's; a restore gives new ones and keeps the links.
Version 2 adds budgets, recurring schedules (with the occurrences they posted), exchange
rates, the base currency, and each transaction's splits, tags and schedule; a version 1
document (without them) still restores."""

from flask_smorest.fields import Upload
from marshmallow import ValidationError, fields, validate, validates_schema

from app.accounts.models import ACCOUNT_TYPES
from app.budgets.schemas import Month
from app.categories.models import CATEGORY_KINDS
from app.common.schemas import (
    MONEY_OUT,
    CalendarDate,
    Currency,
    Id,
    Money,
    Name,
    Schema,
    Text,
)
from app.rates.schemas import DISTINCT, Rate
from app.recurring.models import UNITS
from app.rules.models import RULE_FIELDS, RULE_MATCHES
from app.transactions.models import STATUSES, TRANSACTION_TYPES
from app.transactions.schemas import MAX_SPLITS, MAX_TAGS, Tag

FORMAT = "finance-tracker-backup"
VERSION = 2
#: The versions a restore reads.
VERSIONS = (1, 2)
IN_BACKUP = "Its id in the backup (links from other rows use it)."


class BackupAccountSchema(Schema):
    id = Id(required=True, metadata={"description": IN_BACKUP})
    name = Name(
        required=True, metadata={"description": "The account's name.", "example": "Checking"}
    )
    type = fields.String(
        required=True,
        validate=validate.OneOf(ACCOUNT_TYPES),
        metadata={"description": "checking, savings, credit_card, cash, investment, loan, other."},
    )
    currency = Currency(required=True, metadata={"description": "The account's currency."})
    opening_balance = Money(
        required=True,
        metadata={"description": "The balance before its first transaction. " + MONEY_OUT},
    )
    balance = Money(
        required=True,
        metadata={
            "description": "The balance when exported; a restore checks it comes out the "
            "same. " + MONEY_OUT
        },
    )
    cleared_balance = Money(
        required=True,
        metadata={"description": "Its cleared and reconciled transactions' balance. " + MONEY_OUT},
    )
    reconciled_balance = Money(
        required=True,
        metadata={"description": "Its reconciled transactions' balance. " + MONEY_OUT},
    )
    archived = fields.Boolean(required=True, metadata={"description": "Archived or not."})


class BackupCategorySchema(Schema):
    id = Id(required=True, metadata={"description": IN_BACKUP})
    name = Name(
        required=True, metadata={"description": "The category's name.", "example": "Groceries"}
    )
    kind = fields.String(
        required=True,
        validate=validate.OneOf(CATEGORY_KINDS),
        metadata={"description": "income or expense."},
    )
    parent_id = Id(
        required=True, allow_none=True, metadata={"description": "Its parent's backup id, or null."}
    )


class BackupSplitSchema(Schema):
    category_id = Id(
        required=True, allow_none=True, metadata={"description": "Its category's backup id."}
    )
    amount = Money(
        required=True, positive=True, metadata={"description": "This part. " + MONEY_OUT}
    )
    note = Text(
        required=True,
        validate=validate.Length(max=200),
        metadata={"description": "Free text.", "example": "Shampoo"},
    )


class BackupTransactionSchema(Schema):
    id = Id(required=True, metadata={"description": IN_BACKUP})
    account_id = Id(required=True, metadata={"description": "Its account's backup id."})
    transfer_account_id = Id(
        required=True,
        allow_none=True,
        metadata={"description": "A transfer's destination account's backup id, or null."},
    )
    category_id = Id(
        required=True,
        allow_none=True,
        metadata={"description": "Its category's backup id, or null."},
    )
    type = fields.String(
        required=True,
        validate=validate.OneOf(TRANSACTION_TYPES),
        metadata={"description": "income, expense or transfer."},
    )
    amount = Money(
        required=True, positive=True, metadata={"description": "Always positive. " + MONEY_OUT}
    )
    currency = Currency(required=True, metadata={"description": "Its account's currency."})
    transfer_amount = Money(
        required=True,
        allow_none=True,
        positive=True,
        metadata={"description": "A transfer's amount arrived, in its destination's currency."},
    )
    status = fields.String(
        required=True,
        validate=validate.OneOf(STATUSES),
        metadata={"description": "pending, cleared or reconciled."},
    )
    transfer_status = fields.String(
        required=True,
        allow_none=True,
        validate=validate.OneOf(STATUSES),
        metadata={"description": "A transfer's destination side's status, or null."},
    )
    date = CalendarDate(date_only=True, required=True, metadata={"description": "Its date."})
    description = Text(
        required=True,
        validate=validate.Length(max=500),
        metadata={"description": "Free text.", "example": "Weekly groceries"},
    )
    payee = Text(
        required=True,
        allow_none=True,
        validate=validate.Length(max=200),
        metadata={
            "description": "Who was paid, or who paid; null for nobody.",
            "example": "Corner Grocery",
        },
    )
    import_id = Text(
        required=True,
        allow_none=True,
        validate=validate.Length(max=255),
        metadata={
            "description": "The bank's id (FITID) or the import's hash, or null.",
            "example": "2025000017",
        },
    )
    recurring_id = Id(
        load_default=None,
        allow_none=True,
        metadata={"description": "The backup id of the schedule that posted it, or null."},
    )
    splits = fields.List(
        fields.Nested(BackupSplitSchema),
        load_default=list,
        validate=validate.Length(max=MAX_SPLITS),
        metadata={"description": "Its amount's parts, if split."},
    )
    tags = fields.List(
        Tag(),
        load_default=list,
        validate=validate.Length(max=MAX_TAGS),
        metadata={"description": "Its tags."},
    )


class BackupBudgetSchema(Schema):
    id = Id(required=True, metadata={"description": IN_BACKUP})
    category_id = Id(required=True, metadata={"description": "Its expense category's backup id."})
    currency = Currency(required=True, metadata={"description": "Its currency."})
    amount = Money(
        required=True, positive=True, metadata={"description": "A month's amount. " + MONEY_OUT}
    )
    start_month = Month(required=True, metadata={"description": "Its (first) month, YYYY-MM."})
    recurring = fields.Boolean(required=True, metadata={"description": "Every month from it."})
    rollover = fields.Boolean(required=True, metadata={"description": "Unspent carries over."})


class BackupOccurrenceSchema(Schema):
    date = CalendarDate(
        date_only=True, required=True, metadata={"description": "A date the schedule posted."}
    )
    transaction_id = Id(
        required=True,
        allow_none=True,
        metadata={
            "description": "The backup id of the transaction posted, or null when it was "
            "deleted since (the date stays posted: it is not posted again)."
        },
    )


class BackupScheduleSchema(Schema):
    id = Id(required=True, metadata={"description": IN_BACKUP})
    account_id = Id(required=True, metadata={"description": "Its account's backup id."})
    transfer_account_id = Id(
        required=True,
        allow_none=True,
        metadata={"description": "A transfer's destination's backup id, or null."},
    )
    category_id = Id(
        required=True, allow_none=True, metadata={"description": "Its category's backup id."}
    )
    type = fields.String(
        required=True,
        validate=validate.OneOf(TRANSACTION_TYPES),
        metadata={"description": "income, expense or transfer."},
    )
    amount = Money(
        required=True, positive=True, metadata={"description": "Each occurrence. " + MONEY_OUT}
    )
    currency = Currency(required=True, metadata={"description": "Its account's currency."})
    transfer_amount = Money(
        load_default=None,
        allow_none=True,
        positive=True,
        currency_attribute="transfer_currency",
        metadata={
            "description": "A transfer's destination side: what arrives each time, in the "
            "destination's currency; null (or absent, in a backup from before) for the others "
            "and for a transfer between accounts of one currency. " + MONEY_OUT
        },
    )
    description = Text(
        required=True,
        validate=validate.Length(max=500),
        metadata={"description": "Free text.", "example": "Rent"},
    )
    payee = Text(
        required=True,
        allow_none=True,
        validate=validate.Length(max=200),
        metadata={"description": "Who, or null.", "example": "Landlord"},
    )
    unit = fields.String(
        required=True, validate=validate.OneOf(UNITS), metadata={"description": "The unit."}
    )
    every = fields.Integer(
        strict=True,
        required=True,
        validate=validate.Range(min=1, max=1000),
        metadata={"description": "Every how many units."},
    )
    start_date = CalendarDate(date_only=True, required=True, metadata={"description": "First."})
    end_date = CalendarDate(
        date_only=True, required=True, allow_none=True, metadata={"description": "Last, or null."}
    )
    count = fields.Integer(
        strict=True,
        required=True,
        allow_none=True,
        validate=validate.Range(min=1, max=100_000),
        metadata={"description": "At most this many, or null."},
    )
    occurrences = fields.List(
        fields.Nested(BackupOccurrenceSchema),
        required=True,
        metadata={"description": "The dates it has posted, oldest first."},
    )

    @validates_schema
    def end_not_before_start(self, data, **kwargs):
        if (
            data.get("end_date")
            and data.get("start_date")
            and data["end_date"] < data["start_date"]
        ):
            raise ValidationError("Must not be before start_date.", "end_date")


class BackupRateSchema(Schema):
    base = Currency(required=True, metadata={"description": "1 base ="})
    quote = Currency(required=True, metadata={"description": "rate quote."})
    date = CalendarDate(date_only=True, required=True, metadata={"description": "From when."})
    rate = Rate(required=True, metadata={"description": "The exact rate."})

    @validates_schema
    def distinct_currencies(self, data, **kwargs):
        if "base" in data and data.get("base") == data.get("quote"):
            raise ValidationError(DISTINCT, "quote")


class BackupRuleSchema(Schema):
    id = Id(required=True, metadata={"description": IN_BACKUP})
    category_id = Id(
        required=True,
        allow_none=True,
        metadata={"description": "Its category's backup id, or null for a rule of tags only."},
    )
    tags = fields.List(
        Tag(),
        load_default=list,
        validate=validate.Length(max=MAX_TAGS),
        metadata={"description": "The tags it adds."},
    )
    field = fields.String(
        required=True,
        validate=validate.OneOf(RULE_FIELDS),
        metadata={"description": "any, description or payee."},
    )
    match = fields.String(
        required=True,
        validate=validate.OneOf(RULE_MATCHES),
        metadata={"description": "contains or regex."},
    )
    pattern = Text(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "What it looks for.", "example": "grocer"},
    )
    min_amount = Money(
        required=True, allow_none=True, metadata={"description": "Lower bound, or null."}
    )
    max_amount = Money(
        required=True, allow_none=True, metadata={"description": "Upper bound, or null."}
    )
    priority = fields.Integer(
        strict=True,
        required=True,
        validate=validate.Range(min=0, max=1_000_000),
        metadata={"description": "Lower first."},
    )


class BackupSchema(Schema):
    format = fields.String(
        required=True,
        validate=validate.Equal(FORMAT),
        metadata={"description": f'Always "{FORMAT}".'},
    )
    version = fields.Integer(
        strict=True,
        required=True,
        validate=validate.OneOf(VERSIONS),
        metadata={
            "description": f"The document's version: {VERSION} (a restore reads 1 too, "
            "which has no budgets, schedules, rates, splits or tags)."
        },
    )
    base_currency = Currency(
        load_default=None,
        allow_none=True,
        metadata={"description": "The user's base currency (reports' in=), or null."},
    )
    exported_at = fields.String(
        required=True, metadata={"description": "When it was written (ISO 8601, UTC)."}
    )
    accounts = fields.List(
        fields.Nested(BackupAccountSchema), required=True, metadata={"description": "Accounts."}
    )
    categories = fields.List(
        fields.Nested(BackupCategorySchema),
        required=True,
        metadata={"description": "Categories."},
    )
    transactions = fields.List(
        fields.Nested(BackupTransactionSchema),
        required=True,
        metadata={"description": "Transactions, oldest first."},
    )
    rules = fields.List(
        fields.Nested(BackupRuleSchema),
        load_default=list,
        metadata={"description": "Categorisation rules, in the order they are tried."},
    )
    budgets = fields.List(
        fields.Nested(BackupBudgetSchema), load_default=list, metadata={"description": "Budgets."}
    )
    recurring = fields.List(
        fields.Nested(BackupScheduleSchema),
        load_default=list,
        metadata={"description": "Recurring schedules and the dates each has posted."},
    )
    rates = fields.List(
        fields.Nested(BackupRateSchema),
        load_default=list,
        metadata={"description": "Exchange rates."},
    )


class RestoreFileSchema(Schema):
    file = Upload(
        required=True,
        metadata={"description": "A backup document, as GET /users/me/export wrote it."},
    )


class RestoreResultSchema(Schema):
    rules = fields.Integer(metadata={"description": "Rules restored."})
    budgets = fields.Integer(metadata={"description": "Budgets restored."})
    recurring = fields.Integer(metadata={"description": "Recurring schedules restored."})
    rates = fields.Integer(metadata={"description": "Exchange rates restored."})
    accounts = fields.Integer(metadata={"description": "Accounts restored."})
    categories = fields.Integer(metadata={"description": "Categories restored."})
    transactions = fields.Integer(metadata={"description": "Transactions restored."})
