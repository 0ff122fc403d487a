"""Schemas for registration and the caller's profile."""

from __future__ import annotations

import unicodedata
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema
from precis_i18n import get_profile

from app.common.passwords import password_problem
from app.common.schemas import Currency, EmailAddress, OpaqueText, Schema

PASSWORD_RULES = validate.Length(min=8, max=128)
USERNAME_LENGTH = 64
#: RFC 8265 §3.3: what a username may be (IdentifierClass: letters, digits, symbols and
#: punctuation of any script; no spaces, controls, invisible or compatibility characters; the
#: bidi rule), checked case-insensitively.
USERNAME_PROFILE = get_profile("UsernameCaseMapped")
#: ...and the form kept and shown: the same, with the case as typed (full-width letters mapped
#: to their usual width, NFC).
USERNAME_DISPLAY = get_profile("UsernameCasePreserved")
#: precis-i18n's reasons, as a person reads them.
PRECIS_REASONS = {
    "controls": "control characters",
    "precis_ignorable_properties": "invisible characters (zero-width, joiners, fillers)",
    "bidi_rule": "a mix of right-to-left and left-to-right text (RFC 5893 bidi rule)",
    "spaces": "spaces",
    "has_compat": "compatibility characters (NFKC would change them)",
    "empty": "nothing",
}


class Username(OpaqueText):
    """A PRECIS UsernameCaseMapped username (RFC 8265), kept in its case-preserved form, at
    most 64 characters once NFKC-normalised (the form usernames are compared in)."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = kwargs.pop("metadata", {})
        metadata.update(
            minLength=3,
            maxLength=USERNAME_LENGTH,
            description="A PRECIS username (RFC 8265, UsernameCaseMapped): letters, digits, "
            "symbols and punctuation, no spaces or invisible characters. Compared ignoring "
            "case and Unicode normalisation; one that looks like a taken one (Unicode "
            "confusables) is taken.",
        )
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr, data, **kwargs) -> str:
        name = super()._deserialize(value, attr, data, **kwargs)
        if len(unicodedata.normalize("NFKC", name)) > USERNAME_LENGTH:
            raise ValidationError(
                f"Longer than {USERNAME_LENGTH} characters once normalised (NFKC)."
            )
        try:
            USERNAME_PROFILE.enforce(name)
            name = USERNAME_DISPLAY.enforce(name)
        except UnicodeEncodeError as error:
            reason = error.reason.split("/")[-1]
            raise ValidationError(
                f"Must be a PRECIS username (RFC 8265): no {PRECIS_REASONS.get(reason, reason)}."
            ) from None
        if not 3 <= len(name) <= USERNAME_LENGTH:
            raise ValidationError(f"Length must be between 3 and {USERNAME_LENGTH}.")
        return name


class UserCreateSchema(Schema):
    username = Username(
        required=True,
        metadata={
            "description": "3-64 characters, a PRECIS username (RFC 8265: no controls, no "
            "invisible characters, no whitespace at either end); unique ignoring case and "
            "look-alikes (taken: a 409), and logging in ignores case too.",
            "example": "alice",
        },
    )
    password = OpaqueText(
        required=True,
        load_only=True,
        validate=PASSWORD_RULES,
        metadata={
            "description": "8-128 characters, not a common or easily guessed password, and "
            "not containing the username."
        },
    )
    email = EmailAddress(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=254),
        metadata={"description": "An address to reach you at, or null (the default)."},
    )

    @validates_schema(skip_on_field_errors=True)
    def password_is_fit(self, data, **kwargs):
        if problem := password_problem(data["password"], data["username"]):
            raise ValidationError(problem, "password")


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
    base_currency = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={
            "description": "The currency you total in, converted at your rates; null for none.",
            "example": "EUR",
        },
    )


class UserUpdateSchema(Schema):
    email = EmailAddress(
        allow_none=True,
        validate=validate.Length(max=254),
        metadata={"description": "Your new address, or null to remove it."},
    )
    base_currency = Currency(
        allow_none=True,
        metadata={
            "description": "The currency you total in (converted at the rates you record at "
            "/users/{user_id}/rates/), or null for none."
        },
    )


class PasswordChangeSchema(Schema):
    current_password = OpaqueText(
        required=True,
        load_only=True,
        validate=validate.Length(max=128),
        metadata={"description": "Your password now (wrong: a 403)."},
    )
    new_password = OpaqueText(
        required=True,
        load_only=True,
        validate=PASSWORD_RULES,
        metadata={
            "description": "8-128 characters; every token issued before the change stops working."
        },
    )


class PasswordConfirmSchema(Schema):
    password = OpaqueText(
        required=True,
        load_only=True,
        validate=validate.Length(max=128),
        metadata={"description": "Your password, to confirm (wrong: a 403)."},
    )
