"""Schemas of the OAuth2 password form and the token responses."""

import marshmallow as ma
from marshmallow import fields, validate

from app.common.schemas import OpaqueText, Schema


class TokenRequestSchema(Schema):
    """The OAuth2 password grant form (RFC 6749 §4.3), as Swagger UI and OAuth2 clients send it."""

    class Meta:
        # RFC 6749 §3.2: the server MUST ignore unrecognised request parameters.
        unknown = ma.EXCLUDE

    username = OpaqueText(
        required=True,
        validate=validate.Length(min=1, max=256),
        metadata={"description": "Your username, in any case.", "example": "alice"},
    )
    # Only compared: whatever the form holds, a wrong one is a 401 (and counts as a failure).
    password = OpaqueText(
        required=True,
        validate=validate.Length(min=1, max=1024),
        metadata={"description": "Your password."},
    )
    grant_type = fields.String(
        validate=validate.Equal("password"),
        metadata={"description": "The OAuth2 grant: password, the only one, if sent at all."},
    )
    scope = fields.String(metadata={"description": "Ignored (OAuth2 clients may send it)."})
    client_id = fields.String(metadata={"description": "Ignored (OAuth2 clients may send it)."})
    client_secret = fields.String(metadata={"description": "Ignored (OAuth2 clients may send it)."})


class AccessTokenSchema(Schema):
    access_token = fields.String(
        required=True,
        metadata={"description": "Send it as `Authorization: Bearer <access_token>`."},
    )
    token_type = fields.String(
        required=True, metadata={"description": "Always bearer.", "example": "bearer"}
    )
    expires_in = fields.Integer(
        required=True,
        metadata={"description": "Seconds until the access token expires.", "example": 1800},
    )


class TokenSchema(AccessTokenSchema):
    refresh_token = fields.String(
        required=True,
        metadata={
            "description": "Buys a new access token at POST /token/refresh (sent as the bearer "
            "token there) until it expires or you log out (POST /token/revoke)."
        },
    )
