"""Rule schemas: create, update (partial), apply, output."""

from decimal import Decimal

from marshmallow import ValidationError, fields, validate, validates_schema

from app.common.schemas import CalendarDate, Id, Money, Schema, Text
from app.rules.models import RULE_FIELDS, RULE_MATCHES
from app.transactions.schemas import MAX_TAGS, Tag

PATTERN = (
    "The text to look for, ignoring case (match=contains), or a Python regular expression "
    "searched ignoring case (match=regex); at most 200 characters."
)
FIELD = "Where to look: description, payee, or any (either)."
MATCH = "contains (plain text) or regex."
CATEGORY = (
    "One of your categories: what a matching transaction without one gets; null for a rule "
    "that only adds tags. The first matching rule (by priority, then id) with a category "
    "gives it."
)
TAGS = (
    "Tags (each 1-50 characters, trimmed, at most 20) that every matching rule adds to the "
    "transaction, beside those it has (a tag already there counts once); a transaction keeps "
    "at most 20 tags, its own first, then the rules' in rule order. A rule needs a category, "
    "tags, or both."
)
RANGE = (
    '(inclusive), a decimal string such as "100.00", compared with the positive amount as '
    "written, in any currency; null for no bound."
)
PRIORITY = "Lower first: the first rule that matches, by priority then id, gives the category."


class RuleUpdateSchema(Schema):
    pattern = Text(
        validate=validate.Length(min=1, max=200),
        metadata={"description": PATTERN, "example": "grocer"},
    )
    field = fields.String(validate=validate.OneOf(RULE_FIELDS), metadata={"description": FIELD})
    match = fields.String(validate=validate.OneOf(RULE_MATCHES), metadata={"description": MATCH})
    category_id = Id(allow_none=True, metadata={"description": CATEGORY})
    tags = fields.List(
        Tag(),
        validate=validate.Length(max=MAX_TAGS),
        metadata={"description": TAGS + " Replaces the rule's tags; [] removes them."},
    )
    min_amount = Money(
        allow_none=True, metadata={"description": "Only amounts of at least this " + RANGE}
    )
    max_amount = Money(
        allow_none=True, metadata={"description": "Only amounts of at most this " + RANGE}
    )
    priority = fields.Integer(
        strict=True,
        validate=validate.Range(min=0, max=1_000_000),
        metadata={"description": PRIORITY},
    )


class RuleCreateSchema(RuleUpdateSchema):
    pattern = Text(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": PATTERN, "example": "grocer"},
    )
    category_id = Id(load_default=None, allow_none=True, metadata={"description": CATEGORY})
    tags = fields.List(
        Tag(),
        load_default=list,
        validate=validate.Length(max=MAX_TAGS),
        metadata={"description": TAGS + " None if not given."},
    )
    field = fields.String(
        load_default="any",
        validate=validate.OneOf(RULE_FIELDS),
        metadata={"description": FIELD + " any if not given."},
    )
    match = fields.String(
        load_default="contains",
        validate=validate.OneOf(RULE_MATCHES),
        metadata={"description": MATCH + " contains if not given."},
    )
    priority = fields.Integer(
        strict=True,
        load_default=100,
        validate=validate.Range(min=0, max=1_000_000),
        metadata={"description": PRIORITY + " 100 if not given."},
    )


def scaled_to_decimal(value):
    if value is None:
        return None
    return format(Decimal(value).scaleb(-4).normalize(), "f")


class RuleSchema(Schema):
    id = fields.Integer(dump_only=True, metadata={"description": "The rule's id."})
    pattern = fields.String(dump_only=True, metadata={"description": PATTERN})
    field = fields.String(dump_only=True, metadata={"description": FIELD})
    match = fields.String(dump_only=True, metadata={"description": MATCH})
    category_id = fields.Integer(
        dump_only=True, allow_none=True, metadata={"description": CATEGORY}
    )
    tags = fields.List(
        fields.String(metadata={"description": "A tag.", "example": "coffee"}),
        dump_only=True,
        metadata={"description": "The tags it adds, in alphabetical order. " + TAGS},
    )
    min_amount = fields.Function(
        lambda rule: scaled_to_decimal(rule.min_amount_scaled),
        dump_only=True,
        allow_none=True,
        metadata={"description": "The lower bound " + RANGE, "type": "string", "example": "10"},
    )
    max_amount = fields.Function(
        lambda rule: scaled_to_decimal(rule.max_amount_scaled),
        dump_only=True,
        allow_none=True,
        metadata={"description": "The upper bound " + RANGE, "type": "string", "example": "250.5"},
    )
    priority = fields.Integer(strict=True, dump_only=True, metadata={"description": PRIORITY})


class RuleApplySchema(Schema):
    start_date = CalendarDate(
        date_only=True,
        metadata={"description": "From this date (inclusive); from the first if not given."},
    )
    end_date = CalendarDate(
        date_only=True,
        metadata={"description": "To this date (inclusive); to the last if not given."},
    )

    @validates_schema
    def ordered(self, data, **kwargs):
        if "start_date" in data and "end_date" in data and data["start_date"] > data["end_date"]:
            raise ValidationError("Must not be before start_date.", "end_date")


class RuleApplyResultSchema(Schema):
    categorised = fields.Integer(
        metadata={"description": "Uncategorised transactions in the range that got a category."}
    )
    tagged = fields.Integer(
        metadata={
            "description": "Uncategorised transactions in the range that got at least one new tag."
        }
    )
