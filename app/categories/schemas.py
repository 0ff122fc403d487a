"""Category schemas."""

from marshmallow import fields, validate

from app.categories.models import CATEGORY_KINDS
from app.common.schemas import Id, Name, Schema


class CategoryCreateSchema(Schema):
    name = Name(required=True)
    kind = fields.String(load_default="expense", validate=validate.OneOf(CATEGORY_KINDS))
    parent_id = Id(load_default=None, allow_none=True)


class CategoryUpdateSchema(Schema):
    name = Name()
    kind = fields.String(validate=validate.OneOf(CATEGORY_KINDS))
    parent_id = Id(allow_none=True)


class CategorySchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(dump_only=True)
    kind = fields.String(dump_only=True)
    parent_id = fields.Integer(dump_only=True, allow_none=True)
