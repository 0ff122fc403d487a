"""Schemas of the OAuth2 password form and the token responses."""

import marshmallow as ma
from marshmallow import fields, validate

from app.common.schemas import OpaqueText, Schema


class TokenRequestSchema(Schema):
    """The OAuth2 password grant form (RFC 6749 §4.3), as Swagger UI and OAuth2 clients send it."""

    class Meta:
        # RFC 6749 §3.2: the server MUST ignore unrecognised request parameters.
        unknown = ma.EXCLUDE

    # Only compared: whatever the form holds, a wrong one is a 401 (and counts as a failure).
    username = OpaqueText(required=True, validate=validate.Length(min=1, max=256))
    password = OpaqueText(required=True, validate=validate.Length(min=1, max=1024))
    grant_type = fields.String(validate=validate.Equal("password"))
    scope = fields.String()
    client_id = fields.String()
    client_secret = fields.String()


class AccessTokenSchema(Schema):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"example": "bearer"})
    expires_in = fields.Integer(required=True, metadata={"description": "Seconds"})


class TokenSchema(AccessTokenSchema):
    refresh_token = fields.String(required=True)
