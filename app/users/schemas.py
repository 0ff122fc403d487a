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
        metadata={
            "description": "3-64 characters, no whitespace at either end; unique ignoring case "
            "(taken: a 409), and logging in ignores case too.",
            "example": "alice",
        },
    )
    password = Text(
        required=True,
        load_only=True,
        validate=PASSWORD_RULES,
        metadata={"description": "8-128 characters, not the username (in any case)."},
    )
    email = fields.Email(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=254),
        metadata={"description": "An address to reach you at, or null (the default)."},
    )

    @validates_schema
    def password_is_not_username(self, data, **kwargs):
        if data.get("password", "").casefold() == data.get("username", "").casefold():
            raise ValidationError("Must not be the same as the username.", "password")


class UserSchema(Schema):
    id = fields.Integer(
        dump_only=True, metadata={"description": "Your user id: the user_id in your paths."}
    )
    username = fields.String(
        dump_only=True, metadata={"description": "As registered.", "example": "alice"}
    )
    email = fields.String(
        dump_only=True, allow_none=True, metadata={"description": "Your address, or null."}
    )
    created_at = fields.DateTime(
        dump_only=True, metadata={"description": "When you registered (UTC)."}
    )


class UserUpdateSchema(Schema):
    email = fields.Email(
        allow_none=True,
        validate=validate.Length(max=254),
        metadata={"description": "Your new address, or null to remove it."},
    )


class PasswordChangeSchema(Schema):
    current_password = Text(
        required=True,
        load_only=True,
        validate=validate.Length(max=128),
        metadata={"description": "Your password now (wrong: a 403)."},
    )
    new_password = Text(
        required=True,
        load_only=True,
        validate=PASSWORD_RULES,
        metadata={
            "description": "8-128 characters; every token issued before the change stops working."
        },
    )


class PasswordConfirmSchema(Schema):
    password = Text(
        required=True,
        load_only=True,
        validate=validate.Length(max=128),
        metadata={"description": "Your password, to confirm (wrong: a 403)."},
    )
