"""GET /healthz (the process answers) and GET /readyz (and so does the database).

Neither needs a token or touches a user's data. /readyz answers 503 with Retry-After while the
database does not answer, so a load balancer stops sending traffic until it does again.
"""

from flask.views import MethodView
from flask_smorest import abort
from marshmallow import fields
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.common.api import Blueprint
from app.common.schemas import Schema
from app.extensions import db

blp = Blueprint("health", __name__, description="Liveness and readiness probes")


class HealthSchema(Schema):
    status = fields.String(
        dump_only=True, metadata={"description": "Always ok: the check passed.", "example": "ok"}
    )


@blp.route("/healthz")
class Health(MethodView):
    @blp.response(200, HealthSchema)
    def get(self):
        """The process is up (no database call)"""
        return {"status": "ok"}


@blp.route("/readyz")
class Ready(MethodView):
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, description="The database does not answer; see Retry-After")
    def get(self):
        """The process is up and the database answers"""
        try:
            db.session.execute(text("SELECT 1"))
        except SQLAlchemyError:
            db.session.rollback()
            abort(503, message="The database is not answering.", headers={"Retry-After": "5"})
        finally:
            db.session.close()  # give the connection back now, before the response is sent
        return {"status": "ok"}
