"""Schemas for registration and the caller's profile."""

from marshmallow import ValidationError, fields, validate, validates_schema

from app.common.schemas import Schema, Text

PASSWORD_RULES = validate.Length(min=8, max=128)
#: Spaces inside, none at either end. Written so that Python and JSON Schema (ECMA) clients read
#: it alike: their \s differ (Python adds \x1c-\x1f and \x85, ECMA adds \ufeff), and so do "."
#: and "$" (hence the explicit middle class and fullmatch).
_EDGE = r"[^\s\x1c-\x1f\x85\ufeff]"
USERNAME_PATTERN = rf"^{_EDGE}(?:[^\n\r\u2028\u2029]*{_EDGE})?$"


class FullMatch(validate.Regexp):
    """A Regexp the whole value must match (marshmallow's uses re.match)."""

    def __call__(self, value: str) -> str:
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


class UserCreateSchema(Schema):
    username = Text(
        required=True,
        validate=[
            validate.Length(min=3, max=64),
            FullMatch(USERNAME_PATTERN, error="Must not start or end with whitespace."),
        ],
    )
    password = Text(required=True, load_only=True, validate=PASSWORD_RULES)
    email = fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=254))

    @validates_schema
    def password_is_not_username(self, data, **kwargs):
        if data.get("password", "").casefold() == data.get("username", "").casefold():
            raise ValidationError("Must not be the same as the username.", "password")


class UserSchema(Schema):
    id = fields.Integer(dump_only=True)
    username = fields.String(dump_only=True)
    email = fields.String(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)


class UserUpdateSchema(Schema):
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))


class PasswordChangeSchema(Schema):
    current_password = Text(required=True, load_only=True, validate=validate.Length(max=128))
    new_password = Text(required=True, load_only=True, validate=PASSWORD_RULES)


class PasswordConfirmSchema(Schema):
    password = Text(required=True, load_only=True, validate=validate.Length(max=128))
