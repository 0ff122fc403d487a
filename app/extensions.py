"""Bare extension objects, bound to the app in `create_app` (cookiecutter-flask style).

Nothing here imports the rest of the app: every other module may import these.
"""

import flask_smorest
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
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


migrate = Migrate()
jwt = JWTManager()
# Its HTTP error handler is replaced by app.errors', and its documented error body by
# app.common.schemas.ErrorSchema (create_app): the one error shape.
api = Api()
# Limits are declared per route (failed logins, registration); nothing is limited by default.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
