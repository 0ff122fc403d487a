"""GET / answers a small JSON index instead of a 404: the API's name and version (config
API_TITLE and API_VERSION, as in the OpenAPI document's info) and links to the docs, the
OpenAPI document and the health check. No token, no user data.
"""

from flask import current_app, url_for
from flask.views import MethodView
from marshmallow import fields

from app.common.api import Blueprint
from app.common.schemas import Schema

blp = Blueprint("meta", __name__, description="The API's index")

#: Link name -> endpoint. The docs endpoints are flask-smorest's (config OPENAPI_*_PATH).
LINKS = {
    "swagger_ui": "api-docs.openapi_swagger_ui",
    "redoc": "api-docs.openapi_redoc",
    "openapi": "api-docs.openapi_json",
    "health": "health.Health",
}


class IndexLinksSchema(Schema):
    swagger_ui = fields.String(
        dump_only=True,
        metadata={"description": "Interactive docs (Swagger UI).", "example": "/swagger-ui"},
    )
    redoc = fields.String(
        dump_only=True, metadata={"description": "Reference docs (ReDoc).", "example": "/redoc"}
    )
    openapi = fields.String(
        dump_only=True,
        metadata={"description": "The OpenAPI 3 document.", "example": "/openapi.json"},
    )
    health = fields.String(
        dump_only=True,
        metadata={"description": "The liveness check (no token).", "example": "/healthz"},
    )


class IndexSchema(Schema):
    name = fields.String(
        dump_only=True,
        metadata={"description": "The API's name.", "example": "Personal Finance Tracker API"},
    )
    version = fields.String(
        dump_only=True,
        metadata={
            "description": "The API's version, as in the OpenAPI document's info.version.",
            "example": "1.0.0",
        },
    )
    links = fields.Nested(
        IndexLinksSchema,
        dump_only=True,
        metadata={"description": "Where to go next, as paths on this server."},
    )


@blp.route("/")
class Index(MethodView):
    @blp.response(200, IndexSchema)
    def get(self):
        """The API's name and version, and links to its docs and health check"""
        return {
            "name": current_app.config["API_TITLE"],
            "version": current_app.config["API_VERSION"],
            # Only what this configuration serves (a docs path set to None serves no page).
            "links": {
                name: url_for(endpoint)
                for name, endpoint in LINKS.items()
                if endpoint in current_app.view_functions
            },
        }
