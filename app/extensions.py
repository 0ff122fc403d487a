"""Bare extension objects, bound to the app in `create_app` (cookiecutter-flask style).

Nothing here imports the rest of the app: every other module may import these.
"""

import time

import flask_jwt_extended
import flask_smorest
from flask import current_app
from flask_jwt_extended.config import config as jwt_config
from flask_jwt_extended.default_callbacks import default_decode_key_callback
from flask_jwt_extended.tokens import _decode_jwt
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from jwt import ExpiredSignatureError
from sqlalchemy import MetaData

# Named constraints: Alembic can drop them (SQLite batch mode needs names) and errors.py can
# map an IntegrityError to a status by the constraint's name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# expire_on_commit=False: a response is built from what this request wrote, not reloaded after
# the commit (a reload costs a query, and fails if another request deleted the row meanwhile).
db = SQLAlchemy(
    metadata=MetaData(naming_convention=NAMING_CONVENTION),
    session_options={"expire_on_commit": False},
)


class Api(flask_smorest.Api):
    def _register_pagination_header(self):
        """Register nothing: we page with skip/limit and X-Total-Count, never flask-smorest's
        `@blp.paginate`, whose X-Pagination header would otherwise put an unused
        PaginationMetadata schema in the document (the header is lazy, its schema is not)."""


class JWTManager(flask_jwt_extended.JWTManager):
    """flask-jwt-extended, verifying a token once per process instead of three times a request.

    Its `_decode_jwt_from_config` decodes the token unverified and reads its header (each a
    full parse: PyJWT checks every character of every segment) only to hand them to the
    decode-key callback, then decodes it again, verified. With one key, JWT_SECRET_KEY, and no
    decode_key_loader, the verified decode is all there is to do: the same call, the same
    options and the same errors (an expired token still goes the library's own way, which
    attaches the header and claims its error handler reads).

    And a token verified once is the same token the next time: its claims are kept, per app
    and keyed by the whole encoded token (a changed character is another key, verified
    afresh), until it expires, when it goes the library's way again. Only the signature check
    and the parse are spared: the revocation check (app.auth.tokens) runs on every request.
    """

    #: Verified tokens kept per app; past this many the store starts again (tokens last
    #: minutes, and a process sees few at a time).
    VERIFIED_TOKENS = 4096

    def init_app(self, app, add_context_processor: bool = False) -> None:
        super().init_app(app, add_context_processor)
        app.extensions["verified_tokens"] = {}

    def _decode_jwt_from_config(self, encoded_token, csrf_value=None, allow_expired=False):
        if self._decode_key_callback is not default_decode_key_callback:
            return super()._decode_jwt_from_config(encoded_token, csrf_value, allow_expired)
        verified = current_app.extensions["verified_tokens"]
        claims = verified.get(encoded_token) if csrf_value is None else None
        if claims is not None:
            leeway = jwt_config.leeway  # seconds, or a timedelta (as PyJWT takes either)
            leeway = leeway.total_seconds() if hasattr(leeway, "total_seconds") else leeway
            if "exp" not in claims or claims["exp"] > time.time() - leeway:
                return dict(claims)
            verified.pop(encoded_token, None)
        try:
            claims = _decode_jwt(
                algorithms=jwt_config.decode_algorithms,
                allow_expired=allow_expired,
                audience=jwt_config.decode_audience,
                csrf_value=csrf_value,
                encoded_token=encoded_token,
                identity_claim_key=jwt_config.identity_claim_key,
                issuer=jwt_config.decode_issuer,
                leeway=jwt_config.leeway,
                secret=jwt_config.decode_key,
                verify_aud=jwt_config.decode_audience is not None,
                verify_sub=jwt_config.verify_sub,
            )
        except ExpiredSignatureError:
            return super()._decode_jwt_from_config(encoded_token, csrf_value, allow_expired)
        if csrf_value is None and not allow_expired:
            if len(verified) >= self.VERIFIED_TOKENS:
                verified.clear()
            verified[encoded_token] = dict(claims)
        return claims


migrate = Migrate()
jwt = JWTManager()
# Its HTTP error handler is replaced by app.errors', and its documented error body by
# app.common.schemas.ErrorSchema (create_app): the one error shape.
api = Api()
# Limits are declared per route (failed logins, registration); nothing is limited by default.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
