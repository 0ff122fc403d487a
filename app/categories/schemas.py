"""Category schemas."""

from marshmallow import fields, validate

from app.categories.models import CATEGORY_KINDS
from app.common.schemas import Id, Name, Schema

NAME = "Unique among your categories, ignoring case; trimmed, 1-100 characters."
KIND = "Whether it holds income or expenses."
PARENT = (
    "One of your categories to nest this one under (not itself nor one of its own "
    "descendants: a 422), or null for a top-level category."
)


class CategoryCreateSchema(Schema):
    name = Name(required=True, metadata={"description": NAME, "example": "Groceries"})
    kind = fields.String(
        load_default="expense",
        validate=validate.OneOf(CATEGORY_KINDS),
        metadata={"description": KIND + " expense if not given."},
    )
    parent_id = Id(load_default=None, allow_none=True, metadata={"description": PARENT})


class CategoryUpdateSchema(Schema):
    name = Name(metadata={"description": NAME, "example": "Groceries"})
    kind = fields.String(validate=validate.OneOf(CATEGORY_KINDS), metadata={"description": KIND})
    parent_id = Id(allow_none=True, metadata={"description": PARENT})


class CategorySchema(Schema):
    id = fields.Integer(dump_only=True, metadata={"description": "The category's id."})
    name = fields.String(
        dump_only=True,
        metadata={"description": "Unique among your categories.", "example": "Groceries"},
    )
    kind = fields.String(dump_only=True, metadata={"description": KIND})
    parent_id = fields.Integer(
        dump_only=True,
        allow_none=True,
        metadata={"description": "The category it is nested under; null for a top-level one."},
    )
